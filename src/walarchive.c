/*
 * walarchive: continuous archiving of write-ahead logs; see walarchive.h
 * for the design and docs/backup.md for the measurements behind it.
 *
 * Layout: BackupDir/archive/<db id>/<segment id>/ holding
 *   base.db, base.wal   the base: the database file and the log's prefix
 *   wal                 the log's bytes after the base, appended at each flush
 *   index               text lines, each "<fields> #<16 hex>" (the hex: the
 *                       first 8 bytes of the SHA-256 of the fields):
 *     segment <db id> <base time us> <base log length> <encrypted 0|1>
 *     base <file> <plain bytes>              one per base file
 *     chunk <log offset> <plain bytes> <stored offset> <stored bytes>
 *     commit <time us> <log length>
 *     flush <time us>                         everything before is synced
 *     end <time us>                           the segment ended (checkpoint, close)
 * The index's first lines are written once the base is synced, so a segment
 * whose base was cut short has no `segment` line and is never used. A
 * flush writes the log's new bytes to `wal`, syncs it, then appends the
 * chunk and commit lines and syncs the index: a commit line is only ever
 * after the chunks holding its bytes. A torn last line (kill -9) is ignored;
 * a bad line before the last one makes the segment corrupt.
 *
 * The record and line formats are walfile.h's; walrestore.c reads them back.
 *
 * Locks: `registry_lock` guards the list of ArchiveDb; each ArchiveDb's
 * `gate` orders commits (read) against checkpoints and segment starts
 * (write); its `flock` serialises flushes and segment starts and ends (the
 * segment's files); its `lock` guards the commit records and is held only
 * for moments, never across I/O other than one stat() of the log, so a
 * commit never waits for the archive's writes and syncs (unless ArchiveSync
 * is 0 and it waits for its own record). Order: gate, flock, lock;
 * registry_lock is never held with any of them.
 */
#include "walarchive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "walfile.h"
#include "xalloc.h"

#define WA_CHECKPOINT_BYTES (64LL * 1024 * 1024) /* the server checkpoints past this log size */
#define WA_HEADER_BYTES 12288 /* DuckDB's file header and its two database headers */

typedef struct CommitRec {
    int64_t t_us, len;
} CommitRec;

struct ArchiveDb {
    int64_t id;
    pthread_rwlock_t gate;
    pthread_mutex_t flock;
    pthread_mutex_t lock;
    /* Written holding flock and lock, read holding either: */
    bool active;   /* a segment is open */
    ino_t wal_ino; /* the live log's inode, 0 until it exists (no descriptor is kept) */
    /* Written holding the gate (write) and flock, read holding the gate or flock: */
    char seg[48]; /* the segment's id */
    char dir[1200];
    char wal_path[1200];
    /* The database file's path, set with wal_path when a segment starts (on the thread
     * that opens the database): the archiver thread reads it, never the pool, which
     * main() frees before the archiver stops. */
    char db_path[1200];
    /* Under flock: */
    int64_t archived;  /* bytes of the live log archived (base prefix included) */
    int arch_fd;       /* the segment's `wal` */
    int64_t arch_size; /* its stored bytes */
    int index_fd;
    CommitRec *spare; /* the records a flush writes (swapped with `pending`) */
    size_t spare_cap;
    unsigned char header[WA_HEADER_BYTES]; /* the file's headers when a checkpoint began */
    /* The segment's base, until complete_base() copied it: */
    bool base_pending;
    int64_t base_t, base_db_bytes, base_wal_bytes;
    unsigned char base_header[WA_HEADER_BYTES];
    /* Under lock: */
    CommitRec *pending; /* recorded, not yet taken by a flush */
    size_t npending, cap;
    int64_t last_size; /* the live log's size at the last commit */
    int64_t due_at;    /* the log size from which a commit asks for a checkpoint */
    uint64_t recorded; /* commit records taken, ever (numbers them) */
    uint64_t flushed;  /* the records up to this number are synced (or their segment ended) */
    ArchiveDb *next;
};

