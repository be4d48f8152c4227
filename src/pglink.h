/*
 * pglink: the commands of the PostgreSQL integration, `link`, `migrate` and
 * `unlink` (docs/postgres.md): the top layer over pgjob (libpq), pgschema,
 * pgaudit, pgvalue and pgcopy.
 *
 * `link DB CONNSTRING [SCHEMA]` copies the tables of one PostgreSQL schema
 * (public by default) into the empty DuckDB database DB, in one DuckDB
 * transaction, after installing the audit machinery (schema
 * tcpduckdb_audit: a change log filled by triggers) in PostgreSQL.
 * `migrate DB` applies the logged changes that the DuckDB copy does not
 * have yet, in one DuckDB transaction that also records the new position
 * (table tcpduckdb_link_state inside the DuckDB database), then prunes the
 * log below the oldest position any linked database still needs.
 * `unlink DB` removes what link installed (docs/postgres.md).
 *
 * The commands are the super user's. They run on the worker thread that
 * owns the session, block it while PostgreSQL and DuckDB work, and use a
 * DuckDB connection of their own on the pooled database, so the session's
 * own connection and transaction are untouched.
 */
#ifndef TCPDUCKDB_PGLINK_H
#define TCPDUCKDB_PGLINK_H

#include <stdint.h>

#include "linkjob.h"
#include "session.h"

/* The audit link's state table, inside the linked DuckDB database (one row). */
#define PGLINK_STATE_TABLE "tcpduckdb_link_state"

/* `link DB CONNSTRING [SCHEMA]`: answers `success` or one error line. */
void pglink_cmd_link(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `migrate DB`: answers `success N` (N changes applied) or one error line. */
void pglink_cmd_migrate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `unlink DB [force]`: stops following PostgreSQL; the copied tables stay. Answers `success`. */
void pglink_cmd_unlink(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);

/* The state row of an audit link as pglink_state_read() reads it. */
typedef struct PglinkState {
    char schema[256];    /* the linked PostgreSQL schema */
    char snapshot[4096]; /* the position: the pg_snapshot whose transactions DuckDB holds */
    char consumer[64];   /* the audit consumer of this link (pgaudit.h) */
} PglinkState;

/* Reads the audit state row of the job's DuckDB database: 0, or -1 when it has no valid
 * PGLINK_STATE_TABLE (not linked in audit mode). Records no error. */
int pglink_state_read(LinkJob *j, PglinkState *out) __attribute__((warn_unused_result));

/*
 * The reading and applying half of `migrate` (docs/postgres.md), shared with `cdc switch`:
 * j->pg must be inside a REPEATABLE READ transaction, whose snapshot bounds what is read.
 * Opens the job's DuckDB transaction (left open, the caller commits) and applies the logged
 * changes of `schema` whose transactions `snapshot` (the stored position) did not see, table by
 * table, creating the tables created since link. `name` (the database) is for the log.
 * *out_changes gets the number of log rows applied. 0, or -1 with the error in j->pg.
 */
int pglink_audit_apply(LinkJob *j, const char *name, const char *schema, const char *snapshot,
                       int64_t *out_changes) __attribute__((warn_unused_result));

#endif
