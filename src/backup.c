/*
 * backup: online base backups and restores; see backup.h for the design
 * and docs/backup.md for the measurements behind it.
 *
 * Why one file past 900 lines: backup, restore, verify, list, the schedule's
 * backup_database() and retention's backup_prune() all work on the same
 * file-static pieces (the Manifest and its loader, the Sink writer, the
 * read_back() checker, backup_lock); splitting them needs an internal header
 * shared by several files, which is the next step when this file grows.
 * Point-in-time restore lives in walarchive.c / walrestore.c / walfile.c;
 * only its command surface (`AT`, the archive's `list backups` rows) is here.
 *
 * Layout of BackupDir:
 *   <id>/MANIFEST            what the backup holds, checksummed (below)
 *   <id>/db                  the DuckDB file as it was on disk
 *   <id>/wal                 its write-ahead log, up to the start point
 *   <id>/wal.checkpoint      the log DuckDB writes while a checkpoint runs
 *   .tmp-<id>/               a backup being written (never listed)
 *
 * MANIFEST is text, one `key value` per line, its last line `sha256 HEX`
 * over every byte before that line:
 *   tcp-duckdb-backup 1
 *   id <id>
 *   database <name>
 *   time <ISO 8601 UTC, ms>        the start point
 *   seconds <decimal>
 *   encrypted 0|1
 *   file <name> <stored bytes> <sha256 of the stored bytes>   (one per file)
 *
 * An encrypted file is "TDBKENC1" followed by records: a 4-byte big-endian
 * length and a secret_seal() blob of up to 1 MiB of plaintext, the AAD
 * "<id>/<name>/<index>/<0|1 last>".
 *
 * Threads: commands run on workers; backup_lock makes backups, restores and
 * verifies one at a time (they are I/O bound; two would only compete for
 * the disk, and leftovers of the process's own work are then never in use
 * when the next one cleans them up).
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "pool.h"
#include "reply.h"
#include "rescache.h"
#include "secret.h"
#include "walfile.h"
#include "walrestore.h"
#include "xalloc.h"

#define BACKUP_ID_MAX 96
#define BACKUP_RECORD (1u << 20)  /* plaintext bytes per encrypted record */
#define BACKUP_HEADER_BYTES 12288 /* DuckDB's file header and its two database headers */
#define BACKUP_ATTEMPTS 30        /* copies tried before a backup gives up on checkpoints */
#define BACKUP_MANIFEST_MAX 65536
#define BACKUP_MAX_FILES 3
static const char ENC_MAGIC[8] = {'T', 'D', 'B', 'K', 'E', 'N', 'C', '1'};

static pthread_mutex_t backup_lock = PTHREAD_MUTEX_INITIALIZER;

/* The live files of a database, in the order a copy reads their lengths. */
static const struct {
    const char *suffix; /* of the live file (pool_file_path) */
    const char *name;   /* in the backup */
} live_files[] = {{".wal.checkpoint", "wal.checkpoint"}, {".wal", "wal"}, {"", "db"}};

typedef struct BackupFileInfo {
    char name[32];
    int64_t bytes; /* stored */
    char sha256[SECRET_DIGEST_HEX];
} BackupFileInfo;

typedef struct Manifest {
    char id[BACKUP_ID_MAX];
    char database[CATALOG_NAME_MAX + 1];
    char time[40];
    double seconds;
    bool encrypted;
    int nfiles;
    BackupFileInfo files[BACKUP_MAX_FILES];
} Manifest;

/* ---- small helpers ---- */

static void backup_dir(const Config *cfg, char *out, size_t outlen)
{
    if (cfg->backup_dir[0])
        snprintf(out, outlen, "%s", cfg->backup_dir);
    else
        snprintf(out, outlen, "%s/backups", cfg->data_dir);
}