static struct {
    bool on;
    int sync_ms;
    char root[1200]; /* BackupDir/archive */
    Pool *pool;
    bool have_key;
    SecretKey key;
    pthread_mutex_t registry_lock;
    ArchiveDb *dbs;
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
} W = {.registry_lock = PTHREAD_MUTEX_INITIALIZER,
       .stop_lock = PTHREAD_MUTEX_INITIALIZER,
       .stop_cond = PTHREAD_COND_INITIALIZER};

/* ---- helpers ---- */

/* ---- the registry ---- */

static ArchiveDb *registry_get(int64_t id, bool create)
{
    pthread_mutex_lock(&W.registry_lock);
    ArchiveDb *a = W.dbs;
    while (a && a->id != id)
        a = a->next;
    if (!a && create) {
        a = xcalloc(1, sizeof(*a));
        a->id = id;
        a->arch_fd = a->index_fd = -1;
        pthread_rwlock_init(&a->gate, NULL);
        pthread_mutex_init(&a->flock, NULL);
        pthread_mutex_init(&a->lock, NULL);
        a->next = W.dbs;
        W.dbs = a;
    }
    pthread_mutex_unlock(&W.registry_lock);
    return a;
}

bool walarchive_enabled(void)
{
    return W.on;
}

ArchiveDb *walarchive_db(int64_t id)
{
    return W.on ? registry_get(id, true) : NULL;
}

/* ---- segments ---- */

/* The live log's size (0 while it does not exist), or -1 when it is another
 * file than the one this segment archives (replaced behind the server's
 * back). Records its inode the first time; lock held (and the gate or
 * flock, for wal_path). */
static int64_t live_log_size(ArchiveDb *a)
{
    struct stat st;
    if (stat(a->wal_path, &st) != 0)
        return 0;
    if (a->wal_ino == 0)
        a->wal_ino = st.st_ino;
    else if (st.st_ino != a->wal_ino)
        return -1;
    return (int64_t)st.st_size;
}

static int complete_base(ArchiveDb *a);

/*
 * Archives the live log's bytes not archived yet and the commits recorded;
 * flock held, lock not. Returns 0, or -1 (logged) when the archive cannot be
 * written: the segment is then ended, so that no restore relies on it past
 * there. Commits go on meanwhile (they only take `lock`, for a moment);
 * their records wait for the next flush.
 */
