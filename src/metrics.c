/*
 * metrics: request counters and the SQL latency histogram. See metrics.h.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <string.h>

static const char *const kind_names[] = {
    "sql",     "typed",      "transaction", "other", "login",  "session", "cancel",   "create",
    "connect", "disconnect", "update",      "grant", "revoke", "list",    "link",     "migrate",
    "unlink",  "stats",      "help",        "quit",  "exit",   "debug",   "starttls",
};
#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

/* Upper bounds of the latency buckets in seconds; +Inf is the count. */
static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                0.25,   0.5,   1,      2.5,   5,    10,    30};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

static atomic_uint_fast64_t requests[NKINDS];
static atomic_uint_fast64_t errors[NKINDS];
static atomic_uint_fast64_t buckets[NBOUNDS]; /* not cumulative; summed when written */
static atomic_uint_fast64_t sql_count, sql_ns;
static atomic_int logged_in;

int metrics_kind_of_command(const char *name)
{
    for (size_t i = METRICS_OTHER + 1; i < NKINDS; i++)
        if (strcmp(kind_names[i], name) == 0)
            return (int)i;
    return METRICS_OTHER;
}

void metrics_request_done(int kind, bool failed, int64_t ns)
{
    if (kind < 0 || (size_t)kind >= NKINDS)
        kind = METRICS_OTHER;
    atomic_fetch_add_explicit(&requests[kind], 1, memory_order_relaxed);
    if (failed)
        atomic_fetch_add_explicit(&errors[kind], 1, memory_order_relaxed);
    if (kind != METRICS_SQL && kind != METRICS_TYPED)
        return;
    if (ns < 0)
        ns = 0;
    double sec = (double)ns / 1e9;
    for (size_t i = 0; i < NBOUNDS; i++) {
        if (sec <= bounds[i]) {
            atomic_fetch_add_explicit(&buckets[i], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&sql_ns, (uint64_t)ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&sql_count, 1, memory_order_relaxed);
}

void metrics_logged_in(int delta)
{
    atomic_fetch_add_explicit(&logged_in, delta, memory_order_relaxed);
}

int metrics_logged_in_count(void)
{
    return atomic_load_explicit(&logged_in, memory_order_relaxed);
}

static uint64_t load(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

void metrics_write(Buf *out)
{
    buf_append_str(out, "# HELP tcpduckdb_requests_total Requests answered, by kind (SQL, typed "
                        "SQL, transaction commands, or the command's first word).\n"
                        "# TYPE tcpduckdb_requests_total counter\n");
    for (size_t i = 0; i < NKINDS; i++)
        buf_printf(out, "tcpduckdb_requests_total{kind=\"%s\"} %llu\n", kind_names[i],
                   (unsigned long long)load(&requests[i]));
    buf_append_str(out, "# HELP tcpduckdb_request_errors_total Requests answered with an Error "
                        "line, by kind.\n"
                        "# TYPE tcpduckdb_request_errors_total counter\n");
    for (size_t i = 0; i < NKINDS; i++)
        buf_printf(out, "tcpduckdb_request_errors_total{kind=\"%s\"} %llu\n", kind_names[i],
                   (unsigned long long)load(&errors[i]));
    /* The count first, so that no bucket can show more than it. */
    uint64_t count = load(&sql_count);
    uint64_t ns = load(&sql_ns);
    buf_append_str(out, "# HELP tcpduckdb_query_duration_seconds Time to run and answer an SQL "
                        "request (plain or typed), in seconds.\n"
                        "# TYPE tcpduckdb_query_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < NBOUNDS; i++) {
        cum += load(&buckets[i]);
        if (cum > count)
            cum = count;
        buf_printf(out, "tcpduckdb_query_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
                   (unsigned long long)cum);
    }
    buf_printf(out,
               "tcpduckdb_query_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
               "tcpduckdb_query_duration_seconds_sum %.9f\n"
               "tcpduckdb_query_duration_seconds_count %llu\n",
               (unsigned long long)count, (double)ns / 1e9, (unsigned long long)count);
}

void metrics_totals(uint64_t *out_requests, uint64_t *out_errors, uint64_t *out_sql,
                    double *out_sql_seconds)
{
    uint64_t r = 0, e = 0;
    for (size_t i = 0; i < NKINDS; i++) {
        r += load(&requests[i]);
        e += load(&errors[i]);
    }
    *out_requests = r;
    *out_errors = e;
    *out_sql = load(&sql_count);
    *out_sql_seconds = (double)load(&sql_ns) / 1e9;
}
