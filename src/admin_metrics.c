/*
 * admin_metrics: the text of the admin port's GET /metrics, in Prometheus's
 * text exposition format 0.0.4. See admin_metrics.h.
 *
 * It reads each figure where `stats` reads it (pool, statement cache,
 * watchdog, workers, memory, result cache, CDC streams, backups) and the
 * request counters of metrics.c; it counts nothing itself. Who may read the
 * page is admin.c's business (route_metrics).
 */
#include "admin_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "catalog.h"
#include "cdc.h"
#include "config.h"
#include "log.h"
#include "memstat.h"
#include "metrics.h"
#include "pool.h"
#include "rescache.h"
#include "stmtcache.h"
#include "watchdog.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* catalog_list's callback: collects the names, NUL-separated (the catalog is locked meanwhile). */
static void name_row(void *ctx, const char *const *cols, int ncols)
{
    if (ncols >= 1 && cols[0])
        buf_append((Buf *)ctx, cols[0], strlen(cols[0]) + 1);
}

static void metric(Buf *out, const char *name, const char *type, const char *help, double v)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

static int64_t rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

/* `text` as a Prometheus label value: backslash, double quote and line end escaped. */
static void label_value(Buf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\\' || *p == '"')
            buf_putc(out, '\\'), buf_putc(out, *p);
        else if (*p == '\n')
            buf_append_str(out, "\\n");
        else
            buf_putc(out, *p);
    }
}

/* The name of database `id` from the NUL-separated `names` (catalog order), or "". */
static const char *db_name_of(const SessionEnv *env, const Buf *names, int64_t id)
{
    for (size_t off = 0; off < names->len; off += strlen(names->data + off) + 1) {
        int64_t found = 0;
        if (catalog_database_find(env->catalog, names->data + off, &found) == CATALOG_OK &&
            found == id)
            return names->data + off;
    }
    return "";
}

/*
 * The result cache (rescache.h): totals, and per database the entries,
 * bytes and counters, labelled with the database's name (and id, since a
 * dropped database's counters stay until the process ends, with no name).
 */
static void result_cache_metrics(const SessionEnv *env, Buf *b)
{
    RescacheStats rs;
    rescache_stats(&rs);
    metric(b, "tcpduckdb_result_cache_enabled", "gauge",
           "1 when the query result cache is on (CacheMemory > 0).", rs.enabled ? 1 : 0);
    metric(b, "tcpduckdb_result_cache_limit_bytes", "gauge", "CacheMemory in bytes.",
           (double)rs.limit);
    Buf names = BUF_INIT;
    if (rs.ndbs &&
        catalog_list(env->catalog, CATALOG_LIST_DATABASES, 0, name_row, &names) != CATALOG_OK)
        log_error("admin: cannot list the databases for /metrics");
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"tcpduckdb_result_cache_entries", "gauge", "Answers in the result cache now."},
        {"tcpduckdb_result_cache_bytes", "gauge",
         "Bytes the result cache holds now (keys, answers and bookkeeping)."},
        {"tcpduckdb_result_cache_hits_total", "counter", "Requests answered from the cache."},
        {"tcpduckdb_result_cache_misses_total", "counter",
         "Cacheable requests not found in the cache."},
        {"tcpduckdb_result_cache_evictions_total", "counter", "Answers dropped for room or age."},
        {"tcpduckdb_result_cache_invalidations_total", "counter",
         "Times a committed change dropped the database's answers."},
    };
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        buf_printf(b, "# HELP %s %s (per database)\n# TYPE %s %s\n", fam[f].name, fam[f].help,
                   fam[f].name, fam[f].type);
        for (size_t i = 0; i < rs.ndbs; i++) {
            const RescacheDbStats *d = &rs.dbs[i];
            double v = f == 0   ? (double)d->entries
                       : f == 1 ? (double)d->bytes
                       : f == 2 ? (double)d->hits
                       : f == 3 ? (double)d->misses
                       : f == 4 ? (double)d->evictions
                                : (double)d->invalidations;
            buf_printf(b, "%s{database=\"", fam[f].name);
            label_value(b, db_name_of(env, &names, d->id));
            buf_printf(b, "\",database_id=\"%lld\"} %.17g\n", (long long)d->id, v);
        }
    }
    buf_free(&names);
    free(rs.dbs);
}

/*
 * The CDC streams (cdc.h), labelled with the database's name: whether each
 * streams, how far it is behind PostgreSQL's WAL, what it applied since the
 * server started and how long ago its last batch was applied (no sample
 * before its first).
 */
