/*
 * cdcddl: the schema changes a CDC stream follows by itself (docs/cdc.md,
 * "Schema changes"): columns added at the end of a table. PostgreSQL's ADD
 * COLUMN ... DEFAULT with a non-volatile default writes nothing to the
 * existing rows (nor to the WAL): it stores the value in
 * pg_attribute.attmissingval, and every existing row reads as having it.
 * The stream gives the DuckDB table the column with that value for its
 * existing rows, inside the open batch transaction, before the changes that
 * carry the column.
 *
 * A type change that keeps a column's name (ALTER COLUMN ... TYPE) is
 * detected (cdcddl_check_types) and stops the stream, as a rename does.
 *
 * Caller: a stream thread (cdc.c), with its PostgreSQL connection and its
 * DuckDB connection inside its open transaction. Errors go to the PgJob.
 */
#ifndef TCPDUCKDB_CDCDDL_H
#define TCPDUCKDB_CDCDDL_H

#include <stdint.h>

#include "duckdb.h"
#include "pgjob.h"
#include "pgschema.h"

/*
 * Adds columns `from`.. of `tb` (PostgreSQL's definition now, of the table
 * with oid `relid`) to its DuckDB table, each with the value PostgreSQL
 * gives the rows that existed before the column (attmissingval, else NULL).
 * When that value cannot be known (a default that rewrote the table, or one
 * set later) or not written as a DuckDB literal (arrays, bytea, intervals,
 * enums), fails with an error naming table and column and pointing to `cdc
 * resync DBNAME TABLE`. 0, or -1 with the error in pg.
 */
int cdcddl_add_columns(PgJob *pg, duckdb_connection con, uint32_t relid, const PgTable *tb,
                       int from, const char *dbname) __attribute__((warn_unused_result));

/*
 * Compares the types of the DuckDB table of `now` (PostgreSQL's definition of
 * the table, cut to the columns of the Relation message at hand) with the
 * DuckDB types link maps `now`'s columns to, column by column, as DuckDB
 * spells them. Fails on the first that differs with an error naming table,
 * column, the old type (of `was`, the definition the stream knew, when not
 * NULL; else the DuckDB column's) and the new one, pointing to `cdc resync
 * DBNAME TABLE`. A change that maps to the same DuckDB type (varchar(10) to
 * varchar(20)) passes: its values decode as before. 0, or -1 with the
 * error in pg.
 */
int cdcddl_check_types(PgJob *pg, duckdb_connection con, const PgTable *now, const PgTable *was,
                       const char *dbname) __attribute__((warn_unused_result));

#endif
