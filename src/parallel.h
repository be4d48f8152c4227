/*
 * parallel: lends the server's idle cores to DuckDB statements that run long
 * (docs/performance.md, "Threads: small statements and analytical ones").
 *
 * Every database is opened with DuckDB's `threads` at DuckdbThreads (0: one
 * per core) and `external_threads` at the same number (pool.c): DuckDB then
 * splits a statement's pipelines into as many tasks as there are cores but
 * starts no thread of its own. Its worker threads are what cost a small
 * statement: each task DuckDB schedules wakes a sleeping thread (a futex
 * wake and a context switch), which races the statement's own thread for
 * the task and then hands the result back the same way; a SELECT 1 cost
 * 2-3x the CPU with 2 threads than with 1 on the 2-core VM. Here instead the
 * worker that runs a statement executes its tasks alone, and only once the
 * statement has used PARALLEL_DELAY_MS of its worker's CPU (its thread's CPU
 * clock, so that a loaded machine keeping a small statement off the CPU
 * does not make it look long) do helper threads (DuckdbThreads
 * - 1 of them, shared by every database) join it through the C API's
 * external-thread functions (duckdb_create_task_state,
 * duckdb_execute_n_tasks_state). A statement shorter than that never meets
 * another thread.
 *
 * A query worker calls parallel_enter() before its first statement and
 * parallel_leave() before it may release its connection (query.c, beside
 * the watchdog's watch/unwatch). parallel_leave() returns only when no
 * helper is executing tasks for the entry, so the database, which the
 * session keeps pinned meanwhile, may be closed afterwards. DuckDB runs an
 * external thread's task to its end (TaskExecutionMode::PROCESS_ALL), so
 * when two long statements run on one database, a helper of the first may be
 * running a pipeline of the second when the first ends: the first's answer
 * then waits for that task (a known cost of this design; the fix would be a
 * pin on the database per helper, so that leave need not wait). Helpers execute
 * the tasks of the entry's database, which may include the tasks of other
 * statements running on it; that is the same work DuckDB's own threads
 * would do.
 *
 * Shared state: the list of entries and the helpers' roles, guarded by one
 * mutex private to parallel.c. One idle helper at a time (the scout) looks
 * at the entries every PARALLEL_DELAY_MS while statements come, and sleeps
 * until parallel_enter() wakes it once none has come for a while, so that
 * a server of small statements wakes one helper at most 500 times a second
 * and an idle server none; the others sleep until the scout finds a long
 * statement.
 *
 * Without parallel_start() (unit tests, tools, DuckdbThreads 1) enter and
 * leave cost a lock round trip each and nothing is ever lent.
 *
 * Memory: tasks run by helpers allocate on the helpers' threads, which the
 * statement's counters (memstat.h, read by the watchdog) do not see. While
 * it helps, a helper is inside a statement of its own for the memory guard
 * (memguard.h, release build): its allocations are refused past the
 * statement's StatementMemoryLimit and the server's MemoryLimit, so a
 * statement holds at most DuckdbThreads times its limit and the server
 * stays within MemoryLimit. A refusal fails the statement with DuckDB's
 * "Out of Memory Error" rather than the limit's own error line.
 */
#ifndef TCPDUCKDB_PARALLEL_H
#define TCPDUCKDB_PARALLEL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "duckdb.h"

/* How long a statement runs on its own worker before helpers join it. */
#define PARALLEL_DELAY_MS 2

/* A running statement that helpers may join; lives on the worker's stack from
 * parallel_enter() to parallel_leave(). Fields are parallel.c's. */
typedef struct ParallelEntry {
    duckdb_database db;
    int64_t statement_bytes;
    double start_ms;
    clockid_t cpu_clock; /* the worker thread's CPU clock */
    double cpu_start_ms;
    int helping; /* helpers executing its database's tasks now */
    bool listed;
    struct ParallelEntry *prev, *next;
} ParallelEntry;

/*
 * Starts `helpers` helper threads (DuckdbThreads - 1; 0 starts none). Returns
 * 0, or -1 when a thread cannot be created (the ones started are stopped).
 * The pool calls it when created (pool_new), before the workers run
 * statements; a second call (a second pool, in tests) shares the first's
 * helpers and needs its own parallel_stop().
 */
int parallel_start(int helpers);

/* Undoes one parallel_start() (with helpers > 0); the last one stops the
 * helpers. Call when nothing is entered (pool_free, after the workers). */
void parallel_stop(void);

/* A statement on `db` starts (db NULL: nothing is lent, leave is still fine);
 * `statement_bytes`: its StatementMemoryLimit (0: none), which each helper's
 * own allocations for it are held to as well. */
void parallel_enter(ParallelEntry *e, duckdb_database db, int64_t statement_bytes);

/* The statement is done: returns once no helper works for it. Idempotent. */
void parallel_leave(ParallelEntry *e);

#endif
