/*
 * pgwire_extended: PostgreSQL's extended query protocol for one connection
 * (docs/pgwire.md): Parse, Bind, Describe, Execute, Close and Sync, the
 * named and unnamed prepared statements and portals they make, row limits
 * with PortalSuspended, binary parameters, and skipping to Sync after an
 * error. The Executes up to a Sync run in one implicit transaction, as in
 * PostgreSQL: an error skips the rest and Sync rolls all of them back. Statements run through the
 * session's front end (pgsess_run_statement, pgwire_session_int.h), so the same access checks,
 * transaction status and settings apply as to a simple Query.
 *
 * Bounds: at most 1000 statements and 1000 portals, and 64 MiB of their
 * texts, parameters and held rows together; beyond, 53400 or 54000.
 *
 * Thread: the worker that owns the connection; no shared state.
 */
#ifndef TCPDUCKDB_PGWIRE_EXTENDED_H
#define TCPDUCKDB_PGWIRE_EXTENDED_H

#include <stdbool.h>

#include "pgwire.h"
#include "pgwire_session.h"
#include "session.h"

typedef struct PgExtended PgExtended;

/* No statements or portals. Caller frees with pgext_free(). */
PgExtended *pgext_new(void);
/* Frees the statements and portals. Accepts NULL. */
void pgext_free(PgExtended *x);

/* DEALLOCATE: drops the prepared statement `name`, or every one (NULL); portals stay,
 * as in PostgreSQL. False when `name` names none. */
bool pgext_deallocate(PgExtended *x, const char *name);

/* DISCARD ALL: drops every prepared statement and every portal but the one running. */
void pgext_discard(PgExtended *x);

/* True after an error, until Sync: the messages before it are dropped. */
bool pgext_skipping(const PgExtended *x);

/*
 * Runs a Parse, Bind, Describe, Execute or Close message (m->type P, B, D,
 * E or C), appending the answers to io->out. Returns false when the
 * connection must close (the session's client is gone).
 */
bool pgext_message(PgExtended *x, PgSession *ps, Session *s, const SessionEnv *env, const PgMsg *m,
                   QueryIo *io);

/* Sync: ends the skipping after an error and the implicit transaction (committed, or
 * rolled back after an error), and answers ReadyForQuery. */
void pgext_sync(PgExtended *x, PgSession *ps, Session *s, const SessionEnv *env, QueryIo *io);

#endif
