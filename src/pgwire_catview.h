/*
 * pgwire_catview: the user's view of PostgreSQL's catalog as TEMP relations
 * and macros of a DuckDB connection of the catalog instance
 * (pgwire_catsql.h runs catalog queries over it; docs/pgwire.md#catalog).
 *
 * The relations have PostgreSQL 15's names and columns (less those no
 * client reads): pg_class, pg_attribute, pg_type, pg_namespace,
 * pg_database, pg_roles, pg_user, pg_index, pg_constraint, pg_attrdef,
 * pg_description, pg_tables, pg_views, pg_indexes, pg_settings,
 * pg_stat_user_tables, pg_am, pg_tablespace, and empty ones for what
 * DuckDB has no counterpart of; the macros are PostgreSQL's catalog
 * functions (format_type, pg_get_userbyid, has_*_privilege, ...). The rows
 * are read from pgwire_catmodel.h, which lists only what the user may see.
 *
 * A connection is made once with catview_schema_sql() and
 * catview_fill_static() (the rows that are the same for everyone); each
 * query fills the user's rows (catview_read() then catview_fill()) and
 * deletes them after (catview_clear_sql()).
 *
 * Thread: the caller's; no shared state.
 */
#ifndef TCPDUCKDB_PGWIRE_CATVIEW_H
#define TCPDUCKDB_PGWIRE_CATVIEW_H

#include <stdbool.h>

#include "buf.h"
#include "duckdb.h"
#include "session.h"

/* What the user of a session may see of the catalog, read from DuckDB and the server catalog. */
typedef struct CatView CatView;

/*
 * Reads the view of `s` into *out (always set; free with catview_free).
 * Returns 0, or -1 with an ErrorResponse in `err` (kept by the view for the
 * call's duration).
 */
int catview_read(Session *s, const SessionEnv *env, CatView **out, Buf *err);
void catview_free(CatView *v);

/* The CREATE TEMP TABLE and CREATE TEMP MACRO statements of a catalog connection. */
void catview_schema_sql(Buf *out);

/* Fills the relations that hold the same rows for everyone; false when one failed (logged). */
bool catview_fill_static(duckdb_connection con);

/* Fills the user's rows of `v` into `con`; false when a relation failed (logged). */
bool catview_fill(CatView *v, duckdb_connection con);

/* The statements that delete every row catview_fill() wrote. */
void catview_clear_sql(Buf *out);

#endif
