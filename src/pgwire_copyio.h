/*
 * pgwire_copyio: the COPY sub-protocol of one PostgreSQL front end
 * connection (docs/pgwire.md#copy): the messages exchanged with the client
 * and what runs for them. COPY ... TO STDOUT runs a SELECT through
 * session_run_sql() and sends its rows as CopyOutResponse, CopyData lines,
 * CopyDone and `COPY n`; COPY ... FROM STDIN checks the equivalent INSERT
 * (`INSERT INTO target VALUES ($1, ...)`, session_describe_sql(): the same
 * access check as a statement, whose parameter types are the target
 * columns'), answers CopyInResponse, then takes the client's CopyData,
 * CopyDone or CopyFail across as many turns as the client needs, and hands
 * each decoded field to a DuckDB query appender running `INSERT INTO
 * target SELECT * FROM appended_data` (typed as the target columns, so a
 * bad value is found at its row and column). It ends with `COPY n` or an
 * error, in a transaction of its own unless a block is open.
 *
 * Why a module apart from pgwire_copy.c: pgwire_copy.c is pure text work
 * (the statement read, COPY lines encoded and decoded) with no Session and
 * no DuckDB, fuzzed alone (tests/fuzz/fuzz_pgwire_copy.c); this module is
 * the session side, which runs statements, changes the transaction and
 * holds state between messages. Kept apart, the fuzzer's code stays free
 * of the session and each file stays within the house size.
 *
 * The state of a COPY FROM STDIN in progress is a PgCopyIn, owned by the
 * PgSession (pgwire_session.c), which hands each message to
 * pgcopyio_message() while pgcopyio_active() says so. Rows wait in the
 * appender only until the next flush (every COPY_FLUSH_ROWS rows, and at
 * CopyDone); a COPY that ends otherwise (an error, CopyFail, the client
 * gone) drops what the appender holds unwritten, so nothing of it reaches
 * the database, whose transaction is rolled back. Errors are answered as
 * ErrorResponse; one inside a transaction block fails the block
 * (pgsess_fail_block), as every statement's error does.
 *
 * Thread: the worker that owns the connection, as pgwire_session.h.
 */
#ifndef TCPDUCKDB_PGWIRE_COPYIO_H
#define TCPDUCKDB_PGWIRE_COPYIO_H

#include <stdbool.h>

#include "buf.h"
#include "pgwire.h"
#include "pgwire_copy.h"
#include "pgwire_session_int.h"
#include "session.h"

/* A COPY FROM STDIN in progress; all zero: none. Freed with pgcopyio_clear(). */
typedef struct PgCopyIn {
    bool copy_in;       /* COPY ... FROM STDIN is in progress: CopyData is decoded */
    bool copy_began_tx; /* the COPY opened the transaction it runs in */
    bool copy_skip_header;
    bool copy_done; /* the text format's \. was seen: the rest is ignored */
    PgWCopySpec copy;
    Buf copy_data;        /* bytes of an incomplete row */
    Buf copy_field;       /* a field being de-escaped (pgwcopy_decode's scratch) */
    Buf copy_conv;        /* a value rewritten for DuckDB (bytea hex, array text) */
    long copy_rows;       /* rows decoded and appended so far */
    long copy_unflushed;  /* ... of which the appender holds, not yet flushed */
    duckdb_appender app;  /* NULL until the access check passed */
    int ncols;            /* the target columns, in the appender's order */
    char **names;         /* their names, for messages */
    unsigned char *kinds; /* per column: COPYIO_PLAIN, _BYTEA or _ARRAY (pgwire_copyio.c) */
    /* The error that stopped the decoding (set by the appender's sink). */
    char err_state[6];
    Buf err_msg, err_context;
    /* While a COPY FROM runs it is one of the user's statements (session_statement_admit)
     * and shows in `show sessions`: both are given back when it ends. */
    Session *admitted; /* the session it was admitted for, or NULL */
    const SessionEnv *admitted_env;
} PgCopyIn;

/*
 * Frees what a COPY in progress holds (at the connection's end); accepts an
 * idle one. Must run before the session leaves its database
 * (session_free): the appender keeps DuckDB's connection and database
 * alive until it is destroyed.
 */
void pgcopyio_clear(PgCopyIn *ci);

/* True while a COPY FROM STDIN waits for the client's CopyData/CopyDone/CopyFail. */
bool pgcopyio_active(const PgCopyIn *ci);

/*
 * Runs the COPY statement `sql` (pgsess_classify said KIND_COPY). TO STDOUT
 * is answered whole; FROM STDIN answers CopyInResponse and makes `ci`
 * active (only as the single statement of a simple Query, f->describe and
 * not f->copy_not_alone; else 0A000), and ReadyForQuery is then sent by
 * pgcopyio_message() at the COPY's end, not by the caller.
 */
RunResult pgcopyio_run(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env,
                       const char *sql, const PgFormat *f, QueryIo *io);

/*
 * A CopyData ('d'), CopyDone ('c') or CopyFail ('f') while `ci` is active.
 * At CopyDone the rows are inserted and the COPY's transaction committed;
 * at CopyFail or bad data it is rolled back; either way the COPY ends with
 * its answer and ReadyForQuery. Returns false when the connection must
 * close (the session is gone).
 */
bool pgcopyio_message(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env,
                      const PgMsg *m, QueryIo *io);

/*
 * Ends the active COPY FROM STDIN with an error: the ErrorResponse
 * (`sqlstate` and `msg`, or the session's pending error when msg is NULL),
 * the rollback of the transaction the COPY opened (or the block failed),
 * and ReadyForQuery. Returns true (the connection goes on).
 */
bool pgcopyio_fail(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env, QueryIo *io,
                   const char *sqlstate, const char *msg);

#endif
