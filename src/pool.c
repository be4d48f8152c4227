/*
 * pool: open DuckDB databases with pin counts and LRU eviction. See pool.h.
 *
 * Slots live in one array of `size` entries. Lookups scan the array: `size`
 * is small (tens), and a scan of it costs less than the DuckDB work that
 * follows every acquire. A slot's life:
 *
 *   FREE ---claim---> OPENING ---open ok---> OPEN (pins >= 1) <--> OPEN (pins 0)
 *    ^                  |  ^                                          |
 *    +----open failed---+  +------------- CLOSING <-------claim-------+
 *
 * A claim (under the lock) gives a FREE or unpinned OPEN slot to one
 * acquiring thread for database `id`; from then on that thread alone moves
 * the slot on, doing DuckDB's slow work outside the lock: an OPEN slot
 * becomes CLOSING (old database still in `id`, the new one in `next_id`),
 * is checkpointed and closed, becomes OPENING, and is opened. Because the
 * claimed slot goes straight from CLOSING to OPENING, no other thread can
 * take it in between, and find() sees the new id from the claim on, so two
 * threads never open the same database.
 *
 * Two kinds of waiting, both without polling:
 * - For the same database: an acquire whose id is in an OPENING or CLOSING
 *   slot sleeps on `settled`, which every end of an OPENING or CLOSING
 *   state broadcasts. That work needs no release to finish, so this wait has
 *   no deadline. Few threads ever wait here, so a broadcast is cheap.
 * - For a slot: when no slot is FREE or unpinned, an acquire appends a
 *   Waiter (on its own stack, with its own condition variable) to the FIFO
 *   queue. Whoever makes a slot available (the last release of a pin, or a
 *   failed open) claims it for the head of the queue and signals only that
 *   waiter, which wakes owning the slot. While the queue is not empty, no
 *   slot is FREE or unpinned (each one is handed over the moment it is), so
 *   a newcomer cannot overtake the queue. A waiter that times out unlinks
 *   itself under the lock; one that was handed a slot at the same moment
 *   keeps it. When a waiter is handed a slot, later waiters for the same id
 *   are dropped from the queue and woken: they join that slot as hits.
 *
 * A broken slot (DuckDB invalidated its instance; pool.h, "Containment")
 * stays OPEN for the pins it has, but find() no longer sees it, so the same
 * database may be opened in a second slot meanwhile. That is safe because
 * DuckDB writes nothing more through an invalidated instance: every query
 * and commit on it fails at its start, and its close skips the checkpoint.
 * Its temporary directory is another matter: DuckDB deletes its temporary
 * files at close, so the fresh instance gets a directory of its own
 * (`<id>.duckdb.tmp.<slot>`) while a broken one of the same id lives. One
 * window is left: a commit that passed DuckDB's validity check just before
 * the invalidation and writes its WAL record after the fresh instance has
 * replayed the WAL; it would need a commit slower than the failing request's
 * answer, the check and a whole open of the database.
 */
#include "pool.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <unistd.h>

#include "log.h"
#include "parallel.h"
#include "reply.h"
#include "rescache.h"
#include "xalloc.h"

typedef enum { SLOT_FREE, SLOT_OPENING, SLOT_OPEN, SLOT_CLOSING } SlotState;

struct PoolDb {
    SlotState state;
    int64_t id;      /* the database in the slot (CLOSING: the one being closed) */
    int64_t next_id; /* CLOSING only: the database the slot was claimed for */
    int pins;
    uint64_t last_used; /* pool clock at the last release, for LRU */
    duckdb_database handle;
    /* PoolConfig.on_open's value for this opening of the database; set
     * before the slot becomes OPEN, freed with on_close when it is closed. */
    void *attachment;
    /* Bumped (atomically, without the lock) whenever a statement that can
     * change what other statements mean ran on the database; see
     * pool_db_schema_gen(). Never reset, so a slot reused for another
     * database only makes its caches look stale, never fresh. */
    uint64_t schema_gen;
    /* pool_db_claim_link(): atomic, without the lock. Always false while
     * unpinned (claims end before the release), so a reused slot starts
     * unclaimed. */
    bool link_claimed;
    /* DuckDB invalidated this instance (pool_db_check_invalidated): find()
     * skips the slot, and its last release closes it without a checkpoint.
     * Under the lock; false again once the slot is FREE. */
    bool broken;
};

