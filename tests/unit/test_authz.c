/*
 * Unit tests of authz.c: the statement classifier behind table grants.
 *
 * One in-memory DuckDB database, opened in the same sandbox as the pool's
 * (no file access, no extension loading, configuration locked), holds the
 * tables below; user "alice" holds the grants in `grants`. A table of cases
 * gives each request, the database grant's cap, and the exact answer. The
 * other tests check what the table cannot: that nothing runs or changes,
 * that an explicit transaction survives a check, that concurrent first
 * calls share one cache, and the answer's format.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "catalog.h"
#include "unit.h"

_Static_assert(AUTHZ_SELECT == CATALOG_PRIV_SELECT && AUTHZ_INSERT == CATALOG_PRIV_INSERT &&
                   AUTHZ_UPDATE == CATALOG_PRIV_UPDATE && AUTHZ_DELETE == CATALOG_PRIV_DELETE &&
                   AUTHZ_ALL == CATALOG_PRIV_ALL,
               "the privilege bits of authz and catalog must agree");

static duckdb_database db;

static const char schema[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, s VARCHAR);"
    "CREATE TABLE secret(id INTEGER, pw VARCHAR);"
    "CREATE TABLE \"MixedCase\"(id INTEGER);"
    "CREATE TABLE u(id INTEGER, a INTEGER);"
    "CREATE TABLE logs(id INTEGER, msg VARCHAR);"
    "CREATE TABLE trash(id INTEGER);"
    "CREATE TABLE counters(id INTEGER PRIMARY KEY, n INTEGER);"
    "CREATE TABLE kv(k INTEGER PRIMARY KEY, v INTEGER);"
    "CREATE VIEW v AS SELECT * FROM secret;"               /* granted, over an ungranted table */
    "CREATE VIEW vt AS SELECT * FROM t;"                   /* not granted, over a granted table */
    "CREATE VIEW vj AS SELECT * FROM t JOIN u USING (id);" /* the probe cannot bind it */
    "CREATE SCHEMA other;"
    "CREATE TABLE other.x(id INTEGER);"
    "CREATE MACRO m() AS (SELECT count(*) FROM secret);"
    "CREATE MACRO mt() AS TABLE SELECT * FROM secret;"
    "INSERT INTO t VALUES (1, 10, 'one'), (2, 20, 'two');"
    "INSERT INTO secret VALUES (1, 'hunter2');";

/* alice's table grants; every other table: none. */
static const struct {
    const char *table;
    AuthzPrivileges privs;
} grants[] = {
    {"t", AUTHZ_ALL},        {"u", AUTHZ_SELECT},        {"MixedCase", AUTHZ_SELECT},
    {"v", AUTHZ_SELECT},     {"vj", AUTHZ_SELECT},       {"logs", AUTHZ_INSERT},
    {"trash", AUTHZ_DELETE}, {"counters", AUTHZ_UPDATE}, {"kv", AUTHZ_INSERT | AUTHZ_UPDATE},
};

static AuthzPrivileges grant_lookup(void *ctx, const char *table)
{
    Buf *seen = ctx;
    if (seen) {
        buf_append_str(seen, table);
        buf_putc(seen, '|');
    }
    for (size_t i = 0; i < sizeof(grants) / sizeof(grants[0]); i++)
        if (strcasecmp(grants[i].table, table) == 0)
            return grants[i].privs;
    return 0;
}

static AuthzUser alice(AuthzPrivileges cap)
{
    return (AuthzUser){.name = "alice",
                       .cap = cap,
                       .catalog = "memory",
                       .table_privileges = grant_lookup,
                       .ctx = NULL};
}

typedef enum {
    ALLOW,
    TABLES,        /* detail: the table list of the answer */
    NOT_ALLOWED,   /* detail: what is not allowed */
    CANNOT_VERIFY, /* detail: part of the reason */
    DUCKDB_ERROR,  /* detail: part of DuckDB's message */
} Expect;

typedef struct Case {
    const char *sql;
    AuthzPrivileges cap;
    Expect expect;
    const char *detail;
} Case;

#define W AUTHZ_ALL    /* a `write` database grant */
#define R AUTHZ_SELECT /* a `read` database grant */

