/*
 * pgwire_catsql: catalog queries as SQL over the user's view of the
 * catalog, on a private in-memory DuckDB. See pgwire_catsql.h.
 */
#include "pgwire_catsql.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgwire.h"
#include "pgwire_catmodel.h"
#include "pgwire_catrewrite.h"
#include "pgwire_catview.h"
#include "pgwire_session_int.h"
#include "sessions.h"
#include "query.h"
#include "reply.h"
#include "userlimits.h"
#include "watchdog.h"

/* ---- the instance ---- */

static pthread_once_t instance_once = PTHREAD_ONCE_INIT;
static duckdb_database instance;
static bool instance_ok;

static void open_instance(void)
{
    static const struct {
        const char *name, *value;
    } settings[] = {
        {"threads", "1"},
        {"enable_external_access", "false"},
        {"autoinstall_known_extensions", "false"},
        {"autoload_known_extensions", "false"},
        {"allow_community_extensions", "false"},
        {"memory_limit", "256MB"},
        /* Last, so nothing can be changed after it. */
        {"lock_configuration", "true"},
    };
    duckdb_config config = NULL;
    char *err = NULL;
    if (duckdb_create_config(&config) != DuckDBSuccess)
        goto out;
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (duckdb_set_config(config, settings[i].name, settings[i].value) != DuckDBSuccess)
            goto out;
    if (duckdb_open_ext(NULL, &instance, config, &err) != DuckDBSuccess) {
        log_error("pgwire: cannot open the catalog instance: %s", err ? err : "unknown error");
        goto out;
    }
    instance_ok = true;
out:
    duckdb_free(err);
    duckdb_destroy_config(&config);
}

/* ---- the pool of catalog connections ---- */

/*
 * Connections that hold the relations and macros already (creating them
 * costs about 25 ms, most of a query's time), with only the rows that are
 * the same for everyone. A query takes one, fills the user's view, runs,
 * and empties the per-query relations before giving it back; a connection
 * that could not be emptied, or whose query was interrupted, is closed
 * instead.
 */
#define CATSQL_POOL_MAX 8
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static duckdb_connection pool_idle[CATSQL_POOL_MAX];
static int pool_n;

/* A connection with the relations and macros; NULL with an ErrorResponse in `out`. */
static duckdb_connection pool_take(Buf *out)
{
    duckdb_connection con = NULL;
    pthread_mutex_lock(&pool_lock);
    if (pool_n > 0)
        con = pool_idle[--pool_n];
    pthread_mutex_unlock(&pool_lock);
    if (con)
        return con;
    if (duckdb_connect(instance, &con) != DuckDBSuccess) {
        catmodel_error(out, "XX000", "cannot answer catalog queries", "no connection");
        return NULL;
    }
    Buf ddl = BUF_INIT;
    duckdb_result res;
    catview_schema_sql(&ddl);
    if (duckdb_query(con, buf_cstr(&ddl), &res) != DuckDBSuccess) {
        const char *e = duckdb_result_error(&res);
        log_error("pgwire: the catalog instance refused its schema: %s", e ? e : "?");
        catmodel_error(out, "XX000", "cannot build the catalog", e);
        duckdb_disconnect(&con);
    }
    duckdb_destroy_result(&res);
    buf_free(&ddl);
    if (con) {
        if (!catview_fill_static(con)) {
            catmodel_error(out, "XX000", "cannot build the catalog", "see the server log");
            duckdb_disconnect(&con);
        }
    }
    return con;
}

/* Gives `con` back emptied of the user's view, or closes it (`reuse` false, or a failure). */
static void pool_give(duckdb_connection con, bool reuse)
{
    if (reuse) {
        Buf sql = BUF_INIT;
        duckdb_result res;
        catview_clear_sql(&sql);
        reuse = duckdb_query(con, buf_cstr(&sql), &res) == DuckDBSuccess;
        duckdb_destroy_result(&res);
        buf_free(&sql);
    }
    if (reuse) {
        pthread_mutex_lock(&pool_lock);
        if (pool_n < CATSQL_POOL_MAX)
            pool_idle[pool_n++] = con, con = NULL;
        pthread_mutex_unlock(&pool_lock);
    }
    if (con)
        duckdb_disconnect(&con);
}