/* An acquire queued for a slot. Lives on the waiting thread's stack; linked
 * into the pool's queue only while that thread sleeps under the lock. */
typedef struct Waiter Waiter;
struct Waiter {
    int64_t id;
    pthread_cond_t wake; /* signalled once: `slot` set, or `dropped` */
    PoolDb *slot;        /* handed over, already claimed for `id` */
    bool dropped;        /* another waiter got a slot for `id`: look again */
    Waiter *next;
};

struct Pool {
    char dir[1024]; /* data_dir/databases */
    int threads;    /* DuckDB threads per database, resolved (at least 1) */
    bool helpers;   /* parallel_start() was called */
    char memory_limit[64];
    int wait_ms;
    int max_waiters;
    void *(*on_open)(duckdb_connection con, int64_t id);
    void (*on_close)(void *attachment);
    bool archive;
    void (*before_close)(int64_t id);

    pthread_mutex_t lock;   /* guards everything below */
    pthread_cond_t settled; /* an OPENING or CLOSING state ended */
    int size;
    PoolDb *slots;
    Waiter *queue_head, *queue_tail; /* acquires waiting for a slot, oldest first */
    int queued;
    uint64_t clock;
    uint64_t hits, misses, evictions, waits, timeouts, rejected, invalidated;
    int64_t *retired; /* dropped databases (pool_retire), never opened again */
    size_t nretired, retired_cap;
};

/* True when `id` was dropped. Lock held. */
static bool is_retired(const Pool *p, int64_t id)
{
    for (size_t i = 0; i < p->nretired; i++)
        if (p->retired[i] == id)
            return true;
    return false;
}

static void db_path(const Pool *p, int64_t id, const char *suffix, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%lld.duckdb%s", p->dir, (long long)id, suffix);
}

void pool_db_state(Pool *p, int64_t id, PoolDbState *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->size; i++) {
        PoolDb *s = &p->slots[i];
        if (s->state != SLOT_OPEN || s->id != id || s->broken)
            continue;
        out->open = true;
        out->pins = s->pins;
        out->link_busy = __atomic_load_n(&s->link_claimed, __ATOMIC_ACQUIRE);
    }
    pthread_mutex_unlock(&p->lock);
}

int64_t pool_file_bytes(Pool *p, int64_t id)
{
    char path[1200];
    struct stat st;
    int64_t total = 0;
    db_path(p, id, "", path, sizeof(path));
    if (stat(path, &st) == 0)
        total += st.st_size;
    db_path(p, id, ".wal", path, sizeof(path));
    if (stat(path, &st) == 0)
        total += st.st_size;
    return total;
}