/* Creates BackupDir (0700) if missing. */
static int ensure_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static bool id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= BACKUP_ID_MAX || id[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* The current time as 2026-12-04T03:15:00.123Z, and compact for ids. */
static void now_text(char *iso, size_t isolen, char *compact, size_t compactlen)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int ms = (int)(ts.tv_nsec / 1000000);
    if (iso)
        snprintf(iso, isolen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    if (compact)
        snprintf(compact, compactlen, "%04d%02d%02dT%02d%02d%02d%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Removes a directory and the plain files in it (a backup's, or a leftover). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[2200];
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ---- writing a backup file: plain or encrypted, with its digest ---- */

typedef struct Sink {
    int fd;
    SecretDigest *digest;
    int64_t bytes;          /* stored so far */
    const SecretKey *key;   /* NULL: stored as it is */
    char aad_prefix[160];   /* "<id>/<name>/" */
    uint64_t record;        /* index of the next record */
    unsigned char *pending; /* encrypted files: plaintext not yet sealed */
    size_t npending;
} Sink;

static int sink_store(Sink *k, const void *p, size_t n)
{
    if (walfile_write_all(k->fd, p, n) != 0)
        return -1;
    secret_digest_update(k->digest, p, n);
    k->bytes += (int64_t)n;
    return 0;
}

static int sink_seal(Sink *k, bool last)
{
    char aad[200];
    int aadlen = snprintf(aad, sizeof(aad), "%s%" PRIu64 "/%d", k->aad_prefix, k->record, last);
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    if (secret_seal(k->key, k->pending, k->npending, aad, (size_t)aadlen, &blob, &bloblen) != 0)
        return -1;
    unsigned char len[4] = {(unsigned char)(bloblen >> 24), (unsigned char)(bloblen >> 16),
                            (unsigned char)(bloblen >> 8), (unsigned char)bloblen};
    int rc = sink_store(k, len, 4) == 0 && sink_store(k, blob, bloblen) == 0 ? 0 : -1;
    free(blob);
    k->record++;
    k->npending = 0;
    return rc;
}

/* Opens `name` in `dir` (0600, truncated) for a backup `id`. */
static int sink_open(Sink *k, const char *dir, const char *id, const char *name,
                     const SecretKey *key)
{
    char path[2200];
    memset(k, 0, sizeof(*k));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    k->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    k->digest = secret_digest_new();
    k->key = key;
    snprintf(k->aad_prefix, sizeof(k->aad_prefix), "%s/%s/", id, name);
    if (k->fd < 0 || !k->digest)
        return -1;
    if (key) {
        k->pending = xmalloc(BACKUP_RECORD);
        return sink_store(k, ENC_MAGIC, sizeof(ENC_MAGIC));
    }
    return 0;
}

static int sink_write(Sink *k, const char *p, size_t n)
{
    if (!k->key)
        return sink_store(k, p, n);
    while (n > 0) {
        /* A full record is sealed only when more data comes, so that the
         * last record is always the one sealed by sink_finish(). */
        if (k->npending == BACKUP_RECORD && sink_seal(k, false) != 0)
            return -1;
        size_t take = BACKUP_RECORD - k->npending;
        if (take > n)
            take = n;
        memcpy(k->pending + k->npending, p, take);
        k->npending += take;
        p += take;
        n -= take;
    }
    return 0;
}

/* Seals the last record, syncs and closes; fills `info`. */
static int sink_finish(Sink *k, const char *name, BackupFileInfo *info)
{
    int rc = 0;
    if (k->key && sink_seal(k, true) != 0)
        rc = -1;
    if (rc == 0 && fsync(k->fd) != 0)
        rc = -1;
    if (close(k->fd) != 0)
        rc = -1;
    k->fd = -1;
    snprintf(info->name, sizeof(info->name), "%s", name);
    info->bytes = k->bytes;
    secret_digest_hex(k->digest, info->sha256);
    return rc;
}

static void sink_free(Sink *k)
{
    if (k->fd >= 0)
        close(k->fd);
    secret_digest_free(k->digest);
    free(k->pending);
    memset(k, 0, sizeof(*k));
    k->fd = -1;
}

/* Copies `len` bytes of `src` from offset 0 into `name`; -1 with errno-ish
 * `why` on failure (a short source counts: the file shrank, a checkpoint). */
static int copy_file(int src, int64_t len, const char *dir, const char *id, const char *name,
                     const SecretKey *key, BackupFileInfo *info, bool *out_short)
{
    Sink k;
    int rc = -1;
    char *buf = xmalloc(BACKUP_RECORD);
    *out_short = false;
    if (sink_open(&k, dir, id, name, key) != 0)
        goto out;
    for (int64_t off = 0; off < len;) {
        size_t n = len - off < BACKUP_RECORD ? (size_t)(len - off) : BACKUP_RECORD;
        if (walfile_pread_all(src, buf, n, off) != 0) {
            *out_short = true;
            goto out;
        }
        if (sink_write(&k, buf, n) != 0)
            goto out;
        off += (int64_t)n;
    }
    rc = sink_finish(&k, name, info);
out:
    sink_free(&k);
    free(buf);
    return rc;
}

/* ---- the consistent copy ---- */

typedef enum { CAPTURE_OK, CAPTURE_RETRY, CAPTURE_FAILED } Capture;

/*
 * One attempt at copying database `db_id`'s files into `dir`: reads the
 * file's headers, the lengths of the checkpoint log and then the log (the
 * order matters: DuckDB appends to `.wal` until a checkpoint starts and to
 * `.wal.checkpoint` after, so a length of the second read first and of the
 * first read after can never leave a hole), copies those prefixes and the
 * file, and reads the headers and the logs' identities again. RETRY when
 * anything moved: a checkpoint ended during the copy.
 */
static Capture capture_once(const SessionEnv *env, int64_t db_id, const char *dir, const char *id,
                            const SecretKey *key, Manifest *m, char *why, size_t whylen)
{
    char path[BACKUP_MAX_FILES][1200];
    int fd[BACKUP_MAX_FILES] = {-1, -1, -1};
    struct stat st[BACKUP_MAX_FILES];
    char *h1 = xmalloc(BACKUP_HEADER_BYTES), *h2 = xmalloc(BACKUP_HEADER_BYTES);
    Capture rc = CAPTURE_FAILED;
    int dbi = BACKUP_MAX_FILES - 1;
    m->nfiles = 0;
    for (int i = 0; i < BACKUP_MAX_FILES; i++) {
        char stale[2200];
        snprintf(stale, sizeof(stale), "%s/%s", dir, live_files[i].name);
        unlink(stale); /* an earlier attempt's */
        pool_file_path(env->pool, db_id, live_files[i].suffix, path[i], sizeof(path[i]));
    }
    fd[dbi] = open(path[dbi], O_RDONLY | O_CLOEXEC);
    if (fd[dbi] < 0 || walfile_pread_all(fd[dbi], h1, BACKUP_HEADER_BYTES, 0) != 0) {
        snprintf(why, whylen, "cannot read the database file: %s", strerror(errno));
        goto out;
    }
    now_text(m->time, sizeof(m->time), NULL, 0);
    for (int i = 0; i < dbi; i++) {
        fd[i] = open(path[i], O_RDONLY | O_CLOEXEC);
        if (fd[i] < 0 && errno != ENOENT) {
            snprintf(why, whylen, "cannot read the write-ahead log: %s", strerror(errno));
            goto out;
        }
        if (fd[i] >= 0)
            fstat(fd[i], &st[i]);
    }
    fstat(fd[dbi], &st[dbi]);
    for (int i = 0; i < BACKUP_MAX_FILES; i++) {
        if (fd[i] < 0)
            continue;
        bool shrank = false;
        if (copy_file(fd[i], st[i].st_size, dir, id, live_files[i].name, key, &m->files[m->nfiles],
                      &shrank) != 0) {
            if (shrank) {
                rc = CAPTURE_RETRY;
            } else {
                snprintf(why, whylen, "cannot write %s: %s", live_files[i].name, strerror(errno));
            }
            goto out;
        }
        m->nfiles++;
    }
    if (walfile_pread_all(fd[dbi], h2, BACKUP_HEADER_BYTES, 0) != 0 ||
        memcmp(h1, h2, BACKUP_HEADER_BYTES) != 0) {
        rc = CAPTURE_RETRY;
        goto out;
    }
    for (int i = 0; i < BACKUP_MAX_FILES; i++) {
        struct stat now;
        bool exists = stat(path[i], &now) == 0;
        if (exists != (fd[i] >= 0) || (exists && now.st_ino != st[i].st_ino)) {
            rc = CAPTURE_RETRY;
            goto out;
        }
    }
    rc = CAPTURE_OK;
out:
    for (int i = 0; i < BACKUP_MAX_FILES; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    free(h1);
    free(h2);
    return rc;
}

/* ---- the manifest ---- */

static int manifest_write(const char *dir, const Manifest *m)
{
    Buf b = {0};
    int rc = -1, fd = -1;
    char path[2200], hex[SECRET_DIGEST_HEX];
    buf_printf(&b, "tcp-duckdb-backup 1\nid %s\ndatabase %s\ntime %s\nseconds %.3f\nencrypted %d\n",
               m->id, m->database, m->time, m->seconds, m->encrypted ? 1 : 0);
    for (int i = 0; i < m->nfiles; i++)
        buf_printf(&b, "file %s %" PRId64 " %s\n", m->files[i].name, m->files[i].bytes,
                   m->files[i].sha256);
    SecretDigest *d = secret_digest_new();
    if (!d)
        goto out;
    secret_digest_update(d, buf_cstr(&b), b.len);
    secret_digest_hex(d, hex);
    buf_printf(&b, "sha256 %s\n", hex);
    snprintf(path, sizeof(path), "%s/MANIFEST", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || walfile_write_all(fd, buf_cstr(&b), b.len) != 0 || fsync(fd) != 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    secret_digest_free(d);
    buf_free(&b);
    return rc;
}

/*
 * Loads BackupDir/<id>/MANIFEST. Returns 0, or -1 with `why` saying what is
 * wrong (missing, unreadable, checksum, malformed).
 */
static int manifest_load(const char *bdir, const char *id, Manifest *m, char *why, size_t whylen)
{
    char path[2200];
    char *text = xmalloc(BACKUP_MANIFEST_MAX + 1);
    int rc = -1, fd = -1;
    memset(m, 0, sizeof(*m));
    snprintf(path, sizeof(path), "%s/%s/MANIFEST", bdir, id);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "%s", errno == ENOENT ? "missing" : strerror(errno));
        goto out;
    }
    ssize_t n = 0, k;
    while (n < BACKUP_MANIFEST_MAX && (k = read(fd, text + n, BACKUP_MANIFEST_MAX - n)) > 0)
        n += k;
    text[n] = '\0';
    /* The last line is "sha256 HEX" over everything before it. */
    char *last = n > 0 ? memrchr(text, '\n', (size_t)n - 1) : NULL;
    size_t body = last ? (size_t)(last + 1 - text) : 0;
    char hex[SECRET_DIGEST_HEX];
    SecretDigest *d = secret_digest_new();
    if (!d) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    secret_digest_update(d, text, body);
    secret_digest_hex(d, hex);
    secret_digest_free(d);
    if (!last || strncmp(last + 1, "sha256 ", 7) != 0 || strncmp(last + 8, hex, 64) != 0 ||
        last[8 + 64] != '\n') {
        snprintf(why, whylen, "checksum mismatch (the manifest was altered or cut short)");
        goto out;
    }
    text[body] = '\0';
    bool header = false;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char a[40], b[BACKUP_ID_MAX], c[SECRET_DIGEST_HEX];
        long long bytes;
        int iv;
        if (!strcmp(line, "tcp-duckdb-backup 1"))
            header = true;
        else if (sscanf(line, "id %95s", m->id) == 1)
            continue;
        else if (sscanf(line, "database %63s", m->database) == 1)
            continue;
        else if (sscanf(line, "time %39s", m->time) == 1)
            continue;
        else if (sscanf(line, "seconds %lf", &m->seconds) == 1)
            continue;
        else if (sscanf(line, "encrypted %d", &iv) == 1)
            m->encrypted = iv != 0;
        else if (sscanf(line, "file %31s %lld %64s", a, &bytes, c) == 3 &&
                 m->nfiles < BACKUP_MAX_FILES) {
            BackupFileInfo *f = &m->files[m->nfiles++];
            snprintf(f->name, sizeof(f->name), "%s", a);
            f->bytes = bytes;
            snprintf(f->sha256, sizeof(f->sha256), "%s", c);
        } else {
            (void)b;
            snprintf(why, whylen, "malformed line");
            goto out;
        }
    }
    if (!header || strcmp(m->id, id) != 0 || !m->database[0] || !m->time[0]) {
        snprintf(why, whylen, "malformed (wrong id or fields missing)");
        goto out;
    }
    for (int i = 0; i < m->nfiles; i++) {
        bool known = false;
        for (int j = 0; j < BACKUP_MAX_FILES; j++)
            known |= !strcmp(m->files[i].name, live_files[j].name);
        if (!known) {
            snprintf(why, whylen, "names an unknown file");
            goto out;
        }
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(text);
    return rc;
}

static int64_t manifest_bytes(const Manifest *m)
{
    int64_t n = 0;
    for (int i = 0; i < m->nfiles; i++)
        n += m->files[i].bytes;
    return n;
}

/* Every complete backup in `bdir` (of `database`, or all when NULL),
 * oldest first. Caller frees *out. */
static int by_time(const void *a, const void *b)
{
    const Manifest *x = a, *y = b;
    int c = strcmp(x->time, y->time);
    return c ? c : strcmp(x->id, y->id);
}

static size_t manifests_list(const char *bdir, const char *database, Manifest **out)
{
    size_t n = 0, cap = 0;
    Manifest *all = NULL;
    DIR *d = opendir(bdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!id_valid(e->d_name))
                continue;
            Manifest m;
            char why[128];
            if (manifest_load(bdir, e->d_name, &m, why, sizeof(why)) != 0)
                continue;
            if (database && strcmp(m.database, database) != 0)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                all = xrealloc(all, cap * sizeof(*all));
            }
            all[n++] = m;
        }
        closedir(d);
    }
    if (n > 1)
        qsort(all, n, sizeof(*all), by_time);
    *out = all;
    return n;
}