static const Case cases[] = {
    /* Granted and ungranted tables, and every place a query can name one. */
    {"SELECT * FROM t", W, ALLOW, NULL},
    {"SELECT * FROM t", R, ALLOW, NULL},
    {"SELECT * FROM secret", W, TABLES, "secret"},
    {"SELECT * FROM t JOIN secret ON t.id = secret.id", W, TABLES, "secret"},
    {"SELECT * FROM t JOIN u ON t.id = u.id", W, ALLOW, NULL},
    {"SELECT * FROM t, u, \"MixedCase\"", W, ALLOW, NULL},
    {"SELECT (SELECT count(*) FROM secret) FROM t", W, TABLES, "secret"},
    {"SELECT * FROM t WHERE id IN (SELECT id FROM secret)", W, TABLES, "secret"},
    {"SELECT * FROM t WHERE EXISTS (FROM secret)", W, TABLES, "secret"},
    {"SELECT * FROM (SELECT * FROM secret) s", W, TABLES, "secret"},
    {"SELECT * FROM t, LATERAL (SELECT * FROM secret WHERE secret.id = t.id)", W, TABLES, "secret"},
    {"SELECT * FROM t ORDER BY (SELECT pw FROM secret)", W, TABLES, "secret"},
    {"SELECT * FROM t LIMIT (SELECT count(*) FROM secret)", W, TABLES, "secret"},
    {"SELECT a FROM t GROUP BY a HAVING count(*) > (SELECT count(*) FROM secret)", W, TABLES,
     "secret"},
    {"SELECT (SELECT pw FROM secret)", W, TABLES, "secret"},
    {"FROM secret", W, TABLES, "secret"},
    {"TABLE secret", W, TABLES, "secret"},
    {"VALUES ((SELECT pw FROM secret LIMIT 1))", W, TABLES, "secret"},
    {"SELECT id, a FROM t UNION SELECT id, id FROM secret", W, TABLES, "secret"},
    {"SELECT id FROM t EXCEPT SELECT id FROM secret", W, TABLES, "secret"},
    {"SELECT * FROM t SEMI JOIN secret ON t.id = secret.id", W, TABLES, "secret"},
    {"SELECT * FROM t POSITIONAL JOIN secret", W, TABLES, "secret"},
    {"SELECT * FROM (PIVOT secret ON id IN (1, 2) USING count(*))", W, TABLES, "secret"},
    {"SELECT * FROM (PIVOT t ON a IN (10, 20) USING sum(id))", W, ALLOW, NULL},
    {"SELECT * FROM secret, v, other.x, secret, SECRET, nosuch", W, TABLES,
     "secret,other.x,nosuch"},
    {"SELECT * FROM nosuch", W, TABLES, "nosuch"},
    /* Positional references (#n), stars and COLUMNS(...) read the columns
     * of the statement's tables, as their names would: an UPDATE's new
     * value that holds one needs select on the target. */
    {"UPDATE counters SET n = #1", W, TABLES, "counters"},
    {"UPDATE counters SET n = # 1", W, TABLES, "counters"},
    {"UPDATE counters SET n = #/* c */1", W, TABLES, "counters"},
    {"UPDATE counters SET n = error(#2::VARCHAR)", W, TABLES, "counters"},
    {"UPDATE counters SET n = 1 + #2", W, TABLES, "counters"},
    {"UPDATE counters SET n = (SELECT #1 FROM u)", W, TABLES, "counters"},
    {"UPDATE counters SET n = length(COLUMNS('i.*'))", W, TABLES, "counters"},
    {"UPDATE counters SET n = len(struct_pack(*))", W, TABLES, "counters"},
    {"UPDATE counters SET n = 1 WHERE #1 = 1", W, TABLES, "counters"},
    {"UPDATE counters SET n = 1 RETURNING #1", W, TABLES, "counters"},
    {"UPDATE counters SET n = 2 * 3", W, ALLOW, NULL},
    {"UPDATE counters SET n = (2) * 3", W, ALLOW, NULL},
    {"INSERT INTO kv VALUES (1, 2) ON CONFLICT DO UPDATE SET v = #2", W, TABLES, "kv"},
    {"INSERT INTO kv VALUES (1, 2) ON CONFLICT DO UPDATE SET v = excluded.v * 2", W, ALLOW, NULL},
    {"SELECT #1 FROM secret", W, TABLES, "secret"},
    /* Table aliases with column lists are aliases, not calls. */
    {"SELECT * FROM (VALUES (1)) x(a)", W, ALLOW, NULL},
    {"FROM range(1) x(i)", W, ALLOW, NULL},
    {"SELECT i FROM range(1) \"x\"(i)", W, ALLOW, NULL},
    {"SELECT x FROM unnest([1]) un(x)", W, ALLOW, NULL},
    {"SELECT x FROM unnest([1]) AS un(x)", W, ALLOW, NULL},
    {"SELECT b FROM (SELECT 1) x(a), LATERAL (SELECT a) l(b)", W, ALLOW, NULL},
    {"SELECT b FROM t JOIN (VALUES (1)) x(b) ON t.id = x.b", W, ALLOW, NULL},
    {"SELECT a, b FROM (SELECT * FROM u) x(a, b)", W, ALLOW, NULL},
    {"SELECT b FROM u AS x(a, b)", W, ALLOW, NULL},
    {"WITH q(a, b) AS (SELECT * FROM u) SELECT b FROM q", W, ALLOW, NULL},
    {"SELECT * FROM range(1) query_table(i)", W, ALLOW, NULL},
    {"SELECT * FROM (SELECT * FROM secret) x(a, b)", W, TABLES, "secret"},
    {"SELECT * FROM (VALUES (1)) x(a), secret", W, TABLES, "secret"},
    {"SELECT * FROM range(1) x(i), read_csv('f')", W, NOT_ALLOWED, "function read_csv"},
    {"SELECT * FROM range(1) x(i), LATERAL read_csv('f') r(a)", W, NOT_ALLOWED,
     "function read_csv"},
    {"SELECT * FROM range(1) x(current_setting('a'))", W, DUCKDB_ERROR, "syntax error"},
    {"SELECT * FROM range(1) x(i) WHERE current_setting('a') = ''", W, NOT_ALLOWED,
     "function current_setting"},
    /* Statements DuckDB's binder cannot list in one go, retried relaxed. */
    {"SELECT * FROM t JOIN u USING (id)", W, ALLOW, NULL},
    {"SELECT * FROM t JOIN secret USING (id)", W, TABLES, "secret"},
    {"SELECT * FROM t NATURAL JOIN u", W, ALLOW, NULL},
    {"SELECT * FROM t ASOF JOIN u ON t.id >= u.id", W, ALLOW, NULL},
    {"SELECT * FROM t UNION ALL SELECT id, a, 'x' FROM u", W, ALLOW, NULL},
    {"SELECT COLUMNS('a.*') FROM t", W, ALLOW, NULL},
    {"SELECT * FROM t WHERE id = $1 AND a = ?", W, ALLOW, NULL},
    {"SELECT * FROM secret WHERE id = $1", W, TABLES, "secret"},
    {"SELECT try((SELECT count(*) FROM secret))", W, TABLES, "secret"},
    /* The binder drops a star's REPLACE expressions it cannot match to a column. */
    {"SELECT * REPLACE ((SELECT pw FROM secret) AS s) FROM t", W, TABLES, "secret"},
    {"SELECT * REPLACE (SELECT pw FROM secret) AS s FROM t", W, TABLES, "secret"},
    {"SELECT t.* EXCLUDE id REPLACE ((SELECT pw FROM secret) AS s) FROM t", W, TABLES, "secret"},
    {"SELECT DISTINCT ON (id) * REPLACE ((SELECT pw FROM secret) AS s) RENAME (id AS x) FROM t", W,
     TABLES, "secret"},
    {"UPDATE t SET a = 1 RETURNING * REPLACE ((SELECT pw FROM secret) AS s)", W, TABLES, "secret"},
    {"SELECT * REPLACE (upper(s) AS s) RENAME (id AS x) FROM t", R, ALLOW, NULL},
    {"SELECT id * replace(s, 'a', 'b')::INTEGER, replace(s, 'a', 'b') FROM t", R, ALLOW, NULL},
    /* CTEs: their names are not tables, and they hide none. */
    {"WITH q AS (SELECT * FROM secret) SELECT * FROM q", W, TABLES, "secret"},
    {"WITH secret AS (SELECT * FROM t) SELECT * FROM secret", W, ALLOW, NULL},
    {"WITH t AS (SELECT 1 AS x) SELECT * FROM t", R, ALLOW, NULL},
    {"WITH secret AS (SELECT * FROM secret) SELECT * FROM secret", W, TABLES, "secret"},
    {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
     "SELECT * FROM r",
     W, ALLOW, NULL},
    {"WITH q AS MATERIALIZED (SELECT id FROM u) SELECT * FROM t JOIN q USING (id)", W, ALLOW, NULL},
    /* Views are granted by their own name. */
    {"SELECT * FROM v", R, ALLOW, NULL},
    {"SELECT * FROM main.v", R, ALLOW, NULL},
    {"SELECT * FROM memory.main.V", R, ALLOW, NULL},
    {"SELECT s.pw FROM t JOIN v AS s ON t.id = s.id", R, ALLOW, NULL},
    {"SELECT * FROM vt", W, TABLES, "vt"},
    {"SELECT * FROM vj", R, ALLOW, NULL},
    {"UPDATE v SET id = 1", W, TABLES, "v"},
    /* Quoting, case and qualification, compared as DuckDB resolves names. */
    {"SELECT * FROM \"MixedCase\"", R, ALLOW, NULL},
    {"SELECT * FROM mixedcase", R, ALLOW, NULL},
    {"SELECT * FROM \"T\"", R, ALLOW, NULL},
    {"SELECT * FROM main.t", R, ALLOW, NULL},
    {"SELECT * FROM memory.t", R, ALLOW, NULL},
    {"SELECT * FROM \"memory\".\"main\".\"t\"", R, ALLOW, NULL},
    {"SELECT * FROM Memory.Main.T", R, ALLOW, NULL},
    {"SELECT * FROM \"SECRET\"", W, TABLES, "SECRET"},
    {"SELECT * FROM t AS secret", W, ALLOW, NULL},
    {"SELECT * FROM t x(a, b)", W, ALLOW, NULL},
    {"SELECT * FROM other.x", W, TABLES, "other.x"},
    {"SELECT * FROM memory.other.x", W, TABLES, "memory.other.x"},
    {"SELECT * FROM temp.main.t", W, TABLES, "temp.main.t"},
    {"SELECT * FROM system.main.t", W, TABLES, "system.main.t"},
    /* DuckDB's catalog: views, table functions, settings. */
    {"SELECT * FROM information_schema.tables", W, TABLES, "information_schema.tables"},
    {"SELECT * FROM duckdb_tables", W, TABLES, "duckdb_tables"},
    {"SELECT * FROM main.duckdb_tables", W, TABLES, "duckdb_tables"},
    {"SELECT * FROM pg_catalog.pg_class", W, TABLES, "pg_catalog.pg_class"},
    {"SELECT * FROM t WHERE id IN (SELECT oid FROM pg_class)", W, TABLES, "pg_class"},
    {"SELECT * FROM sqlite_master", W, TABLES, "sqlite_master"},
    {"SELECT * FROM duckdb_tables()", W, NOT_ALLOWED, "function duckdb_tables"},
    {"SELECT * FROM duckdb_settings()", W, NOT_ALLOWED, "function duckdb_settings"},
    {"SELECT * FROM pragma_table_info('secret')", W, NOT_ALLOWED, "function pragma_table_info"},
    {"SELECT current_setting('threads')", W, NOT_ALLOWED, "function current_setting"},
    {"SELECT * FROM t WHERE s = getvariable('x')", W, NOT_ALLOWED, "function getvariable"},
    {"SELECT nextval('seq')", W, NOT_ALLOWED, "function nextval"},
    {"SELECT pg_get_viewdef(1)", W, NOT_ALLOWED, "function pg_get_viewdef"},
    {"SELECT json_serialize_plan('SELECT * FROM secret')", W, NOT_ALLOWED,
     "function json_serialize_plan"},
    {"SELECT json_deserialize_sql('{}')", W, NOT_ALLOWED, "function json_deserialize_sql"},
    {"SELECT * FROM json_execute_serialized_sql('{}')", W, NOT_ALLOWED,
     "function json_execute_serialized_sql"},
    {"SELECT * FROM query('SELECT * FROM secret')", W, NOT_ALLOWED, "function query"},
    {"SELECT * FROM query_table('secret')", W, NOT_ALLOWED, "function query_table"},
    {"SELECT * FROM histogram(t, a)", W, NOT_ALLOWED, "function histogram"},
    {"SELECT histogram(a) FROM t", W, ALLOW, NULL},
    {"SELECT * FROM range(3), generate_series(1, 2), repeat(1, 2)", W, ALLOW, NULL},
    {"SELECT * FROM t, unnest([1, 2]) AS x(y)", W, ALLOW, NULL},
    {"SELECT * FROM t, LATERAL unnest((SELECT list(pw) FROM secret))", W, TABLES, "secret"},
    {"SELECT unnest([1, 2]), list_transform([1], x -> x + 1)", R, ALLOW, NULL},
    {"SELECT m()", W, CANNOT_VERIFY, "m is not a built-in function"},
    {"SELECT * FROM mt()", W, CANNOT_VERIFY, "mt is not a built-in function"},
    {"SELECT version(), current_database(), upper(s), \"lower\"(s) FROM t", W, ALLOW, NULL},
    /* Files. */
    {"SELECT * FROM read_csv('/etc/passwd')", W, NOT_ALLOWED, "function read_csv"},
    {"SELECT * FROM \"read_csv\"('/etc/passwd')", W, NOT_ALLOWED, "function read_csv"},
    {"SELECT * FROM t JOIN read_parquet('x.parquet') ON true", W, NOT_ALLOWED,
     "function read_parquet"},
    {"SELECT * FROM glob('/*')", W, NOT_ALLOWED, "function glob"},
    {"SELECT * FROM '/etc/passwd'", W, TABLES, "/etc/passwd"},
    /* Statement kinds no such user may run. */
    {"COPY t TO '/tmp/x'", W, NOT_ALLOWED, "COPY"},
    {"ATTACH 'x.db' AS x", W, NOT_ALLOWED, "ATTACH"},
    {"DETACH x", W, NOT_ALLOWED, "DETACH"},
    {"USE other", W, NOT_ALLOWED, "USE"},
    {"INSTALL httpfs", W, NOT_ALLOWED, "INSTALL"},
    {"LOAD httpfs", W, NOT_ALLOWED, "LOAD"},
    {"SET threads = 1", W, NOT_ALLOWED, "SET"},
    {"RESET threads", W, NOT_ALLOWED, "RESET"},
    {"PRAGMA table_info('secret')", W, NOT_ALLOWED, "PRAGMA"},
    {"CALL duckdb_tables()", W, NOT_ALLOWED, "CALL"},
    {"CHECKPOINT", W, NOT_ALLOWED, "CHECKPOINT"},
    {"VACUUM", W, NOT_ALLOWED, "VACUUM"},
    {"EXPORT DATABASE '/tmp/x'", W, NOT_ALLOWED, "EXPORT"},
    {"IMPORT DATABASE '/tmp/x'", W, NOT_ALLOWED, "IMPORT"},
    {"CREATE TABLE z(a INTEGER)", W, NOT_ALLOWED, "CREATE"},
    {"CREATE TEMP TABLE z(a INTEGER)", W, NOT_ALLOWED, "CREATE"},
    {"CREATE MACRO z() AS 1", W, NOT_ALLOWED, "CREATE"},
    {"DROP TABLE t", W, NOT_ALLOWED, "DROP"},
    {"ALTER TABLE t ADD COLUMN z INTEGER", W, NOT_ALLOWED, "ALTER"},
    {"PREPARE p AS SELECT * FROM secret", W, NOT_ALLOWED, "PREPARE"},
    {"EXECUTE p", W, NOT_ALLOWED, "EXECUTE"},
    {"BEGIN", W, NOT_ALLOWED, "BEGIN"},
    {"SHOW TABLES", W, NOT_ALLOWED, "SHOW"},
    {"SELECT * FROM (SHOW TABLES)", W, NOT_ALLOWED, "SHOW"},
    {"DESCRIBE t", W, NOT_ALLOWED, "DESCRIBE"},
    {"SUMMARIZE t", W, NOT_ALLOWED, "SUMMARIZE"},
    {"MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN UPDATE SET a = u.a", W, NOT_ALLOWED,
     "MERGE"},
    {"PIVOT t ON a IN (10, 20) USING sum(id)", W, NOT_ALLOWED, "PIVOT"},
    /* Without IN, DuckDB turns a PIVOT into two statements. */
    {"SELECT * FROM (PIVOT t ON a USING sum(id))", W, CANNOT_VERIFY, "split"},
    /* EXPLAIN needs what the statement needs; EXPLAIN ANALYZE runs it. */
    {"EXPLAIN SELECT * FROM t", R, ALLOW, NULL},
    {"EXPLAIN SELECT * FROM secret", W, TABLES, "secret"},
    {"EXPLAIN (FORMAT json) SELECT * FROM t", R, ALLOW, NULL},
    {"EXPLAIN DELETE FROM t WHERE id = 1", W, ALLOW, NULL},
    {"EXPLAIN DELETE FROM t WHERE id = 1", R, TABLES, "t"},
    {"EXPLAIN INSERT INTO t SELECT * FROM secret", W, TABLES, "secret"},
    {"EXPLAIN ANALYZE SELECT * FROM t", W, NOT_ALLOWED, "EXPLAIN ANALYZE"},
    {"EXPLAIN ANALYZE DELETE FROM t", W, NOT_ALLOWED, "EXPLAIN ANALYZE"},
    {"EXPLAIN (ANALYZE) DELETE FROM t", W, NOT_ALLOWED, "EXPLAIN ANALYZE"},
    /* INSERT */
    {"INSERT INTO t VALUES (3, 30, 'three')", W, ALLOW, NULL},
    {"INSERT INTO t VALUES (3, 30, 'three')", R, TABLES, "t"},
    {"INSERT INTO t SELECT * FROM secret", W, TABLES, "secret"},
    {"INSERT INTO t (id, a) SELECT id, a FROM u", W, ALLOW, NULL},
    {"INSERT INTO logs VALUES (1, 'x')", W, ALLOW, NULL},
    {"INSERT INTO logs SELECT id, s FROM t", W, ALLOW, NULL},
    {"INSERT INTO logs (SELECT id, s FROM secret)", W, TABLES, "secret"},
    {"INSERT INTO logs BY NAME SELECT id FROM t", W, ALLOW, NULL},
    {"INSERT INTO logs DEFAULT VALUES", W, ALLOW, NULL},
    {"INSERT INTO logs VALUES ($1, ?)", W, ALLOW, NULL},
    {"INSERT INTO memory.main.\"LOGS\" VALUES (1, 'x')", W, ALLOW, NULL},
    {"INSERT INTO logs VALUES (1, 'x') RETURNING *", W, TABLES, "logs"},
    {"INSERT INTO logs SELECT * FROM logs", W, TABLES, "logs"},
    {"INSERT INTO secret VALUES (1, 'x')", W, TABLES, "secret"},
    {"INSERT INTO other.x VALUES (1)", W, TABLES, "other.x"},
    {"WITH q AS (SELECT id FROM secret) INSERT INTO logs SELECT id, 'x' FROM q", W, TABLES,
     "secret"},
    {"WITH logs AS (SELECT 1) INSERT INTO logs VALUES (1, 'x')", W, ALLOW, NULL},
    {"INSERT OR REPLACE INTO kv VALUES (1, 2)", W, ALLOW, NULL},
    {"INSERT OR REPLACE INTO logs VALUES (1, 'x')", W, TABLES, "logs"},
    {"INSERT INTO kv VALUES (1, 2) ON CONFLICT DO NOTHING", W, ALLOW, NULL},
    {"INSERT INTO kv VALUES (1, 2) ON CONFLICT (k) DO UPDATE SET v = excluded.v", W, ALLOW, NULL},
    {"INSERT INTO kv VALUES (1, 2) ON CONFLICT (k) DO UPDATE SET v = kv.v + excluded.v", W, TABLES,
     "kv"},
    {"INSERT INTO kv VALUES (1, 2) ON CONFLICT (k) DO UPDATE SET v = (SELECT max(id) FROM "
     "secret)",
     W, TABLES, "kv,secret"},
    {"INSERT INTO kv VALUES (1, 2) ON CONFLICT ((SELECT max(id) FROM secret)) DO NOTHING", W,
     DUCKDB_ERROR, "syntax error"},
    /* UPDATE */
    {"UPDATE t SET a = 1", W, ALLOW, NULL},
    {"UPDATE t SET a = 1", R, TABLES, "t"},
    {"UPDATE counters SET n = 0", W, ALLOW, NULL},
    {"UPDATE counters SET n = DEFAULT", W, ALLOW, NULL},
    {"UPDATE counters SET n = abs(-1)", W, ALLOW, NULL},
    {"UPDATE counters SET n = n + 1", W, TABLES, "counters"},
    {"UPDATE counters SET n = 0 WHERE id = 1", W, TABLES, "counters"},
    {"UPDATE t SET a = u.a FROM u WHERE t.id = u.id", W, ALLOW, NULL},
    {"UPDATE t SET a = s.id FROM secret s WHERE t.id = s.id", W, TABLES, "secret"},
    {"UPDATE t SET a = (SELECT max(id) FROM secret)", W, TABLES, "secret"},
    {"UPDATE t AS x SET a = 1 WHERE x.id = 1 RETURNING x.*", W, ALLOW, NULL},
    {"UPDATE main.t SET (a, s) = (1, 'y')", W, ALLOW, NULL},
    {"UPDATE t SET a = 1 WHERE a IS DISTINCT FROM 2", W, ALLOW, NULL},
    {"WITH q AS (SELECT id FROM secret) UPDATE t SET a = 1 WHERE id IN (SELECT id FROM q)", W,
     TABLES, "secret"},
    {"UPDATE other.x SET id = 1", W, TABLES, "other.x"},
    /* DELETE */
    {"DELETE FROM t WHERE id = 1", W, ALLOW, NULL},
    {"DELETE FROM t WHERE id = 1", R, TABLES, "t"},
    {"DELETE FROM trash", W, ALLOW, NULL},
    {"DELETE FROM trash WHERE id = 1", W, TABLES, "trash"},
    {"DELETE FROM t USING u WHERE t.id = u.id", W, ALLOW, NULL},
    {"DELETE FROM t USING secret WHERE t.id = secret.id", W, TABLES, "secret"},
    {"DELETE FROM t AS x USING u JOIN secret USING (id) WHERE x.id = u.id", W, TABLES, "secret"},
    {"WITH q AS (SELECT id FROM secret) DELETE FROM t USING q WHERE t.id = q.id", W, TABLES,
     "secret"},
    {"WITH q AS (SELECT id FROM u) DELETE FROM t USING q WHERE t.id = q.id", W, ALLOW, NULL},
    {"DELETE FROM t WHERE id IN (SELECT id FROM secret)", W, TABLES, "secret"},
    {"DELETE FROM secret", W, TABLES, "secret"},
    {"TRUNCATE trash", W, ALLOW, NULL},
    {"TRUNCATE TABLE secret", W, TABLES, "secret"},
    /* Several statements: one denied statement denies the request. */
    {"SELECT * FROM t; SELECT * FROM u", W, ALLOW, NULL},
    {"SELECT * FROM t; SELECT * FROM secret", W, TABLES, "secret"},
    {"SELECT 1; INSERT INTO t SELECT * FROM secret; SELECT 2", W, TABLES, "secret"},
    {"SELECT * FROM t; DROP TABLE t", W, NOT_ALLOWED, "DROP"},
    {"INSERT INTO logs VALUES (1, 'x'); COPY t TO '/tmp/x'", W, NOT_ALLOWED, "COPY"},
    {";;SELECT 1;;", W, ALLOW, NULL},
    /* Names and keywords inside strings, comments and quoted identifiers. */
    {"SELECT 'DELETE FROM secret' FROM t", W, ALLOW, NULL},
    {"SELECT * FROM t -- secret", W, ALLOW, NULL},
    {"SELECT * FROM t /* ; DROP TABLE t; */", W, ALLOW, NULL},
    {"SELECT * FROM t WHERE s = 'a'';DROP TABLE t;--'", W, ALLOW, NULL},
    {"SELECT $$;DROP TABLE t;$$ FROM t", W, ALLOW, NULL},
    {"SELECT $x$ ' ; $ $x$ FROM t", W, ALLOW, NULL},
    {"SELECT * FROM t WHERE s = $x$ ' $x$ AND id IN (SELECT id FROM secret)", W, TABLES, "secret"},
    {"SELECT E'\\' FROM secret --' FROM t", W, ALLOW, NULL},
    {"SELECT 'a\\' FROM secret --'", W, TABLES, "secret"},
    {"SELECT 1 /* /* */ FROM secret */", W, ALLOW, NULL},
    {"SELECT 1 AS \"x;y\", 2 AS \"a\"\";b\" FROM t", W, ALLOW, NULL},
    {"SELECT \"secret\" FROM t", W, DUCKDB_ERROR, "Referenced column \"secret\" not found"},
    {"SELECT * FROM t WHERE a <=-1", W, ALLOW, NULL},
    {"SELECT __authz_0_ FROM t", W, CANNOT_VERIFY, "reserved"},
    /* DuckDB's own errors, without suggestions. */
    {"SELECT 'abc", W, DUCKDB_ERROR, "unterminated quoted string"},
    {"SELECT \"abc", W, DUCKDB_ERROR, "unterminated quoted identifier"},
    {"SELECT $a$ abc", W, DUCKDB_ERROR, "unterminated dollar-quoted string"},
    {"SELECT * /* /* */ FROM secret", W, DUCKDB_ERROR, "unterminated /* comment"},
    {"SELECT * FROM t WHERE", W, DUCKDB_ERROR, "syntax error"},
    {"SELECT nosuchcol FROM t", W, DUCKDB_ERROR, "nosuchcol"},
    {"SELEC 1", W, DUCKDB_ERROR, "syntax error"},
    {";", W, DUCKDB_ERROR, "no statement"},
    /* Texts on which DuckDB's scanner is quadratic, refused before it reads them. */
    {"SELECT 1 +++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++1", W, DUCKDB_ERROR,
     "Bad Request: a run of more than 64 operator characters"},
    {"SELECT 1 /*/**//**//**//**//**//**//**//**//**//**//**//**//**//**//**//**//**/*/", W,
     DUCKDB_ERROR, "Bad Request: a run of more than 64 operator characters"},
    {"SELECT '+++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++' FROM t", W, ALLOW,
     NULL},
};

