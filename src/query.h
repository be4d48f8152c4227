/*
 * query: runs the SQL text of one request on a session's DuckDB connection
 * and writes the answer (docs/protocol.md, "SQL answers") to the session's
 * output buffer, streaming rows through `flush` as DuckDB produces them.
 *
 * Several statements in one request run in order; outside an explicit
 * transaction they are wrapped in one implicit transaction, and the end of
 * the answer is held back until its COMMIT succeeds, so a client never sees
 * a success for work that was rolled back.
 *
 * Each request is registered with the watchdog (watchdog.h) while its
 * statements run, so a statement that passes StatementTimeout, or whose
 * client is gone, or for whose session a cancel request came, is
 * interrupted; the registration ends before query_run()
 * returns, and before the COMMIT or ROLLBACK of an implicit transaction.
 *
 * Called from worker threads; a QueryIo and its connection belong to one
 * thread for the duration of the call. No global state of its own.
 */
#ifndef TCPDUCKDB_QUERY_H
#define TCPDUCKDB_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "duckdb.h"
#include "params.h"
#include "stmtcache.h"
#include "walarchive.h"

/* Rows are flushed to the client once this many bytes are buffered. */
#define QUERY_FLUSH_BYTES (64 * 1024)

typedef struct QueryIo {
    Buf *out; /* the answer is appended here (after any earlier pipelined answers) */
    /* Writes and empties `out`; returns -1 when the client is gone. */
    int (*flush)(void *ctx, Buf *out);
    void *ctx;
    /* The client's socket, which the watchdog watches for the client's end
     * while a statement runs (watchdog.h), or -1 not to watch it: the
     * caller passes -1 when the client already sent further requests,
     * since a client that half-closes after pipelining still wants the
     * answers. Only peeked at, never read or written. */
    int client_fd;
    /* NULL for the line protocol. Otherwise every error answer (the line
     * protocol's `Error: ...` line, reply.h) goes here instead of `out`, and
     * rows already flushed are not followed by a line end: a front end of
     * another protocol (pgwire) turns the line into its own message. */
    Buf *errors;
} QueryIo;

/*
 * How another front end encodes a statement's answer (pgwire: RowDescription,
 * DataRow, CommandComplete); NULL in a QueryRequest means the line protocol's
 * JSON. The callbacks append to `out` and run on the request's worker.
 */
typedef struct QueryFormat {
    /* A statement's result has rows: describes its columns. Returns 0, or -1
     * with a message in `err` when a column cannot be encoded (nothing is
     * then appended and the statement is answered as failed). */
    int (*columns)(void *ctx, duckdb_result *res, Buf *out, char *err, size_t errlen);
    /* Appends the rows of one chunk. */
    void (*rows)(void *ctx, duckdb_data_chunk chunk, Buf *out);
    /* The statement completed (after its implicit COMMIT, if any): `changed`
     * is the count of an INSERT, UPDATE or DELETE, else 0. */
    void (*complete)(void *ctx, duckdb_statement_type type, int64_t changed, Buf *out);
    void *ctx;
    /* The result cache's answer form of these callbacks (rescache_key): bytes that differ
     * whenever the answer bytes for one statement may differ; NULL: never cached. */
    const char *cache_form;
    size_t cache_form_len;
} QueryFormat;

typedef enum {
    QUERY_OK,          /* the answer is in io->out */
    QUERY_FAILED,      /* an error answer is in io->out */
    QUERY_CLIENT_GONE, /* a flush failed, or the watchdog found the client gone: the
                        * session must be closed; nothing of this answer is in io->out */
    QUERY_FALLBACK,    /* only with QueryRequest.autoparam: nothing was answered, and the
                        * caller runs the literal text instead */
} QueryStatus;

