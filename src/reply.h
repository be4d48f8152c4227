/*
 * reply: the answer lines of the commands, one function per kind of answer,
 * so that each message's wording lives in one place (docs/protocol.md,
 * "Error messages"). Every function appends exactly one line to `out`.
 * Pure formatting; any thread.
 */
#ifndef TCPDUCKDB_REPLY_H
#define TCPDUCKDB_REPLY_H

#include "buf.h"
#include "catalog.h"

void reply_success(Buf *out);
void reply_unauthorized(Buf *out);
void reply_internal(Buf *out);
/* "Error: Bad Request: <formatted text>". */
void reply_bad_request(Buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A Bad Request naming the invalid `name` (a printable prefix of it) and the name rule. */
void reply_invalid_name(Buf *out, const char *what, const char *name);
/*
 * The answer for a catalog status about `kind` ("Database", "User") `name`:
 * success, Does Not Exist, Already Exists, Unauthorized or Internal Error.
 */
void reply_catalog(Buf *out, CatalogStatus st, const char *kind, const char *name);

#endif
