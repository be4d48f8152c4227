/*
 * pool: the DuckDB databases the server has open, at most `size` at once.
 *
 * A database is opened once per process and shared by every session that
 * uses it; each session then makes its own duckdb_connection on the shared
 * duckdb_database. A session pins the database from `connect` until it
 * leaves it, and a pinned database is never closed. When a database must be
 * opened and every slot is taken, the least recently released unpinned one
 * is checkpointed and closed; when every slot is pinned, pool_acquire()
 * queues and waits up to `wait_ms` for a release, then fails with
 * POOL_BUSY. Queued acquires are served first come first served: a released
 * slot is handed to the oldest one, and no later acquire can take it first.
 * At most `max_waiters` acquires wait at once; more fail with POOL_BUSY at
 * once. The caller (the server) sets it below its number of worker threads,
 * because the releases a waiter needs are run by those same workers: if
 * every worker waited here, no pin could be released until they timed out.
 *
 * Every database is opened inside the sandbox (docs/security.md): no access
 * to the host's files from SQL, no extension installs or loads, and the
 * configuration locked, so no session can change these settings.
 *
 * Containment: DuckDB invalidates a database after a fatal error (an
 * internal error while a statement executes, a failed commit): every later
 * statement on that instance, from every connection, fails. Whoever sees a
 * fatal or internal error calls pool_db_check_invalidated(); if the
 * instance is invalidated, its slot is marked broken: no acquire finds it
 * any more, so the next connect opens the file afresh in another slot (WAL
 * replayed: every committed transaction is there), while the sessions
 * still on the broken instance get DuckDB's error until they connect
 * again. The broken instance is closed, without a checkpoint, when its last
 * pin is released. Other databases are not touched.
 *
 * Thread-safety: all functions may be called from any thread. The pool's
 * state is guarded by its mutex; opening and closing DuckDB files happen
 * outside it, with the slot marked OPENING or CLOSING meanwhile.
 */
#ifndef TCPDUCKDB_POOL_H
#define TCPDUCKDB_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "duckdb.h"

typedef struct Pool Pool;
typedef struct PoolDb PoolDb;

typedef struct PoolConfig {
    const char *data_dir;     /* databases live in data_dir/databases/<id>.duckdb */
    int size;                 /* databases open at once */
    int wait_ms;              /* how long acquire waits when every slot is pinned */
    int max_waiters;          /* acquires that may wait at once; 0: none waits */
    int threads;              /* DuckDB threads per database; 0 = DuckDB's default */
    const char *memory_limit; /* DuckDB memory_limit per database; "" = default */
    /*
     * Optional. Called each time a database has been opened, before any
     * acquire of it returns (so before any other connection to it exists),
     * on the opening thread without the pool's lock, with a connection of
     * its own that is closed after the call. Returns what the caller keeps
     * with this opening of the database (pool_db_attachment), or NULL. The
     * server keeps the identities of the database's tables there (access.h):
     * they are valid only while the database stays open.
     */
    void *(*on_open)(duckdb_connection con, int64_t id);
    /* Optional. Frees an attachment, when its database is closed (no pins). */
    void (*on_close)(void *attachment);
    /* Continuous archiving is on (walarchive.h): databases are opened with
     * automatic checkpoints and optimistic writes off. */
    bool archive;
    /* Optional. Called before the checkpoint that closing a database runs
     * (no pins exist), on the closing thread without the pool's lock. */
    void (*before_close)(int64_t id);
} PoolConfig;

typedef enum {
    POOL_OK = 0,
    POOL_BUSY = -1,  /* every slot stayed pinned for wait_ms, or max_waiters were waiting */
    POOL_ERROR = -2, /* DuckDB could not open the file; err says why */
} PoolStatus;

/*
 * A snapshot of the pool. Every successful pool_acquire() counts exactly one
 * hit (the database was open, or being opened by another acquire) or one
 * miss (this acquire opened it). `evictions` counts databases closed to make
 * room. `waits` counts acquires that queued because every slot was pinned;
 * each of them ends served, or counted in `timeouts`. `rejected` counts
 * acquires answered POOL_BUSY at once because max_waiters were queued.
 * Waiting for another thread to finish opening or closing the same database
 * is not a wait: it needs no release, only DuckDB's work, so it has no
 * deadline either.
 */
typedef struct PoolStats {
    int size;    /* slots */
    int open;    /* slots holding an open database (not counting OPENING, CLOSING) */
    int pinned;  /* open databases with at least one pin */
    int waiting; /* acquires queued right now */
    uint64_t hits, misses, evictions, waits, timeouts, rejected;
    uint64_t invalidated; /* instances found invalidated and marked broken */
} PoolStats;

/* Creates the pool and the databases directory. Returns NULL with `err` set. */
Pool *pool_new(const PoolConfig *cfg, char *err, size_t errlen);

/*
 * Pins database `id`, opening it if needed. On POOL_OK *out_db is valid
 * until pool_release(). On POOL_BUSY `err` says the pool is full; on
 * POOL_ERROR it holds DuckDB's message (the file could not be opened).
 * Blocks while DuckDB opens or closes files, and up to `wait_ms` in the
 * queue for a slot.
 */
