/*
 * walrestore: reads the write-ahead log archive back (walrestore.h): the
 * segments of a database, the span they reach, a restore's staged files,
 * and retention. The formats are walfile.h's; walarchive.c writes them.
 *
 * A segment being written is read while the archiver appends to it: a torn
 * last index line is ignored, and nothing after the last complete line is
 * relied on. Any thread; `prune_lock` orders restores against retention.
 */
#include "walrestore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "walarchive.h"
#include "walfile.h"
#include "xalloc.h"

/* A restore's staging and retention's removals run one at a time: a restore
 * never reads a segment being removed. */
static pthread_mutex_t prune_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct CommitRec {
    int64_t t_us, len;
} CommitRec;

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
        if (n == 0 || line[n - 1] != '\n') {
            bad_pending = true; /* a torn last line is ignored */
            continue;
        }
        line[n - 1] = '\0';
        if (!walfile_index_line_ok(line)) {
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
    snprintf(dir, sizeof(dir), "%s/%lld", walarchive_root(), (long long)id);
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

/* The latest point the segments reach: now when the last one ended (the
 * database was closed or checkpointed and nothing committed since) or
 * archived each commit before answering it; else its last sync. */
static int64_t reach_latest(const Segment *all, size_t n)
{
    const Segment *last = &all[n - 1];
    if (last->ended || last->sync)
        return walfile_now_us();
    return last->latest_us;
}

bool walrestore_range(const Config *cfg, int64_t id, char *earliest, char *latest, size_t len,
                      int64_t *out_bytes)
{
    Segment *all = NULL;
    size_t n = 0;
    char file[200], why[200];
    if (walarchive_root()[0] == '\0')
        return false;
    walarchive_flush_live(id);
    (void)segments_list(cfg, id, &all, &n, file, sizeof(file), why, sizeof(why));
    if (n == 0) {
        free(all);
        return false;
    }
    int64_t last = reach_latest(all, n), bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += all[i].bytes + all[i].db_bytes + all[i].l0;
    walfile_time_text(all[0].base_us, earliest, len);
    walfile_time_text(last, latest, len);
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
        if (walfile_pread_all(fd, h, 4, stored) != 0) {
            snprintf(why, whylen, "cut short: %lld of %lld bytes", (long long)off,
                     (long long)plain);
            rc = -2;
            break;
        }
        int64_t k = walfile_record_read(walarchive_key(), fd, stored, id, s->seg, name, off, dst,
                                        -1, s->encrypted, why, whylen);
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

static int stage(const Config *cfg, int64_t id, int64_t t_us, const char *db_path,
                 const char *wal_path, char *file, size_t filelen, char *why, size_t whylen)
{
    Segment *all = NULL;
    size_t n = 0;
    char dir[1400], t1[40], t2[40];
    int rc = -1, dbfd = -1, walfd = -1, archfd = -1;
    snprintf(dir, sizeof(dir), "%s/%lld", walarchive_root(), (long long)id);
    walarchive_flush_live(id);
    if (segments_list(cfg, id, &all, &n, file, filelen, why, whylen) != 0) {
        rc = -2;
        goto out;
    }
    if (n == 0) {
        snprintf(why, whylen, "the database has no archive (ArchiveMode is %s)",
                 walarchive_enabled() ? "on, and it has not been opened since" : "off");
        goto out;
    }
    int64_t latest = reach_latest(all, n);
    if (t_us == WALRESTORE_LATEST)
        t_us = latest;
    if (t_us < all[0].base_us || t_us > latest) {
        walfile_time_text(all[0].base_us, t1, sizeof(t1));
        walfile_time_text(latest, t2, sizeof(t2));
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
        int64_t k = walfile_record_read(walarchive_key(), archfd, c->stored_off, id, s->seg, "wal",
                                        c->off, walfd, cut - have, s->encrypted, why, whylen);
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

int walrestore_stage(const Config *cfg, int64_t id, int64_t t_us, const char *db_path,
                     const char *wal_path, char *file, size_t filelen, char *why, size_t whylen)
{
    pthread_mutex_lock(&prune_lock);
    int rc = stage(cfg, id, t_us, db_path, wal_path, file, filelen, why, whylen);
    pthread_mutex_unlock(&prune_lock);
    return rc;
}

static int prune(const Config *cfg, int64_t keep_from_us)
{
    int removed = 0;
    DIR *d = walarchive_root()[0] ? opendir(walarchive_root()) : NULL;
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
        snprintf(dir, sizeof(dir), "%s/%lld", walarchive_root(), id);
        (void)segments_list(cfg, id, &all, &n, file, sizeof(file), why, sizeof(why));
        /* The newest segment whose base is at or before keep_from is the one
         * a restore to keep_from uses: it and everything after stay. */
        size_t keep = 0;
        for (size_t i = 0; i < n; i++)
            if (all[i].base_us <= keep_from_us)
                keep = i;
        for (size_t i = 0; i < keep; i++) {
            if (!walarchive_live_segment(id, all[i].seg)) {
                remove_segment(dir, all[i].seg);
                removed++;
            }
        }
        segments_free(all, n);
    }
    closedir(d);
    return removed;
}

int walrestore_prune(const Config *cfg, int64_t keep_from_us)
{
    pthread_mutex_lock(&prune_lock);
    int removed = prune(cfg, keep_from_us);
    pthread_mutex_unlock(&prune_lock);
    return removed;
}