/* ---- reading a backup file back ---- */

/*
 * Reads BackupDir/<id>/<f->name>, checks its size and SHA-256 against the
 * manifest and, when `dst` >= 0, writes its plaintext there (decrypting
 * with `key` when the backup is encrypted). Returns 0, or -1 with `why`.
 * The plaintext written is only trusted once this returns 0.
 */
static int read_back(const char *bdir, const Manifest *m, const BackupFileInfo *f,
                     const SecretKey *key, int dst, char *why, size_t whylen)
{
    char path[2200];
    int rc = -1, fd = -1;
    unsigned char *buf = xmalloc(BACKUP_RECORD + SECRET_OVERHEAD + 4);
    char hex[SECRET_DIGEST_HEX];
    SecretDigest *d = secret_digest_new();
    snprintf(path, sizeof(path), "%s/%s/%s", bdir, m->id, f->name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || !d) {
        snprintf(why, whylen, "cannot read: %s", strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != f->bytes) {
        snprintf(why, whylen, "size %lld, the manifest says %lld (truncated or grown)",
                 (long long)st.st_size, (long long)f->bytes);
        goto out;
    }
    if (!m->encrypted) {
        ssize_t k;
        while ((k = read(fd, buf, BACKUP_RECORD)) > 0) {
            secret_digest_update(d, buf, (size_t)k);
            if (dst >= 0 && walfile_write_all(dst, buf, (size_t)k) != 0) {
                snprintf(why, whylen, "cannot write the restored copy: %s", strerror(errno));
                goto out;
            }
        }
    } else {
        /* Encrypted: the digest covers the stored bytes; each record must
         * also authenticate, and the last one must say it is the last. */
        off_t off = 0;
        char magic[8];
        if (walfile_pread_all(fd, magic, 8, 0) != 0 || memcmp(magic, ENC_MAGIC, 8) != 0) {
            snprintf(why, whylen, "not an encrypted backup file");
            goto out;
        }
        secret_digest_update(d, magic, 8);
        off = 8;
        bool last = false;
        for (uint64_t rec = 0; !last; rec++) {
            unsigned char len4[4];
            if (walfile_pread_all(fd, len4, 4, off) != 0) {
                snprintf(why, whylen, "cut short");
                goto out;
            }
            size_t len = (size_t)len4[0] << 24 | (size_t)len4[1] << 16 | (size_t)len4[2] << 8 |
                         (size_t)len4[3];
            if (len < SECRET_OVERHEAD || len > BACKUP_RECORD + SECRET_OVERHEAD ||
                walfile_pread_all(fd, buf, len, off + 4) != 0) {
                snprintf(why, whylen, "malformed record %llu", (unsigned long long)rec);
                goto out;
            }
            secret_digest_update(d, len4, 4);
            secret_digest_update(d, buf, len);
            off += 4 + (off_t)len;
            last = off == st.st_size;
            if (dst < 0)
                continue;
            char aad[200];
            int aadlen = snprintf(aad, sizeof(aad), "%s/%s/%llu/%d", m->id, f->name,
                                  (unsigned long long)rec, last);
            char *plain = NULL;
            size_t plainlen = 0;
            if (!key || secret_open(key, buf, len, aad, (size_t)aadlen, &plain, &plainlen) != 0) {
                snprintf(why, whylen,
                         key ? "record %llu does not decrypt (another key, or altered)"
                             : "the backup is encrypted and ENCRYPTION_KEY is not set",
                         (unsigned long long)rec);
                free(plain);
                goto out;
            }
            int w = walfile_write_all(dst, plain, plainlen);
            free(plain);
            if (w != 0) {
                snprintf(why, whylen, "cannot write the restored copy: %s", strerror(errno));
                goto out;
            }
        }
    }
    secret_digest_hex(d, hex);
    if (strcmp(hex, f->sha256) != 0) {
        snprintf(why, whylen, "checksum mismatch");
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    secret_digest_free(d);
    free(buf);
    return rc;
}

/* ---- backup ---- */

static void row_backup(Buf *out, const Manifest *m, bool first)
{
    buf_append_str(out, first ? "{\"id\":" : ",{\"id\":");
    json_append_string(out, m->id, strlen(m->id));
    buf_append_str(out, ",\"database\":");
    json_append_string(out, m->database, strlen(m->database));
    buf_append_str(out, ",\"time\":");
    json_append_string(out, m->time, strlen(m->time));
    buf_printf(out, ",\"bytes\":%" PRId64 ",\"seconds\":%.3f}", manifest_bytes(m), m->seconds);
}

/* Removes leftovers of backups cut short (.tmp-*); backup_lock held, so
 * none of them is in use by this process. */
static void remove_leftovers(const char *bdir)
{
    DIR *d = opendir(bdir);
    if (!d)
        return;
    struct dirent *e;
    char path[2200];
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, ".tmp-", 5) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", bdir, e->d_name);
        log_info("backup: removing %s, left by a backup that did not finish", path);
        remove_tree(path);
    }
    closedir(d);
}

