/*
 * pgwire_session: the PostgreSQL front end of one connection. See
 * pgwire_session.h; the protocol as bytes is pgwire.c's.
 *
 * Every error the session's handlers answer comes back as the line
 * protocol's error line (QueryIo.errors, reply.h) and is turned into an
 * ErrorResponse by pgwire_error_line(), so both protocols word and classify
 * an error in one place.
 *
 * Size: this file holds one connection's state machine (startup and SCRAM,
 * simple query, transaction state, running one statement) because those
 * parts share the PgSession fields and its transaction status; the client
 * settings (pgwire_settings.c: SET/RESET/SHOW, current_setting/set_config,
 * ParameterStatus, statement_timeout), the extended protocol
 * (pgwire_extended.c), the COPY exchange (pgwire_copyio.c) and COPY's
 * statement and row formats (pgwire_copy.c), the statement rewriting
 * (pgwire_rewrite.c), the catalog answers (pgwire_catalog.c) and the bytes
 * (pgwire.c) are apart. Still somewhat over the house limit of 900 lines:
 * the row encoding of results (the QueryFormat callbacks, format_* and
 * keyword_tag) is the next piece to move if it grows.
 */
#include "pgwire_session.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "log.h"
#include "params.h"
#include "pgwire_admin.h"
#include "pgwire_catalog.h"
#include "pgwire_copyio.h"
#include "pgwire_ddl.h"
#include "pgwire_extended.h"
#include "pgwire_rewrite.h"
#include "pgwire_session_int.h"
#include "pgwire_settings.h"
#include "reply.h"
#include "scram.h"
#include "sqllex.h"
#include "xalloc.h"

typedef enum { PS_STARTUP, PS_SASL, PS_SASL_FINAL, PS_READY, PS_CLOSED } PsState;

struct PgSession {
    PgReader reader;
    PsState state;
    char user[CATALOG_NAME_MAX + 1];
    char database[CATALOG_NAME_MAX + 1];
    bool user_known;
    CatalogUser pending; /* the user being authenticated */
    ScramExchange scram;
    bool failed_tx;      /* an error inside a transaction block: only ROLLBACK runs */
    bool implicit_tx;    /* the open transaction is the extended protocol's, ended at Sync */
    PgSettings settings; /* the client settings (pgwire_settings.h) */
    PgExtended *ext;     /* the extended protocol's statements and portals */
    Buf errors;          /* error lines of the session's handlers */
    PgCopyIn copyin;     /* COPY ... FROM STDIN in progress (pgwire_copyio.h) */
};

PgSession *pgwire_session_new(void)
{
    PgSession *ps = xcalloc(1, sizeof(*ps));
    ps->ext = pgext_new();
    pgset_init(&ps->settings);
    return ps;
}

void pgwire_session_free(PgSession *ps)
{
    if (!ps)
        return;
    pgext_free(ps->ext);
    scram_exchange_clear(&ps->scram);
    pgwire_reader_free(&ps->reader);
    buf_free(&ps->errors);
    pgcopyio_clear(&ps->copyin);
    free(ps);
}

PgReader *pgwire_session_reader(PgSession *ps)
{
    return &ps->reader;
}

size_t pgwire_session_limit(const PgSession *ps, const Config *cfg)
{
    return ps->state == PS_READY ? (size_t)cfg->max_request_bytes
                                 : (size_t)cfg->max_login_request_bytes;
}

void pgwire_session_fatal_line(Buf *out, const char *line, size_t len)
{
    pgwire_error_line(out, "FATAL", line, len);
}

char pgsess_ready_status(const PgSession *ps, const Session *s)
{
    if (!s->in_tx)
        return 'I';
    return ps->failed_tx ? 'E' : 'T';
}

bool pgsess_block_failed(const PgSession *ps)
{
    return ps->failed_tx;
}

Buf *pgsess_errors(PgSession *ps)
{
    return &ps->errors;
}

void pgsess_refuse(PgSession *ps, Session *s, Buf *out, const char *sqlstate, const char *msg)
{
    pgwire_errorf(out, sqlstate, "%s", msg);
    if (s->in_tx)
        ps->failed_tx = true;
}

void pgsess_fail_block(PgSession *ps, const Session *s)
{
    if (s->in_tx)
        ps->failed_tx = true;
}

/* A WARNING NoticeResponse, unless client_min_messages is error. */
static void warn(const PgSession *ps, Buf *out, const char *sqlstate, const char *msg)
{
    if (pgset_sends_warnings(&ps->settings))
        pgwire_notice(out, "WARNING", sqlstate, msg);
}

static PgAction fatal(PgSession *ps, Buf *out, const char *sqlstate, const char *msg)
{
    pgwire_error(out, "FATAL", sqlstate, msg, strlen(msg));
    ps->state = PS_CLOSED;
    return PGWIRE_CLOSE;
}

/* ---- statements: what the front end answers itself ---- */

bool pgsess_word_is(const char *sql, const PgTokens *tk, int i, const char *lower)
{
    return i < tk->n && sqllex_is_word(sql, &tk->t[i], lower);
}

void pgsess_first_tokens(const char *sql, size_t len, PgTokens *tk)
{
    SqlLexer lx;
    SqlToken t;
    sqllex_init(&lx, sql, len, 0);
    tk->n = 0;
    tk->end = 0;
    while (sqllex_next(&lx, &t) > 0) {
        if (t.kind == SQLLEX_SEMI)
            continue;
        if (tk->n < (int)(sizeof(tk->t) / sizeof(tk->t[0])))
            tk->t[tk->n++] = t;
        tk->end = t.offset + t.length;
    }
}

/* True when the `len` bytes at `sql` hold `word` in any case (a cheap test before lexing). */
static bool contains_ci(const char *sql, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(sql + i, word, n) == 0)
            return true;
    return false;
}

