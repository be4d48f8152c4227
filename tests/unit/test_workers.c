/*
 * Unit tests of workers.c: the pool stays at its base size while a thread
 * is idle, starts a spare thread when the last idle one takes work beside
 * long work, grows one thread per tick while every thread is stuck on long
 * work and work waits, never past its maximum, and joins every thread.
 * (Retiring takes WORKERS_RETIRE_MS of idleness; the end-to-end suite,
 * test_fairness.py, waits for it.)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "workers.h"

/* Each thread takes one "job" (blocks until released) while jobs are available. */
typedef struct Fixture {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int jobs_waiting; /* work no thread has taken */
    int jobs_running; /* taken, blocked until `release` */
    bool release, stop;
} Fixture;

static void loop(void *ctx, Worker *self)
{
    Fixture *f = ctx;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->stop && f->jobs_waiting == 0)
            pthread_cond_wait(&f->cond, &f->lock);
        if (f->stop)
            break;
        f->jobs_waiting--;
        f->jobs_running++;
        workers_busy(self);
        while (!f->release && !f->stop)
            pthread_cond_wait(&f->cond, &f->lock);
        f->jobs_running--;
        workers_idle(self);
    }
    pthread_mutex_unlock(&f->lock);
}

static bool waiting(void *ctx)
{
    Fixture *f = ctx;
    pthread_mutex_lock(&f->lock);
    bool w = f->jobs_waiting > 0;
    pthread_mutex_unlock(&f->lock);
    return w;
}

static void add_jobs(Fixture *f, int n)
{
    pthread_mutex_lock(&f->lock);
    f->jobs_waiting += n;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static int running_jobs(Fixture *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->jobs_running;
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* Ticks as the owner would until `done` or about 10 s. */
static bool tick_until(Workers *w, Fixture *f, int want_running)
{
    for (int i = 0; i < 2000; i++) {
        if (running_jobs(f) == want_running)
            return true;
        workers_tick(w);
        usleep(5000);
    }
    return false;
}

static void test_grows_under_long_work_up_to_max(void)
{
    Fixture f = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    Workers *w = workers_start(2, 5, loop, waiting, &f);
    CHECK(w != NULL);
    CHECK(workers_count(w) == 2);
    /* With an idle thread, a tick adds none. */
    CHECK(workers_tick(w) == -1);
    CHECK(workers_count(w) == 2);
    /* One job that becomes long; a second takes the last idle place: a spare thread starts at
     * once, without a tick, and stays idle (nothing else waits). */
    add_jobs(&f, 1);
    CHECK(tick_until(w, &f, 1));
    usleep((WORKERS_LONG_MS + 30) * 1000);
    add_jobs(&f, 1);
    CHECK(tick_until(w, &f, 2));
    for (int i = 0; i < 200 && workers_count(w) < 3; i++)
        usleep(5000);
    CHECK(workers_count(w) == 3);
    /* Work waiting while every thread is stuck: one more per tick, never past max. */
    add_jobs(&f, 6);
    CHECK(tick_until(w, &f, 5));
    for (int i = 0; i < 20; i++) {
        workers_tick(w);
        usleep(5000);
    }
    CHECK(workers_count(w) == 5 && workers_peak(w) == 5);
    CHECK(running_jobs(&f) == 5);
    pthread_mutex_lock(&f.lock);
    f.release = true;
    f.stop = true;
    pthread_cond_broadcast(&f.cond);
    pthread_mutex_unlock(&f.lock);
    workers_join(w);
}

int main(void)
{
    UNIT_RUN(test_grows_under_long_work_up_to_max);
    return unit_summary("workers");
}
