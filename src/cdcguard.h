/*
 * cdcguard: the tables a CDC stream follows are read-only to users while the
 * stream runs (docs/cdc.md, "Linked tables are read-only"). A user's write to
 * one of them would race the stream's batches (a DuckDB conflict, then a
 * retry) or be overwritten by PostgreSQL's next change of the row, silently.
 *
 * The check reads the request's text with sqllex (so strings, comments and
 * quoted names are what DuckDB sees) and finds every table a statement
 * writes or changes: INSERT INTO, UPDATE, DELETE FROM, TRUNCATE, MERGE INTO,
 * COPY ... FROM, ALTER TABLE, DROP TABLE, CREATE OR REPLACE TABLE and CREATE
 * INDEX ... ON (an index makes DuckDB refuse the stream's ALTER TABLE ADD
 * COLUMN). A name qualified by a schema other than main, or by another
 * catalog, is another table. It is one rule for every user: the super user
 * skips the grant checks of access.c, not this one. The stream's own writes
 * and the link commands' never pass through here (their own connections).
 *
 * Called by sqlrun on the worker that owns the session; no state of its own
 * (the followed tables are cdc.c's registry, asked under its lock).
 */
#ifndef TCPDUCKDB_CDCGUARD_H
#define TCPDUCKDB_CDCGUARD_H

#include <stdint.h>

#include "buf.h"

/*
 * May the request `sql` (NUL-terminated) run on database `db_id`? 0 when it
 * writes no table a running CDC stream of that database follows; else -1
 * with `Error: Bad Request: table T follows PostgreSQL by CDC (link of
 * database D); write it in PostgreSQL ...` appended to `out`. Costs nothing
 * but an atomic load while no stream runs.
 */
int cdcguard_check(int64_t db_id, const char *sql, Buf *out) __attribute__((warn_unused_result));

/*
 * The tables `sql` writes, for the tests: calls fn(ctx, name) for each
 * target's last name part (unquoted), qualified ones only when the
 * qualifier is main, `catalog`, or `catalog`.main. Returns the number of
 * calls.
 */
int cdcguard_written_tables(const char *sql, const char *catalog,
                            void (*fn)(void *ctx, const char *name), void *ctx);

#endif