/*
 * Backs up database `name`; on success appends its row and returns 0; on
 * failure appends the error line and returns -1. backup_lock held.
 */
static int backup_one(const SessionEnv *env, const char *bdir, const char *name,
                      const SecretKey *key, Manifest *m, Buf *out)
{
    int64_t db_id = 0;
    PoolDb *db = NULL;
    char err[512], tmp[2200], final[2200], stamp[32], why[512] = "";
    int rc = -1;
    bool made = false;
    CatalogStatus cs = catalog_database_find(env->catalog, name, &db_id);
    if (cs != CATALOG_OK) {
        reply_catalog(out, cs, "Database", name);
        return -1;
    }
    /* The pin keeps the database open: not closed (its close checkpoints
     * and deletes the log) nor dropped while it is copied. */
    PoolStatus ps = pool_acquire(env->pool, db_id, &db, err, sizeof(err));
    if (ps == POOL_BUSY) {
        reply_server_busy(out, err);
        return -1;
    }
    if (ps != POOL_OK) {
        log_error("backup of %s: %s", name, err);
        reply_internal(out);
        return -1;
    }
    memset(m, 0, sizeof(*m));
    snprintf(m->database, sizeof(m->database), "%s", name);
    m->encrypted = key != NULL;
    now_text(NULL, 0, stamp, sizeof(stamp));
    for (int n = 0;; n++) {
        if (n == 0)
            snprintf(m->id, sizeof(m->id), "%s-%s", name, stamp);
        else
            snprintf(m->id, sizeof(m->id), "%s-%s-%d", name, stamp, n);
        snprintf(final, sizeof(final), "%s/%s", bdir, m->id);
        snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", bdir, m->id);
        if (access(final, F_OK) == 0)
            continue;
        if (mkdir(tmp, 0700) == 0)
            break;
        if (errno != EEXIST) {
            snprintf(why, sizeof(why), "cannot create a directory in BackupDir: %s",
                     strerror(errno));
            goto out;
        }
    }
    made = true;
    double start = mono_seconds();
    Capture c = CAPTURE_RETRY;
    for (int attempt = 0; attempt < BACKUP_ATTEMPTS && c == CAPTURE_RETRY; attempt++) {
        if (attempt > 0) {
            log_info("backup of %s: a checkpoint ended during the copy; copying again", name);
            /* Back off (up to 0.5 s): checkpoints come in bursts under heavy writing. */
            long ms = attempt < 25 ? 20L * attempt : 500L;
            struct timespec ts = {0, ms * 1000000L};
            nanosleep(&ts, NULL);
        }
        c = capture_once(env, db_id, tmp, m->id, key, m, why, sizeof(why));
    }
    if (c == CAPTURE_RETRY)
        snprintf(why, sizeof(why), "the database checkpointed during each of %d copies",
                 BACKUP_ATTEMPTS);
    if (c != CAPTURE_OK)
        goto out;
    m->seconds = mono_seconds() - start;
    if (manifest_write(tmp, m) != 0 || walfile_fsync_dir(tmp) != 0) {
        snprintf(why, sizeof(why), "cannot write the manifest: %s", strerror(errno));
        goto out;
    }
    if (rename(tmp, final) != 0 || walfile_fsync_dir(bdir) != 0) {
        snprintf(why, sizeof(why), "cannot record the backup: %s", strerror(errno));
        goto out;
    }
    made = false;
    log_info("backup %s of database %s: %" PRId64 " bytes in %.3f s", m->id, name,
             manifest_bytes(m), m->seconds);
    rc = 0;
out:
    if (made)
        remove_tree(tmp);
    if (rc != 0) {
        log_error("backup of database %s failed: %s", name, why);
        reply_backup_failed(out, why);
    }
    pool_release(env->pool, db);
    return rc;
}

