/*
 * stmtcache: one DuckDB connection's prepared statements, kept by the exact
 * text of the request that made them, so that a request sent again skips
 * DuckDB's parser, binder and optimizer (about 150 us of CPU against 35 us
 * for running a prepared statement; docs/architecture.md, "Statement
 * cache").
 *
 * A cache belongs to one session and holds statements prepared on that
 * session's connection only: the session frees it before it disconnects
 * from DuckDB and unpins the database, so no cached statement outlives its
 * connection or database. At most `capacity` entries are kept; adding one
 * more drops the least recently used. Next to each statement the access
 * check may keep what it derived from the text (AuthzPlan), never a verdict:
 * the grants are still read on every request.
 *
 * An entry is valid for one schema generation of the database
 * (pool_db_schema_gen): stmtcache_sync() empties the cache when the
 * generation moved, which happens after DDL, SET and the like in any
 * session. Not thread-safe: used only by the thread that owns the session.
 */
#ifndef TCPDUCKDB_STMTCACHE_H
#define TCPDUCKDB_STMTCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "authz.h"
#include "duckdb.h"

/* Entries per session; requests longer than STMTCACHE_MAX_SQL are never cached. */
#define STMTCACHE_CAPACITY 32
#define STMTCACHE_MAX_SQL 8192

typedef struct StmtCache StmtCache;

typedef struct StmtEntry StmtEntry;
struct StmtEntry {
    duckdb_prepared_statement prep; /* owned by the cache */
    duckdb_statement_type type;
    AuthzPlan *authz; /* owned by the cache; NULL until a check stored one */

    /* Private to stmtcache.c. */
    char *sql;
    size_t len;
    uint64_t hash;
    StmtEntry *prev, *next; /* recency list, most recent first */
    StmtEntry *chain;       /* hash bucket */
};

/* Process-wide counters of every cache, for `stats`. */
typedef struct StmtCacheStats {
    uint64_t hits, misses, evictions, invalidations;
} StmtCacheStats;

/* An empty cache for up to `capacity` (> 0) statements. Aborts when out of memory. */
StmtCache *stmtcache_new(size_t capacity);
/* Destroys every statement and the cache. Accepts NULL. */
void stmtcache_free(StmtCache *c);

/* Empties the cache when `gen` differs from the generation its entries were made in. */
void stmtcache_sync(StmtCache *c, uint64_t gen);

/*
 * The entry for exactly this text, made the most recent, or NULL (counted
 * as a miss). The entry stays valid until the next call that changes the
 * cache (add, remove, sync, free).
 */
StmtEntry *stmtcache_find(StmtCache *c, const char *sql, size_t len);

/*
 * Keeps `prep` (prepared from `sql` on the cache's connection; the cache
 * takes ownership) under the text `sql`, replacing an entry with the same
 * text. Returns the new entry, or NULL when the text is longer than
 * STMTCACHE_MAX_SQL: then `prep` stays the caller's.
 */
StmtEntry *stmtcache_add(StmtCache *c, const char *sql, size_t len, duckdb_prepared_statement prep);

/* Drops one entry (a statement DuckDB no longer accepts). */
void stmtcache_remove(StmtCache *c, StmtEntry *e);

/* Counters of all caches since the start of the process. Any thread. */
void stmtcache_stats(StmtCacheStats *out);

#endif
