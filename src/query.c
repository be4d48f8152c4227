/*
 * query: SQL execution and answer streaming. See query.h.
 *
 * Every statement runs with DuckDB's streaming API (duckdb_execute_prepared_
 * streaming + duckdb_fetch_chunk), so a result is never materialised in
 * memory: chunks are encoded to JSON and flushed to the client when the
 * buffer passes QUERY_FLUSH_BYTES.
 */
#include "query.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "parallel.h"
#include "reply.h"
#include "watchdog.h"

int query_exec_simple(duckdb_connection con, const char *sql, Buf *err_out)
{
    duckdb_result res;
    int rc = 0;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        if (err_out)
            reply_engine_error(err_out, duckdb_result_error(&res));
        rc = -1;
    }
    duckdb_destroy_result(&res);
    return rc;
}

/* The server's checkpoint: the archive takes the log's tail, DuckDB
 * checkpoints, the archive starts its next segment (walarchive.h). A
 * CHECKPOINT refused because another connection holds an open write
 * transaction is tried again at a later commit. */
static int archive_checkpoint(duckdb_connection con, ArchiveDb *archive, const char *sql,
                              duckdb_result *res)
{
    walarchive_checkpoint_begin(archive);
    int rc = duckdb_query(con, sql, res) == DuckDBSuccess ? 0 : -1;
    walarchive_checkpoint_end(archive);
    return rc;
}

static void checkpoint_if_due(duckdb_connection con, ArchiveDb *archive, bool due)
{
    if (!due)
        return;
    duckdb_result res;
    if (archive_checkpoint(con, archive, "CHECKPOINT", &res) != 0)
        log_info("the server's checkpoint waits: %s", duckdb_result_error(&res));
    duckdb_destroy_result(&res);
}

/* COMMIT inside the archive's gate; *res holds DuckDB's answer, for the caller to read and
 * destroy. */
static int commit_gated(duckdb_connection con, ArchiveDb *archive, duckdb_result *res)
{
    walarchive_commit_begin(archive);
    int rc = duckdb_query(con, "COMMIT", res) == DuckDBSuccess ? 0 : -1;
    checkpoint_if_due(con, archive, walarchive_commit_end(archive));
    return rc;
}

int query_commit(duckdb_connection con, ArchiveDb *archive, Buf *err_out)
{
    duckdb_result res;
    int rc = commit_gated(con, archive, &res);
    if (rc != 0 && err_out)
        reply_engine_error(err_out, duckdb_result_error(&res));
    duckdb_destroy_result(&res);
    return rc;
}

int query_commit_msg(duckdb_connection con, ArchiveDb *archive, char *msg, size_t msglen)
{
    duckdb_result res;
    int rc = commit_gated(con, archive, &res);
    if (rc != 0) {
        const char *e = duckdb_result_error(&res);
        snprintf(msg, msglen, "%s", e && *e ? e : "DuckDB's COMMIT failed");
    }
    duckdb_destroy_result(&res);
    return rc;
}

/* A CHECKPOINT statement (CHECKPOINT, FORCE CHECKPOINT, CALL checkpoint())
 * or any other use of the checkpoint table functions. */
static bool names_checkpoint(duckdb_statement_type type, const char *sql)
{
    if (type == DUCKDB_STATEMENT_TYPE_CALL && strcasestr(sql, "checkpoint"))
        return true;
    for (const char *p = sql; (p = strcasestr(p, "checkpoint")) != NULL;) {
        p += 10;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p == '(')
            return true;
    }
    return false;
}

void query_prepared_free(duckdb_prepared_statement *prep)
{
    duckdb_destroy_prepare(prep);
}

/*
 * State of one request's answer. `start` is where the answer begins in
 * io->out; `flushed` says whether part of it already went to the client,
 * after which an error can no longer replace it.
 */
typedef struct Answer {
    QueryIo *io;
    size_t start;
    bool flushed;
    bool gone;
    bool fatal;   /* DuckDB answered an error that may have invalidated the database */
    Buf *capture; /* a copy of the answer for the result cache, or NULL */
    size_t capture_max;
    bool fallback_ok; /* QueryRequest.autoparam: an error or a flush ends in a fallback */
    bool fallback;    /* ... which happened: nothing is answered */
} Answer;

/* Copies the answer bytes in io->out from a->start to the capture, or drops
 * the capture for good once the answer passes capture_max. */