PoolStatus pool_acquire(Pool *p, int64_t id, PoolDb **out_db, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Unpins `db`; the last pin makes it evictable, or hands its slot to the
 * oldest waiter. Accepts NULL. */
void pool_release(Pool *p, PoolDb *db);
/* The shared DuckDB handle of a pinned database, valid until its release. */
duckdb_database pool_db_handle(PoolDb *db);
/*
 * What PoolConfig.on_open returned when the pinned database `db` was
 * opened (NULL without the hook, or when it returned NULL). Valid while the
 * caller holds its pin; the pool never touches it otherwise, so whatever
 * state it holds is guarded by the caller's own lock. Any thread.
 */
void *pool_db_attachment(PoolDb *db);

/*
 * A DuckDB connection of the caller's own on database `id`: pins the
 * database (pool_acquire) and connects to it. Every DuckDB connection of
 * the server is made here, so every caller gives the same answers.
 * Returns 0 with *out_db pinned and *out_con open, both the caller's until
 * pool_disconnect(). Returns -1 with nothing held and one answer line
 * appended to `out`: `Server Busy` (every slot stayed pinned, or too many
 * connects were waiting) or `Internal Error` (the file could not be opened
 * or connected to; logged). Blocks as pool_acquire() does.
 */
int pool_connect(Pool *p, int64_t id, PoolDb **out_db, duckdb_connection *out_con, Buf *out)
    __attribute__((warn_unused_result));
/*
 * Closes *con (DuckDB rolls back its open transaction), unpins *db and sets
 * both to NULL. Either may already be NULL (a connect that failed halfway).
 */
void pool_disconnect(Pool *p, PoolDb **db, duckdb_connection *con);

/*
 * The schema generation of a pinned database: a counter that changes
 * whenever pool_db_schema_bump() is called. Sessions keep prepared
 * statements (stmtcache.h) only while it stays the same. Any thread.
 */
uint64_t pool_db_schema_gen(const PoolDb *db);
/*
 * Says that something which can change what a statement means ran on the
 * database: DDL, SET, and the like, and the COMMIT or ROLLBACK that makes
 * or undoes such a change. Whoever changes a database's schema must call it
 * once the change is committed (the session does, and so must `link` and
 * `migrate`). Any thread.
 */
void pool_db_schema_bump(PoolDb *db);

/*
 * One `link`, `migrate` or `unlink` at a time per database (pglink.c): true
 * when the caller now holds the claim, false when another command does.
 * The caller must hold a pin and give the claim back with
 * pool_db_unclaim_link() before releasing it. Any thread.
 */
bool pool_db_claim_link(PoolDb *db);
void pool_db_unclaim_link(PoolDb *db);

/*
 * Creates the DuckDB file of a new database `id` (an empty database),
 * replacing a leftover file of an earlier failed attempt. Returns 0 or -1.
 */
int pool_create_file(Pool *p, int64_t id, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Removes the files of database `id`, which must not be open. */
void pool_remove_file(Pool *p, int64_t id);
/*
 * The path of a file of database `id` (`suffix` "" for the DuckDB file,
 * ".wal", ".wal.checkpoint"), or with id < 0 the databases directory
 * itself (`suffix` appended after a slash), for the backup module, which
 * reads a live database's files and stages restored ones beside them.
 */
void pool_file_path(const Pool *p, int64_t id, const char *suffix, char *out, size_t outlen);

/*
 * Retires database `id` for `drop database`: fails with -1 when a session
 * or anything else holds it (pinned, being opened or closed, queued for);
 * otherwise closes it if open and returns 0, after which every acquire of
 * `id` fails with POOL_ERROR. Catalog ids are never reused (AUTOINCREMENT),
 * so a retired id stays retired; pool_unretire() undoes a retire whose
 * catalog delete failed. Any thread; blocks while DuckDB closes the file.
 */
int pool_retire(Pool *p, int64_t id) __attribute__((warn_unused_result));
void pool_unretire(Pool *p, int64_t id);

/*
 * Asks DuckDB whether the pinned database `db` has been invalidated (a
 * statement on a connection of its own fails with "database has been
 * invalidated"); if so, marks it broken (see the file comment; logged once)
 * and returns true. The caller keeps its pin and releases it as usual.
 * Costs a connection and a `SELECT 1`: call it only after DuckDB answered an
 * INTERNAL or FATAL error. Any thread.
 */
bool pool_db_check_invalidated(Pool *p, PoolDb *db);

/* Fills `out` with a consistent snapshot (taken under the pool's lock). */
void pool_stats(Pool *p, PoolStats *out);

/* One database in the pool right now (the admin page's databases list). */
typedef struct PoolDbState {
    bool open;      /* a slot holds it open (and DuckDB has not invalidated it) */
    int pins;       /* sessions and jobs connected to it; 0 when not open */
    bool link_busy; /* a link, migrate or unlink holds its claim (pool_db_claim_link) */
} PoolDbState;
void pool_db_state(Pool *p, int64_t id, PoolDbState *out);

/* Bytes of database `id`'s file and its WAL on disk (0 when absent). Any thread. */
int64_t pool_file_bytes(Pool *p, int64_t id);

/* Checkpoints and closes every database and frees the pool. All pins must
 * have been released and no acquire may be running. Accepts NULL. */
void pool_free(Pool *p);

#endif
