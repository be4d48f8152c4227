/*
 * pgwire_catalog: psql's catalog queries answered by the front end. See
 * pgwire_catalog.h and docs/pgwire.md#catalog.
 *
 * Recognition is by shape: each query psql 15 sends for \d, \dt, \dv,
 * \d NAME, \l, \dn and \du has markers no other query shares (the
 * relations it reads and the columns it selects), and the only inputs taken
 * from its text are the name patterns (`OPERATOR(pg_catalog.~) '...'`,
 * matched with DuckDB's regexp_full_match as bound parameters, never spliced
 * into SQL) and a relation's OID (digits). The answer is built from what the
 * user may see now: the catalog's grants (as the access checks read them)
 * and the connected database's tables and views (DuckDB's duckdb_tables(),
 * duckdb_views(), duckdb_columns(), read on the session's connection).
 */
#include "pgwire_catalog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "pgwire.h"
#include "sqllex.h"
#include "xalloc.h"

/* Catalog relations: a statement naming one is ours, answered or refused. */
static const char *const catalog_relations[] = {
    "pg_catalog",    "pg_class",         "pg_namespace", "pg_attribute",     "pg_type",
    "pg_database",   "pg_roles",         "pg_user",      "pg_authid",        "pg_index",
    "pg_constraint", "pg_proc",          "pg_am",        "pg_attrdef",       "pg_description",
    "pg_settings",   "pg_tables",        "pg_views",     "pg_inherits",      "pg_policy",
    "pg_collation",  "pg_auth_members",  "pg_extension", "pg_statistic_ext", "pg_publication",
    "pg_indexes",    "pg_stat_activity", "pg_trigger",   "pg_sequence",      "pg_matviews",
};

bool pgcat_is_catalog_query(const char *sql, size_t len)
{
    SqlLexer lx;
    SqlToken t;
    sqllex_init(&lx, sql, len, 0);
    while (sqllex_next(&lx, &t) > 0) {
        if (t.kind != SQLLEX_WORD && t.kind != SQLLEX_QUOTED)
            continue;
        for (size_t i = 0; i < sizeof(catalog_relations) / sizeof(catalog_relations[0]); i++)
            if (sqllex_is_word(sql, &t, catalog_relations[i]))
                return true;
    }
    return false;
}

/* ---- answers ---- */

typedef struct Answer {
    Buf *out;
    int ncols;
    long rows;
} Answer;

/* RowDescription of text columns (psql reads every value as text). */
static void begin_answer(Answer *a, Buf *out, const char *const *names, int n)
{
    a->out = out;
    a->ncols = n;
    a->rows = 0;
    pgwire_text_row_description(out, names, n);
}

/* One DataRow of a->ncols values (NULL: SQL NULL). */
static void put_row(Answer *a, const char *const *vals)
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

static void end_answer(Answer *a)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "SELECT %ld", a->rows);
    pgwire_command_complete(a->out, tag);
}

/* An empty answer with `n` columns: the catalogs DuckDB has no counterpart of. */
static void empty_answer(Buf *out, const char *const *names, int n)
{
    Answer a;
    begin_answer(&a, out, names, n);
    end_answer(&a);
}

/* ---- reading the query ---- */

/*
 * The string literal that follows `marker` in `sql` (blanks skipped), with
 * '' undoubled, into `val`; false when the marker or the literal is absent.
 * psql sends standard strings (standard_conforming_strings is on).
 */
static bool literal_after(const char *sql, const char *marker, Buf *val)
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

/* The relation OID in `marker'NNN'`, or -1. */
static long long oid_after(const char *sql, const char *marker)
{
    Buf v = BUF_INIT;
    long long oid = -1;
    if (literal_after(sql, marker, &v) && v.len > 0 && v.len < 19) {
        oid = 0;
        for (size_t i = 0; i < v.len; i++) {
            if (!isdigit((unsigned char)v.data[i])) {
                oid = -1;
                break;
            }
            oid = oid * 10 + (v.data[i] - '0');
        }
    }
    buf_free(&v);
    return oid;
}

/* ---- the emulated catalog ---- */

/* DuckDB oids are small; PostgreSQL's user objects start at 16384. */
#define OID_BASE 16384LL

typedef struct Relation {
    long long oid;
    char *name;
    char kind; /* 'r' table, 'v' view */
} Relation;

typedef struct Relations {
    Relation *r;
    size_t n, cap;
} Relations;

