/*
 * workers: the server's pool of worker threads, which grows past its base
 * size while every thread is stuck on long work, so that long statements
 * cannot starve short ones (docs/architecture.md, "Workers: long work does
 * not starve short work").
 *
 * Model. `base` threads (QueryWorkers) always run. Each runs the caller's
 * loop function, which waits for work (workers_wait_ms() says how long it
 * may wait), marks itself busy with workers_busy() for each piece of work
 * and idle with workers_idle() after it. The owner (the server's I/O
 * thread) calls workers_tick() often; when no thread is idle, the most
 * recent piece of work started at least WORKERS_LONG_MS ago (every thread
 * is stuck on something long: a statement, a connect waiting for the pool)
 * and `work_waiting()` says work is ready, it starts one more thread, up to
 * `max` (MaxWorkers).
 * Threads beyond `base` retire once the pool has had an idle thread for
 * WORKERS_RETIRE_MS (workers_retire(), checked after each piece of work and
 * after each WORKERS_RETIRE_CHECK_MS wait): a rule on the pool, not on one
 * thread's idleness, because the kernel spreads wake-ups over the waiting
 * threads and a steady trickle of work would keep every one of them from
 * ever waiting long.
 * And when a worker takes the last idle place while another is stuck on
 * long work, it starts a spare thread at once (workers_busy()), so short
 * requests beside long work usually find an idle worker without waiting
 * for a tick.
 * So on an idle or short-query server there are `base` threads, as before;
 * under long work, short requests wait at most about WORKERS_LONG_MS plus
 * one tick for a thread, and the CPU is shared by the kernel's scheduler
 * among the running statements (each runs on its own thread: DuckDB's
 * `threads` setting is per database, and with DuckdbThreads=1 a statement
 * executes on the calling thread).
 *
 * Why threads and not slicing statements: DuckDB's pending-result API can
 * run a query one task at a time, but a request also streams its rows and
 * holds session and grant state across the whole statement; parking that
 * mid-statement would make every request a resumable state machine.
 * Threads cost a stack each and are bounded by MaxWorkers.
 *
 * Shared state: the slot table under one mutex, private here; a thread's
 * busy mark is an atomic read by workers_tick() without the lock. The
 * loop function runs on the pool's threads; everything else is called by
 * the owner's thread only.
 */
#ifndef TCPDUCKDB_WORKERS_H
#define TCPDUCKDB_WORKERS_H

#include <stdbool.h>

/* Work running this long on every thread counts as stuck: start another thread. */
#define WORKERS_LONG_MS 20
/* How often the owner should tick while no thread is idle. */
#define WORKERS_TICK_MS 10
/* Threads beyond the base size retire once the pool has had an idle thread this long. */
#define WORKERS_RETIRE_MS 10000
/* How long a thread beyond the base size waits for work before it checks. */
#define WORKERS_RETIRE_CHECK_MS 1000

typedef struct Workers Workers;
typedef struct Worker Worker;

/*
 * Runs on each thread of the pool until it returns: the thread ends. It
 * must return when workers_retire() says so, and when the owner asks the
 * threads to stop (the caller's own signal, e.g. an eventfd they wait on).
 */
typedef void (*WorkersLoop)(void *ctx, Worker *self);

/*
 * Starts `base` (>= 1) threads running `loop(ctx, self)`; the pool may grow
 * to `max` (>= base) threads. `work_waiting(ctx)` (called on the owner's
 * thread by workers_tick) says whether work is ready that no thread has
 * taken. Returns NULL when not even one thread could start (logged).
 */
Workers *workers_start(int base, int max, WorkersLoop loop, bool (*work_waiting)(void *ctx),
                       void *ctx);

/*
 * Grows the pool if every thread is stuck on long work and work waits (see
 * the top). Returns the milliseconds until it should be called again:
 * WORKERS_TICK_MS while no thread is idle, else -1 (no hurry). Owner only.
 */
int workers_tick(Workers *w);

/*
 * Joins every thread. The caller has first made every loop return (its
 * stop signal). Frees the pool. Owner only.
 */
void workers_join(Workers *w);

/* How long the calling thread may wait for work: -1 (forever) or WORKERS_RETIRE_CHECK_MS. */
int workers_wait_ms(const Worker *self);

/*
 * Called after a wait of workers_wait_ms() without work, and after each
 * piece of work: true when the calling thread is one too many and must
 * return from its loop now (it is no longer counted); false: go on.
 */
bool workers_retire(Worker *self);

/*
 * The calling thread starts a piece of work / has finished it. Taking the
 * last idle place while another thread is stuck on long work starts a
 * spare thread (see the top).
 */
void workers_busy(Worker *self);
void workers_idle(Worker *self);

/* Threads running now, and the most there have been; any thread. */
int workers_count(const Workers *w);
int workers_peak(const Workers *w);

#endif
