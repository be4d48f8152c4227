/*
 * parallel: helper threads that execute the DuckDB tasks of statements that
 * have run for PARALLEL_DELAY_MS (parallel.h says why and how).
 */
#include "parallel.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "memguard.h"
#include "memstat.h"

/* How long a helper waits for new tasks of its statement when there are
 * none (between two pipelines, or while the worker finishes alone or sends
 * a long result) before it looks again: from the first to the last, doubling
 * while it finds none, so that a pipeline's tasks are picked up within a
 * tenth of a millisecond and a statement that streams its answer for
 * seconds costs a helper a wake-up every few milliseconds. */
#define PARALLEL_NAP_FIRST_US 100
#define PARALLEL_NAP_LAST_US 4000

/* The scout keeps looking every PARALLEL_DELAY_MS until no statement has
 * started for this long, and only then sleeps until parallel_enter() wakes
 * it: under a stream of small statements it wakes 500 times a second
 * instead of once or twice per statement. */
#define PARALLEL_SCOUT_IDLE_MS 100

static struct {
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t scout; /* the scout's sleep: an entry was added to an empty list */
    pthread_cond_t crew;  /* the other idle helpers': the scout found a long statement */
    pthread_cond_t nap;   /* a helper's wait for tasks: an entry left, or stop */
    pthread_cond_t left;  /* a helper stopped working for an entry that has left */
    ParallelEntry *head;  /* the entered statements, oldest first */
    ParallelEntry *tail;
    bool scout_taken;     /* an idle helper is the scout */
    bool scout_idle;      /* the scout sleeps until an entry comes */
    double last_enter_ms; /* when the latest entry came */
    bool stopping;
    int starts; /* parallel_start() calls not yet stopped (the helpers are shared) */
    int nthreads;
    pthread_t *threads;
} P = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .scout = PTHREAD_COND_INITIALIZER,
    .crew = PTHREAD_COND_INITIALIZER,
    .nap = PTHREAD_COND_INITIALIZER,
    .left = PTHREAD_COND_INITIALIZER,
};

/* Monotonic time; the condition variables wait on the same clock. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct timespec at_ms(double ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1e3);
    ts.tv_nsec = (long)((ms - ts.tv_sec * 1e3) * 1e6);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* CPU time the entry's worker thread has used since parallel_enter(). */
static double cpu_used_ms(const ParallelEntry *e)
{
    struct timespec ts;
    if (clock_gettime(e->cpu_clock, &ts) != 0)
        return 0;
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6 - e->cpu_start_ms;
}

/* The entry to help, or NULL: one whose worker has used PARALLEL_DELAY_MS of
 * CPU for it (wall time alone would also count the time a loaded machine
 * kept a small statement off the CPU), with the fewest helpers, the oldest
 * among equals. Lock held: a listed entry's worker thread is alive. */
static ParallelEntry *pick(double now)
{
    ParallelEntry *best = NULL;
    for (ParallelEntry *e = P.head; e && e->start_ms + PARALLEL_DELAY_MS <= now; e = e->next)
        if ((!best || e->helping < best->helping) && cpu_used_ms(e) >= PARALLEL_DELAY_MS)
            best = e;
    return best;
}

/* Executes the tasks of e's database until e leaves. Lock held on entry and
 * return, released while tasks run. */
static void help(ParallelEntry *e)
{
    e->helping++;
    duckdb_database db = e->db;
    int64_t statement_bytes = e->statement_bytes;
    pthread_mutex_unlock(&P.lock);
    memguard_begin(memstat_thread_net(memstat_thread()), statement_bytes);
    duckdb_task_state st = duckdb_create_task_state(db);
    pthread_mutex_lock(&P.lock);
    int nap_us = PARALLEL_NAP_FIRST_US;
    while (e->listed && !P.stopping) {
        pthread_mutex_unlock(&P.lock);
        idx_t done = st ? duckdb_execute_n_tasks_state(st, 16) : 0;
        pthread_mutex_lock(&P.lock);
        if (done > 0) {
            nap_us = PARALLEL_NAP_FIRST_US;
        } else if (e->listed && !P.stopping) {
            struct timespec until = at_ms(now_ms() + nap_us / 1e3);
            pthread_cond_timedwait(&P.nap, &P.lock, &until);
            if (nap_us < PARALLEL_NAP_LAST_US)
                nap_us *= 2;
        }
    }
    /* The task state outlives no statement: destroyed before leave returns. */
    pthread_mutex_unlock(&P.lock);
    duckdb_destroy_task_state(st);
    memguard_end();
    pthread_mutex_lock(&P.lock);
    if (--e->helping == 0 && !e->listed)
        pthread_cond_broadcast(&P.left);
}

