/*
 * cancel: the cancel keys of logged-in sessions and the cancel request
 * (docs/protocol.md, "Cancel"), after PostgreSQL's BackendKeyData and
 * CancelRequest.
 *
 * A session that logs in registers a CancelKey: an id, unique for the
 * life of the process and never reused (a counter; not secret), and a key
 * of CANCEL_KEY_BYTES random bytes from getrandom() (the secret). The
 * client reads both with `session key`; to stop the statement the session
 * runs, it opens a new connection and sends `cancel ID KEY`, which
 * cancel_request() checks here before asking the watchdog to interrupt the
 * statement (watchdog_cancel(), by session id). The key dies with the
 * session: the session unregisters it before it is freed.
 *
 * Shared state: a hash table of the registered keys by id, under one mutex
 * private to cancel.c. A CancelKey lives in its Session (no allocation);
 * it is linked by cancel_register() and unlinked by cancel_unregister(),
 * both under the mutex, and cancel_request() reads keys only under it, so
 * a cancel never reads a session that is being freed. The watchdog is
 * called after the mutex is released (no lock is held inside another):
 * since ids are never reused, a session that ends in between has no
 * running statement with that id any more, and the cancel does nothing.
 *
 * Any thread may call any function; a CancelKey is registered and
 * unregistered by the thread that owns its session.
 */
#ifndef TCPDUCKDB_CANCEL_H
#define TCPDUCKDB_CANCEL_H

#include <stdbool.h>
#include <stdint.h>

/* 128 random bits: guessing one key is hopeless even without the throttle. */
#define CANCEL_KEY_BYTES 16
/* The key as text: two lowercase hex digits per byte. */
#define CANCEL_KEY_HEX (2 * CANCEL_KEY_BYTES)

typedef struct CancelKey CancelKey;
struct CancelKey {
    uint64_t id; /* 0: not registered */
    unsigned char key[CANCEL_KEY_BYTES];
    CancelKey *next; /* in its bucket, under the registry's mutex */
};

/*
 * Gives `k` a new id and a random key and registers it. Returns 0, or -1
 * when the system has no randomness to give (logged; `k` stays
 * unregistered and its session cannot be cancelled).
 */
int cancel_register(CancelKey *k) __attribute__((warn_unused_result));

/* Unregisters `k`; afterwards no cancel request matches it. No-op when not registered. */
void cancel_unregister(CancelKey *k);

/* The key of a registered `k` as CANCEL_KEY_HEX lowercase hex digits and a NUL. */
void cancel_key_text(const CancelKey *k, char out[CANCEL_KEY_HEX + 1]);

typedef enum {
    CANCEL_MALFORMED, /* the id is not a decimal number, or the key not CANCEL_KEY_HEX hex digits */
    CANCEL_NO_MATCH,  /* no registered session has this id and key */
    CANCEL_MATCHED,   /* they matched; its running statement, if any, is being interrupted */
} CancelResult;

/*
 * A cancel request for session `id_text` with key `key_text` (the words
 * of `cancel ID KEY`). When they match a registered session, interrupts
 * the statement it is running (watchdog_cancel()); when it runs none,
 * nothing happens, and in particular its next statement is not affected.
 * The key is compared in constant time. The result is for the throttle
 * and the caller's checks only: the client's answer must not depend on
 * whether the key matched.
 */
CancelResult cancel_request(const char *id_text, const char *key_text);

/*
 * PostgreSQL's BackendKeyData for `k` (pgwire): the process id is the
 * session id (ids stay below 2^32 in any process life: one per login), the
 * secret the first 4 bytes of the key. The protocol (v3.0) has room for no
 * more; the login throttle counts wrong cancel requests.
 */
void cancel_key_pg(const CancelKey *k, uint32_t *out_pid, uint32_t *out_secret);
/* A PostgreSQL CancelRequest: as cancel_request(), with the key's first 4 bytes. */
CancelResult cancel_request_pg(uint32_t pid, uint32_t secret);

#endif
