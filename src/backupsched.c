/*
 * backupsched: the thread behind BackupSchedule and BackupRetention; see
 * backupsched.h. Its state (`S`) is its own but for `stop`, which
 * backupsched_stop() sets under `lock`.
 */
#include "backupsched.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backup.h"
#include "catalog.h"
#include "log.h"
#include "pool.h"
#include "walfile.h"
#include "walrestore.h"
#include "xalloc.h"

/* A database this thread backed up, and when its files last changed then. */
typedef struct Seen {
    int64_t id;
    struct timespec changed;
} Seen;

static struct {
    const SessionEnv *env;
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    Seen *seen;
    size_t nseen, cap;
    struct {
        int64_t id;
        char name[CATALOG_NAME_MAX + 1];
    } * dbs; /* the databases of one round */
    size_t nids, idcap;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void add_id(void *ctx, const char *const *cols, int ncols)
{
    (void)ctx;
    /* The catalog's lock is held here: its id is looked up after the list. */
    if (ncols < 1 || !cols[0])
        return;
    if (S.nids == S.idcap) {
        S.idcap = S.idcap ? 2 * S.idcap : 16;
        S.dbs = xrealloc(S.dbs, S.idcap * sizeof(*S.dbs));
    }
    S.dbs[S.nids].id = 0;
    snprintf(S.dbs[S.nids++].name, sizeof(S.dbs[0].name), "%s", cols[0]);
}

/* The latest modification time of database `id`'s files. */
static struct timespec changed_at(int64_t id)
{
    static const char *const suffixes[] = {"", ".wal", ".wal.checkpoint"};
    struct timespec latest = {0, 0};
    for (size_t i = 0; i < 3; i++) {
        char path[1200];
        struct stat st;
        pool_file_path(S.env->pool, id, suffixes[i], path, sizeof(path));
        if (stat(path, &st) == 0 &&
            (st.st_mtim.tv_sec > latest.tv_sec ||
             (st.st_mtim.tv_sec == latest.tv_sec && st.st_mtim.tv_nsec > latest.tv_nsec)))
            latest = st.st_mtim;
    }
    return latest;
}

static Seen *seen_get(int64_t id)
{
    for (size_t i = 0; i < S.nseen; i++)
        if (S.seen[i].id == id)
            return &S.seen[i];
    if (S.nseen == S.cap) {
        S.cap = S.cap ? 2 * S.cap : 16;
        S.seen = xrealloc(S.seen, S.cap * sizeof(*S.seen));
    }
    S.seen[S.nseen] = (Seen){.id = id, .changed = {-1, 0}};
    return &S.seen[S.nseen++];
}

/* Backs up every database changed since this thread last backed it up. */
static void backup_round(void)
{
    S.nids = 0;
    if (catalog_list(S.env->catalog, CATALOG_LIST_DATABASES, 0, add_id, NULL) != CATALOG_OK)
        return;
    for (size_t i = 0; i < S.nids; i++) {
        if (catalog_database_find(S.env->catalog, S.dbs[i].name, &S.dbs[i].id) != CATALOG_OK)
            continue;
        Seen *seen = seen_get(S.dbs[i].id);
        struct timespec now = changed_at(S.dbs[i].id);
        if (now.tv_sec == seen->changed.tv_sec && now.tv_nsec == seen->changed.tv_nsec)
            continue;
        /* The files' time is read before the copy: a change during it is seen next round. */
        if (backup_database(S.env, S.dbs[i].name) == 0)
            seen->changed = now;
    }
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *run(void *arg)
{
    (void)arg;
    time_t next_backup = 0, next_prune = 0;
    pthread_mutex_lock(&S.lock);
    while (!S.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&S.wake, &S.lock, &ts);
        if (S.stop)
            break;
        pthread_mutex_unlock(&S.lock);
        const Config *cfg = S.env->cfg;
        time_t now = time(NULL);
        if (cfg->backup_schedule_sec > 0 && now >= next_backup) {
            next_backup = now + cfg->backup_schedule_sec;
            backup_round();
        }
        if (cfg->backup_retention_sec > 0 && now >= next_prune) {
            /* Short retentions (tests) are applied each second. */
            next_prune = now + (cfg->backup_retention_sec < 600 ? 1 : 60);
            int64_t keep_from = now_us() - (int64_t)cfg->backup_retention_sec * 1000000;
            int b = backup_prune(cfg, keep_from);
            int a = walrestore_prune(cfg, keep_from);
            if (a + b > 0)
                log_info("backup retention: removed %d base backups and %d archive segments "
                         "older than %d s",
                         b, a, cfg->backup_retention_sec);
        }
        pthread_mutex_lock(&S.lock);
    }
    pthread_mutex_unlock(&S.lock);
    return NULL;
}

int backupsched_start(const SessionEnv *env)
{
    S.env = env;
    sigset_t all, old;
    sigfillset(&all);
    /* Signals are the I/O thread's (a signalfd, server.c): none may land here. */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&S.thread, NULL, run, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -1;
    S.started = true;
    return 0;
}

void backupsched_stop(void)
{
    if (!S.started)
        return;
    pthread_mutex_lock(&S.lock);
    S.stop = true;
    pthread_cond_signal(&S.wake);
    pthread_mutex_unlock(&S.lock);
    pthread_join(S.thread, NULL);
    S.started = false;
    free(S.seen);
    free(S.dbs);
    S.seen = NULL;
    S.dbs = NULL;
    S.nseen = S.cap = S.nids = S.idcap = 0;
}
