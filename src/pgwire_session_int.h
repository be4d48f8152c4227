/*
 * pgwire_session_int: what the PostgreSQL front end's modules share inside
 * one connection. pgwire_session.c owns the PgSession (startup, SCRAM, the
 * simple query protocol, transaction status) and runs one statement for
 * whoever asks (pgsess_run_statement); the extended query protocol
 * (pgwire_extended.c) keeps the statements and portals and asks it; the
 * client settings are pgwire_settings.c's, read with the tokens below; the
 * COPY exchange is pgwire_copyio.c's, run by the session with the helpers
 * below. Not a public header: only the pgwire_* modules include it.
 *
 * Thread: the worker that owns the connection, as pgwire_session.h.
 */
#ifndef TCPDUCKDB_PGWIRE_SESSION_INT_H
#define TCPDUCKDB_PGWIRE_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "params.h"
#include "pgwire.h"
#include "pgwire_session.h"
#include "session.h"
#include "sqllex.h"

/* What the front end does with a statement instead of DuckDB. */
typedef enum {
    KIND_SQL,   /* DuckDB runs it (session_run_sql) */
    KIND_EMPTY, /* only blanks and comments */
    KIND_BEGIN, /* the session's transaction commands */
    KIND_COMMIT,
    KIND_ROLLBACK,
    KIND_SET, /* a client setting: stored here */
    KIND_RESET,
    KIND_SHOW,     /* a client setting: answered here */
    KIND_SET_NOOP, /* SET TRANSACTION / SESSION CHARACTERISTICS: accepted, nothing to do */
    KIND_UNSUPPORTED,
    KIND_COPY,  /* COPY ... TO STDOUT / FROM STDIN: the front end's (pgwire_copyio.h) */
    KIND_ADMIN, /* CREATE USER, GRANT, CREATE DATABASE, ...: the command table (pgwire_admin.h) */
    KIND_DEALLOCATE, /* DEALLOCATE [PREPARE] name | ALL: the extended protocol's statements */
    KIND_DISCARD,    /* DISCARD ALL | PLANS | ...: statements, portals and settings */
    KIND_SETTING_FN, /* SELECT current_setting(...) or set_config(...), alone: answered here */
    KIND_SETTING_FN_ELSEWHERE, /* current_setting/set_config inside a larger statement: refused */
} StmtKind;

typedef enum { RUN_OK, RUN_ERROR, RUN_GONE } RunResult;

/* The QueryFormat of one Execute or simple-query statement. */
typedef struct PgFormat {
    bool describe;          /* send RowDescription first (simple query) */
    const int16_t *formats; /* result format codes (Bind), or NULL: text */
    int nformats;
    PgColumn *cols;
    idx_t ncols;
    int64_t rows;
    int64_t max_rows; /* an Execute's limit; 0: none */
    Buf *held;        /* where rows beyond the limit are kept (the portal's) */
    size_t room;      /* bytes the held rows may take */
    bool held_overflow;
    const char *sql;
    char tag[64];
    bool completed;
    bool copy_not_alone; /* a simple Query of several statements: no COPY FROM STDIN */
    /* The session's extra_float_digits, for text floats (pgwire_column_float_digits);
     * not set (a zeroed PgFormat): PostgreSQL's default, the shortest exact text. */
    bool float_digits_set;
    int extra_float_digits;
} PgFormat;

/* The first tokens of one statement (semicolons skipped). */
typedef struct PgTokens {
    SqlToken t[16]; /* the first few tokens */
    int n;
    size_t end; /* where the statement's last token ends */
} PgTokens;

/* Reads the first tokens of `sql` (one statement). */
void pgsess_first_tokens(const char *sql, size_t len, PgTokens *tk);
/* True when token i exists and is the word `lower` (any case). */
bool pgsess_word_is(const char *sql, const PgTokens *tk, int i, const char *lower);

/* How the statement `sql` (len bytes, one statement) is run. */
StmtKind pgsess_classify(const char *sql, size_t len);

/*
 * Runs one statement of `kind` (its text NUL-terminated) and appends its
 * answer to io->out. `f` says how rows are encoded (and, for Execute, where
 * rows beyond its limit go); the caller frees it with pgsess_format_free().
 * An error inside a transaction block fails the block.
 */
RunResult pgsess_run_statement(PgSession *ps, Session *s, const SessionEnv *env, StmtKind kind,
                               const char *sql, const TypedRequest *params, PgFormat *f,
                               QueryIo *io);
void pgsess_format_free(PgFormat *f);

/* The format code Bind asked for column `c`: none (text), one for all, or one each. */
int16_t pgsess_format_of(const int16_t *formats, int n, idx_t c);

/*
 * The QueryFormat columns callback of statements answered as rows (query.h):
 * checks Bind's format codes against the result, prepares each column's
 * encoder in f->cols and, when f->describe, sends the RowDescription. COPY TO
 * reuses it for its text encoders (pgwire_copyio.c).
 */
int pgsess_format_columns(void *ctx, duckdb_result *res, Buf *out, char *err, size_t errlen);

/*
 * The QueryFormat rows callback of the same: each row of `chunk` as a DataRow
 * in f->cols' encodings (beyond an Execute's row limit into f->held). The
 * catalog instance's answers use it too (pgwire_catsql.c).
 */
void pgsess_format_rows(void *ctx, duckdb_data_chunk chunk, Buf *out);

/*
 * Runs the session's transaction command `text` ("begin", "commit" or
 * "rollback") through the command table; true on success, else false with the
 * session's error pending (pgsess_send_errors).
 */
bool pgsess_run_tx(PgSession *ps, Session *s, const SessionEnv *env, const char *text);

/* An ErrorResponse of the front end's own; a transaction block fails with it. */
void pgsess_refuse(PgSession *ps, Session *s, Buf *out, const char *sqlstate, const char *msg);

/* The session's error lines (session_describe_sql writes them here). */
Buf *pgsess_errors(PgSession *ps);
/* Sends the session's error lines as an ErrorResponse; true if there was one. */
bool pgsess_send_errors(PgSession *ps, Session *s, Buf *out);

/* An error answered by another module: a transaction block fails with it. */
void pgsess_fail_block(PgSession *ps, const Session *s);

/* True after an error inside a transaction block, until it ends. */
bool pgsess_block_failed(const PgSession *ps);

/* ReadyForQuery's status: I, T or E. */
char pgsess_ready_status(const PgSession *ps, const Session *s);

/*
 * The implicit transaction of the extended protocol: the Executes up to a
 * Sync run in one transaction, committed at Sync, or rolled back there
 * after an error, as in PostgreSQL. pgsess_implicit_begin returns false
 * (the session's error is pending: pgsess_send_errors) when BEGIN fails;
 * inside a block it does nothing. A BEGIN inside it makes it the block.
 */
bool pgsess_implicit_begin(PgSession *ps, Session *s, const SessionEnv *env);
/* Ends the implicit transaction if one is open; a failed COMMIT is answered to `out`. */
void pgsess_implicit_end(PgSession *ps, Session *s, const SessionEnv *env, Buf *out);

#endif
