/*
 * pool: the DuckDB databases the server has open, at most `size` at once.
 *
 * A database is opened once per process and shared by every session that
 * uses it; each session then makes its own duckdb_connection on the shared
 * duckdb_database. A session pins the database from `connect` until it
 * leaves it, and a pinned database is never closed. When a database must be
 * opened and every slot is taken, the least recently released unpinned one
 * is checkpointed and closed; when every slot is pinned, pool_acquire()
 * waits up to `wait_ms` for a release, then fails with POOL_BUSY.
 *
 * Every database is opened inside the sandbox (docs/security.md): no access
 * to the host's files from SQL, no extension installs or loads, and the
 * configuration locked, so no session can change these settings.
 *
 * Thread-safety: all functions may be called from any thread. The pool's
 * state is guarded by its mutex; opening and closing DuckDB files happen
 * outside it, with the slot marked OPENING or CLOSING meanwhile.
 */
#ifndef TCPDUCKDB_POOL_H
#define TCPDUCKDB_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "duckdb.h"

typedef struct Pool Pool;
typedef struct PoolDb PoolDb;

typedef struct PoolConfig {
    const char *data_dir;     /* databases live in data_dir/databases/<id>.duckdb */
    int size;                 /* databases open at once */
    int wait_ms;              /* how long acquire waits when every slot is pinned */
    int threads;              /* DuckDB threads per database; 0 = DuckDB's default */
    const char *memory_limit; /* DuckDB memory_limit per database; "" = default */
} PoolConfig;

typedef enum {
    POOL_OK = 0,
    POOL_BUSY = -1,  /* every slot stayed pinned for wait_ms */
    POOL_ERROR = -2, /* DuckDB could not open the file; err says why */
} PoolStatus;

typedef struct PoolStats {
    int open, pinned, size;
    uint64_t hits, misses, evictions, waits, timeouts;
} PoolStats;

/* Creates the pool and the databases directory. Returns NULL with `err` set. */
Pool *pool_new(const PoolConfig *cfg, char *err, size_t errlen);

/*
 * Pins database `id`, opening it if needed. On POOL_OK *out_db is valid
 * until pool_release(). `err` receives DuckDB's message on POOL_ERROR.
 */
PoolStatus pool_acquire(Pool *p, int64_t id, PoolDb **out_db, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void pool_release(Pool *p, PoolDb *db);
duckdb_database pool_db_handle(PoolDb *db);

/*
 * Creates the DuckDB file of a new database `id` (an empty database),
 * replacing a leftover file of an earlier failed attempt. Returns 0 or -1.
 */
int pool_create_file(Pool *p, int64_t id, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Removes the files of database `id`, which must not be open. */
void pool_remove_file(Pool *p, int64_t id);

void pool_stats(Pool *p, PoolStats *out);

/* Checkpoints and closes every database and frees the pool. All pins must
 * have been released. Accepts NULL. */
void pool_free(Pool *p);

#endif