/* What to run and how to answer (docs/protocol.md, "SQL answers" and "Typed requests"). */
typedef struct QueryRequest {
    const char *sql;            /* NUL-terminated */
    bool in_tx;                 /* the session has an explicit transaction open */
    bool typed;                 /* answer in the typed form ({"columns":..,"rows":[[..]]}) */
    const TypedRequest *params; /* parameters to bind, or NULL; then sql is one statement */
    /* The connection's statement cache, or NULL to cache nothing. A request
     * of one SELECT, INSERT, UPDATE or DELETE statement is kept in it. */
    StmtCache *cache;
    /* The cache's entry for exactly `sql` (stmtcache_find), or NULL: then
     * its statement runs without parsing. Should DuckDB no longer bind it
     * (a binder or catalog error), the entry is dropped and the text is
     * prepared afresh, once. */
    StmtEntry *cached;
    /* When not NULL (and `cached` is NULL): the request's one statement, prepared from `sql` on
     * this connection by the access check (access_check_request), which query_run() takes
     * ownership of and runs instead of parsing and preparing the text again. */
    duckdb_prepared_statement prepared;
    /* StatementTimeout: milliseconds each statement may run (0: no limit); a
     * statement past it is interrupted and answered with
     * reply_statement_timeout(). */
    int64_t timeout_ms;
    /* The session's cancel id (cancel.h), so that a cancel request for the
     * session interrupts this request (answered with
     * reply_statement_canceled()); 0: none. */
    uint64_t session_id;
    /* This request's statement memory limit in bytes (a user's statement_memory,
     * userlimits.h); 0: the server's StatementMemoryLimit. */
    int64_t statement_memory_bytes;
    /* When not NULL, the whole answer is also copied here (for the result
     * cache, rescache.h) as long as it stays within capture_max bytes; past
     * that the copy is dropped at once and the answer streams as ever. */
    Buf *capture;
    size_t capture_max;
    /* The encoding of the answer, or NULL for the line protocol's (above). */
    const QueryFormat *format;
    /* `sql` and `params` are the shape of a literal text (autoparam.h), which must answer
     * exactly as the literal text would. The statement runs only when it is a SELECT and each
     * parameter's type, as DuckDB inferred it from where the parameter stands, takes its value
     * exactly (an integer within the range of an integer type, a string for VARCHAR), and its
     * answer is given only when it completes without an engine error before anything would be
     * flushed. Otherwise nothing is answered and QUERY_FALLBACK returned; a statement prepared
     * meanwhile is kept in the cache all the same, so the next text of the shape is judged
     * without preparing it again. An interrupt (timeout, cancel, memory limit) is answered as
     * ever: it does not depend on the text. */
    bool autoparam;
    /* The database `con` belongs to, pinned by the caller: a statement that
     * runs long gets the helpers of parallel.h; NULL: it runs on this thread alone. */
    duckdb_database engine;
    /* The database's archive (walarchive.h), or NULL when ArchiveMode is off: every statement
     * that may commit a write outside an explicit transaction, and the COMMIT of an implicit
     * one, runs inside walarchive_commit_begin/end; a CHECKPOINT runs as the server's (the
     * archive takes the log's tail first) and only alone, outside a transaction. */
    ArchiveDb *archive;
} QueryRequest;

/* What a request did besides its answer. */
typedef struct QueryOutcome {
    bool schema_changed;  /* a DROP or ALTER statement ran (even if a later one failed) */
    bool catalog_changed; /* a statement other than SELECT, INSERT, UPDATE, DELETE and
                           * EXPLAIN was about to run: it may have changed what other
                           * statements mean, so prepared ones are stale */
    StmtEntry *entry;     /* the cache entry holding the request's statement, or NULL */
    bool partial;         /* it failed inside an explicit transaction after some of its
                           * statements ran: their effects are in the transaction */
    bool engine_fatal;    /* DuckDB answered an INTERNAL or FATAL error: the database may
                           * be invalidated (pool_db_check_invalidated) */
    bool select_only;     /* the request was one statement, it ran, and it was a SELECT */
    bool captured;        /* req->capture holds the whole answer (only when QUERY_OK) */
    bool session_state;   /* a statement may have changed what later statements of this
                           * connection mean (SET, USE, PREPARE, ATTACH, a TEMP object...):
                           * its answers may differ from another connection's */
} QueryOutcome;

/*
 * Runs the request on `con` and fills *outcome (zeroed by the caller), so
 * the caller can bring what refers to tables up to date and keep a
 * transaction from committing half a request.
 */
QueryStatus query_run(duckdb_connection con, const QueryRequest *req, QueryIo *io,
                      QueryOutcome *outcome);

/* Binds `r`'s parameters to `prep` as query_run does; returns 0, or -1 with a message in err. */
int query_bind_params(duckdb_prepared_statement prep, const TypedRequest *r, char *err,
                      size_t errlen);

/*
 * Prepares the one statement of `sql` on `con` without running it, for a
 * front end that describes a statement's parameters and columns (pgwire's
 * Describe): 0 with the statement in *out (the caller's, to free with
 * query_prepared_free), or -1 with *out NULL and an error line in `err_out`
 * (several statements, or DuckDB's error).
 */
int query_prepare_one(duckdb_connection con, const char *sql, duckdb_prepared_statement *out,
                      Buf *err_out) __attribute__((warn_unused_result));

/* Whether query_run() would keep `prep` in the statement cache (one SELECT, INSERT, UPDATE or
 * DELETE statement). */
bool query_prepared_cacheable(duckdb_prepared_statement prep);

/* Destroys a prepared statement that will not run (QueryRequest.prepared) and sets it to
 * NULL. Accepts NULL. */
void query_prepared_free(duckdb_prepared_statement *prep);

/*
 * Runs one statement whose result is not needed result is not needed (BEGIN, COMMIT, ...).
 * Returns 0, or -1 with DuckDB's message appended to `err_out` as an error
 * answer line (unless `err_out` is NULL).
 */
int query_exec_simple(duckdb_connection con, const char *sql, Buf *err_out)
    __attribute__((warn_unused_result));
/* COMMITs the connection's open transaction as query_exec_simple() does,
 * recorded in `archive` (walarchive.h; NULL: none), and runs the server's
 * checkpoint when the archive says the log is due for one. */
int query_commit(duckdb_connection con, ArchiveDb *archive, Buf *err_out)
    __attribute__((warn_unused_result));
/* As query_commit(), for callers that are not sessions (link, migrate, CDC): on failure
 * DuckDB's own message, unformatted, goes to msg (msglen bytes at most, NUL-terminated). */
int query_commit_msg(duckdb_connection con, ArchiveDb *archive, char *msg, size_t msglen)
    __attribute__((warn_unused_result));

#endif