static void relations_free(Relations *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->r[i].name);
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

/* The error of a failed DuckDB call as an ErrorResponse (a bad pattern: 2201B). */
static void duck_error(Buf *out, const char *sqlstate, const char *what, const char *msg)
{
    char line[512];
    snprintf(line, sizeof(line), "%s: %s", what, msg ? msg : "unknown error");
    pgwire_error(out, "ERROR", sqlstate, line, strlen(line));
}

/*
 * The tables and views of schema main the user may see whose name fully
 * matches `name_re` and whose schema name (public) matches `schema_re`,
 * in name order; kinds limited to `kinds` ("rv"). Returns false with an
 * ErrorResponse in `out` on failure.
 */
static bool list_relations(Session *s, const SessionEnv *env, const char *name_re,
                           const char *schema_re, const char *kinds, long long only_oid,
                           Relations *rs, Buf *out)
{
    static const char sql[] =
        "SELECT * FROM ("
        "SELECT table_oid AS oid, table_name AS name, 'r' AS kind FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary "
        "UNION ALL SELECT view_oid, view_name, 'v' FROM duckdb_views() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal "
        "AND NOT temporary) "
        "WHERE regexp_full_match(name, $1) AND regexp_full_match('public', $2) "
        "AND ($3 < 0 OR oid = $3) ORDER BY name";
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool ok = false;
    if (duckdb_prepare(s->con, sql, &prep) != DuckDBSuccess) {
        duck_error(out, "XX000", "cannot read the tables", duckdb_prepare_error(prep));
        goto cleanup;
    }
    duckdb_bind_varchar(prep, 1, name_re);
    duckdb_bind_varchar(prep, 2, schema_re);
    duckdb_bind_int64(prep, 3, only_oid < 0 ? -1 : (int64_t)(only_oid - OID_BASE));
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        duck_error(out, "2201B", "cannot match the pattern", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto cleanup;
    }
    idx_t n = duckdb_row_count(&res);
    for (idx_t i = 0; i < n; i++) {
        char *name = duckdb_value_varchar(&res, 1, i);
        char *kind = duckdb_value_varchar(&res, 2, i);
        if (name && kind && strchr(kinds, kind[0]) && may_see(s, env, name)) {
            if (rs->n == rs->cap) {
                rs->cap = rs->cap ? rs->cap * 2 : 16;
                rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
            }
            rs->r[rs->n].oid = (long long)duckdb_value_int64(&res, 0, i) + OID_BASE;
            rs->r[rs->n].name = xstrdup(name);
            rs->r[rs->n].kind = kind[0];
            rs->n++;
        }
        duckdb_free(name);
        duckdb_free(kind);
    }
    duckdb_destroy_result(&res);
    ok = true;
cleanup:
    duckdb_destroy_prepare(&prep);
    return ok;
}

/* The one relation `oid` the user may see, or false (then nothing is answered for it). */
static bool find_relation(Session *s, const SessionEnv *env, long long oid, Relations *rs, Buf *out)
{
    if (oid < OID_BASE)
        return true; /* no such relation: rs stays empty */
    return list_relations(s, env, ".*", ".*", "rv", oid, rs, out);
}

/* The name of the super user, the owner of every database, schema and table. */
typedef struct OwnerCtx {
    char name[CATALOG_NAME_MAX + 1];
} OwnerCtx;

static void owner_row(void *ctx, const char *const *cols, int ncols)
{
    OwnerCtx *o = ctx;
    if (ncols >= 2 && cols[0] && cols[1] && strcmp(cols[1], "true") == 0 && !o->name[0])
        snprintf(o->name, sizeof(o->name), "%s", cols[0]);
}

static void owner_name(const SessionEnv *env, OwnerCtx *o)
{
    o->name[0] = '\0';
    if (catalog_list(env->catalog, CATALOG_LIST_USERS, 0, owner_row, o) != CATALOG_OK ||
        !o->name[0])
        snprintf(o->name, sizeof(o->name), "%s", "");
}

/* A pattern literal of the query, or `dflt` when it has none. */
static const char *pattern(const char *sql, const char *marker, Buf *b, const char *dflt)
{
    if (literal_after(sql, marker, b))
        return buf_cstr(b);
    return dflt;
}

