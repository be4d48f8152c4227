/*
 * sessions: the registry of logged-in sessions, for the operator's view of
 * what runs (`show sessions`, `cancel SESSION-ID`, `terminate SESSION-ID`;
 * docs/operations.md, "Sessions") and for any other front end that shows
 * the same (the web admin page calls the same three functions).
 *
 * A session registers a SessionsEntry, which lives inside it (no
 * allocation), when it logs in, under the id of its cancel key (cancel.h),
 * so that the id `show sessions` lists is the one `session key` gives and
 * a key-based cancel uses. The session unregisters it before it is freed.
 * While registered, the session's own thread updates the entry (database,
 * running statement, open transaction), and any thread may take a
 * snapshot of every entry or cancel or terminate one by id.
 *
 * Locks and lifetime. The list of entries is guarded by one mutex private
 * to sessions.c; every entry has a mutex of its own that guards its
 * changing fields. A snapshot holds the list's mutex while it copies each
 * entry under the entry's mutex (order: list, then entry; nothing takes
 * them the other way round), and sessions_unregister() unlinks under the
 * list's mutex: so once it has returned, no snapshot, cancel or terminate
 * can reach the entry, and the session may be freed. The owner's updates
 * take only the entry's mutex, uncontended except during a snapshot, so
 * the registry costs a request two uncontended lock round trips and no
 * shared cache line beyond the entry's.
 *
 * Terminating: the registry calls the front end's `terminate` hook for the
 * entry with the list's mutex held, so the session (and the connection the
 * hook's `ctx` names) cannot be freed during the call; the hook must not
 * call back into this module and must not wait for the session's thread.
 */
#ifndef TCPDUCKDB_SESSIONS_H
#define TCPDUCKDB_SESSIONS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "catalog.h"

/* The running statement's text is kept up to this many bytes (then marked truncated). */
#define SESSIONS_STATEMENT_MAX 256
/* A client address as text: "[ipv6]:port" at most. */
#define SESSIONS_CLIENT_MAX 64

/* Asks the front end that owns a session to end it (see the top of this file). */
typedef void (*SessionsTerminateFn)(void *ctx);

typedef struct SessionsEntry SessionsEntry;
struct SessionsEntry {
    /* Set at registration, then constant until unregistered. */
    uint64_t id; /* the cancel id; 0: not registered */
    char user[CATALOG_NAME_MAX + 1];
    char client[SESSIONS_CLIENT_MAX];
    bool tls;
    time_t connected_at; /* wall clock */
    SessionsTerminateFn terminate;
    void *ctx;
    /* Changed by the session's thread under `lock`. */
    pthread_mutex_t lock;
    char database[CATALOG_NAME_MAX + 1]; /* "" when not connected */
    bool in_tx;
    bool running;                               /* a statement runs */
    int64_t started_ms;                         /* CLOCK_MONOTONIC, when it started */
    char statement[SESSIONS_STATEMENT_MAX + 1]; /* its text, cut at SESSIONS_STATEMENT_MAX */
    bool truncated;                             /* the text was longer */
    SessionsEntry *prev, *next;                 /* the list, under the registry's mutex */
};

/* One row of a snapshot: what `show sessions` answers for one session. */
typedef struct SessionsRow {
    uint64_t id;
    char user[CATALOG_NAME_MAX + 1];
    char database[CATALOG_NAME_MAX + 1]; /* "" when not connected */
    char client[SESSIONS_CLIENT_MAX];
    bool tls;
    bool in_tx;
    bool running;       /* state "active"; otherwise "idle" or "idle in transaction" */
    int64_t running_ms; /* how long the statement has run; 0 when none runs */
    char statement[SESSIONS_STATEMENT_MAX + 1];
    bool truncated;
    time_t connected_at;
} SessionsRow;

/* Prepares an entry (not registered). Call once, before any other use. */
void sessions_entry_init(SessionsEntry *e);
/* Releases an entry's lock; it must not be registered. Accepts NULL. */
void sessions_entry_destroy(SessionsEntry *e);

/*
 * Registers `e` under `id` (the session's cancel id, not 0) for user
 * `user` connected from `client`, over TLS or not, since `connected_at`.
 * `terminate(ctx)` ends the session when asked (NULL: a terminate only
 * interrupts its statement). The session's thread.
 */
void sessions_register(SessionsEntry *e, uint64_t id, const char *user, const char *client,
                       bool tls, time_t connected_at, SessionsTerminateFn terminate, void *ctx);

/* Unregisters `e` (no-op when it is not registered); afterwards nothing reaches it. */
void sessions_unregister(SessionsEntry *e);

/* The session connected to `database` ("" when it left it). The session's thread. */
void sessions_set_database(SessionsEntry *e, const char *database);
/* A statement starts: `text` (its first `len` bytes are kept, see SESSIONS_STATEMENT_MAX). */
void sessions_statement_begin(SessionsEntry *e, const char *text, size_t len);
/* The statement ended; `in_tx`: a transaction is open now. */
void sessions_statement_end(SessionsEntry *e, bool in_tx);
/* The session's transaction opened or ended outside a statement (begin, commit, rollback). */
void sessions_set_tx(SessionsEntry *e, bool in_tx);

/*
 * Copies every registered session into a new array, oldest id first, and
 * returns it (the caller frees with free(); NULL when there is none) with
 * its length in *out_n. Any thread.
 */
SessionsRow *sessions_snapshot(size_t *out_n);

/*
 * Interrupts the statement session `id` runs, as a verified cancel request
 * would (watchdog_cancel()); nothing happens when it runs none. Returns
 * false when no session has that id. Any thread.
 */
bool sessions_cancel(uint64_t id);

typedef enum {
    SESSIONS_TERMINATED, /* the session is being ended */
    SESSIONS_NOT_FOUND,  /* no session has that id */
} SessionsTerminateResult;

/*
 * Ends session `id`: its running statement is interrupted, and its front
 * end closes the connection (rolling back an open transaction) as soon as
 * the statement returns, or at once when it is idle. Any thread, including
 * the session's own (which then ends after its current answer).
 */
SessionsTerminateResult sessions_terminate(uint64_t id);

#endif
