/*
 * pgwire_copyio: the COPY exchange of a PostgreSQL front end connection.
 * See pgwire_copyio.h; the statement and the lines are pgwire_copy.c's.
 */
#include "pgwire_copyio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdcguard.h"
#include "reply.h"
#include "rescache.h"
#include "sessions.h"
#include "xalloc.h"

/*
 * In DuckDB 1.5's C API (the library the server links) but not in the 1.4.4
 * header kept in third_party: drops the rows an appender holds without
 * writing them, so that destroying it afterwards writes nothing.
 */
duckdb_state duckdb_appender_clear(duckdb_appender appender);

/* What a target column's text needs before the appender casts it. */
enum { COPYIO_PLAIN, COPYIO_BYTEA, COPYIO_ARRAY };

/* Rows the appender may hold before they are written into the transaction: bounds the
 * memory of a COPY (DuckDB's own bound is 204,800 rows) and costs one INSERT per flush. */
#define COPY_FLUSH_ROWS 65536

static RunResult refuse(PgSession *ps, Session *s, Buf *out, const char *sqlstate, const char *msg)
{
    pgsess_refuse(ps, s, out, sqlstate, msg);
    return RUN_ERROR;
}

/* Drops the appender and what it holds unwritten. */
static void drop_appender(PgCopyIn *ci)
{
    if (!ci->app)
        return;
    duckdb_appender_clear(ci->app);
    duckdb_appender_destroy(&ci->app);
    ci->app = NULL;
}

/* Frees everything the COPY holds and makes `ci` idle (all zero). */
static void copy_in_end(PgCopyIn *ci)
{
    drop_appender(ci);
    if (ci->admitted) {
        session_statement_release(ci->admitted, ci->admitted_env);
        sessions_statement_end(&ci->admitted->reg, ci->admitted->in_tx);
    }
    pgwcopy_spec_free(&ci->copy);
    buf_free(&ci->copy_data);
    buf_free(&ci->copy_field);
    buf_free(&ci->copy_conv);
    for (int c = 0; c < ci->ncols && ci->names; c++)
        free(ci->names[c]);
    free(ci->names);
    free(ci->kinds);
    buf_free(&ci->err_msg);
    buf_free(&ci->err_context);
    memset(ci, 0, sizeof(*ci));
}

/* Called at the connection's end, before the session leaves its database (server.c): the
 * appender's rows are dropped, never written, and the appender, which keeps DuckDB's
 * connection and database alive while it exists, goes while the pool still holds them. */
void pgcopyio_clear(PgCopyIn *ci)
{
    copy_in_end(ci);
}

bool pgcopyio_active(const PgCopyIn *ci)
{
    return ci->copy_in;
}

/* COPY ... TO STDOUT: a SELECT whose rows go out as CopyData lines. */
typedef struct CopyOut {
    PgFormat f; /* the columns' text encoders */
    const PgWCopySpec *spec;
    Buf line, value;
} CopyOut;

static void copy_data_msg(Buf *out, const Buf *line)
{
    size_t m = pgwire_begin(out, 'd');
    buf_append(out, line->data, line->len);
    pgwire_end(out, m);
}

static int copy_out_columns(void *ctx, duckdb_result *res, Buf *out, char *err, size_t errlen)
{
    CopyOut *c = ctx;
    if (pgsess_format_columns(&c->f, res, out, err, errlen) != 0)
        return -1;
    size_t m = pgwire_begin(out, 'H');
    buf_append(out, "\0", 1); /* text */
    pgwire_put_i16(out, (int16_t)c->f.ncols);
    for (idx_t i = 0; i < c->f.ncols; i++)
        pgwire_put_i16(out, 0);
    pgwire_end(out, m);
    if (c->spec->header) {
        buf_reset(&c->line, 65536);
        for (idx_t i = 0; i < c->f.ncols; i++) {
            if (i > 0)
                buf_append(&c->line, &c->spec->delim, 1);
            const char *name = duckdb_column_name(res, i);
            pgwcopy_put_value(c->spec, &c->line, name ? name : "", name ? strlen(name) : 0);
        }
        buf_append(&c->line, "\n", 1);
        copy_data_msg(out, &c->line);
    }
    return 0;
}

