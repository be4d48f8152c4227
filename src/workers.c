/*
 * workers: a pool of threads that grows while every thread is stuck on
 * long work. See workers.h.
 *
 * Slots. The pool has `max` slots, each EMPTY, RUNNING (a thread runs the
 * loop) or EXITED (its thread retired and waits to be joined). Slot states,
 * `running` and `peak` change under `lock`; a RUNNING slot's `busy_since`
 * (0: idle) is written by its own thread and read by the owner without the
 * lock, as an atomic. `idle` counts the RUNNING threads not busy, so the
 * owner's tick on a server with an idle thread costs one atomic load.
 */
#include "workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

typedef enum { SLOT_EMPTY, SLOT_RUNNING, SLOT_EXITED } SlotState;

struct Worker {
    Workers *pool;
    pthread_t tid;
    SlotState state;            /* under pool->lock */
    _Atomic int64_t busy_since; /* CLOCK_MONOTONIC ms; 0: idle */
};

struct Workers {
    pthread_mutex_t lock;
    int base, max;
    _Atomic int running; /* RUNNING slots; changed under lock, read anywhere */
    _Atomic int peak;
    _Atomic int idle;             /* RUNNING slots not busy */
    _Atomic int64_t last_full_ms; /* when the pool last had no idle thread */
    WorkersLoop loop;
    bool (*work_waiting)(void *ctx);
    void *ctx;
    Worker *slots; /* `max` of them */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *thread_main(void *arg)
{
    Worker *self = arg;
    self->pool->loop(self->pool->ctx, self);
    return NULL;
}

/*
 * Starts a thread in a free slot (joining a retired thread first). Lock
 * held. Returns false when the pool is full or the thread cannot start.
 */
static bool spawn(Workers *w)
{
    Worker *slot = NULL;
    for (int i = 0; i < w->max && !slot; i++) {
        if (w->slots[i].state == SLOT_EXITED) {
            pthread_join(w->slots[i].tid, NULL);
            w->slots[i].state = SLOT_EMPTY;
        }
        if (w->slots[i].state == SLOT_EMPTY)
            slot = &w->slots[i];
    }
    if (!slot)
        return false;
    atomic_store(&slot->busy_since, 0);
    slot->state = SLOT_RUNNING;
    w->running++;
    atomic_fetch_add(&w->idle, 1);
    if (pthread_create(&slot->tid, NULL, thread_main, slot) != 0) {
        slot->state = SLOT_EMPTY;
        w->running--;
        atomic_fetch_sub(&w->idle, 1);
        return false;
    }
    if (w->running > atomic_load(&w->peak))
        atomic_store(&w->peak, w->running);
    return true;
}

Workers *workers_start(int base, int max, WorkersLoop loop, bool (*work_waiting)(void *ctx),
                       void *ctx)
{
    if (max < base)
        max = base;
    Workers *w = xcalloc(1, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    w->base = base;
    w->max = max;
    w->loop = loop;
    w->work_waiting = work_waiting;
    w->ctx = ctx;
    w->slots = xcalloc((size_t)max, sizeof(*w->slots));
    for (int i = 0; i < max; i++)
        w->slots[i].pool = w;
    pthread_mutex_lock(&w->lock);
    int started = 0;
    while (started < base && spawn(w))
        started++;
    pthread_mutex_unlock(&w->lock);
    if (started == 0) {
        log_error("cannot start worker threads");
        workers_join(w);
        return NULL;
    }
    if (started < base)
        log_warn("started %d of %d worker threads", started, base);
    return w;
}

int workers_tick(Workers *w)
{
    if (atomic_load(&w->idle) > 0)
        return -1;
    int64_t now = now_ms();
    atomic_store(&w->last_full_ms, now);
    int64_t newest = 0;
    pthread_mutex_lock(&w->lock);
    bool full = w->running >= w->max;
    for (int i = 0; i < w->max && !full; i++) {
        if (w->slots[i].state != SLOT_RUNNING)
            continue;
        int64_t since = atomic_load(&w->slots[i].busy_since);
        if (since == 0) { /* went idle meanwhile */
            newest = now;
            break;
        }
        if (since > newest)
            newest = since;
    }
    /* Every thread has been busy for WORKERS_LONG_MS at least, and work is
     * waiting: one more thread. One per tick, so a burst of short work
     * that happens to outlast the threshold grows the pool slowly. */
    if (!full && now - newest >= WORKERS_LONG_MS && w->work_waiting(w->ctx)) {
        if (spawn(w))
            log_debug("all %d worker threads busy with long work: started one more",
                      w->running - 1);
    }
    pthread_mutex_unlock(&w->lock);
    return WORKERS_TICK_MS;
}

void workers_join(Workers *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->max; i++) {
        pthread_mutex_lock(&w->lock);
        Worker *s = &w->slots[i];
        bool joinable = s->state != SLOT_EMPTY;
        pthread_mutex_unlock(&w->lock);
        if (joinable)
            pthread_join(s->tid, NULL);
    }
    pthread_mutex_destroy(&w->lock);
    free(w->slots);
    free(w);
}

int workers_wait_ms(const Worker *self)
{
    /* Without the lock: a stale count costs one more wait, or a retire
     * check that workers_retire() makes again under the lock. */
    Workers *w = self->pool;
    return atomic_load(&w->running) > w->base ? WORKERS_RETIRE_CHECK_MS : -1;
}

bool workers_retire(Worker *self)
{
    Workers *w = self->pool;
    if (atomic_load(&w->running) <= w->base)
        return false;
    bool retire = false;
    int64_t now = now_ms();
    pthread_mutex_lock(&w->lock);
    /* The pool as a whole has had an idle thread for WORKERS_RETIRE_MS: this
     * thread is one too many, whichever thread the kernel woke last. */
    if (w->running > w->base && atomic_load(&w->idle) > 0 &&
        now - atomic_load(&w->last_full_ms) >= WORKERS_RETIRE_MS) {
        self->state = SLOT_EXITED;
        w->running--;
        atomic_fetch_sub(&w->idle, 1);
        retire = true;
    }
    pthread_mutex_unlock(&w->lock);
    return retire;
}

/*
 * The calling worker took the last idle place while another worker is
 * stuck on long work (busy WORKERS_LONG_MS or more): start a spare thread
 * now, so that the next short request finds an idle worker instead of
 * waiting for the owner's tick to see every worker stuck (up to
 * WORKERS_LONG_MS + WORKERS_TICK_MS). Under short work alone no worker is
 * stuck, so this only costs a scan when the last idle worker gets busy.
 */
static void keep_a_spare(Workers *w, const Worker *self)
{
    int64_t now = now_ms();
    pthread_mutex_lock(&w->lock);
    bool stuck = false;
    for (int i = 0; i < w->max && !stuck; i++) {
        const Worker *o = &w->slots[i];
        int64_t since = o == self || o->state != SLOT_RUNNING ? 0 : atomic_load(&o->busy_since);
        stuck = since != 0 && now - since >= WORKERS_LONG_MS;
    }
    if (stuck && atomic_load(&w->idle) == 0 && w->running < w->max && spawn(w))
        log_debug("a worker thread is busy with long work: started a spare one");
    pthread_mutex_unlock(&w->lock);
}

void workers_busy(Worker *self)
{
    int64_t now = now_ms();
    atomic_store(&self->busy_since, now);
    if (atomic_fetch_sub(&self->pool->idle, 1) == 1) {
        atomic_store(&self->pool->last_full_ms, now);
        keep_a_spare(self->pool, self);
    }
}

void workers_idle(Worker *self)
{
    atomic_store(&self->busy_since, 0);
    atomic_fetch_add(&self->pool->idle, 1);
}

int workers_count(const Workers *w)
{
    return w ? atomic_load(&((Workers *)w)->running) : 0;
}

int workers_peak(const Workers *w)
{
    return w ? atomic_load(&((Workers *)w)->peak) : 0;
}
