/*
 * pgwire_catjdbc: pgjdbc's DatabaseMetaData queries. See pgwire_catjdbc.h
 * and docs/pgwire.md#catalog. The queries were captured from pgjdbc 42.5.5
 * against PostgreSQL 15 (log_statement = all); the markers below are quoted
 * from them.
 */
#include "pgwire_catjdbc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire_catmodel.h"

/* A literal after `marker` into `b`, or NULL when there is none. */
static const char *literal(const char *sql, const char *marker, Buf *b)
{
    return catmodel_literal_after(sql, marker, b) ? buf_cstr(b) : NULL;
}

/* ---- getTables ---- */

static const char *table_type(char kind)
{
    return kind == 'i' ? "INDEX" : kind == 'v' ? "VIEW" : "TABLE";
}

static bool answer_tables(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"table_cat",     "table_schem", "table_name",
                                        "table_type",    "remarks",     "type_cat",
                                        "type_schem",    "type_name",   "self_referencing_col_name",
                                        "ref_generation"};
    /* The types asked for, as pgjdbc writes each user-schema one; none: every type. */
    char kinds[4] = "rvi";
    if (strstr(sql, "AND (false ")) {
        size_t k = 0;
        const char *each = "rvi";
        for (const char *c = each; *c; c++) {
            char m1[80], m2[80];
            snprintf(m1, sizeof(m1), "c.relkind = '%c' AND n.nspname !~ '^pg_'", *c);
            snprintf(m2, sizeof(m2), "c.relkind = '%c' AND n.nspname <> 'pg_catalog'", *c);
            if (strstr(sql, m1) || strstr(sql, m2))
                kinds[k++] = *c;
        }
        kinds[k] = '\0';
    }
    Buf nl = BUF_INIT, sl = BUF_INIT;
    CatRelations rs = {0};
    CatFilter f = CATFILTER_ALL;
    f.name_like = literal(sql, "c.relname LIKE", &nl);
    f.schema_like = literal(sql, "n.nspname LIKE", &sl);
    f.kinds = kinds;
    bool ok = catmodel_relations(s, env, &f, &rs, out);
    if (ok) {
        CatAnswer a;
        catmodel_begin(&a, out, names, 10);
        /* ORDER BY TABLE_TYPE, TABLE_SCHEM, TABLE_NAME: INDEX, TABLE, VIEW, each by name. */
        for (const char *k = "irv"; *k; k++)
            for (size_t i = 0; i < rs.n; i++) {
                const CatRelation *r = &rs.r[i];
                if (r->kind != *k)
                    continue;
                const char *row[] = {
                    NULL, "public", r->name, table_type(r->kind), r->comment, "", "", "", "", ""};
                catmodel_row(&a, row);
            }
        catmodel_end(&a);
    }
    catmodel_relations_free(&rs);
    buf_free(&nl);
    buf_free(&sl);
    return ok;
}

/* ---- getColumns ---- */

/* One getColumns row, unless the column's name fails the pattern `ctx` (NULL: any). */
static void column_row(CatAnswer *a, const CatRelation *r, const CatColumn *col, size_t index,
                       void *ctx)
{
    const char *column_like = ctx;
    if (column_like && !catmodel_like_match(col->name, column_like))
        return;
    char oid[16], typmod[16], len[16], num[24];
    snprintf(oid, sizeof(oid), "%u", (unsigned)col->pg.oid);
    snprintf(typmod, sizeof(typmod), "%d", (int)col->pg.typmod);
    snprintf(len, sizeof(len), "%d", (int)col->pg.len);
    snprintf(num, sizeof(num), "%zu", index + 1);
    const char *row[] = {"public", r->name,   col->name,    oid, col->not_null ? "t" : "f",
                         typmod,   len,       "-1",         num, NULL,
                         NULL,     col->dflt, col->comment, "0", "b"};
    catmodel_row(a, row);
}

static bool answer_columns(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"nspname",     "relname",     "attname",      "atttypid",
                                        "attnotnull",  "atttypmod",   "attlen",       "typtypmod",
                                        "attnum",      "attidentity", "attgenerated", "adsrc",
                                        "description", "typbasetype", "typtype"};
    Buf nl = BUF_INIT, sl = BUF_INIT, cl = BUF_INIT;
    CatRelations rs = {0};
    CatFilter f = CATFILTER_ALL;
    f.name_like = literal(sql, "c.relname LIKE", &nl);
    f.schema_like = literal(sql, "n.nspname LIKE", &sl);
    const char *column_like = literal(sql, "attname LIKE", &cl);
    bool ok = catmodel_relations(s, env, &f, &rs, out) &&
              catmodel_column_answer(s, &rs, names, 15, column_row, (void *)column_like, out);
    catmodel_relations_free(&rs);
    buf_free(&nl);
    buf_free(&sl);
    buf_free(&cl);
    return ok;
}

/* ---- getPrimaryKeys ---- */