/*
 * Each row is one CopyData message written straight into `out`: a value is
 * formatted there by pgwire_put_value (as a DataRow field: its 4-byte length,
 * then its text), the length is dropped by moving the text back 4 bytes, and
 * only a value that needs escapes or quotes (rare: never a number, a date, a
 * boolean) is taken out again and written escaped. So each value's bytes
 * are written once, where they are sent.
 */
static void copy_out_rows(void *ctx, duckdb_data_chunk chunk, Buf *out)
{
    CopyOut *c = ctx;
    const PgWCopySpec *spec = c->spec;
    idx_t n = duckdb_data_chunk_get_size(chunk);
    idx_t nc = c->f.ncols;
    duckdb_vector vec[nc ? nc : 1];
    uint64_t *valid[nc ? nc : 1];
    for (idx_t k = 0; k < nc; k++) {
        vec[k] = duckdb_data_chunk_get_vector(chunk, k);
        valid[k] = duckdb_vector_get_validity(vec[k]);
    }
    for (idx_t r = 0; r < n; r++) {
        size_t m = pgwire_begin(out, 'd');
        for (idx_t k = 0; k < nc; k++) {
            if (k > 0)
                buf_putc(out, spec->delim);
            if (!duckdb_validity_row_is_valid(valid[k], r)) {
                pgwcopy_put_null(spec, out);
                continue;
            }
            size_t at = out->len;
            pgwire_put_value(out, &c->f.cols[k], vec[k], r);
            size_t len = out->len - at - 4;
            memmove(out->data + at, out->data + at + 4, len);
            out->len = at + len;
            if (pgwcopy_value_plain(spec, out->data + at, len))
                continue;
            buf_reset(&c->value, 65536);
            buf_append(&c->value, out->data + at, len);
            out->len = at;
            pgwcopy_put_value(spec, out, c->value.data, len);
        }
        buf_putc(out, '\n');
        pgwire_end(out, m);
        c->f.rows++;
    }
}

static void copy_out_complete(void *ctx, duckdb_statement_type type, int64_t changed, Buf *out)
{
    CopyOut *c = ctx;
    (void)type;
    (void)changed;
    char tag[64];
    if (!c->f.cols) { /* a statement without rows: nothing was copied, no CopyOutResponse */
        static const char msg[] = "COPY (query) needs a query that returns rows";
        pgwire_error(out, "ERROR", "0A000", msg, strlen(msg));
        return;
    }
    pgwire_end(out, pgwire_begin(out, 'c'));
    snprintf(tag, sizeof(tag), "COPY %lld", (long long)c->f.rows);
    pgwire_command_complete(out, tag);
}

static RunResult run_copy_out(PgSession *ps, Session *s, const SessionEnv *env,
                              const PgWCopySpec *spec, QueryIo *io)
{
    Buf sql = BUF_INIT;
    if (spec->query)
        buf_append_str(&sql, spec->query);
    else
        buf_printf(&sql, "SELECT %s FROM %s", spec->columns ? spec->columns : "*", spec->table);
    CopyOut c = {.spec = spec};
    QueryFormat qf = {copy_out_columns, copy_out_rows, copy_out_complete, &c, NULL, 0};
    SessionAction action = SESSION_CONTINUE;
    Buf *saved = io->errors;
    io->errors = pgsess_errors(ps);
    session_run_sql(s, env, buf_cstr(&sql), NULL, &qf, io, &action);
    io->errors = saved;
    pgsess_format_free(&c.f);
    buf_free(&c.line);
    buf_free(&c.value);
    buf_free(&sql);
    if (action == SESSION_CLOSE)
        return RUN_GONE;
    if (pgsess_send_errors(ps, s, io->out)) {
        if (s->in_tx)
            pgsess_fail_block(ps, s);
        return RUN_ERROR;
    }
    return RUN_OK;
}

/* ---- COPY FROM STDIN ---- */

