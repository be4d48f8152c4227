/*
 * pgwire_catgrafana: Grafana's metadata queries. See pgwire_catgrafana.h and
 * docs/pgwire.md#catalog. The markers are quoted from Grafana's PostgreSQL
 * data source (postgresMetaQuery.ts: showSchemas, showTables, getSchema);
 * the one input taken from a query is the name literal Grafana writes
 * (`quote_ident(table_schema) = '...'`, `parse_ident('...')`), matched
 * exactly as a bound LIKE pattern.
 */
#include "pgwire_catgrafana.h"

#include <stdio.h>
#include <string.h>

#include "pgwire_catmodel.h"

static const char schemas_marker[] =
    "SELECT schema_name AS \"name\"\n    FROM information_schema.schemata";
static const char tables_marker[] = "FROM information_schema.tables";
static const char tables_in_marker[] = "SELECT quote_ident(table_name) AS \"table\"";
static const char tables_all_marker[] =
    "THEN quote_ident(table_name)\n      ELSE quote_ident(table_schema)";
static const char columns_marker[] =
    "SELECT quote_ident(column_name) AS \"column\", data_type AS \"type\"\n"
    "    FROM information_schema.columns";

bool catgrafana_is_ours(const char *sql)
{
    return strstr(sql, schemas_marker) ||
           (strstr(sql, tables_marker) &&
            (strstr(sql, tables_in_marker) || strstr(sql, tables_all_marker))) ||
           strstr(sql, columns_marker);
}

/* PostgreSQL's quote_ident: as is when lower-case letters, digits and _, else quoted. */
static const char *quote_ident(const char *name, Buf *b)
{
    bool plain = name[0] && !(name[0] >= '0' && name[0] <= '9');
    for (const char *c = name; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
    buf_reset(b, 256);
    if (plain)
        buf_append_str(b, name);
    else
        buf_append_quoted(b, name, '"');
    return buf_cstr(b);
}

/* information_schema.columns.data_type of a column of PostgreSQL type `oid`. */
static const char *data_type(unsigned oid)
{
    static const struct {
        unsigned oid;
        const char *name;
    } names[] = {
        {16, "boolean"},
        {17, "bytea"},
        {20, "bigint"},
        {21, "smallint"},
        {23, "integer"},
        {25, "text"},
        {114, "json"},
        {700, "real"},
        {701, "double precision"},
        {1082, "date"},
        {1083, "time without time zone"},
        {1114, "timestamp without time zone"},
        {1184, "timestamp with time zone"},
        {1186, "interval"},
        {1700, "numeric"},
        {2950, "uuid"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].oid == oid)
            return names[i].name;
    return "ARRAY"; /* pgwire_type gives the others (text aside) only to LISTs */
}

static bool answer_schemas(Buf *out)
{
    static const char *const names[] = {"name"};
    const char *row[] = {"public"};
    CatAnswer a;
    catmodel_begin(&a, out, names, 1);
    catmodel_row(&a, row);
    catmodel_end(&a);
    return true;
}

/* showTables: the tables and views, all in schema public, which is on the search_path. */
static bool answer_tables(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"table"};
    Buf schema = BUF_INIT, q = BUF_INIT;
    CatRelations rs = {0};
    bool ok = true;
    /* showTables(schema): a schema other than public has no tables. */
    if (!catmodel_literal_after(sql, "WHERE quote_ident(table_schema) =", &schema) ||
        strcmp(buf_cstr(&schema), "public") == 0)
        ok = catmodel_relations(s, env, &(CatFilter)CATFILTER_ALL, &rs, out);
    if (ok) {
        CatAnswer a;
        catmodel_begin(&a, out, names, 1);
        for (size_t i = 0; i < rs.n; i++) {
            const char *row[] = {quote_ident(rs.r[i].name, &q)};
            catmodel_row(&a, row);
        }
        catmodel_end(&a);
    }
    catmodel_relations_free(&rs);
    buf_free(&schema);
    buf_free(&q);
    return ok;
}

/* One getSchema row: the quote_ident'ed name (in Buf `ctx`) and the data_type. */
static void column_row(CatAnswer *a, const CatRelation *r, const CatColumn *c, size_t index,
                       void *ctx)
{
    (void)r;
    (void)index;
    const char *row[] = {quote_ident(c->name, ctx), data_type(c->pg.oid)};
    catmodel_row(a, row);
}

/* getSchema: the columns of 'table' or 'public.table' (quote_ident'ed names). */
static bool answer_columns(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"column", "type"};
    Buf lit = BUF_INIT, like = BUF_INIT, q = BUF_INIT;
    CatRelations rs = {0};
    bool ok = true;
    if (catmodel_literal_after(sql, "parse_ident(", &lit)) {
        /* 'public.t' or 't'; a quoted name ("My Table") loses its quotes */
        const char *name = buf_cstr(&lit);
        if (strncmp(name, "public.", 7) == 0)
            name += 7;
        char bare[CATALOG_NAME_MAX * 2 + 3];
        size_t n = strlen(name);
        if (n >= 2 && name[0] == '"' && name[n - 1] == '"' && n - 2 < sizeof(bare)) {
            memcpy(bare, name + 1, n - 2);
            bare[n - 2] = '\0';
            name = bare;
        }
        if (!strchr(name, '.')) {
            CatFilter f = CATFILTER_ALL;
            f.name_like = catmodel_like_exact(name, &like);
            ok = catmodel_relations(s, env, &f, &rs, out);
        }
    }
    ok = ok && catmodel_column_answer(s, &rs, names, 2, column_row, &q, out);
    catmodel_relations_free(&rs);
    buf_free(&lit);
    buf_free(&like);
    buf_free(&q);
    return ok;
}

bool catgrafana_answer(Session *s, const SessionEnv *env, const char *sql, Buf *out, bool *out_ok)
{
    if (strstr(sql, schemas_marker))
        *out_ok = answer_schemas(out);
    else if (strstr(sql, columns_marker))
        *out_ok = answer_columns(s, env, sql, out);
    else if (catgrafana_is_ours(sql))
        *out_ok = answer_tables(s, env, sql, out);
    else
        return false;
    return true;
}
