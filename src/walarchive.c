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
 * Record files (base.db, base.wal, wal): records of a 4-byte big-endian
 * length, the SHA-256 of the payload, and the payload: the plaintext, or with
 * ENCRYPTION_KEY a secret_seal() blob whose AAD is
 * "<db id>/<segment>/<file>/<plain offset>".
 *
 * Locks: `registry_lock` guards the list of ArchiveDb; each ArchiveDb's
 * `gate` orders commits (read) against checkpoints and segment starts
 * (write); its `lock` guards its segment state and files. Order: gate, then
 * lock; registry_lock is never held with either.
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
#include "xalloc.h"

#define WA_CHUNK (1u << 20)                      /* plaintext bytes per record */
#define WA_CHECKPOINT_BYTES (64LL * 1024 * 1024) /* the server checkpoints past this log size */
#define WA_RECORD_HEAD (4 + 32)                  /* length and SHA-256 */
#define WA_LINE_MAX 256
#define WA_HEADER_BYTES 12288 /* DuckDB's file header and its two database headers */

typedef struct CommitRec {
    int64_t t_us, len;
} CommitRec;

struct ArchiveDb {
    int64_t id;
    pthread_rwlock_t gate;
    pthread_mutex_t lock;
    /* Under `lock`: */
    bool active;  /* a segment is open */
    char seg[48]; /* its id */
    char dir[1200];
    char wal_path[1200];
    int wal_fd; /* the live log, -1 until it exists */
    ino_t wal_ino;
    int64_t archived;  /* bytes of the live log archived (base prefix included) */
    int arch_fd;       /* the segment's `wal` */
    int64_t arch_size; /* its stored bytes */
    int index_fd;
    CommitRec *pending;
    size_t npending, cap;
    int64_t last_size; /* the live log's size at the last commit */
    int64_t due_at;    /* the log size from which a commit asks for a checkpoint */
    unsigned char header[WA_HEADER_BYTES]; /* the file's headers when a checkpoint began */
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

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void time_text(int64_t us, char *out, size_t len)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
}