/*
 * Runs case i on `con`. Returns whether the answer is the expected one;
 * otherwise says why in `why`. Touches no shared state, so worker threads
 * may call it.
 */
static bool case_passes(duckdb_connection con, size_t i, Buf *why)
{
    const Case *k = &cases[i];
    AuthzUser user = alice(k->cap);
    Buf out = BUF_INIT, want = BUF_INIT;
    int rc = authz_check(con, k->sql, &user, &out);
    const char *got = buf_cstr(&out);
    const char *nl = strchr(got, '\n');
    bool ok = rc == (k->expect == ALLOW ? 0 : -1);
    if (k->expect != ALLOW)
        ok = ok && nl && nl[1] == '\0'; /* exactly one line */
    switch (k->expect) {
    case ALLOW:
        ok = ok && out.len == 0;
        buf_append_str(&want, "(allowed, no answer)\n");
        break;
    case TABLES:
        buf_printf(&want,
                   "Error: Access Denied: User \"alice\" does not have access over Tables "
                   "\"%s\"\n",
                   k->detail);
        ok = ok && strcmp(got, buf_cstr(&want)) == 0;
        break;
    case NOT_ALLOWED:
        buf_printf(&want, "Error: Access Denied: %s is not allowed for user \"alice\"\n",
                   k->detail);
        ok = ok && strcmp(got, buf_cstr(&want)) == 0;
        break;
    case CANNOT_VERIFY:
        buf_printf(&want, "Error: Access Denied: cannot verify this statement's access: ...%s...\n",
                   k->detail);
        ok = ok &&
             strncmp(got, buf_cstr(&want), strlen("Error: Access Denied: cannot verify")) == 0 &&
             strstr(got, k->detail);
        break;
    case DUCKDB_ERROR:
        buf_printf(&want, "Error: <DuckDB's message with \"%s\", without suggestions>\n",
                   k->detail);
        ok = ok && strncmp(got, "Error: ", 7) == 0 && strncmp(got, "Error: Access", 13) != 0 &&
             strstr(got, k->detail) && !strstr(got, "Did you mean") && !strstr(got, "Candidate");
        break;
    }
    if (!ok)
        buf_printf(why, "case %zu (cap %u): %s\n  got  %s%s  want %s", i, k->cap, k->sql,
                   rc == 0 ? "(allowed)" : got, rc == 0 ? "\n" : "", buf_cstr(&want));
    buf_free(&out);
    buf_free(&want);
    return ok;
}