typedef struct Names {
    char (*name)[CATALOG_NAME_MAX + 1];
    size_t n, cap;
} Names;

static void add_name(void *ctx, const char *const *cols, int ncols)
{
    Names *ns = ctx;
    if (ncols < 1 || !cols[0])
        return;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 16;
        ns->name = xrealloc(ns->name, ns->cap * sizeof(*ns->name));
    }
    snprintf(ns->name[ns->n++], CATALOG_NAME_MAX + 1, "%s", cols[0]);
}

/* The key backups are encrypted with, or NULL without ENCRYPTION_KEY. */
static const SecretKey *backup_key(const SessionEnv *env, SecretKey *storage)
{
    if (!env->cfg->encryption_key[0] || secret_key_init(storage, env->cfg->encryption_key) != 0)
        return NULL;
    return storage;
}

void backup_cmd_backup(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    char bdir[1100];
    SecretKey storage;
    Names names = {0};
    const char *what = w->word[1];
    bool all = !strcmp(what, "all");
    if (!all && !catalog_name_valid(what)) {
        reply_invalid_name(out, "database", what);
        return;
    }
    backup_dir(env->cfg, bdir, sizeof(bdir));
    const SecretKey *key = backup_key(env, &storage);
    pthread_mutex_lock(&backup_lock);
    if (ensure_dir(bdir) != 0) {
        log_error("backup: cannot create BackupDir %s: %s", bdir, strerror(errno));
        reply_backup_failed(out, "cannot create BackupDir (see the server log)");
        goto out;
    }
    remove_leftovers(bdir);
    if (all) {
        if (catalog_list(env->catalog, CATALOG_LIST_DATABASES, 0, add_name, &names) != CATALOG_OK) {
            reply_internal(out);
            goto out;
        }
    } else {
        add_name(&names, (const char *const[]){what}, 1);
    }
    /* Rows are built aside: an error answers that line alone. */
    Buf rows = {0};
    buf_putc(&rows, '[');
    bool failed = false;
    for (size_t i = 0; i < names.n && !failed; i++) {
        Manifest m;
        Buf line = {0};
        if (backup_one(env, bdir, names.name[i], key, &m, &line) == 0) {
            row_backup(&rows, &m, i == 0);
        } else {
            buf_append(out, buf_cstr(&line), line.len);
            failed = true;
        }
        buf_free(&line);
    }
    buf_append_str(&rows, "]\n");
    if (!failed)
        buf_append(out, buf_cstr(&rows), rows.len);
    buf_free(&rows);
out:
    pthread_mutex_unlock(&backup_lock);
    free(names.name);
}

