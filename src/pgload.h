/*
 * pgload: moving PostgreSQL rows into DuckDB tables, shared by the audit
 * mode's commands (pglink: link, migrate) and the CDC streams (cdc):
 * a binary COPY appended to a DuckDB table, and the set-based apply of a
 * batch of staged row changes to its table.
 *
 * A stage table (pgload_stage_sql) holds one row per change: its order
 * (seq), its operation (I insert, U update, D delete, T truncate), the old
 * row's columns "o1".."oN" and the new row's "n1".."nN", in the DuckDB types
 * of the target table. Applying it (pgload_apply_stage) gives the table
 * what replaying the changes one by one in seq order would, with a few
 * statements whatever the number of changes: memory stays DuckDB's, which
 * spills to disk.
 *
 * Callers: the thread running a command or a stream, on its own DuckDB
 * connection, inside its open DuckDB transaction. Errors go to the PgJob.
 */
#ifndef TCPDUCKDB_PGLOAD_H
#define TCPDUCKDB_PGLOAD_H

#include <stdint.h>

#include "buf.h"
#include "duckdb.h"
#include "pgjob.h"
#include "pgschema.h"

/* The scratch table of a keyless apply, created and dropped inside it. */
#define PGLOAD_NET_TABLE "tcpduckdb_migrate_net"

/* Runs `sql` (one or more statements) on `con`: 0, or -1 with DuckDB's error in `pg`. */
int pgload_exec(PgJob *pg, duckdb_connection con, const char *sql)
    __attribute__((warn_unused_result));

/* COMMITs the transaction open on `con`, a connection to database `db_id`, as a session's COMMIT
 * does (query_commit): inside the database's archive gate (walarchive.h), so a point-in-time
 * restore sees the commit; fails the job with DuckDB's error. Returns 0 or -1. */
int pgload_commit(PgJob *pg, duckdb_connection con, int64_t db_id);

/*
 * Runs `copy_sql` (a COPY ... TO STDOUT (FORMAT binary) whose fields are
 * `cols`) on pg's connection and appends every row to DuckDB table
 * `duck_table`. `what` names the table in messages. *out_rows gets the number
 * of rows. Returns 0, or -1 with the error recorded in `pg`.
 */
int pgload_copy(PgJob *pg, duckdb_connection con, const char *copy_sql, const char *duck_table,
                const PgCol *const *cols, int ncols, const char *what, int64_t *out_rows)
    __attribute__((warn_unused_result));

/* Appends CREATE TABLE `stage` (seq, op, o1..oN, n1..nN) for the columns of `tb`. */
void pgload_stage_sql(Buf *b, const char *stage, const PgTable *tb);

/*
 * Applies the staged changes of `tb` (rows of table `stage`, of
 * pgload_stage_sql(), in change order) to its DuckDB table. After the last
 * TRUNCATE only later changes matter. With a primary key, every key a change
 * touched is deleted, then the newest version of each key whose last change
 * left a row is inserted. Without one, rows are a multiset: each distinct row
 * value gains (inserts, new sides of updates) or loses (deletes, old sides)
 * copies, and the net difference is inserted or deleted; the old sides must
 * then hold whole rows. Returns 0, or -1 with the error in `pg`.
 */
int pgload_apply_stage(PgJob *pg, duckdb_connection con, const char *stage, const PgTable *tb)
    __attribute__((warn_unused_result));

#endif
