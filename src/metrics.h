/*
 * metrics: the request counters that no other module keeps, for the admin
 * port's /metrics (admin.c): requests and failed requests by kind, a
 * histogram of SQL request latency, and the number of logged-in sessions.
 * Everything else /metrics shows (pool, statement cache, watchdog, workers,
 * memory) is read from the module that already counts it, as `stats` does.
 *
 * Counters are relaxed atomics: session.c adds to them from every worker,
 * any thread reads them; a reader may see a request counted and its
 * latency not yet, which Prometheus tolerates.
 */
#ifndef TCPDUCKDB_METRICS_H
#define TCPDUCKDB_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* Request kinds: the SQL forms, then each command's first word. */
typedef enum {
    METRICS_SQL,
    METRICS_TYPED,
    METRICS_TRANSACTION,
    METRICS_OTHER,
    /* the command words follow (metrics.c) */
} MetricsKind;

/* The kind of a command whose first word is `name`; METRICS_OTHER when unknown. */
int metrics_kind_of_command(const char *name);

/* One request done: its kind, whether its answer was an error, its time in ns. */
void metrics_request_done(int kind, bool failed, int64_t ns);

/* A session logged in (+1) or a logged-in session ended (-1). */
void metrics_logged_in(int delta);

/* Sessions logged in now (line protocol and admin page). */
int metrics_logged_in_count(void);

/* Appends the request counters and the latency histogram in Prometheus text format. */
void metrics_write(Buf *out);

/* Requests so far, and SQL requests with their total seconds (the overview's rates). */
void metrics_totals(uint64_t *out_requests, uint64_t *out_errors, uint64_t *out_sql,
                    double *out_sql_seconds);

#endif
