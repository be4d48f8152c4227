/*
 * pgaudit: the audit machinery that link installs in PostgreSQL
 * (docs/postgres.md): schema tcpduckdb_audit with the change log that row and
 * TRUNCATE triggers fill, the linked schemas, one consumer row per linked
 * DuckDB database with the position it has applied, and the event trigger
 * that follows tables created later.
 *
 * Invariants: a logged change is identified by its transaction id; a
 * consumer's position is the xmin of the snapshot it has applied up to, and
 * the log is pruned only below the smallest position of all consumers, so no
 * consumer loses a change it has not applied. Schema and table names go into
 * SQL as parameters or quoted literals; trigger targets come from PostgreSQL
 * (quote_ident), never from a request.
 *
 * Callers: the commands of pglink, on the worker thread that runs them,
 * through the command's PgJob.
 */
#ifndef TCPDUCKDB_PGAUDIT_H
#define TCPDUCKDB_PGAUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "pgjob.h"
#include "pgschema.h"

/*
 * Installs the audit schema, the triggers on every table of `sc` (in
 * PostgreSQL schema `schema`) and, for a superuser, the event trigger, and
 * registers `consumer`, in one committed transaction. The consumer's position
 * starts at the current snapshot's xmin, at or before the snapshot link
 * copies from, so nothing the copy misses can be pruned meanwhile.
 * *out_event_trigger tells whether the event trigger was installed. Returns
 * 0, or -1 with the error recorded (and the transaction rolled back).
 */
int pgaudit_install(PgJob *j, const char *schema, const PgSchema *sc, const char *consumer,
                    bool *out_event_trigger) __attribute__((warn_unused_result));

/*
 * Best effort, after a failed link: removes `consumer`, which would otherwise
 * hold back pruning of the log for ever. Never touches j->err.
 */
void pgaudit_drop_consumer(PgJob *j, const char *consumer);

/*
 * 0 when `consumer` (the link of database `name`) is registered; else -1 with
 * the error recorded: PostgreSQL's, or "the link of NAME was removed in
 * PostgreSQL" (an unlink that did not finish here: the triggers may be gone,
 * so the log can no longer be trusted to hold every change).
 */
int pgaudit_require_consumer(PgJob *j, const char *consumer, const char *name)
    __attribute__((warn_unused_result));

/*
 * The names of the tables of `schema` with logged changes not visible in
 * `snapshot` (text of a pg_snapshot), one per row in name order. Returns the
 * result, which the caller frees with PQclear(); or NULL with the error
 * recorded.
 */
PGresult *pgaudit_changed_tables(PgJob *j, const char *schema, const char *snapshot)
    __attribute__((warn_unused_result));

/*
 * Appends the binary COPY of the changes of `schema`.`tb` not visible in
 * `snapshot`, in log order: per change the log id (bigint), the operation
 * (text: I, U, D, T or C), the old row's columns, then the new row's (NULL
 * where the operation has no such row).
 */
void pgaudit_changes_copy_sql(Buf *b, const char *schema, const PgTable *tb, const char *snapshot);

/*
 * After the changes up to snapshot `now` were applied: moves `consumer`'s
 * position there and deletes the log rows that no consumer needs any more, in
 * one transaction. *out_pruned gets the number of rows deleted. Returns 0, or
 * -1 with the error recorded (the transaction is then still open: the caller
 * rolls it back).
 */
int pgaudit_prune(PgJob *j, const char *consumer, const char *now, int64_t *out_pruned)
    __attribute__((warn_unused_result));

/*
 * Undoes pgaudit_install() for `consumer` of `schema`, in one transaction:
 * removes the consumer and, when no other consumer follows the schema, its
 * triggers and log rows, and when no schema is followed any more, the whole
 * audit schema and the event trigger. Nothing to remove is success. Returns
 * 0, or -1 with the error recorded (and the transaction rolled back).
 */
int pgaudit_remove(PgJob *j, const char *schema, const char *consumer)
    __attribute__((warn_unused_result));

#endif
