/*
 * watchdog: ends statements that run longer than StatementTimeout, whose
 * client is gone, or that take too much memory (docs/architecture.md,
 * "Watchdog"; docs/security.md, "Memory").
 *
 * A worker that runs SQL registers a WatchdogEntry for the duration
 * (query.c: from before the first statement until before the COMMIT or
 * ROLLBACK that ends an implicit transaction): the DuckDB connection, the
 * client's socket and the statement's deadline. One thread, started by
 * watchdog_start(), looks at every registered entry every WATCHDOG_TICK_MS
 * and calls duckdb_interrupt() on its connection when the deadline has
 * passed (WATCHDOG_TIMEOUT) or the client closed its socket
 * (WATCHDOG_CLIENT_GONE: the peer's end of the stream, or a reset, with no
 * unread byte left in the socket). A verified cancel request for the
 * entry's session (cancel.h) interrupts it at once (watchdog_cancel(),
 * WATCHDOG_CANCELED). The interrupted statement fails with
 * DuckDB's INTERRUPT error; the worker then asks the entry for the reason
 * and answers accordingly.
 *
 * Memory: the entry also holds the worker thread's allocation counters
 * (memstat.h) and their value when the request was registered. At every
 * tick a statement whose request's thread holds more than
 * StatementMemoryLimit more than at that moment is interrupted
 * (WATCHDOG_STATEMENT_MEMORY). The count starts before the first prepare,
 * since DuckDB evaluates constant expressions while it plans, and memory a
 * prepared plan holds is held while it executes; it is net, so what an
 * earlier statement of the request freed is not counted. A memory reason is
 * sticky until unwatched: the request ends with it. When the server's total
 * (memstat_total) is above MemoryLimit, the statement that allocated the
 * most is (WATCHDOG_SERVER_MEMORY), unless a statement interrupted for
 * memory is still running, or left less than WATCHDOG_MEMORY_SETTLE_MS ago:
 * its memory is freed when it returns, and interrupting another one
 * meanwhile would not free it sooner. When no
 * statement holds at least WATCHDOG_ATTRIBUTED_SHARE of MemoryLimit (the
 * allocations were made by threads other than the workers, as with
 * DuckdbThreads > 1), every running statement is interrupted.
 *
 * The interrupt is repeated at every tick while the reason holds, because
 * DuckDB clears a connection's interrupt flag when a query starts: an
 * interrupt that lands between two statements would otherwise be lost.
 * That is also why the worker unregisters before it runs statements of
 * its own (COMMIT, ROLLBACK) that must not be interrupted.
 *
 * Shared state: the registry (a list of the entries of running statements)
 * and the counters, both guarded by one mutex private to watchdog.c. The
 * watchdog reads an entry's connection and socket and calls
 * duckdb_interrupt() only under that mutex, and watchdog_unwatch() removes
 * the entry under it: once watchdog_unwatch() has returned, the watchdog
 * never touches that connection or socket again, so the caller may destroy
 * the one and close the other. Registering costs two lock round trips per
 * request and one per further statement; the watchdog holds the lock for a
 * poll() and at most one recv(MSG_PEEK) per entry.
 *
 * The memory guard (memguard.h, release build): between watchdog_watch()
 * and watchdog_unwatch() the worker thread's allocator refuses new memory
 * beyond StatementMemoryLimit or MemoryLimit, so that a statement over a
 * limit fails inside the allocating call, before its memory is taken; the
 * counters above then stay under the limit. A refusal is the statement's
 * memory reason (WATCHDOG_STATEMENT_MEMORY or WATCHDOG_SERVER_MEMORY, the
 * counters and the log line included) as if the watchdog had interrupted
 * it, so the worker answers with the limit's line; the watchdog also
 * interrupts it at its next tick, in case DuckDB went on after the failed
 * allocation. The watchdog's tick gives the guard the server's total
 * (memguard_tick).
 *
 * Without watchdog_start() (unit tests, tools) registering still works and
 * nothing is ever interrupted.
 */
#ifndef TCPDUCKDB_WATCHDOG_H
#define TCPDUCKDB_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#include "duckdb.h"
#include "memguard.h"
#include "memstat.h"

/* How often the watchdog looks at the running statements. */
#define WATCHDOG_TICK_MS 100

/*
 * Above MemoryLimit, a statement is taken for the cause only if it
 * allocated at least 1/WATCHDOG_ATTRIBUTED_SHARE of MemoryLimit.
 */
#define WATCHDOG_ATTRIBUTED_SHARE 16

/* How long MemoryLimit waits for the memory of a statement it interrupted, after it returned. */
#define WATCHDOG_MEMORY_SETTLE_MS 500

typedef enum {
    WATCHDOG_NONE,             /* not interrupted */
    WATCHDOG_TIMEOUT,          /* the statement ran past its deadline */
    WATCHDOG_CLIENT_GONE,      /* the client's socket ended; sticky until unwatched */
    WATCHDOG_SHUTDOWN,         /* the server is stopping (watchdog_interrupt_all); sticky */
    WATCHDOG_STATEMENT_MEMORY, /* the statement allocated more than StatementMemoryLimit */
    WATCHDOG_SERVER_MEMORY,    /* the server's memory reached MemoryLimit */
    WATCHDOG_CANCELED,         /* a cancel request for its session (watchdog_cancel); sticky */
} WatchdogReason;

/*
 * One running request. Owned by the worker (usually on its stack); its
 * fields are private to watchdog.c and, while registered, guarded by the
 * watchdog's mutex.
 */
