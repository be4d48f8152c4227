/*
 * pgwire_catmodel: the emulated catalog read from DuckDB and the grants, and
 * the writer of the catalog answers. See pgwire_catmodel.h.
 */
#include "pgwire_catmodel.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* ---- answers ---- */

void catmodel_begin(CatAnswer *a, Buf *out, const char *const *names, int n)
{
    a->out = out;
    a->ncols = n;
    a->rows = 0;
    pgwire_text_row_description(out, names, n);
}

void catmodel_row(CatAnswer *a, const char *const *vals)
{
    size_t m = pgwire_begin(a->out, 'D');
    pgwire_put_i16(a->out, (int16_t)a->ncols);
    for (int i = 0; i < a->ncols; i++) {
        if (!vals[i]) {
            pgwire_put_i32(a->out, -1);
            continue;
        }
        size_t n = strlen(vals[i]);
        pgwire_put_i32(a->out, (int32_t)n);
        buf_append(a->out, vals[i], n);
    }
    pgwire_end(a->out, m);
    a->rows++;
}

void catmodel_end(CatAnswer *a)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "SELECT %ld", a->rows);
    pgwire_command_complete(a->out, tag);
}

void catmodel_empty(Buf *out, const char *const *names, int n)
{
    CatAnswer a;
    catmodel_begin(&a, out, names, n);
    catmodel_end(&a);
}

void catmodel_error(Buf *out, const char *sqlstate, const char *what, const char *msg)
{
    char line[512];
    snprintf(line, sizeof(line), "%s: %s", what, msg ? msg : "unknown error");
    pgwire_error(out, "ERROR", sqlstate, line, strlen(line));
}

/* ---- reading the query ---- */

bool catmodel_literal_after(const char *sql, const char *marker, Buf *val)
{
    const char *p = strstr(sql, marker);
    if (!p)
        return false;
    p += strlen(marker);
    while (*p == ' ' || *p == '\n' || *p == '\t')
        p++;
    if (*p != '\'')
        return false;
    for (p++; *p; p++) {
        if (*p == '\'') {
            if (p[1] != '\'')
                return true;
            p++;
        }
        buf_append(val, p, 1);
    }
    return false;
}

bool catmodel_like_match(const char *s, const char *p)
{
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*p == '%') {
            star_p = ++p;
            star_s = s;
            continue;
        }
        bool any = *p == '_';
        const char *lit = *p == '\\' && p[1] ? p + 1 : p;
        if (*p && (any || *lit == *s)) {
            p = lit + 1;
            s++;
            continue;
        }
        if (!star_p)
            return false;
        p = star_p;
        s = ++star_s;
    }
    while (*p == '%')
        p++;
    return *p == '\0';
}

const char *catmodel_like_exact(const char *name, Buf *b)
{
    for (const char *c = name; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            buf_putc(b, '\\');
        buf_putc(b, *c);
    }
    return buf_cstr(b);
}

long long catmodel_oid_after(const char *sql, const char *marker)
{
    Buf v = BUF_INIT;
    long long oid = -1;
    const char *digits = NULL;
    size_t n = 0;
    if (catmodel_literal_after(sql, marker, &v)) {
        digits = v.data;
        n = v.len;
    } else if ((digits = strstr(sql, marker)) != NULL) {
        digits += strlen(marker);
        while (*digits == ' ')
            digits++;
        while (isdigit((unsigned char)digits[n]))
            n++;
    }
    if (digits && n > 0 && n < 19) {
        oid = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)digits[i])) {
                oid = -1;
                break;
            }
            oid = oid * 10 + (digits[i] - '0');
        }
    }
    buf_free(&v);
    return oid;
}

/* ---- DuckDB reads ---- */

char *catmodel_value(duckdb_result *res, idx_t col, idx_t row)
{
    if (duckdb_value_is_null(res, col, row))
        return NULL;
    char *v = duckdb_value_varchar(res, col, row);
    char *copy = xstrdup(v ? v : "");
    duckdb_free(v);
    return copy;
}

