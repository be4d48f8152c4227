/*
 * walarchive: continuous archiving of every database's DuckDB write-ahead
 * log, for restores to any point in time (`restore DB AS NEW AT 'time'`;
 * docs/backup.md, "Point-in-time restore").
 *
 * While ArchiveMode is on, the pool opens databases with automatic
 * checkpoints and optimistic writes off, so a database's file changes only
 * at checkpoints the server runs and its log (<file>.wal) is self-contained.
 * The archive of a database is a chain of segments, one per log generation:
 * a segment starts with a base (the file and the log's prefix as they were
 * when the database was opened or right after a checkpoint: taken while no
 * commit runs, copied after while commits go on) and goes on with the log's
 * bytes as they are written, and with one record (time, log length) per
 * write commit, taken after the commit returned and before it is
 * acknowledged. A restore to T takes the latest segment whose base is at or
 * before T, and cuts its log at the greatest length recorded at or before
 * T; DuckDB's own recovery replays it and drops a torn tail.
 *
 * Per database: a gate (a read-write lock) that write commits hold in read
 * mode and checkpoints (and segment starts) in write mode, so no commit runs
 * while the log is cut over; a mutex over the segment's files, held by
 * whoever writes and syncs the archive; and a mutex over the commit
 * records, held only for moments, so a commit never waits for another's
 * archive I/O. An archiver thread writes what commits recorded every
 * ArchiveSync ms; when ArchiveSync is 0 each commit makes sure its record is
 * written and synced before it returns, by a flush of its own or by one
 * another commit made meanwhile (group commit).
 *
 * Threads: every function may be called from any thread.
 */
#ifndef TCPDUCKDB_WALARCHIVE_H
#define TCPDUCKDB_WALARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "pool.h"
#include "secret.h"

typedef struct ArchiveDb ArchiveDb;

/* Starts archiving (when cfg->archive_mode is on) and its thread. `pool`
 * must outlive walarchive_stop(). Returns 0, or -1 with `err`. */
int walarchive_start(const Config *cfg, Pool *pool, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Stops the thread; call after the pool is freed (which ends every segment). */
void walarchive_stop(void);
bool walarchive_enabled(void);

/* Pool hooks. Opened: starts a segment with a base (no connection other than
 * the pool's own exists yet). Closing: before the close's checkpoint, with
 * no pins: archives the log's tail and ends the segment. */
void walarchive_opened(int64_t id);
void walarchive_closing(int64_t id);

/* The archive of open database `id`, or NULL when archiving is off. Valid
 * for the life of the process. */
ArchiveDb *walarchive_db(int64_t id);

/* Around every write commit: begin takes the gate (read); end records the
 * log's length and the time, archives when ArchiveSync is 0, and releases
 * the gate. end returns true when the log has grown past the size at which
 * the server checkpoints (the caller then runs walarchive_checkpoint_*
 * around a CHECKPOINT). Accept NULL (no archive). */
void walarchive_commit_begin(ArchiveDb *a);
bool walarchive_commit_end(ArchiveDb *a);

/* Around a CHECKPOINT: begin takes the gate (write), archives the log's
 * tail and ends the segment; end starts the next segment with a base and
 * releases the gate. Accept NULL. */
void walarchive_checkpoint_begin(ArchiveDb *a);
void walarchive_checkpoint_end(ArchiveDb *a);

/* For walrestore.c: BackupDir/archive; the key archive files are sealed with
 * (NULL without ENCRYPTION_KEY); archives what database `id`'s live segment
 * has not written yet; whether `seg` is the segment `id` writes now. */
const char *walarchive_root(void);
const SecretKey *walarchive_key(void);
void walarchive_flush_live(int64_t id);
bool walarchive_live_segment(int64_t id, const char *seg);

#endif
