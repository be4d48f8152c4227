/*
 * watchdog: the registry of running statements and the thread that
 * interrupts them. See watchdog.h for the contract and the lock.
 */
#include "watchdog.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/*
 * The registry: every WatchdogEntry between watchdog_watch() and
 * watchdog_unwatch(), the counters, and the thread's stop flag. All of it
 * is guarded by `lock`; `wake` lets watchdog_stop() end a tick's sleep.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static WatchdogEntry *entries;
static WatchdogStats stats;
static bool running, stopping;
static bool shutting_down; /* watchdog_interrupt_all() was called */
static pthread_t thread;
/* Set before the thread starts, read-only afterwards: no lock. */
static WatchdogMemoryLimits limits;
/* Under `lock`: when the watchdog last logged a total above MemoryLimit with nothing to
 * interrupt. */
static int64_t unattributed_logged_ms;
/*
 * Under `lock`: until when MemoryLimit waits for the memory of a
 * statement interrupted for memory: its worker unregisters before it frees the statement's
 * result, so the total may still hold it for a moment after.
 */
static int64_t memory_settle_ms;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * True when the client of socket `fd` is gone: a reset, or the end of its
 * stream with nothing unread before it. Bytes still unread are requests
 * the client sent (or a TLS record) and mean it waits for answers; they
 * are only peeked at, never consumed, since the socket is the worker's.
 */
static bool client_gone(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLHUP | POLLERR))
        return true;
    if (!(p.revents & (POLLIN | POLLRDHUP)))
        return false;
    char byte;
    ssize_t r = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0)
        return true;
    return r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

static bool memory_reason(WatchdogReason why)
{
    return why == WATCHDOG_STATEMENT_MEMORY || why == WATCHDOG_SERVER_MEMORY;
}

/* What the request of `e` allocated since it was registered (net, in bytes). */
static int64_t allocated(const WatchdogEntry *e)
{
    return e->mem ? memstat_thread_net(e->mem) - e->mem_start : 0;
}

static void log_interrupt(const WatchdogEntry *e, WatchdogReason why, int64_t used, int64_t total)
{
    char used_text[32], limit_text[32], total_text[32];
    memstat_format_size(used_text, sizeof(used_text), used);
    switch (why) {
    case WATCHDOG_TIMEOUT:
        log_info("interrupting a statement: it passed StatementTimeout");
        break;
    case WATCHDOG_CLIENT_GONE:
        log_info("interrupting a statement: its client is gone");
        break;
    case WATCHDOG_STATEMENT_MEMORY:
        memstat_format_size(limit_text, sizeof(limit_text), e->statement_bytes);
        log_info("interrupting a statement: it allocated %s, more than StatementMemoryLimit (%s)",
                 used_text, limit_text);
        break;
    case WATCHDOG_SERVER_MEMORY:
        memstat_format_size(limit_text, sizeof(limit_text), limits.server_bytes);
        memstat_format_size(total_text, sizeof(total_text), total);
        log_info("interrupting a statement: the server's memory (%s) reached MemoryLimit (%s); "
                 "the statement allocated %s",
                 total_text, limit_text, used_text);
        break;
    default:
        log_info("interrupting a statement: the server is stopping");
        break;
    }
}

/* Counts and logs a refusal of the memory guard; returns its reason. The caller holds `lock`. */
static WatchdogReason count_refusal(MemguardRefusal refused, int64_t statement_bytes)
{
    WatchdogReason why =
        refused == MEMGUARD_STATEMENT ? WATCHDOG_STATEMENT_MEMORY : WATCHDOG_SERVER_MEMORY;
    stats.interrupted++;
    stats.statement_memory += why == WATCHDOG_STATEMENT_MEMORY;
    stats.server_memory += why == WATCHDOG_SERVER_MEMORY;
    char limit_text[32];
    memstat_format_size(limit_text, sizeof(limit_text),
                        why == WATCHDOG_STATEMENT_MEMORY ? statement_bytes : limits.server_bytes);
    log_info("refusing memory to a statement: it would pass %s (%s)",
             why == WATCHDOG_STATEMENT_MEMORY ? "StatementMemoryLimit" : "MemoryLimit", limit_text);
    return why;
}

/*
 * Takes a refusal of the memory guard on the request of `e` for its memory
 * reason, counted and logged as an interrupt (without the interrupt
 * itself). The caller holds `lock`.
 */
static void take_refusal(WatchdogEntry *e)
{
    MemguardRefusal refused = memguard_refused(e->guard);
    if (refused != MEMGUARD_NONE && e->reason == WATCHDOG_NONE)
        e->reason = count_refusal(refused, e->statement_bytes);
}