bool catmodel_read(Session *s, const char *sql, const char *const *texts, int ntexts,
                   const long long *ints, int nints, const char *what, const char *run_state,
                   duckdb_result *res, Buf *out)
{
    duckdb_prepared_statement prep = NULL;
    bool ok = false;
    if (duckdb_prepare(s->con, sql, &prep) != DuckDBSuccess) {
        catmodel_error(out, "XX000", what, duckdb_prepare_error(prep));
        goto cleanup;
    }
    for (int i = 0; i < ntexts; i++) {
        if (texts[i])
            duckdb_bind_varchar(prep, (idx_t)i + 1, texts[i]);
        else
            duckdb_bind_null(prep, (idx_t)i + 1);
    }
    for (int i = 0; i < nints; i++)
        duckdb_bind_int64(prep, (idx_t)(ntexts + i) + 1, (int64_t)ints[i]);
    if (duckdb_execute_prepared(prep, res) != DuckDBSuccess) {
        catmodel_error(out, run_state, what, duckdb_result_error(res));
        duckdb_destroy_result(res);
        goto cleanup;
    }
    ok = true;
cleanup:
    duckdb_destroy_prepare(&prep);
    return ok;
}

/* ---- relations ---- */

void catmodel_relations_free(CatRelations *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->r[i].name);
        free(rs->r[i].table);
        free(rs->r[i].comment);
        free(rs->r[i].sql);
    }
    free(rs->r);
    rs->r = NULL;
    rs->n = rs->cap = 0;
}

static bool may_see(Session *s, const SessionEnv *env, const char *table)
{
    if (s->user.super)
        return true;
    return catalog_table_privileges(env->catalog, s->db_id, s->user.id, table) != 0;
}

bool catmodel_relations(Session *s, const SessionEnv *env, const CatFilter *f, CatRelations *rs,
                        Buf *out)
{
    static const char sql[] =
        "SELECT * FROM ("
        "SELECT table_oid AS oid, table_name AS name, 'r' AS kind, NULL::VARCHAR AS tbl, "
        "comment, NULL::VARCHAR AS def, false AS uniq FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary "
        "UNION ALL SELECT view_oid, view_name, 'v', NULL, comment, sql, false FROM duckdb_views() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal "
        "AND NOT temporary "
        "UNION ALL SELECT index_oid, index_name, 'i', table_name, comment, sql, is_unique "
        "FROM duckdb_indexes() "
        "WHERE database_name = current_database() AND schema_name = 'main') "
        "WHERE ($1 IS NULL OR regexp_full_match(name, $1)) "
        "AND ($2 IS NULL OR like_escape(name, $2, '\\')) "
        "AND ($3 IS NULL OR regexp_full_match('public', $3)) "
        "AND ($4 IS NULL OR like_escape('public', $4, '\\')) "
        "AND ($5 < 0 OR oid = $5) ORDER BY name";
    const char *texts[] = {f->name_re, f->name_like, f->schema_re, f->schema_like};
    long long oid = f->oid < CATMODEL_OID_BASE ? -1 : f->oid - CATMODEL_OID_BASE;
    const char *kinds = f->kinds ? f->kinds : "rv";
    duckdb_result res;
    if (f->oid >= 0 && f->oid < CATMODEL_OID_BASE)
        return true; /* not an oid of ours: no such relation */
    if (!catmodel_read(s, sql, texts, 4, &oid, 1, "cannot match the pattern", "2201B", &res, out))
        return false;
    idx_t n = duckdb_row_count(&res);
    for (idx_t i = 0; i < n; i++) {
        char *name = catmodel_value(&res, 1, i);
        char *kind = catmodel_value(&res, 2, i);
        char *table = catmodel_value(&res, 3, i);
        bool keep = name && kind && kind[0] && strchr(kinds, kind[0]) &&
                    may_see(s, env, kind[0] == 'i' ? (table ? table : "") : name);
        if (keep) {
            if (rs->n == rs->cap) {
                rs->cap = rs->cap ? rs->cap * 2 : 16;
                rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
            }
            CatRelation *r = &rs->r[rs->n++];
            r->oid = (long long)duckdb_value_int64(&res, 0, i) + CATMODEL_OID_BASE;
            r->name = name;
            r->kind = kind[0];
            r->table = table;
            r->comment = catmodel_value(&res, 4, i);
            r->sql = catmodel_value(&res, 5, i);
            r->unique = duckdb_value_boolean(&res, 6, i);
            name = table = NULL;
        }
        free(name);
        free(kind);
        free(table);
    }
    duckdb_destroy_result(&res);
    return true;
}

