/*
 * sessions: the registry of logged-in sessions. See sessions.h for the
 * contract and the locks.
 *
 * The list is short (the logged-in clients) and only walked by a snapshot,
 * a cancel or a terminate, which an operator sends: a plain doubly linked
 * list suffices, and registering or unregistering is O(1).
 */
#include "sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "watchdog.h"
#include "xalloc.h"

/* The registry: every registered entry. */
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static SessionsEntry *list_head;
static size_t list_count;

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sessions_entry_init(SessionsEntry *e)
{
    memset(e, 0, sizeof(*e));
    pthread_mutex_init(&e->lock, NULL);
}

void sessions_entry_destroy(SessionsEntry *e)
{
    if (!e)
        return;
    pthread_mutex_destroy(&e->lock);
}

void sessions_register(SessionsEntry *e, uint64_t id, const char *user, const char *client,
                       bool tls, time_t connected_at, SessionsTerminateFn terminate, void *ctx)
{
    e->id = id;
    snprintf(e->user, sizeof(e->user), "%s", user);
    snprintf(e->client, sizeof(e->client), "%s", client);
    e->tls = tls;
    e->connected_at = connected_at;
    e->terminate = terminate;
    e->ctx = ctx;
    pthread_mutex_lock(&list_lock);
    e->prev = NULL;
    e->next = list_head;
    if (list_head)
        list_head->prev = e;
    list_head = e;
    list_count++;
    pthread_mutex_unlock(&list_lock);
}

void sessions_unregister(SessionsEntry *e)
{
    if (!e || e->id == 0)
        return;
    pthread_mutex_lock(&list_lock);
    if (e->prev)
        e->prev->next = e->next;
    else
        list_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    list_count--;
    pthread_mutex_unlock(&list_lock);
    e->prev = e->next = NULL;
    e->id = 0;
}

void sessions_set_database(SessionsEntry *e, const char *database)
{
    pthread_mutex_lock(&e->lock);
    snprintf(e->database, sizeof(e->database), "%s", database);
    if (!database[0])
        e->in_tx = false;
    pthread_mutex_unlock(&e->lock);
}

void sessions_statement_begin(SessionsEntry *e, const char *text, size_t len)
{
    size_t keep = len > SESSIONS_STATEMENT_MAX ? SESSIONS_STATEMENT_MAX : len;
    pthread_mutex_lock(&e->lock);
    memcpy(e->statement, text, keep);
    e->statement[keep] = '\0';
    e->truncated = keep < len;
    e->started_ms = monotonic_ms();
    e->running = true;
    pthread_mutex_unlock(&e->lock);
}

void sessions_statement_end(SessionsEntry *e, bool in_tx)
{
    pthread_mutex_lock(&e->lock);
    e->running = false;
    e->statement[0] = '\0';
    e->truncated = false;
    e->in_tx = in_tx;
    pthread_mutex_unlock(&e->lock);
}

void sessions_set_tx(SessionsEntry *e, bool in_tx)
{
    pthread_mutex_lock(&e->lock);
    e->in_tx = in_tx;
    pthread_mutex_unlock(&e->lock);
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const SessionsRow *)a)->id, y = ((const SessionsRow *)b)->id;
    return x < y ? -1 : x > y;
}

SessionsRow *sessions_snapshot(size_t *out_n)
{
    *out_n = 0;
    int64_t now = monotonic_ms();
    pthread_mutex_lock(&list_lock);
    size_t n = list_count;
    SessionsRow *rows = n ? xcalloc(n, sizeof(*rows)) : NULL;
    size_t i = 0;
    for (SessionsEntry *e = list_head; e && i < n; e = e->next, i++) {
        SessionsRow *r = &rows[i];
        r->id = e->id;
        memcpy(r->user, e->user, sizeof(r->user));
        memcpy(r->client, e->client, sizeof(r->client));
        r->tls = e->tls;
        r->connected_at = e->connected_at;
        pthread_mutex_lock(&e->lock);
        memcpy(r->database, e->database, sizeof(r->database));
        r->in_tx = e->in_tx;
        r->running = e->running;
        if (e->running) {
            r->running_ms = now - e->started_ms;
            memcpy(r->statement, e->statement, sizeof(r->statement));
            r->truncated = e->truncated;
        }
        pthread_mutex_unlock(&e->lock);
    }
    pthread_mutex_unlock(&list_lock);
    if (i > 1)
        qsort(rows, i, sizeof(*rows), by_id);
    *out_n = i;
    return rows;
}

/* The registered entry with `id`, or NULL. Caller holds list_lock. */
static SessionsEntry *find(uint64_t id)
{
    for (SessionsEntry *e = list_head; e; e = e->next)
        if (e->id == id)
            return e;
    return NULL;
}

bool sessions_cancel(uint64_t id)
{
    pthread_mutex_lock(&list_lock);
    bool found = id != 0 && find(id) != NULL;
    pthread_mutex_unlock(&list_lock);
    /* Unlocked, as cancel.c does: ids are never reused, so a session that
     * ended meanwhile runs nothing under this id any more. */
    if (found)
        watchdog_cancel(id);
    return found;
}

SessionsTerminateResult sessions_terminate(uint64_t id)
{
    pthread_mutex_lock(&list_lock);
    SessionsEntry *e = id != 0 ? find(id) : NULL;
    /* Under the lock: the entry's session and its connection exist until it is unregistered. */
    if (e && e->terminate)
        e->terminate(e->ctx);
    pthread_mutex_unlock(&list_lock);
    if (!e)
        return SESSIONS_NOT_FOUND;
    watchdog_cancel(id);
    return SESSIONS_TERMINATED;
}