StmtKind pgsess_classify(const char *sql, size_t len)
{
    PgTokens tk;
    pgsess_first_tokens(sql, len, &tk);
    if (tk.n == 0)
        return KIND_EMPTY;
    if (pgsess_word_is(sql, &tk, 0, "begin"))
        return KIND_BEGIN;
    if (pgsess_word_is(sql, &tk, 0, "start") && pgsess_word_is(sql, &tk, 1, "transaction"))
        return KIND_BEGIN;
    if (pgsess_word_is(sql, &tk, 0, "commit") || pgsess_word_is(sql, &tk, 0, "end"))
        return pgsess_word_is(sql, &tk, 1, "prepared") ? KIND_UNSUPPORTED : KIND_COMMIT;
    if (pgsess_word_is(sql, &tk, 0, "rollback") || pgsess_word_is(sql, &tk, 0, "abort")) {
        /* ROLLBACK TO [SAVEPOINT] name, ROLLBACK PREPARED */
        for (int i = 1; i < tk.n; i++)
            if (pgsess_word_is(sql, &tk, i, "to") || pgsess_word_is(sql, &tk, i, "prepared"))
                return KIND_UNSUPPORTED;
        return KIND_ROLLBACK;
    }
    if (pgsess_word_is(sql, &tk, 0, "savepoint") || pgsess_word_is(sql, &tk, 0, "release"))
        return KIND_UNSUPPORTED;
    if (pgsess_word_is(sql, &tk, 0, "copy"))
        return KIND_COPY;
    if (pgsess_word_is(sql, &tk, 0, "deallocate"))
        return KIND_DEALLOCATE;
    if (pgsess_word_is(sql, &tk, 0, "discard"))
        return KIND_DISCARD;
    if ((pgsess_word_is(sql, &tk, 0, "grant") || pgsess_word_is(sql, &tk, 0, "revoke") ||
         pgsess_word_is(sql, &tk, 0, "create") || pgsess_word_is(sql, &tk, 0, "alter") ||
         pgsess_word_is(sql, &tk, 0, "drop")) &&
        pgadm_is_admin(sql, len))
        return KIND_ADMIN;
    if (pgsess_word_is(sql, &tk, 0, "set")) {
        int i = 1;
        if (pgsess_word_is(sql, &tk, 1, "transaction") ||
            (pgsess_word_is(sql, &tk, 1, "session") &&
             pgsess_word_is(sql, &tk, 2, "characteristics")))
            return KIND_SET_NOOP;
        if (pgsess_word_is(sql, &tk, 1, "session") || pgsess_word_is(sql, &tk, 1, "local"))
            i = 2;
        if (i < tk.n && (tk.t[i].kind == SQLLEX_WORD || tk.t[i].kind == SQLLEX_QUOTED)) {
            Buf name = BUF_INIT;
            sqllex_identifier(sql, &tk.t[i], &name);
            bool k = pgset_known(buf_cstr(&name));
            bool tz =
                pgsess_word_is(sql, &tk, i, "time") && pgsess_word_is(sql, &tk, i + 1, "zone");
            buf_free(&name);
            if (k || tz)
                return KIND_SET;
        }
        return KIND_SQL;
    }
    if (pgsess_word_is(sql, &tk, 0, "reset")) {
        if (pgsess_word_is(sql, &tk, 1, "all"))
            return KIND_RESET;
        if (tk.n >= 2) {
            Buf name = BUF_INIT;
            sqllex_identifier(sql, &tk.t[1], &name);
            bool k = pgset_known(buf_cstr(&name));
            buf_free(&name);
            if (k)
                return KIND_RESET;
        }
        return KIND_SQL;
    }
    if ((contains_ci(sql, len, "current_setting") || contains_ci(sql, len, "set_config")) &&
        pgset_calls_setting_fn(sql, len)) {
        if (pgset_is_setting_call(sql, len))
            return KIND_SETTING_FN;
        /* The catalog emulation answers its own (Grafana's search_path probe). */
        if (!pgcat_is_catalog_query(sql, len))
            return KIND_SETTING_FN_ELSEWHERE;
    }
    if (pgsess_word_is(sql, &tk, 0, "show") && tk.n >= 2) {
        if (pgsess_word_is(sql, &tk, 1, "transaction") && pgsess_word_is(sql, &tk, 2, "isolation"))
            return KIND_SHOW;
        Buf name = BUF_INIT;
        sqllex_identifier(sql, &tk.t[1], &name);
        bool k = pgset_known(buf_cstr(&name));
        buf_free(&name);
        bool tz = pgsess_word_is(sql, &tk, 1, "time") && pgsess_word_is(sql, &tk, 2, "zone");
        if ((k || tz) && (tk.n == 2 || tz))
            return KIND_SHOW;
        return KIND_SQL;
    }
    return KIND_SQL;
}

/* ---- DEALLOCATE and DISCARD ---- */

static RunResult refuse(PgSession *ps, Session *s, Buf *out, const char *sqlstate, const char *msg);

static RunResult run_deallocate(PgSession *ps, Session *s, const char *sql, Buf *out)
{
    PgTokens tk;
    pgsess_first_tokens(sql, strlen(sql), &tk);
    int i = pgsess_word_is(sql, &tk, 1, "prepare") ? 2 : 1;
    if (i + 1 != tk.n || (tk.t[i].kind != SQLLEX_WORD && tk.t[i].kind != SQLLEX_QUOTED))
        return refuse(ps, s, out, "42601", "syntax error in DEALLOCATE: DEALLOCATE name | ALL");
    if (pgsess_word_is(sql, &tk, i, "all")) {
        pgext_deallocate(ps->ext, NULL);
        pgwire_command_complete(out, "DEALLOCATE ALL");
        return RUN_OK;
    }
    Buf name = BUF_INIT;
    sqllex_identifier(sql, &tk.t[i], &name);
    if (tk.t[i].kind == SQLLEX_WORD) /* unquoted names fold to lower case, as in PostgreSQL */
        for (size_t j = 0; j < name.len; j++)
            name.data[j] = (char)tolower((unsigned char)name.data[j]);
    bool found = name.len > 0 && pgext_deallocate(ps->ext, buf_cstr(&name));
    RunResult r = RUN_OK;
    if (!found) {
        char msg[160];
        snprintf(msg, sizeof(msg), "prepared statement \"%.100s\" does not exist", buf_cstr(&name));
        r = refuse(ps, s, out, "26000", msg);
    } else {
        pgwire_command_complete(out, "DEALLOCATE");
    }
    buf_free(&name);
    return r;
}