static bool answer_primary_keys(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"table_cat",   "table_schem", "table_name",
                                        "column_name", "key_seq",     "pk_name"};
    Buf nv = BUF_INIT, sv = BUF_INIT, nl = BUF_INIT, sl = BUF_INIT, err = BUF_INIT;
    CatRelations rs = {0};
    CatFilter f = CATFILTER_ALL;
    const char *name = literal(sql, "ct.relname =", &nv);
    const char *schema = literal(sql, "n.nspname =", &sv);
    f.name_like = name ? catmodel_like_exact(name, &nl) : NULL;
    f.schema_like = schema ? catmodel_like_exact(schema, &sl) : NULL;
    f.kinds = "r";
    bool ok = catmodel_relations(s, env, &f, &rs, out);
    size_t before = out->len;
    CatAnswer a;
    if (ok)
        catmodel_begin(&a, out, names, 6);
    /* ORDER BY table_name, pk_name, key_seq: the relations come by name. */
    for (size_t i = 0; ok && i < rs.n; i++) {
        CatKeys ks = {0};
        if (!catmodel_primary_key(s, &rs.r[i], &ks, &err)) {
            ok = false;
            break;
        }
        for (size_t k = 0; k < ks.n; k++) {
            char seq[16];
            snprintf(seq, sizeof(seq), "%d", ks.k[k].seq);
            const char *row[] = {NULL, "public", rs.r[i].name, ks.k[k].column, seq, ks.k[k].name};
            catmodel_row(&a, row);
        }
        catmodel_keys_free(&ks);
    }
    if (ok) {
        catmodel_end(&a);
    } else if (err.len) {
        out->len = before;
        buf_append(out, err.data, err.len);
    }
    catmodel_relations_free(&rs);
    buf_free(&nv);
    buf_free(&sv);
    buf_free(&nl);
    buf_free(&sl);
    buf_free(&err);
    return ok;
}

/* ---- getSchemas ---- */

static bool answer_schemas(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"table_schem", "table_catalog"};
    (void)s;
    (void)env;
    Buf sl = BUF_INIT;
    const char *like = literal(sql, "nspname LIKE", &sl);
    CatAnswer a;
    catmodel_begin(&a, out, names, 2);
    if (!like || catmodel_like_match("public", like)) {
        const char *row[] = {"public", NULL};
        catmodel_row(&a, row);
    }
    catmodel_end(&a);
    buf_free(&sl);
    return true;
}

/* ---- TypeInfoCache: the types of the front end, by OID ---- */

/* typinput = array_in AS is_array, typtype, typname, oid. */
static void answer_type_info(long long oid, Buf *out)
{
    static const char *const names[] = {"is_array", "typtype", "typname", "oid"};
    bool array = false;
    const char *name = catmodel_type_oid_name(oid, &array);
    CatAnswer a;
    catmodel_begin(&a, out, names, 4);
    if (name) {
        char num[24];
        snprintf(num, sizeof(num), "%lld", oid);
        const char *row[] = {array ? "t" : "f", "b", name, num};
        catmodel_row(&a, row);
    }
    catmodel_end(&a);
}

/* nspname = ANY(current_schemas(true)), nspname, typname. */
static void answer_type_name(long long oid, Buf *out)
{
    static const char *const names[] = {"?column?", "nspname", "typname"};
    bool array = false;
    const char *name = catmodel_type_oid_name(oid, &array);
    CatAnswer a;
    catmodel_begin(&a, out, names, 3);
    if (name) {
        const char *row[] = {"t", "pg_catalog", name};
        catmodel_row(&a, row);
    }
    catmodel_end(&a);
}

typedef bool (*Answerer)(Session *s, const SessionEnv *env, const char *sql, Buf *out);

static const struct Shape {
    const char *markers[2];
    Answerer answer;
} shapes[] = {
    {{"SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME",
      "FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c"},
     answer_tables},
    {{"SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid",
      "FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c"},
     answer_columns},
    {{"result.PK_NAME FROM", "AND i.indisprimary"}, answer_primary_keys},
    {{"SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace"},
     answer_schemas},
};

bool catjdbc_answer(Session *s, const SessionEnv *env, const char *sql, long long param_oid,
                    Buf *out, bool *out_ok)
{
    if (strstr(sql, "SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, "
                    "typname, pg_type.oid") &&
        strstr(sql, "WHERE pg_type.oid = $1")) {
        answer_type_info(param_oid, out);
        *out_ok = true;
        return true;
    }
    if (strstr(sql, "SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM "
                    "pg_catalog.pg_type t") &&
        strstr(sql, "WHERE t.oid = $1")) {
        answer_type_name(param_oid, out);
        *out_ok = true;
        return true;
    }
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        bool match = true;
        for (int m = 0; match && m < 2 && shapes[i].markers[m]; m++)
            match = strstr(sql, shapes[i].markers[m]) != NULL;
        if (match) {
            *out_ok = shapes[i].answer(s, env, sql, out);
            return true;
        }
    }
    return false;
}
