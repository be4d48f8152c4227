/*
 * pgwire_catnode: the catalog query postgres.js 3.x (the npm package
 * `postgres`) sends when it connects, to learn the array type of each base
 * type (unless `fetch_types: false`), answered from the emulated catalog's
 * types (pgwire_catmodel.h). node-postgres (`pg`) sends no catalog query:
 * its type parsers are built in.
 *
 * Thread: the worker that owns the session.
 */
#ifndef TCPDUCKDB_PGWIRE_CATNODE_H
#define TCPDUCKDB_PGWIRE_CATNODE_H

#include <stdbool.h>

#include "buf.h"

/*
 * As catpsql_answer (pgwire_catpsql.h), for postgres.js's query: true when
 * `sql` is it, with the answer in `out` and *out_ok set; false (nothing
 * written) for any other statement. The answer does not depend on the user:
 * the types are the same for everyone.
 */
bool catnode_answer(const char *sql, Buf *out, bool *out_ok);

#endif
