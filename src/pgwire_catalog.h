/*
 * pgwire_catalog: the PostgreSQL catalog as the front end shows it
 * (docs/pgwire.md#catalog). DuckDB's own pg_catalog cannot answer the
 * queries psql's \d family sends (its pg_attribute.atttypid holds DuckDB
 * type ids that collide with PostgreSQL OIDs, OPERATOR(pg_catalog.~) and
 * ::regclass do not parse), so a statement that names a catalog relation
 * never reaches DuckDB: this module recognises the query shapes psql 15
 * and pgjdbc 42.x send and answers them from an emulated catalog built for
 * the request from what the user may see (the tables, views and indexes of
 * the connected database their grants cover, the databases they hold a
 * grant on, themselves), and refuses any other catalog query with 0A000.
 *
 * Thread: the worker that owns the session; no shared state.
 */
#ifndef TCPDUCKDB_PGWIRE_CATALOG_H
#define TCPDUCKDB_PGWIRE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "params.h"
#include "session.h"

/*
 * True when `sql` (one statement) names a PostgreSQL catalog relation
 * (pg_catalog.pg_class, pg_namespace, pg_attribute, pg_type, pg_database,
 * pg_roles, ...) outside strings and comments: the statements this module
 * answers or refuses instead of DuckDB.
 */
bool pgcat_is_catalog_query(const char *sql, size_t len);

/* Which messages of an answer to send. */
typedef enum {
    PGCAT_WHOLE,       /* RowDescription, DataRows, CommandComplete (simple query) */
    PGCAT_DESCRIPTION, /* the RowDescription alone (Describe) */
    PGCAT_ROWS,        /* DataRows and CommandComplete (Execute) */
} PgCatParts;

/*
 * Answers catalog statement `sql` of connected session `s` into `out`: the
 * `parts` of RowDescription, DataRows and CommandComplete, or one
 * ErrorResponse (0A000 for a query shape it does not handle). `params`
 * (NULL: none) are the bound parameters; only pgjdbc's type lookups take
 * one ($1, a type OID). The answer is built afresh each time, so a Describe
 * and its Execute agree on the columns. Returns false when the answer is an
 * error.
 */
bool pgcat_answer(Session *s, const SessionEnv *env, const char *sql, const TypedRequest *params,
                  PgCatParts parts, Buf *out);

#endif
