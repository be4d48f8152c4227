/*
 * pgjob: the libpq layer of the PostgreSQL link (docs/postgres.md). A PgJob
 * is one command's connection to PostgreSQL and the first error of that
 * command, as the one line the client will read.
 *
 * Invariants: the first failure wins (later ones are dropped, so a rollback
 * that fails after an error cannot hide the error's cause); every message is
 * passed through secret_mask_text() with the connection string's password,
 * so no password reaches a client or the log through an error. Every PGresult
 * that a function here returns is the caller's, freed with PQclear().
 *
 * Callers: pgschema, pgaudit and the commands of pglink, on the worker thread
 * that owns the session running `link`, `migrate` or `unlink`. A PgJob is
 * used by that one thread from pgjob_connect() to pgjob_close().
 *
 * The libpq modules: this one holds the connection (connect, run, stream a
 * COPY, finish); pgschema, pgaudit and pglink read the PGresults it hands
 * them. pgvalue and pgcopy never include libpq.
 */
#ifndef TCPDUCKDB_PGJOB_H
#define TCPDUCKDB_PGJOB_H

#include <stdbool.h>
#include <stddef.h>

#include <postgresql/libpq-fe.h>

typedef struct PgJob {
    PGconn *conn;   /* NULL until pgjob_connect() */
    char *password; /* of the connection string, for masking messages; wiped at close */
    char err[2048]; /* the first error, "" while none */
} PgJob;

/*
 * Records an error of the job unless one is recorded already: formats it,
 * masks the password and strips trailing newlines and spaces (libpq's
 * messages end in one).
 */
void pgjob_fail(PgJob *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records "PostgreSQL: <what>: <libpq's message of the connection>". */
void pgjob_fail_pg(PgJob *j, const char *what);

/*
 * Connects with the connection string `dsn` (a URI or key=value pairs), with
 * a 10 s connect timeout and UTF8 client encoding. Returns 0, or -1 with the
 * error recorded (an unparsable string is reported without quoting any of
 * it). The password is kept for masking until pgjob_close().
 */
int pgjob_connect(PgJob *j, const char *dsn) __attribute__((warn_unused_result));

/*
 * Like pgjob_connect(), but a replication connection (replication=database):
 * it takes the replication commands (CREATE_REPLICATION_SLOT,
 * START_REPLICATION, ...) as well as SQL.
 */
int pgjob_connect_replication(PgJob *j, const char *dsn) __attribute__((warn_unused_result));

/*
 * Runs `sql` (START_REPLICATION) on a replication connection: 0 once
 * PostgreSQL streams (CopyBoth), or -1 with the error recorded.
 */
int pgjob_stream_start(PgJob *j, const char *sql) __attribute__((warn_unused_result));

/*
 * Waits up to timeout_ms for the next CopyData message of the stream.
 * Returns its length with *out_msg set (the caller frees it with
 * pgjob_stream_free()), 0 when none came in time, or -1 with the error
 * recorded when the stream ended or failed.
 */
int pgjob_stream_read(PgJob *j, unsigned char **out_msg, int timeout_ms)
    __attribute__((warn_unused_result));

void pgjob_stream_free(unsigned char *msg);

/* Sends one CopyData message (a status update) and flushes it: 0 or -1 recorded. */
int pgjob_stream_send(PgJob *j, const void *msg, size_t len) __attribute__((warn_unused_result));

/*
 * Runs `sql` (with text parameters when nparams > 0, which allows one
 * statement only; several statements separated by ';' otherwise). Returns its
 * result, which the caller frees with PQclear(); or NULL with the error
 * recorded.
 */
PGresult *pgjob_query(PgJob *j, const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

/* Like pgjob_query(), but returns the number of rows (0 for a command) or -1. */
int pgjob_rows(PgJob *j, const char *sql, int nparams, const char *const *params)
    __attribute__((warn_unused_result));

/*
 * Runs `sql` (one or more statements): 0, or -1 with the error recorded. Not
 * must-check: ending a read-only transaction may ignore it, the error staying
 * recorded.
 */
int pgjob_exec(PgJob *j, const char *sql);

/*
 * Best effort, for the clean-up after an error: runs `sql` if the connection
 * is still up, ignoring its result. Never touches j->err.
 */
void pgjob_exec_quiet(PgJob *j, const char *sql, int nparams, const char *const *params);

/* Ends the transaction after a failure, if the connection still works. */
void pgjob_rollback(PgJob *j);

/*
 * Runs `sql` (no parameters) as pgjob_query() does, waiting at most timeout_ms for the answer.
 * On timeout, calls on_timeout(ctx) while the command still waits (so that the caller can ask,
 * on another connection, what it waits for), then cancels it and returns NULL with *timed_out
 * set and no error recorded. Else *timed_out is false.
 */
PGresult *pgjob_query_timed(PgJob *j, const char *sql, int timeout_ms, void (*on_timeout)(void *),
                            void *ctx, bool *timed_out) __attribute__((warn_unused_result));

/* The process id of the connection's server backend (pg_stat_activity.pid). */
int pgjob_backend_pid(const PgJob *j);

/*
 * Called with each CopyData message of a COPY TO STDOUT, borrowed for the
 * call only. Returns 0 to go on, or -1 (with the error recorded in the job)
 * to stop.
 */
typedef int (*PgJobCopyFn)(void *ctx, const unsigned char *msg, size_t len);

/*
 * Runs `copy_sql` (a COPY ... TO STDOUT) and hands every message to `fn`.
 * Returns 0 when the COPY completed; -1 with the error recorded when it
 * failed in PostgreSQL or `fn` stopped it. After a failure the connection
 * may be in the middle of the COPY: the command ends and closes it.
 */
int pgjob_copy_out(PgJob *j, const char *copy_sql, PgJobCopyFn fn, void *ctx)
    __attribute__((warn_unused_result));

/* Closes the connection and wipes the password. Accepts a job never connected. */
void pgjob_close(PgJob *j);

#endif
