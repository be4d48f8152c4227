/*
 * plan_cost: what turning off DuckDB's statistics-driven optimizer passes
 * costs (issue 13; docs/architecture.md, "Invariant: no plan outlives its
 * statistics"), in process, without the server.
 *
 *   plan_cost DISABLED THREADS ROWS FILE
 *     DISABLED: the value of disabled_optimizers ("" for DuckDB's defaults,
 *               "statistics_propagation,row_group_pruner" for the server's)
 *     THREADS:  DuckDB threads (the server's DuckdbThreads, 1 by default)
 *     ROWS:     rows of the analytical table (10000000 in docs/performance.md)
 *     FILE:     the database file to create (replaced), as the server's are files
 *
 * Prints one line per query: the best wall time of several runs, in
 * milliseconds. Small queries run as the server runs them: prepared and
 * executed (a new text each time, "fresh"), or one prepared statement
 * executed again ("cached"). make plan-cost runs both settings in
 * alternation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duckdb.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void must(duckdb_connection con, const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        fprintf(stderr, "%s: %s\n", sql, duckdb_result_error(&res));
        exit(1);
    }
    duckdb_destroy_result(&res);
}

/* Best of `reps` runs of prepare + execute of `sql`, in ms. */
static double analytic(duckdb_connection con, const char *sql, int reps)
{
    double best = 1e18;
    for (int r = 0; r < reps; r++) {
        duckdb_prepared_statement prep = NULL;
        duckdb_result res;
        double t0 = now_ms();
        if (duckdb_prepare(con, sql, &prep) != DuckDBSuccess ||
            duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
            fprintf(stderr, "%s: %s\n", sql, duckdb_prepare_error(prep));
            exit(1);
        }
        double dt = now_ms() - t0;
        duckdb_destroy_result(&res);
        duckdb_destroy_prepare(&prep);
        if (dt < best)
            best = dt;
    }
    return best;
}

/* Microseconds per lookup by key, as the server runs a literal request it
 * has not seen (fresh) or one from its statement cache (cached). */
static double lookups(duckdb_connection con, int n, int cached)
{
    duckdb_prepared_statement prep = NULL;
    char sql[128];
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        duckdb_result res;
        if (!cached || !prep) {
            snprintf(sql, sizeof(sql), "SELECT v FROM small WHERE id = %d", (i * 7919) % 100000);
            duckdb_destroy_prepare(&prep);
            if (duckdb_prepare(con, sql, &prep) != DuckDBSuccess)
                exit(1);
        }
        if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess)
            exit(1);
        duckdb_destroy_result(&res);
    }
    duckdb_destroy_prepare(&prep);
    return (now_ms() - t0) * 1000.0 / n;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: plan_cost DISABLED THREADS ROWS FILE\n");
        return 2;
    }
    duckdb_database db;
    duckdb_connection con;
    duckdb_config cfg;
    char *err = NULL;
    duckdb_create_config(&cfg);
    if (argv[1][0])
        duckdb_set_config(cfg, "disabled_optimizers", argv[1]);
    duckdb_set_config(cfg, "threads", argv[2]);
    char wal[1100];
    snprintf(wal, sizeof(wal), "%s.wal", argv[4]);
    remove(argv[4]);
    remove(wal);
    if (duckdb_open_ext(argv[4], &db, cfg, &err) != DuckDBSuccess) {
        fprintf(stderr, "open: %s\n", err ? err : "?");
        return 1;
    }
    duckdb_destroy_config(&cfg);
    duckdb_connect(db, &con);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE big AS SELECT i AS id, (i %% 100)::INTEGER AS g, "
             "(hash(i) %% 1000000)::INTEGER AS x, (i %% 1000)::INTEGER AS k FROM range(%s) t(i)",
             argv[3]);
    must(con, sql);
    must(con, "CREATE TABLE dim AS SELECT i::INTEGER AS k, 'name' || i AS name FROM range(1000) "
              "t(i)");
    must(con, "CREATE TABLE small (id INTEGER PRIMARY KEY, v VARCHAR)");
    must(con, "INSERT INTO small SELECT i::INTEGER, 'v' || i FROM range(100000) t(i)");
    must(con, "CHECKPOINT");

    static const char *queries[] = {
        "SELECT g, avg(x), count(*) FROM big GROUP BY g",
        "SELECT count(*), sum(length(d.name)) FROM big b JOIN dim d ON b.k = d.k",
        "SELECT min(x), max(x), count(*) FROM big",
        "SELECT count(*) FROM big WHERE x IS NULL",
        "SELECT count(*) FROM big WHERE x > 2000000000",
        "SELECT x FROM big ORDER BY x DESC LIMIT 10",
        "SELECT id FROM big ORDER BY id LIMIT 10 OFFSET 5000000",
        "SELECT x, count(*) FROM big GROUP BY x ORDER BY 2 DESC LIMIT 3",
    };
    printf("disabled_optimizers='%s' threads=%s rows=%s\n", argv[1], argv[2], argv[3]);
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
        printf("  %9.2f ms  %s\n", analytic(con, queries[i], 5), queries[i]);
    lookups(con, 2000, 0); /* warm-up */
    printf("  %9.1f us  lookup by key, fresh text each time\n", lookups(con, 20000, 0));
    printf("  %9.1f us  lookup by key, one prepared statement\n", lookups(con, 20000, 1));
    duckdb_disconnect(&con);
    duckdb_close(&db);
    remove(argv[4]);
    remove(wal);
    return 0;
}