bool catmodel_relation(Session *s, const SessionEnv *env, long long oid, CatRelations *rs, Buf *out)
{
    CatFilter f = CATFILTER_ALL;
    f.kinds = "rvi";
    f.oid = oid < 0 ? 0 : oid; /* -1 would mean any */
    return catmodel_relations(s, env, &f, rs, out);
}

/* ---- columns ---- */

void catmodel_columns_free(CatColumns *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        free(cs->c[i].name);
        free(cs->c[i].duck_type);
        free(cs->c[i].dflt);
        free(cs->c[i].comment);
    }
    free(cs->c);
    cs->c = NULL;
    cs->n = 0;
}

/*
 * The PostgreSQL types of the columns of `r` as RowDescription would give
 * them, from DuckDB's prepare of `SELECT * FROM main."r"` (never run); left
 * text when it cannot be prepared (a view over a dropped table).
 */
static void column_types(Session *s, const CatRelation *r, CatColumns *cs)
{
    Buf sql = BUF_INIT;
    duckdb_prepared_statement prep = NULL;
    buf_append_str(&sql, "SELECT * FROM main.");
    buf_append_quoted(&sql, r->name, '"');
    if (duckdb_prepare(s->con, buf_cstr(&sql), &prep) == DuckDBSuccess &&
        duckdb_prepared_statement_column_count(prep) == cs->n) {
        for (size_t i = 0; i < cs->n; i++) {
            duckdb_logical_type t = duckdb_prepared_statement_column_logical_type(prep, i);
            PgType pt = pgwire_type(t);
            duckdb_destroy_logical_type(&t);
            if (pt.oid)
                cs->c[i].pg = pt;
        }
    }
    duckdb_destroy_prepare(&prep);
    buf_free(&sql);
}

bool catmodel_columns(Session *s, const CatRelation *r, CatColumns *cs, Buf *out)
{
    static const char sql[] =
        "SELECT column_name, data_type, column_default, is_nullable, comment FROM "
        "duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND table_oid = $1 ORDER BY column_index";
    long long oid = r->oid - CATMODEL_OID_BASE;
    duckdb_result res;
    if (r->kind == 'i')
        return true;
    if (!catmodel_read(s, sql, NULL, 0, &oid, 1, "cannot read the columns", "XX000", &res, out))
        return false;
    idx_t n = duckdb_row_count(&res);
    cs->c = xcalloc(n ? n : 1, sizeof(*cs->c));
    for (idx_t i = 0; i < n; i++) {
        CatColumn *c = &cs->c[cs->n++];
        c->name = catmodel_value(&res, 0, i);
        c->duck_type = catmodel_value(&res, 1, i);
        c->dflt = catmodel_value(&res, 2, i);
        c->not_null = !duckdb_value_boolean(&res, 3, i);
        c->comment = catmodel_value(&res, 4, i);
        if (!c->name)
            c->name = xstrdup("");
        if (!c->duck_type)
            c->duck_type = xstrdup("");
        c->pg = (PgType){25, -1, -1};
    }
    duckdb_destroy_result(&res);
    column_types(s, r, cs);
    return true;
}