/* \dt, \dv, \d: Schema, Name, Type, Owner. */
static bool answer_relation_list(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"Schema", "Name", "Type", "Owner"};
    char kinds[3] = "";
    const char *in = strstr(sql, "c.relkind IN (");
    const char *close = in ? strchr(in, ')') : NULL;
    if (in && close) {
        size_t k = 0;
        if (memmem(in, (size_t)(close - in), "'r'", 3))
            kinds[k++] = 'r';
        if (memmem(in, (size_t)(close - in), "'v'", 3))
            kinds[k++] = 'v';
    }
    Buf nre = BUF_INIT, sre = BUF_INIT;
    Relations rs = {0};
    const char *name_re = pattern(sql, "c.relname OPERATOR(pg_catalog.~)", &nre, ".*");
    const char *schema_re = pattern(sql, "n.nspname OPERATOR(pg_catalog.~)", &sre, ".*");
    bool ok = list_relations(s, env, name_re, schema_re, kinds, -1, &rs, out);
    if (ok) {
        OwnerCtx o;
        owner_name(env, &o);
        Answer a;
        begin_answer(&a, out, names, 4);
        for (size_t i = 0; i < rs.n; i++) {
            const char *row[] = {"public", rs.r[i].name, rs.r[i].kind == 'v' ? "view" : "table",
                                 o.name};
            put_row(&a, row);
        }
        end_answer(&a);
    }
    relations_free(&rs);
    buf_free(&nre);
    buf_free(&sre);
    return ok;
}

/* \d NAME, first step: oid, nspname, relname of the relations matching. */
static bool answer_relation_lookup(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"oid", "nspname", "relname"};
    Buf nre = BUF_INIT, sre = BUF_INIT;
    Relations rs = {0};
    const char *name_re = pattern(sql, "c.relname OPERATOR(pg_catalog.~)", &nre, ".*");
    const char *schema_re = pattern(sql, "n.nspname OPERATOR(pg_catalog.~)", &sre, ".*");
    bool ok = list_relations(s, env, name_re, schema_re, "rv", -1, &rs, out);
    if (ok) {
        Answer a;
        begin_answer(&a, out, names, 3);
        for (size_t i = 0; i < rs.n; i++) {
            char oid[32];
            snprintf(oid, sizeof(oid), "%lld", rs.r[i].oid);
            const char *row[] = {oid, "public", rs.r[i].name};
            put_row(&a, row);
        }
        end_answer(&a);
    }
    relations_free(&rs);
    buf_free(&nre);
    buf_free(&sre);
    return ok;
}

/* \d NAME, second step: the relation's flags. */
static bool answer_relation_info(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"relchecks",
                                        "relkind",
                                        "relhasindex",
                                        "relhasrules",
                                        "relhastriggers",
                                        "relrowsecurity",
                                        "relforcerowsecurity",
                                        "relhasoids",
                                        "relispartition",
                                        "?column?",
                                        "reltablespace",
                                        "reloftype",
                                        "relpersistence",
                                        "relreplident",
                                        "amname"};
    Relations rs = {0};
    if (!find_relation(s, env, oid_after(sql, "c.oid ="), &rs, out))
        return false;
    Answer a;
    begin_answer(&a, out, names, 15);
    if (rs.n == 1) {
        bool view = rs.r[0].kind == 'v';
        const char *row[] = {"0",
                             view ? "v" : "r",
                             "f",
                             view ? "t" : "f",
                             "f",
                             "f",
                             "f",
                             "f",
                             "f",
                             "",
                             "0",
                             "",
                             "p",
                             "d",
                             view ? NULL : "heap"};
        put_row(&a, row);
    }
    end_answer(&a);
    relations_free(&rs);
    return true;
}

/* A DuckDB column type in PostgreSQL's words, as format_type() writes them. */
static void pg_type_name(const char *duck, Buf *b)
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
        for (size_t i = 0; i < n; i++) {
            char c = (char)tolower((unsigned char)duck[i]);
            buf_append(b, &c, 1);
        }
    for (size_t i = 0; i < dims; i++)
        buf_append_str(b, "[]");
}