static void cdc_metrics(Buf *b)
{
    size_t n = 0;
    CdcStreamInfo *v = cdc_snapshot(&n);
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"tcpduckdb_cdc_streaming", "gauge",
         "1 when the CDC stream of the database is streaming, 0 when stopped, starting or "
         "retrying."},
        {"tcpduckdb_cdc_lag_bytes", "gauge",
         "Bytes of PostgreSQL WAL the CDC stream has not yet applied (the WAL end PostgreSQL "
         "last reported minus the position applied or confirmed)."},
        {"tcpduckdb_cdc_applied_changes_total", "counter",
         "Row changes the CDC stream applied since the server started."},
        {"tcpduckdb_cdc_applied_transactions_total", "counter",
         "PostgreSQL transactions the CDC stream applied since the server started."},
        {"tcpduckdb_cdc_seconds_since_last_apply", "gauge",
         "Seconds since the CDC stream last applied a batch (none before its first)."},
    };
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name,
                   fam[f].type);
        for (size_t i = 0; i < n; i++) {
            const CdcStreamInfo *s = &v[i];
            if (f == 4 && s->since_apply_s < 0)
                continue;
            double x = f == 0   ? (strcmp(s->state, "streaming") == 0 ? 1 : 0)
                       : f == 1 ? (double)s->lag_bytes
                       : f == 2 ? (double)s->changes
                       : f == 3 ? (double)s->txns
                                : s->since_apply_s;
            buf_printf(b, "%s{database=\"", fam[f].name);
            label_value(b, s->name);
            buf_printf(b, "\"} %.17g\n", x);
        }
    }
    free(v);
}