static int flush(ArchiveDb *a, bool force)
{
    if (!a->active)
        return 0;
    if (a->base_pending && complete_base(a) != 0) {
        pthread_mutex_lock(&a->lock);
        a->active = false; /* the records taken meanwhile are dropped by end_segment */
        pthread_mutex_unlock(&a->lock);
        return -1;
    }
    char *buf = NULL;
    Buf lines = {0};
    int rc = -1, fd = -1;
    /* Take the records, then the log's size: every record's length was read
     * before it, and the log only grows within a segment, so the bytes
     * archived below cover every record taken. */
    pthread_mutex_lock(&a->lock);
    CommitRec *recs = a->pending;
    size_t nrecs = a->npending, recs_cap = a->cap;
    uint64_t upto = a->recorded;
    a->pending = a->spare;
    a->cap = a->spare_cap;
    a->npending = 0;
    int64_t size = live_log_size(a);
    pthread_mutex_unlock(&a->lock);
    a->spare = recs;
    a->spare_cap = recs_cap;
    if (size < 0) {
        log_error("archive of database %lld: the log was replaced by a checkpoint the server did "
                  "not run; the segment ends here",
                  (long long)a->id);
        goto out;
    }
    if (size < a->archived) {
        log_error("archive of database %lld: the log shrank (%lld < %lld bytes): a checkpoint "
                  "the server did not run; the segment ends here",
                  (long long)a->id, (long long)size, (long long)a->archived);
        goto out;
    }
    if (size > a->archived) {
        buf = xmalloc(WA_CHUNK);
        fd = open(a->wal_path, O_RDONLY | O_CLOEXEC);
        while (a->archived < size) {
            size_t n = size - a->archived < WA_CHUNK ? (size_t)(size - a->archived) : WA_CHUNK;
            int64_t stored = 0;
            if (fd < 0 || walfile_pread_all(fd, buf, n, a->archived) != 0 ||
                walfile_record_write(W.have_key ? &W.key : NULL, a->arch_fd, a->id, a->seg, "wal",
                                     a->archived, buf, n, &stored) != 0) {
                log_error("archive of database %lld: cannot write %s/wal: %s", (long long)a->id,
                          a->dir, strerror(errno));
                goto out;
            }
            char f[WA_LINE_MAX];
            snprintf(f, sizeof(f), "chunk %" PRId64 " %zu %" PRId64 " %" PRId64, a->archived, n,
                     a->arch_size, stored);
            buf_append_str(&lines, f);
            buf_putc(&lines, '\n');
            a->arch_size += stored;
            a->archived += (int64_t)n;
        }
        if (fsync(a->arch_fd) != 0) {
            log_error("archive of database %lld: cannot sync %s/wal: %s", (long long)a->id, a->dir,
                      strerror(errno));
            goto out;
        }
    }
    if (lines.len == 0 && nrecs == 0 && !force) {
        rc = 0;
        goto out;
    }
    /* Chunk lines first: a commit line never precedes the bytes it needs. */
    char *save = NULL;
    for (char *l = lines.len ? strtok_r((char *)buf_cstr(&lines), "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save))
        if (walfile_index_append(a->index_fd, l) != 0)
            goto fail_index;
    for (size_t i = 0; i < nrecs; i++) {
        char f[WA_LINE_MAX];
        snprintf(f, sizeof(f), "commit %" PRId64 " %" PRId64, recs[i].t_us, recs[i].len);
        if (walfile_index_append(a->index_fd, f) != 0)
            goto fail_index;
    }
    char f[WA_LINE_MAX];
    snprintf(f, sizeof(f), "flush %" PRId64, walfile_now_us());
    if (walfile_index_append(a->index_fd, f) != 0 || fsync(a->index_fd) != 0)
        goto fail_index;
    rc = 0;
    goto out;
fail_index:
    log_error("archive of database %lld: cannot write %s/index: %s", (long long)a->id, a->dir,
              strerror(errno));
out:
    /* Failed: the records taken are dropped with the segment (closed by the
     * caller's end_segment); waiting for them would be in vain. */
    pthread_mutex_lock(&a->lock);
    if (rc != 0)
        a->active = false;
    if (a->flushed < upto)
        a->flushed = upto;
    pthread_mutex_unlock(&a->lock);
    if (fd >= 0)
        close(fd);
    free(buf);
    buf_free(&lines);
    return rc;
}

/* Archives the tail, writes `end` and closes the segment's files; flock
 * held, lock not. */
static void end_segment(ArchiveDb *a)
{
    if (a->active && flush(a, false) == 0) {
        char f[WA_LINE_MAX];
        snprintf(f, sizeof(f), "end %" PRId64, walfile_now_us());
        if (walfile_index_append(a->index_fd, f) != 0 || fsync(a->index_fd) != 0)
            log_error("archive of database %lld: cannot end %s: %s", (long long)a->id, a->dir,
                      strerror(errno));
    }
    pthread_mutex_lock(&a->lock);
    a->active = false;
    a->npending = 0;
    a->flushed = a->recorded;
    a->wal_ino = 0;
    pthread_mutex_unlock(&a->lock);
    if (a->arch_fd >= 0)
        close(a->arch_fd);
    if (a->index_fd >= 0)
        close(a->index_fd);
    a->arch_fd = a->index_fd = -1;
}

/* Reads the database file's headers into `out`; false when it cannot. */
static bool read_header(const ArchiveDb *a, unsigned char *out)
{
    int fd = open(a->db_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    memset(out, 0, WA_HEADER_BYTES);
    ssize_t k = pread(fd, out, WA_HEADER_BYTES, 0);
    close(fd);
    return k > 0;
}

/* Copies the first `len` bytes of `src` into record file `dir/name`. */
static int copy_base(ArchiveDb *a, int src, int64_t len, const char *name)
{
    char path[1400];
    int rc = -1;
    snprintf(path, sizeof(path), "%s/%s", a->dir, name);
    int dst = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char *buf = xmalloc(WA_CHUNK);
    if (dst < 0)
        goto out;
    for (int64_t off = 0; off < len;) {
        size_t n = len - off < WA_CHUNK ? (size_t)(len - off) : WA_CHUNK;
        int64_t stored = 0;
        if (walfile_pread_all(src, buf, n, off) != 0 ||
            walfile_record_write(W.have_key ? &W.key : NULL, dst, a->id, a->seg, name, off, buf, n,
                                 &stored) != 0)
            goto out;
        off += (int64_t)n;
    }
    if (fsync(dst) != 0)
        goto out;
    rc = 0;
out:
    if (dst >= 0)
        close(dst);
    free(buf);
    return rc;
}

/* Removes a segment directory whose base was not completed (it has no index
 * lines, so it is never used; removing it keeps the archive tidy). */
static void remove_segment_dir(const ArchiveDb *a)
{
    const char *names[] = {"base.db", "base.wal", "wal", "index"};
    for (size_t i = 0; i < 4; i++) {
        char p[1400];
        snprintf(p, sizeof(p), "%s/%s", a->dir, names[i]);
        unlink(p);
    }
    rmdir(a->dir);
}

#ifdef TCPDUCKDB_TEST_HOOKS
/* Holds a base copy while the file named by TCPDUCKDB_TEST_ARCHIVE_BASE_PAUSE
 * exists, after creating `<that name>.reached` (tests/e2e/test_backup_pitr.py:
 * commits go on while a base is copied). Test builds only. */
static void test_pause_base_copy(void)
{
    const char *p = getenv("TCPDUCKDB_TEST_ARCHIVE_BASE_PAUSE");
    if (!p || access(p, F_OK) != 0)
        return;
    char mark[1200];
    snprintf(mark, sizeof(mark), "%s.reached", p);
    int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    while (access(p, F_OK) == 0) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
#endif

/*
 * Copies a started segment's base (the database file and the log's prefix
 * as they were at the segment's start) and writes the index's first lines.
 * flock held, lock and the gate not: commits run meanwhile, appending to the
 * log past the prefix and recording, and a commit's record waits in
 * `pending` for the first flush after this. The file cannot change
 * meanwhile: it changes only at a checkpoint (optimistic writes and
 * automatic checkpoints are off), and every checkpoint the server runs, and
 * the close, first take flock and flush, which comes here first. The headers
 * are compared after the copy all the same. Returns 0, or -1 (logged, the
 * directory removed).
 */
static int complete_base(ArchiveDb *a)
{
    char dbdir[1300], idx[1400], arch[1400], f[WA_LINE_MAX];
    int dbfd = -1, walfd = -1, rc = -1;
    const char *what = "copy its base into";
    unsigned char *now = xmalloc(WA_HEADER_BYTES);
    a->base_pending = false;
#ifdef TCPDUCKDB_TEST_HOOKS
    test_pause_base_copy();
#endif
    dbfd = open(a->db_path, O_RDONLY | O_CLOEXEC);
    int64_t l0 = a->base_wal_bytes;
    walfd = l0 > 0 ? open(a->wal_path, O_RDONLY | O_CLOEXEC) : -1;
    if (dbfd < 0 || (l0 > 0 && walfd < 0) || copy_base(a, dbfd, a->base_db_bytes, "base.db") != 0 ||
        copy_base(a, walfd >= 0 ? walfd : dbfd, l0, "base.wal") != 0)
        goto fail;
    if (!read_header(a, now) || memcmp(now, a->base_header, WA_HEADER_BYTES) != 0) {
        what = "keep its base (the file's headers changed during the copy) in";
        errno = 0;
        goto fail;
    }
    what = "write";
    snprintf(arch, sizeof(arch), "%s/wal", a->dir);
    snprintf(idx, sizeof(idx), "%s/index", a->dir);
    snprintf(dbdir, sizeof(dbdir), "%s/%lld", W.root, (long long)a->id);
    a->arch_fd = open(arch, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    a->index_fd = open(idx, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (a->arch_fd < 0 || a->index_fd < 0)
        goto fail;
    snprintf(f, sizeof(f), "segment %lld %" PRId64 " %" PRId64 " %d %d", (long long)a->id,
             a->base_t, l0, W.have_key ? 1 : 0, W.sync_ms == 0 ? 1 : 0);
    if (walfile_index_append(a->index_fd, f) != 0)
        goto fail;
    snprintf(f, sizeof(f), "base base.db %" PRId64, a->base_db_bytes);
    if (walfile_index_append(a->index_fd, f) != 0)
        goto fail;
    snprintf(f, sizeof(f), "base base.wal %" PRId64, l0);
    if (walfile_index_append(a->index_fd, f) != 0 || fsync(a->index_fd) != 0 ||
        walfile_fsync_dir(a->dir) != 0 || walfile_fsync_dir(dbdir) != 0)
        goto fail;
    log_info("archive of database %lld: segment %s started (base %lld + %lld bytes)",
             (long long)a->id, a->seg, (long long)a->base_db_bytes, (long long)l0);
    rc = 0;
    goto out;
fail:
    log_error("archive of database %lld: cannot %s %s: %s", (long long)a->id, what, a->dir,
              errno ? strerror(errno) : "-");
    if (a->arch_fd >= 0)
        close(a->arch_fd);
    if (a->index_fd >= 0)
        close(a->index_fd);
    a->arch_fd = a->index_fd = -1;
    remove_segment_dir(a);
out:
    if (dbfd >= 0)
        close(dbfd);
    if (walfd >= 0)
        close(walfd);
    free(now);
    return rc;
}

/*
 * Starts a segment at this moment: its time, the log's length and the
 * database file's size and headers, while no commit runs (the gate is held
 * in write mode); flock held, lock not. The copy of the base is left to the
 * segment's first flush (complete_base), which runs under flock only, so
 * commits do not wait for it (docs/backup.md, "A segment's base").
 */
static void start_segment(ArchiveDb *a)
{
    char dbdir[1300];
    int64_t t = walfile_now_us();
    struct stat st;
    end_segment(a);
    snprintf(dbdir, sizeof(dbdir), "%s/%lld", W.root, (long long)a->id);
    if ((mkdir(W.root, 0700) != 0 && errno != EEXIST) ||
        (mkdir(dbdir, 0700) != 0 && errno != EEXIST)) {
        log_error("archive of database %lld: cannot create %s: %s", (long long)a->id, dbdir,
                  strerror(errno));
        return;
    }
    char stamp[40];
    time_t s = (time_t)(t / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02d%02d%06dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000000));
    for (int n = 0;; n++) {
        if (n == 0)
            snprintf(a->seg, sizeof(a->seg), "%s", stamp);
        else
            snprintf(a->seg, sizeof(a->seg), "%s-%d", stamp, n);
        snprintf(a->dir, sizeof(a->dir), "%s/%s", dbdir, a->seg);
        if (mkdir(a->dir, 0700) == 0)
            break;
        if (errno != EEXIST || n > 100) {
            log_error("archive of database %lld: cannot create %s: %s", (long long)a->id, a->dir,
                      strerror(errno));
            return;
        }
    }
    pool_file_path(W.pool, a->id, "", a->db_path, sizeof(a->db_path));
    pool_file_path(W.pool, a->id, ".wal", a->wal_path, sizeof(a->wal_path));
    if (stat(a->db_path, &st) != 0 || !read_header(a, a->base_header)) {
        log_error("archive of database %lld: cannot read %s: %s", (long long)a->id, a->db_path,
                  strerror(errno));
        remove_segment_dir(a);
        return;
    }
    pthread_mutex_lock(&a->lock);
    a->wal_ino = 0;
    int64_t l0 = live_log_size(a);
    if (l0 < 0)
        l0 = 0; /* cannot be: wal_ino was just reset */
    a->last_size = l0;
    a->due_at = WA_CHECKPOINT_BYTES;
    a->active = true;
    pthread_mutex_unlock(&a->lock);
    a->base_t = t;
    a->base_db_bytes = (int64_t)st.st_size;
    a->base_wal_bytes = l0;
    a->base_pending = true;
    a->archived = l0;
    a->arch_size = 0;
}

/* ---- hooks ---- */

void walarchive_opened(int64_t id)
{
    if (!W.on)
        return;
    ArchiveDb *a = registry_get(id, true);
    pthread_rwlock_wrlock(&a->gate);
    pthread_mutex_lock(&a->flock);
    start_segment(a);
    pthread_mutex_unlock(&a->flock);
    pthread_rwlock_unlock(&a->gate);
}

void walarchive_closing(int64_t id)
{
    if (!W.on)
        return;
    ArchiveDb *a = registry_get(id, false);
    if (!a)
        return;
    pthread_rwlock_wrlock(&a->gate);
    pthread_mutex_lock(&a->flock);
    end_segment(a);
    pthread_mutex_unlock(&a->flock);
    pthread_rwlock_unlock(&a->gate);
}

void walarchive_commit_begin(ArchiveDb *a)
{
    if (a)
        pthread_rwlock_rdlock(&a->gate);
}

bool walarchive_commit_end(ArchiveDb *a)
{
    if (!a)
        return false;
    bool due = false, active;
    uint64_t mine = 0;
    pthread_mutex_lock(&a->lock);
    active = a->active;
    if (active) {
        /* The length first, then the time: everything up to `len` was in
         * the log at `t`, and `t` is before the commit is acknowledged. */
        int64_t len = live_log_size(a);
        int64_t t = walfile_now_us();
        if (len < 0)
            len = 0; /* the next flush ends the segment */
        if (len != a->last_size || a->npending > 0) {
            if (a->npending == a->cap) {
                a->cap = a->cap ? 2 * a->cap : 64;
                a->pending = xrealloc(a->pending, a->cap * sizeof(*a->pending));
            }
            a->pending[a->npending++] = (CommitRec){t, len};
            a->last_size = len;
            a->recorded++;
        }
        /* Not recorded (the log did not grow since the last record): that
         * record covers this commit's bytes, so this commit waits for it. */
        mine = a->recorded;
        due = len >= a->due_at;
    }
    pthread_mutex_unlock(&a->lock);
    if (active && W.sync_ms == 0) {
        /* Group commit: a flush takes every record made before it, so a
         * commit whose record another commit's flush took while this one
         * waited for flock has nothing left to do. */
        pthread_mutex_lock(&a->flock);
        pthread_mutex_lock(&a->lock);
        bool done = a->flushed >= mine;
        pthread_mutex_unlock(&a->lock);
        if (!done && flush(a, false) != 0)
            end_segment(a);
        pthread_mutex_unlock(&a->flock);
    }
    pthread_rwlock_unlock(&a->gate);
    return due;
}

void walarchive_checkpoint_begin(ArchiveDb *a)
{
    if (!a)
        return;
    pthread_rwlock_wrlock(&a->gate);
    pthread_mutex_lock(&a->flock);
    if (a->active && flush(a, false) != 0)
        end_segment(a);
    if (!read_header(a, a->header))
        memset(a->header, 0, sizeof(a->header));
    pthread_mutex_unlock(&a->flock);
}

void walarchive_checkpoint_end(ArchiveDb *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->flock);
    /* Did the checkpoint happen (the file's headers changed, or the log was
     * replaced or cut)? DuckDB refuses one while another connection has an
     * open write transaction: then the segment simply goes on. No commit
     * runs (the gate), so wal_ino is read without `lock`. */
    unsigned char *now = xmalloc(WA_HEADER_BYTES);
    struct stat st;
    bool same = a->active && read_header(a, now) && !memcmp(now, a->header, WA_HEADER_BYTES);
    if (same && a->wal_ino != 0)
        same = stat(a->wal_path, &st) == 0 && st.st_ino == a->wal_ino &&
               (int64_t)st.st_size >= a->archived;
    else if (same)
        same = stat(a->wal_path, &st) != 0;
    free(now);
    if (same) {
        pthread_mutex_lock(&a->lock);
        a->due_at = a->archived + WA_CHECKPOINT_BYTES / 8;
        pthread_mutex_unlock(&a->lock);
    } else {
        end_segment(a);
        start_segment(a);
    }
    pthread_mutex_unlock(&a->flock);
    pthread_rwlock_unlock(&a->gate);
}

/* ---- the archiver thread ---- */

static void *archiver(void *arg)
{
    (void)arg;
    int period = W.sync_ms > 0 ? W.sync_ms : 1000;
    pthread_mutex_lock(&W.stop_lock);
    while (!W.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)period * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&W.stop_cond, &W.stop_lock, &ts);
        if (W.stop)
            break;
        pthread_mutex_unlock(&W.stop_lock);
        pthread_mutex_lock(&W.registry_lock);
        ArchiveDb *first = W.dbs; /* entries are never removed while the thread runs */
        pthread_mutex_unlock(&W.registry_lock);
        for (ArchiveDb *a = first; a; a = a->next) {
            pthread_mutex_lock(&a->flock);
            if (a->active && flush(a, false) != 0)
                end_segment(a);
            pthread_mutex_unlock(&a->flock);
        }
        pthread_mutex_lock(&W.stop_lock);
    }
    pthread_mutex_unlock(&W.stop_lock);
    return NULL;
}

int walarchive_start(const Config *cfg, Pool *pool, char *err, size_t errlen)
{
    W.on = !strcmp(cfg->archive_mode, "on");
    W.sync_ms = cfg->archive_sync_ms;
    W.pool = pool;
    if (cfg->backup_dir[0])
        snprintf(W.root, sizeof(W.root), "%s/archive", cfg->backup_dir);
    else
        snprintf(W.root, sizeof(W.root), "%s/backups/archive", cfg->data_dir);
    W.have_key = cfg->encryption_key[0] && secret_key_init(&W.key, cfg->encryption_key) == 0;
    if (!W.on)
        return 0;
    char parent[1200];
    snprintf(parent, sizeof(parent), "%s", W.root);
    *strrchr(parent, '/') = '\0';
    if ((mkdir(parent, 0700) != 0 && errno != EEXIST) ||
        (mkdir(W.root, 0700) != 0 && errno != EEXIST)) {
        snprintf(err, errlen, "cannot create the archive directory %s: %s", W.root,
                 strerror(errno));
        return -1;
    }
    /* Signals are the I/O thread's (a signalfd, server.c): none may land here. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&W.thread, NULL, archiver, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the archiver thread");
        return -1;
    }
    W.started = true;
    return 0;
}

void walarchive_stop(void)
{
    if (W.started) {
        pthread_mutex_lock(&W.stop_lock);
        W.stop = true;
        pthread_cond_signal(&W.stop_cond);
        pthread_mutex_unlock(&W.stop_lock);
        pthread_join(W.thread, NULL);
        W.started = false;
    }
    pthread_mutex_lock(&W.registry_lock);
    while (W.dbs) {
        ArchiveDb *a = W.dbs;
        W.dbs = a->next;
        pthread_mutex_lock(&a->flock);
        if (a->active && a->base_pending) {
            /* The pool closed every open database first (walarchive_closing), so a segment
             * still waiting for its base belongs to an instance the pool dropped without a
             * close (DuckDB invalidated it). Its base cannot be copied any more (the pool,
             * which names the file, is gone), and without it the segment is never used:
             * removed, as complete_base removes a base it cannot copy. */
            log_info("archive of database %lld: segment %s dropped at shutdown, its base never "
                     "copied (the instance was dropped without a close)",
                     (long long)a->id, a->seg);
            a->base_pending = false;
            pthread_mutex_lock(&a->lock);
            a->active = false;
            pthread_mutex_unlock(&a->lock);
            remove_segment_dir(a);
        }
        end_segment(a);
        pthread_mutex_unlock(&a->flock);
        pthread_rwlock_destroy(&a->gate);
        pthread_mutex_destroy(&a->flock);
        pthread_mutex_destroy(&a->lock);
        free(a->pending);
        free(a->spare);
        free(a);
    }
    pthread_mutex_unlock(&W.registry_lock);
    W.on = false;
}

/* ---- for walrestore ---- */

const char *walarchive_root(void)
{
    return W.root;
}

const SecretKey *walarchive_key(void)
{
    return W.have_key ? &W.key : NULL;
}

void walarchive_flush_live(int64_t id)
{
    ArchiveDb *a = registry_get(id, false);
    if (!a)
        return;
    pthread_mutex_lock(&a->flock);
    if (a->active && flush(a, true) != 0)
        end_segment(a);
    pthread_mutex_unlock(&a->flock);
}

bool walarchive_live_segment(int64_t id, const char *seg)
{
    ArchiveDb *a = registry_get(id, false);
    bool live = false;
    if (a) {
        pthread_mutex_lock(&a->flock);
        live = a->active && !strcmp(a->seg, seg);
        pthread_mutex_unlock(&a->flock);
    }
    return live;
}
