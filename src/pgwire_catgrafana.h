/*
 * pgwire_catgrafana: the information_schema queries Grafana's PostgreSQL
 * data source sends for its query builder (schemas, tables, a table's
 * columns with PostgreSQL's data_type names), answered from the emulated
 * catalog (pgwire_catmodel.h). Other information_schema queries are not
 * the front end's: they go to DuckDB's own information_schema under the
 * access checks (the super user's only).
 *
 * Thread: the worker that owns the session.
 */
#ifndef TCPDUCKDB_PGWIRE_CATGRAFANA_H
#define TCPDUCKDB_PGWIRE_CATGRAFANA_H

#include <stdbool.h>

#include "buf.h"
#include "session.h"

/* True when NUL-terminated `sql` is one of Grafana's queries answered here. */
bool catgrafana_is_ours(const char *sql);

/* As catpsql_answer (pgwire_catpsql.h), for Grafana's queries. */
bool catgrafana_answer(Session *s, const SessionEnv *env, const char *sql, Buf *out, bool *out_ok);

#endif