int backup_database(const SessionEnv *env, const char *name)
{
    char bdir[1100];
    SecretKey storage;
    Manifest m;
    Buf line = {0};
    const Config *cfg = env->cfg;
    backup_dir(cfg, bdir, sizeof(bdir));
    const SecretKey *key = backup_key(env, &storage);
    pthread_mutex_lock(&backup_lock);
    int rc = -1;
    if (ensure_dir(bdir) == 0) {
        remove_leftovers(bdir);
        rc = backup_one(env, bdir, name, key, &m, &line);
    }
    pthread_mutex_unlock(&backup_lock);
    buf_free(&line);
    return rc;
}

int backup_prune(const Config *cfg, int64_t keep_from_us)
{
    char bdir[1100], path[1200];
    Manifest *all = NULL;
    int removed = 0;
    backup_dir(cfg, bdir, sizeof(bdir));
    pthread_mutex_lock(&backup_lock);
    size_t n = manifests_list(bdir, NULL, &all); /* oldest first */
    for (size_t i = 0; i < n; i++) {
        int64_t t = 0;
        if (walfile_parse_time(all[i].time, &t) != 0 || t > keep_from_us)
            continue;
        /* The newest backup of its database at or before keep_from stays. */
        bool newer_old = false;
        for (size_t j = i + 1; j < n && !newer_old; j++) {
            int64_t u = 0;
            newer_old = !strcmp(all[j].database, all[i].database) &&
                        walfile_parse_time(all[j].time, &u) == 0 && u <= keep_from_us;
        }
        if (!newer_old)
            continue;
        snprintf(path, sizeof(path), "%s/%s", bdir, all[i].id);
        log_info("backup retention: removing backup %s", all[i].id);
        remove_tree(path);
        removed++;
    }
    pthread_mutex_unlock(&backup_lock);
    free(all);
    return removed;
}

/* ---- list ---- */

void backup_cmd_list(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    char bdir[1100];
    Manifest *all = NULL;
    const char *db = w->n > 2 ? w->word[2] : NULL;
    if (db && !catalog_name_valid(db)) {
        reply_invalid_name(out, "database", db);
        return;
    }
    backup_dir(env->cfg, bdir, sizeof(bdir));
    size_t n = manifests_list(bdir, db, &all);
    buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        const Manifest *m = &all[i];
        buf_append_str(out, i ? ",{\"id\":" : "{\"id\":");
        json_append_string(out, m->id, strlen(m->id));
        buf_append_str(out, ",\"database\":");
        json_append_string(out, m->database, strlen(m->database));
        buf_append_str(out, ",\"time\":");
        json_append_string(out, m->time, strlen(m->time));
        buf_printf(out, ",\"bytes\":%" PRId64 ",\"kind\":\"base\",\"encrypted\":%s",
                   manifest_bytes(m), m->encrypted ? "true" : "false");
        /* Without an archive a base backup reaches exactly its start point. */
        buf_append_str(out, ",\"earliest\":");
        json_append_string(out, m->time, strlen(m->time));
        buf_append_str(out, ",\"latest\":");
        json_append_string(out, m->time, strlen(m->time));
        buf_putc(out, '}');
    }
    /* One row per database with an archive: the span a restore AT can reach. */
    Names names = {0};
    if (db)
        add_name(&names, (const char *const[]){db}, 1);
    else if (catalog_list(env->catalog, CATALOG_LIST_DATABASES, 0, add_name, &names) != CATALOG_OK)
        names.n = 0;
    size_t rows = n;
    for (size_t i = 0; i < names.n; i++) {
        int64_t id = 0, bytes = 0;
        char earliest[40], latest[40];
        if (catalog_database_find(env->catalog, names.name[i], &id) != CATALOG_OK ||
            !walrestore_range(env->cfg, id, earliest, latest, sizeof(earliest), &bytes))
            continue;
        buf_append_str(out, rows++ ? ",{\"id\":\"archive\",\"database\":"
                                   : "{\"id\":\"archive\",\"database\":");
        json_append_string(out, names.name[i], strlen(names.name[i]));
        buf_append_str(out, ",\"time\":");
        json_append_string(out, latest, strlen(latest));
        buf_printf(out, ",\"bytes\":%" PRId64 ",\"kind\":\"archive\",\"encrypted\":%s", bytes,
                   env->cfg->encryption_key[0] ? "true" : "false");
        buf_append_str(out, ",\"earliest\":");
        json_append_string(out, earliest, strlen(earliest));
        buf_append_str(out, ",\"latest\":");
        json_append_string(out, latest, strlen(latest));
        buf_putc(out, '}');
    }
    free(names.name);
    buf_append_str(out, "]\n");
    free(all);
}

size_t backup_count(const Config *cfg, int64_t *out_bytes)
{
    char bdir[1100];
    Manifest *all = NULL;
    backup_dir(cfg, bdir, sizeof(bdir));
    size_t n = manifests_list(bdir, NULL, &all);
    *out_bytes = 0;
    for (size_t i = 0; i < n; i++)
        *out_bytes += manifest_bytes(&all[i]);
    free(all);
    return n;
}

/* ---- verify ---- */