static void capture_take(Answer *a)
{
    if (!a->capture)
        return;
    size_t n = a->io->out->len - a->start;
    if (a->capture->len + n > a->capture_max) {
        buf_free(a->capture);
        a->capture = NULL;
        return;
    }
    buf_append(a->capture, a->io->out->data + a->start, n);
}

static int maybe_flush(Answer *a)
{
    if (a->io->out->len < QUERY_FLUSH_BYTES)
        return 0;
    if (a->fallback_ok) {
        /* Once rows went out, a later error could no longer give way to the literal text. */
        a->fallback = true;
        return -1;
    }
    capture_take(a);
    if (a->io->flush(a->io->ctx, a->io->out) != 0) {
        a->gone = true;
        return -1;
    }
    a->flushed = true;
    a->start = 0;
    return 0;
}

/* Drops the answer so far, or, if rows were already sent, ends the row
 * line, so that an error line can follow (docs/protocol.md). */
static void answer_reset(Answer *a)
{
    if (a->flushed && a->io->errors) {
        /* The other protocol's error message may follow the rows sent. */
    } else if (a->flushed) {
        buf_putc(a->io->out, '\n');
    } else {
        a->io->out->len = a->start;
    }
}

/* True for the errors after which DuckDB may have invalidated the whole
 * database: an internal error while a statement executes, a fatal one, or
 * the answer of an instance invalidated already (pool.h, "Containment"). */
static bool may_invalidate(duckdb_error_type type, const char *msg)
{
    return type == DUCKDB_ERROR_INTERNAL || type == DUCKDB_ERROR_FATAL ||
           (msg && (strncmp(msg, "FATAL Error:", 12) == 0 ||
                    strstr(msg, "database has been invalidated") != NULL));
}

/* Where error answers go (QueryIo.errors). */
static Buf *error_out(const Answer *a)
{
    return a->io->errors ? a->io->errors : a->io->out;
}

/* Replaces the answer by an error (see answer_reset). */
static void answer_error(Answer *a, const char *msg)
{
    if (a->fallback || a->fallback_ok) {
        /* DuckDB's message may quote the text, which is the shape's. */
        a->fallback = true;
        return;
    }
    a->fatal = a->fatal || may_invalidate(DUCKDB_ERROR_INVALID, msg);
    answer_reset(a);
    reply_engine_error(error_out(a), msg);
}

/* The type of a message that comes without one (duckdb_prepare_error). */
static duckdb_error_type message_type(const char *msg)
{
    if (strncmp(msg, "INTERRUPT Error:", 16) == 0)
        return DUCKDB_ERROR_INTERRUPT;
    if (strncmp(msg, "Out of Memory Error:", 20) == 0)
        return DUCKDB_ERROR_OUT_OF_MEMORY;
    return reply_is_internal_error(msg) ? DUCKDB_ERROR_INTERNAL : DUCKDB_ERROR_INVALID;
}

/*
 * Answers a statement that failed with DuckDB's `msg` of type `type`. An
 * interrupt by the watchdog, or a failed allocation the memory guard refused,
 * is answered with its reason: the timeout line,
 * the cancel line, the line of the memory limit it passed, nothing at all when the client is
 * gone (the session is then closed), or DuckDB's message at shutdown (the server adds its own
 * line); an internal error with an incident line; anything else with DuckDB's text.
 */
static void answer_failure(Answer *a, WatchdogEntry *wd, int64_t timeout_ms, duckdb_error_type type,
                           const char *msg)
{
    /* A failed allocation may be the memory guard's refusal (watchdog.h): its limit's line. */
    if (a->fallback)
        return;
    WatchdogReason why = type == DUCKDB_ERROR_INTERRUPT || type == DUCKDB_ERROR_OUT_OF_MEMORY
                             ? watchdog_reason(wd)
                             : WATCHDOG_NONE;
    if (why == WATCHDOG_NONE && a->fallback_ok && !may_invalidate(type, msg)) {
        a->fallback = true;
        return;
    }
    a->fatal = a->fatal || may_invalidate(type, msg);
    if (why == WATCHDOG_CLIENT_GONE) {
        a->gone = true;
        return;
    }
    answer_reset(a);
    WatchdogMemoryLimits mem;
    watchdog_memory_limits(&mem);
    Buf *out = error_out(a);
    if (why == WATCHDOG_TIMEOUT)
        reply_statement_timeout(out, timeout_ms);
    else if (why == WATCHDOG_CANCELED)
        reply_statement_canceled(out);
    else if (why == WATCHDOG_STATEMENT_MEMORY)
        reply_statement_memory_limit(out, wd->statement_bytes);
    else if (why == WATCHDOG_SERVER_MEMORY)
        reply_server_memory_limit(out, mem.server_bytes);
    else if (type == DUCKDB_ERROR_INTERNAL)
        reply_internal_incident(out, msg ? msg : "INTERNAL Error: (no message)");
    else
        reply_engine_error(out, msg ? msg : "Internal Error: the statement failed");
}

