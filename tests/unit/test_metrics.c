/*
 * Unit tests of metrics.c: command words map to their kinds, requests and
 * errors are counted by kind, the latency histogram is cumulative with
 * +Inf equal to the count, and counting from several threads loses nothing.
 */
#include <pthread.h>
#include <stdlib.h>

#include "metrics.h"

#include "unit.h"

/* The value of the sample `key` (name with labels) in `text`, or -1. */
static double sample(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, key, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

static double now_sample(const char *key)
{
    Buf b = BUF_INIT;
    metrics_write(&b);
    buf_putc(&b, '\0');
    double v = sample(b.data, key);
    buf_free(&b);
    return v;
}

static void test_kinds(void)
{
    CHECK(metrics_kind_of_command("login") > METRICS_OTHER);
    CHECK(metrics_kind_of_command("grant") != metrics_kind_of_command("revoke"));
    CHECK(metrics_kind_of_command("no-such-command") == METRICS_OTHER);
    CHECK(metrics_kind_of_command("sql") == METRICS_OTHER); /* only command words */
}

static void test_counts_and_histogram(void)
{
    double sql0 = now_sample("tcpduckdb_requests_total{kind=\"sql\"}");
    double err0 = now_sample("tcpduckdb_request_errors_total{kind=\"sql\"}");
    double grant0 = now_sample("tcpduckdb_requests_total{kind=\"grant\"}");
    double fast0 = now_sample("tcpduckdb_query_duration_seconds_bucket{le=\"0.001\"}");
    double slow0 = now_sample("tcpduckdb_query_duration_seconds_bucket{le=\"0.5\"}");
    double count0 = now_sample("tcpduckdb_query_duration_seconds_count");
    metrics_request_done(METRICS_SQL, false, 200000);      /* 0.2 ms */
    metrics_request_done(METRICS_SQL, true, 300000000);    /* 0.3 s */
    metrics_request_done(METRICS_SQL, false, 90000000000); /* 90 s: only +Inf */
    metrics_request_done(metrics_kind_of_command("grant"), false, 1000);
    CHECK(now_sample("tcpduckdb_requests_total{kind=\"sql\"}") == sql0 + 3);
    CHECK(now_sample("tcpduckdb_request_errors_total{kind=\"sql\"}") == err0 + 1);
    CHECK(now_sample("tcpduckdb_requests_total{kind=\"grant\"}") == grant0 + 1);
    /* Commands are not in the latency histogram. */
    CHECK(now_sample("tcpduckdb_query_duration_seconds_count") == count0 + 3);
    CHECK(now_sample("tcpduckdb_query_duration_seconds_bucket{le=\"0.001\"}") == fast0 + 1);
    CHECK(now_sample("tcpduckdb_query_duration_seconds_bucket{le=\"0.5\"}") == slow0 + 2);
    CHECK(now_sample("tcpduckdb_query_duration_seconds_bucket{le=\"+Inf\"}") == count0 + 3);
    CHECK(now_sample("tcpduckdb_query_duration_seconds_bucket{le=\"30\"}") == count0 + 2);
}

#define THREADS 4
#define PER_THREAD 10000

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++)
        metrics_request_done(METRICS_TYPED, i % 10 == 0, 1000 * i);
    return NULL;
}

static void test_threads(void)
{
    double typed0 = now_sample("tcpduckdb_requests_total{kind=\"typed\"}");
    double err0 = now_sample("tcpduckdb_request_errors_total{kind=\"typed\"}");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(now_sample("tcpduckdb_requests_total{kind=\"typed\"}") == typed0 + THREADS * PER_THREAD);
    CHECK(now_sample("tcpduckdb_request_errors_total{kind=\"typed\"}") ==
          err0 + THREADS * PER_THREAD / 10);
    uint64_t requests, errors, sql;
    double seconds;
    metrics_totals(&requests, &errors, &sql, &seconds);
    CHECK(sql >= THREADS * PER_THREAD && seconds > 0);
}

int main(void)
{
    UNIT_RUN(test_kinds);
    UNIT_RUN(test_counts_and_histogram);
    UNIT_RUN(test_threads);
    return unit_summary("metrics");
}