void backup_cmd_verify(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    char bdir[1100], why[512], file[200];
    Manifest m;
    const char *id = w->word[2];
    if (!id_valid(id)) {
        reply_backup_not_found(out, id);
        return;
    }
    backup_dir(env->cfg, bdir, sizeof(bdir));
    pthread_mutex_lock(&backup_lock);
    char dirpath[2200];
    snprintf(dirpath, sizeof(dirpath), "%s/%s", bdir, id);
    if (access(dirpath, F_OK) != 0) {
        reply_backup_not_found(out, id);
        goto out;
    }
    if (manifest_load(bdir, id, &m, why, sizeof(why)) != 0) {
        snprintf(file, sizeof(file), "%s/MANIFEST", id);
        reply_backup_corrupt(out, file, why);
        goto out;
    }
    for (int i = 0; i < m.nfiles; i++) {
        if (read_back(bdir, &m, &m.files[i], NULL, -1, why, sizeof(why)) != 0) {
            snprintf(file, sizeof(file), "%s/%s", id, m.files[i].name);
            reply_backup_corrupt(out, file, why);
            goto out;
        }
    }
    buf_append_str(out, "[{\"id\":");
    json_append_string(out, m.id, strlen(m.id));
    buf_printf(out, ",\"files\":%d,\"bytes\":%" PRId64 ",\"ok\":true}]\n", m.nfiles,
               manifest_bytes(&m));
out:
    pthread_mutex_unlock(&backup_lock);
}

/* ---- restore ---- */

typedef struct Staged {
    Pool *pool;
    char path[BACKUP_MAX_FILES][1200]; /* "" when the backup has no such file */
} Staged;

/* catalog_database_create's callback: moves the staged files to the new
 * database's names (inside the catalog's transaction). */
static int install_staged(int64_t id, void *ctx)
{
    Staged *st = ctx;
    char dst[1200];
    pool_remove_file(st->pool, id); /* leftovers of an earlier failed attempt */
    for (int i = 0; i < BACKUP_MAX_FILES; i++) {
        if (!st->path[i][0])
            continue;
        pool_file_path(st->pool, id, live_files[i].suffix, dst, sizeof(dst));
        if (rename(st->path[i], dst) != 0) {
            log_error("restore: cannot move %s to %s: %s", st->path[i], dst, strerror(errno));
            pool_remove_file(st->pool, id);
            return -1;
        }
        st->path[i][0] = '\0';
    }
    pool_file_path(st->pool, -1, "", dst, sizeof(dst));
    return walfile_fsync_dir(dst);
}

static void remove_staged(Staged *st)
{
    for (int i = 0; i < BACKUP_MAX_FILES; i++)
        if (st->path[i][0])
            unlink(st->path[i]);
}

/* Removes staging files a restore cut short left in the databases
 * directory; backup_lock held. */
