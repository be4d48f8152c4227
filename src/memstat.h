/*
 * memstat: how much memory the server has allocated, in total and per
 * thread, read from the allocators' own statistics (docs/security.md,
 * "Memory").
 *
 * Two allocators serve the process. DuckDB's library bundles its own
 * jemalloc (exported as duckdb_je_*): vectors, lists, string heaps, hash
 * tables and the buffer manager's blocks come from it. Everything else,
 * the std::string and std::vector objects inside DuckDB included, goes
 * through malloc: jemalloc in the release build (-ljemalloc), the
 * sanitizer's allocator in the ASan and TSan builds, glibc otherwise. The
 * server's total is the sum of the two. Both jemallocs also keep, per
 * thread, the cumulative bytes the thread allocated and freed; a thread's
 * net allocation over an interval is what it allocated minus what it
 * freed, which is how the watchdog attributes memory to the statement a
 * worker thread runs. The sanitizer allocators and glibc have no per-thread
 * counters, so in those builds only DuckDB's allocator is attributed.
 *
 * This module is the only one that reads the allocators' statistics
 * through their control interfaces (mallctl); memguard.h creates the
 * worker threads' arenas and hooks. Symbols that a build may lack (jemalloc's mallctl,
 * the sanitizer interface) are weak, so every build links.
 *
 * Threads: memstat_total() is called by the watchdog once per tick (it
 * refreshes jemalloc's statistics epoch, a few microseconds). A thread's
 * counters are located once, on its first memstat_thread() call, and kept
 * in thread-local storage, so a worker pays two loads per statement.
 * Another thread may read them (memstat_thread_net) while the owner is
 * alive: they are 64-bit words the owner updates with plain stores, read
 * here with relaxed atomic loads; a value may be a few allocations old.
 */
#ifndef TCPDUCKDB_MEMSTAT_H
#define TCPDUCKDB_MEMSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One thread's allocation counters: pointers into the allocators'
 * per-thread data, valid while the thread lives. A counter the build does
 * not have points at a zero.
 */
typedef struct MemstatThread {
    const uint64_t *duckdb_allocated, *duckdb_freed;   /* DuckDB's jemalloc */
    const uint64_t *process_allocated, *process_freed; /* the process's malloc, if jemalloc */
} MemstatThread;

/* What memstat_total() adds up, in bytes. */
typedef struct MemstatTotal {
    int64_t duckdb;  /* allocated by DuckDB's jemalloc (stats.allocated) */
    int64_t process; /* allocated through malloc; -1 when the allocator cannot tell */
} MemstatTotal;

/*
 * The bytes the server has allocated now: DuckDB's allocator plus the
 * process allocator (`out` gets the two parts; may be NULL). Any thread.
 */
int64_t memstat_total(MemstatTotal *out);

/* Names the process allocator whose total memstat_total() reads, for the log. */
const char *memstat_process_allocator(void);

/*
 * The calling thread's counters, located on the first call in each
 * thread and cached in thread-local storage. The result is borrowed and
 * valid until the thread exits.
 */
const MemstatThread *memstat_thread(void);

/*
 * A thread's net allocation so far: bytes allocated minus bytes freed by
 * it since it started, in both allocators. Only differences of two calls
 * mean something. Any thread, while the owner of `t` is alive.
 */
int64_t memstat_thread_net(const MemstatThread *t);

/* The machine's memory for this process: RAM, or a lower cgroup limit. */
int64_t memstat_ram_bytes(void);

/*
 * Parses a size: bytes, or a number with a unit kB, MB, GB or TB (powers
 * of 1024, as PostgreSQL's settings; KiB, MiB, GiB and TiB also, case
 * ignored), or a percentage of `whole` ("50%"). "0" is 0. Returns false on
 * anything else.
 */
bool memstat_parse_size(const char *text, int64_t whole, int64_t *out)
    __attribute__((warn_unused_result));

/* Writes `bytes` for a message, in the largest unit it reaches: "600MB", "11.8GB", "512 bytes". */
void memstat_format_size(char *buf, size_t len, int64_t bytes);

#endif