/* The cores this process may run on (taskset, cpusets), at least 1. */
static int cores_available(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

Pool *pool_new(const PoolConfig *cfg, char *err, size_t errlen)
{
    Pool *p = xcalloc(1, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "%s/databases", cfg->data_dir);
    if (mkdir(p->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", p->dir, strerror(errno));
        free(p);
        return NULL;
    }
    p->threads = cfg->threads > 0 ? cfg->threads : cores_available();
    /* DuckDB starts no thread of its own (external_threads, open_db): the
     * statement's worker and, past PARALLEL_DELAY_MS, these helpers run its
     * tasks (parallel.h). */
    if (p->threads > 1) {
        if (parallel_start(p->threads - 1) != 0) {
            snprintf(err, errlen, "cannot start %d parallel helper threads", p->threads - 1);
            free(p);
            return NULL;
        }
        p->helpers = true;
    }
    snprintf(p->memory_limit, sizeof(p->memory_limit), "%s", cfg->memory_limit);
    p->wait_ms = cfg->wait_ms;
    p->max_waiters = cfg->max_waiters;
    p->on_open = cfg->on_open;
    p->on_close = cfg->on_close;
    p->archive = cfg->archive;
    p->before_close = cfg->before_close;
    p->size = cfg->size;
    p->slots = xcalloc((size_t)cfg->size, sizeof(PoolDb));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->settled, NULL);
    return p;
}

/*
 * Opens the DuckDB file of `id` inside the sandbox. `create` allows a new
 * file; otherwise a missing file is an error (it would be a silent empty
 * database). `temp_tag` >= 0 gives the instance the temporary directory
 * `<id>.duckdb.tmp.<temp_tag>` instead of `<id>.duckdb.tmp` (the latter is a
 * broken instance's, which deletes its contents when it is closed).
 */
static int open_db(Pool *p, int64_t id, bool create, int temp_tag, duckdb_database *out, char *err,
                   size_t errlen)
{
    char path[1100], tmp[1100], suffix[32];
    snprintf(suffix, sizeof(suffix), temp_tag < 0 ? ".tmp" : ".tmp.%d", temp_tag);
    db_path(p, id, "", path, sizeof(path));
    db_path(p, id, suffix, tmp, sizeof(tmp));
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
        {"threads", threads},
        /* All of them the server's: the statement's worker and parallel.c's helpers. */
        {"external_threads", threads},
        {"memory_limit", p->memory_limit[0] ? p->memory_limit : NULL},
        /* No plan may embed the table statistics of the moment it was built
         * (docs/architecture.md, "Invariant: no plan outlives its
         * statistics"): DuckDB 1.5.6 keeps such rewrites in prepared plans,
         * which the statement cache re-executes and which run in another
         * transaction than the one that prepared them. statistics_propagation
         * prunes filters, folds IS NULL, turns count(x) into count(*), answers
         * min/max/count from metadata and picks perfect-hash aggregates and
         * joins from min/max; row_group_pruner rewrites an OFFSET from row
         * group counts. Global in 1.5.6, and locked with the rest below. */
        {"disabled_optimizers", "statistics_propagation,row_group_pruner"},
        /* Continuous archiving (walarchive.h): checkpoints only when the
         * server runs them, and a log that holds every row it commits
         * (with optimistic writes, a bulk insert's rows go to the file
         * before the commit and the log only points at them). */
        {"checkpoint_threshold", p->archive ? "1TB" : NULL},
        {"enable_optimistic_write", p->archive ? "false" : NULL},
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

/* Runs PoolConfig.on_open on a fresh connection to a database just opened. */
static void *attach(Pool *p, int64_t id, duckdb_database handle)
{
    duckdb_connection con = NULL;
    void *attachment = NULL;
    if (!p->on_open)
        return NULL;
    if (duckdb_connect(handle, &con) != DuckDBSuccess) {
        log_error("cannot connect to database %lld after opening it", (long long)id);
        return NULL;
    }
    attachment = p->on_open(con, id);
    duckdb_disconnect(&con);
    return attachment;
}

/* Frees a slot's attachment; the slot is no one's but the caller's. */
static void detach(Pool *p, PoolDb *s)
{
    if (p->on_close && s->attachment)
        p->on_close(s->attachment);
    s->attachment = NULL;
}

/* Checkpoints and closes a database handle; the checkpoint makes the next
 * open fast (no WAL to replay) and leaves a single self-contained file. An
 * invalidated (`broken`) instance can neither checkpoint nor write: it is
 * only closed. */
static void close_db(Pool *p, int64_t id, duckdb_database *handle, bool broken)
{
    duckdb_connection con = NULL;
    if (!broken && p->before_close)
        p->before_close(id);
    if (!broken && duckdb_connect(*handle, &con) == DuckDBSuccess) {
        duckdb_result res;
        if (duckdb_query(con, "CHECKPOINT", &res) != DuckDBSuccess)
            log_warn("checkpoint of database %lld failed: %s", (long long)id,
                     duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        duckdb_disconnect(&con);
    }
    duckdb_close(handle);
}

/* The slot holding `id`, or being opened or closed for it, or NULL. */
static PoolDb *find(Pool *p, int64_t id)
{
    for (int i = 0; i < p->size; i++) {
        PoolDb *s = &p->slots[i];
        if (s->state == SLOT_FREE || s->broken)
            continue;
        if (s->id == id || (s->state == SLOT_CLOSING && s->next_id == id))
            return s;
    }
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
        if (s->state == SLOT_OPEN && !s->broken && s->pins == 0 &&
            (!victim || s->last_used < victim->last_used))
            victim = s;
    }
    return victim;
}

/* Claims `s` (FREE, or OPEN without pins) for database `id`: the calling or
 * handed-over thread must then fill() it. Lock held. */
static void claim(Pool *p, PoolDb *s, int64_t id)
{
    assert(s->state == SLOT_FREE || (s->state == SLOT_OPEN && s->pins == 0));
    if (s->state == SLOT_OPEN) {
        s->state = SLOT_CLOSING;
        s->next_id = id;
        p->evictions++;
    } else {
        s->state = SLOT_OPENING;
        s->id = id;
        s->handle = NULL;
    }
}

static void queue_append(Pool *p, Waiter *w)
{
    w->next = NULL;
    if (p->queue_tail)
        p->queue_tail->next = w;
    else
        p->queue_head = w;
    p->queue_tail = w;
    p->queued++;
}

static void queue_remove(Pool *p, Waiter *w)
{
    Waiter *prev = NULL;
    for (Waiter *q = p->queue_head; q; prev = q, q = q->next) {
        if (q != w)
            continue;
        if (prev)
            prev->next = w->next;
        else
            p->queue_head = w->next;
        if (p->queue_tail == w)
            p->queue_tail = prev;
        p->queued--;
        return;
    }
    assert(!"waiter not in the queue");
}

/*
 * Slot `s` has just become available (FREE, or OPEN without pins): claims
 * it for the oldest waiter and wakes that waiter alone. Later waiters for
 * the same database leave the queue too, to join the slot as hits. Without
 * waiters the slot stays available. Lock held.
 */
static void hand_over(Pool *p, PoolDb *s)
{
    Waiter *w = p->queue_head;
    if (!w)
        return;
    queue_remove(p, w);
    claim(p, s, w->id);
    w->slot = s;
    pthread_cond_signal(&w->wake);
    for (Waiter *q = p->queue_head, *next; q; q = next) {
        next = q->next;
        if (q->id != w->id)
            continue;
        queue_remove(p, q);
        q->dropped = true;
        pthread_cond_signal(&q->wake);
    }
}

/* True when a broken instance of `id` is still open. Lock held. */
static bool broken_instance_lives(const Pool *p, int64_t id)
{
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].broken && p->slots[i].id == id)
            return true;
    return false;
}