/* DuckDB's name of an error class, as its messages begin ("Conversion Error: ..."), so
 * that pgwire_sqlstate() gives the appender's errors the SQLSTATE of the same error
 * met in a statement. */
static const char *error_class(duckdb_error_type t)
{
    switch (t) {
    case DUCKDB_ERROR_OUT_OF_RANGE:
        return "Out of Range";
    case DUCKDB_ERROR_CONVERSION:
        return "Conversion";
    case DUCKDB_ERROR_INVALID_INPUT:
        return "Invalid Input";
    case DUCKDB_ERROR_DECIMAL:
        return "Conversion";
    case DUCKDB_ERROR_MISMATCH_TYPE:
        return "Mismatch Type";
    case DUCKDB_ERROR_CONSTRAINT:
        return "Constraint";
    case DUCKDB_ERROR_CATALOG:
        return "Catalog";
    case DUCKDB_ERROR_BINDER:
        return "Binder";
    case DUCKDB_ERROR_TRANSACTION:
        return "TransactionContext";
    case DUCKDB_ERROR_INTERRUPT:
        return "INTERRUPT";
    case DUCKDB_ERROR_OUT_OF_MEMORY:
        return "Out of Memory";
    case DUCKDB_ERROR_SEQUENCE:
        return "Sequence";
    case DUCKDB_ERROR_FATAL:
        return "FATAL";
    default:
        return "Invalid";
    }
}

/* The 1-based line of the row being decoded, as PostgreSQL counts it (the header is line 1). */
static long current_line(const PgCopyIn *ci)
{
    return ci->copy_rows + 1 + (ci->copy.header ? 1 : 0);
}

/*
 * Records the error that stops the COPY: SQLSTATE, message, and PostgreSQL's
 * CONTEXT (`COPY t, line N, column c: "value"`; without the column when
 * col < 0; none when line is 0). Returns -1, for the sink to return.
 */
static int copy_error(PgCopyIn *ci, const char *state, const char *msg, long line, int col,
                      const char *v, size_t n)
{
    snprintf(ci->err_state, sizeof(ci->err_state), "%s", state);
    buf_reset(&ci->err_msg, 4096);
    buf_append_str(&ci->err_msg, msg);
    buf_reset(&ci->err_context, 4096);
    if (line > 0) {
        buf_printf(&ci->err_context, "COPY %s, line %ld", ci->copy.table, line);
        if (col >= 0 && col < ci->ncols) {
            buf_printf(&ci->err_context, ", column %s", ci->names[col]);
            if (v) { /* PostgreSQL shows the value, cut when long (between characters) */
                size_t shown = n > 64 ? 64 : n;
                while (shown < n && shown > 0 && ((unsigned char)v[shown] & 0xC0) == 0x80)
                    shown--;
                buf_printf(&ci->err_context, ": \"%.*s%s\"", (int)shown, v, n > shown ? "..." : "");
            } else {
                buf_append_str(&ci->err_context, ": null input");
            }
        }
    }
    return -1;
}

/* The appender's error as copy_error() records it. */
static int appender_error(PgCopyIn *ci, long line, int col, const char *v, size_t n)
{
    duckdb_error_data e = duckdb_appender_error_data(ci->app);
    const char *msg = e ? duckdb_error_data_message(e) : NULL;
    Buf text = BUF_INIT;
    buf_printf(&text, "%s Error: %s", error_class(e ? duckdb_error_data_error_type(e) : 0),
               msg ? msg : "the appender failed");
    int rc = copy_error(ci, pgwire_sqlstate(text.data, text.len), buf_cstr(&text), line, col, v, n);
    buf_free(&text);
    duckdb_destroy_error_data(&e);
    return rc;
}

/*
 * True when p[0..n) is valid UTF-8 (no overlong form, surrogate or code
 * point above U+10FFFF); else false with the first bad byte in *bad.
 */
static bool utf8_valid(const char *text, size_t n, unsigned char *bad)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (len == 0 || i + len > n)
            goto bad;
        uint32_t cp = c & (0x7Fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += len;
    }
    return true;
bad:
    *bad = p[i];
    return false;
}

