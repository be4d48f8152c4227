/*
 * test_watchdog: the watchdog interrupts a statement at its deadline and
 * when its client's socket ends, leaves alone a client that half-closed
 * after sending more, never touches a connection once unwatched, and
 * interrupts a statement whose thread allocated more than its limit. Runs
 * under TSan too (TSAN_UNIT): the registry is shared with the thread.
 */
#include <sys/socket.h>
#include <unistd.h>

#include "duckdb.h"
#include "unit.h"
#include "watchdog.h"

static duckdb_database db;
static duckdb_connection con;

/* Runs `sql` under the watchdog; returns DuckDB's error type (0: success) and the reason. */
static duckdb_error_type run_watched(const char *sql, int fd, int timeout_sec,
                                     WatchdogReason *out_reason)
{
    WatchdogEntry e;
    duckdb_result res;
    watchdog_watch(&e, con, fd, (int64_t)timeout_sec * 1000, 0);
    duckdb_error_type type = DUCKDB_ERROR_INVALID;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess)
        type = duckdb_result_error_type(&res);
    duckdb_destroy_result(&res);
    *out_reason = watchdog_unwatch(&e);
    return type;
}

static void test_deadline(void)
{
    WatchdogReason why;
    CHECK(run_watched("SELECT sleep_ms(600000)", -1, 1, &why) == DUCKDB_ERROR_INTERRUPT);
    CHECK(why == WATCHDOG_TIMEOUT);
    CHECK(run_watched("SELECT 1", -1, 1, &why) == DUCKDB_ERROR_INVALID);
    CHECK(why == WATCHDOG_NONE);
    CHECK(run_watched("SELECT sleep_ms(300)", -1, 0, &why) == DUCKDB_ERROR_INVALID);
    CHECK(why == WATCHDOG_NONE);
}

static void test_client_gone(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    close(sv[1]);
    WatchdogReason why;
    CHECK(run_watched("SELECT sleep_ms(600000)", sv[0], 0, &why) == DUCKDB_ERROR_INTERRUPT);
    CHECK(why == WATCHDOG_CLIENT_GONE);
    close(sv[0]);
}

static void test_half_closed_with_unread_requests(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(write(sv[1], "SELECT 2\n", 9) == 9);
    CHECK(shutdown(sv[1], SHUT_WR) == 0);
    WatchdogReason why;
    CHECK(run_watched("SELECT sleep_ms(400)", sv[0], 0, &why) == DUCKDB_ERROR_INVALID);
    CHECK(why == WATCHDOG_NONE);
    char buf[16];
    CHECK(read(sv[0], buf, sizeof(buf)) == 9); /* the bytes were only peeked at */
    close(sv[0]);
    close(sv[1]);
}

static void test_counters(void)
{
    WatchdogStats st;
    watchdog_stats(&st);
    CHECK(st.interrupted == 2);
    CHECK(st.timeouts == 1);
}

/* The database runs statements on the calling thread (threads=1), as the server's do. */
static void test_statement_memory(void)
{
    WatchdogReason why;
    CHECK(run_watched("SELECT length(string_agg(repeat('x', 1000), ',')) FROM range(1000000)", -1,
                      0, &why) == DUCKDB_ERROR_INTERRUPT);
    CHECK(why == WATCHDOG_STATEMENT_MEMORY);
    CHECK(run_watched("SELECT length(string_agg(repeat('x', 1000), ',')) FROM range(1000)", -1, 0,
                      &why) == DUCKDB_ERROR_INVALID);
    CHECK(why == WATCHDOG_NONE);
    WatchdogStats st;
    watchdog_stats(&st);
    CHECK(st.statement_memory == 1);
}

int main(void)
{
    duckdb_config cfg = NULL;
    if (duckdb_create_config(&cfg) != DuckDBSuccess ||
        duckdb_set_config(cfg, "threads", "1") != DuckDBSuccess ||
        duckdb_open_ext(NULL, &db, cfg, NULL) != DuckDBSuccess ||
        duckdb_connect(db, &con) != DuckDBSuccess)
        return 1;
    duckdb_destroy_config(&cfg);
    WatchdogMemoryLimits limits = {.statement_bytes = 64 << 20};
    watchdog_set_memory_limits(&limits);
    if (watchdog_start() != 0)
        return 1;
    UNIT_RUN(test_deadline);
    UNIT_RUN(test_client_gone);
    UNIT_RUN(test_half_closed_with_unread_requests);
    UNIT_RUN(test_counters);
    UNIT_RUN(test_statement_memory);
    watchdog_stop();
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return unit_summary("watchdog");
}