/*
 * Closes the broken slot `s`, whose last pin was just released, and frees
 * it. The slot is CLOSING meanwhile (still broken, so find() ignores it and
 * a fresh open of the same database keeps its own temporary directory).
 * Called and returns with the lock held.
 */
static void close_broken(Pool *p, PoolDb *s)
{
    int64_t id = s->id;
    duckdb_database h = s->handle;
    s->state = SLOT_CLOSING;
    s->next_id = id;
    pthread_mutex_unlock(&p->lock);
    detach(p, s);
    close_db(p, id, &h, true);
    log_info("database %lld: its invalidated instance is closed", (long long)id);
    pthread_mutex_lock(&p->lock);
    s->handle = NULL;
    s->broken = false;
    s->state = SLOT_FREE;
    pthread_cond_broadcast(&p->settled);
}

/*
 * Finishes a claim: closes the evicted database if the slot was OPEN, then
 * opens `id` in it, pinned once for the caller. DuckDB's work runs without
 * the lock; the slot's state keeps every other thread off it meanwhile.
 * Called and returns with the lock held.
 */
static PoolStatus fill(Pool *p, PoolDb *s, int64_t id, char *err, size_t errlen)
{
    if (s->state == SLOT_CLOSING) {
        assert(s->next_id == id);
        int64_t old_id = s->id;
        duckdb_database old = s->handle;
        pthread_mutex_unlock(&p->lock);
        detach(p, s);
        close_db(p, old_id, &old, false);
        pthread_mutex_lock(&p->lock);
        s->state = SLOT_OPENING;
        s->id = id;
        s->handle = NULL;
        pthread_cond_broadcast(&p->settled);
    }
    assert(s->state == SLOT_OPENING && s->id == id);
    if (is_retired(p, id)) {
        snprintf(err, errlen, "database %lld was dropped", (long long)id);
        s->state = SLOT_FREE;
        pthread_cond_broadcast(&p->settled);
        hand_over(p, s);
        return POOL_ERROR;
    }
    int temp_tag = broken_instance_lives(p, id) ? (int)(s - p->slots) : -1;
    pthread_mutex_unlock(&p->lock);
    duckdb_database h = NULL;
    void *attachment = NULL;
    int rc = open_db(p, id, false, temp_tag, &h, err, errlen);
    if (rc == 0)
        attachment = attach(p, id, h);
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->settled);
    if (rc != 0) {
        s->state = SLOT_FREE;
        hand_over(p, s);
        return POOL_ERROR;
    }
    s->handle = h;
    s->attachment = attachment;
    s->state = SLOT_OPEN;
    s->pins = 1;
    p->misses++;
    return POOL_OK;
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

