/*
 * admin_metrics: what the admin port's GET /metrics answers (admin.c
 * decides who may ask). Prometheus's text format 0.0.4; every family has
 * its HELP and TYPE lines; names are tcpduckdb_*, documented in
 * docs/admin.md.
 */
#ifndef TCPDUCKDB_ADMIN_METRICS_H
#define TCPDUCKDB_ADMIN_METRICS_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "session.h"

/*
 * Appends the whole page to `out`. `page_sessions` is the number of web
 * admin sessions now (they are logged in too, and are subtracted from the
 * line protocol's count); `started_wall` (Unix time) and `started_ms`
 * (CLOCK_MONOTONIC, ms) are when the server started. Any thread.
 */
void adminmetrics_write(const SessionEnv *env, int page_sessions, time_t started_wall,
                        int64_t started_ms, Buf *out);

#endif