/*
 * The answer's RowDescription and DataRows as the session's own statements
 * get them (pgsess_format_columns, pgsess_format_rows: text format, the same
 * encoders); false with an ErrorResponse alone past CATSQL_MAX_ANSWER or for a
 * type the front end does not send.
 */
static bool put_rows(duckdb_result *res, PgFormat *f, size_t start, Buf *out)
{
    char err[256];
    if (pgsess_format_columns(f, res, out, err, sizeof(err)) != 0) {
        Buf line = BUF_INIT;
        reply_engine_error(&line, err);
        pgwire_error_line(out, "ERROR", line.data, line.len);
        buf_free(&line);
        return false;
    }
    duckdb_data_chunk chunk;
    while ((chunk = duckdb_fetch_chunk(*res)) != NULL) {
        pgsess_format_rows(f, chunk, out);
        duckdb_destroy_data_chunk(&chunk);
        if (out->len - start > CATSQL_MAX_ANSWER) {
            out->len = start;
            pgwire_errorf(out, "54000",
                          "the answer of this catalog query is larger than %u MB; narrow it "
                          "with WHERE or LIMIT",
                          CATSQL_MAX_ANSWER >> 20);
            return false;
        }
    }
    return true;
}

/* Answers a failure of the user's statement: the watchdog's reason, or DuckDB's message. */
static void answer_error(WatchdogEntry *wd, int64_t timeout_ms, duckdb_result *res, Buf *out)
{
    duckdb_error_type type = duckdb_result_error_type(res);
    WatchdogReason why = type == DUCKDB_ERROR_INTERRUPT || type == DUCKDB_ERROR_OUT_OF_MEMORY
                             ? watchdog_reason(wd)
                             : WATCHDOG_NONE;
    Buf line = BUF_INIT;
    WatchdogMemoryLimits mem;
    watchdog_memory_limits(&mem);
    if (why == WATCHDOG_TIMEOUT)
        reply_statement_timeout(&line, timeout_ms);
    else if (why == WATCHDOG_CANCELED)
        reply_statement_canceled(&line);
    else if (why == WATCHDOG_STATEMENT_MEMORY)
        reply_statement_memory_limit(&line, wd->statement_bytes);
    else if (why == WATCHDOG_SERVER_MEMORY)
        reply_server_memory_limit(&line, mem.server_bytes);
    else
        reply_engine_error(&line, duckdb_result_error(res) ? duckdb_result_error(res)
                                                           : "the catalog query failed");
    pgwire_error_line(out, "ERROR", line.data, line.len);
    buf_free(&line);
}