/*
 * Queues the caller for a slot and sleeps until one is handed over (returns
 * it, claimed for `id`), the caller is dropped because another waiter got a
 * slot for `id` (returns NULL, *out_dropped set), or `deadline` passes
 * (returns NULL). Lock held.
 */
static PoolDb *wait_for_slot(Pool *p, int64_t id, const struct timespec *deadline,
                             bool *out_dropped)
{
    Waiter w = {.id = id};
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.wake, &attr);
    pthread_condattr_destroy(&attr);
    queue_append(p, &w);
    int rc = 0;
    while (!w.slot && !w.dropped && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w.wake, &p->lock, deadline);
    /* A hand-over unlinks the waiter; only a timed-out one is still queued. */
    if (!w.slot && !w.dropped)
        queue_remove(p, &w);
    pthread_cond_destroy(&w.wake);
    *out_dropped = w.dropped;
    return w.slot;
}

PoolStatus pool_acquire(Pool *p, int64_t id, PoolDb **out_db, char *err, size_t errlen)
{
    struct timespec deadline;
    bool queued_once = false;
    PoolStatus st = POOL_OK;
    deadline_after(&deadline, p->wait_ms);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (is_retired(p, id)) {
            snprintf(err, errlen, "database %lld was dropped", (long long)id);
            st = POOL_ERROR;
            break;
        }
        PoolDb *s = find(p, id);
        if (s && s->state == SLOT_OPEN) {
            s->pins++;
            p->hits++;
            *out_db = s;
            break;
        }
        if (s) {
            /* Another thread is opening or closing this database. */
            pthread_cond_wait(&p->settled, &p->lock);
            continue;
        }
        s = p->queue_head ? NULL : free_or_victim(p);
        if (s) {
            claim(p, s, id);
        } else {
            if (p->queued >= p->max_waiters) {
                p->rejected++;
                snprintf(err, errlen,
                         "all %d open databases are in use and %d other connects are waiting",
                         p->size, p->queued);
                st = POOL_BUSY;
                break;
            }
            if (!queued_once)
                p->waits++;
            queued_once = true;
            bool dropped = false;
            s = wait_for_slot(p, id, &deadline, &dropped);
            if (dropped)
                continue;
            if (!s) {
                p->timeouts++;
                snprintf(err, errlen, "all %d open databases are in use", p->size);
                st = POOL_BUSY;
                break;
            }
        }
        st = fill(p, s, id, err, errlen);
        if (st == POOL_OK)
            *out_db = s;
        break;
    }
    pthread_mutex_unlock(&p->lock);
    return st;
}

