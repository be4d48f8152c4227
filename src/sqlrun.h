/*
 * sqlrun: one SQL request of a connected session, from its text to its
 * answer: the statement cache (stmtcache.h), the access check (access.h),
 * the result cache (rescache.h), auto-parameterisation (autoparam.h), the
 * run (query.h), and what a run changes afterwards (schema generation,
 * transaction flags, table grants). Split out of session.c, which
 * dispatches to it; called on the worker that owns the session.
 */
#ifndef TCPDUCKDB_SQLRUN_H
#define TCPDUCKDB_SQLRUN_H

#include "authz.h"
#include "session.h"
#include "stmtcache.h"

/*
 * Runs `text` (NUL-terminated SQL), or the typed request `typed` (then
 * `text` is typed->sql) for a session in SESSION_CONNECTED, answering in
 * io->out (errors in io->errors when set) with `fmt`'s encoding (NULL: the
 * line protocol's). Sets *action to SESSION_CLOSE when the client is gone.
 *
 * A text the statement cache has not seen, outside a transaction and
 * without typed parameters (a typed request without them may), whose
 * literals autoparam.h can take, runs as
 * its shape when DuckDB confirms the shape answers exactly as the text
 * would (QueryRequest.autoparam); the access check then runs on the shape,
 * which is the statement that runs, with the same grants read. On any
 * doubt (the check of the shape fails, a type does not take its value, an
 * engine error, a large answer) the literal text is checked and run as if
 * there were no shapes.
 */
void sqlrun_request(Session *s, const SessionEnv *env, const char *text, const TypedRequest *typed,
                    const QueryFormat *fmt, QueryIo *io, SessionAction *action);

/*
 * Keeps what an access check of `sql` made (access_check_request): when
 * `entry` (the session's cache entry for `sql`, or NULL) is NULL and
 * *checked can be cached, *checked becomes a new entry; the check's *plan
 * goes to the entry when it has none. What is not kept is freed; *plan and
 * *checked are NULL on return. For session_describe_sql, so that a
 * statement described once (pgwire's Describe) is not prepared again.
 */
void sqlrun_keep_checked(Session *s, const char *sql, StmtEntry *entry, AuthzPlan **plan,
                         duckdb_prepared_statement *checked);

/* Process-wide counters of auto-parameterisation, for `stats`. */
typedef struct SqlrunStats {
    uint64_t shaped;    /* requests that had a shape */
    uint64_t ran;       /* ... answered by running the shape */
    uint64_t fallbacks; /* ... answered by the literal text instead */
} SqlrunStats;

void sqlrun_stats(SqlrunStats *out);

#endif
