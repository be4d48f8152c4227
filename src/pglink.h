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

#include "session.h"

/* `link DB CONNSTRING [SCHEMA]`: answers `success` or one error line. */
void pglink_cmd_link(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `migrate DB`: answers `success N` (N changes applied) or one error line. */
void pglink_cmd_migrate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);
/* `unlink DB [force]`: stops following PostgreSQL; the copied tables stay. Answers `success`. */
void pglink_cmd_unlink(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);

#endif