bool catmodel_column_answer(Session *s, const CatRelations *rs, const char *const *names, int n,
                            CatColumnRow row, void *ctx, Buf *out)
{
    size_t before = out->len;
    Buf err = BUF_INIT;
    bool ok = true;
    CatAnswer a;
    catmodel_begin(&a, out, names, n);
    for (size_t i = 0; i < rs->n; i++) {
        CatColumns cs = {0};
        if (!catmodel_columns(s, &rs->r[i], &cs, &err)) {
            ok = false; /* the error alone, without the rows before it */
            out->len = before;
            buf_append(out, err.data, err.len);
            break;
        }
        for (size_t c = 0; c < cs.n; c++)
            row(&a, &rs->r[i], &cs.c[c], c, ctx);
        catmodel_columns_free(&cs);
    }
    if (ok)
        catmodel_end(&a);
    buf_free(&err);
    return ok;
}

void catmodel_type_name(const char *duck, Buf *b)
{
    static const struct {
        const char *duck, *pg;
    } map[] = {
        {"BOOLEAN", "boolean"},
        {"TINYINT", "smallint"},
        {"SMALLINT", "smallint"},
        {"UTINYINT", "smallint"},
        {"INTEGER", "integer"},
        {"USMALLINT", "integer"},
        {"BIGINT", "bigint"},
        {"UINTEGER", "bigint"},
        {"UBIGINT", "numeric"},
        {"HUGEINT", "numeric"},
        {"UHUGEINT", "numeric"},
        {"FLOAT", "real"},
        {"DOUBLE", "double precision"},
        {"VARCHAR", "text"},
        {"BLOB", "bytea"},
        {"DATE", "date"},
        {"TIME", "time without time zone"},
        {"TIMESTAMP", "timestamp without time zone"},
        {"TIMESTAMP_S", "timestamp without time zone"},
        {"TIMESTAMP_MS", "timestamp without time zone"},
        {"TIMESTAMP_NS", "timestamp without time zone"},
        {"TIMESTAMP WITH TIME ZONE", "timestamp with time zone"},
        {"INTERVAL", "interval"},
        {"UUID", "uuid"},
        {"JSON", "json"},
    };
    size_t n = strlen(duck);
    size_t dims = 0;
    while (n >= 2 && duck[n - 2] == '[' && duck[n - 1] == ']') {
        n -= 2;
        dims++;
    }
    bool found = false;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i].duck) == n && strncmp(map[i].duck, duck, n) == 0) {
            buf_append_str(b, map[i].pg);
            found = true;
            break;
        }
    if (!found && n > 8 && strncmp(duck, "DECIMAL(", 8) == 0) {
        buf_append_str(b, "numeric");
        buf_append(b, duck + 7, n - 7);
        found = true;
    }
    if (!found) /* ENUM, STRUCT, MAP, ...: DuckDB's own name, lower case */
        for (size_t i = 0; i < n; i++)
            buf_putc(b, (char)tolower((unsigned char)duck[i]));
    for (size_t i = 0; i < dims; i++)
        buf_append_str(b, "[]");
}

/* ---- keys and indexes ---- */

void catmodel_keys_free(CatKeys *ks)
{
    for (size_t i = 0; i < ks->n; i++) {
        free(ks->k[i].name);
        free(ks->k[i].columns);
        free(ks->k[i].column);
    }
    free(ks->k);
    ks->k = NULL;
    ks->n = 0;
}

/* The keys of `sql` (name, type, columns[, seq]) over table oid $1 into `ks`. */
static bool read_keys(Session *s, const CatRelation *r, const char *sql, bool per_column,
                      CatKeys *ks, Buf *out)
{
    long long oid = r->oid - CATMODEL_OID_BASE;
    duckdb_result res;
    if (r->kind != 'r')
        return true;
    if (!catmodel_read(s, sql, NULL, 0, &oid, 1, "cannot read the keys", "XX000", &res, out))
        return false;
    idx_t n = duckdb_row_count(&res);
    ks->k = xcalloc(n ? n : 1, sizeof(*ks->k));
    for (idx_t i = 0; i < n; i++) {
        CatKey *k = &ks->k[ks->n++];
        char *type = catmodel_value(&res, 1, i);
        k->name = catmodel_value(&res, 0, i);
        if (!k->name)
            k->name = xstrdup("");
        k->primary = type && strcmp(type, "PRIMARY KEY") == 0;
        k->unique = k->primary || (type && strncmp(type, "UNIQUE", 6) == 0);
        k->constraint = k->primary || (type && strcmp(type, "UNIQUE") == 0);
        if (per_column) {
            k->column = catmodel_value(&res, 2, i);
            k->seq = (int)duckdb_value_int64(&res, 3, i);
        } else {
            k->columns = catmodel_value(&res, 2, i);
        }
        free(type);
    }
    duckdb_destroy_result(&res);
    return true;
}