void pool_release(Pool *p, PoolDb *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&p->lock);
    if (db->state != SLOT_OPEN || db->pins <= 0)
        log_fatal("pool_release of database %lld that is not pinned", (long long)db->id);
    db->pins--;
    db->last_used = ++p->clock;
    if (db->pins == 0 && db->broken)
        close_broken(p, db);
    if (db->pins == 0)
        hand_over(p, db);
    pthread_mutex_unlock(&p->lock);
}

int pool_connect(Pool *p, int64_t id, PoolDb **out_db, duckdb_connection *out_con, Buf *out)
{
    PoolDb *db = NULL;
    duckdb_connection con = NULL;
    char err[512] = "";
    int rc = -1;
    PoolStatus ps = pool_acquire(p, id, &db, err, sizeof(err));
    if (ps == POOL_BUSY) {
        reply_server_busy(out, err);
        goto out;
    }
    if (ps != POOL_OK) {
        log_error("cannot open database %lld: %s", (long long)id, err);
        reply_internal(out);
        goto out;
    }
    if (duckdb_connect(pool_db_handle(db), &con) != DuckDBSuccess) {
        log_error("cannot connect to database %lld", (long long)id);
        reply_internal(out);
        goto out;
    }
    *out_db = db;
    *out_con = con;
    db = NULL;
    con = NULL;
    rc = 0;
out:
    pool_disconnect(p, &db, &con);
    return rc;
}

void pool_disconnect(Pool *p, PoolDb **db, duckdb_connection *con)
{
    if (*con)
        duckdb_disconnect(con);
    *con = NULL;
    pool_release(p, *db);
    *db = NULL;
}

duckdb_database pool_db_handle(PoolDb *db)
{
    return db->handle;
}

void *pool_db_attachment(PoolDb *db)
{
    return db->attachment;
}

uint64_t pool_db_schema_gen(const PoolDb *db)
{
    return __atomic_load_n(&db->schema_gen, __ATOMIC_ACQUIRE);
}

void pool_db_schema_bump(PoolDb *db)
{
    __atomic_add_fetch(&db->schema_gen, 1, __ATOMIC_ACQ_REL);
}