/* PgWCopySink.field: one value to the appender, cast there to the column's type. */
static int sink_field(void *ctx, int col, const char *v, size_t n, bool null)
{
    PgCopyIn *ci = ctx;
    if (col >= ci->ncols)
        return copy_error(ci, "22P04", "extra data after last expected column", current_line(ci),
                          -1, NULL, 0);
    unsigned char bad = 0;
    if (!null && ci->kinds[col] != COPYIO_BYTEA && !utf8_valid(v, n, &bad)) {
        /* As PostgreSQL, whose text is UTF-8 here; DuckDB would refuse it only when the rows
         * are flushed, without the line. The value is not shown: the message must be UTF-8. */
        char msg[64];
        snprintf(msg, sizeof(msg), "invalid byte sequence for encoding \"UTF8\": 0x%02x", bad);
        return copy_error(ci, "22021", msg, current_line(ci), -1, NULL, 0);
    }
    duckdb_state st;
    if (null) {
        st = duckdb_append_null(ci->app);
    } else if (ci->kinds[col] == COPYIO_BYTEA && pgwire_bytea_hex(v, n)) {
        /* PostgreSQL's hex text (\x0001ff) as the bytes it stands for; DuckDB's BLOB cast
         * would read it as a zero byte and the characters 01ff. */
        buf_reset(&ci->copy_conv, 65536);
        for (size_t i = 2; i < n; i += 2)
            buf_putc(&ci->copy_conv,
                     (char)(pgwire_hex_digit(v[i]) * 16 + pgwire_hex_digit(v[i + 1])));
        st = duckdb_append_blob(ci->app, ci->copy_conv.data ? ci->copy_conv.data : "",
                                ci->copy_conv.len);
    } else if (ci->kinds[col] == COPYIO_ARRAY && n > 0 && v[0] == '{' &&
               (buf_reset(&ci->copy_conv, 65536), pgwire_array_to_list(v, n, &ci->copy_conv))) {
        /* PostgreSQL's array text ({1,2}) as DuckDB's list text (["1", "2"]). */
        st = duckdb_append_varchar_length(ci->app, ci->copy_conv.data, ci->copy_conv.len);
    } else {
        st = duckdb_append_varchar_length(ci->app, v, n);
    }
    if (st != DuckDBSuccess)
        return appender_error(ci, current_line(ci), col, v, n);
    return 0;
}

/* PgWCopySink.row_end. */
static int sink_row_end(void *ctx, int ncols)
{
    PgCopyIn *ci = ctx;
    if (ncols < ci->ncols) {
        char msg[256];
        snprintf(msg, sizeof(msg), "missing data for column \"%s\"", ci->names[ncols]);
        return copy_error(ci, "22P04", msg, current_line(ci), -1, NULL, 0);
    }
    if (duckdb_appender_end_row(ci->app) != DuckDBSuccess)
        return appender_error(ci, current_line(ci), -1, NULL, 0);
    ci->copy_unflushed++;
    return 0;
}

/*
 * Ends COPY FROM after its error was answered: drops the appender's rows,
 * rolls back the transaction the COPY opened (or fails the client's block)
 * and answers ReadyForQuery.
 */
static bool copy_in_abort(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env,
                          QueryIo *io)
{
    drop_appender(ci);
    buf_reset(pgsess_errors(ps), 4096);
    if (ci->copy_began_tx) {
        if (!pgsess_run_tx(ps, s, env, "rollback"))
            buf_reset(pgsess_errors(ps), 4096);
    } else if (s->in_tx) {
        pgsess_fail_block(ps, s);
    }
    copy_in_end(ci);
    pgwire_ready(io->out, pgsess_ready_status(ps, s));
    return true;
}

/*
 * Answers the first of the session's pending error lines, without marking
 * the block failed (pgsess_send_errors would, while the COPY's own
 * transaction is still open): copy_in_abort() decides that.
 */
static void send_pending_error(PgSession *ps, Buf *out)
{
    Buf *e = pgsess_errors(ps);
    if (e->len > 0) {
        const char *nl = memchr(e->data, '\n', e->len);
        pgwire_error_line(out, "ERROR", e->data, nl ? (size_t)(nl - e->data) : e->len);
    }
    buf_reset(e, 4096);
}

