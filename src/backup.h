/*
 * backup: online base backups of databases and restores from them
 * (docs/backup.md).
 *
 * A backup of database D is a directory BackupDir/<id>/ holding copies of
 * D's DuckDB file and of its write-ahead logs (`db`, `wal`,
 * `wal.checkpoint`), taken while sessions go on writing, and a MANIFEST
 * naming each file with its size and SHA-256 (over the bytes stored, so
 * `verify backup` needs no key). The copy is made without stopping
 * anyone: the DuckDB file changes in place only when a checkpoint ends
 * (DuckDB writes new blocks into free space and then swaps the header), and
 * the logs only grow between checkpoints, so a copy whose file header and
 * log identities are the same before and after is the state a crash at the
 * moment the logs' lengths were read would leave, which DuckDB's own
 * recovery opens (measured in docs/backup.md). A checkpoint that ends
 * during the copy makes it start again (a few times, then fail).
 *
 * Completeness: files are written under BackupDir/.tmp-<id>/, synced, the
 * MANIFEST written and synced last, then the directory is renamed to its
 * id and BackupDir synced. Only directories with a valid MANIFEST are
 * listed, so a backup cut short (disk full, kill -9) is never listed; its
 * leftovers are removed by the next backup.
 *
 * With ENCRYPTION_KEY set, every file is stored encrypted (AES-256-GCM
 * through secret.h, in 1 MiB records bound to the backup id, the file name,
 * the record's index and whether it is the last, so records cannot be
 * reordered, moved or cut off unnoticed). Files are created 0600 in 0700
 * directories. No command takes a path: users name databases and backup
 * ids only; ids are checked against [A-Za-z0-9_.-] and never start with a
 * dot.
 *
 * Commands (super user; the session table checks who): all run on the
 * calling worker, one backup, restore or verify at a time in the process.
 */
#ifndef TCPDUCKDB_BACKUP_H
#define TCPDUCKDB_BACKUP_H

#include "buf.h"
#include "request.h"
#include "session.h"

/* `backup DB` | `backup all`: [{"id","database","time","bytes","seconds"},...] */
void backup_cmd_backup(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `list backups [DB]`: [{"id","database","time","bytes","kind","earliest","latest"},...] */
void backup_cmd_list(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `restore DB AS NEWDB [FROM ID]`: a new database from a backup (the latest
 * of DB without FROM), or AT a time from the continuous archive (walarchive.h);
 * grants are not copied. */
void backup_cmd_restore(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* Complete backups in BackupDir now and their bytes (for /metrics); reads each MANIFEST. */
size_t backup_count(const Config *cfg, int64_t *out_bytes);
/* One backup of database `name`, as `backup NAME` makes (for BackupSchedule,
 * backupsched.h). Returns 0, or -1 (logged). Blocks while another runs. */
int backup_database(const SessionEnv *env, const char *name);
/* BackupRetention: removes each database's base backups older than the newest
 * one taken at or before `keep_from_us` (microseconds since the epoch), which
 * is what a restore to keep_from or later may need. Returns how many. */
int backup_prune(const Config *cfg, int64_t keep_from_us);
/* `verify backup ID`: re-reads every file against the MANIFEST. */
void backup_cmd_verify(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);

#endif
