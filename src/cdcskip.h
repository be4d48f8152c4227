/*
 * cdcskip: the per-table resync positions of a CDC-linked database
 * (docs/cdc.md, "cdc resync"). `cdc resync DB TABLE` re-copies one table
 * from the exported snapshot of a temporary slot whose consistent point is
 * C, while the database's own slot stays where it was: the copy holds every
 * transaction that committed before C. The stream, resuming from its stored
 * LSN below C, must then skip that table's changes in the transactions
 * committed before C (their commit LSN, in Begin, is below C) and apply the
 * later ones. The table CDCSKIP_TABLE (inside the DuckDB database, next to
 * the state table) holds (table, C), written in the DuckDB transaction of the
 * copy; rows whose C the stored LSN has passed are pruned with the batch
 * that passes it.
 *
 * Callers: cdclink (resync, unlink) and the stream threads of cdc, each on
 * its own DuckDB connection inside its own transaction. Errors go to a PgJob.
 */
#ifndef TCPDUCKDB_CDCSKIP_H
#define TCPDUCKDB_CDCSKIP_H

#include <stdint.h>

#include "duckdb.h"
#include "pgjob.h"

#define CDCSKIP_TABLE "tcpduckdb_cdc_resync"

/* The positions read at a stream's start. */
typedef struct CdcSkips {
    char **table;
    uint64_t *below; /* skip the table's changes of transactions whose commit LSN is below */
    int n;
} CdcSkips;

/* Reads CDCSKIP_TABLE (none when it does not exist) into *out: 0, or -1 with the error in pg. */
int cdcskip_read(PgJob *pg, duckdb_connection con, CdcSkips *out)
    __attribute__((warn_unused_result));

/* The position below which the changes of `table` are skipped; 0 when none. */
uint64_t cdcskip_below(const CdcSkips *s, const char *table);

void cdcskip_free(CdcSkips *s);

/* Records (table, below), replacing an earlier row of the table, creating CDCSKIP_TABLE when
 * missing: 0, or -1 with the error in pg. */
int cdcskip_set(PgJob *pg, duckdb_connection con, const char *table, uint64_t below)
    __attribute__((warn_unused_result));

/* Removes the rows whose position `applied` (the stored LSN) has reached, or every row when
 * applied is UINT64_MAX (a resync of the whole database): 0, or -1 with the error in pg. */
int cdcskip_prune(PgJob *pg, duckdb_connection con, uint64_t applied)
    __attribute__((warn_unused_result));

/* Drops CDCSKIP_TABLE (unlink): 0, or -1 with the error in pg. */
int cdcskip_drop(PgJob *pg, duckdb_connection con) __attribute__((warn_unused_result));

#endif