static RunResult run_discard(PgSession *ps, Session *s, const char *sql, Buf *out)
{
    PgTokens tk;
    pgsess_first_tokens(sql, strlen(sql), &tk);
    if (tk.n == 2 && pgsess_word_is(sql, &tk, 1, "plans")) {
        /* The statement cache holds plans the catalog's changes invalidate: nothing to do. */
        pgwire_command_complete(out, "DISCARD PLANS");
        return RUN_OK;
    }
    if (tk.n != 2 || !pgsess_word_is(sql, &tk, 1, "all"))
        return refuse(ps, s, out, "0A000",
                      "only DISCARD ALL and DISCARD PLANS are supported (DISCARD TEMP and "
                      "SEQUENCES are not)");
    if (s->in_tx)
        return refuse(ps, s, out, "25001", "DISCARD ALL cannot run inside a transaction block");
    pgext_discard(ps->ext);
    pgset_reset_all(&ps->settings, out);
    pgwire_command_complete(out, "DISCARD ALL");
    return RUN_OK;
}

/* ---- running SQL through the session ---- */

int16_t pgsess_format_of(const int16_t *formats, int n, idx_t c)
{
    if (!formats || n == 0)
        return 0;
    if (n == 1)
        return formats[0];
    return c < (idx_t)n ? formats[c] : 0;
}

int pgsess_format_columns(void *ctx, duckdb_result *res, Buf *out, char *err, size_t errlen)
{
    PgFormat *f = ctx;
    idx_t n = duckdb_column_count(res);
    if (f->nformats > 1 && (idx_t)f->nformats != n) {
        snprintf(err, errlen,
                 "Bad Request: Bind has %d result formats but the statement has %llu columns",
                 f->nformats, (unsigned long long)n);
        return -1;
    }
    f->cols = xcalloc(n ? n : 1, sizeof(*f->cols));
    f->ncols = n;
    for (idx_t c = 0; c < n; c++) {
        int16_t code = pgsess_format_of(f->formats, f->nformats, c);
        if (code != 0 && code != 1) {
            snprintf(err, errlen, "Bad Request: unknown result format code %d", code);
            return -1;
        }
        bool binary = code == 1;
        duckdb_logical_type t = duckdb_column_logical_type(res, c);
        int rc = pgwire_column_init(&f->cols[c], t, binary);
        if (rc == 0 && f->float_digits_set)
            pgwire_column_float_digits(&f->cols[c], f->extra_float_digits);
        if (rc != 0) {
            char *name = duckdb_logical_type_get_alias(t);
            snprintf(err, errlen,
                     "Not implemented Error: column %llu's type is not supported%s by the "
                     "PostgreSQL front end yet",
                     (unsigned long long)c + 1, binary ? " in binary format" : "");
            duckdb_free(name);
        }
        duckdb_destroy_logical_type(&t);
        if (rc != 0)
            return -1;
    }
    if (!f->describe)
        return 0;
    size_t m = pgwire_begin(out, 'T');
    pgwire_put_i16(out, (int16_t)n);
    for (idx_t c = 0; c < n; c++) {
        const char *name = duckdb_column_name(res, c);
        pgwire_put_str(out, name ? name : "?column?");
        pgwire_put_i32(out, 0);
        pgwire_put_i16(out, 0);
        pgwire_put_i32(out, (int32_t)f->cols[c].pg.oid);
        pgwire_put_i16(out, f->cols[c].pg.len);
        pgwire_put_i32(out, f->cols[c].pg.typmod);
        pgwire_put_i16(out, 0);
    }
    pgwire_end(out, m);
    return 0;
}

void pgsess_format_rows(void *ctx, duckdb_data_chunk chunk, Buf *out)
{
    PgFormat *f = ctx;
    idx_t n = duckdb_data_chunk_get_size(chunk);
    duckdb_vector vec[f->ncols ? f->ncols : 1];
    uint64_t *valid[f->ncols ? f->ncols : 1];
    for (idx_t c = 0; c < f->ncols; c++) {
        vec[c] = duckdb_data_chunk_get_vector(chunk, c);
        valid[c] = duckdb_vector_get_validity(vec[c]);
    }
    for (idx_t r = 0; r < n; r++) {
        Buf *dst = out;
        if (f->max_rows > 0 && f->rows >= f->max_rows) {
            dst = f->held;
            if (dst->len > f->room) {
                f->held_overflow = true;
                f->rows++;
                continue;
            }
        }
        size_t m = pgwire_begin(dst, 'D');
        pgwire_put_i16(dst, (int16_t)f->ncols);
        for (idx_t c = 0; c < f->ncols; c++) {
            if (!duckdb_validity_row_is_valid(valid[c], r))
                pgwire_put_i32(dst, -1);
            else
                pgwire_put_value(dst, &f->cols[c], vec[c], r);
        }
        pgwire_end(dst, m);
        f->rows++;
    }
}