void adminmetrics_write(const SessionEnv *env, int page_sessions, time_t started_wall,
                        int64_t started_ms, Buf *out)
{
    const Config *cfg = env->cfg;
    int page = page_sessions;
    PoolStats ps;
    StmtCacheStats sc;
    WatchdogStats ws;
    MemstatTotal parts;
    pool_stats(env->pool, &ps);
    stmtcache_stats(&sc);
    watchdog_stats(&ws);
    int64_t allocated = memstat_total(&parts);
    int workers = 0, peak = 0;
    if (env->workers)
        env->workers(&workers, &peak);
    int active = env->sessions_active(), tls = env->sessions_tls();
    /* Logged-in line sessions: all logged-in sessions less the page's. */
    int users = metrics_logged_in_count() - page;
    users = users < 0 ? 0 : users > active ? active : users;

    buf_append_str(out, "# HELP tcpduckdb_connections Line-protocol connections now, by state "
                        "(logged in or not yet) and transport.\n"
                        "# TYPE tcpduckdb_connections gauge\n");
    buf_printf(out, "tcpduckdb_connections{state=\"logged_in\"} %d\n", users);
    buf_printf(out, "tcpduckdb_connections{state=\"not_logged_in\"} %d\n", active - users);
    buf_append_str(out, "# HELP tcpduckdb_connections_by_transport Line-protocol connections now, "
                        "by transport (tls: past the TLS handshake).\n"
                        "# TYPE tcpduckdb_connections_by_transport gauge\n");
    buf_printf(out, "tcpduckdb_connections_by_transport{transport=\"tls\"} %d\n", tls);
    buf_printf(out, "tcpduckdb_connections_by_transport{transport=\"plain\"} %d\n", active - tls);
    int pg = env->sessions_pg ? env->sessions_pg() : 0;
    pg = pg < 0 ? 0 : pg > active ? active : pg;
    buf_append_str(out, "# HELP tcpduckdb_connections_by_protocol Client connections now, by "
                        "protocol (line: the line protocol's port; pg: PgPort).\n"
                        "# TYPE tcpduckdb_connections_by_protocol gauge\n");
    buf_printf(out, "tcpduckdb_connections_by_protocol{protocol=\"line\"} %d\n", active - pg);
    buf_printf(out, "tcpduckdb_connections_by_protocol{protocol=\"pg\"} %d\n", pg);
    metric(out, "tcpduckdb_admin_sessions", "gauge", "Sessions of the web admin page now.", page);
    metrics_write(out);
    metric(out, "tcpduckdb_pool_size", "gauge", "Databases that may be open at once (PoolSize).",
           ps.size);
    metric(out, "tcpduckdb_pool_open", "gauge", "Databases open now.", ps.open);
    metric(out, "tcpduckdb_pool_pinned", "gauge", "Open databases with a connected session.",
           ps.pinned);
    metric(out, "tcpduckdb_pool_waiting", "gauge", "Connects waiting for a pool slot now.",
           ps.waiting);
    metric(out, "tcpduckdb_pool_hits_total", "counter", "Connects that found their database open.",
           (double)ps.hits);
    metric(out, "tcpduckdb_pool_misses_total", "counter", "Connects that opened their database.",
           (double)ps.misses);
    metric(out, "tcpduckdb_pool_evictions_total", "counter",
           "Unpinned databases closed to make room.", (double)ps.evictions);
    metric(out, "tcpduckdb_pool_waits_total", "counter",
           "Connects that waited because every slot was pinned.", (double)ps.waits);
    metric(out, "tcpduckdb_pool_timeouts_total", "counter",
           "Connects that waited PoolWaitMs and were refused.", (double)ps.timeouts);
    metric(out, "tcpduckdb_pool_rejected_total", "counter",
           "Connects refused at once without waiting.", (double)ps.rejected);
    metric(out, "tcpduckdb_statement_cache_hits_total", "counter",
           "SQL requests found in the session's prepared statement cache.", (double)sc.hits);
    metric(out, "tcpduckdb_statement_cache_misses_total", "counter",
           "SQL requests not found in the statement cache.", (double)sc.misses);
    metric(out, "tcpduckdb_statement_cache_evictions_total", "counter",
           "Cached statements dropped for room.", (double)sc.evictions);
    metric(out, "tcpduckdb_statement_cache_invalidations_total", "counter",
           "Statement caches emptied because DDL or SET ran on their database.",
           (double)sc.invalidations);
    buf_append_str(out, "# HELP tcpduckdb_statements_interrupted_total Statements the server "
                        "interrupted, by reason (other: client gone, cancel, shutdown).\n"
                        "# TYPE tcpduckdb_statements_interrupted_total counter\n");
    uint64_t other = ws.interrupted - ws.timeouts - ws.statement_memory - ws.server_memory;
    buf_printf(
        out,
        "tcpduckdb_statements_interrupted_total{reason=\"timeout\"} %llu\n"
        "tcpduckdb_statements_interrupted_total{reason=\"statement_memory\"} %llu\n"
        "tcpduckdb_statements_interrupted_total{reason=\"server_memory\"} %llu\n"
        "tcpduckdb_statements_interrupted_total{reason=\"other\"} %llu\n",
        (unsigned long long)ws.timeouts, (unsigned long long)ws.statement_memory,
        (unsigned long long)ws.server_memory,
        (unsigned long long)(ws.interrupted >= ws.timeouts + ws.statement_memory + ws.server_memory
                                 ? other
                                 : 0));
    result_cache_metrics(env, out);
    cdc_metrics(out);
    int64_t backup_bytes = 0;
    size_t backups = backup_count(cfg, &backup_bytes);
    metric(out, "tcpduckdb_backups", "gauge", "Complete backups in BackupDir now.",
           (double)backups);
    metric(out, "tcpduckdb_backups_bytes", "gauge", "Bytes of the complete backups in BackupDir.",
           (double)backup_bytes);
    metric(out, "tcpduckdb_workers_threads", "gauge", "Worker threads running now.", workers);
    metric(out, "tcpduckdb_workers_peak_threads", "gauge", "Most worker threads so far.", peak);
    metric(out, "tcpduckdb_memory_allocated_bytes", "gauge",
           "Bytes allocated now: DuckDB's jemalloc plus the process allocator.", (double)allocated);
    metric(out, "tcpduckdb_memory_duckdb_allocated_bytes", "gauge",
           "Bytes allocated now by DuckDB's bundled jemalloc.", (double)parts.duckdb);
    if (parts.process >= 0)
        metric(out, "tcpduckdb_memory_process_allocated_bytes", "gauge",
               "Bytes allocated now through the process's malloc (jemalloc in release builds).",
               (double)parts.process);
    metric(out, "tcpduckdb_memory_limit_bytes", "gauge", "MemoryLimit in bytes (0: none).",
           (double)cfg->memory_limit_bytes);
    metric(out, "tcpduckdb_process_resident_memory_bytes", "gauge",
           "Resident set size of the server process.", (double)rss_bytes());
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    metric(out, "tcpduckdb_process_cpu_seconds_total", "counter",
           "User and system CPU time of the server process.", cpu);
    metric(out, "tcpduckdb_process_start_time_seconds", "gauge",
           "Start of the server process, Unix time.", (double)started_wall);
    metric(out, "tcpduckdb_uptime_seconds", "gauge", "Seconds since the server started.",
           (double)(now_ms() - started_ms) / 1000.0);
}
