/*
 * Unit tests of sessions.c: registering and unregistering, what a snapshot
 * copies (statement text cut at SESSIONS_STATEMENT_MAX, states, order),
 * cancel and terminate by id, id parsing; and threads that register,
 * update and unregister sessions while another takes snapshots and
 * terminates, which `make unit` runs under ThreadSanitizer too.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sessions.h"
#include "textnum.h"
#include "unit.h"

static atomic_int terminated;

static void count_terminate(void *ctx)
{
    atomic_fetch_add((atomic_int *)ctx, 1);
}

static void test_register_snapshot_unregister(void)
{
    SessionsEntry a, b;
    sessions_entry_init(&a);
    sessions_entry_init(&b);
    size_t n = 99;
    SessionsRow *rows = sessions_snapshot(&n);
    CHECK(n == 0 && rows == NULL);
    sessions_register(&b, 12, "bob", "127.0.0.1:5000", true, 1000, count_terminate, &terminated);
    sessions_register(&a, 7, "alice", "[::1]:6000", false, 2000, NULL, NULL);
    sessions_set_database(&b, "shop");
    sessions_set_tx(&b, true);
    char long_sql[600];
    memset(long_sql, 'x', sizeof(long_sql));
    sessions_statement_begin(&a, long_sql, sizeof(long_sql));
    rows = sessions_snapshot(&n);
    CHECK(n == 2);
    if (n == 2) {
        /* Oldest id first, whatever the order of registration. */
        CHECK(rows[0].id == 7 && rows[1].id == 12);
        CHECK_STR(rows[0].user, "alice");
        CHECK_STR(rows[0].client, "[::1]:6000");
        CHECK(rows[0].running && rows[0].truncated && rows[0].running_ms >= 0);
        CHECK(strlen(rows[0].statement) == SESSIONS_STATEMENT_MAX);
        CHECK_STR(rows[0].database, "");
        CHECK_STR(rows[1].database, "shop");
        CHECK(rows[1].tls && rows[1].in_tx && !rows[1].running);
        CHECK(rows[1].statement[0] == '\0' && rows[1].connected_at == 1000);
    }
    free(rows);
    sessions_statement_end(&a, false);
    sessions_set_database(&b, ""); /* leaving the database ends its transaction */
    rows = sessions_snapshot(&n);
    CHECK(n == 2 && !rows[0].running && rows[0].statement[0] == '\0' && !rows[1].in_tx);
    free(rows);

    CHECK(sessions_cancel(7));
    CHECK(!sessions_cancel(8));
    CHECK(!sessions_cancel(0));
    atomic_store(&terminated, 0);
    CHECK(sessions_terminate(12) == SESSIONS_TERMINATED);
    CHECK(atomic_load(&terminated) == 1);
    CHECK(sessions_terminate(99) == SESSIONS_NOT_FOUND);
    CHECK(atomic_load(&terminated) == 1);

    sessions_unregister(&a);
    sessions_unregister(&a); /* a second time is a no-op */
    CHECK(sessions_terminate(7) == SESSIONS_NOT_FOUND);
    rows = sessions_snapshot(&n);
    CHECK(n == 1 && rows[0].id == 12);
    free(rows);
    sessions_unregister(&b);
    rows = sessions_snapshot(&n);
    CHECK(n == 0);
    free(rows);
    sessions_entry_destroy(&a);
    sessions_entry_destroy(&b);
    sessions_entry_destroy(NULL);
}

static void test_parse_id(void)
{
    CHECK(textnum_id("1") == 1);
    CHECK(textnum_id("18446744073709551615") == UINT64_MAX);
    CHECK(textnum_id("18446744073709551616") == 0);
    CHECK(textnum_id("0") == 0);
    CHECK(textnum_id("") == 0);
    CHECK(textnum_id("-1") == 0);
    CHECK(textnum_id("12a") == 0);
    CHECK(textnum_id(" 1") == 0);
}

#define THREADS 4
#define ROUNDS 2000

static atomic_bool stop;
static atomic_uint_fast64_t next_id = 1000;

/* A session's life, over and over: heap-allocated and freed, as a Session is. */
static void *churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        SessionsEntry *e = malloc(sizeof(*e));
        sessions_entry_init(e);
        sessions_register(e, atomic_fetch_add(&next_id, 1), "u", "127.0.0.1:1", false, 0,
                          count_terminate, &terminated);
        sessions_set_database(e, "db");
        sessions_statement_begin(e, "SELECT 1", 8);
        sessions_statement_end(e, i % 2 == 0);
        sessions_set_tx(e, false);
        sessions_unregister(e);
        sessions_entry_destroy(e);
        memset(e, 0xa5, sizeof(*e)); /* a snapshot reading it now would see garbage */
        free(e);
    }
    return NULL;
}

static void *watch(void *arg)
{
    (void)arg;
    size_t seen = 0;
    while (!atomic_load(&stop)) {
        size_t n = 0;
        SessionsRow *rows = sessions_snapshot(&n);
        for (size_t i = 0; i < n; i++) {
            CHECK(rows[i].id >= 1000);
            CHECK(strcmp(rows[i].user, "u") == 0);
            CHECK(rows[i].database[0] == '\0' || strcmp(rows[i].database, "db") == 0);
            if (i > 0)
                CHECK(rows[i - 1].id < rows[i].id);
            (void)sessions_terminate(rows[i].id);
        }
        seen += n;
        free(rows);
    }
    return (void *)seen;
}

static void test_threads(void)
{
    pthread_t workers[THREADS], watcher;
    atomic_store(&stop, false);
    pthread_create(&watcher, NULL, watch, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&workers[i], NULL, churn, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(workers[i], NULL);
    atomic_store(&stop, true);
    pthread_join(watcher, NULL);
    size_t n = 0;
    SessionsRow *rows = sessions_snapshot(&n);
    CHECK(n == 0); /* every session unregistered itself */
    free(rows);
}

int main(void)
{
    UNIT_RUN(test_register_snapshot_unregister);
    UNIT_RUN(test_parse_id);
    UNIT_RUN(test_threads);
    return unit_summary("test_sessions");
}
