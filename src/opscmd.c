/*
 * opscmd: the operator's commands of the line protocol, which read or act on
 * the whole server rather than one session: `stats`, `show sessions`,
 * `terminate`, `reload` (docs/protocol.md, "Operations"). See opscmd.h.
 *
 * They live in session.c's command table, which checks the super user
 * before they run; each reads its figures from the module that keeps them
 * (pool, statement cache, watchdog, memstat, result cache, sqlrun, CDC,
 * the session registry) and counts nothing itself. The super user's
 * `cancel SESSION-ID` stays in session.c, since it shares its row with the
 * keyed cancel of a client that has not logged in.
 */
#include "opscmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdc.h"
#include "json.h"
#include "log.h"
#include "memstat.h"
#include "pool.h"
#include "reply.h"
#include "rescache.h"
#include "sessions.h"
#include "sqlrun.h"
#include "stmtcache.h"
#include "textnum.h"
#include "watchdog.h"

/* `stats`, super user only: the pool's counters and the connected clients,
 * as one JSON line (docs/protocol.md). */
void opscmd_stats(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    (void)w;
    PoolStats st;
    StmtCacheStats sc;
    WatchdogStats ws;
    int workers = 0, workers_peak = 0;
    if (env->workers)
        env->workers(&workers, &workers_peak);
    pool_stats(env->pool, &st);
    stmtcache_stats(&sc);
    watchdog_stats(&ws);
    WatchdogMemoryLimits mem;
    watchdog_memory_limits(&mem);
    MemstatTotal parts;
    int64_t allocated = memstat_total(&parts);
    buf_printf(out,
               "{\"pool\":{\"size\":%d,\"open\":%d,\"pinned\":%d,\"waiting\":%d,\"hits\":%llu,"
               "\"misses\":%llu,\"evictions\":%llu,\"waits\":%llu,\"timeouts\":%llu,"
               "\"rejected\":%llu},\"sessions\":{\"active\":%d,\"tls\":%d},"
               "\"statements\":{\"hits\":%llu,\"misses\":%llu,\"evictions\":%llu,"
               "\"invalidations\":%llu,\"interrupted\":%llu,\"timeouts\":%llu,"
               "\"statement_memory\":%llu,\"server_memory\":%llu},"
               "\"workers\":{\"threads\":%d,\"peak\":%d},"
               "\"memory\":{\"allocated\":%lld,\"duckdb\":%lld,\"process\":%lld,\"limit\":%lld,"
               "\"statement_limit\":%lld},\"result_cache\":",
               st.size, st.open, st.pinned, st.waiting, (unsigned long long)st.hits,
               (unsigned long long)st.misses, (unsigned long long)st.evictions,
               (unsigned long long)st.waits, (unsigned long long)st.timeouts,
               (unsigned long long)st.rejected, env->sessions_active(), env->sessions_tls(),
               (unsigned long long)sc.hits, (unsigned long long)sc.misses,
               (unsigned long long)sc.evictions, (unsigned long long)sc.invalidations,
               (unsigned long long)ws.interrupted, (unsigned long long)ws.timeouts,
               (unsigned long long)ws.statement_memory, (unsigned long long)ws.server_memory,
               workers, workers_peak, (long long)allocated, (long long)parts.duckdb,
               (long long)parts.process, (long long)mem.server_bytes,
               (long long)mem.statement_bytes);
    rescache_stats_json(out);
    SqlrunStats ap;
    sqlrun_stats(&ap);
    buf_printf(out, ",\"autoparam\":{\"shaped\":%llu,\"ran\":%llu,\"fallbacks\":%llu}",
               (unsigned long long)ap.shaped, (unsigned long long)ap.ran,
               (unsigned long long)ap.fallbacks);
    CdcStreamCounts cc;
    cdc_stream_counts(&cc);
    buf_printf(out,
               ",\"cdc\":{\"linked\":%d,\"streams\":%d,\"pool_pins\":%d,\"max_streams\":%d}}\n",
               cc.linked, cc.running, cc.pool_pins, cc.max_streams);
}

/* "2026-12-04T03:13:05Z" for `t`. */
static void utc_text(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void json_text_or_null(Buf *out, const char *text)
{
    if (text[0])
        json_append_string(out, text, strlen(text));
    else
        buf_append_str(out, "null");
}

/*
 * `show sessions`, super user: every logged-in session as one JSON array
 * line (docs/protocol.md, "Operations"), from the registry's snapshot
 * (sessions.h), oldest first.
 */
void opscmd_show_sessions(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    (void)env;
    (void)w;
    size_t n = 0;
    SessionsRow *rows = sessions_snapshot(&n);
    buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        const SessionsRow *r = &rows[i];
        char since[32];
        utc_text(r->connected_at, since);
        const char *state = r->running ? "active" : r->in_tx ? "idle in transaction" : "idle";
        buf_printf(out, "%s{\"session\":%llu,\"user\":", i ? "," : "", (unsigned long long)r->id);
        json_append_string(out, r->user, strlen(r->user));
        buf_append_str(out, ",\"database\":");
        json_text_or_null(out, r->database);
        buf_append_str(out, ",\"client\":");
        json_append_string(out, r->client, strlen(r->client));
        buf_printf(out, ",\"tls\":%s,\"state\":\"%s\",\"statement\":", r->tls ? "true" : "false",
                   state);
        json_text_or_null(out, r->statement);
        if (r->running)
            buf_printf(out, ",\"truncated\":%s,\"running_ms\":%lld",
                       r->truncated ? "true" : "false", (long long)r->running_ms);
        else
            buf_append_str(out, ",\"truncated\":false,\"running_ms\":null");
        buf_printf(out, ",\"in_transaction\":%s,\"connected_since\":\"%s\"}",
                   r->in_tx ? "true" : "false", since);
    }
    buf_append_str(out, "]\n");
    free(rows);
}

/* The contract is in opscmd.h. */
uint64_t opscmd_session_id(const char *text, const char *usage, Buf *out)
{
    uint64_t id = textnum_id(text);
    if (id == 0)
        reply_bad_request(out, "usage: %s (SESSION-ID: a number from show sessions)", usage);
    return id;
}

/*
 * `terminate SESSION-ID`, super user: ends the session; its statement is
 * interrupted, its transaction rolled back and its connection closed with
 * `Error: Terminated` (sessions.h).
 */
void opscmd_terminate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)env;
    uint64_t id = opscmd_session_id(w->word[1], "terminate SESSION-ID", out);
    if (id == 0)
        return;
    if (sessions_terminate(id) == SESSIONS_NOT_FOUND) {
        reply_catalog(out, CATALOG_NOT_FOUND, "Session", w->word[1]);
        return;
    }
    log_info("user %s terminated session %llu", s->user.name, (unsigned long long)id);
    reply_success(out);
}

/* `reload`, super user: re-reads the settings (reload.h), as SIGHUP does. */
void opscmd_reload(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)w;
    if (!env->reload) {
        reply_bad_request(out, "reload is not available in this front end");
        return;
    }
    log_info("reload requested by user %s", s->user.name);
    env->reload(out);
}
