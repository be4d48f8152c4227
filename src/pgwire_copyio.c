/*
 * pgwire_copyio: the COPY exchange of a PostgreSQL front end connection.
 * See pgwire_copyio.h; the statement and the lines are pgwire_copy.c's.
 */
#include "pgwire_copyio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static RunResult refuse(PgSession *ps, Session *s, Buf *out, const char *sqlstate, const char *msg)
{
    pgsess_refuse(ps, s, out, sqlstate, msg);
    return RUN_ERROR;
}

void pgcopyio_clear(PgCopyIn *ci)
{
    pgwcopy_spec_free(&ci->copy);
    buf_free(&ci->copy_data);
    buf_free(&ci->copy_values);
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

static void copy_out_rows(void *ctx, duckdb_data_chunk chunk, Buf *out)
{
    CopyOut *c = ctx;
    idx_t n = duckdb_data_chunk_get_size(chunk);
    idx_t nc = c->f.ncols;
    duckdb_vector vec[nc ? nc : 1];
    uint64_t *valid[nc ? nc : 1];
    for (idx_t k = 0; k < nc; k++) {
        vec[k] = duckdb_data_chunk_get_vector(chunk, k);
        valid[k] = duckdb_vector_get_validity(vec[k]);
    }
    for (idx_t r = 0; r < n; r++) {
        buf_reset(&c->line, 65536);
        for (idx_t k = 0; k < nc; k++) {
            if (k > 0)
                buf_append(&c->line, &c->spec->delim, 1);
            if (!duckdb_validity_row_is_valid(valid[k], r)) {
                pgwcopy_put_null(c->spec, &c->line);
                continue;
            }
            buf_reset(&c->value, 65536);
            pgwire_put_value(&c->value, &c->f.cols[k], vec[k], r);
            /* pgwire_put_value writes a DataRow field: 4 bytes of length, then the text. */
            pgwcopy_put_value(c->spec, &c->line, c->value.data + 4, c->value.len - 4);
        }
        buf_append(&c->line, "\n", 1);
        copy_data_msg(out, &c->line);
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

/* INSERTs of COPY FROM STDIN answer nothing of their own. */
static int copy_in_columns(void *ctx, duckdb_result *res, Buf *out, char *err, size_t errlen)
{
    (void)ctx, (void)res, (void)out, (void)err, (void)errlen;
    return 0;
}
static void copy_in_rows(void *ctx, duckdb_data_chunk chunk, Buf *out)
{
    (void)ctx, (void)chunk, (void)out;
}
static void copy_in_complete(void *ctx, duckdb_statement_type type, int64_t changed, Buf *out)
{
    (void)ctx, (void)type, (void)changed, (void)out;
}

/* COPY FROM STDIN: the batch of rows decoded so far goes to DuckDB as one INSERT. */
#define COPY_BATCH_BYTES (1024 * 1024)

static void copy_in_end(PgCopyIn *ci)
{
    ci->copy_in = false;
    pgwcopy_spec_free(&ci->copy);
    buf_free(&ci->copy_data);
    buf_free(&ci->copy_values);
}

/* Ends COPY FROM with an error: rolls back the transaction the COPY opened. */
bool pgcopyio_fail(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env, QueryIo *io,
                   const char *sqlstate, const char *msg)
{
    if (msg)
        pgwire_errorf(io->out, sqlstate, "%s", msg);
    else
        pgsess_send_errors(ps, s, io->out);
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

/* Runs the INSERT of the rows decoded so far. False (and the session's errors) on failure. */
static bool copy_in_flush(PgCopyIn *ci, PgSession *ps, Session *s, const SessionEnv *env,
                          QueryIo *io, bool *gone)
{
    if (ci->copy_values.len == 0)
        return true;
    Buf sql = BUF_INIT;
    buf_printf(&sql, "INSERT INTO %s VALUES ", ci->copy.target);
    buf_append(&sql, ci->copy_values.data, ci->copy_values.len);
    buf_reset(&ci->copy_values, COPY_BATCH_BYTES);
    QueryFormat qf = {copy_in_columns, copy_in_rows, copy_in_complete, NULL, NULL, 0};
    SessionAction action = SESSION_CONTINUE;
    Buf *saved = io->errors;
    io->errors = pgsess_errors(ps);
    session_run_sql(s, env, buf_cstr(&sql), NULL, &qf, io, &action);
    io->errors = saved;
    buf_free(&sql);
    *gone = action == SESSION_CLOSE;
    return pgsess_errors(ps)->len == 0;
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
    long used = pgwcopy_decode(&ci->copy, ci->copy_data.data, ci->copy_data.len, last,
                               &ci->copy_skip_header, &ci->copy_values, &ci->copy_rows,
                               &ci->copy_done, err, sizeof(err));
    if (used < 0)
        return pgcopyio_fail(ci, ps, s, env, io, "22P04", err);
    buf_consume(&ci->copy_data, (size_t)used);
    if (ci->copy_done)
        buf_reset(&ci->copy_data, 4096);
    bool gone = false;
    if ((last || ci->copy_values.len >= COPY_BATCH_BYTES) &&
        !copy_in_flush(ci, ps, s, env, io, &gone)) {
        if (gone)
            return false;
        return pgcopyio_fail(ci, ps, s, env, io, NULL, NULL);
    }
    if (gone)
        return false;
    if (!last)
        return true;
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

/*
 * Marks the target's BLOB columns in spec->bytea, from DuckDB's prepare of a
 * SELECT of them (never run; nothing of it is shown to the client, whose
 * INSERTs are checked as usual). Left NULL when the prepare fails.
 */
static void copy_in_bytea_columns(Session *s, PgWCopySpec *spec)
{
    Buf sql = BUF_INIT;
    buf_printf(&sql, "SELECT %s FROM %s", spec->columns ? spec->columns : "*", spec->table);
    duckdb_prepared_statement prep = NULL;
    if (duckdb_prepare(s->con, buf_cstr(&sql), &prep) == DuckDBSuccess) {
        idx_t n = duckdb_prepared_statement_column_count(prep);
        spec->bytea = xcalloc(n ? n : 1, sizeof(*spec->bytea));
        spec->nbytea = (int)n;
        for (idx_t c = 0; c < n; c++)
            spec->bytea[c] = duckdb_prepared_statement_column_type(prep, c) == DUCKDB_TYPE_BLOB;
    }
    duckdb_destroy_prepare(&prep);
    buf_free(&sql);
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
    if (!s->in_tx) {
        if (!pgsess_run_tx(ps, s, env, "begin")) {
            pgsess_send_errors(ps, s, io->out);
            r = RUN_ERROR;
            goto out;
        }
        ci->copy_began_tx = true;
    } else {
        ci->copy_began_tx = false;
    }
    copy_in_bytea_columns(s, &spec);
    ci->copy_in = true;
    ci->copy = spec;
    memset(&spec, 0, sizeof(spec));
    ci->copy_skip_header = ci->copy.header;
    ci->copy_done = false;
    ci->copy_rows = 0;
    size_t m = pgwire_begin(io->out, 'G');
    buf_append(io->out, "\0", 1); /* text */
    pgwire_put_i16(io->out, 0);
    pgwire_end(io->out, m);
out:
    pgwcopy_spec_free(&spec);
    return r;
}