/* True when the first word of `sql` is `lower`. */
static bool first_word_is(const char *sql, const char *lower)
{
    PgTokens tk;
    pgsess_first_tokens(sql, strlen(sql), &tk);
    return pgsess_word_is(sql, &tk, 0, lower);
}

/* The command tag of a statement that is not one of INSERT, UPDATE, DELETE or SELECT:
 * its first words in upper case (CREATE TABLE, DROP VIEW, SET, ...). */
static void keyword_tag(const char *sql, char *tag, size_t cap)
{
    PgTokens tk;
    pgsess_first_tokens(sql, strlen(sql), &tk);
    size_t n = 0;
    int words = 1;
    if (pgsess_word_is(sql, &tk, 0, "create") || pgsess_word_is(sql, &tk, 0, "drop") ||
        pgsess_word_is(sql, &tk, 0, "alter"))
        words = 2;
    tag[0] = '\0';
    for (int i = 0; i < tk.n && words > 0; i++) {
        if (tk.t[i].kind != SQLLEX_WORD)
            break;
        if (pgsess_word_is(sql, &tk, i, "or") || pgsess_word_is(sql, &tk, i, "replace") ||
            pgsess_word_is(sql, &tk, i, "temp") || pgsess_word_is(sql, &tk, i, "temporary") ||
            pgsess_word_is(sql, &tk, i, "unlogged") || pgsess_word_is(sql, &tk, i, "unique"))
            continue;
        for (size_t j = 0; j < tk.t[i].length && n + 2 < cap; j++)
            tag[n++] = (char)toupper((unsigned char)sql[tk.t[i].offset + j]);
        if (--words > 0 && n + 2 < cap)
            tag[n++] = ' ';
        tag[n] = '\0';
    }
    while (n > 0 && tag[n - 1] == ' ')
        tag[--n] = '\0';
    if (n == 0)
        snprintf(tag, cap, "OK");
}

static void format_complete(void *ctx, duckdb_statement_type type, int64_t changed, Buf *out)
{
    PgFormat *f = ctx;
    int64_t n = f->cols ? f->rows : changed;
    switch (type) {
    case DUCKDB_STATEMENT_TYPE_INSERT:
        snprintf(f->tag, sizeof(f->tag), "INSERT 0 %lld", (long long)n);
        break;
    case DUCKDB_STATEMENT_TYPE_UPDATE:
        snprintf(f->tag, sizeof(f->tag), "UPDATE %lld", (long long)n);
        break;
    case DUCKDB_STATEMENT_TYPE_DELETE:
        if (first_word_is(f->sql, "truncate"))
            snprintf(f->tag, sizeof(f->tag), "TRUNCATE TABLE");
        else
            snprintf(f->tag, sizeof(f->tag), "DELETE %lld", (long long)n);
        break;
    default:
        if (f->cols)
            snprintf(f->tag, sizeof(f->tag), "SELECT %lld", (long long)n);
        else
            keyword_tag(f->sql, f->tag, sizeof(f->tag));
        break;
    }
    f->completed = true;
    if (f->max_rows > 0 && f->rows > f->max_rows)
        return; /* the tag comes when the held rows are out */
    pgwire_command_complete(out, f->tag);
}

void pgsess_format_free(PgFormat *f)
{
    for (idx_t c = 0; c < f->ncols; c++)
        pgwire_column_free(&f->cols[c]);
    free(f->cols);
    f->cols = NULL;
}

bool pgsess_send_errors(PgSession *ps, Session *s, Buf *out)
{
    if (ps->errors.len == 0)
        return false;
    const char *p = ps->errors.data, *end = p + ps->errors.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        pgwire_error_line(out, "ERROR", p, n);
        p += n + (nl ? 1 : 0);
        break; /* one request answers one error */
    }
    buf_reset(&ps->errors, 4096);
    if (s->in_tx)
        ps->failed_tx = true;
    return true;
}

/* Runs a transaction command of the session's table; true on success. */
static bool run_tx(PgSession *ps, Session *s, const SessionEnv *env, const char *text)
{
    const SessionCommand *cmd = session_transaction_command(text, strlen(text));
    RequestWords none = {0};
    Buf answer = BUF_INIT;
    session_command_run(cmd, s, env, &none, &answer);
    bool ok = answer.len >= 7 && memcmp(answer.data, "success", 7) == 0;
    if (!ok)
        buf_append(&ps->errors, answer.data, answer.len);
    buf_free(&answer);
    return ok;
}

bool pgsess_run_tx(PgSession *ps, Session *s, const SessionEnv *env, const char *text)
{
    bool ok = run_tx(ps, s, env, text);
    /* Once no transaction is open none is failed: COPY FROM's own transaction, rolled back
     * after its error was sent (which marked it failed), leaves the session usable. */
    if (!s->in_tx)
        ps->failed_tx = false;
    return ok;
}

static RunResult refuse(PgSession *ps, Session *s, Buf *out, const char *sqlstate, const char *msg)
{
    pgsess_refuse(ps, s, out, sqlstate, msg);
    return RUN_ERROR;
}

/* An administration statement, through the command table (pgwire_admin.h). */
static RunResult run_admin(PgSession *ps, Session *s, const SessionEnv *env, const char *sql,
                           Buf *out)
{
    char tag[64], state[6], why[256];
    Buf line = BUF_INIT;
    RunResult r = RUN_OK;
    switch (pgadm_run(s, env, sql, strlen(sql), &line, tag, sizeof(tag), state, why, sizeof(why))) {
    case PGADM_OK:
        pgwire_command_complete(out, tag);
        break;
    case PGADM_LINE:
        buf_append(&ps->errors, line.data, line.len);
        pgsess_send_errors(ps, s, out);
        r = RUN_ERROR;
        break;
    case PGADM_REFUSED:
        r = refuse(ps, s, out, state, why);
        break;
    }
    buf_free(&line);
    return r;
}

