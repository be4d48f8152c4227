/*
 * pgwire_catpsql: the catalog queries psql 15 sends for its \d family
 * (\d, \dt, \dv, \di, \d NAME, each with +, \df, \l, \dn, \du), answered
 * from the emulated catalog (pgwire_catmodel.h). Each query is recognised by
 * markers no other query shares (the relations it reads, the columns it
 * selects); the columns an answer has are those the query asks for (psql
 * adds some with +).
 *
 * Thread: the worker that owns the session.
 */
#ifndef TCPDUCKDB_PGWIRE_CATPSQL_H
#define TCPDUCKDB_PGWIRE_CATPSQL_H

#include <stdbool.h>

#include "buf.h"
#include "session.h"

/*
 * When `sql` is one of psql's catalog queries, answers it into `out`
 * (RowDescription, DataRows, CommandComplete, or one ErrorResponse), sets
 * *out_ok to whether the answer is not an error, and returns true; returns
 * false, writing nothing, for any other statement.
 */
bool catpsql_answer(Session *s, const SessionEnv *env, const char *sql, Buf *out, bool *out_ok);

#endif
