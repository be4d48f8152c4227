/*
 * test_cancel: the registry of cancel keys (ids never reused, random keys,
 * strict parsing, no match once unregistered) and the path from a cancel
 * request to the watchdog: a matching request interrupts the statement the
 * session runs, from another thread, with WATCHDOG_CANCELED; one that
 * finds the session idle leaves its next statement alone. Runs under TSan
 * too (TSAN_UNIT): the registry and the watchdog are shared between
 * threads.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "cancel.h"
#include "duckdb.h"
#include "unit.h"
#include "watchdog.h"

static duckdb_database db;
static duckdb_connection con;

static void test_register_gives_new_ids_and_random_keys(void)
{
    CancelKey a, b;
    CHECK(cancel_register(&a) == 0);
    CHECK(cancel_register(&b) == 0);
    CHECK(a.id != 0 && b.id > a.id);
    CHECK(memcmp(a.key, b.key, CANCEL_KEY_BYTES) != 0);
    char text[CANCEL_KEY_HEX + 1];
    cancel_key_text(&a, text);
    CHECK(strlen(text) == CANCEL_KEY_HEX);
    CHECK(strspn(text, "0123456789abcdef") == CANCEL_KEY_HEX);
    uint64_t old = a.id;
    cancel_unregister(&a);
    CHECK(a.id == 0);
    cancel_unregister(&a); /* twice is harmless */
    CHECK(cancel_register(&a) == 0);
    CHECK(a.id > b.id && a.id != old);
    cancel_unregister(&a);
    cancel_unregister(&b);
}

static void test_match_and_malformed(void)
{
    CancelKey k;
    CHECK(cancel_register(&k) == 0);
    char id[32], key[CANCEL_KEY_HEX + 1], upper[CANCEL_KEY_HEX + 1], wrong[CANCEL_KEY_HEX + 1];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)k.id);
    cancel_key_text(&k, key);
    for (int i = 0; i <= CANCEL_KEY_HEX; i++)
        upper[i] = (char)(key[i] >= 'a' ? key[i] - 32 : key[i]);
    memcpy(wrong, key, sizeof(wrong));
    wrong[CANCEL_KEY_HEX - 1] = key[CANCEL_KEY_HEX - 1] == '0' ? '1' : '0';
    CHECK(cancel_request(id, key) == CANCEL_MATCHED);
    CHECK(cancel_request(id, upper) == CANCEL_MATCHED);
    CHECK(cancel_request(id, wrong) == CANCEL_NO_MATCH);
    CHECK(cancel_request("999999999999", key) == CANCEL_NO_MATCH);
    const char *bad_ids[] = {"", "0", "-1", "+1", "1x", " 1", "18446744073709551616", "0x10"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
        CHECK(cancel_request(bad_ids[i], key) == CANCEL_MALFORMED);
    CHECK(cancel_request(id, "") == CANCEL_MALFORMED);
    CHECK(cancel_request(id, "00") == CANCEL_MALFORMED);
    char longer[CANCEL_KEY_HEX + 2];
    snprintf(longer, sizeof(longer), "%s0", key);
    CHECK(cancel_request(id, longer) == CANCEL_MALFORMED);
    wrong[0] = 'g';
    CHECK(cancel_request(id, wrong) == CANCEL_MALFORMED);
    cancel_unregister(&k);
    CHECK(cancel_request(id, key) == CANCEL_NO_MATCH);
}

typedef struct {
    uint64_t session_id;
    const char *sql;
    duckdb_error_type type; /* 0: success */
    WatchdogReason why;
} Run;

/* Runs r->sql under the watchdog for session r->session_id, with a 30 s deadline. */
static void *run_watched(void *arg)
{
    Run *r = arg;
    WatchdogEntry e;
    duckdb_result res;
    watchdog_watch(&e, con, -1, 30000, r->session_id);
    r->type = DUCKDB_ERROR_INVALID;
    if (duckdb_query(con, r->sql, &res) != DuckDBSuccess)
        r->type = duckdb_result_error_type(&res);
    duckdb_destroy_result(&res);
    r->why = watchdog_unwatch(&e);
    return NULL;
}

static void test_cancel_interrupts_the_running_statement(void)
{
    CancelKey k;
    CHECK(cancel_register(&k) == 0);
    Run r = {.session_id = k.id, .sql = "SELECT sleep_ms(600000)"};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run_watched, &r) == 0);
    /* Waiting for the statement to be registered: until then there is nothing to cancel. */
    int waited = 0;
    while (!watchdog_cancel(k.id) && waited++ < 2000)
        usleep(10000);
    pthread_join(t, NULL);
    CHECK(r.type == DUCKDB_ERROR_INTERRUPT);
    CHECK(r.why == WATCHDOG_CANCELED);
    /* Another session's id interrupts nothing. */
    CHECK(!watchdog_cancel(k.id + 1000));
    cancel_unregister(&k);
}

static void test_cancel_request_reaches_the_watchdog(void)
{
    CancelKey k;
    CHECK(cancel_register(&k) == 0);
    char id[32], key[CANCEL_KEY_HEX + 1];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)k.id);
    cancel_key_text(&k, key);
    Run r = {.session_id = k.id, .sql = "SELECT sleep_ms(600000)"};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run_watched, &r) == 0);
    usleep(300000);
    CHECK(cancel_request(id, key) == CANCEL_MATCHED);
    pthread_join(t, NULL);
    CHECK(r.type == DUCKDB_ERROR_INTERRUPT);
    CHECK(r.why == WATCHDOG_CANCELED);
    cancel_unregister(&k);
}

static void test_cancel_when_idle_leaves_the_next_statement(void)
{
    CancelKey k;
    CHECK(cancel_register(&k) == 0);
    char id[32], key[CANCEL_KEY_HEX + 1];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)k.id);
    cancel_key_text(&k, key);
    CHECK(cancel_request(id, key) == CANCEL_MATCHED);
    CHECK(!watchdog_cancel(k.id));
    usleep(3 * WATCHDOG_TICK_MS * 1000);
    Run r = {.session_id = k.id, .sql = "SELECT sleep_ms(300)"};
    run_watched(&r);
    CHECK(r.type == DUCKDB_ERROR_INVALID); /* i.e. it succeeded */
    CHECK(r.why == WATCHDOG_NONE);
    cancel_unregister(&k);
}

int main(void)
{
    if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
        return 1;
    if (watchdog_start() != 0)
        return 1;
    UNIT_RUN(test_register_gives_new_ids_and_random_keys);
    UNIT_RUN(test_match_and_malformed);
    UNIT_RUN(test_cancel_interrupts_the_running_statement);
    UNIT_RUN(test_cancel_request_reaches_the_watchdog);
    UNIT_RUN(test_cancel_when_idle_leaves_the_next_statement);
    watchdog_stop();
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return unit_summary("cancel");
}