RunResult pgsess_run_statement(PgSession *ps, Session *s, const SessionEnv *env, StmtKind kind,
                               const char *sql, const TypedRequest *params, PgFormat *f,
                               QueryIo *io)
{
    Buf *out = io->out;
    size_t len = strlen(sql);
    pgset_apply_timeout(&ps->settings, s);
    if (ps->failed_tx && kind != KIND_ROLLBACK && kind != KIND_COMMIT)
        return refuse(ps, s, out, "25P02",
                      "current transaction is aborted, commands ignored until end of "
                      "transaction block");
    switch (kind) {
    case KIND_EMPTY:
        pgwire_empty(out, 'I');
        return RUN_OK;
    case KIND_BEGIN:
        if (s->in_tx) {
            /* PostgreSQL warns and goes on; so do we. Inside the extended protocol's
             * implicit transaction, BEGIN makes it the block, without a warning. */
            if (!ps->implicit_tx)
                warn(ps, out, "25001", "there is already a transaction in progress");
            ps->implicit_tx = false;
            pgwire_command_complete(out, "BEGIN");
            return RUN_OK;
        }
        if (!run_tx(ps, s, env, "begin")) {
            pgsess_send_errors(ps, s, out);
            return RUN_ERROR;
        }
        pgwire_command_complete(out, "BEGIN");
        return RUN_OK;
    case KIND_COMMIT:
    case KIND_ROLLBACK: {
        if (!s->in_tx) {
            /* PostgreSQL: a warning, and the tag. */
            warn(ps, out, "25P01", "there is no transaction in progress");
            pgwire_command_complete(out, kind == KIND_COMMIT ? "COMMIT" : "ROLLBACK");
            return RUN_OK;
        }
        /* The extended protocol's implicit transaction is no block either: PostgreSQL
         * warns, then ends it as asked. */
        if (ps->implicit_tx)
            warn(ps, out, "25P01", "there is no transaction in progress");
        /* A failed block is rolled back whatever the client says, as PostgreSQL does. */
        bool rollback = kind == KIND_ROLLBACK || ps->failed_tx;
        ps->failed_tx = false;
        ps->implicit_tx = false;
        if (!run_tx(ps, s, env, rollback ? "rollback" : "commit")) {
            pgsess_send_errors(ps, s, out);
            ps->failed_tx = false; /* the transaction is over either way */
            return RUN_ERROR;
        }
        pgwire_command_complete(out, rollback ? "ROLLBACK" : "COMMIT");
        return RUN_OK;
    }
    case KIND_SET:
        return pgset_set(&ps->settings, sql, len, out) ? RUN_OK : RUN_ERROR;
    case KIND_RESET:
        pgset_reset(&ps->settings, sql, len, out);
        return RUN_OK;
    case KIND_SET_NOOP:
        pgwire_command_complete(out, "SET");
        return RUN_OK;
    case KIND_SHOW:
        return pgset_show(&ps->settings, sql, len, f->describe, out) ? RUN_OK : RUN_ERROR;
    case KIND_UNSUPPORTED:
        return refuse(ps, s, out, "0A000", "savepoints and two-phase commit are not supported");
    case KIND_COPY:
        return pgcopyio_run(&ps->copyin, ps, s, env, sql, f, io);
    case KIND_ADMIN:
        return run_admin(ps, s, env, sql, out);
    case KIND_DEALLOCATE:
        return run_deallocate(ps, s, sql, out);
    case KIND_DISCARD:
        return run_discard(ps, s, sql, out);
    case KIND_SETTING_FN:
        if (!pgset_call(&ps->settings, sql, f->describe, out)) {
            pgsess_fail_block(ps, s);
            return RUN_ERROR;
        }
        return RUN_OK;
    case KIND_SETTING_FN_ELSEWHERE:
        return refuse(ps, s, out, "0A000",
                      "current_setting() and set_config() are answered by the front end only as "
                      "a whole statement: SELECT current_setting('name') or SELECT "
                      "set_config('name', 'value', false)");
    case KIND_SQL:
        break;
    }
    char why[256];
    if (pgddl_refusal(sql, len, why, sizeof(why)) != 0)
        return refuse(ps, s, out, "0A000", why);
    if (pgcat_is_catalog_query(sql, len)) {
        /* Never DuckDB's pg_catalog (pgwire_catalog.h); answers are text. */
        for (int i = 0; i < f->nformats; i++)
            if (f->formats[i] != 0)
                return refuse(ps, s, out, "0A000",
                              "PostgreSQL catalog queries are answered in text format only");
        if (pgcat_answer(s, env, sql, params, f->describe ? PGCAT_WHOLE : PGCAT_ROWS, out))
            return RUN_OK;
        if (s->in_tx)
            ps->failed_tx = true;
        return RUN_ERROR;
    }
    QueryFormat qf = {pgsess_format_columns, pgsess_format_rows, format_complete, f, NULL, 0};
    /* Result cache (docs/cache.md): an answer is kept under its encoding, RowDescription
     * or not and Bind's format codes; a row-limited Execute's answer is split, never kept. */
    Buf form = BUF_INIT;
    f->float_digits_set = true;
    f->extra_float_digits = pgset_extra_float_digits(&ps->settings);
    if (f->max_rows == 0) {
        /* Rounded floats are another encoding: a prefix other than P keeps them apart. */
        if (f->extra_float_digits <= 0)
            buf_printf(&form, "R%d;", f->extra_float_digits);
        buf_append_str(&form, f->describe ? "PD" : "P-");
        if (f->nformats > 0)
            buf_append(&form, f->formats, (size_t)f->nformats * sizeof(int16_t));
        qf.cache_form = form.data;
        qf.cache_form_len = form.len;
    }
    SessionAction action = SESSION_CONTINUE;
    f->sql = sql;
    Buf *saved = io->errors;
    io->errors = &ps->errors;
    session_run_sql(s, env, sql, params, &qf, io, &action);
    io->errors = saved;
    buf_free(&form);
    if (action == SESSION_CLOSE)
        return RUN_GONE;
    if (pgsess_send_errors(ps, s, out))
        return RUN_ERROR;
    if (f->held_overflow)
        return refuse(ps, s, out, "54000",
                      "the rows held back for a row-limited portal, with the connection's "
                      "prepared statements and portals, passed 64 MiB");
    return RUN_OK;
}