bool catsql_answer(Session *s, const SessionEnv *env, const char *sql, const TypedRequest *params,
                   Buf *out)
{
    pthread_once(&instance_once, open_instance);
    if (!instance_ok) {
        catmodel_error(out, "XX000", "cannot answer catalog queries",
                       "the catalog instance could not be opened (see the server log)");
        return false;
    }
    Buf text = BUF_INIT;
    CatView *view = NULL;
    duckdb_connection con = NULL;
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool have_res = false, ok = false;
    WatchdogEntry wd = {0};
    bool watched = false;
    PgFormat f = {.describe = true}; /* text format, every row (no Execute limit) */
    size_t start = out->len;
    /* A catalog query is a statement like any other: held to MaxUserStatements. */
    Buf refused = BUF_INIT;
    if (!session_statement_admit(s, env, &refused)) {
        pgwire_error_line(out, "ERROR", refused.data, refused.len);
        buf_free(&refused);
        return false;
    }
    if (!catrw_text(sql, &text)) {
        catmodel_error(out, "42601", "syntax error", "the statement does not end");
        goto out;
    }
    if (catview_read(s, env, &view, out) != 0 || !(con = pool_take(out)))
        goto out;
    if (!catview_fill(view, con)) {
        /* Half a view would answer wrongly: refused, and the connection is not kept. */
        catmodel_error(out, "XX000", "cannot build the catalog", "see the server log");
        duckdb_disconnect(&con);
        goto out;
    }
    /* One SELECT: nothing the query does may outlive it or change the instance. */
    duckdb_extracted_statements stmts = NULL;
    idx_t nstmts = duckdb_extract_statements(con, buf_cstr(&text), &stmts);
    if (nstmts != 1) {
        const char *e = nstmts == 0 ? duckdb_extract_statements_error(stmts) : NULL;
        if (e)
            pgwire_error_line(out, "ERROR", e, strlen(e));
        else
            pgwire_errorf(out, "0A000", "a catalog query is a single SELECT statement");
        duckdb_destroy_extracted(&stmts);
        goto out;
    }
    duckdb_state st = duckdb_prepare_extracted_statement(con, stmts, 0, &prep);
    duckdb_destroy_extracted(&stmts);
    if (st != DuckDBSuccess) {
        const char *e = duckdb_prepare_error(prep);
        Buf line = BUF_INIT;
        reply_engine_error(&line, e ? e : "the catalog query cannot be prepared");
        pgwire_error_line(out, "ERROR", line.data, line.len);
        buf_free(&line);
        goto out;
    }
    if (duckdb_prepared_statement_type(prep) != DUCKDB_STATEMENT_TYPE_SELECT) {
        pgwire_errorf(out, "0A000", "a catalog query is a single SELECT statement");
        goto out;
    }
    if (params && params->nparams > 0) {
        char err[256];
        if (query_bind_params(prep, params, err, sizeof(err)) != 0) {
            Buf line = BUF_INIT;
            buf_printf(&line, "Error: %s", err);
            pgwire_error_line(out, "ERROR", line.data, line.len);
            buf_free(&line);
            goto out;
        }
    } else {
        /* A Describe of a statement (no Bind yet): NULLs give the columns all the same. */
        for (idx_t i = 1; i <= duckdb_nparams(prep); i++)
            duckdb_bind_null(prep, i);
    }
    int64_t timeout_ms = session_statement_timeout_ms(s);
    /* Shown running in `show sessions` (and the admin page), as any statement. */
    sessions_statement_begin(&s->reg, sql, strlen(sql));
    /* No socket: the client's is the front end's; a statement timeout or cancel ends it. */
    watchdog_watch(&wd, con, -1, timeout_ms, s->cancel.id);
    watchdog_set_statement_memory(&wd, s->limits.value[USERLIMIT_STATEMENT_MEMORY]);
    watched = true;
    if (duckdb_execute_prepared_streaming(prep, &res) != DuckDBSuccess) {
        have_res = true;
        answer_error(&wd, timeout_ms, &res, out);
        goto out;
    }
    have_res = true;
    if (!put_rows(&res, &f, start, out))
        goto out;
    if (duckdb_result_error(&res)) {
        out->len = start;
        answer_error(&wd, timeout_ms, &res, out);
        goto out;
    }
    char tag[48];
    snprintf(tag, sizeof(tag), "SELECT %lld", (long long)f.rows);
    pgwire_command_complete(out, tag);
    ok = true;
out:
    pgsess_format_free(&f);
    if (have_res)
        duckdb_destroy_result(&res);
    /* An interrupted connection is not kept: nothing of that query may linger. */
    bool interrupted = watched && watchdog_unwatch(&wd) != WATCHDOG_NONE;
    if (watched)
        sessions_statement_end(&s->reg, s->in_tx);
    duckdb_destroy_prepare(&prep);
    if (con)
        pool_give(con, !interrupted);
    catview_free(view);
    buf_free(&text);
    session_statement_release(s, env);
    return ok;
}
