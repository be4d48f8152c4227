/*
 * walfile: the archive's file formats (walfile.h): record files, index
 * lines, and the time texts restores are given. No state; any thread.
 */
#include "walfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"

int64_t walfile_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void walfile_time_text(int64_t us, char *out, size_t len)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
}

int walfile_parse_time(const char *text, int64_t *out_us)
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

int walfile_write_all(int fd, const void *p, size_t n)
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

int walfile_pread_all(int fd, void *p, size_t n, off_t off)
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

int walfile_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

void walfile_sha256(const void *p, size_t n, unsigned char out[32])
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

/* Appends one record of `plain` (offset `off` of `name`) to `fd`; *out_stored
 * gets the bytes written. */
int walfile_record_write(const SecretKey *key, int fd, int64_t id, const char *seg,
                         const char *name, int64_t off, const void *plain, size_t n,
                         int64_t *out_stored)
{
    unsigned char head[WA_RECORD_HEAD];
    unsigned char *blob = NULL;
    size_t bloblen = n;
    const void *payload = plain;
    int rc = -1;
    if (key) {
        char aad[200];
        int aadlen =
            snprintf(aad, sizeof(aad), "%lld/%s/%s/%lld", (long long)id, seg, name, (long long)off);
        if (secret_seal(key, plain, n, aad, (size_t)aadlen, &blob, &bloblen) != 0)
            goto out;
        payload = blob;
    }
    head[0] = (unsigned char)(bloblen >> 24);
    head[1] = (unsigned char)(bloblen >> 16);
    head[2] = (unsigned char)(bloblen >> 8);
    head[3] = (unsigned char)bloblen;
    walfile_sha256(payload, bloblen, head + 4);
    if (walfile_write_all(fd, head, sizeof(head)) != 0 ||
        walfile_write_all(fd, payload, bloblen) != 0)
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
int64_t walfile_record_read(const SecretKey *key, int fd, int64_t stored_off, int64_t id,
                            const char *seg, const char *name, int64_t plain_off, int dst,
                            int64_t want, bool encrypted, char *why, size_t whylen)
{
    unsigned char head[WA_RECORD_HEAD], sum[32];
    unsigned char *payload = NULL;
    char *plain = NULL;
    size_t plainlen = 0;
    int64_t rc = -1;
    if (walfile_pread_all(fd, head, sizeof(head), stored_off) != 0) {
        snprintf(why, whylen, "cut short at byte %lld", (long long)stored_off);
        goto out;
    }
    size_t len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
    if (len > WA_CHUNK + SECRET_OVERHEAD) {
        snprintf(why, whylen, "malformed record at byte %lld", (long long)stored_off);
        goto out;
    }
    payload = xmalloc(len ? len : 1);
    if (walfile_pread_all(fd, payload, len, stored_off + WA_RECORD_HEAD) != 0) {
        snprintf(why, whylen, "cut short at byte %lld", (long long)stored_off);
        goto out;
    }
    walfile_sha256(payload, len, sum);
    if (memcmp(sum, head + 4, 32) != 0) {
        snprintf(why, whylen, "checksum mismatch in the record at byte %lld",
                 (long long)stored_off);
        goto out;
    }
    if (encrypted) {
        char aad[200];
        int aadlen = snprintf(aad, sizeof(aad), "%lld/%s/%s/%lld", (long long)id, seg, name,
                              (long long)plain_off);
        if (!key) {
            snprintf(why, whylen, "the archive is encrypted and ENCRYPTION_KEY is not set");
            goto out;
        }
        if (secret_open(key, payload, len, aad, (size_t)aadlen, &plain, &plainlen) != 0) {
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
    if (dst >= 0 && walfile_write_all(dst, plain, n) != 0) {
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

int walfile_index_append(int fd, const char *fields)
{
    unsigned char sum[32];
    char line[WA_LINE_MAX + 40];
    walfile_sha256(fields, strlen(fields), sum);
    int n = snprintf(line, sizeof(line), "%s #%02x%02x%02x%02x%02x%02x%02x%02x\n", fields, sum[0],
                     sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7]);
    return walfile_write_all(fd, line, (size_t)n);
}

bool walfile_index_line_ok(char *line)
{
    char *hash = strstr(line, " #");
    unsigned char sum[32];
    char want[17];
    if (!hash)
        return false;
    *hash = '\0';
    walfile_sha256(line, strlen(line), sum);
    snprintf(want, sizeof(want), "%02x%02x%02x%02x%02x%02x%02x%02x", sum[0], sum[1], sum[2], sum[3],
             sum[4], sum[5], sum[6], sum[7]);
    return strlen(hash + 2) == 16 && strncmp(hash + 2, want, 16) == 0;
}