/* \d NAME, third step: the columns. */
static bool answer_columns(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    static const char *const names[] = {"attname",      "format_type", "pg_get_expr", "attnotnull",
                                        "attcollation", "attidentity", "attgenerated"};
    static const char cols_sql[] =
        "SELECT column_name, data_type, column_default, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND table_oid = $1 "
        "ORDER BY column_index";
    Relations rs = {0};
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool ok = false;
    if (!find_relation(s, env, oid_after(sql, "a.attrelid ="), &rs, out))
        goto cleanup;
    Answer a;
    if (rs.n != 1) {
        empty_answer(out, names, 7);
        ok = true;
        goto cleanup;
    }
    if (duckdb_prepare(s->con, cols_sql, &prep) != DuckDBSuccess) {
        duck_error(out, "XX000", "cannot read the columns", duckdb_prepare_error(prep));
        goto cleanup;
    }
    duckdb_bind_int64(prep, 1, (int64_t)(rs.r[0].oid - OID_BASE));
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        duck_error(out, "XX000", "cannot read the columns", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto cleanup;
    }
    begin_answer(&a, out, names, 7);
    idx_t n = duckdb_row_count(&res);
    for (idx_t i = 0; i < n; i++) {
        char *name = duckdb_value_varchar(&res, 0, i);
        char *type = duckdb_value_varchar(&res, 1, i);
        char *dflt = duckdb_value_is_null(&res, 2, i) ? NULL : duckdb_value_varchar(&res, 2, i);
        bool nullable = duckdb_value_boolean(&res, 3, i);
        Buf t = BUF_INIT;
        pg_type_name(type ? type : "", &t);
        const char *row[] = {
            name ? name : "", buf_cstr(&t), dflt, nullable ? "f" : "t", NULL, "", ""};
        put_row(&a, row);
        buf_free(&t);
        duckdb_free(name);
        duckdb_free(type);
        duckdb_free(dflt);
    }
    duckdb_destroy_result(&res);
    end_answer(&a);
    ok = true;
cleanup:
    duckdb_destroy_prepare(&prep);
    relations_free(&rs);
    return ok;
}

/* \l: the databases the user holds a grant on (every one for the super user). */
typedef struct DbList {
    Answer *a;
    const char *owner;
} DbList;

static void database_row(void *ctx, const char *const *cols, int ncols)
{
    DbList *l = ctx;
    if (ncols < 1 || !cols[0])
        return;
    const char *row[] = {cols[0], l->owner, "UTF8", "C", "C", NULL, "libc", NULL};
    put_row(l->a, row);
}

static bool answer_databases(Session *s, const SessionEnv *env, Buf *out)
{
    static const char *const names[] = {
        "Name",  "Owner",      "Encoding",        "Collate",
        "Ctype", "ICU Locale", "Locale Provider", "Access privileges"};
    OwnerCtx o;
    owner_name(env, &o);
    size_t before = out->len;
    Answer a;
    begin_answer(&a, out, names, 8);
    DbList l = {&a, o.name};
    if (catalog_list(env->catalog, CATALOG_LIST_DATABASES, s->user.super ? 0 : s->user.id,
                     database_row, &l) != CATALOG_OK) {
        out->len = before;
        duck_error(out, "XX000", "cannot read the databases", "catalog error");
        return false;
    }
    end_answer(&a);
    return true;
}

/* \du: the super user sees every user; another user sees themselves. */
typedef struct RoleList {
    Answer *a;
    const Session *s;
} RoleList;

static void put_role(Answer *a, const char *name, bool super)
{
    const char *row[] = {name,
                         super ? "t" : "f",
                         "t",
                         super ? "t" : "f",
                         super ? "t" : "f",
                         "t",
                         "-1",
                         NULL,
                         "{}",
                         "f",
                         "f"};
    put_row(a, row);
}

static void role_row(void *ctx, const char *const *cols, int ncols)
{
    RoleList *l = ctx;
    if (ncols >= 2 && cols[0])
        put_role(l->a, cols[0], cols[1] && strcmp(cols[1], "true") == 0);
}

static bool answer_roles(Session *s, const SessionEnv *env, Buf *out)
{
    static const char *const names[] = {"rolname",        "rolsuper",      "rolinherit",
                                        "rolcreaterole",  "rolcreatedb",   "rolcanlogin",
                                        "rolconnlimit",   "rolvaliduntil", "memberof",
                                        "rolreplication", "rolbypassrls"};
    size_t before = out->len;
    Answer a;
    begin_answer(&a, out, names, 11);
    if (!s->user.super) {
        put_role(&a, s->user.name, false);
    } else {
        RoleList l = {&a, s};
        if (catalog_list(env->catalog, CATALOG_LIST_USERS, 0, role_row, &l) != CATALOG_OK) {
            out->len = before;
            duck_error(out, "XX000", "cannot read the users", "catalog error");
            return false;
        }
    }
    end_answer(&a);
    return true;
}

