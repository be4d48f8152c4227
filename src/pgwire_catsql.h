/*
 * pgwire_catsql: the catalog queries that no recogniser of pgwire_catalog.c
 * knows (pgAdmin's, DBeaver's, a person's own `SELECT relname FROM
 * pg_class`), run as SQL on a private in-memory DuckDB that holds nothing
 * but the user's view of the catalog (docs/pgwire.md#catalog).
 *
 * Why a second DuckDB: the user's own connection would let the query join
 * the emulated catalog with tables the user may not read, and DuckDB's own
 * pg_catalog there is wrong for PostgreSQL clients (its type ids collide
 * with PostgreSQL's OIDs). The catalog instance is opened once, in memory,
 * with file access, extension loading and configuration changes off; a
 * query runs on a connection of its own that holds the user's view
 * (pgwire_catview.h: TEMP relations filled from pgwire_catmodel.h, which
 * lists only what the user may see, and TEMP macros for PostgreSQL's
 * catalog functions), over the text pgwire_catrewrite.h makes of the
 * client's. Only a single SELECT runs; it runs under the watchdog
 * (statement timeout, cancel, memory), counts against MaxUserStatements,
 * shows in `show sessions`, and its answer is bounded
 * (CATSQL_MAX_ANSWER). When it has been answered, the
 * rows of the user's view are deleted and the connection goes back to a
 * small pool (its relations and macros kept); an interrupted connection, or
 * one that could not be emptied, is closed: nothing one user's query saw is
 * ever seen by another's.
 *
 * Thread: the worker that owns the session. The instance is shared and
 * opened once (pthread_once); the pool is guarded by a mutex; a connection
 * serves one query at a time.
 */
#ifndef TCPDUCKDB_PGWIRE_CATSQL_H
#define TCPDUCKDB_PGWIRE_CATSQL_H

#include <stdbool.h>

#include "buf.h"
#include "params.h"
#include "session.h"

/* The largest answer a catalog query may give, in bytes of protocol messages. */
#define CATSQL_MAX_ANSWER (64u << 20)

/*
 * Runs catalog query `sql` (one statement, as the client sent it after
 * pgrw_client_text) with `params` (NULL: none) and appends the whole answer
 * (RowDescription of text-format columns, DataRows, CommandComplete) to
 * `out`, or an ErrorResponse. Returns true when it answered rows.
 */
bool catsql_answer(Session *s, const SessionEnv *env, const char *sql, const TypedRequest *params,
                   Buf *out);

#endif