static duckdb_connection connect_db(void)
{
    duckdb_connection con = NULL;
    if (duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "cannot connect\n");
        exit(1);
    }
    return con;
}

static int64_t query_int(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    int64_t v = -1;
    if (duckdb_query(con, sql, &res) == DuckDBSuccess)
        v = duckdb_value_int64(&res, 0, 0);
    else
        fprintf(stderr, "%s: %s\n", sql, duckdb_result_error(&res));
    duckdb_destroy_result(&res);
    return v;
}

static void exec(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess)
        fprintf(stderr, "%s: %s\n", sql, duckdb_result_error(&res));
    duckdb_destroy_result(&res);
}

/* The first calls race to fill the process-wide cache; all must agree. */
static void *thread_main(void *arg)
{
    (void)arg;
    duckdb_connection con = connect_db();
    Buf *why = calloc(1, sizeof(Buf));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i += 5)
        case_passes(con, i, why);
    duckdb_disconnect(&con);
    return why;
}

static void test_concurrent_first_calls(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, thread_main, NULL) == 0);
    for (int i = 0; i < 4; i++) {
        void *ret = NULL;
        pthread_join(th[i], &ret);
        Buf *why = ret;
        CHECK(why && why->len == 0);
        if (why && why->len)
            fprintf(stderr, "thread %d:\n%s", i, buf_cstr(why));
        buf_free(why);
        free(why);
    }
}

