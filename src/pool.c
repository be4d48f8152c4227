/*
 * pool: open DuckDB databases with pin counts and LRU eviction. See pool.h.
 *
 * Slots live in one array of `size` entries. A slot is FREE, OPENING (a
 * thread is opening the file without the lock), OPEN (usable; `pins`
 * sessions use it), or CLOSING (a thread is checkpointing and closing it
 * without the lock). Lookups scan the array: `size` is small (tens), and a
 * scan of it costs less than the DuckDB work that follows every acquire.
 * Waiters for a slot, or for a slot of the same id to finish opening or
 * closing, sleep on one condition variable that every state change signals.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

typedef enum { SLOT_FREE, SLOT_OPENING, SLOT_OPEN, SLOT_CLOSING } SlotState;

struct PoolDb {
    SlotState state;
    int64_t id;
    int pins;
    uint64_t last_used; /* pool clock at the last release, for LRU */
    duckdb_database handle;
};

struct Pool {
    char dir[1024]; /* data_dir/databases */
    int threads;
    char memory_limit[64];
    int wait_ms;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t changed;
    int size;
    PoolDb *slots;
    uint64_t clock;
    uint64_t hits, misses, evictions, waits, timeouts;
};

static void db_path(const Pool *p, int64_t id, const char *suffix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%lld.duckdb%s", p->dir, (long long)id, suffix);
}

Pool *pool_new(const PoolConfig *cfg, char *err, size_t errlen)
{
    Pool *p = calloc(1, sizeof(*p));
    if (!p)
        log_fatal("out of memory");
    snprintf(p->dir, sizeof(p->dir), "%s/databases", cfg->data_dir);
    if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", p->dir, strerror(errno));
        free(p);
        return NULL;
    }
    p->threads = cfg->threads;
    snprintf(p->memory_limit, sizeof(p->memory_limit), "%s", cfg->memory_limit);
    p->wait_ms = cfg->wait_ms;
    p->size = cfg->size;
    p->slots = calloc((size_t)cfg->size, sizeof(PoolDb));
    if (!p->slots)
        log_fatal("out of memory");
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->changed, &attr);
    pthread_condattr_destroy(&attr);
    return p;
}

/*
 * Opens the DuckDB file of `id` inside the sandbox. `create` allows a new
 * file; otherwise a missing file is an error (it would be a silent empty
 * database).
 */
static int open_db(Pool *p, int64_t id, bool create, duckdb_database *out, char *err, size_t errlen)
{
    char path[1100], tmp[1100];
    db_path(p, id, "", path, sizeof(path));
    db_path(p, id, ".tmp", tmp, sizeof(tmp));
    if (!create && access(path, F_OK) != 0) {
        snprintf(err, errlen, "the file of database %lld is missing: %s", (long long)id, path);
        return -1;
    }
    duckdb_config config = NULL;
    char *open_err = NULL;
    int rc = -1;
    char threads[16];
    snprintf(threads, sizeof(threads), "%d", p->threads);
    struct {
        const char *name, *value;
    } settings[] = {
        {"temp_directory", tmp},
        {"enable_external_access", "false"},
        {"autoinstall_known_extensions", "false"},
        {"autoload_known_extensions", "false"},
        {"allow_community_extensions", "false"},
        {"threads", p->threads > 0 ? threads : NULL},
        {"memory_limit", p->memory_limit[0] ? p->memory_limit : NULL},
        /* Last, so nothing can be changed after it. */
        {"lock_configuration", "true"},
    };
    if (duckdb_create_config(&config) != DuckDBSuccess) {
        snprintf(err, errlen, "out of memory creating a DuckDB config");
        goto out;
    }
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        if (!settings[i].value)
            continue;
        if (duckdb_set_config(config, settings[i].name, settings[i].value) != DuckDBSuccess) {
            snprintf(err, errlen, "DuckDB rejected setting %s=%s", settings[i].name,
                     settings[i].value);
            goto out;
        }
    }
    if (duckdb_open_ext(path, out, config, &open_err) != DuckDBSuccess) {
        snprintf(err, errlen, "%s", open_err ? open_err : "cannot open the database");
        goto out;
    }
    rc = 0;
out:
    duckdb_free(open_err);
    duckdb_destroy_config(&config);
    return rc;
}

/* Checkpoints and closes a database handle; the checkpoint makes the next
 * open fast (no WAL to replay) and leaves a single self-contained file. */
static void close_db(int64_t id, duckdb_database *handle)
{
    duckdb_connection con = NULL;
    if (duckdb_connect(*handle, &con) == DuckDBSuccess) {
        duckdb_result res;
        if (duckdb_query(con, "CHECKPOINT", &res) != DuckDBSuccess)
            log_warn("checkpoint of database %lld failed: %s", (long long)id,
                     duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        duckdb_disconnect(&con);
    }
    duckdb_close(handle);
}

static PoolDb *find(Pool *p, int64_t id)
{
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].state != SLOT_FREE && p->slots[i].id == id)
            return &p->slots[i];
    return NULL;
}

