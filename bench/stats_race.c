/*
 * stats_race: an in-process DuckDB reproduction, without the server, of wrong
 * answers to fresh queries that race with other connections' appends
 * (issue 13; tests/e2e/test_pool.py used to count them as "DuckDB
 * anomalies").
 *
 * THREADS connections share one database file. Each loops: INSERT (k, seq)
 * in autocommit, then asks SELECT count(*) FROM t WHERE client = k AND
 * seq = seq, which must answer 1 (its own committed row). The query runs
 * either as the server runs a request it has not seen (duckdb_prepare, then
 * duckdb_execute_prepared: two autocommit transactions) or in one call
 * (duckdb_query). Every wrong answer is counted.
 *
 *   stats_race DIR SECONDS MODE OPT
 *     MODE: prepared | query
 *     OPT:  on  (DuckDB's defaults)
 *           off (disabled_optimizers = 'statistics_propagation')
 *
 * Prints one line: queries, wrong answers, the rate. Exit status 0 always:
 * it measures, it does not judge (make stats-race runs the four
 * combinations; docs/performance.md records the figures).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duckdb.h"

#define THREADS 4

static duckdb_database db;
static bool use_prepared;
static double deadline;
static atomic_long queries, wrong, errors;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool run(duckdb_connection con, const char *sql, duckdb_result *res)
{
    if (!use_prepared)
        return duckdb_query(con, sql, res) == DuckDBSuccess;
    duckdb_prepared_statement prep = NULL;
    bool ok = duckdb_prepare(con, sql, &prep) == DuckDBSuccess &&
              duckdb_execute_prepared(prep, res) == DuckDBSuccess;
    duckdb_destroy_prepare(&prep);
    return ok;
}

static void *client(void *arg)
{
    long k = (long)arg;
    duckdb_connection con = NULL;
    if (duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "connect failed\n");
        exit(1);
    }
    char sql[160];
    for (long seq = 1; now() < deadline; seq++) {
        duckdb_result res;
        snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%ld, %ld)", k, seq);
        if (duckdb_query(con, sql, &res) != DuckDBSuccess)
            atomic_fetch_add(&errors, 1);
        duckdb_destroy_result(&res);
        snprintf(sql, sizeof(sql), "SELECT count(*) AS n FROM t WHERE client = %ld AND seq = %ld",
                 k, seq);
        memset(&res, 0, sizeof(res));
        if (!run(con, sql, &res)) {
            atomic_fetch_add(&errors, 1);
        } else {
            atomic_fetch_add(&queries, 1);
            if (duckdb_value_int64(&res, 0, 0) != 1)
                atomic_fetch_add(&wrong, 1);
        }
        duckdb_destroy_result(&res);
    }
    duckdb_disconnect(&con);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: stats_race DIR SECONDS prepared|query on|off\n");
        return 2;
    }
    use_prepared = strcmp(argv[3], "prepared") == 0;
    bool stats_off = strcmp(argv[4], "off") == 0;
    char path[1024];
    snprintf(path, sizeof(path), "%s/race-%s-%s.duckdb", argv[1], argv[3], argv[4]);
    remove(path);
    duckdb_config config = NULL;
    char *err = NULL;
    duckdb_create_config(&config);
    duckdb_set_config(config, "threads", "1");
    if (stats_off)
        duckdb_set_config(config, "disabled_optimizers", "statistics_propagation");
    if (duckdb_open_ext(path, &db, config, &err) != DuckDBSuccess) {
        fprintf(stderr, "open failed: %s\n", err ? err : "?");
        return 1;
    }
    duckdb_destroy_config(&config);
    duckdb_connection con = NULL;
    duckdb_result res;
    duckdb_connect(db, &con);
    duckdb_query(con, "CREATE TABLE t(client INTEGER, seq INTEGER)", &res);
    duckdb_destroy_result(&res);
    duckdb_disconnect(&con);

    deadline = now() + atof(argv[2]);
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, client, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    duckdb_close(&db);
    remove(path);
    char wal[1100];
    snprintf(wal, sizeof(wal), "%s.wal", path);
    remove(wal);
    long q = atomic_load(&queries), w = atomic_load(&wrong);
    printf("mode=%-8s statistics_propagation=%-3s queries=%ld wrong=%ld errors=%ld", argv[3],
           stats_off ? "off" : "on", q, w, atomic_load(&errors));
    if (w)
        printf(" (1 in %ld)", q / w);
    printf("\n");
    return 0;
}
