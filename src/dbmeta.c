/*
 * dbmeta: DuckDB's metadata table functions, read for the grants, the link
 * and the result cache. See dbmeta.h.
 */
#include "dbmeta.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

int dbmeta_list_tables(duckdb_connection con, int64_t db_id,
                       void (*fn)(void *ctx, const char *name, int64_t oid), void *ctx)
{
    /* The catalog is named, not taken as current_database(): a super user
     * may have switched the session elsewhere with USE. */
    static const char sql[] = "SELECT table_name, table_oid FROM duckdb_tables() "
                              "WHERE database_name = $1 AND schema_name = 'main' "
                              "UNION ALL SELECT view_name, view_oid FROM duckdb_views() "
                              "WHERE database_name = $1 AND schema_name = 'main' AND NOT internal";
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool have_res = false;
    int rc = -1;
    char catalog[32];
    snprintf(catalog, sizeof(catalog), "%lld", (long long)db_id);
    if (duckdb_prepare(con, sql, &prep) != DuckDBSuccess ||
        duckdb_bind_varchar(prep, 1, catalog) != DuckDBSuccess) {
        log_error("cannot list tables: %s", duckdb_prepare_error(prep));
        goto out;
    }
    have_res = true;
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        log_error("cannot list tables: %s", duckdb_result_error(&res));
        goto out;
    }
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        if (!chunk)
            break;
        duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
        duckdb_vector ov = duckdb_data_chunk_get_vector(chunk, 1);
        duckdb_string_t *names = duckdb_vector_get_data(v);
        int64_t *oids = duckdb_vector_get_data(ov);
        uint64_t *validity = duckdb_vector_get_validity(v);
        uint64_t *oid_validity = duckdb_vector_get_validity(ov);
        idx_t n = duckdb_data_chunk_get_size(chunk);
        for (idx_t i = 0; i < n; i++) {
            if (!duckdb_validity_row_is_valid(validity, i) ||
                !duckdb_validity_row_is_valid(oid_validity, i))
                continue;
            char name[1024];
            uint32_t len = duckdb_string_t_length(names[i]);
            if (len >= sizeof(name))
                continue; /* longer than any name a grant accepts */
            memcpy(name, duckdb_string_t_data(&names[i]), len);
            name[len] = '\0';
            fn(ctx, name, oids[i]);
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    rc = 0;
out:
    if (have_res)
        duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&prep);
    return rc;
}

/* Calls `row` with the first `ncols` (at most 3) columns of each row of `sql` as text. */
static int each_row(duckdb_connection con, const char *sql, int ncols,
                    void (*row)(void *ctx, char **cols), void *ctx)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        log_error("cannot read %s: %s", sql, duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return -1;
    }
    idx_t n = duckdb_row_count(&res);
    for (idx_t i = 0; i < n; i++) {
        char *cols[3] = {NULL, NULL, NULL};
        for (int c = 0; c < ncols; c++)
            cols[c] = duckdb_value_is_null(&res, (idx_t)c, i)
                          ? NULL
                          : duckdb_value_varchar(&res, (idx_t)c, i);
        row(ctx, cols);
        for (int c = 0; c < ncols; c++)
            duckdb_free(cols[c]);
    }
    duckdb_destroy_result(&res);
    return 0;
}

int dbmeta_has_user_functions(duckdb_connection con)
{
    duckdb_result res;
    int rc = -1;
    if (duckdb_query(con, "SELECT count(*) FROM duckdb_functions() WHERE NOT internal", &res) ==
        DuckDBSuccess)
        rc = duckdb_value_int64(&res, 0, 0) > 0 ? 1 : 0;
    duckdb_destroy_result(&res);
    return rc;
}

typedef struct FunctionLists {
    void (*fn)(const char *name, const char *type, const char *stability);
    void (*kw)(const char *name);
} FunctionLists;

static void function_row(void *ctx, char **cols)
{
    const FunctionLists *l = ctx;
    if (cols[0])
        l->fn(cols[0], cols[1], cols[2]);
}

static void keyword_row(void *ctx, char **cols)
{
    const FunctionLists *l = ctx;
    if (cols[0])
        l->kw(cols[0]);
}

int dbmeta_list_functions(void (*fn)(const char *name, const char *type, const char *stability),
                          void (*kw)(const char *name))
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    FunctionLists l = {fn, kw};
    int rc = -1;
    if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
        log_error("cannot open an in-memory DuckDB database to list its functions");
        goto out;
    }
    if (each_row(con, "SELECT function_name, function_type, stability FROM duckdb_functions()", 3,
                 function_row, &l) != 0 ||
        each_row(con, "SELECT keyword_name FROM duckdb_keywords()", 1, keyword_row, &l) != 0)
        goto out;
    rc = 0;
out:
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return rc;
}