/* A free slot, else the least recently used unpinned open one, else NULL. */
static PoolDb *free_or_victim(Pool *p)
{
    PoolDb *victim = NULL;
    for (int i = 0; i < p->size; i++) {
        PoolDb *s = &p->slots[i];
        if (s->state == SLOT_FREE)
            return s;
        if (s->state == SLOT_OPEN && s->pins == 0 && (!victim || s->last_used < victim->last_used))
            victim = s;
    }
    return victim;
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

PoolStatus pool_acquire(Pool *p, int64_t id, PoolDb **out_db, char *err, size_t errlen)
{
    struct timespec deadline;
    bool waited = false;
    deadline_after(&deadline, p->wait_ms);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        PoolDb *s = find(p, id);
        if (s && s->state == SLOT_OPEN) {
            s->pins++;
            p->hits++;
            pthread_mutex_unlock(&p->lock);
            *out_db = s;
            return POOL_OK;
        }
        if (!s) {
            s = free_or_victim(p);
            if (s && s->state == SLOT_OPEN) {
                /* Evict: close outside the lock, then retry from the top. */
                s->state = SLOT_CLOSING;
                p->evictions++;
                int64_t victim_id = s->id;
                duckdb_database h = s->handle;
                pthread_mutex_unlock(&p->lock);
                close_db(victim_id, &h);
                pthread_mutex_lock(&p->lock);
                s->state = SLOT_FREE;
                s->handle = NULL;
                pthread_cond_broadcast(&p->changed);
                continue;
            }
            if (s) {
                s->state = SLOT_OPENING;
                s->id = id;
                s->pins = 0;
                p->misses++;
                pthread_mutex_unlock(&p->lock);
                duckdb_database h = NULL;
                int rc = open_db(p, id, false, &h, err, errlen);
                pthread_mutex_lock(&p->lock);
                if (rc != 0) {
                    s->state = SLOT_FREE;
                    pthread_cond_broadcast(&p->changed);
                    pthread_mutex_unlock(&p->lock);
                    return POOL_ERROR;
                }
                s->handle = h;
                s->state = SLOT_OPEN;
                s->pins = 1;
                pthread_cond_broadcast(&p->changed);
                pthread_mutex_unlock(&p->lock);
                *out_db = s;
                return POOL_OK;
            }
        }
        /* Every slot is pinned or busy, or our id is opening/closing: wait. */
        if (!waited) {
            p->waits++;
            waited = true;
        }
        if (pthread_cond_timedwait(&p->changed, &p->lock, &deadline) == ETIMEDOUT) {
            p->timeouts++;
            pthread_mutex_unlock(&p->lock);
            snprintf(err, errlen, "all %d open databases are in use", p->size);
            return POOL_BUSY;
        }
    }
}

void pool_release(Pool *p, PoolDb *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&p->lock);
    if (db->pins <= 0)
        log_fatal("pool_release of database %lld that is not pinned", (long long)db->id);
    db->pins--;
    db->last_used = ++p->clock;
    if (db->pins == 0)
        pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

duckdb_database pool_db_handle(PoolDb *db)
{
    return db->handle;
}

int pool_create_file(Pool *p, int64_t id, char *err, size_t errlen)
{
    pool_remove_file(p, id);
    duckdb_database h = NULL;
    if (open_db(p, id, true, &h, err, errlen) != 0)
        return -1;
    duckdb_close(&h);
    return 0;
}

void pool_remove_file(Pool *p, int64_t id)
{
    char path[1100];
    db_path(p, id, "", path, sizeof(path));
    unlink(path);
    db_path(p, id, ".wal", path, sizeof(path));
    unlink(path);
}

void pool_stats(Pool *p, PoolStats *out)
{
    pthread_mutex_lock(&p->lock);
    memset(out, 0, sizeof(*out));
    out->size = p->size;
    for (int i = 0; i < p->size; i++) {
        if (p->slots[i].state == SLOT_OPEN) {
            out->open++;
            if (p->slots[i].pins > 0)
                out->pinned++;
        }
    }
    out->hits = p->hits;
    out->misses = p->misses;
    out->evictions = p->evictions;
    out->waits = p->waits;
    out->timeouts = p->timeouts;
    pthread_mutex_unlock(&p->lock);
}

void pool_free(Pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->size; i++) {
        PoolDb *s = &p->slots[i];
        if (s->state != SLOT_OPEN)
            continue;
        if (s->pins > 0)
            log_warn("closing database %lld with %d pins", (long long)s->id, s->pins);
        close_db(s->id, &s->handle);
    }
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    free(p->slots);
    free(p);
}