WatchdogReason watchdog_account_refusal(MemguardRefusal refused, int64_t statement_bytes)
{
    if (refused == MEMGUARD_NONE)
        return WATCHDOG_NONE;
    pthread_mutex_lock(&lock);
    WatchdogReason why = count_refusal(refused, statement_bytes);
    pthread_mutex_unlock(&lock);
    return why;
}

/* Interrupts the statement of `e` for `why`; the caller holds `lock`. */
static void interrupt(WatchdogEntry *e, WatchdogReason why, int64_t used, int64_t total)
{
    if (e->reason == WATCHDOG_NONE) {
        stats.interrupted++;
        stats.timeouts += why == WATCHDOG_TIMEOUT;
        stats.statement_memory += why == WATCHDOG_STATEMENT_MEMORY;
        stats.server_memory += why == WATCHDOG_SERVER_MEMORY;
        log_interrupt(e, why, used, total);
    }
    e->reason = why;
    /* Again at every tick (watchdog.h): a query that starts clears the flag. */
    duckdb_interrupt(e->con);
}

static int count_entries(void)
{
    int n = 0;
    for (WatchdogEntry *e = entries; e; e = e->next)
        n++;
    return n;
}

/*
 * At MemoryHardLimit: exits. Above MemoryLimit: interrupts the statement that allocated the most,
 * or every running one when none holds a share of the limit (watchdog.h). The caller holds `lock`.
 */
static void enforce_server_limit(int64_t now)
{
    int64_t total = memstat_total(NULL);
    memguard_tick(total);
    if (limits.hard_bytes && total >= limits.hard_bytes) {
        /* What no interrupt reaches (DuckDB folding a constant call while it plans, one huge
         * value) must not take the machine: exit, and the supervisor restarts the server with
         * every committed transaction, as PostgreSQL resets after an out-of-memory kill. */
        char total_text[32], hard_text[32];
        memstat_format_size(total_text, sizeof(total_text), total);
        memstat_format_size(hard_text, sizeof(hard_text), limits.hard_bytes);
        log_error("the server's memory (%s) reached MemoryHardLimit (%s): exiting with status %d "
                  "so that the supervisor restarts the server; %d statements were running",
                  total_text, hard_text, WATCHDOG_EXIT_STATUS, count_entries());
        _exit(WATCHDOG_EXIT_STATUS);
    }
    if (now < memory_settle_ms || !limits.server_bytes)
        return;
    if (total <= limits.server_bytes)
        return;
    WatchdogEntry *largest = NULL;
    int64_t largest_used = 0;
    for (WatchdogEntry *e = entries; e; e = e->next) {
        if (memory_reason(e->reason))
            return; /* its memory is freed when it returns */
        int64_t used = allocated(e);
        if (e->reason == WATCHDOG_NONE && (!largest || used > largest_used)) {
            largest = e;
            largest_used = used;
        }
    }
    if (largest && largest_used >= limits.server_bytes / WATCHDOG_ATTRIBUTED_SHARE) {
        interrupt(largest, WATCHDOG_SERVER_MEMORY, largest_used, total);
        return;
    }
    bool any = false;
    for (WatchdogEntry *e = entries; e; e = e->next) {
        if (e->reason == WATCHDOG_NONE) {
            interrupt(e, WATCHDOG_SERVER_MEMORY, allocated(e), total);
            any = true;
        }
    }
    if (!any && now - unattributed_logged_ms >= 60000) {
        char total_text[32], limit_text[32];
        memstat_format_size(total_text, sizeof(total_text), total);
        memstat_format_size(limit_text, sizeof(limit_text), limits.server_bytes);
        log_warn("the server's memory (%s) is above MemoryLimit (%s) and no statement is "
                 "running that could be interrupted (logged once a minute at most)",
                 total_text, limit_text);
        unattributed_logged_ms = now;
    }
}