bool pgcopyio_fail(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env, QueryIo *io,
                   const char *sqlstate, const char *msg)
{
    if (msg)
        pgwire_errorf(io->out, sqlstate, "%s", msg);
    else
        send_pending_error(ps, io->out);
    return copy_in_abort(ci, ps, s, env, io);
}

/* Answers the error copy_error() recorded, with its CONTEXT, and ends the COPY. */
static bool copy_in_fail_recorded(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env,
                                  QueryIo *io)
{
    size_t m = pgwire_begin(io->out, 'E');
    buf_putc(io->out, 'S');
    pgwire_put_str(io->out, "ERROR");
    buf_putc(io->out, 'V');
    pgwire_put_str(io->out, "ERROR");
    buf_putc(io->out, 'C');
    pgwire_put_str(io->out, ci->err_state);
    buf_putc(io->out, 'M');
    pgwire_put_str(io->out, buf_cstr(&ci->err_msg));
    if (ci->err_context.len > 0) {
        buf_putc(io->out, 'W');
        pgwire_put_str(io->out, buf_cstr(&ci->err_context));
    }
    buf_putc(io->out, '\0');
    pgwire_end(io->out, m);
    return copy_in_abort(ci, ps, s, env, io);
}

/* Writes the rows the appender holds into the transaction; -1 with the error recorded. */
static int copy_in_flush(PgCopyIn *ci)
{
    if (ci->copy_unflushed == 0)
        return 0;
    if (duckdb_appender_flush(ci->app) != DuckDBSuccess)
        return appender_error(ci, 0, -1, NULL, 0);
    ci->copy_unflushed = 0;
    return 0;
}

/*
 * A CopyData ('d'), CopyDone ('c') or CopyFail ('f') during COPY FROM
 * STDIN. Returns false when the connection must close.
 */
bool pgcopyio_message(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env,
                      const PgMsg *m, QueryIo *io)
{
    bool last = m->type == 'c';
    if (m->type == 'f') {
        PgIn in = pgwire_in(m);
        const char *why = pgwire_get_str(&in);
        char msg[256];
        snprintf(msg, sizeof(msg), "COPY from stdin failed: %s", in.bad ? "" : why);
        return pgcopyio_fail(ci, ps, s, env, io, "57014", msg);
    }
    if (m->type == 'd' && !ci->copy_done) {
        if (ci->copy_data.len + m->len > (size_t)env->cfg->max_request_bytes)
            return pgcopyio_fail(ci, ps, s, env, io, "54000",
                                 "a COPY row is longer than MaxRequestBytes");
        buf_append(&ci->copy_data, m->body, m->len);
    }
    char err[256] = "";
    PgWCopySink sink = {sink_field, sink_row_end, ci};
    long used = pgwcopy_decode(&ci->copy, ci->copy_data.data, ci->copy_data.len, last,
                               &ci->copy_skip_header, &sink, &ci->copy_field, &ci->copy_rows,
                               &ci->copy_done, err, sizeof(err));
    if (used == PGWCOPY_SINK_STOPPED)
        return copy_in_fail_recorded(ci, ps, s, env, io);
    if (used < 0) {
        copy_error(ci, "22P04", err, current_line(ci), -1, NULL, 0);
        return copy_in_fail_recorded(ci, ps, s, env, io);
    }
    buf_consume(&ci->copy_data, (size_t)used);
    if (ci->copy_done)
        buf_reset(&ci->copy_data, 4096);
    if ((last || ci->copy_unflushed >= COPY_FLUSH_ROWS) && copy_in_flush(ci) != 0)
        return copy_in_fail_recorded(ci, ps, s, env, io);
    if (!last)
        return true;
    duckdb_appender_destroy(&ci->app); /* flushed above: writes nothing more */
    ci->app = NULL;
    if (ci->copy_began_tx && !pgsess_run_tx(ps, s, env, "commit")) {
        pgsess_send_errors(ps, s, io->out);
        copy_in_end(ci);
        pgwire_ready(io->out, pgsess_ready_status(ps, s));
        return true;
    }
    char tag[64];
    snprintf(tag, sizeof(tag), "COPY %ld", ci->copy_rows);
    pgwire_command_complete(io->out, tag);
    copy_in_end(ci);
    pgwire_ready(io->out, pgsess_ready_status(ps, s));
    return true;
}