/* \dn: one schema, public (DuckDB's main). */
static void answer_schemas(const SessionEnv *env, Buf *out)
{
    static const char *const names[] = {"Name", "Owner"};
    OwnerCtx o;
    owner_name(env, &o);
    Answer a;
    begin_answer(&a, out, names, 2);
    const char *row[] = {"public", o.name};
    put_row(&a, row);
    end_answer(&a);
}

bool pgcat_answer(Session *s, const SessionEnv *env, const char *sql, Buf *out)
{
    /* The order matters: the more specific shapes first. */
    if (strstr(sql, "FROM pg_catalog.pg_database d") && strstr(sql, "AS \"Access privileges\""))
        return answer_databases(s, env, out);
    if (strstr(sql, "FROM pg_catalog.pg_roles r") && strstr(sql, "r.rolsuper") &&
        strstr(sql, "memberof"))
        return answer_roles(s, env, out);
    if (strstr(sql, "FROM pg_catalog.pg_namespace n") && strstr(sql, "AS \"Name\"") &&
        !strstr(sql, "pg_class")) {
        answer_schemas(env, out);
        return true;
    }
    if (strstr(sql, "FROM pg_catalog.pg_class c") && strstr(sql, "as \"Schema\"") &&
        strstr(sql, "CASE c.relkind") && !strstr(sql, "pg_catalog.pg_index"))
        return answer_relation_list(s, env, sql, out);
    if (strncmp(sql, "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c", 62) ==
        0)
        return answer_relation_lookup(s, env, sql, out);
    if (strncmp(sql, "SELECT c.relchecks, c.relkind, c.relhasindex", 44) == 0)
        return answer_relation_info(s, env, sql, out);
    if (strncmp(sql, "SELECT a.attname,\n  pg_catalog.format_type(a.atttypid, a.atttypmod)", 67) ==
            0 &&
        strstr(sql, "FROM pg_catalog.pg_attribute a"))
        return answer_columns(s, env, sql, out);
    /* The parts of \d NAME that have no counterpart in DuckDB: no rows. */
    if (strstr(sql, "FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i")) {
        static const char *const n[] = {
            "relname",       "indisprimary",    "indisunique",          "indisclustered",
            "indisvalid",    "pg_get_indexdef", "pg_get_constraintdef", "contype",
            "condeferrable", "condeferred",     "indisreplident",       "reltablespace"};
        empty_answer(out, n, 12);
        return true;
    }
    if (strstr(sql, "FROM pg_catalog.pg_policy pol")) {
        static const char *const n[] = {"polname",     "polpermissive", "array_to_string",
                                        "pg_get_expr", "pg_get_expr",   "cmd"};
        empty_answer(out, n, 6);
        return true;
    }
    if (strstr(sql, "FROM pg_catalog.pg_statistic_ext")) {
        static const char *const n[] = {"oid",          "stxrelid",    "nsp",
                                        "stxname",      "columns",     "ndist_enabled",
                                        "deps_enabled", "mcv_enabled", "stxstattarget"};
        empty_answer(out, n, 9);
        return true;
    }
    if (strstr(sql, "FROM pg_catalog.pg_publication p")) {
        static const char *const n[] = {"pubname", "?column?", "?column?"};
        empty_answer(out, n, 3);
        return true;
    }
    if (strstr(sql, "FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i")) {
        if (strstr(sql, "inhdetachpending")) {
            static const char *const n[] = {"oid", "relkind", "inhdetachpending", "pg_get_expr"};
            empty_answer(out, n, 4);
        } else {
            static const char *const n[] = {"oid"};
            empty_answer(out, n, 1);
        }
        return true;
    }
    /* psql's view definition and rules for \d VIEW. */
    if (strstr(sql, "FROM pg_catalog.pg_rewrite r")) {
        static const char *const n[] = {"rulename", "ruledef"};
        empty_answer(out, n, 2);
        return true;
    }
    static const char refused[] =
        "this PostgreSQL catalog query is not supported by TCP-DuckDB's front end "
        "(docs/pgwire.md lists the catalog queries it answers)";
    pgwire_error(out, "ERROR", "0A000", refused, strlen(refused));
    return false;
}
