/*
 * Unit tests of query.c against an in-memory DuckDB: the answer lines of SQL
 * requests (rows, changed rows, success, errors), several statements in one
 * request and their implicit transaction, typed answers and parameters, the
 * statement cache's use, what a request reports besides its answer
 * (QueryOutcome), and a client that goes away in the middle of a result.
 */
#include <stdlib.h>
#include <string.h>

#include "dbmeta.h"
#include "params.h"
#include "query.h"
#include "unit.h"

static duckdb_database db;
static duckdb_connection con;

/* A flush that keeps everything (a client that reads it all). */
static int keep(void *ctx, Buf *out)
{
    Buf *all = ctx;
    buf_append(all, out->data, out->len);
    out->len = 0;
    return 0;
}

/* A flush that fails (a client that went away). */
static int gone(void *ctx, Buf *out)
{
    (void)ctx;
    out->len = 0;
    return -1;
}

typedef struct Run {
    QueryStatus st;
    QueryOutcome outcome;
    char *answer; /* everything written, flushed or not; freed by the caller */
} Run;

static Run run_full(const char *sql, bool in_tx, bool typed, const TypedRequest *params,
                    StmtCache *cache)
{
    Buf out = BUF_INIT, all = BUF_INIT;
    QueryIo io = {.out = &out, .flush = keep, .ctx = &all};
    QueryRequest req = {
        .sql = sql, .in_tx = in_tx, .typed = typed, .params = params, .cache = cache};
    if (cache)
        req.cached = stmtcache_find(cache, sql, strlen(sql));
    Run r = {0};
    r.st = query_run(con, &req, &io, &r.outcome);
    buf_append(&all, out.data, out.len);
    r.answer = strdup(buf_cstr(&all));
    buf_free(&out);
    buf_free(&all);
    return r;
}

static Run run(const char *sql)
{
    return run_full(sql, false, false, NULL, NULL);
}

static void check_answer(const char *sql, const char *want)
{
    Run r = run(sql);
    CHECK_STR(r.answer, want);
    free(r.answer);
}

static void test_answers(void)
{
    check_answer("CREATE TABLE t (id INTEGER, v VARCHAR)", "success\n");
    check_answer("INSERT INTO t VALUES (1, 'one'), (2, 'two')", "2\n");
    check_answer("SELECT * FROM t ORDER BY id",
                 "[{\"id\":1,\"v\":\"one\"},{\"id\":2,\"v\":\"two\"}]\n");
    check_answer("SELECT * FROM t WHERE id > 5", "[]\n");
    check_answer("UPDATE t SET v = 'uno' WHERE id = 1", "1\n");
    check_answer("DELETE FROM t WHERE id = 99", "0\n");
    Run r = run("SELECT * FROM missing");
    CHECK(r.st == QUERY_FAILED);
    CHECK(strncmp(r.answer, "Error: Catalog Error: ", 22) == 0);
    CHECK(strchr(r.answer, '\n') == r.answer + strlen(r.answer) - 1); /* one line */
    free(r.answer);
    r = run("SELEC 1");
    CHECK(r.st == QUERY_FAILED);
    CHECK(strncmp(r.answer, "Error: Parser Error: ", 21) == 0);
    free(r.answer);
}

static void test_several_statements_are_one_transaction(void)
{
    check_answer("CREATE TABLE m (a INTEGER PRIMARY KEY)", "success\n");
    /* The answer is the last statement's. */
    check_answer("INSERT INTO m VALUES (1); INSERT INTO m VALUES (2); SELECT count(*) AS n FROM m",
                 "[{\"n\":2}]\n");
    /* A failure rolls back the statements before it, and the answer is the error alone. */
    Run r = run("INSERT INTO m VALUES (3); INSERT INTO m VALUES (1)");
    CHECK(r.st == QUERY_FAILED);
    CHECK(strncmp(r.answer, "Error: Constraint Error: ", 25) == 0);
    free(r.answer);
    check_answer("SELECT count(*) AS n FROM m", "[{\"n\":2}]\n");
    /* Transaction statements are the commands' business. */
    r = run("BEGIN");
    CHECK(r.st == QUERY_FAILED);
    CHECK(strstr(r.answer, "use the commands start transaction, commit and rollback") != NULL);
    free(r.answer);
    r = run("SELECT 1; COMMIT");
    CHECK(strstr(r.answer, "may not contain transaction statements") != NULL);
    free(r.answer);
}

static void test_outcome(void)
{
    Run r = run("CREATE TABLE o (a INTEGER)");
    CHECK(r.outcome.catalog_changed && !r.outcome.schema_changed);
    free(r.answer);
    r = run("SELECT * FROM o");
    CHECK(!r.outcome.catalog_changed && !r.outcome.schema_changed);
    free(r.answer);
    r = run("ALTER TABLE o ADD COLUMN b INTEGER");
    CHECK(r.outcome.schema_changed && r.outcome.catalog_changed);
    free(r.answer);
    /* Inside an explicit transaction, a failure after a statement that ran is partial. */
    Buf err = BUF_INIT;
    CHECK(query_exec_simple(con, "BEGIN TRANSACTION", &err) == 0);
    r = run_full("INSERT INTO o VALUES (1, 1); SELECT * FROM missing", true, false, NULL, NULL);
    CHECK(r.st == QUERY_FAILED && r.outcome.partial);
    free(r.answer);
    CHECK(query_exec_simple(con, "ROLLBACK", &err) == 0);
    buf_free(&err);
}