/* What the access check's prepare of the INSERT tells: the target columns' types. */
typedef struct CopyTypes {
    idx_t n;
    duckdb_logical_type *types; /* n of them, each destroyed by the caller */
} CopyTypes;

static void read_param_types(void *ctx, duckdb_prepared_statement prep)
{
    CopyTypes *t = ctx;
    t->n = duckdb_nparams(prep);
    t->types = xcalloc(t->n ? t->n : 1, sizeof(*t->types));
    for (idx_t i = 0; i < t->n; i++)
        t->types[i] = duckdb_param_logical_type(prep, i + 1);
}

/*
 * Readies the COPY FROM of ci->copy: the target's columns, the access check
 * of `INSERT INTO target VALUES ($1, ...)` (as a client's statement: the
 * user needs INSERT on the table), and the appender. Returns 0, or -1 with
 * the error in the session's errors (pgsess_errors) or recorded by
 * copy_error() (ci->err_state set).
 */
static int copy_in_open(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env)
{
    PgWCopySpec *spec = &ci->copy;
    Buf sql = BUF_INIT;
    CopyTypes t = {0};
    duckdb_prepared_statement cols = NULL;
    duckdb_logical_type *app_types = NULL;
    int rc = -1;
    /* The columns: their count, for the INSERT checked below, and their names, for messages.
     * Read from DuckDB's prepare of a SELECT of them, which is never run and of which nothing
     * is shown before the check passed. A table that cannot be read leaves one column: the
     * check then answers the client (the table does not exist, or is not theirs). */
    buf_printf(&sql, "SELECT %s FROM %s", spec->columns ? spec->columns : "*", spec->table);
    idx_t ncols = 1;
    if (duckdb_prepare(s->con, buf_cstr(&sql), &cols) == DuckDBSuccess)
        ncols = duckdb_prepared_statement_column_count(cols);
    buf_reset(&sql, 4096);
    buf_printf(&sql, "INSERT INTO %s VALUES (", spec->target);
    for (idx_t c = 0; c < ncols; c++)
        buf_printf(&sql, "%s$%llu", c ? ", " : "", (unsigned long long)(c + 1));
    buf_append_str(&sql, ")");
    if (session_describe_sql(s, env, buf_cstr(&sql), read_param_types, &t, pgsess_errors(ps)) != 0)
        goto out;
    /* A table a CDC stream follows is read-only (cdcguard.h), as for the INSERT itself. */
    if (cdcguard_check(s->db_id, buf_cstr(&sql), pgsess_errors(ps)) != 0)
        goto out;
    if (!cols || t.n != ncols || ncols == 0) {
        copy_error(ci, "42P01", "COPY FROM: the target's columns cannot be read", 0, -1, NULL, 0);
        goto out;
    }
    ci->ncols = (int)ncols;
    ci->names = xcalloc(ncols, sizeof(*ci->names));
    ci->kinds = xcalloc(ncols, sizeof(*ci->kinds));
    app_types = xcalloc(ncols, sizeof(*app_types));
    for (idx_t c = 0; c < ncols; c++) {
        char *name = (char *)duckdb_prepared_statement_column_name(cols, c); /* duckdb_free */
        ci->names[c] = xstrdup(name ? name : "?");
        duckdb_free(name);
        duckdb_type id = t.types[c] ? duckdb_get_type_id(t.types[c]) : DUCKDB_TYPE_INVALID;
        ci->kinds[c] = id == DUCKDB_TYPE_BLOB                              ? COPYIO_BYTEA
                       : id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_ARRAY ? COPYIO_ARRAY
                                                                           : COPYIO_PLAIN;
        /* The appender casts each value to the column's type as it is appended, so that a
         * bad one is found at its line; a type DuckDB could not give stays text, which the
         * INSERT casts. */
        app_types[c] = t.types[c] && id != DUCKDB_TYPE_INVALID && id != DUCKDB_TYPE_ANY
                           ? t.types[c]
                           : duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
        if (app_types[c] != t.types[c] && t.types[c])
            duckdb_destroy_logical_type(&t.types[c]);
        t.types[c] = app_types[c];
    }
    /* The same target text as the INSERT checked above, bound by DuckDB the same way, in the
     * same transaction: omitted columns get their defaults, constraints hold. */
    buf_reset(&sql, 4096);
    buf_printf(&sql, "INSERT INTO %s SELECT * FROM appended_data", spec->target);
    if (duckdb_appender_create_query(s->con, buf_cstr(&sql), ncols, app_types, NULL, NULL,
                                     &ci->app) != DuckDBSuccess) {
        appender_error(ci, 0, -1, NULL, 0);
        duckdb_appender_destroy(&ci->app);
        ci->app = NULL;
        goto out;
    }
    /* Its COMMIT moves the database's write generation (docs/cache.md), as an INSERT's. */
    if (rescache_enabled())
        s->tx_wrote = true;
    rc = 0;
out:
    for (idx_t c = 0; c < t.n; c++)
        duckdb_destroy_logical_type(&t.types[c]);
    free(t.types);
    free(app_types);
    duckdb_destroy_prepare(&cols);
    buf_free(&sql);
    return rc;
}