static void remove_stage_leftovers(Pool *p)
{
    char dir[1200], path[2400];
    pool_file_path(p, -1, "", dir, sizeof(dir));
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "restore-", 8) != 0)
            continue;
        snprintf(path, sizeof(path), "%s%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

/* Stages database `name`'s archived state at `t_us` (walarchive_stage) as the
 * files `st` then installs; 0, or -1 with the answer line. backup_lock held. */
static int restore_stage_at(const SessionEnv *env, const char *name, int64_t t_us, Staged *st,
                            Buf *out)
{
    int64_t db_id = 0;
    char file[300] = "", why[512] = "", tag[64];
    CatalogStatus cs = catalog_database_find(env->catalog, name, &db_id);
    if (cs != CATALOG_OK) {
        reply_catalog(out, cs, "Database", name);
        return -1;
    }
    remove_stage_leftovers(env->pool);
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
        reply_internal(out);
        return -1;
    }
    snprintf(tag, sizeof(tag), "restore-%02x%02x%02x%02x%02x%02x%02x%02x.duckdb", rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    pool_file_path(env->pool, -1, tag, st->path[2], sizeof(st->path[2]));
    snprintf(tag + strlen(tag), sizeof(tag) - strlen(tag), ".wal");
    pool_file_path(env->pool, -1, tag, st->path[1], sizeof(st->path[1]));
    int rc = walrestore_stage(env->cfg, db_id, t_us, st->path[2], st->path[1], file, sizeof(file),
                              why, sizeof(why));
    if (rc == -1)
        reply_bad_request(out, "database %s cannot be restored to that time: %s", name, why);
    else if (rc == -2)
        reply_backup_corrupt(out, file, why);
    else if (rc == -3)
        reply_backup_failed(out, why);
    return rc == 0 ? 0 : -1;
}

void backup_cmd_restore(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    char bdir[1100], why[512], file[200], err[512];
    SecretKey storage;
    Staged st = {.pool = env->pool};
    Manifest m;
    Manifest *all = NULL;
    int64_t id = 0;
    /* AT takes the rest of the request as the time ('2026-12-04 09:00:00.5' splits in two). */
    bool at = w->n >= 6 && !strcasecmp(w->word[4], "at");
    int64_t at_us = 0;
    char at_text[64] = "";
    if (at) {
        for (int i = 5; i < w->n; i++)
            snprintf(at_text + strlen(at_text), sizeof(at_text) - strlen(at_text), "%s%s",
                     i > 5 ? " " : "", w->word[i]);
        size_t len = strlen(at_text);
        char *t = at_text;
        if (len >= 2 && t[0] == '\'' && t[len - 1] == '\'') {
            t[len - 1] = '\0';
            memmove(t, t + 1, len - 1);
        }
        if (walfile_parse_time(at_text, &at_us) != 0) {
            reply_bad_request(out, "restore AT needs a UTC time such as '2026-12-04 "
                                   "09:00:00.250'");
            return;
        }
    }
    if ((!at && w->n != 4 && w->n != 6) || strcasecmp(w->word[2], "as") != 0) {
        reply_bad_request(out, "usage: restore DATABASE AS NEWDATABASE [FROM BACKUP_ID]");
        return;
    }
    const char *from_db = w->word[1], *new_db = w->word[3];
    if (!catalog_name_valid(from_db)) {
        reply_invalid_name(out, "database", from_db);
        return;
    }
    if (!catalog_name_valid(new_db)) {
        reply_invalid_name(out, "database", new_db);
        return;
    }
    if (!at && w->n == 6 && strcasecmp(w->word[4], "from") != 0) {
        reply_bad_request(out, "usage: restore DATABASE AS NEWDATABASE [FROM BACKUP_ID | AT "
                               "'TIME']");
        return;
    }
    backup_dir(env->cfg, bdir, sizeof(bdir));
    const SecretKey *key = backup_key(env, &storage);
    pthread_mutex_lock(&backup_lock);
    if (catalog_database_find(env->catalog, new_db, &id) == CATALOG_OK) {
        reply_catalog(out, CATALOG_EXISTS, "Database", new_db);
        goto out;
    }
    if (at) {
        if (restore_stage_at(env, from_db, at_us, &st, out) != 0)
            goto out;
        memset(&m, 0, sizeof(m));
        snprintf(m.id, sizeof(m.id), "archive");
        snprintf(m.time, sizeof(m.time), "%s", at_text);
        goto install;
    }
    if (w->n == 6) {
        const char *bid = w->word[5];
        char dirpath[2200];
        snprintf(dirpath, sizeof(dirpath), "%s/%s", bdir, bid);
        if (!id_valid(bid) || access(dirpath, F_OK) != 0) {
            reply_backup_not_found(out, bid);
            goto out;
        }
        if (manifest_load(bdir, bid, &m, why, sizeof(why)) != 0) {
            snprintf(file, sizeof(file), "%s/MANIFEST", bid);
            reply_backup_corrupt(out, file, why);
            goto out;
        }
        if (strcmp(m.database, from_db) != 0) {
            reply_bad_request(out, "backup %s is of database %s, not %s", bid, m.database, from_db);
            goto out;
        }
    } else {
        /* The latest committed state: the archive's latest point when the database has an
         * archive (it reaches past every base backup), else its latest base backup. */
        int64_t db_id = 0, bytes = 0;
        char first[40], last[40];
        if (catalog_database_find(env->catalog, from_db, &db_id) == CATALOG_OK &&
            walrestore_range(env->cfg, db_id, first, last, sizeof(first), &bytes)) {
            if (restore_stage_at(env, from_db, WALRESTORE_LATEST, &st, out) != 0)
                goto out;
            memset(&m, 0, sizeof(m));
            snprintf(m.id, sizeof(m.id), "archive");
            snprintf(m.time, sizeof(m.time), "%s", last);
            goto install;
        }
        size_t n = manifests_list(bdir, from_db, &all);
        if (n == 0) {
            reply_bad_request(out, "no backup of database %s (list backups)", from_db);
            goto out;
        }
        m = all[n - 1];
    }
    if (m.encrypted && !key) {
        reply_bad_request(out, "backup %s is encrypted and ENCRYPTION_KEY is not set", m.id);
        goto out;
    }
    /* Stage beside the databases (same file system, so the move is a
     * rename), verifying every byte on the way. */
    remove_stage_leftovers(env->pool);
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
        reply_internal(out);
        goto out;
    }
    char tag[64];
    snprintf(tag, sizeof(tag), "restore-%02x%02x%02x%02x%02x%02x%02x%02x.duckdb", rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    for (int i = 0; i < m.nfiles; i++) {
        int k = 0;
        while (strcmp(live_files[k].name, m.files[i].name) != 0)
            k++;
        char name[128];
        snprintf(name, sizeof(name), "%s%s", tag, live_files[k].suffix);
        pool_file_path(env->pool, -1, name, st.path[k], sizeof(st.path[k]));
        int fd = open(st.path[k], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            log_error("restore: cannot create %s: %s", st.path[k], strerror(errno));
            st.path[k][0] = '\0';
            reply_backup_failed(out, "cannot write in the databases directory (see the log)");
            goto out;
        }
        int rc = read_back(bdir, &m, &m.files[i], key, fd, why, sizeof(why));
        if (rc == 0 && fsync(fd) != 0) {
            snprintf(why, sizeof(why), "cannot write the restored copy: %s", strerror(errno));
            rc = -1;
        }
        close(fd);
        if (rc != 0) {
            snprintf(file, sizeof(file), "%s/%s", m.id, m.files[i].name);
            if (strncmp(why, "cannot write", 12) == 0)
                reply_backup_failed(out, why);
            else
                reply_backup_corrupt(out, file, why);
            goto out;
        }
    }
install:;
    CatalogStatus cs = catalog_database_create(env->catalog, new_db, install_staged, &st, &id);
    if (cs != CATALOG_OK) {
        reply_catalog(out, cs, "Database", new_db);
        goto out;
    }
    /* Open it once: DuckDB replays the copied logs now, and a copy that
     * does not open is not left registered. */
    PoolDb *db = NULL;
    PoolStatus ps = pool_acquire(env->pool, id, &db, err, sizeof(err));
    if (ps == POOL_OK) {
        pool_release(env->pool, db);
    } else if (ps == POOL_ERROR) {
        log_error("restore of %s as %s: the copy does not open: %s", m.id, new_db, err);
        if (pool_retire(env->pool, id) == 0) {
            if (catalog_database_delete(env->catalog, id) == CATALOG_OK)
                pool_remove_file(env->pool, id);
            else
                pool_unretire(env->pool, id);
        }
        reply_backup_failed(out, "the restored copy does not open (see the server log)");
        goto out;
    }
    /* A new database now answers to new_db: nothing the server keeps may
     * answer for it from before (the result cache is keyed by id, which the
     * catalog may reuse). */
    rescache_invalidate_db(id);
    log_info("database %s restored from backup %s (id %lld)", new_db, m.id, (long long)id);
    buf_append_str(out, "[{\"database\":");
    json_append_string(out, new_db, strlen(new_db));
    buf_append_str(out, ",\"backup\":");
    json_append_string(out, m.id, strlen(m.id));
    buf_append_str(out, ",\"time\":");
    json_append_string(out, m.time, strlen(m.time));
    buf_append_str(out, "}]\n");
out:
    remove_staged(&st);
    pthread_mutex_unlock(&backup_lock);
    free(all);
}