/* One look at every entry; the caller holds `lock`. */
static void check_all(int64_t now)
{
    for (WatchdogEntry *e = entries; e; e = e->next) {
        take_refusal(e);
        WatchdogReason why = e->reason;
        int64_t used = 0;
        if (why == WATCHDOG_NONE && shutting_down)
            why = WATCHDOG_SHUTDOWN;
        if (why == WATCHDOG_NONE && e->deadline_ms && now >= e->deadline_ms)
            why = WATCHDOG_TIMEOUT;
        if (why == WATCHDOG_NONE && e->fd >= 0 && client_gone(e->fd))
            why = WATCHDOG_CLIENT_GONE;
        if (why == WATCHDOG_NONE && e->statement_bytes &&
            (used = allocated(e)) > e->statement_bytes)
            why = WATCHDOG_STATEMENT_MEMORY;
        if (why == WATCHDOG_NONE)
            continue;
        interrupt(e, why, used, 0);
    }
    if (limits.server_bytes || limits.hard_bytes || memguard_enabled())
        enforce_server_limit(now);
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!stopping && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&wake, &lock, &until);
        if (!stopping)
            check_all(now_ms());
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int watchdog_start(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &attr);
    pthread_condattr_destroy(&attr);
    stopping = false;
    /* Signals are for the I/O thread's signalfd (server.c): the thread
     * starts with all of them blocked, whatever the caller's mask is. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&thread, NULL, watchdog_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_error("cannot start the watchdog thread");
        pthread_cond_destroy(&wake);
        return -1;
    }
    running = true;
    return 0;
}

void watchdog_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    pthread_cond_destroy(&wake);
    running = false;
}

void watchdog_set_memory_limits(const WatchdogMemoryLimits *lim)
{
    limits = *lim;
    if (memguard_set_limits(limits.server_bytes))
        log_info("memory guard on: worker threads are refused memory beyond "
                 "StatementMemoryLimit and MemoryLimit");
}

void watchdog_memory_limits(WatchdogMemoryLimits *out)
{
    *out = limits;
}

static int64_t deadline_from_now(int64_t timeout_ms)
{
    return timeout_ms > 0 ? now_ms() + timeout_ms : 0;
}

void watchdog_watch(WatchdogEntry *e, duckdb_connection con, int fd, int64_t timeout_ms,
                    uint64_t session_id)
{
    *e = (WatchdogEntry){.con = con,
                         .fd = fd,
                         .timeout_ms = timeout_ms,
                         .registered = true,
                         .session_id = session_id};
    e->deadline_ms = deadline_from_now(timeout_ms);
    e->mem = memstat_thread();
    e->mem_start = memstat_thread_net(e->mem);
    e->statement_bytes = limits.statement_bytes;
    e->guard = memguard_begin(e->mem_start, e->statement_bytes);
    pthread_mutex_lock(&lock);
    e->next = entries;
    if (entries)
        entries->prev = e;
    entries = e;
    pthread_mutex_unlock(&lock);
}

void watchdog_set_statement_memory(WatchdogEntry *e, int64_t bytes)
{
    pthread_mutex_lock(&lock);
    e->statement_bytes = bytes;
    pthread_mutex_unlock(&lock);
    if (e->guard)
        memguard_set_statement(bytes);
}

WatchdogReason watchdog_restart(WatchdogEntry *e)
{
    if (!e->registered)
        return WATCHDOG_NONE;
    int64_t deadline = deadline_from_now(e->timeout_ms);
    pthread_mutex_lock(&lock);
    take_refusal(e);
    e->deadline_ms = deadline;
    if (e->reason == WATCHDOG_TIMEOUT)
        e->reason = WATCHDOG_NONE;
    if (shutting_down)
        e->reason = WATCHDOG_SHUTDOWN;
    WatchdogReason why = e->reason;
    pthread_mutex_unlock(&lock);
    return why;
}

void watchdog_interrupt_all(void)
{
    pthread_mutex_lock(&lock);
    shutting_down = true;
    check_all(now_ms());
    pthread_mutex_unlock(&lock);
}

bool watchdog_cancel(uint64_t session_id)
{
    bool hit = false;
    if (session_id == 0)
        return false;
    pthread_mutex_lock(&lock);
    for (WatchdogEntry *e = entries; e; e = e->next) {
        if (e->session_id != session_id)
            continue;
        if (e->reason == WATCHDOG_NONE) {
            stats.interrupted++;
            log_info("interrupting a statement: a cancel request for its session");
            e->reason = WATCHDOG_CANCELED;
            duckdb_interrupt(e->con);
            hit = true;
        }
        break; /* a session runs one request at a time */
    }
    pthread_mutex_unlock(&lock);
    return hit;
}

WatchdogReason watchdog_reason(WatchdogEntry *e)
{
    if (!e->registered)
        return e->reason;
    pthread_mutex_lock(&lock);
    take_refusal(e);
    WatchdogReason why = e->reason;
    pthread_mutex_unlock(&lock);
    return why;
}

WatchdogReason watchdog_unwatch(WatchdogEntry *e)
{
    if (!e->registered)
        return e->reason;
    if (e->guard)
        memguard_end();
    pthread_mutex_lock(&lock);
    take_refusal(e);
    if (e->prev)
        e->prev->next = e->next;
    else
        entries = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->registered = false;
    WatchdogReason why = e->reason;
    if (memory_reason(why))
        memory_settle_ms = now_ms() + WATCHDOG_MEMORY_SETTLE_MS;
    pthread_mutex_unlock(&lock);
    return why;
}

void watchdog_stats(WatchdogStats *out)
{
    pthread_mutex_lock(&lock);
    *out = stats;
    pthread_mutex_unlock(&lock);
}