/* ---- the extended protocol's implicit transaction ---- */

bool pgsess_implicit_begin(PgSession *ps, Session *s, const SessionEnv *env)
{
    if (s->in_tx)
        return true;
    if (!run_tx(ps, s, env, "begin"))
        return false;
    ps->implicit_tx = true;
    return true;
}

void pgsess_implicit_end(PgSession *ps, Session *s, const SessionEnv *env, Buf *out)
{
    if (!ps->implicit_tx)
        return;
    ps->implicit_tx = false;
    if (!s->in_tx)
        return;
    if (ps->failed_tx) {
        /* The error was answered already; what ran before it is undone. */
        if (!run_tx(ps, s, env, "rollback"))
            buf_reset(&ps->errors, 4096);
    } else if (!run_tx(ps, s, env, "commit")) {
        pgsess_send_errors(ps, s, out);
    }
    ps->failed_tx = false;
}

/* ---- the simple query protocol ---- */

/* Statement boundaries of a simple query: [start, end) per statement. */
typedef struct Span {
    size_t start, end;
} Span;
/* Splits `sql` at the semicolons outside strings and comments. */
static size_t split_statements(const char *sql, size_t len, Span **out)
{
    SqlLexer lx;
    SqlToken t;
    size_t n = 0, cap = 0;
    Span *spans = NULL;
    size_t start = 0;
    bool any = false;
    sqllex_init(&lx, sql, len, 0);
    for (;;) {
        int r = sqllex_next(&lx, &t);
        bool semi = r > 0 && t.kind == SQLLEX_SEMI;
        if (r > 0 && !semi) {
            if (!any)
                start = t.offset;
            any = true;
            continue;
        }
        size_t end = semi ? t.offset : len;
        if (r < 0) /* unterminated: DuckDB reports it */
            end = len;
        if (any) {
            if (n == cap) {
                cap = cap ? 2 * cap : 4;
                spans = xrealloc(spans, cap * sizeof(*spans));
            }
            spans[n++] = (Span){start, end};
        }
        any = false;
        if (!semi)
            break;
    }
    *out = spans;
    return n;
}

static bool simple_query(PgSession *ps, Session *s, const SessionEnv *env, const char *sql,
                         size_t len, QueryIo *io)
{
    Span *spans = NULL;
    size_t n = split_statements(sql, len, &spans);
    bool alive = true;
    if (n == 0) {
        pgwire_empty(io->out, 'I');
        goto out;
    }
    /* Several statements outside a block run in one implicit transaction, as in
     * PostgreSQL, unless they manage transactions themselves. */
    bool implicit = n > 1 && !s->in_tx;
    char *text = NULL;
    for (size_t i = 0; i < n && implicit; i++) {
        StmtKind k = pgsess_classify(sql + spans[i].start, spans[i].end - spans[i].start);
        if (k == KIND_BEGIN || k == KIND_COMMIT || k == KIND_ROLLBACK)
            implicit = false;
    }
    if (implicit && !run_tx(ps, s, env, "begin")) {
        pgsess_send_errors(ps, s, io->out);
        goto out;
    }
    bool failed = false;
    /* Stop at the first error, as PostgreSQL does. */
    for (size_t i = 0; i < n && alive && !failed; i++) {
        size_t sl = spans[i].end - spans[i].start;
        text = pgrw_client_text(sql + spans[i].start, sl);
        sl = strlen(text);
        PgFormat f = {.describe = true, .copy_not_alone = n > 1};
        RunResult r =
            pgsess_run_statement(ps, s, env, pgsess_classify(text, sl), text, NULL, &f, io);
        pgsess_format_free(&f);
        free(text);
        text = NULL;
        alive = r != RUN_GONE;
        failed = r == RUN_ERROR;
    }
    if (implicit && alive) {
        if (failed) {
            ps->failed_tx = false;
            if (!run_tx(ps, s, env, "rollback"))
                buf_reset(&ps->errors, 4096);
        } else if (!run_tx(ps, s, env, "commit")) {
            pgsess_send_errors(ps, s, io->out);
        }
        ps->failed_tx = false;
    }
out:
    free(spans);
    return alive;
}

/* ---- startup and authentication ---- */