RunResult pgcopyio_run(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env,
                       const char *sql, const PgFormat *f, QueryIo *io)
{
    PgWCopySpec spec = {0};
    char state[6], err[256];
    RunResult r = RUN_OK;
    if (pgwcopy_spec_parse(sql, strlen(sql), &spec, state, err, sizeof(err)) != 0) {
        r = refuse(ps, s, io->out, state, err);
        goto out;
    }
    if (spec.to) {
        r = run_copy_out(ps, s, env, &spec, io);
        goto out;
    }
    if (!f->describe || f->copy_not_alone) {
        r = refuse(ps, s, io->out, "0A000",
                   "COPY FROM STDIN must be the only statement of a simple Query message");
        goto out;
    }
    copy_in_end(ci);
    Buf refused = BUF_INIT;
    if (!session_statement_admit(s, env, &refused)) {
        pgwire_error_line(io->out, "ERROR", refused.data, refused.len);
        buf_free(&refused);
        pgsess_fail_block(ps, s);
        r = RUN_ERROR;
        goto out;
    }
    ci->admitted = s;
    ci->admitted_env = env;
    sessions_statement_begin(&s->reg, sql, strlen(sql));
    if (!s->in_tx) {
        if (!pgsess_run_tx(ps, s, env, "begin")) {
            pgsess_send_errors(ps, s, io->out);
            copy_in_end(ci);
            r = RUN_ERROR;
            goto out;
        }
        ci->copy_began_tx = true;
    }
    ci->copy = spec;
    memset(&spec, 0, sizeof(spec));
    if (copy_in_open(ci, ps, s, env) != 0) {
        /* Refused before CopyInResponse: the error, and the transaction as for a statement. */
        if (ci->err_state[0])
            pgwire_errorf(io->out, ci->err_state, "%s", buf_cstr(&ci->err_msg));
        else
            send_pending_error(ps, io->out);
        if (ci->copy_began_tx) {
            if (!pgsess_run_tx(ps, s, env, "rollback"))
                buf_reset(pgsess_errors(ps), 4096);
        } else {
            pgsess_fail_block(ps, s);
        }
        copy_in_end(ci);
        r = RUN_ERROR;
        goto out;
    }
    ci->copy_in = true;
    ci->copy_skip_header = ci->copy.header;
    size_t m = pgwire_begin(io->out, 'G');
    buf_append(io->out, "\0", 1); /* text */
    pgwire_put_i16(io->out, (int16_t)ci->ncols);
    for (int c = 0; c < ci->ncols; c++)
        pgwire_put_i16(io->out, 0);
    pgwire_end(io->out, m);
out:
    pgwcopy_spec_free(&spec);
    return r;
}