bool pool_db_claim_link(PoolDb *db)
{
    bool expected = false;
    return __atomic_compare_exchange_n(&db->link_claimed, &expected, true, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

void pool_db_unclaim_link(PoolDb *db)
{
    __atomic_store_n(&db->link_claimed, false, __ATOMIC_RELEASE);
}

bool pool_db_check_invalidated(Pool *p, PoolDb *db)
{
    duckdb_connection con = NULL;
    duckdb_result res;
    char why[256] = "cannot connect to it";
    bool invalid = true;
    /* The handle is stable while the caller holds its pin. */
    if (duckdb_connect(db->handle, &con) == DuckDBSuccess) {
        invalid = false;
        if (duckdb_query(con, "SELECT 1", &res) != DuckDBSuccess) {
            const char *e = duckdb_result_error(&res);
            invalid = duckdb_result_error_type(&res) == DUCKDB_ERROR_FATAL ||
                      (e && strstr(e, "database has been invalidated"));
            snprintf(why, sizeof(why), "%s", e ? e : "no message");
            char *nl = strchr(why, '\n');
            if (nl)
                *nl = '\0';
        }
        duckdb_destroy_result(&res);
        duckdb_disconnect(&con);
    }
    if (!invalid)
        return false;
    pthread_mutex_lock(&p->lock);
    bool first = !db->broken;
    db->broken = true;
    int pins = db->pins;
    int64_t id = db->id;
    if (first)
        p->invalidated++;
    pthread_mutex_unlock(&p->lock);
    /* Its answers were computed by the instance now dropped; a failed commit
     * may or may not be in the file the next instance replays. */
    if (first)
        rescache_invalidate_db(id);
    if (first)
        log_error("database %lld: DuckDB invalidated it (%s); the next connect opens it afresh, "
                  "the %d sessions on it get errors until they connect again",
                  (long long)id, why, pins);
    return true;
}

int pool_create_file(Pool *p, int64_t id, char *err, size_t errlen)
{
    pool_remove_file(p, id);
    duckdb_database h = NULL;
    if (open_db(p, id, true, -1, &h, err, errlen) != 0)
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
    db_path(p, id, ".wal.checkpoint", path, sizeof(path));
    unlink(path);
}

void pool_file_path(const Pool *p, int64_t id, const char *suffix, char *out, size_t outlen)
{
    if (id < 0)
        snprintf(out, outlen, "%s/%s", p->dir, suffix);
    else
        db_path(p, id, suffix, out, outlen);
}

int pool_retire(Pool *p, int64_t id)
{
    int rc = -1;
    pthread_mutex_lock(&p->lock);
    PoolDb *s = find(p, id);
    if ((s && (s->state != SLOT_OPEN || s->pins > 0)) || broken_instance_lives(p, id))
        goto out;
    for (Waiter *w = p->queue_head; w; w = w->next)
        if (w->id == id)
            goto out;
    if (!is_retired(p, id)) {
        if (p->nretired == p->retired_cap) {
            p->retired_cap = p->retired_cap ? 2 * p->retired_cap : 16;
            p->retired = xrealloc(p->retired, p->retired_cap * sizeof(*p->retired));
        }
        p->retired[p->nretired++] = id;
    }
    rc = 0;
    if (!s)
        goto out;
    /* Open without pins: close it. CLOSING with no database to open next
     * (next_id -1, never an id) keeps every other thread off the slot. */
    duckdb_database h = s->handle;
    s->state = SLOT_CLOSING;
    s->next_id = -1;
    pthread_mutex_unlock(&p->lock);
    detach(p, s);
    close_db(p, id, &h, false);
    pthread_mutex_lock(&p->lock);
    s->handle = NULL;
    s->state = SLOT_FREE;
    pthread_cond_broadcast(&p->settled);
    hand_over(p, s);
out:
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void pool_unretire(Pool *p, int64_t id)
{
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->nretired; i++) {
        if (p->retired[i] == id) {
            p->retired[i] = p->retired[--p->nretired];
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
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
    out->rejected = p->rejected;
    out->invalidated = p->invalidated;
    out->waiting = p->queued;
    pthread_mutex_unlock(&p->lock);
}

void pool_free(Pool *p)
{
    if (!p)
        return;
    assert(!p->queue_head);
    for (int i = 0; i < p->size; i++) {
        PoolDb *s = &p->slots[i];
        assert(s->state == SLOT_FREE || s->state == SLOT_OPEN);
        if (s->state != SLOT_OPEN)
            continue;
        if (s->pins > 0)
            log_warn("closing database %lld with %d pins", (long long)s->id, s->pins);
        detach(p, s);
        close_db(p, s->id, &s->handle, s->broken);
    }
    if (p->helpers)
        parallel_stop();
    pthread_cond_destroy(&p->settled);
    pthread_mutex_destroy(&p->lock);
    free(p->slots);
    free(p->retired);
    free(p);
}
