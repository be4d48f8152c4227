/*
 * walrestore: restores from the write-ahead log archive (walarchive.h
 * writes it; docs/backup.md, "Point-in-time restore").
 *
 * A restore to T takes the latest segment of the database whose base was
 * taken at or before T, and its log cut at the greatest length recorded for
 * a commit at or before T. Any thread; reads files only, except
 * walrestore_prune(), which removes segments.
 */
#ifndef TCPDUCKDB_WALRESTORE_H
#define TCPDUCKDB_WALRESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * Writes into `db_path` and `wal_path` (created 0600, must not exist) the
 * state of database `id` at `t_us` (microseconds since the epoch, UTC).
 * Returns 0; -1 with `why` when t_us is not reachable (the user's error);
 * -2 with `file` and `why` when an archive file is corrupt or cut short; -3
 * with `why` when writing failed. The caller removes the files on failure.
 * `t_us` WALRESTORE_LATEST: the latest point the archive reaches.
 */
#define WALRESTORE_LATEST INT64_MAX
int walrestore_stage(const Config *cfg, int64_t id, int64_t t_us, const char *db_path,
                     const char *wal_path, char *file, size_t filelen, char *why, size_t whylen)
    __attribute__((warn_unused_result));

/* The earliest and latest point a restore of database `id` can reach, as
 * ISO 8601 text, and the archive's bytes. Returns false when it has none. */
bool walrestore_range(const Config *cfg, int64_t id, char *earliest, char *latest, size_t len,
                      int64_t *out_bytes);

/* Removes the segments no restore to a point at or after `keep_from_us`
 * needs: those older than the newest one whose base is at or before it
 * (never the one being written). Returns how many. */
int walrestore_prune(const Config *cfg, int64_t keep_from_us);

#endif