bool catmodel_keys(Session *s, const CatRelation *r, CatKeys *ks, Buf *out)
{
    static const char sql[] =
        "SELECT name, type, cols FROM ("
        "SELECT constraint_name AS name, constraint_type AS type, "
        "array_to_string(constraint_column_names, ', ') AS cols FROM duckdb_constraints() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND table_oid = $1 "
        "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
        "UNION ALL SELECT index_name, CASE WHEN is_unique THEN 'UNIQUE INDEX' ELSE 'INDEX' END, "
        "regexp_extract(sql, '\\((.*)\\)', 1) FROM duckdb_indexes() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND table_oid = $1) "
        "ORDER BY type <> 'PRIMARY KEY', name";
    return read_keys(s, r, sql, false, ks, out);
}

bool catmodel_primary_key(Session *s, const CatRelation *r, CatKeys *ks, Buf *out)
{
    static const char sql[] =
        "SELECT constraint_name, constraint_type, unnest(constraint_column_names), "
        "generate_subscripts(constraint_column_names, 1) FROM duckdb_constraints() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND table_oid = $1 "
        "AND constraint_type = 'PRIMARY KEY' ORDER BY 4";
    return read_keys(s, r, sql, true, ks, out);
}

/* ---- types ---- */

/* The element types of pgwire_type() and their array types (pgwire.c's array_oid). */
static const struct {
    long long oid, array;
    const char *name, *array_name;
} types[] = {
    {16, 1000, "bool", "_bool"},
    {17, 1001, "bytea", "_bytea"},
    {20, 1016, "int8", "_int8"},
    {21, 1005, "int2", "_int2"},
    {23, 1007, "int4", "_int4"},
    {25, 1009, "text", "_text"},
    {114, 199, "json", "_json"},
    {700, 1021, "float4", "_float4"},
    {701, 1022, "float8", "_float8"},
    {1082, 1182, "date", "_date"},
    {1083, 1183, "time", "_time"},
    {1114, 1115, "timestamp", "_timestamp"},
    {1184, 1185, "timestamptz", "_timestamptz"},
    {1186, 1187, "interval", "_interval"},
    {1700, 1231, "numeric", "_numeric"},
    {2950, 2951, "uuid", "_uuid"},
};

bool catmodel_type_at(size_t i, long long *out_oid, long long *out_array)
{
    if (i >= sizeof(types) / sizeof(types[0]))
        return false;
    *out_oid = types[i].oid;
    *out_array = types[i].array;
    return true;
}

const char *catmodel_type_oid_name(long long oid, bool *out_array)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (types[i].oid == oid || types[i].array == oid) {
            *out_array = types[i].array == oid;
            return *out_array ? types[i].array_name : types[i].name;
        }
    }
    *out_array = false;
    return NULL;
}

/* ---- the owner ---- */

static void owner_row(void *ctx, const char *const *cols, int ncols)
{
    char *name = ctx;
    if (ncols >= 2 && cols[0] && cols[1] && strcmp(cols[1], "true") == 0 && !name[0])
        snprintf(name, CATALOG_NAME_MAX + 1, "%s", cols[0]);
}

void catmodel_owner(const SessionEnv *env, char name[CATALOG_NAME_MAX + 1])
{
    name[0] = '\0';
    if (catalog_list(env->catalog, CATALOG_LIST_USERS, 0, owner_row, name) != CATALOG_OK)
        name[0] = '\0';
}