static void test_cases(void)
{
    duckdb_connection con = connect_db();
    size_t n = sizeof(cases) / sizeof(cases[0]);
    Buf why = BUF_INIT;
    CHECK(n >= 80);
    for (size_t i = 0; i < n; i++) {
        unit_checks++;
        buf_reset(&why, 0);
        if (!case_passes(con, i, &why)) {
            unit_failures++;
            fputs(buf_cstr(&why), stderr);
        }
    }
    buf_free(&why);
    duckdb_disconnect(&con);
}

/* Checking runs nothing: after every case, the data and the catalog are as before. */
static void test_nothing_runs(void)
{
    duckdb_connection con = connect_db();
    CHECK(query_int(con, "SELECT count(*) FROM t") == 2);
    CHECK(query_int(con, "SELECT sum(a) FROM t") == 30);
    CHECK(query_int(con, "SELECT count(*) FROM logs") == 0);
    CHECK(query_int(con, "SELECT count(*) FROM secret") == 1);
    CHECK(query_int(con, "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary") == 9);
    CHECK(query_int(con, "SELECT count(*) FROM duckdb_views() WHERE NOT internal") == 3);
    duckdb_disconnect(&con);
}

/* A check inside an explicit transaction leaves it usable, even when DuckDB's
 * binder fails on the way; in an aborted transaction the answer is DuckDB's. */