static PgAction startup_packet(PgSession *ps, Session *s, const SessionEnv *env,
                               const PgTransport *tr, const PgMsg *m, Buf *out)
{
    PgIn in = pgwire_in(m);
    uint32_t code = (uint32_t)pgwire_get_i32(&in);
    if (code == PGWIRE_SSL_REQUEST && m->len == 4) {
        if (tr->tls_offered && !tr->tls_active) {
            buf_putc(out, 'S');
            return PGWIRE_START_TLS;
        }
        buf_putc(out, 'N');
        return PGWIRE_CONTINUE;
    }
    if (code == PGWIRE_GSSENC_REQUEST && m->len == 4) {
        buf_putc(out, 'N');
        return PGWIRE_CONTINUE;
    }
    if (code == PGWIRE_CANCEL_REQUEST && m->len == 12) {
        uint32_t pid = (uint32_t)pgwire_get_i32(&in);
        uint32_t secret = (uint32_t)pgwire_get_i32(&in);
        /* No answer whatever happens, as PostgreSQL; a wrong key counts as a
         * failed login of the address, and a blocked address is not checked. */
        Buf ignored = BUF_INIT;
        if (session_login_throttled(s, "", &ignored) == 0 &&
            cancel_request_pg(pid, secret) != CANCEL_MATCHED)
            session_login_failed(s, "");
        buf_free(&ignored);
        ps->state = PS_CLOSED;
        return PGWIRE_CLOSE;
    }
    if (code >> 16 != 3)
        return fatal(ps, out, "0A000", "unsupported frontend protocol: this server speaks 3.0");
    if (tr->tls_required && !tr->tls_active)
        return fatal(ps, out, "28000", "this server accepts only encrypted connections (TLS)");
    while (in.left > 0 && !in.bad) {
        const char *key = pgwire_get_str(&in);
        if (key[0] == '\0')
            break;
        const char *value = pgwire_get_str(&in);
        if ((strcmp(key, "user") == 0 || strcmp(key, "database") == 0) &&
            strlen(value) > CATALOG_NAME_MAX) {
            /* Never cut: a prefix could name another user or database. */
            return fatal(ps, out, key[0] == 'u' ? "28000" : "3D000",
                         key[0] == 'u' ? "the user name is too long"
                                       : "the database name is too long");
        }
        if (strcmp(key, "user") == 0) {
            snprintf(ps->user, sizeof(ps->user), "%s", value);
        } else if (strcmp(key, "database") == 0) {
            snprintf(ps->database, sizeof(ps->database), "%s", value);
        } else if (strcmp(key, "replication") == 0 && strcmp(value, "false") != 0) {
            return fatal(ps, out, "0A000", "replication connections are not supported");
        } else if (strcmp(key, "client_encoding") == 0 && strcasecmp(value, "UTF8") != 0 &&
                   strcasecmp(value, "UTF-8") != 0 && strcasecmp(value, "unicode") != 0) {
            return fatal(ps, out, "22023", "only client_encoding UTF8 is supported");
        } else {
            /* Settings a driver sends at startup (application_name, DateStyle,
             * extra_float_digits, ...); unknown ones are ignored. */
            pgset_startup(&ps->settings, key, value);
        }
    }
    if (in.bad)
        return fatal(ps, out, "08P01", "malformed startup packet");
    if (ps->user[0] == '\0')
        return fatal(ps, out, "28000", "no PostgreSQL user name specified in startup packet");
    if (ps->database[0] == '\0')
        snprintf(ps->database, sizeof(ps->database), "%s", ps->user);
    (void)env;
    static const char mech[] = "SCRAM-SHA-256\0";
    pgwire_auth(out, 10, mech, sizeof(mech));
    ps->state = PS_SASL;
    return PGWIRE_CONTINUE;
}

static PgAction auth_failed(PgSession *ps, Session *s, Buf *out)
{
    session_login_failed(s, ps->user);
    char msg[128 + CATALOG_NAME_MAX];
    snprintf(msg, sizeof(msg), "password authentication failed for user \"%s\"", ps->user);
    return fatal(ps, out, "28P01", msg);
}

static PgAction sasl_initial(PgSession *ps, Session *s, const SessionEnv *env, const PgMsg *m,
                             Buf *out)
{
    if (m->type != 'p')
        return fatal(ps, out, "08P01", "expected a SASLInitialResponse message");
    PgIn in = pgwire_in(m);
    const char *mech = pgwire_get_str(&in);
    int32_t len = pgwire_get_i32(&in);
    const char *data = len >= 0 ? pgwire_get_bytes(&in, (size_t)len) : NULL;
    if (in.bad || !data)
        return fatal(ps, out, "08P01", "malformed SASLInitialResponse message");
    if (strcmp(mech, "SCRAM-SHA-256") != 0)
        return fatal(ps, out, "28000", "only SCRAM-SHA-256 authentication is supported");
    buf_reset(&ps->errors, 4096);
    if (session_login_throttled(s, ps->user, &ps->errors) != 0) {
        pgwire_session_fatal_line(out, ps->errors.data, ps->errors.len);
        buf_reset(&ps->errors, 4096);
        ps->state = PS_CLOSED;
        return PGWIRE_CLOSE;
    }
    char verifier[SCRAM_VERIFIER_MAX] = "";
    CatalogStatus st = catalog_user_verifier(env->catalog, ps->user, &ps->pending, verifier);
    if (st == CATALOG_ERROR)
        return fatal(ps, out, "XX000", "Internal Error");
    ps->user_known = st == CATALOG_OK;
    char reply[512];
    if (scram_server_first(&ps->scram, ps->user_known ? verifier : NULL, ps->user, data,
                           (size_t)len, reply, sizeof(reply)) != 0)
        return fatal(ps, out, "08P01", "malformed SCRAM message");
    pgwire_auth(out, 11, reply, strlen(reply));
    ps->state = PS_SASL_FINAL;
    return PGWIRE_CONTINUE;
}

