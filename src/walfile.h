/*
 * walfile: the on-disk formats of the write-ahead log archive (walarchive.h
 * writes them, walrestore.h reads them; docs/backup.md, "Files").
 *
 * Record files (a segment's base.db, base.wal and wal): records of a 4-byte
 * big-endian length, the SHA-256 of the payload, and the payload: the
 * plaintext, or with a key a secret_seal() blob whose AAD is
 * "<db id>/<segment>/<file>/<plaintext offset>".
 *
 * Index lines: "<fields> #<16 hex>\n", the hex being the first 8 bytes of
 * the SHA-256 of the fields.
 *
 * Pure functions over file descriptors; no state; any thread. The
 * exact-length I/O and directory fsync below are also backup's (backup.c),
 * so that the two writers of files that must survive a crash share one copy.
 */
#ifndef TCPDUCKDB_WALFILE_H
#define TCPDUCKDB_WALFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "secret.h"

#define WA_CHUNK (1u << 20)     /* plaintext bytes per record at most */
#define WA_RECORD_HEAD (4 + 32) /* a record's length and SHA-256 */
#define WA_LINE_MAX 256         /* an index line's fields at most */

/* Microseconds since the epoch (CLOCK_REALTIME). */
int64_t walfile_now_us(void);
/* `us` as 2026-12-04T09:00:00.123456Z. */
void walfile_time_text(int64_t us, char *out, size_t len);
/* Parses "2026-12-04 09:00:00[.ffffff][Z]" (or with a T) as UTC. Returns -1 if malformed. */
int walfile_parse_time(const char *text, int64_t *out_us) __attribute__((warn_unused_result));

/* write(2) and pread(2) of exactly n bytes; -1 on an error or a short file. */
int walfile_write_all(int fd, const void *p, size_t n) __attribute__((warn_unused_result));
int walfile_pread_all(int fd, void *p, size_t n, off_t off) __attribute__((warn_unused_result));
int walfile_fsync_dir(const char *path);
void walfile_sha256(const void *p, size_t n, unsigned char out[32]);

/* Appends one record of `plain` (n <= WA_CHUNK bytes, at plaintext offset
 * `off` of file `name` of segment `seg` of database `id`) to `fd`, sealed
 * with `key` unless NULL; *out_stored gets the bytes written. 0 or -1. */
int walfile_record_write(const SecretKey *key, int fd, int64_t id, const char *seg,
                         const char *name, int64_t off, const void *plain, size_t n,
                         int64_t *out_stored) __attribute__((warn_unused_result));
/*
 * Reads the record at `stored_off` of `fd`, checks its checksum (and with
 * `encrypted`, opens it with `key`, failing when NULL), and writes its first
 * `want` plaintext bytes (all when want < 0) to `dst` (none when dst < 0).
 * Returns the plaintext's length; -1 with `why` when the record is corrupt,
 * cut short or does not decrypt; -3 with `why` when writing to dst failed.
 */
int64_t walfile_record_read(const SecretKey *key, int fd, int64_t stored_off, int64_t id,
                            const char *seg, const char *name, int64_t plain_off, int dst,
                            int64_t want, bool encrypted, char *why, size_t whylen);

/* Appends "<fields> #<hex>\n" to `fd`. 0 or -1. */
int walfile_index_append(int fd, const char *fields) __attribute__((warn_unused_result));
/* Checks a line read back (its "\n" removed); on success cuts it to its fields. */
bool walfile_index_line_ok(char *line);

#endif