static void test_transactions(void)
{
    duckdb_connection con = connect_db();
    AuthzUser user = alice(AUTHZ_ALL);
    Buf out = BUF_INIT;
    exec(con, "BEGIN");
    exec(con, "INSERT INTO logs VALUES (7, 'in tx')");
    CHECK(authz_check(con, "UPDATE t SET a = a + 1 WHERE id = 1", &user, &out) == 0);
    CHECK(authz_check(con, "SELECT * FROM t UNION SELECT id, pw, pw FROM secret", &user, &out) ==
          -1);
    CHECK(authz_check(con, "SELECT * FROM t JOIN u USING (id)", &user, &out) == 0);
    CHECK(query_int(con, "SELECT count(*) FROM logs") == 1);
    exec(con, "COMMIT");
    CHECK(query_int(con, "SELECT count(*) FROM logs") == 1);
    exec(con, "DELETE FROM logs");

    exec(con, "BEGIN");
    duckdb_result res;
    CHECK(duckdb_query(con, "INSERT INTO t VALUES (1, 1, 'dup')", &res) == DuckDBError);
    duckdb_destroy_result(&res);
    buf_reset(&out, 0);
    CHECK(authz_check(con, "SELECT * FROM t", &user, &out) == -1);
    CHECK(strncmp(buf_cstr(&out), "Error: ", 7) == 0 && strstr(out.data, "aborted"));
    exec(con, "ROLLBACK");
    buf_free(&out);
    duckdb_disconnect(&con);
}