int walarchive_parse_time(const char *text, int64_t *out_us)
{
    int y, mo, d, h, mi, sec, n = 0;
    char sep;
    if (sscanf(text, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &sec, &n) != 7 ||
        (sep != ' ' && sep != 'T') || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60 || y < 1970)
        return -1;
    const char *p = text + n;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 6)
                frac = frac * 10 + (*p - '0');
        }
        if (digits == 0)
            return -1;
        for (; digits < 6; digits++)
            frac *= 10;
    }
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (!strncmp(p, "+00:00", 6) || !strncmp(p, "+00", 3))
        p += p[3] == ':' ? 6 : 3;
    if (*p)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t s = timegm(&tm);
    if (s == (time_t)-1)
        return -1;
    *out_us = (int64_t)s * 1000000 + frac;
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int pread_all(int fd, void *p, size_t n, off_t off)
{
    char *c = p;
    while (n > 0) {
        ssize_t k = pread(fd, c, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
    char hex[SECRET_DIGEST_HEX];
    SecretDigest *d = secret_digest_new();
    if (!d)
        abort(); /* out of memory */
    secret_digest_update(d, p, n);
    secret_digest_hex(d, hex);
    secret_digest_free(d);
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
}

/* ---- record files ---- */

/* Appends one record of `plain` (offset `off` of `name`) to `fd`; *out_stored
 * gets the bytes written. */
static int record_write(int fd, int64_t id, const char *seg, const char *name, int64_t off,
                        const void *plain, size_t n, int64_t *out_stored)
{
    unsigned char head[WA_RECORD_HEAD];
    unsigned char *blob = NULL;
    size_t bloblen = n;
    const void *payload = plain;
    int rc = -1;
    if (W.have_key) {
        char aad[200];
        int aadlen =
            snprintf(aad, sizeof(aad), "%lld/%s/%s/%lld", (long long)id, seg, name, (long long)off);
        if (secret_seal(&W.key, plain, n, aad, (size_t)aadlen, &blob, &bloblen) != 0)
            goto out;
        payload = blob;
    }
    head[0] = (unsigned char)(bloblen >> 24);
    head[1] = (unsigned char)(bloblen >> 16);
    head[2] = (unsigned char)(bloblen >> 8);
    head[3] = (unsigned char)bloblen;
    sha256(payload, bloblen, head + 4);
    if (write_all(fd, head, sizeof(head)) != 0 || write_all(fd, payload, bloblen) != 0)
        goto out;
    *out_stored = (int64_t)(sizeof(head) + bloblen);
    rc = 0;
out:
    free(blob);
    return rc;
}

/*
 * Reads the record at `stored_off` of `fd` and writes its plaintext's first
 * `want` bytes (all when want < 0) to `dst`. `plain_off` is the plaintext's
 * offset (the AAD). Returns the plaintext's length, or -1 with `why`.
 */
static int64_t record_read(int fd, int64_t stored_off, int64_t id, const char *seg,
                           const char *name, int64_t plain_off, int dst, int64_t want,
                           bool encrypted, char *why, size_t whylen)
{
    unsigned char head[WA_RECORD_HEAD], sum[32];
    unsigned char *payload = NULL;
    char *plain = NULL;
    size_t plainlen = 0;
    int64_t rc = -1;
    if (pread_all(fd, head, sizeof(head), stored_off) != 0) {
        snprintf(why, whylen, "cut short at byte %lld", (long long)stored_off);
        goto out;
    }
    size_t len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
    if (len > WA_CHUNK + SECRET_OVERHEAD) {
        snprintf(why, whylen, "malformed record at byte %lld", (long long)stored_off);
        goto out;
    }
    payload = xmalloc(len ? len : 1);
    if (pread_all(fd, payload, len, stored_off + WA_RECORD_HEAD) != 0) {
        snprintf(why, whylen, "cut short at byte %lld", (long long)stored_off);
        goto out;
    }
    sha256(payload, len, sum);
    if (memcmp(sum, head + 4, 32) != 0) {
        snprintf(why, whylen, "checksum mismatch in the record at byte %lld",
                 (long long)stored_off);
        goto out;
    }
    if (encrypted) {
        char aad[200];
        int aadlen = snprintf(aad, sizeof(aad), "%lld/%s/%s/%lld", (long long)id, seg, name,
                              (long long)plain_off);
        if (!W.have_key) {
            snprintf(why, whylen, "the archive is encrypted and ENCRYPTION_KEY is not set");
            goto out;
        }
        if (secret_open(&W.key, payload, len, aad, (size_t)aadlen, &plain, &plainlen) != 0) {
            snprintf(why, whylen,
                     "the record at byte %lld does not decrypt (another key, or "
                     "altered)",
                     (long long)stored_off);
            goto out;
        }
    } else {
        plain = (char *)payload;
        payload = NULL;
        plainlen = len;
    }
    size_t n = want >= 0 && (size_t)want < plainlen ? (size_t)want : plainlen;
    if (dst >= 0 && write_all(dst, plain, n) != 0) {
        snprintf(why, whylen, "cannot write the restored copy: %s", strerror(errno));
        rc = -3;
        goto out;
    }
    rc = (int64_t)plainlen;
out:
    free(payload);
    free(plain);
    return rc;
}

/* ---- the index ---- */

static int index_append(int fd, const char *fields)
{
    unsigned char sum[32];
    char line[WA_LINE_MAX + 40];
    sha256(fields, strlen(fields), sum);
    int n = snprintf(line, sizeof(line), "%s #%02x%02x%02x%02x%02x%02x%02x%02x\n", fields, sum[0],
                     sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7]);
    return write_all(fd, line, (size_t)n);
}

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
        a->wal_fd = a->arch_fd = a->index_fd = -1;
        pthread_rwlock_init(&a->gate, NULL);
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

/* Opens the live log if it exists now and is not open yet; lock held. */
static void open_live_log(ArchiveDb *a)
{
    if (a->wal_fd >= 0)
        return;
    a->wal_fd = open(a->wal_path, O_RDONLY | O_CLOEXEC);
    if (a->wal_fd >= 0) {
        struct stat st;
        fstat(a->wal_fd, &st);
        a->wal_ino = st.st_ino;
    }
}

static int64_t live_log_size(ArchiveDb *a)
{
    struct stat st;
    open_live_log(a);
    if (a->wal_fd < 0 || fstat(a->wal_fd, &st) != 0)
        return 0;
    return (int64_t)st.st_size;
}

/*
 * Archives the live log's bytes not archived yet and the commits recorded;
 * lock held. Returns 0, or -1 (logged) when the archive cannot be written:
 * the segment is then ended, so that no restore relies on it past there.
 */
static int flush(ArchiveDb *a)
{
    if (!a->active)
        return 0;
    char *buf = NULL;
    int64_t size = live_log_size(a);
    Buf lines = {0};
    int rc = -1;
    if (size < a->archived) {
        log_error("archive of database %lld: the log shrank (%lld < %lld bytes): a checkpoint "
                  "the server did not run; the segment ends here",
                  (long long)a->id, (long long)size, (long long)a->archived);
        goto out;
    }
    if (size > a->archived) {
        buf = xmalloc(WA_CHUNK);
        while (a->archived < size) {
            size_t n = size - a->archived < WA_CHUNK ? (size_t)(size - a->archived) : WA_CHUNK;
            int64_t stored = 0;
            if (pread_all(a->wal_fd, buf, n, a->archived) != 0 ||
                record_write(a->arch_fd, a->id, a->seg, "wal", a->archived, buf, n, &stored) != 0) {
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
    if (lines.len == 0 && a->npending == 0) {
        rc = 0;
        goto out;
    }
    /* Chunk lines first: a commit line never precedes the bytes it needs. */
    char *save = NULL;
    for (char *l = lines.len ? strtok_r((char *)buf_cstr(&lines), "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save))
        if (index_append(a->index_fd, l) != 0)
            goto fail_index;
    for (size_t i = 0; i < a->npending; i++) {
        char f[WA_LINE_MAX];
        snprintf(f, sizeof(f), "commit %" PRId64 " %" PRId64, a->pending[i].t_us,
                 a->pending[i].len);
        if (index_append(a->index_fd, f) != 0)
            goto fail_index;
    }
    char f[WA_LINE_MAX];
    snprintf(f, sizeof(f), "flush %" PRId64, now_us());
    if (index_append(a->index_fd, f) != 0 || fsync(a->index_fd) != 0)
        goto fail_index;
    a->npending = 0;
    rc = 0;
    goto out;
fail_index:
    log_error("archive of database %lld: cannot write %s/index: %s", (long long)a->id, a->dir,
              strerror(errno));
out:
    if (rc != 0)
        a->active = false; /* closed by the caller's end_segment */
    free(buf);
    buf_free(&lines);
    return rc;
}

/* Archives the tail, writes `end` and closes the segment's files; lock held. */
static void end_segment(ArchiveDb *a)
{
    if (a->active && flush(a) == 0) {
        char f[WA_LINE_MAX];
        snprintf(f, sizeof(f), "end %" PRId64, now_us());
        if (index_append(a->index_fd, f) != 0 || fsync(a->index_fd) != 0)
            log_error("archive of database %lld: cannot end %s: %s", (long long)a->id, a->dir,
                      strerror(errno));
    }
    a->active = false;
    a->npending = 0;
    if (a->wal_fd >= 0)
        close(a->wal_fd);
    if (a->arch_fd >= 0)
        close(a->arch_fd);
    if (a->index_fd >= 0)
        close(a->index_fd);
    a->wal_fd = a->arch_fd = a->index_fd = -1;
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
        if (pread_all(src, buf, n, off) != 0 ||
            record_write(dst, a->id, a->seg, name, off, buf, n, &stored) != 0)
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

/*
 * Starts a segment: copies the database file and the log's prefix, then
 * writes the index's first lines. No commit may run (the gate is held in
 * write mode, or the database was just opened); lock held.
 */
static void start_segment(ArchiveDb *a)
{
    char dbpath[1200], dbdir[1300], f[WA_LINE_MAX];
    int dbfd = -1;
    int64_t t = now_us();
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
    pool_file_path(W.pool, a->id, "", dbpath, sizeof(dbpath));
    pool_file_path(W.pool, a->id, ".wal", a->wal_path, sizeof(a->wal_path));
    dbfd = open(dbpath, O_RDONLY | O_CLOEXEC);
    open_live_log(a);
    int64_t l0 = live_log_size(a);
    char idx[1400];
    snprintf(idx, sizeof(idx), "%s/index", a->dir);
    if (dbfd < 0 || fstat(dbfd, &st) != 0 || copy_base(a, dbfd, st.st_size, "base.db") != 0 ||
        (a->wal_fd >= 0 ? copy_base(a, a->wal_fd, l0, "base.wal")
                        : copy_base(a, dbfd, 0, "base.wal")) != 0) {
        log_error("archive of database %lld: cannot copy its base into %s: %s", (long long)a->id,
                  a->dir, strerror(errno));
        goto fail;
    }
    char arch[1400];
    snprintf(arch, sizeof(arch), "%s/wal", a->dir);
    a->arch_fd = open(arch, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    a->index_fd = open(idx, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (a->arch_fd < 0 || a->index_fd < 0)
        goto fail_io;
    snprintf(f, sizeof(f), "segment %lld %" PRId64 " %" PRId64 " %d %d", (long long)a->id, t, l0,
             W.have_key ? 1 : 0, W.sync_ms == 0 ? 1 : 0);
    if (index_append(a->index_fd, f) != 0)
        goto fail_io;
    snprintf(f, sizeof(f), "base base.db %lld", (long long)st.st_size);
    if (index_append(a->index_fd, f) != 0)
        goto fail_io;
    snprintf(f, sizeof(f), "base base.wal %" PRId64, l0);
    if (index_append(a->index_fd, f) != 0 || fsync(a->index_fd) != 0 || fsync_dir(a->dir) != 0 ||
        fsync_dir(dbdir) != 0)
        goto fail_io;
    a->archived = l0;
    a->arch_size = 0;
    a->last_size = l0;
    a->due_at = WA_CHECKPOINT_BYTES;
    a->active = true;
    close(dbfd);
    log_info("archive of database %lld: segment %s started (base %lld + %lld bytes)",
             (long long)a->id, a->seg, (long long)st.st_size, (long long)l0);
    return;
fail_io:
    log_error("archive of database %lld: cannot write %s: %s", (long long)a->id, a->dir,
              strerror(errno));
fail:
    if (dbfd >= 0)
        close(dbfd);
    end_segment(a);
    /* Without an index line the directory is never used; remove it now. */
    const char *names[] = {"base.db", "base.wal", "wal", "index"};
    for (size_t i = 0; i < 4; i++) {
        char p[1400];
        snprintf(p, sizeof(p), "%s/%s", a->dir, names[i]);
        unlink(p);
    }
    rmdir(a->dir);
}

/* ---- hooks ---- */

void walarchive_opened(int64_t id)
{
    if (!W.on)
        return;
    ArchiveDb *a = registry_get(id, true);
    pthread_rwlock_wrlock(&a->gate);
    pthread_mutex_lock(&a->lock);
    start_segment(a);
    pthread_mutex_unlock(&a->lock);
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
    pthread_mutex_lock(&a->lock);
    end_segment(a);
    pthread_mutex_unlock(&a->lock);
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
    bool due = false;
    pthread_mutex_lock(&a->lock);
    if (a->active) {
        /* The length first, then the time: everything up to `len` was in
         * the log at `t`, and `t` is before the commit is acknowledged. */
        int64_t len = live_log_size(a);
        int64_t t = now_us();
        if (len != a->last_size || a->npending > 0) {
            if (a->npending == a->cap) {
                a->cap = a->cap ? 2 * a->cap : 64;
                a->pending = xrealloc(a->pending, a->cap * sizeof(*a->pending));
            }
            a->pending[a->npending++] = (CommitRec){t, len};
            a->last_size = len;
        }
        if (W.sync_ms == 0 && flush(a) != 0)
            end_segment(a);
        due = len >= a->due_at;
    }
    pthread_mutex_unlock(&a->lock);
    pthread_rwlock_unlock(&a->gate);
    return due;
}

/* Reads the database file's headers into `out`; false when it cannot. */
static bool read_header(const ArchiveDb *a, unsigned char *out)
{
    char path[1200];
    pool_file_path(W.pool, a->id, "", path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    memset(out, 0, WA_HEADER_BYTES);
    ssize_t k = pread(fd, out, WA_HEADER_BYTES, 0);
    close(fd);
    return k > 0;
}

void walarchive_checkpoint_begin(ArchiveDb *a)
{
    if (!a)
        return;
    pthread_rwlock_wrlock(&a->gate);
    pthread_mutex_lock(&a->lock);
    if (a->active && flush(a) != 0)
        end_segment(a);
    if (!read_header(a, a->header))
        memset(a->header, 0, sizeof(a->header));
    pthread_mutex_unlock(&a->lock);
}

void walarchive_checkpoint_end(ArchiveDb *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    /* Did the checkpoint happen (the file's headers changed, or the log was
     * replaced or cut)? DuckDB refuses one while another connection has an
     * open write transaction: then the segment simply goes on. */
    unsigned char *now = xmalloc(WA_HEADER_BYTES);
    struct stat st;
    bool same = a->active && read_header(a, now) && !memcmp(now, a->header, WA_HEADER_BYTES);
    if (same && a->wal_fd >= 0)
        same = stat(a->wal_path, &st) == 0 && st.st_ino == a->wal_ino &&
               (int64_t)st.st_size >= a->archived;
    else if (same)
        same = stat(a->wal_path, &st) != 0;
    free(now);
    if (same) {
        a->due_at = a->archived + WA_CHECKPOINT_BYTES / 8;
    } else {
        end_segment(a);
        start_segment(a);
    }
    pthread_mutex_unlock(&a->lock);
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
            pthread_mutex_lock(&a->lock);
            if (a->active && flush(a) != 0)
                end_segment(a);
            pthread_mutex_unlock(&a->lock);
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
        pthread_mutex_lock(&a->lock);
        end_segment(a);
        pthread_mutex_unlock(&a->lock);
        pthread_rwlock_destroy(&a->gate);
        pthread_mutex_destroy(&a->lock);
        free(a->pending);
        free(a);
    }
    pthread_mutex_unlock(&W.registry_lock);
    W.on = false;
}

/* ---- reading segments back ---- */

typedef struct Chunk {
    int64_t off, plain, stored_off, stored;
} Chunk;

typedef struct Segment {
    char seg[48];
    int64_t base_us, l0, db_bytes, latest_us, bytes;
    bool encrypted, ended;
    bool sync; /* written with ArchiveSync 0: every answered commit was archived first */
    Chunk *chunks;
    size_t nchunks;
    CommitRec *commits;
    size_t ncommits;
} Segment;

static void segment_free(Segment *s)
{
    free(s->chunks);
    free(s->commits);
    memset(s, 0, sizeof(*s));
}

/* Loads `dir/seg/index`. Returns 1 when the segment is usable, 0 when it
 * never got past its base (ignored), -1 with `why` when it is corrupt. */
static int segment_load(const char *dir, const char *seg, Segment *s, char *why, size_t whylen)
{
    char path[1400];
    memset(s, 0, sizeof(*s));
    snprintf(s->seg, sizeof(s->seg), "%s", seg);
    snprintf(path, sizeof(path), "%s/%s/index", dir, seg);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char line[WA_LINE_MAX + 64];
    int rc = 0, lineno = 0;
    bool header = false, bad_pending = false;
    size_t capc = 0, capk = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (bad_pending) {
            snprintf(why, whylen, "index line %d: checksum mismatch", lineno - 1);
            rc = -1;
            goto out;
        }
        size_t n = strlen(line);
        char *hash = strstr(line, " #");
        unsigned char sum[32];
        char want[17];
        if (n == 0 || line[n - 1] != '\n' || !hash) {
            bad_pending = true; /* a torn last line is ignored */
            continue;
        }
        *hash = '\0';
        sha256(line, strlen(line), sum);
        snprintf(want, sizeof(want), "%02x%02x%02x%02x%02x%02x%02x%02x", sum[0], sum[1], sum[2],
                 sum[3], sum[4], sum[5], sum[6], sum[7]);
        if (strncmp(hash + 2, want, 16) != 0) {
            bad_pending = true;
            continue;
        }
        long long a1, a2, a3, a4;
        int e, sy = 0;
        char name[32];
        if (sscanf(line, "segment %lld %lld %lld %d %d", &a1, &a2, &a3, &e, &sy) >= 4) {
            header = true;
            s->sync = sy != 0;
            s->base_us = a2;
            s->latest_us = a2;
            s->l0 = a3;
            s->encrypted = e != 0;
        } else if (!header) {
            break;
        } else if (sscanf(line, "base %31s %lld", name, &a1) == 2) {
            if (!strcmp(name, "base.db"))
                s->db_bytes = a1;
        } else if (sscanf(line, "chunk %lld %lld %lld %lld", &a1, &a2, &a3, &a4) == 4) {
            if (s->nchunks == capk) {
                capk = capk ? 2 * capk : 16;
                s->chunks = xrealloc(s->chunks, capk * sizeof(*s->chunks));
            }
            s->chunks[s->nchunks++] = (Chunk){a1, a2, a3, a4};
            s->bytes += a4;
        } else if (sscanf(line, "commit %lld %lld", &a1, &a2) == 2) {
            if (s->ncommits == capc) {
                capc = capc ? 2 * capc : 64;
                s->commits = xrealloc(s->commits, capc * sizeof(*s->commits));
            }
            s->commits[s->ncommits++] = (CommitRec){a1, a2};
        } else if (sscanf(line, "flush %lld", &a1) == 1) {
            s->latest_us = a1;
        } else if (sscanf(line, "end %lld", &a1) == 1) {
            s->latest_us = a1;
            s->ended = true;
        } else {
            snprintf(why, whylen, "index line %d: malformed", lineno);
            rc = -1;
            goto out;
        }
    }
    rc = header ? 1 : 0;
    /* A torn last line dropped a commit or flush line: nothing after the
     * last complete line is relied on. */
out:
    fclose(f);
    if (rc != 1)
        segment_free(s);
    return rc;
}

static int by_base(const void *x, const void *y)
{
    const Segment *a = x, *b = y;
    if (a->base_us != b->base_us)
        return a->base_us < b->base_us ? -1 : 1;
    return strcmp(a->seg, b->seg);
}

/* Every usable segment of database `id`, oldest first; a corrupt one makes
 * it return -1 with `file` and `why`. */
static int segments_list(const Config *cfg, int64_t id, Segment **out, size_t *out_n, char *file,
                         size_t filelen, char *why, size_t whylen)
{
    char dir[1400];
    (void)cfg;
    snprintf(dir, sizeof(dir), "%s/%lld", W.root, (long long)id);
    Segment *all = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            Segment s;
            int r = segment_load(dir, e->d_name, &s, why, whylen);
            if (r < 0) {
                snprintf(file, filelen, "archive/%lld/%s/index", (long long)id, e->d_name);
                rc = -1;
                continue;
            }
            if (r == 0)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                all = xrealloc(all, cap * sizeof(*all));
            }
            all[n++] = s;
        }
        closedir(d);
    }
    if (n > 1)
        qsort(all, n, sizeof(*all), by_base);
    *out = all;
    *out_n = n;
    return rc;
}

static void segments_free(Segment *all, size_t n)
{
    for (size_t i = 0; i < n; i++)
        segment_free(&all[i]);
    free(all);
}

/* Archives what a live segment of `id` has not written yet, so that it
 * reaches now. */
static void flush_live(int64_t id)
{
    ArchiveDb *a = registry_get(id, false);
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    if (a->active && flush(a) != 0)
        end_segment(a);
    pthread_mutex_unlock(&a->lock);
}

/* The latest point the segments reach: now when the last one ended (the
 * database was closed or checkpointed and nothing committed since) or
 * archived each commit before answering it; else its last sync. */
static int64_t reach_latest(const Segment *all, size_t n)
{
    const Segment *last = &all[n - 1];
    if (last->ended || last->sync)
        return now_us();
    return last->latest_us;
}

bool walarchive_range(const Config *cfg, int64_t id, char *earliest, char *latest, size_t len,
                      int64_t *out_bytes)
{
    Segment *all = NULL;
    size_t n = 0;
    char file[200], why[200];
    if (W.root[0] == '\0')
        return false;
    (void)segments_list(cfg, id, &all, &n, file, sizeof(file), why, sizeof(why));
    if (n == 0) {
        free(all);
        return false;
    }
    int64_t last = reach_latest(all, n), bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += all[i].bytes + all[i].db_bytes + all[i].l0;
    time_text(all[0].base_us, earliest, len);
    time_text(last, latest, len);
    *out_bytes = bytes;
    segments_free(all, n);
    return true;
}

/* Writes record file `dir/name`'s plaintext (expected `plain` bytes) to `dst`. */
static int copy_records(const char *dir, int64_t id, const Segment *s, const char *name,
                        int64_t plain, int dst, char *why, size_t whylen)
{
    char path[1400];
    snprintf(path, sizeof(path), "%s/%s/%s", dir, s->seg, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "cannot read: %s", strerror(errno));
        return -2;
    }
    int64_t off = 0, stored = 0;
    int rc = 0;
    while (off < plain) {
        char h[4];
        if (pread_all(fd, h, 4, stored) != 0) {
            snprintf(why, whylen, "cut short: %lld of %lld bytes", (long long)off,
                     (long long)plain);
            rc = -2;
            break;
        }
        int64_t k =
            record_read(fd, stored, id, s->seg, name, off, dst, -1, s->encrypted, why, whylen);
        if (k < 0) {
            rc = k == -3 ? -3 : -2;
            break;
        }
        size_t len = (size_t)(unsigned char)h[0] << 24 | (size_t)(unsigned char)h[1] << 16 |
                     (size_t)(unsigned char)h[2] << 8 | (unsigned char)h[3];
        stored += WA_RECORD_HEAD + (int64_t)len;
        off += k;
    }
    close(fd);
    return rc;
}

int walarchive_stage(const Config *cfg, int64_t id, int64_t t_us, const char *db_path,
                     const char *wal_path, char *file, size_t filelen, char *why, size_t whylen)
{
    Segment *all = NULL;
    size_t n = 0;
    char dir[1400], t1[40], t2[40];
    int rc = -1, dbfd = -1, walfd = -1, archfd = -1;
    snprintf(dir, sizeof(dir), "%s/%lld", W.root, (long long)id);
    flush_live(id);
    if (segments_list(cfg, id, &all, &n, file, filelen, why, whylen) != 0) {
        rc = -2;
        goto out;
    }
    if (n == 0) {
        snprintf(why, whylen, "the database has no archive (ArchiveMode is %s)",
                 W.on ? "on, and it has not been opened since" : "off");
        goto out;
    }
    int64_t latest = reach_latest(all, n);
    if (t_us < all[0].base_us || t_us > latest) {
        time_text(all[0].base_us, t1, sizeof(t1));
        time_text(latest, t2, sizeof(t2));
        snprintf(why, whylen, "the archive reaches from %s to %s", t1, t2);
        goto out;
    }
    const Segment *s = &all[0];
    for (size_t i = 0; i < n && all[i].base_us <= t_us; i++)
        s = &all[i];
    int64_t cut = s->l0, archived = s->l0;
    for (size_t i = 0; i < s->nchunks; i++)
        if (s->chunks[i].off + s->chunks[i].plain > archived)
            archived = s->chunks[i].off + s->chunks[i].plain;
    for (size_t i = 0; i < s->ncommits; i++)
        if (s->commits[i].t_us <= t_us && s->commits[i].len > cut)
            cut = s->commits[i].len;
    if (cut > archived)
        cut = archived; /* a commit line is after its chunks; never more than what is there */
    dbfd = open(db_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    walfd = open(wal_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (dbfd < 0 || walfd < 0) {
        snprintf(why, whylen, "cannot write the restored copy: %s", strerror(errno));
        rc = -3;
        goto out;
    }
    snprintf(file, filelen, "archive/%lld/%s/base.db", (long long)id, s->seg);
    if ((rc = copy_records(dir, id, s, "base.db", s->db_bytes, dbfd, why, whylen)) != 0)
        goto out;
    snprintf(file, filelen, "archive/%lld/%s/base.wal", (long long)id, s->seg);
    if ((rc = copy_records(dir, id, s, "base.wal", s->l0, walfd, why, whylen)) != 0)
        goto out;
    rc = -2;
    snprintf(file, filelen, "archive/%lld/%s/wal", (long long)id, s->seg);
    char path[1500];
    snprintf(path, sizeof(path), "%s/%s/wal", dir, s->seg);
    archfd = open(path, O_RDONLY | O_CLOEXEC);
    if (archfd < 0 && cut > s->l0) {
        snprintf(why, whylen, "cannot read: %s", strerror(errno));
        goto out;
    }
    int64_t have = s->l0;
    for (size_t i = 0; i < s->nchunks && have < cut; i++) {
        const Chunk *c = &s->chunks[i];
        if (c->off != have) {
            snprintf(why, whylen, "the index skips log bytes %lld..%lld", (long long)have,
                     (long long)c->off);
            goto out;
        }
        int64_t k = record_read(archfd, c->stored_off, id, s->seg, "wal", c->off, walfd, cut - have,
                                s->encrypted, why, whylen);
        if (k < 0) {
            rc = k == -3 ? -3 : -2;
            goto out;
        }
        if (k != c->plain) {
            snprintf(why, whylen, "the record at byte %lld holds %lld bytes, the index says %lld",
                     (long long)c->stored_off, (long long)k, (long long)c->plain);
            goto out;
        }
        have += k < cut - have ? k : cut - have;
    }
    if (fsync(dbfd) != 0 || fsync(walfd) != 0) {
        snprintf(why, whylen, "cannot write the restored copy: %s", strerror(errno));
        rc = -3;
        goto out;
    }
    log_info("restore of database %lld at %" PRId64 ": segment %s, log cut at %lld of %lld bytes",
             (long long)id, t_us, s->seg, (long long)cut, (long long)archived);
    rc = 0;
out:
    if (dbfd >= 0)
        close(dbfd);
    if (walfd >= 0)
        close(walfd);
    if (archfd >= 0)
        close(archfd);
    segments_free(all, n);
    return rc;
}

/* Removes a segment's directory. */
static void remove_segment(const char *dir, const char *seg)
{
    const char *names[] = {"base.db", "base.wal", "wal", "index"};
    char p[1500];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s/%s", dir, seg, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/%s", dir, seg);
    rmdir(p);
}

int walarchive_prune(const Config *cfg, int64_t keep_from_us)
{
    int removed = 0;
    DIR *d = W.root[0] ? opendir(W.root) : NULL;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end = NULL;
        long long id = strtoll(e->d_name, &end, 10);
        if (e->d_name[0] == '.' || !end || *end)
            continue;
        Segment *all = NULL;
        size_t n = 0;
        char file[200], why[200], dir[1400];
        snprintf(dir, sizeof(dir), "%s/%lld", W.root, id);
        (void)segments_list(cfg, id, &all, &n, file, sizeof(file), why, sizeof(why));
        /* The newest segment whose base is at or before keep_from is the one
         * a restore to keep_from uses: it and everything after stay. */
        size_t keep = 0;
        for (size_t i = 0; i < n; i++)
            if (all[i].base_us <= keep_from_us)
                keep = i;
        ArchiveDb *a = registry_get(id, false);
        for (size_t i = 0; i < keep; i++) {
            bool live = false;
            if (a) {
                pthread_mutex_lock(&a->lock);
                live = a->active && !strcmp(a->seg, all[i].seg);
                pthread_mutex_unlock(&a->lock);
            }
            if (!live) {
                remove_segment(dir, all[i].seg);
                removed++;
            }
        }
        segments_free(all, n);
    }
    closedir(d);
    return removed;
}