typedef struct WatchdogEntry WatchdogEntry;
struct WatchdogEntry {
    duckdb_connection con;    /* borrowed until watchdog_unwatch() */
    int fd;                   /* the client's socket (borrowed likewise), or -1: not watched */
    int64_t timeout_ms;       /* 0: no deadline */
    int64_t deadline_ms;      /* CLOCK_MONOTONIC; 0: none */
    WatchdogReason reason;    /* why it was interrupted, for the current statement */
    const MemstatThread *mem; /* the worker thread's allocation counters */
    int64_t mem_start;        /* their net value when the request was registered */
    int64_t statement_bytes;  /* its StatementMemoryLimit; 0: none */
    bool registered;
    WatchdogEntry *prev, *next;
    uint64_t session_id;   /* the cancel id of the session it runs for (cancel.h); 0: none */
    MemguardThread *guard; /* the worker thread's memory guard (memguard.h); NULL: off */
};

/* Counters since the start (the `stats` command's statements.interrupted and .timeouts). */
typedef struct WatchdogStats {
    uint64_t interrupted;      /* statements interrupted, for any reason */
    uint64_t timeouts;         /* of which because they passed StatementTimeout */
    uint64_t statement_memory; /* of which because they passed StatementMemoryLimit */
    uint64_t server_memory;    /* of which because the server reached MemoryLimit */
} WatchdogStats;

/* The memory limits the watchdog keeps, in bytes; 0: none. */
typedef struct WatchdogMemoryLimits {
    int64_t server_bytes;    /* MemoryLimit */
    int64_t statement_bytes; /* StatementMemoryLimit */
    int64_t hard_bytes; /* MemoryHardLimit: reached, the process exits (WATCHDOG_EXIT_STATUS) */
} WatchdogMemoryLimits;

/*
 * The exit status when the server's memory reaches MemoryHardLimit: 70
 * (EX_SOFTWARE), which the supervisor (supervisor.h) and systemd's
 * Restart=on-failure take for a crash and restart at once.
 */
#define WATCHDOG_EXIT_STATUS 70

/*
 * Sets the memory limits. Call before watchdog_start() (they are read
 * without a lock afterwards); without it there are none.
 */
void watchdog_set_memory_limits(const WatchdogMemoryLimits *limits);

/* The memory limits set; any thread. */
void watchdog_memory_limits(WatchdogMemoryLimits *out);

/*
 * Starts the watchdog thread. Returns 0, or -1 when the thread cannot be
 * created (logged). Call once, before any worker runs SQL.
 */
int watchdog_start(void) __attribute__((warn_unused_result));

/* Stops and joins the watchdog thread, if it runs. Call after the workers are gone. */
void watchdog_stop(void);

/*
 * Registers `e` for a request running on `con`, whose client socket is
 * `fd` (-1: do not watch a socket), with a deadline `timeout_ms` from now
 * (0: none; checked every WATCHDOG_TICK_MS), for the session whose cancel id is `session_id` (0:
 * none; see watchdog_cancel). `con` and `fd` must stay valid until watchdog_unwatch(e). Called on
 * the thread that runs the statements: its allocation counters are the ones the memory limits are
 * checked against.
 */
void watchdog_watch(WatchdogEntry *e, duckdb_connection con, int fd, int64_t timeout_ms,
                    uint64_t session_id);

/*
 * Gives the registered request `e` its own statement memory limit (a
 * user's statement_memory, userlimits.h) instead of StatementMemoryLimit;
 * 0: none. Call right after watchdog_watch(), on the same thread.
 */
void watchdog_set_statement_memory(WatchdogEntry *e, int64_t bytes);

/*
 * The next statement of the request starts: its deadline runs from now,
 * and a timeout of the previous statement is forgotten. Returns
 * WATCHDOG_CLIENT_GONE when the client is already gone, or
 * WATCHDOG_SHUTDOWN when the server is stopping, or a memory reason when
 * the request passed a memory limit (then the statement should not start),
 * else WATCHDOG_NONE.
 */
WatchdogReason watchdog_restart(WatchdogEntry *e);

/*
 * The server is stopping: interrupts every registered statement now and,
 * from then on, at every tick, including statements registered later, so
 * that no interrupt is lost to a statement that was about to start. Any
 * thread (the I/O thread at shutdown).
 */
void watchdog_interrupt_all(void);

/*
 * A cancel request for session `session_id` (cancel.h) was verified:
 * interrupts the request registered for it now, if there is one and it
 * was not interrupted for another reason, and keeps interrupting it at
 * every tick until it is unwatched (WATCHDOG_CANCELED). When the session
 * runs nothing, nothing happens: the interrupt belongs to the entry of the
 * running request, and the next request registers a fresh one. Returns
 * true when a request was interrupted. Any thread.
 */
bool watchdog_cancel(uint64_t session_id);

/*
 * Why the current statement was interrupted or refused memory, or
 * WATCHDOG_NONE. Called by the worker that registered `e`.
 */
WatchdogReason watchdog_reason(WatchdogEntry *e);

/*
 * Unregisters `e` (no-op when it is not registered) and returns the
 * reason of its last interrupt. Afterwards the watchdog no longer touches
 * its connection or socket.
 */
WatchdogReason watchdog_unwatch(WatchdogEntry *e);

/*
 * The memory guard refused memory to work a worker ran outside a
 * registered request (`refused`, from memguard_refused(); the
 * authorization check, which prepares the statement, and DuckDB folds
 * constant calls while it prepares): counts and logs it as a refusal
 * within a request, for the limit `statement_bytes` the work ran under.
 * Returns the memory reason to answer with, or WATCHDOG_NONE when nothing
 * was refused. Any thread.
 */
WatchdogReason watchdog_account_refusal(MemguardRefusal refused, int64_t statement_bytes);

/* The counters; any thread. */
void watchdog_stats(WatchdogStats *out);

#endif