/*
 * Streams the rows of `res` as the body of a JSON array, without the
 * closing bracket: objects, or in the typed form the column header and
 * arrays. Returns 0, or -1 with *out_err set (DuckDB's message, or NULL
 * when the client is gone).
 */
static int stream_rows(Answer *a, duckdb_result *res, bool typed, const char **out_err)
{
    JsonRows *jr = typed ? json_rows_new_arrays(res) : json_rows_new(res);
    int rc = -1;
    if (!jr) {
        *out_err = "Internal Error";
        return -1;
    }
    if (typed) {
        Buf *out = a->io->out;
        buf_append_str(out, "{\"columns\":[");
        idx_t n = duckdb_column_count(res);
        for (idx_t c = 0; c < n; c++) {
            const char *name = duckdb_column_name(res, c);
            buf_append_str(out, c ? ",{\"name\":" : "{\"name\":");
            json_append_string(out, name ? name : "", name ? strlen(name) : 0);
            buf_append_str(out, ",\"type\":");
            duckdb_logical_type type = duckdb_column_logical_type(res, c);
            json_append_type(out, type);
            duckdb_destroy_logical_type(&type);
            buf_putc(out, '}');
        }
        buf_append_str(out, "],\"rows\":");
    }
    buf_putc(a->io->out, '[');
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(*res);
        if (!chunk)
            break;
        json_rows_append_chunk(jr, chunk, a->io->out);
        duckdb_destroy_data_chunk(&chunk);
        if (maybe_flush(a) != 0) {
            *out_err = NULL;
            goto out;
        }
    }
    /* A failure while fetching shows up as an error on the result. */
    const char *err = duckdb_result_error(res);
    if (err) {
        *out_err = err;
        goto out;
    }
    rc = 0;
out:
    json_rows_free(jr);
    return rc;
}

/*
 * Streams the rows of `res` through another front end's format (QueryFormat).
 * Returns 0, or -1 with *out_err set as stream_rows() does.
 */
static int stream_rows_format(Answer *a, duckdb_result *res, const QueryFormat *f,
                              const char **out_err, char *err, size_t errlen)
{
    if (f->columns(f->ctx, res, a->io->out, err, errlen) != 0) {
        *out_err = err;
        return -1;
    }
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(*res);
        if (!chunk)
            break;
        f->rows(f->ctx, chunk, a->io->out);
        duckdb_destroy_data_chunk(&chunk);
        if (maybe_flush(a) != 0) {
            *out_err = NULL;
            return -1;
        }
    }
    const char *e = duckdb_result_error(res);
    if (e) {
        *out_err = e;
        return -1;
    }
    return 0;
}

/* Reads every chunk of a result nobody will see (a statement before the last). */
static const char *drain(duckdb_result *res)
{
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(*res);
        if (!chunk)
            break;
        duckdb_destroy_data_chunk(&chunk);
    }
    return duckdb_result_error(res);
}