/* The answer is appended, a name with a newline cannot break the line, and
 * the callback is given names unquoted. */
static void test_answer_format(void)
{
    duckdb_connection con = connect_db();
    Buf seen = BUF_INIT;
    AuthzUser user = alice(AUTHZ_ALL);
    user.ctx = &seen;
    Buf out = BUF_INIT;
    buf_append_str(&out, "earlier answer\n");
    CHECK(authz_check(con, "SELECT * FROM \"bad\nname\"", &user, &out) == -1);
    CHECK_STR(buf_cstr(&out), "earlier answer\nError: Access Denied: User \"alice\" does not have "
                              "access over Tables \"bad\\nname\"\n");

    buf_reset(&seen, 0);
    buf_reset(&out, 0);
    CHECK(authz_check(con, "SELECT * FROM \"MixedCase\" JOIN main.\"T\" ON true", &user, &out) ==
          0);
    const char *names = buf_cstr(&seen);
    CHECK(strstr(names, "MixedCase|") && strstr(names, "T|") && !strchr(names, '"'));

    /* A carriage return ends a -- comment, as in DuckDB. */
    buf_reset(&out, 0);
    CHECK(authz_check(con, "SELECT * FROM t, -- c\rsecret", &user, &out) == -1);
    CHECK(strstr(buf_cstr(&out), "Tables \"secret\"") != NULL);
    buf_free(&seen);
    buf_free(&out);
    duckdb_disconnect(&con);
}

