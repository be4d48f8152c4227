/*
 * pgwire_catjdbc: the catalog queries pgjdbc 42.x sends for
 * DatabaseMetaData.getTables, getColumns, getPrimaryKeys and getSchemas
 * (getCatalogs and getTableTypes need no query), and its lookups of a type
 * OID it does not know (TypeInfoCache), answered from the emulated catalog
 * (pgwire_catmodel.h). pgjdbc sends them through the extended protocol with
 * the patterns as string literals (LIKE, escape backslash) and the type OID
 * as parameter $1.
 *
 * Thread: the worker that owns the session.
 */
#ifndef TCPDUCKDB_PGWIRE_CATJDBC_H
#define TCPDUCKDB_PGWIRE_CATJDBC_H

#include <stdbool.h>

#include "buf.h"
#include "session.h"

/*
 * As catpsql_answer (pgwire_catpsql.h), for pgjdbc's queries. `param_oid`
 * is the value of parameter $1 of its type lookups (`WHERE t.oid = $1`), or
 * -1 when there is none (a Describe).
 */
bool catjdbc_answer(Session *s, const SessionEnv *env, const char *sql, long long param_oid,
                    Buf *out, bool *out_ok);

#endif