/* After a good password: the login slot, the database, and the first messages. */
static PgAction sasl_final(PgSession *ps, Session *s, const SessionEnv *env, const PgMsg *m,
                           Buf *out)
{
    if (m->type != 'p')
        return fatal(ps, out, "08P01", "expected a SASLResponse message");
    char reply[256];
    ScramResult r = scram_server_final(&ps->scram, m->body, m->len, reply, sizeof(reply));
    scram_exchange_clear(&ps->scram);
    if (r == SCRAM_MALFORMED)
        return fatal(ps, out, "08P01", "malformed SCRAM message");
    if (r != SCRAM_OK || !ps->user_known)
        return auth_failed(ps, s, out);
    buf_reset(&ps->errors, 4096);
    if (session_login_finish(s, env, &ps->pending, &ps->errors) != 0) {
        pgwire_session_fatal_line(out, ps->errors.data, ps->errors.len);
        buf_reset(&ps->errors, 4096);
        ps->state = PS_CLOSED;
        return PGWIRE_CLOSE;
    }
    pgwire_auth(out, 12, reply, strlen(reply));
    pgwire_auth(out, 0, NULL, 0);
    /* The startup packet's database, through `connect` and its access checks. */
    RequestWords w = {.n = 2, .word = {"connect", ps->database}};
    const SessionCommand *cmd = session_command_find(&w);
    Buf answer = BUF_INIT;
    session_command_run(cmd, s, env, &w, &answer);
    bool ok = answer.len >= 7 && memcmp(answer.data, "success", 7) == 0;
    if (!ok) {
        pgwire_session_fatal_line(out, answer.data, answer.len);
        buf_free(&answer);
        ps->state = PS_CLOSED;
        return PGWIRE_CLOSE;
    }
    buf_free(&answer);
    pgset_login(&ps->settings, s->user.name, s->user.super, out);
    uint32_t pid = 0, secret = 0;
    if (s->cancel.id)
        cancel_key_pg(&s->cancel, &pid, &secret);
    size_t k = pgwire_begin(out, 'K');
    pgwire_put_i32(out, (int32_t)pid);
    pgwire_put_i32(out, (int32_t)secret);
    pgwire_end(out, k);
    pgwire_ready(out, 'I');
    ps->state = PS_READY;
    return PGWIRE_CONTINUE;
}

/* ---- the message loop ---- */

static PgAction ready_message(PgSession *ps, Session *s, const SessionEnv *env, const PgMsg *m,
                              QueryIo *io)
{
    Buf *out = io->out;
    if (pgext_skipping(ps->ext) && m->type != 'S' && m->type != 'X')
        return PGWIRE_CONTINUE;
    if (pgcopyio_active(&ps->copyin)) {
        if (m->type == 'd' || m->type == 'c' || m->type == 'f')
            return pgcopyio_message(&ps->copyin, ps, s, env, m, io) ? PGWIRE_CONTINUE
                                                                    : PGWIRE_CLOSE;
        if (m->type == 'H' || m->type == 'S')
            return PGWIRE_CONTINUE; /* ignored during COPY, as PostgreSQL does */
        pgcopyio_fail(&ps->copyin, ps, s, env, io, "08P01",
                      "unexpected message type during COPY from stdin");
    }
    switch (m->type) {
    case 'Q': {
        PgIn in = pgwire_in(m);
        const char *sql = pgwire_get_str(&in);
        if (in.bad)
            return fatal(ps, out, "08P01", "malformed Query message");
        /* A Query ends the extended protocol's implicit transaction, as a Sync would. */
        pgsess_implicit_end(ps, s, env, out);
        if (!simple_query(ps, s, env, sql, strlen(sql), io))
            return PGWIRE_CLOSE;
        if (!pgcopyio_active(&ps->copyin)) /* else ReadyForQuery comes at the end of the COPY */
            pgwire_ready(out, pgsess_ready_status(ps, s));
        return PGWIRE_CONTINUE;
    }
    case 'P':
    case 'B':
    case 'D':
    case 'E':
    case 'C':
        return pgext_message(ps->ext, ps, s, env, m, io) ? PGWIRE_CONTINUE : PGWIRE_CLOSE;
    case 'S':
        pgext_sync(ps->ext, ps, s, env, io);
        return PGWIRE_CONTINUE;
    case 'H':
        return PGWIRE_CONTINUE; /* the answers go out at the end of the turn anyway */
    case 'X':
        ps->state = PS_CLOSED;
        return PGWIRE_CLOSE;
    case 'd':
    case 'c':
    case 'f':
        return PGWIRE_CONTINUE; /* COPY data outside COPY: ignored, as PostgreSQL */
    default: {
        char msg[64];
        snprintf(msg, sizeof(msg), "invalid frontend message type %d", (unsigned char)m->type);
        return fatal(ps, out, "08P01", msg);
    }
    }
}

PgAction pgwire_session_run(PgSession *ps, Session *s, const SessionEnv *env, const PgTransport *tr,
                            QueryIo *io, int budget, bool *out_more)
{
    *out_more = false;
    for (int i = 0; i < budget; i++) {
        if (ps->state == PS_CLOSED)
            return PGWIRE_CLOSE;
        PgMsg m;
        PgStatus st = pgwire_next(&ps->reader, ps->state == PS_STARTUP,
                                  pgwire_session_limit(ps, env->cfg), &m);
        if (st == PGWIRE_NONE)
            return PGWIRE_CONTINUE;
        if (st == PGWIRE_BAD)
            return fatal(ps, io->out, "08P01", "invalid message length");
        if (st == PGWIRE_TOO_LONG) {
            char msg[128];
            snprintf(msg, sizeof(msg), "message too long: the limit is %zu bytes now",
                     pgwire_session_limit(ps, env->cfg));
            return fatal(ps, io->out, "54000", msg);
        }
        PgAction a = PGWIRE_CONTINUE;
        switch (ps->state) {
        case PS_STARTUP:
            a = startup_packet(ps, s, env, tr, &m, io->out);
            break;
        case PS_SASL:
            a = sasl_initial(ps, s, env, &m, io->out);
            break;
        case PS_SASL_FINAL:
            a = sasl_final(ps, s, env, &m, io->out);
            break;
        case PS_READY:
            a = ready_message(ps, s, env, &m, io);
            break;
        case PS_CLOSED:
            return PGWIRE_CLOSE;
        }
        if (a != PGWIRE_CONTINUE)
            return a;
    }
    PgMsg peek;
    PgReader copy = ps->reader; /* a look only: nothing is consumed */
    *out_more = pgwire_next(&copy, ps->state == PS_STARTUP, pgwire_session_limit(ps, env->cfg),
                            &peek) != PGWIRE_NONE;
    return PGWIRE_CONTINUE;
}
