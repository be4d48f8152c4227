/*
 * fuzz_authz: the statement classifier (src/authz*.c) on any request text,
 * against an in-memory DuckDB database opened once, in the pool's sandbox,
 * with tables t (granted: all privileges), u (granted: select) and secret
 * (not granted). For every input: a check answers 0 with a plan and no
 * answer, or -1 with exactly one answer line; a recheck of the plan
 * answers 0 too; and when a request is allowed, DuckDB's own listing of
 * its tables (when it can give one) never names `secret`. Nothing runs:
 * the classifier only parses, binds and prepares.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static duckdb_database db;
static duckdb_connection con;

static AuthzPrivileges grants(void *ctx, const char *table)
{
    (void)ctx;
    if (strcasecmp(table, "t") == 0)
        return AUTHZ_ALL;
    if (strcasecmp(table, "u") == 0)
        return AUTHZ_SELECT;
    return 0;
}

static void open_once(void)
{
    static const char schema[] = "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, s VARCHAR);"
                                 "CREATE TABLE u(id INTEGER, a INTEGER);"
                                 "CREATE TABLE secret(id INTEGER, pw VARCHAR);"
                                 "INSERT INTO secret VALUES (1, 'hunter2');";
    duckdb_config config = NULL;
    char *err = NULL;
    duckdb_result res;
    if (duckdb_create_config(&config) != DuckDBSuccess ||
        duckdb_set_config(config, "enable_external_access", "false") != DuckDBSuccess ||
        duckdb_set_config(config, "autoinstall_known_extensions", "false") != DuckDBSuccess ||
        duckdb_set_config(config, "autoload_known_extensions", "false") != DuckDBSuccess ||
        duckdb_set_config(config, "threads", "1") != DuckDBSuccess ||
        duckdb_open_ext(NULL, &db, config, &err) != DuckDBSuccess ||
        duckdb_connect(db, &con) != DuckDBSuccess ||
        duckdb_query(con, schema, &res) != DuckDBSuccess) {
        fprintf(stderr, "fuzz_authz: cannot open DuckDB: %s\n", err ? err : "setup");
        abort();
    }
    duckdb_destroy_result(&res);
    if (duckdb_query(con, "SET lock_configuration = true", &res) != DuckDBSuccess)
        abort();
    duckdb_destroy_result(&res);
    duckdb_destroy_config(&config);
}

/* Whether DuckDB's own listing of `sql` names table secret. */
static bool duckdb_lists_secret(const char *sql)
{
    duckdb_value list = duckdb_get_table_names(con, sql, false);
    bool found = false;
    if (!list)
        return false;
    idx_t n = duckdb_get_list_size(list);
    for (idx_t k = 0; k < n && !found; k++) {
        duckdb_value child = duckdb_get_list_child(list, k);
        char *name = child ? duckdb_get_varchar(child) : NULL;
        found = name && strcasecmp(name, "secret") == 0;
        duckdb_free(name);
        duckdb_destroy_value(&child);
    }
    duckdb_destroy_value(&list);
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        open_once();
    char *sql = malloc(size + 1);
    memcpy(sql, data, size);
    sql[size] = '\0'; /* the server rejects NUL bytes; DuckDB ends the text there */
    AuthzUser user = {.name = "alice",
                      .cap = AUTHZ_ALL,
                      .catalog = "memory",
                      .table_privileges = grants,
                      .ctx = NULL};
    Buf out = BUF_INIT, again = BUF_INIT;
    AuthzPlan *plan = NULL;
    duckdb_prepared_statement prep = NULL;
    int rc = authz_check_prepare(con, sql, &user, &out, &plan, &prep);
    if (rc == 0) {
        assert(plan != NULL && out.len == 0);
        /* The statement handed over to run is of a kind the check allows. */
        if (prep) {
            duckdb_statement_type t = duckdb_prepared_statement_type(prep);
            assert(t == DUCKDB_STATEMENT_TYPE_SELECT || t == DUCKDB_STATEMENT_TYPE_INSERT ||
                   t == DUCKDB_STATEMENT_TYPE_UPDATE || t == DUCKDB_STATEMENT_TYPE_DELETE ||
                   t == DUCKDB_STATEMENT_TYPE_EXPLAIN);
        }
        assert(authz_recheck(plan, &user, &again) == 0 && again.len == 0);
        if (duckdb_lists_secret(sql)) {
            fprintf(stderr, "fuzz_authz: allowed, but DuckDB lists secret: %s\n", sql);
            abort();
        }
    } else {
        assert(rc == -1 && plan == NULL && prep == NULL);
        assert(out.len > 7 && memcmp(out.data, "Error: ", 7) == 0);
        assert(out.data[out.len - 1] == '\n' &&
               memchr(out.data, '\n', out.len) == out.data + out.len - 1);
    }
    duckdb_destroy_prepare(&prep);
    authz_plan_free(plan);
    buf_free(&out);
    buf_free(&again);
    free(sql);
    return 0;
}
