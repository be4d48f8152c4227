/*
 * memguard: the allocator that refuses. A worker thread that runs a
 * statement allocates from arenas of its own, in both jemallocs of the
 * release build (DuckDB's bundled one and the process's malloc), whose
 * extent hook maps new memory only while the statement stays within
 * StatementMemoryLimit and the server within MemoryLimit
 * (docs/security.md, "Memory"; docs/architecture.md, "Memory guard").
 *
 * Why: DuckDB checks for an interrupt between chunks of work, never
 * inside one call, and folds constant calls while it plans, where nothing
 * is checked at all: `SELECT length(range(0, 100000000))` allocates 1GB
 * and then gigabytes through malloc before any watchdog can stop it. A
 * refused extent makes that allocation fail where it happens: DuckDB's
 * Allocator throws its OutOfMemoryException, operator new throws
 * std::bad_alloc, which DuckDB turns into "Out of Memory Error", and the
 * statement ends with an error while the memory was never taken.
 *
 * The decision, made in the hook on the allocating thread (jemalloc calls
 * it when an arena needs more address space; allocations served from the
 * arena's cached extents or the thread cache do not reach it): refuse when
 * the thread is inside a statement (memguard_begin .. memguard_end) and
 *  - the thread's net allocation since memguard_begin (memstat.h, both
 *    allocators), plus the extent asked for, passes the statement's limit,
 *    or
 *  - memguard_in_use() plus the extent passes MemoryLimit.
 * After the first refusal of a statement, extents of at most
 * MEMGUARD_GRACE_EXTENT are still granted up to MEMGUARD_GRACE_BYTES in
 * all, so that DuckDB's error path (messages, unwinding) finds the small
 * memory it needs; anything larger stays refused.
 *
 * The hook maps with mmap itself and never unmaps: jemalloc (`retain`, on
 * in both) purges a freed extent, so its pages leave the process, and keeps
 * its address range for the arena's next growth, which it reuses without
 * calling the hook. The guarded arenas purge freed extents at once, and
 * the watchdog's tick reads how much they retain (memguard_tick), so that
 * the server-wide check counts what they hold, not what they reserved. A
 * statement can take what its arenas retain before the hook sees it: at
 * most what an earlier statement on the thread was allowed; the watchdog's
 * count catches it at its next tick. The hooks take no lock and call
 * nothing that allocates.
 *
 * Active only when both allocators are jemalloc (the release build): the
 * sanitizer builds replace malloc, so the guard is off there and the
 * watchdog and MemoryHardLimit are what bound memory.
 *
 * Threads: memguard_set_limits() before any worker runs; memguard_begin,
 * memguard_end, memguard_lift on the worker thread itself; memguard_tick on
 * the watchdog thread; memguard_refused(t) from any thread while the owner
 * of `t` lives. A thread's arenas are taken from a shared list on its first
 * memguard_begin and put back when it exits, so retiring workers leak no
 * arena.
 */
#ifndef TCPDUCKDB_MEMGUARD_H
#define TCPDUCKDB_MEMGUARD_H

#include <stdbool.h>
#include <stdint.h>

/* After a refusal: the largest extent still granted, and the total granted, per statement. */
#define MEMGUARD_GRACE_EXTENT (1 << 20)
#define MEMGUARD_GRACE_BYTES (16 << 20)

/*
 * A statement that allocated this much in all, and was refused or ended
 * while the server held more than half of MemoryLimit, has its thread's
 * free pages given back when it ends, and again when the thread's next
 * statement begins (what its result held is freed after it ended). Always
 * purging made such statements 1.5-2x slower when they ran again.
 */
#define MEMGUARD_PURGE_AFTER (32 << 20)

typedef enum {
    MEMGUARD_NONE,      /* nothing refused */
    MEMGUARD_STATEMENT, /* refused: the statement would pass its limit */
    MEMGUARD_SERVER,    /* refused: the server would pass MemoryLimit */
} MemguardRefusal;

/* One worker thread's guard state; fields private to memguard.c. */
typedef struct MemguardThread MemguardThread;

/*
 * Turns the guard on with MemoryLimit `server_bytes` (0: none) when the
 * build's allocators allow it; returns whether it is on. Call once, before
 * the workers start.
 */
bool memguard_set_limits(int64_t server_bytes);

/* Whether the guard is on. */
bool memguard_enabled(void);

/*
 * The calling thread starts a statement whose limit is `statement_bytes`
 * (0: none), counted from its net allocation `net_start`
 * (memstat_thread_net). Binds the thread to its arenas on the first call.
 * Returns the thread's state (borrowed while the thread lives), or NULL
 * when the guard is off.
 */
MemguardThread *memguard_begin(int64_t net_start, int64_t statement_bytes);

/* Changes the calling thread's statement limit (a user's own), after memguard_begin. */
void memguard_set_statement(int64_t statement_bytes);

/* The calling thread's statement ended: nothing is refused to it any more. */
void memguard_end(void);

/* What was refused to the statement of thread `t` (NULL: none). Any thread. */
MemguardRefusal memguard_refused(const MemguardThread *t);

/*
 * Lifts (true) or restores (false) the calling thread's guard, for the
 * server's own allocations that must not fail (xalloc.h retries with it
 * lifted).
 */
void memguard_lift(bool lifted);

/*
 * The watchdog's tick, right after memstat_total(): `total` is the
 * server's allocated bytes now. Records the memory outside the guarded
 * arenas and the address space they only retain (jemalloc's `retain`
 * keeps the purged tail of each region it grows by), so that
 * memguard_in_use() counts what the guarded arenas hold.
 */
void memguard_tick(int64_t total);

/*
 * What the server-wide check counts: the memory outside the guarded arenas
 * at the last tick, plus what the guarded arenas map now, less what they
 * retained at the last tick. Any thread.
 */
int64_t memguard_in_use(void);

/* The bytes the guarded arenas map now. Any thread. */
int64_t memguard_mapped(void);

#endif
