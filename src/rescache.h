/*
 * rescache: the server's query result cache (docs/cache.md). It keeps the
 * exact answer bytes of read-only statements, per database, so that the
 * same request at the same state of the database is answered without
 * DuckDB.
 *
 * Keying: an entry is found by the database id, the answer form (line or
 * typed), the statement's text normalised by its sqllex tokens (comments
 * dropped, whitespace between tokens made one space; token bytes, case
 * included, kept as written), and each bound parameter's kind and value (1,
 * 1.0 and '1' are three keys). An entry is valid for one write generation
 * of its database; every committed change to the database moves the
 * generation on and frees the database's entries.
 *
 * Write generations: whoever commits a change to a database calls
 * rescache_write_begin() before the change can commit and
 * rescache_write_end() after it committed (or failed); while any write of
 * a database is between the two, nothing of that database is served from
 * or stored in the cache. A reader takes the generation with
 * rescache_read_begin() before DuckDB takes its snapshot and stores its
 * answer with rescache_store(), which keeps it only when the generation is
 * still the one read and no write is in flight. docs/cache.md gives the
 * argument why an answer served is always the answer a fresh execution
 * would give at that moment.
 *
 * Classification (rescache_classify): only a single SELECT-shaped statement
 * whose every function call is to a function DuckDB reports as CONSISTENT
 * (scalar or aggregate, every overload) is cacheable. The list of functions
 * and keywords is loaded from DuckDB at start-up (rescache_note_function,
 * rescache_note_keyword); anything unknown, a macro, a table function, a
 * CONSISTENT_WITHIN_QUERY or VOLATILE function, a time or user keyword
 * (current_timestamp, ...) or SAMPLE makes the statement uncacheable.
 * Callers also check, after execution, that the one statement ran as a
 * SELECT before storing.
 *
 * Bounds: at most `memory_bytes` of entries (key, answer and bookkeeping
 * counted), evicting the least recently used; an answer longer than
 * `max_entry_bytes` is never stored; an entry older than `ttl_sec` (when
 * not 0) is not served.
 *
 * Thread-safety: one process-wide cache behind one mutex, owned by this
 * module; every function may be called from any thread after
 * rescache_configure(). Answer bytes are copied out of an entry without the
 * lock, under a reference count.
 */
#ifndef TCPDUCKDB_RESCACHE_H
#define TCPDUCKDB_RESCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "params.h"

typedef struct RescacheConfig {
    int64_t memory_bytes;    /* CacheMemory; 0: the cache is off */
    int64_t max_entry_bytes; /* CacheMaxEntry: largest answer stored */
    int ttl_sec;             /* CacheTTL; 0: entries live until evicted or invalidated */
} RescacheConfig;

/*
 * Sets the bounds; called once at start-up before any other thread uses the
 * cache (and by unit tests between cases, with the cache empty). The cache
 * stays off until rescache_functions_ready() too.
 */
void rescache_configure(const RescacheConfig *cfg);

/*
 * Notes one row of duckdb_functions(): `type` is its function_type
 * ("scalar", "aggregate", "macro", "table", ...), `stability` its stability
 * (NULL when DuckDB reports none). A name is consistent only when every row
 * of it is a scalar or aggregate function with stability CONSISTENT.
 * Start-up only, before rescache_functions_ready().
 */
void rescache_note_function(const char *name, const char *type, const char *stability);
/* Notes one keyword of duckdb_keywords() (syntax such as IN ( or DECIMAL( ). */
void rescache_note_keyword(const char *name);
/* Ends the start-up lists; without it the cache stays off (fail closed). */
void rescache_functions_ready(void);

/* True when the cache may be used (configured with memory and the lists loaded). */
bool rescache_enabled(void);

/* What rescache_classify() found out about a statement text. */
typedef struct RescacheClass {
    bool cacheable; /* its answer may be cached (still to be confirmed a SELECT) */
    bool read_only; /* it cannot change the database: no write bracket needed */
} RescacheClass;

/* Classifies `sql` (`len` bytes) by its tokens; pure, any thread. */
RescacheClass rescache_classify(const char *sql, size_t len);

/*
 * Builds the key of a request into `out` (reset first): database `db_id`,
 * the answer form (`form_len` bytes naming how the answer is encoded:
 * RESCACHE_FORM_LINE, RESCACHE_FORM_TYPED, or a front end's own bytes
 * that differ whenever its answer bytes may differ), the normalised text
 * and the parameters (`params` may be NULL). Returns false when the text
 * cannot be normalised (a lexer error): then nothing may be cached.
 */