static void test_typed_and_parameters(void)
{
    check_answer("CREATE TABLE p (id INTEGER, name VARCHAR)", "success\n");
    Run r = run_full("INSERT INTO p VALUES (1, 'a'), (2, 'b')", false, true, NULL, NULL);
    CHECK_STR(r.answer, "{\"changed\":2}\n");
    free(r.answer);
    TypedRequest tr;
    char err[256];
    static const char json[] = "{\"sql\": \"SELECT name FROM p WHERE id = ?\", \"params\": [2]}";
    CHECK(params_parse(json, strlen(json), &tr, err, sizeof(err)) == 0);
    r = run_full(tr.sql, false, true, &tr, NULL);
    CHECK_STR(r.answer,
              "{\"columns\":[{\"name\":\"name\",\"type\":\"VARCHAR\"}],\"rows\":[[\"b\"]]}\n");
    free(r.answer);
    params_free(&tr);
    /* A parameter count that does not match is an error, not a crash. */
    static const char bad[] = "{\"sql\": \"SELECT ?, ?\", \"params\": [1]}";
    CHECK(params_parse(bad, strlen(bad), &tr, err, sizeof(err)) == 0);
    r = run_full(tr.sql, false, true, &tr, NULL);
    CHECK(r.st == QUERY_FAILED && strncmp(r.answer, "Error: ", 7) == 0);
    free(r.answer);
    params_free(&tr);
}

static void test_cache(void)
{
    StmtCache *cache = stmtcache_new(4);
    check_answer("CREATE TABLE c (a INTEGER)", "success\n");
    check_answer("INSERT INTO c VALUES (1), (2), (3)", "3\n");
    const char *sql = "SELECT sum(a) AS s FROM c";
    Run r = run_full(sql, false, false, NULL, cache);
    CHECK_STR(r.answer, "[{\"s\":6}]\n");
    CHECK(r.outcome.entry != NULL); /* kept */
    free(r.answer);
    check_answer("INSERT INTO c VALUES (10)", "1\n");
    r = run_full(sql, false, false, NULL, cache); /* from the cache, with the new row */
    CHECK_STR(r.answer, "[{\"s\":16}]\n");
    free(r.answer);
    /* A table replaced under a cached statement: prepared afresh, the right answer. */
    check_answer("DROP TABLE c", "success\n");
    check_answer("CREATE TABLE c (a BIGINT, b INTEGER)", "success\n");
    check_answer("INSERT INTO c VALUES (100, 0)", "1\n");
    r = run_full(sql, false, false, NULL, cache);
    CHECK_STR(r.answer, "[{\"s\":100}]\n");
    free(r.answer);
    /* Several statements are never kept. */
    r = run_full("SELECT 1; SELECT 2 AS two", false, false, NULL, cache);
    CHECK_STR(r.answer, "[{\"two\":2}]\n");
    CHECK(r.outcome.entry == NULL);
    free(r.answer);
    stmtcache_free(cache);
}

static void test_client_gone_mid_result(void)
{
    /* More than QUERY_FLUSH_BYTES of rows, so the answer is flushed while it streams. */
    Buf out = BUF_INIT;
    QueryIo io = {.out = &out, .flush = gone, .ctx = NULL};
    QueryRequest req = {.sql = "SELECT range AS n, repeat('x', 100) AS pad FROM range(100000)"};
    QueryOutcome outcome = {0};
    CHECK(query_run(con, &req, &io, &outcome) == QUERY_CLIENT_GONE);
    buf_free(&out);
    /* The connection is usable afterwards. */
    check_answer("SELECT 42 AS x", "[{\"x\":42}]\n");
}

static void collect(void *ctx, const char *name, int64_t oid)
{
    Buf *b = ctx;
    CHECK(oid > 0);
    buf_append_str(b, name);
    buf_append_str(b, ",");
}

static void test_list_tables(void)
{
    /* The server names each database's catalog after its id; here one is attached so. */
    check_answer("ATTACH ':memory:' AS \"7\"", "success\n");
    check_answer("CREATE TABLE \"7\".main.a (x INTEGER)", "success\n");
    check_answer("CREATE VIEW \"7\".main.b AS SELECT 1 AS y", "success\n");
    Buf b = BUF_INIT;
    CHECK(dbmeta_list_tables(con, 7, collect, &b) == 0);
    CHECK(strstr(buf_cstr(&b), "a,") != NULL);
    CHECK(strstr(buf_cstr(&b), "b,") != NULL);
    CHECK(strstr(buf_cstr(&b), "t,") == NULL); /* tables of another catalog are not listed */
    buf_free(&b);
    b = (Buf)BUF_INIT;
    CHECK(dbmeta_list_tables(con, 8, collect, &b) == 0); /* no such catalog: nothing */
    CHECK_STR(buf_cstr(&b), "");
    buf_free(&b);
}

int main(void)
{
    if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "cannot open DuckDB\n");
        return 2;
    }
    UNIT_RUN(test_answers);
    UNIT_RUN(test_several_statements_are_one_transaction);
    UNIT_RUN(test_outcome);
    UNIT_RUN(test_typed_and_parameters);
    UNIT_RUN(test_cache);
    UNIT_RUN(test_client_gone_mid_result);
    UNIT_RUN(test_list_tables);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return unit_summary("test_query");
}
