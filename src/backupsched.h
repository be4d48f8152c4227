/*
 * backupsched: automatic base backups (BackupSchedule) and retention of
 * backups and of the archive (BackupRetention); docs/backup.md.
 *
 * One thread. Every BackupSchedule seconds it backs up each database whose
 * files changed since its last backup made by this thread (after a start,
 * every database once); once a minute (each second for a retention under
 * ten minutes) when BackupRetention is set, it removes the base backups and archive segments
 * that no restore to a point in the last BackupRetention seconds needs.
 * Both read the settings in force at each round (`reload` may change them).
 */
#ifndef TCPDUCKDB_BACKUPSCHED_H
#define TCPDUCKDB_BACKUPSCHED_H

#include "session.h"

/* Starts the thread; `env` must outlive backupsched_stop(). Returns 0 or -1. */
int backupsched_start(const SessionEnv *env) __attribute__((warn_unused_result));
/* Stops it (waits for a backup in progress); before the pool is freed. */
void backupsched_stop(void);

#endif