/* With more names than one probe takes, the views are found with a query. */
static void test_many_names(void)
{
    duckdb_connection con = connect_db();
    AuthzUser user = alice(AUTHZ_SELECT);
    Buf sql = BUF_INIT, out = BUF_INIT;
    buf_append_str(&sql, "SELECT 1 AS c0");
    for (int i = 1; i < 700; i++)
        buf_printf(&sql, ", %d AS c%d", i, i);
    size_t base = sql.len;
    buf_append_str(&sql, " FROM v");
    CHECK(authz_check(con, buf_cstr(&sql), &user, &out) == 0);
    sql.len = base;
    buf_append_str(&sql, " FROM v, vt");
    CHECK(authz_check(con, buf_cstr(&sql), &user, &out) == -1);
    CHECK(strstr(buf_cstr(&out), "Tables \"vt\"") != NULL);
    buf_free(&sql);
    buf_free(&out);
    duckdb_disconnect(&con);
}

static AuthzPrivileges no_grants(void *ctx, const char *table)
{
    (void)ctx;
    (void)table;
    return 0;
}

/*
 * The statement cache keeps what a successful check derived and later asks
 * only for the grants: for every allowed case, and every database grant and
 * set of table grants, authz_recheck answers exactly what a full check
 * answers with the grants as they are then (a revoke, or write becoming
 * read, denies at once).
 */
static void test_recheck_equals_check(void)
{
    duckdb_connection con = connect_db();
    size_t n = sizeof(cases) / sizeof(cases[0]), plans = 0;
    for (size_t i = 0; i < n; i++) {
        if (cases[i].expect != ALLOW)
            continue;
        AuthzUser user = alice(cases[i].cap);
        Buf out = BUF_INIT;
        AuthzPlan *plan = NULL;
        CHECK(authz_check_plan(con, cases[i].sql, &user, &out, &plan) == 0);
        CHECK(plan != NULL);
        if (!plan)
            continue;
        plans++;
        AuthzPrivileges caps[] = {AUTHZ_ALL, AUTHZ_SELECT, 0};
        for (int revoked = 0; revoked < 2; revoked++) {
            for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
                AuthzUser now = alice(caps[k]);
                if (revoked)
                    now.table_privileges = no_grants;
                Buf full = BUF_INIT, again = BUF_INIT;
                int rc_full = authz_check(con, cases[i].sql, &now, &full);
                int rc_again = authz_recheck(plan, &now, &again);
                CHECK(rc_full == rc_again);
                CHECK_STR(buf_cstr(&again), buf_cstr(&full));
                buf_free(&full);
                buf_free(&again);
            }
        }
        authz_plan_free(plan);
        buf_free(&out);
    }
    CHECK(plans >= 20);
    duckdb_disconnect(&con);
}

int main(void)
{
    duckdb_config config = NULL;
    char *err = NULL;
    if (duckdb_create_config(&config) != DuckDBSuccess ||
        duckdb_set_config(config, "enable_external_access", "false") != DuckDBSuccess ||
        duckdb_set_config(config, "autoinstall_known_extensions", "false") != DuckDBSuccess ||
        duckdb_set_config(config, "autoload_known_extensions", "false") != DuckDBSuccess ||
        /* No worker threads of DuckDB's own: under TSan they report races
         * inside the uninstrumented library. */
        duckdb_set_config(config, "threads", "1") != DuckDBSuccess ||
        duckdb_set_config(config, "lock_configuration", "true") != DuckDBSuccess ||
        duckdb_open_ext(NULL, &db, config, &err) != DuckDBSuccess) {
        fprintf(stderr, "cannot open DuckDB: %s\n", err ? err : "config");
        return 1;
    }
    duckdb_destroy_config(&config);
    duckdb_connection con = connect_db();
    exec(con, schema);
    duckdb_disconnect(&con);

    UNIT_RUN(test_concurrent_first_calls);
    UNIT_RUN(test_cases);
    UNIT_RUN(test_nothing_runs);
    UNIT_RUN(test_transactions);
    UNIT_RUN(test_answer_format);
    UNIT_RUN(test_many_names);
    UNIT_RUN(test_recheck_equals_check);
    duckdb_close(&db);
    return unit_summary("test_authz");
}