bool rescache_key(Buf *out, int64_t db_id, const char *form, size_t form_len, const char *sql,
                  size_t len, const TypedRequest *params) __attribute__((warn_unused_result));

/* The answer forms of the line protocol: its rows, and a typed request's answer. */
#define RESCACHE_FORM_LINE "L"
#define RESCACHE_FORM_TYPED "T"

/*
 * Starts a read of database `db_id`: returns true with the generation in
 * *out_gen when the cache may be used for it now, false while a write of
 * the database is in flight (then neither look up nor store).
 */
bool rescache_read_begin(int64_t db_id, uint64_t *out_gen) __attribute__((warn_unused_result));

/*
 * Whether the database holds a user's function or macro: such a name may
 * shadow a built-in the classifier trusts (DuckDB finds a user's `lower`
 * before its own), so a database holding any is never cached. Returns
 * RESCACHE_FNS_UNKNOWN (not checked since the database was first seen or
 * since rescache_functions_changed(): check with dbmeta_has_user_functions()
 * and note the answer), RESCACHE_FNS_NONE or RESCACHE_FNS_SOME.
 */
enum { RESCACHE_FNS_UNKNOWN, RESCACHE_FNS_NONE, RESCACHE_FNS_SOME };
int rescache_user_functions(int64_t db_id);
/* Notes the answer of a check made after rescache_read_begin() gave `gen`; ignored when a
 * write began since (the check may have missed it). */
void rescache_note_user_functions(int64_t db_id, uint64_t gen, bool some);
/*
 * Forgets the answer: called inside the write bracket of a statement that
 * may create or drop a function or macro. Only a CREATE, DROP or ALTER
 * can (DuckDB runs no other statement kind from inside a SELECT, INSERT,
 * UPDATE or DELETE), so QueryOutcome.catalog_changed is the test.
 */
void rescache_functions_changed(int64_t db_id);

/*
 * Appends the answer stored under `key` for generation `gen` to `out`,
 * counting a hit, and returns true; or counts a miss and returns false.
 * `flush` (may be NULL) is called with `ctx` and `out` whenever `out`
 * passes `flush_bytes`; when it fails (-1) the copy stops and *out_gone is
 * set.
 */
bool rescache_lookup(int64_t db_id, const Buf *key, uint64_t gen, Buf *out,
                     int (*flush)(void *ctx, Buf *out), void *ctx, size_t flush_bytes,
                     bool *out_gone) __attribute__((warn_unused_result));

/*
 * Stores `answer` (`len` bytes, copied) under `key` when the database's
 * generation is still `gen`, no write is in flight and the answer fits
 * max_entry_bytes; evicts least recently used entries to make room.
 */
void rescache_store(int64_t db_id, const Buf *key, uint64_t gen, const char *answer, size_t len);

/* The most answer bytes worth buffering for a store (CacheMaxEntry). */
size_t rescache_max_entry(void);

/*
 * Brackets a change that may commit to database `db_id` (a write by SQL,
 * link, migrate, restore, ...): begin before the change can become
 * visible, end after it committed or failed. Begin counts an invalidation
 * when entries were dropped. Every begin needs its end.
 */
void rescache_write_begin(int64_t db_id);
void rescache_write_end(int64_t db_id);

/* A change that happened already (or a rename, a reopen): begin and end at once. */
void rescache_invalidate_db(int64_t db_id);

/* One database's counters in the cache (rescache_stats). */
typedef struct RescacheDbStats {
    int64_t id;
    size_t entries, bytes;
    uint64_t hits, misses, evictions, invalidations;
} RescacheDbStats;

/* The cache's state, as `stats` shows it, for /metrics (admin.c). */
typedef struct RescacheStats {
    bool enabled;
    int64_t limit; /* CacheMemory */
    size_t entries, bytes;
    RescacheDbStats *dbs; /* one per database the cache has seen; free() it */
    size_t ndbs;
} RescacheStats;

/* Fills *out under the cache's lock; the caller frees out->dbs. */
void rescache_stats(RescacheStats *out);

/* Appends the `stats` object of the cache (docs/protocol.md) to `out`. */
void rescache_stats_json(Buf *out);

/* Frees every entry and database record (end of process, unit tests). */
void rescache_reset(void);

#endif