static void *helper_main(void *arg)
{
    (void)arg;
    /* Visible in top -H, perf and /proc/PID/task/TID/comm. */
    pthread_setname_np(pthread_self(), "tdb-parallel");
    pthread_mutex_lock(&P.lock);
    while (!P.stopping) {
        ParallelEntry *e = pick(now_ms());
        if (e) {
            help(e);
            continue;
        }
        if (P.scout_taken) {
            pthread_cond_wait(&P.crew, &P.lock);
            continue;
        }
        P.scout_taken = true;
        double now = now_ms();
        if (!P.head && now - P.last_enter_ms > PARALLEL_SCOUT_IDLE_MS) {
            P.scout_idle = true;
            pthread_cond_wait(&P.scout, &P.lock);
            P.scout_idle = false;
        } else {
            /* The oldest entry's delay, or another look a delay from now. */
            double at = P.head ? P.head->start_ms + PARALLEL_DELAY_MS : 0;
            struct timespec until = at_ms(at > now ? at : now + PARALLEL_DELAY_MS);
            pthread_cond_timedwait(&P.scout, &P.lock, &until);
        }
        P.scout_taken = false;
        if (pick(now_ms()))
            pthread_cond_broadcast(&P.crew); /* every idle helper joins */
    }
    pthread_mutex_unlock(&P.lock);
    return NULL;
}

int parallel_start(int helpers)
{
    if (helpers <= 0)
        return 0;
    if (P.starts++ > 0)
        return 0; /* another pool's (unit tests): the first one's helpers serve both */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&P.scout, &attr);
    pthread_cond_init(&P.nap, &attr);
    pthread_condattr_destroy(&attr);
    P.threads = calloc((size_t)helpers, sizeof(*P.threads));
    if (!P.threads) {
        P.starts = 0;
        return -1;
    }
    /* The helpers start with every signal blocked: SIGTERM and the like are
     * the server's I/O thread's (signalfd), never a default action here. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = 0;
    for (int i = 0; i < helpers; i++) {
        if (pthread_create(&P.threads[i], NULL, helper_main, NULL) != 0) {
            log_error("cannot start parallel helper thread %d of %d", i + 1, helpers);
            rc = -1;
            break;
        }
        P.nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        parallel_stop();
    return rc;
}

void parallel_stop(void)
{
    if (P.starts == 0 || --P.starts > 0)
        return;
    pthread_mutex_lock(&P.lock);
    P.stopping = true;
    pthread_cond_broadcast(&P.scout);
    pthread_cond_broadcast(&P.crew);
    pthread_cond_broadcast(&P.nap);
    pthread_mutex_unlock(&P.lock);
    for (int i = 0; i < P.nthreads; i++)
        pthread_join(P.threads[i], NULL);
    free(P.threads);
    P.threads = NULL;
    P.nthreads = 0;
    pthread_mutex_lock(&P.lock);
    P.stopping = false;
    pthread_mutex_unlock(&P.lock);
}

void parallel_enter(ParallelEntry *e, duckdb_database db, int64_t statement_bytes)
{
    e->db = db;
    e->statement_bytes = statement_bytes;
    e->helping = 0;
    e->listed = false;
    e->prev = e->next = NULL;
    if (!db)
        return;
    e->start_ms = now_ms();
    struct timespec cpu;
    if (pthread_getcpuclockid(pthread_self(), &e->cpu_clock) != 0 ||
        clock_gettime(e->cpu_clock, &cpu) != 0)
        return; /* not lent: the scout could not tell how long it ran */
    e->cpu_start_ms = cpu.tv_sec * 1e3 + cpu.tv_nsec / 1e6;
    pthread_mutex_lock(&P.lock);
    P.last_enter_ms = e->start_ms;
    if (P.nthreads > 0) {
        e->listed = true;
        e->prev = P.tail;
        if (P.tail)
            P.tail->next = e;
        else
            P.head = e;
        P.tail = e;
        if (P.scout_idle)
            pthread_cond_signal(&P.scout);
    }
    pthread_mutex_unlock(&P.lock);
}

void parallel_leave(ParallelEntry *e)
{
    if (!e->listed)
        return;
    pthread_mutex_lock(&P.lock);
    if (e->listed) {
        e->listed = false;
        if (e->prev)
            e->prev->next = e->next;
        else
            P.head = e->next;
        if (e->next)
            e->next->prev = e->prev;
        else
            P.tail = e->prev;
        if (e->helping > 0) {
            pthread_cond_broadcast(&P.nap);
            while (e->helping > 0)
                pthread_cond_wait(&P.left, &P.lock);
        }
    }
    pthread_mutex_unlock(&P.lock);
}
