/*
 * dbmeta: what the server reads about a database's objects and DuckDB's own
 * functions from DuckDB's metadata table functions (duckdb_tables(),
 * duckdb_views(), duckdb_functions(), duckdb_keywords()): the tables a grant
 * can name, user-defined functions that could shadow a built-in, and the
 * function list the result cache classifies by. SQL execution itself is
 * query.c's.
 */
#ifndef TCPDUCKDB_DBMETA_H
#define TCPDUCKDB_DBMETA_H

#include <stdint.h>

#include "duckdb.h"

/*
 * Calls `fn` with the name and the oid of every table and view of schema
 * main of database `db_id` (its DuckDB catalog is named after the id), as
 * the connection's transaction sees them. An oid (DuckDB's table_oid or
 * view_oid) is kept across a rename and never shared by a new object while
 * the database stays open; it is not kept across a close and reopen, so it
 * must never be stored. `name` is valid during the call only. Returns 0, or
 * -1 when DuckDB fails (logged).
 */
int dbmeta_list_tables(duckdb_connection con, int64_t db_id,
                       void (*fn)(void *ctx, const char *name, int64_t oid), void *ctx)
    __attribute__((warn_unused_result));

/*
 * Whether connection `con` (outside a transaction) sees a function or macro
 * that is not DuckDB's own (CREATE MACRO / CREATE FUNCTION, temporary or
 * not): such a name may shadow a built-in the result cache's classifier
 * trusts. Returns 1 or 0, or -1 when DuckDB fails (then assume 1).
 */
int dbmeta_has_user_functions(duckdb_connection con);

/*
 * Reads DuckDB's own lists for the result cache's classifier (rescache.h)
 * from an in-memory database: `fn` gets each row of duckdb_functions()
 * (name, function_type, stability; stability may be NULL), `kw` each name
 * of duckdb_keywords(). Start-up only. Returns 0, or -1 when DuckDB fails
 * (logged); then the lists may be partial and must not be used.
 */
int dbmeta_list_functions(void (*fn)(const char *name, const char *type, const char *stability),
                          void (*kw)(const char *name)) __attribute__((warn_unused_result));

#endif
