/*
 * sqlrun: one SQL request of a connected session. See sqlrun.h.
 *
 * A request makes at most two attempts: its shape (auto-parameterised,
 * when it has one), then, when that attempt gives way (QUERY_FALLBACK,
 * nothing answered), its literal text. Each attempt runs the access check
 * on the statement it runs. The result cache is consulted once, keyed by
 * the literal text, after the first check passed.
 */
#include "sqlrun.h"

#include <string.h>

#include "access.h"
#include "authz.h"
#include "autoparam.h"
#include "cdcguard.h"
#include "pool.h"
#include "reply.h"
#include "session_cache.h"
#include "sessions.h"
#include "sqllex.h"
#include "walarchive.h"

static uint64_t stat_shaped, stat_ran, stat_fallbacks;

static void count(uint64_t *counter)
{
    __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

void sqlrun_stats(SqlrunStats *out)
{
    out->shaped = __atomic_load_n(&stat_shaped, __ATOMIC_RELAXED);
    out->ran = __atomic_load_n(&stat_ran, __ATOMIC_RELAXED);
    out->fallbacks = __atomic_load_n(&stat_fallbacks, __ATOMIC_RELAXED);
}

/* What one attempt runs: the literal text, or its shape with the literals as parameters. */
typedef struct Attempt {
    const char *sql;
    const TypedRequest *params;
    StmtEntry *cached; /* the statement cache's entry for `sql`, or NULL */
    bool autoparam;
} Attempt;

/*
 * The access check of an attempt (access_check_request), its answer in
 * `out` when it fails. Returns 0 with the check's plan and statement in
 * *plan and *checked, or -1.
 */
static int check(Session *s, const SessionEnv *env, const Attempt *at, AuthzPlan **plan,
                 duckdb_prepared_statement *checked, Buf *out)
{
    *plan = NULL;
    *checked = NULL;
    if (access_check_request(s, env, at->sql, at->cached, plan, checked, out) == 0)
        return 0;
    authz_plan_free(*plan);
    *plan = NULL;
    query_prepared_free(checked);
    return -1;
}

/* The contract is in sqlrun.h. */
void sqlrun_keep_checked(Session *s, const char *sql, StmtEntry *entry, AuthzPlan **plan,
                         duckdb_prepared_statement *checked)
{
    if (!entry && query_prepared_cacheable(*checked)) {
        entry = stmtcache_add(s->stmts, sql, strlen(sql), *checked);
        if (entry)
            *checked = NULL;
    }
    if (entry && *plan && !entry->authz) {
        entry->authz = *plan;
        *plan = NULL;
    }
    authz_plan_free(*plan);
    *plan = NULL;
    query_prepared_free(checked);
}

/* Keeps what the check of `at` made with the statement cache's entry (or frees it). */
static void keep_plan(Session *s, const Attempt *at, StmtEntry *entry, AuthzPlan **plan,
                      duckdb_prepared_statement *checked)
{
    sqlrun_keep_checked(s, at->sql, entry, plan, checked);
}

void sqlrun_request(Session *s, const SessionEnv *env, const char *text, const TypedRequest *typed,
                    const QueryFormat *fmt, QueryIo *io, SessionAction *action)
{
    /* Error answers go where the front end wants them (QueryIo.errors). */
    Buf *eout = io->errors ? io->errors : io->out;
    if (!session_statement_admit(s, env, eout))
        return;
    size_t len = strlen(text);
    /* Statements prepared before DDL or SET in any session are dropped. */
    stmtcache_sync(s->stmts, pool_db_schema_gen(s->db));
    StmtEntry *cached = stmtcache_find(s->stmts, text, len);
    /* DuckDB 1.5.6's parser is quadratic on long runs of operator characters
     * (seconds for a few KB, minutes for 20 KB, during which nothing
     * interrupts it), for every user: such texts never reach it. A cached
     * text was checked when it was first prepared; a shape has the text's
     * operators. */
    const char *too_complex = cached ? NULL : sqllex_check_bounds(text, len);
    if (too_complex) {
        reply_bad_request(eout, "%s", too_complex);
        session_statement_release(s, env);
        return;
    }
    /* The tables a running CDC stream follows are read-only to every user, the super user
     * too (cdcguard.h). */
    if (cdcguard_check(s->db_id, text, eout) != 0) {
        session_statement_release(s, env);
        return;
    }
    Attempt literal = {
        .sql = text, .params = typed && typed->has_params ? typed : NULL, .cached = cached};
    AutoparamShape shape = {0};
    Attempt shaped = {0};
    /* Inside a transaction DuckDB aborts it at an error, so a shape could not give way. A
     * typed request without parameters may run as its shape: the taken literals name no
     * column, so its column header is the text's. */
    if (!cached && !literal.params && !s->in_tx && autoparam_shape(text, len, &shape)) {
        count(&stat_shaped);
        shaped.sql = shape.request.sql;
        shaped.params = &shape.request;
        shaped.cached = stmtcache_find(s->stmts, shape.text.data, shape.text.len);
        shaped.autoparam = true;
    }
    AuthzPlan *plan = NULL;
    /* The statement the check prepared, run by query_run (which owns it): prepared once. */
    duckdb_prepared_statement checked = NULL;
    /* Held from the check until the grants follow what the request changed. */
    AccessGuard guard = {0};
    access_guard_request(s, text, &guard);
    const Attempt *at = &literal;
    if (shaped.sql) {
        /* A shape the user may not run gives way to the text, whose check answers. */
        Buf ignored = BUF_INIT;
        if (check(s, env, &shaped, &plan, &checked, &ignored) == 0)
            at = &shaped;
        buf_free(&ignored);
    }
    /* Denied requests run nothing, so they leave a transaction as it was. */
    if (at == &literal && check(s, env, at, &plan, &checked, eout) != 0)
        goto out;
    /* The result cache sits here: after the access check, before execution
     * (docs/cache.md), keyed by the literal text. A request that may write
     * is bracketed as a write. */
    QueryRequest req = {.sql = text,
                        .in_tx = s->in_tx,
                        .typed = typed != NULL,
                        .params = literal.params,
                        .cache = s->stmts,
                        .timeout_ms = session_statement_timeout_ms(s),
                        .session_id = s->cancel.id,
                        .statement_memory_bytes = s->limits.value[USERLIMIT_STATEMENT_MEMORY],
                        .engine = pool_db_handle(s->db),
                        .format = fmt,
                        .archive = walarchive_db(s->db_id)};
    SessionCacheUse rc = {BUF_INIT, BUF_INIT, 0, false, false};
    if (session_cache_before(s, text, typed && typed->no_cache, &req, io, &rc, action)) {
        /* Answered without running: the statement and plan the check made are kept as a run
         * would keep them, so the next request of this text is rechecked from the plan, not
         * classified by DuckDB again. Only a check's statement (a miss) is new; a hit had none. */
        keep_plan(s, at, at->cached, &plan, &checked);
        goto out;
    }
    sessions_statement_begin(&s->reg, text, len);
    QueryOutcome outcome;
    QueryStatus st;
    for (;;) {
        memset(&outcome, 0, sizeof(outcome));
        req.sql = at->sql;
        req.params = at->params;
        req.cached = at->cached;
        req.prepared = checked;
        req.autoparam = at->autoparam;
        checked = NULL; /* query_run's */
        st = query_run(s->con, &req, io, &outcome);
        keep_plan(s, at, outcome.entry, &plan, &checked);
        if (st != QUERY_FALLBACK)
            break;
        /* Nothing was answered: the literal text is checked and runs as if it had no shape. */
        count(&stat_fallbacks);
        at = &literal;
        if (check(s, env, at, &plan, &checked, eout) != 0) {
            st = QUERY_FAILED;
            memset(&outcome, 0, sizeof(outcome));
            break;
        }
    }
    if (at->autoparam)
        count(&stat_ran);
    /* Contained to this database: the pool reopens it (pool.h). Inside the
     * write bracket, so no reader stores between the failure and the reopen. */
    if (outcome.engine_fatal)
        pool_db_check_invalidated(env->pool, s->db);
    session_cache_after(s, &rc, st, &outcome);
    if (outcome.catalog_changed) {
        pool_db_schema_bump(s->db);
        if (s->in_tx)
            s->tx_catalog_changed = true;
    }
    if (st == QUERY_CLIENT_GONE)
        *action = SESSION_CLOSE;
    else if (st == QUERY_FAILED && s->in_tx)
        s->tx_error = true;
    if (outcome.partial)
        s->tx_doomed = true;
    sessions_statement_end(&s->reg, s->in_tx);
    /* Grants follow the tables once the change is committed. Not only DROP
     * and ALTER change which table a name means: CREATE OR REPLACE makes a
     * new table or view under an old name. The sync sees only what is
     * committed, so it runs even when the client is gone. */
    bool changed = outcome.schema_changed || outcome.catalog_changed;
    if (changed && s->in_tx)
        s->prune_pending = true;
    else if (changed)
        access_prune_table_grants(s, env, &guard);
out:
    authz_plan_free(plan);
    query_prepared_free(&checked);
    access_guard_release(&guard);
    autoparam_shape_free(&shape);
    session_statement_release(s, env);
}
