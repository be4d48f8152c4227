/*
 * pgwire_catrewrite: the text the catalog instance (pgwire_catsql.h) runs
 * for a client's catalog query, rewritten on the lexer's tokens (sqllex.h),
 * so nothing inside a string or a comment is touched:
 *   - `pg_catalog.` qualifiers dropped (the instance's TEMP relations and
 *     macros come first on DuckDB's search path), and
 *     `information_schema._pg_expandarray`;
 *   - `OPERATOR(pg_catalog.op)` as `op`; `COLLATE pg_catalog."default"`,
 *     "C" and "POSIX" dropped;
 *   - PostgreSQL's regular expression operators `~ ~* !~ !~*` with a
 *     literal or parameter pattern made to match anywhere, as PostgreSQL's
 *     do (DuckDB's `~` matches the whole text);
 *   - `'name'::regclass` / `::regtype` as lookups, other `reg*`, `name`,
 *     `"char"` and vector casts as BIGINT or VARCHAR;
 *   - `current_user` and `session_user` as the session's user.
 *
 * Pure: no state, any thread.
 */
#ifndef TCPDUCKDB_PGWIRE_CATREWRITE_H
#define TCPDUCKDB_PGWIRE_CATREWRITE_H

#include <stdbool.h>

#include "buf.h"

/* The rewritten text of `sql` into `out` (reset first); false when `sql` cannot be lexed. */
bool catrw_text(const char *sql, Buf *out);

#endif