/* The count an INSERT/UPDATE/DELETE reports, read from its one-row result. */
static int64_t changed_rows(duckdb_result *res)
{
    int64_t total = 0;
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(*res);
        if (!chunk)
            break;
        if (duckdb_data_chunk_get_column_count(chunk) > 0 &&
            duckdb_data_chunk_get_size(chunk) > 0) {
            duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
            const int64_t *data = duckdb_vector_get_data(v);
            idx_t n = duckdb_data_chunk_get_size(chunk);
            for (idx_t i = 0; i < n; i++)
                total += data[i];
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    return total;
}

/*
 * Answers the last statement's result through another front end's format: its rows, or
 * the count of an INSERT, UPDATE or DELETE into *out_changed. Returns 0, or -1 with the
 * error answered (or the client gone).
 */
static int answer_format(Answer *a, WatchdogEntry *wd, const QueryRequest *req, duckdb_result *res,
                         int64_t *out_changed)
{
    const char *e = NULL;
    char why[256];
    duckdb_result_type rt = duckdb_result_return_type(*res);
    if (rt == DUCKDB_RESULT_TYPE_CHANGED_ROWS)
        *out_changed = changed_rows(res);
    if (rt != DUCKDB_RESULT_TYPE_QUERY_RESULT ||
        stream_rows_format(a, res, req->format, &e, why, sizeof(why)) == 0)
        return 0;
    if (!a->gone && e == why)
        answer_error(a, why);
    else if (!a->gone)
        answer_failure(a, wd, req->timeout_ms, duckdb_result_error_type(res), e);
    return -1;
}

/*
 * True when `sql` may switch on one of the per-connection DuckDB settings
 * that print on the process's stderr, which is the server's log: query
 * profiling (enable_profiling, profiling_mode, ...) and the progress bar.
 * lock_configuration does not cover these connection-local settings. The
 * test is on the whole request text, so it errs on the side of refusing.
 */
static bool prints_on_log(const char *sql)
{
    return strcasestr(sql, "profil") != NULL || strcasestr(sql, "progress") != NULL;
}

int query_bind_params(duckdb_prepared_statement prep, const TypedRequest *r, char *err,
                      size_t errlen)
{
    idx_t want = duckdb_nparams(prep);
    if (want != r->nparams) {
        snprintf(err, errlen, "Bad Request: the statement has %llu parameters, %zu were given",
                 (unsigned long long)want, r->nparams);
        return -1;
    }
    for (size_t i = 0; i < r->nparams; i++) {
        const Param *p = &r->params[i];
        idx_t k = i + 1;
        duckdb_state st = DuckDBError;
        switch (p->kind) {
        case PARAM_NULL:
            st = duckdb_bind_null(prep, k);
            break;
        case PARAM_BOOL:
            st = duckdb_bind_boolean(prep, k, p->b);
            break;
        case PARAM_INT:
            if (p->i >= INT64_MIN && p->i <= INT64_MAX) {
                st = duckdb_bind_int64(prep, k, (int64_t)p->i);
            } else {
                duckdb_hugeint h = {.lower = (uint64_t)p->i, .upper = (int64_t)(p->i >> 64)};
                st = duckdb_bind_hugeint(prep, k, h);
            }
            break;
        case PARAM_DOUBLE:
            st = duckdb_bind_double(prep, k, p->d);
            break;
        case PARAM_TEXT:
            if (p->list && duckdb_param_type(prep, k) == DUCKDB_TYPE_LIST)
                st = duckdb_bind_varchar_length(prep, k, p->list, p->list_len);
            else
                st = duckdb_bind_varchar_length(prep, k, p->bytes, p->len);
            break;
        case PARAM_BLOB:
            st = duckdb_bind_blob(prep, k, p->bytes, p->len);
            break;
        }
        if (st != DuckDBSuccess) {
            const char *e = duckdb_prepare_error(prep);
            snprintf(err, errlen, "cannot bind parameter %zu: %s", i + 1,
                     e ? e : "the value does not fit the parameter's type");
            return -1;
        }
    }
    return 0;
}

/* True when `p` is an untyped text parameter that reads as a decimal integer. */
static bool untyped_integer(const Param *p, int64_t *out)
{
    if (p->kind != PARAM_TEXT || !p->untyped || p->len == 0 || p->len > 20)
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(p->bytes, &end, 10);
    if (errno != 0 || end != p->bytes + p->len ||
        !(isdigit((unsigned char)p->bytes[0]) || p->bytes[0] == '-' || p->bytes[0] == '+'))
        return false;
    *out = v;
    return true;
}

/*
 * After a Binder Error that DuckDB raised for a string it could not fit an
 * overload to (`+(INTEGER, STRING_LITERAL)`): binds the untyped text
 * parameters that read as integers as integers, as PostgreSQL would have
 * resolved its `unknown` type, and returns true to run the statement once
 * more (the binder failed before anything ran). `res` is destroyed then.
 */
static bool untyped_as_integers(duckdb_prepared_statement prep, const TypedRequest *r,
                                duckdb_result *res)
{
    const char *e = duckdb_result_error(res);
    if (duckdb_result_error_type(res) != DUCKDB_ERROR_BINDER || !e || !strstr(e, "STRING_LITERAL"))
        return false;
    bool any = false;
    int64_t v = 0;
    for (size_t i = 0; i < r->nparams; i++)
        any = any || untyped_integer(&r->params[i], &v);
    if (!any)
        return false;
    for (size_t i = 0; i < r->nparams; i++)
        if (untyped_integer(&r->params[i], &v) &&
            duckdb_bind_int64(prep, (idx_t)i + 1, v) != DuckDBSuccess)
            return false;
    duckdb_destroy_result(res);
    return true;
}

/*
 * True when a statement of type `type` may leave the connection answering
 * differently from another one: settings, variables, USE, prepared
 * statements, attached databases, and TEMP objects, which only this
 * connection sees. Errs on the side of true (the text is looked at as a
 * whole for TEMP).
 */
static bool changes_session_state(duckdb_statement_type type, const char *sql)
{
    switch (type) {
    case DUCKDB_STATEMENT_TYPE_SELECT:
    case DUCKDB_STATEMENT_TYPE_INSERT:
    case DUCKDB_STATEMENT_TYPE_UPDATE:
    case DUCKDB_STATEMENT_TYPE_DELETE:
    case DUCKDB_STATEMENT_TYPE_EXPLAIN:
    case DUCKDB_STATEMENT_TYPE_COPY:
    case DUCKDB_STATEMENT_TYPE_ANALYZE:
    case DUCKDB_STATEMENT_TYPE_TRANSACTION:
        return false;
    case DUCKDB_STATEMENT_TYPE_CREATE:
    case DUCKDB_STATEMENT_TYPE_DROP:
    case DUCKDB_STATEMENT_TYPE_ALTER:
        return strcasestr(sql, "temp") != NULL;
    default:
        return true;
    }
}

/*
 * Whether each parameter of `prep` takes the value of the same place in `r`
 * exactly (QueryRequest.autoparam): an integer within the range of the
 * integer type DuckDB inferred, a string for a VARCHAR. Any other type,
 * including one DuckDB could not infer, is a no.
 */
static bool params_exact(duckdb_prepared_statement prep, const TypedRequest *r)
{
    if (duckdb_nparams(prep) != r->nparams)
        return false;
    for (size_t i = 0; i < r->nparams; i++) {
        const Param *p = &r->params[i];
        duckdb_type t = duckdb_param_type(prep, i + 1);
        if (p->kind == PARAM_TEXT) {
            if (t != DUCKDB_TYPE_VARCHAR)
                return false;
            continue;
        }
        if (p->kind != PARAM_INT)
            return false;
        __int128 lo, hi;
        switch (t) {
        case DUCKDB_TYPE_TINYINT:
            lo = INT8_MIN, hi = INT8_MAX;
            break;
        case DUCKDB_TYPE_SMALLINT:
            lo = INT16_MIN, hi = INT16_MAX;
            break;
        case DUCKDB_TYPE_INTEGER:
            lo = INT32_MIN, hi = INT32_MAX;
            break;
        case DUCKDB_TYPE_BIGINT:
        case DUCKDB_TYPE_HUGEINT:
            lo = INT64_MIN, hi = INT64_MAX;
            break;
        case DUCKDB_TYPE_UTINYINT:
            lo = 0, hi = UINT8_MAX;
            break;
        case DUCKDB_TYPE_USMALLINT:
            lo = 0, hi = UINT16_MAX;
            break;
        case DUCKDB_TYPE_UINTEGER:
            lo = 0, hi = UINT32_MAX;
            break;
        case DUCKDB_TYPE_UBIGINT:
        case DUCKDB_TYPE_UHUGEINT:
            lo = 0, hi = INT64_MAX;
            break;
        default:
            return false;
        }
        if (p->i < lo || p->i > hi)
            return false;
    }
    return true;
}

/* Statements worth keeping prepared: the ones that run again and again. */
static bool cacheable(duckdb_statement_type type)
{
    return type == DUCKDB_STATEMENT_TYPE_SELECT || type == DUCKDB_STATEMENT_TYPE_INSERT ||
           type == DUCKDB_STATEMENT_TYPE_UPDATE || type == DUCKDB_STATEMENT_TYPE_DELETE;
}

bool query_prepared_cacheable(duckdb_prepared_statement prep)
{
    return prep && cacheable(duckdb_prepared_statement_type(prep));
}

/*
 * True when a cached statement failed before it ran because DuckDB could
 * not bind it again against a changed catalog: a fresh prepare gives the
 * answer an uncached run would give.
 */
static bool rebind_failed(duckdb_result *res)
{
    duckdb_error_type t = duckdb_result_error_type(res);
    return t == DUCKDB_ERROR_BINDER || t == DUCKDB_ERROR_CATALOG;
}

QueryStatus query_run(duckdb_connection con, const QueryRequest *req, QueryIo *io,
                      QueryOutcome *outcome)
{
    const char *sql = req->sql;
    bool in_tx = req->in_tx;
    Answer a = {.io = io,
                .start = io->out->len,
                .capture = req->capture,
                .capture_max = req->capture_max,
                .fallback_ok = req->autoparam && req->params};
    if (a.capture)
        a.capture->len = 0;
    duckdb_extracted_statements stmts = NULL;
    /* Owned here, unless it is `entry`'s (then it is only borrowed). */
    duckdb_prepared_statement prep = NULL;
    StmtEntry *entry = req->cache ? req->cached : NULL;
    /* The access check's statement (owned here until it runs): the text is not prepared again. */
    duckdb_prepared_statement given = entry ? NULL : req->prepared;
    if (entry && req->prepared) {
        duckdb_prepared_statement unused = req->prepared;
        duckdb_destroy_prepare(&unused);
    }
    duckdb_result res;
    bool have_res = false, implicit = false, failed = true, retried = false;
    /* Inside walarchive_commit_begin (a statement that may commit a write
     * alone), or inside the archive's checkpoint. */
    bool gated = false, checkpointing = false, autocommit_read = false;
    idx_t executed = 0; /* statements that ran */
    idx_t n = 1;
    /* What ends the answer once the transaction outcome is known. */
    char tail[32] = "";
    /* With another front end's format: what its completion reports. */
    duckdb_statement_type done_type = DUCKDB_STATEMENT_TYPE_INVALID;
    int64_t done_changed = 0;
    WatchdogEntry wd;
    watchdog_watch(&wd, con, io->client_fd, req->timeout_ms, req->session_id);
    if (req->statement_memory_bytes > 0)
        watchdog_set_statement_memory(&wd, req->statement_memory_bytes);
    ParallelEntry par; /* left with the watchdog's entry, before COMMIT or ROLLBACK */
    parallel_enter(&par, req->engine, wd.statement_bytes);

prepare_text:
    if (!entry && given) {
        n = 1;
    } else if (!entry) {
        n = duckdb_extract_statements(con, sql, &stmts);
        if (n == 0) {
            const char *e = duckdb_extract_statements_error(stmts);
            answer_error(&a, e ? e : "Parser Error: no statement");
            goto out;
        }
        if (req->params && n != 1) {
            answer_error(&a, "Bad Request: a query with parameters holds exactly one statement");
            goto out;
        }
    }
    implicit = n > 1 && !in_tx;
    if (implicit && query_exec_simple(con, "BEGIN TRANSACTION", error_out(&a)) != 0)
        goto out;

    for (idx_t i = 0; i < n; i++) {
        if (entry) {
            prep = entry->prep;
            /* Bindings of an earlier request must not leak into this one. */
            if (duckdb_nparams(prep) > 0)
                duckdb_clear_bindings(prep);
        } else if (given) {
            prep = given;
            given = NULL;
        } else if (duckdb_prepare_extracted_statement(con, stmts, i, &prep) != DuckDBSuccess) {
            const char *e = duckdb_prepare_error(prep);
            e = e ? e : "Parser Error: the statement cannot be prepared";
            answer_failure(&a, &wd, req->timeout_ms, message_type(e), e);
            goto out;
        }
        duckdb_statement_type type = duckdb_prepared_statement_type(prep);
        if (changes_session_state(type, sql))
            outcome->session_state = true;
        if (n == 1 && type == DUCKDB_STATEMENT_TYPE_SELECT)
            outcome->select_only = true;
        if (type == DUCKDB_STATEMENT_TYPE_DROP || type == DUCKDB_STATEMENT_TYPE_ALTER)
            outcome->schema_changed = true;
        if (!cacheable(type) && type != DUCKDB_STATEMENT_TYPE_EXPLAIN)
            outcome->catalog_changed = true;
        if ((type == DUCKDB_STATEMENT_TYPE_PRAGMA || type == DUCKDB_STATEMENT_TYPE_SET ||
             type == DUCKDB_STATEMENT_TYPE_VARIABLE_SET || type == DUCKDB_STATEMENT_TYPE_CALL) &&
            prints_on_log(sql)) {
            answer_error(&a, "Bad Request: query profiling and progress bars are off in this "
                             "server (DuckDB would print them on the server's log)");
            goto out;
        }
        if (type == DUCKDB_STATEMENT_TYPE_TRANSACTION) {
            answer_error(&a, n > 1 ? "Bad Request: a request with several statements may not "
                                     "contain transaction statements"
                                   : "Bad Request: use the commands start transaction, commit "
                                     "and rollback");
            goto out;
        }
        if (a.fallback_ok &&
            (type != DUCKDB_STATEMENT_TYPE_SELECT || n != 1 || !params_exact(prep, req->params))) {
            /* Kept all the same: the next text of this shape is judged without a prepare. */
            if (!entry && n == 1 && req->cache && cacheable(type) &&
                (entry = stmtcache_add(req->cache, sql, strlen(sql), prep)) != NULL)
                prep = NULL;
            a.fallback = true;
            goto out;
        }
        if (req->params) {
            char err[512];
            if (query_bind_params(prep, req->params, err, sizeof(err)) != 0) {
                answer_error(&a, err);
                goto out;
            }
        }
        if (req->archive && names_checkpoint(type, sql)) {
            if (n != 1 || in_tx || type != DUCKDB_STATEMENT_TYPE_CALL) {
                answer_error(&a, "Bad Request: while ArchiveMode is on, CHECKPOINT runs alone, "
                                 "outside a transaction (the server archives the log first)");
                goto out;
            }
            if (!checkpointing)
                walarchive_checkpoint_begin(req->archive);
            checkpointing = true;
        } else if (req->archive && !in_tx && !implicit && !gated &&
                   type != DUCKDB_STATEMENT_TYPE_SELECT && type != DUCKDB_STATEMENT_TYPE_EXPLAIN) {
            /* Commits when it ends (DuckDB's autocommit). */
            walarchive_commit_begin(req->archive);
            gated = true;
        } else if (req->archive && !in_tx && !implicit && !gated && !checkpointing) {
            /* A SELECT or EXPLAIN commits alone too, and writes to the log
             * when it called nextval (directly, or through a view, a macro
             * or a default): recorded after it ran, below. */
            autocommit_read = true;
        }
        /* Each statement has StatementTimeout from its start. */
        WatchdogReason stop = watchdog_restart(&wd);
        if (stop != WATCHDOG_NONE) {
            answer_failure(&a, &wd, req->timeout_ms, DUCKDB_ERROR_INTERRUPT,
                           "INTERRUPT Error: Interrupted!");
            goto out;
        }
        duckdb_state ran = duckdb_execute_prepared_streaming(prep, &res);
        if (ran != DuckDBSuccess && req->params && untyped_as_integers(prep, req->params, &res))
            ran = duckdb_execute_prepared_streaming(prep, &res);
        if (ran != DuckDBSuccess) {
            have_res = true;
            if (entry && !retried && rebind_failed(&res)) {
                /* Nothing ran; drop the statement and prepare the text again. */
                duckdb_destroy_result(&res);
                have_res = false;
                stmtcache_remove(req->cache, entry);
                entry = NULL;
                prep = NULL;
                retried = true;
                goto prepare_text;
            }
            answer_failure(&a, &wd, req->timeout_ms, duckdb_result_error_type(&res),
                           duckdb_result_error(&res));
            goto out;
        }
        have_res = true;
        executed++;
        if (entry) {
            prep = NULL; /* the cache's */
        } else if (n == 1 && req->cache && cacheable(type) &&
                   (entry = stmtcache_add(req->cache, sql, strlen(sql), prep)) != NULL) {
            prep = NULL; /* now the cache's */
        } else {
            duckdb_destroy_prepare(&prep);
        }
        if (i + 1 < n) {
            const char *e = drain(&res);
            if (e) {
                answer_failure(&a, &wd, req->timeout_ms, duckdb_result_error_type(&res), e);
                goto out;
            }
            duckdb_destroy_result(&res);
            have_res = false;
            continue;
        }
        done_type = type;
        if (req->format && answer_format(&a, &wd, req, &res, &done_changed) != 0)
            goto out;
        /* With another front end's format, the answer is complete already (the tail is unused). */
        switch (req->format ? DUCKDB_RESULT_TYPE_INVALID : duckdb_result_return_type(res)) {
        case DUCKDB_RESULT_TYPE_QUERY_RESULT: {
            const char *e = NULL;
            if (stream_rows(&a, &res, req->typed, &e) != 0) {
                if (!a.gone)
                    answer_failure(&a, &wd, req->timeout_ms, duckdb_result_error_type(&res), e);
                goto out;
            }
            snprintf(tail, sizeof(tail), req->typed ? "]}\n" : "]\n");
            break;
        }
        case DUCKDB_RESULT_TYPE_CHANGED_ROWS:
            snprintf(tail, sizeof(tail), req->typed ? "{\"changed\":%lld}\n" : "%lld\n",
                     (long long)changed_rows(&res));
            break;
        default:
            snprintf(tail, sizeof(tail), req->typed ? "{\"success\":true}\n" : "success\n");
            break;
        }
        const char *e = duckdb_result_error(&res);
        if (e) {
            answer_failure(&a, &wd, req->timeout_ms, duckdb_result_error_type(&res), e);
            goto out;
        }
    }
    /* The COMMIT is not a statement of the client's: it must not be interrupted. */
    watchdog_unwatch(&wd);
    parallel_leave(&par);
    if (implicit) {
        duckdb_result commit;
        walarchive_commit_begin(req->archive);
        gated = req->archive != NULL;
        bool ok = duckdb_query(con, "COMMIT", &commit) == DuckDBSuccess;
        if (!ok)
            answer_error(&a, duckdb_result_error(&commit));
        duckdb_destroy_result(&commit);
        implicit = false; /* ended either way */
        if (!ok)
            goto out;
    }
    if (req->format)
        req->format->complete(req->format->ctx, done_type, done_changed, io->out);
    else
        buf_append_str(io->out, tail);
    failed = false;
    capture_take(&a);
    outcome->captured = a.capture != NULL;
out:
    /* Before the ROLLBACK below, and before the caller may destroy `con`. */
    watchdog_unwatch(&wd);
    parallel_leave(&par);
    outcome->engine_fatal = a.fatal;
    /* A client that is gone gets nothing of this answer (pipelined answers before it stay),
     * nor does one whose literal text runs instead. */
    if (a.gone || a.fallback)
        io->out->len = a.start;
    if (have_res)
        duckdb_destroy_result(&res);
    if (!entry || prep != entry->prep)
        duckdb_destroy_prepare(&prep);
    duckdb_destroy_prepare(&given);
    duckdb_destroy_extracted(&stmts);
    if (implicit) {
        duckdb_result rb;
        duckdb_query(con, "ROLLBACK", &rb);
        duckdb_destroy_result(&rb);
    }
    /* The statement's result is gone, so its autocommit has run: the
     * archive records it before the answer leaves (query_run's caller
     * sends it). */
    if (gated)
        checkpoint_if_due(con, req->archive, walarchive_commit_end(req->archive));
    /* A read's autocommit has run too: if it wrote (nextval's sequence
     * value), the archive records it before the answer leaves, as for any
     * write; if it wrote nothing, this records nothing (docs/backup.md,
     * "Sequences"). Not gated while it ran, so it never holds a checkpoint
     * back; it waits here only for one in progress. */
    if (autocommit_read && !gated && executed > 0) {
        walarchive_commit_begin(req->archive);
        checkpoint_if_due(con, req->archive, walarchive_commit_end(req->archive));
    }
    if (checkpointing)
        walarchive_checkpoint_end(req->archive);
    /* Inside an explicit transaction nothing undoes the statements that
     * ran before the failure, and DuckDB need not have aborted it. */
    outcome->partial = failed && in_tx && executed > 0;
    outcome->entry = entry;
    if (a.gone)
        return QUERY_CLIENT_GONE;
    if (a.fallback)
        return QUERY_FALLBACK;
    return failed ? QUERY_FAILED : QUERY_OK;
}

int query_prepare_one(duckdb_connection con, const char *sql, duckdb_prepared_statement *out,
                      Buf *err_out)
{
    duckdb_extracted_statements stmts = NULL;
    duckdb_prepared_statement prep = NULL;
    int rc = -1;
    *out = NULL;
    idx_t n = duckdb_extract_statements(con, sql, &stmts);
    if (n == 0) {
        const char *e = duckdb_extract_statements_error(stmts);
        reply_engine_error(err_out, e ? e : "Parser Error: no statement");
        goto out;
    }
    if (n != 1) {
        reply_engine_error(err_out, "Bad Request: a statement with parameters holds exactly one "
                                    "statement");
        goto out;
    }
    if (duckdb_prepare_extracted_statement(con, stmts, 0, &prep) != DuckDBSuccess) {
        const char *e = duckdb_prepare_error(prep);
        reply_engine_error(err_out, e ? e : "Parser Error: the statement cannot be prepared");
        goto out;
    }
    *out = prep;
    prep = NULL;
    rc = 0;
out:
    duckdb_destroy_prepare(&prep);
    duckdb_destroy_extracted(&stmts);
    return rc;
}
