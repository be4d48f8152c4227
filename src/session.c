/*
 * session: command dispatch and the per-client state machine. See session.h.
 *
 * A request is a command when its words have a command's shape
 * (docs/protocol.md, "Commands and SQL"); anything else is SQL for the
 * connected database. Each kind of error answer is produced by one reply_*
 * function, so its wording lives in one place.
 *
 * Size (about 1,160 lines, past the house's 900): the login, the database
 * and user commands, the transaction commands and dispatch all change the
 * session's state machine (state, database, open transaction, limits)
 * through the same static helpers (leave_database, who_allows,
 * load_limits). Handlers that only read server-wide state have moved out
 * (opscmd.c, access.c, backup.c, cdclink.c); the next piece to move is the
 * catalog commands (create/drop/update of databases and users, about 250
 * lines), once leave_database has a home both can call.
 */
#include "session.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "access.h"
#include "authz.h"
#include "backup.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "opscmd.h"
#include "cdc.h"
#include "cdclink.h"
#include "reply.h"
#include "scram.h"
#include "rescache.h"
#include "sqllex.h"
#include "sqlrun.h"
#include "walarchive.h"
#include "xalloc.h"

/* Requests longer than this are never commands (they are SQL). */
#define COMMAND_MAX 4096

Session *session_new(void)
{
    Session *s = xcalloc(1, sizeof(*s));
    s->state = SESSION_NEW;
    pthread_mutex_init(&s->con_lock, NULL);
    sessions_entry_init(&s->reg);
    s->connected_at = time(NULL);
    return s;
}

/* ---- helpers ---------------------------------------------------------- */

static bool password_valid(const char *pw)
{
    size_t n = strlen(pw);
    return n >= 1 && n <= CATALOG_PASSWORD_MAX;
}

/* Leaves the connected database: the DuckDB connection is closed (rolling
 * back any open transaction) and the pin released. */
static void leave_database(Session *s, const SessionEnv *env)
{
    if (s->state != SESSION_CONNECTED)
        return;
    pthread_mutex_lock(&s->con_lock);
    duckdb_connection con = s->con;
    s->con = NULL;
    pthread_mutex_unlock(&s->con_lock);
    /* Cached statements belong to the connection and, through it, to the
     * database: they go first, while both are still there. */
    stmtcache_free(s->stmts);
    s->stmts = NULL;
    pool_disconnect(env->pool, &s->db, &con);
    s->database[0] = '\0';
    s->in_tx = false;
    s->tx_error = false;
    s->tx_doomed = false;
    s->prune_pending = false;
    s->tx_catalog_changed = false;
    s->tx_wrote = false;
    s->cache_tainted = false;
    s->db_id = 0;
    s->state = SESSION_AUTHED;
    sessions_set_database(&s->reg, "");
}

/*
 * True when the session's state lets it run what `who` allows; otherwise
 * answers why not (docs/protocol.md, "Commands and SQL") and returns false.
 */
static bool who_allows(const Session *s, SessionWho who, Buf *out)
{
    switch (who) {
    case SESSION_WHO_ANYONE:
        return true;
    case SESSION_WHO_GUEST:
        if (s->state == SESSION_NEW)
            return true;
        reply_bad_request(out, "already logged in as %s", s->user.name);
        return false;
    case SESSION_WHO_USER:
        if (s->state != SESSION_NEW)
            return true;
        reply_unauthorized(out);
        return false;
    case SESSION_WHO_SUPER:
        return access_require_super(s, out);
    case SESSION_WHO_CONNECTED:
        if (s->state == SESSION_CONNECTED)
            return true;
        if (s->state == SESSION_NEW)
            reply_unauthorized(out);
        else
            reply_bad_request(out, "not connected to a database (use: connect DATABASE)");
        return false;
    }
    return false;
}

/* ---- commands --------------------------------------------------------- */

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void apply_limit(void *ctx, const char *name, int64_t value)
{
    UserLimits *l = ctx;
    int id = userlimits_find(name);
    if (id >= 0) {
        l->value[id] = value;
        l->own[id] = true;
    }
}

/* The limits user `user_id` gets at login: the server's defaults and the user's own values. */
static int load_limits(const SessionEnv *env, int64_t user_id, UserLimits *out)
{
    userlimits_defaults(out, env->cfg);
    return catalog_user_limits(env->catalog, user_id, apply_limit, out);
}

/*
 * `login`: the throttle first (a blocked address or user is refused before
 * any password check, so a refusal is cheap and never waits), then the
 * password, then a logged-in slot (docs/security.md, "Login limits").
 * Failures are logged by the throttle, one summary line per minute.
 */
int session_login_throttled(Session *s, const char *name, Buf *out)
{
    const SessionLogin *l = &s->login;
    /* Only a valid name is tracked or logged as sent: anything else could forge log lines. */
    int wait = throttle_login_check(l->throttle, l->addr, catalog_name_valid(name) ? name : NULL,
                                    monotonic_ms());
    if (wait > 0)
        reply_too_many_failed_logins(out, wait);
    return wait > 0 ? -1 : 0;
}

void session_login_failed(Session *s, const char *name)
{
    const SessionLogin *l = &s->login;
    name = catalog_name_valid(name) ? name : NULL;
    if (l->throttle)
        throttle_login_failed(l->throttle, l->addr, name, monotonic_ms());
    else
        log_info("failed login for user \"%s\"", name ? name : "(invalid name)");
}

int session_login_finish(Session *s, const SessionEnv *env, const CatalogUser *user, Buf *out)
{
    const SessionLogin *l = &s->login;
    throttle_login_succeeded(l->throttle, l->addr, user->name);
    UserLimits limits;
    if (load_limits(env, user->id, &limits) != 0) {
        reply_internal(out);
        return -1;
    }
    if (l->admit && !l->admit(l->ctx, user->super)) {
        log_info("login of user %s refused: the free connection slots are reserved for the "
                 "super user",
                 user->name);
        reply_too_many_connections(out);
        s->quit = true;
        return -1;
    }
    s->user = *user;
    s->limits = limits;
    s->state = SESSION_AUTHED;
    metrics_logged_in(1);
    /* Without a key the session works, but cannot be cancelled (`session key` says so). */
    if (cancel_register(&s->cancel) != 0)
        log_error("session of user %s has no cancel key", user->name);
    else
        sessions_register(&s->reg, s->cancel.id, user->name, l->client[0] ? l->client : l->addr,
                          l->tls, s->connected_at, l->terminate, l->ctx);
    return 0;
}

static void cmd_login(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    if (session_login_throttled(s, w->word[1], out) != 0)
        return;
    CatalogUser user = {0};
    CatalogStatus st = catalog_login(env->catalog, w->word[1], w->word[2], &user);
    if (st != CATALOG_OK) {
        if (st == CATALOG_DENIED)
            session_login_failed(s, w->word[1]);
        reply_catalog(out, st, "User", w->word[1]);
        return;
    }
    if (session_login_finish(s, env, &user, out) == 0)
        reply_success(out);
}

/*
 * `session key`: the session's cancel id and key as one JSON line, for a
 * client that wants to cancel its statements later (docs/protocol.md,
 * "Cancel").
 */
static void cmd_session_key(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)env;
    (void)w;
    if (s->cancel.id == 0) {
        reply_internal(out);
        return;
    }
    char key[CANCEL_KEY_HEX + 1];
    cancel_key_text(&s->cancel, key);
    buf_printf(out, "{\"session\":%llu,\"key\":\"%s\"}\n", (unsigned long long)s->cancel.id, key);
}

/*
 * `cancel ID KEY`, by a client that has not logged in: interrupts the
 * statement that session ID runs, if KEY is its key. The answer is
 * `success` whether or not the key matched or anything ran (the answer
 * must not help a guesser), and the connection is closed after it, so
 * each guess costs a connection. A wrong id or key counts as a failed
 * login of the client's address, and while the address is blocked its
 * cancel requests are answered the same without being checked; a
 * matching one does not forget the address's failures (a client could
 * otherwise cancel its own session to wipe its password guesses).
 */
static void cmd_cancel(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)env;
    const SessionLogin *l = &s->login;
    s->quit = true;
    if (throttle_login_check(l->throttle, l->addr, NULL, monotonic_ms()) > 0) {
        reply_success(out);
        return;
    }
    CancelResult r = cancel_request(w->word[1], w->word[2]);
    if (r == CANCEL_MALFORMED) {
        reply_bad_request(out, "usage: cancel ID KEY (ID a session number, KEY %d hex digits)",
                          CANCEL_KEY_HEX);
        return;
    }
    if (r == CANCEL_NO_MATCH)
        throttle_login_failed(l->throttle, l->addr, NULL, monotonic_ms());
    reply_success(out);
}

/* Creates the DuckDB file of a new database; `ctx` is the Pool. */
static int create_file(int64_t id, void *ctx)
{
    char err[512];
    if (pool_create_file(ctx, id, err, sizeof(err)) != 0) {
        log_error("cannot create the file of database %lld: %s", (long long)id, err);
        return -1;
    }
    return 0;
}

static void cmd_create_database(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    const char *name = w->word[2];
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return;
    }
    int64_t id = 0;
    CatalogStatus st = catalog_database_create(env->catalog, name, create_file, env->pool, &id);
    if (st == CATALOG_OK) {
        log_info("database %s created (id %lld)", name, (long long)id);
        /* A failed create may have handed this id out before (catalog.h). */
        rescache_invalidate_db(id);
    }
    reply_catalog(out, st, "Database", name);
}

/*
 * `drop database NAME`: refused while anything holds the database (a
 * session connected to it, the dropping session's own included, or a
 * backup); the pool then refuses every later open of its id, so a connect
 * that looked the name up just before cannot reopen the files being
 * removed. Grants and a PostgreSQL link go with the catalog row.
 */
static void cmd_drop_database(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    const char *name = w->word[2];
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return;
    }
    int64_t id = 0;
    CatalogStatus st = catalog_database_find(env->catalog, name, &id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", name);
        return;
    }
    if (pool_retire(env->pool, id) != 0) {
        reply_database_in_use(out, name);
        return;
    }
    st = catalog_database_delete(env->catalog, id);
    if (st != CATALOG_OK) {
        pool_unretire(env->pool, id);
        reply_catalog(out, st, "Database", name);
        return;
    }
    pool_remove_file(env->pool, id);
    cdc_forget(id); /* a stopped or retrying CDC stream (its slot stays in PostgreSQL) */
    /* `name` answers to no database now: what the server keeps by database
     * forgets it (the result cache is keyed by id, which a later create
     * may reuse). */
    rescache_invalidate_db(id);
    log_info("database %s dropped (id %lld)", name, (long long)id);
    reply_success(out);
}

static void cmd_create_user(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    const char *name = w->word[2];
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "user", name);
        return;
    }
    if (!password_valid(w->word[3])) {
        reply_bad_request(out, "passwords are 1 to %d bytes", CATALOG_PASSWORD_MAX);
        return;
    }
    CatalogStatus st = catalog_user_create(env->catalog, name, w->word[3]);
    if (st == CATALOG_OK)
        log_info("user %s created", name);
    reply_catalog(out, st, "User", name);
}

/*
 * `drop user NAME`: removes the user, their grants and limits. Their open
 * sessions stay logged in but, with no grant left, are refused everything
 * from their next request, as after a revoke; a user created later under
 * the name gets a new id, so nothing of the old one carries over.
 */
static void cmd_drop_user(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    const char *name = w->word[2];
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "user", name);
        return;
    }
    if (strcmp(name, CATALOG_SUPER_USER) == 0) {
        reply_bad_request(out, "the super user %s cannot be dropped", CATALOG_SUPER_USER);
        return;
    }
    CatalogStatus st = catalog_user_delete(env->catalog, name);
    if (st == CATALOG_OK)
        log_info("user %s dropped", name);
    reply_catalog(out, st, "User", name);
}

static void cmd_connect(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    const char *name = w->word[1];
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return;
    }
    if (s->in_tx) {
        reply_bad_request(out, "a transaction is open: commit or rollback first");
        return;
    }
    int64_t id = 0;
    CatalogStatus st = catalog_database_find(env->catalog, name, &id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", name);
        return;
    }
    if (access_check_database(s, env, id, name, out) != 0)
        return;
    PoolDb *db = NULL;
    duckdb_connection con = NULL;
    /* The old database is left before the new one is pinned: holding one
     * pin while waiting for another lets PoolSize sessions that switch at
     * once wait on each other until PoolWaitMs runs out. So a connect that
     * fails from here on leaves the session disconnected. */
    leave_database(s, env);
    if (pool_connect(env->pool, id, &db, &con, out) != 0)
        return;
    s->db = db;
    s->stmts = stmtcache_new(STMTCACHE_CAPACITY);
    pthread_mutex_lock(&s->con_lock);
    s->con = con;
    pthread_mutex_unlock(&s->con_lock);
    snprintf(s->database, sizeof(s->database), "%s", name);
    sessions_set_database(&s->reg, name);
    s->db_id = id;
    s->state = SESSION_CONNECTED;
    reply_success(out);
}

static void cmd_disconnect(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)w;
    if (s->state != SESSION_CONNECTED) {
        reply_bad_request(out, "not connected to a database");
        return;
    }
    if (s->in_tx) {
        reply_bad_request(out, "a transaction is open: commit or rollback first");
        return;
    }
    leave_database(s, env);
    reply_success(out);
}

typedef enum { TX_BEGIN, TX_COMMIT, TX_ROLLBACK } TxCommand;

/* Commits or rolls back the open transaction and answers. Returns false
 * when DuckDB failed the COMMIT or ROLLBACK itself. */
static bool tx_end(Session *s, TxCommand what, bool had_error, bool doomed, Buf *out)
{
    /* A request that failed halfway left part of itself in the transaction;
     * committing would keep work the client was told failed. */
    if (what == TX_COMMIT &&
        (doomed || (had_error && query_exec_simple(s->con, "SELECT 1", NULL) != 0))) {
        if (query_exec_simple(s->con, "ROLLBACK", out) != 0)
            return false;
        reply_transaction_aborted(out);
        return true;
    }
    if ((what == TX_COMMIT ? query_commit(s->con, walarchive_db(s->db_id), out)
                           : query_exec_simple(s->con, "ROLLBACK", out)) != 0)
        return false;
    reply_success(out);
    return true;
}

static void transaction(Session *s, const SessionEnv *env, TxCommand what, Buf *out)
{
    if (what == TX_BEGIN) {
        if (s->in_tx) {
            reply_bad_request(out, "a transaction is already open");
            return;
        }
        if (query_exec_simple(s->con, "BEGIN TRANSACTION", out) == 0) {
            s->in_tx = true;
            reply_success(out);
        }
        return;
    }
    if (!s->in_tx) {
        reply_bad_request(out, "no transaction is open");
        return;
    }
    /* Either way the transaction is over: DuckDB ends it even when COMMIT
     * fails. DuckDB also answers COMMIT of an aborted transaction with
     * success while rolling it back; a client must not believe its work was
     * kept, so after a failed statement a probe tells whether the
     * transaction is still alive. */
    bool had_error = s->tx_error, doomed = s->tx_doomed, prune = s->prune_pending;
    bool catalog_changed = s->tx_catalog_changed;
    bool wrote = s->tx_wrote && what == TX_COMMIT;
    s->tx_wrote = false;
    s->in_tx = false;
    s->tx_error = false;
    s->tx_doomed = false;
    s->prune_pending = false;
    s->tx_catalog_changed = false;
    /* The grants are synced before the COMMIT is answered, and no other
     * user's request is checked between the COMMIT and the sync (access.h). */
    AccessGuard guard = {0};
    if (prune && what == TX_COMMIT)
        access_guard_exclusive(s, &guard);
    /* The commit of a transaction that wrote changes what cached answers
     * mean: bracketed as a write (rescache.h). */
    if (wrote)
        rescache_write_begin(s->db_id);
    /* A failed commit may be DuckDB's fatal error: contained (pool.h). */
    if (!tx_end(s, what, had_error, doomed, out))
        pool_db_check_invalidated(env->pool, s->db);
    if (wrote && catalog_changed)
        rescache_functions_changed(s->db_id); /* CREATE MACRO, ... */
    if (wrote)
        rescache_write_end(s->db_id);
    /* Other sessions may have prepared statements against the schema as it
     * was before the commit; this session against the one being rolled back. */
    if (catalog_changed)
        pool_db_schema_bump(s->db);
    if (prune && what == TX_COMMIT)
        access_prune_table_grants(s, env, &guard);
    access_guard_release(&guard);
}

static void cmd_begin(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)w;
    transaction(s, env, TX_BEGIN, out);
}

static void cmd_commit(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)w;
    transaction(s, env, TX_COMMIT, out);
}

static void cmd_rollback(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)w;
    transaction(s, env, TX_ROLLBACK, out);
}

#define USAGE_UPDATE_USER                                                                          \
    "update user username OLD NEW | update user password USER NEW | update user verifier USER "    \
    "SCRAM-SHA-256$... | update user limit USER SETTING VALUE|default"

static void cmd_update_database(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    for (int i = 2; i < 4; i++) {
        if (!catalog_name_valid(w->word[i])) {
            reply_invalid_name(out, "database", w->word[i]);
            return;
        }
    }
    CatalogStatus st = catalog_database_rename(env->catalog, w->word[2], w->word[3]);
    int64_t id = 0;
    if (st == CATALOG_OK) {
        log_info("database %s renamed to %s", w->word[2], w->word[3]);
        /* Answers are keyed by id, which a rename keeps; dropped anyway, so
         * that nothing cached outlives a change an administrator made. */
        if (catalog_database_find(env->catalog, w->word[3], &id) == CATALOG_OK)
            rescache_invalidate_db(id);
    }
    reply_catalog(out, st, "Database", st == CATALOG_EXISTS ? w->word[3] : w->word[2]);
}

/*
 * `update user limit USER SETTING VALUE|default`: stores (or removes) one
 * of the user's limits (userlimits.h); it applies from the user's next login.
 */
static void update_user_limit(const SessionEnv *env, const RequestWords *w, Buf *out)
{
    const char *user = w->word[3];
    int id = w->n == 6 ? userlimits_find(w->word[4]) : -1;
    if (id < 0) {
        reply_bad_request(out,
                          "usage: update user limit USER SETTING VALUE|default, SETTING is "
                          "one of %s",
                          userlimits_names());
        return;
    }
    if (!catalog_name_valid(user)) {
        reply_invalid_name(out, "user", user);
        return;
    }
    int64_t value = -1;
    char why[128];
    if (!request_word_is(w->word[5], "default") &&
        !userlimits_parse((UserLimitId)id, w->word[5], &value, why, sizeof(why))) {
        reply_bad_request(out, "%s, or default", why);
        return;
    }
    CatalogUser u;
    CatalogStatus st = catalog_user_find(env->catalog, user, &u);
    if (st == CATALOG_OK)
        st = catalog_user_limit_set(env->catalog, u.id, userlimits_name((UserLimitId)id), value);
    if (st == CATALOG_OK)
        log_info("limit %s of user %s set to %s", userlimits_name((UserLimitId)id), user,
                 w->word[5]);
    reply_catalog(out, st, "User", user);
}

static void cmd_update_user(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    if (request_word_is(w->word[2], "limit")) {
        update_user_limit(env, w, out);
        return;
    }
    bool is_name = request_word_is(w->word[2], "username");
    bool is_verifier = request_word_is(w->word[2], "verifier");
    if (w->n != 5 || (!is_name && !is_verifier && !request_word_is(w->word[2], "password"))) {
        reply_bad_request(out, "usage: " USAGE_UPDATE_USER);
        return;
    }
    const char *user = w->word[3];
    if (!catalog_name_valid(user)) {
        reply_invalid_name(out, "user", user);
        return;
    }
    CatalogStatus st;
    if (is_name) {
        if (!catalog_name_valid(w->word[4])) {
            reply_invalid_name(out, "user", w->word[4]);
            return;
        }
        if (strcmp(user, CATALOG_SUPER_USER) == 0) {
            reply_bad_request(out, "the super user %s cannot be renamed", CATALOG_SUPER_USER);
            return;
        }
        st = catalog_user_rename(env->catalog, user, w->word[4]);
        if (st == CATALOG_OK)
            log_info("user %s renamed to %s", user, w->word[4]);
        reply_catalog(out, st, "User", st == CATALOG_EXISTS ? w->word[4] : user);
        return;
    }
    if (is_verifier) {
        /* A verifier made by the client (psql's \password): stored as given, never a password. */
        if (!scram_verifier_info(w->word[4], NULL, NULL)) {
            reply_bad_request(out, "not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$ITERATIONS:SALT$"
                                   "STOREDKEY:SERVERKEY, base64)");
            return;
        }
        st = catalog_user_set_verifier(env->catalog, user, w->word[4]);
        if (st == CATALOG_OK)
            log_info("password of user %s changed (a verifier)", user);
        reply_catalog(out, st, "User", user);
        return;
    }
    if (!password_valid(w->word[4])) {
        reply_bad_request(out, "passwords are 1 to %d bytes", CATALOG_PASSWORD_MAX);
        return;
    }
    st = catalog_user_set_password(env->catalog, user, w->word[4]);
    if (st == CATALOG_OK)
        log_info("password of user %s changed", user);
    reply_catalog(out, st, "User", user);
}

/* Runs SQL text, or a typed request when `typed` is not NULL; `fmt`: session_run_sql(). */
static void run_sql(Session *s, const SessionEnv *env, const char *sql, const TypedRequest *typed,
                    const QueryFormat *fmt, QueryIo *io, SessionAction *action)
{
    /* Error answers go where the front end wants them (QueryIo.errors). */
    if (who_allows(s, SESSION_WHO_CONNECTED, io->errors ? io->errors : io->out))
        sqlrun_request(s, env, typed ? typed->sql : sql, typed, fmt, io, action);
}

/*
 * `list limits [USER]`: the limits the user gets at the next login, each
 * with where it comes from ("user": set for them; "server": the default).
 * Another user's: super user only.
 */
static void cmd_list_limits(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    CatalogUser u = s->user;
    if (w->n == 3 && strcmp(w->word[2], s->user.name) != 0) {
        if (!s->user.super) {
            reply_unauthorized(out);
            return;
        }
        if (!catalog_name_valid(w->word[2])) {
            reply_invalid_name(out, "user", w->word[2]);
            return;
        }
        CatalogStatus st = catalog_user_find(env->catalog, w->word[2], &u);
        if (st != CATALOG_OK) {
            reply_catalog(out, st, "User", w->word[2]);
            return;
        }
    }
    UserLimits l;
    if (load_limits(env, u.id, &l) != 0) {
        reply_internal(out);
        return;
    }
    buf_append_str(out, "[");
    for (int i = 0; i < USERLIMIT_COUNT; i++)
        buf_printf(out, "%s{\"setting\":\"%s\",\"value\":%lld,\"source\":\"%s\"}", i ? "," : "",
                   userlimits_name((UserLimitId)i), (long long)l.value[i],
                   l.own[i] ? "user" : "server");
    buf_append_str(out, "]\n");
}

/* `set cache on|off`: whether this session reads and fills the result cache
 * (docs/cache.md); for benchmarks and debugging. Its writes invalidate
 * cached answers either way. */
static void cmd_set_cache(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)env;
    if (strcasecmp(w->word[2], "on") != 0 && strcasecmp(w->word[2], "off") != 0) {
        reply_bad_request(out, "usage: set cache on|off");
        return;
    }
    s->cache_off = strcasecmp(w->word[2], "off") == 0;
    reply_success(out);
}

/* ---- cancel ----------------------------------------------------------- */

/*
 * `cancel ID KEY` (a client not logged in, with the session's key) or
 * `cancel SESSION-ID` (the super user, no key needed): one row of the
 * table, since both begin with the same word; the row lets anyone in and
 * each form checks who may send it, as the table would.
 */
static void cmd_cancel_any(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    if (w->n == 3) {
        if (who_allows(s, SESSION_WHO_GUEST, out))
            cmd_cancel(s, env, w, out);
        return;
    }
    /* A client that has not logged in can only mean the keyed form. */
    if (s->state == SESSION_NEW) {
        reply_bad_request(out, "usage: cancel ID KEY");
        return;
    }
    if (!who_allows(s, SESSION_WHO_SUPER, out))
        return;
    uint64_t id = opscmd_session_id(w->word[1], "cancel SESSION-ID", out);
    if (id == 0)
        return;
    if (!sessions_cancel(id)) {
        reply_catalog(out, CATALOG_NOT_FOUND, "Session", w->word[1]);
        return;
    }
    log_info("user %s canceled the statement of session %llu", s->user.name,
             (unsigned long long)id);
    reply_success(out);
}

static void cmd_quit(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)env;
    (void)w;
    s->quit = true;
    reply_success(out);
}

static void cmd_help(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out);

#ifdef TCPDUCKDB_TEST_HOOKS
/* `debug crash`, super user, compiled into the sanitizer builds only (the
 * Makefile's -DTCPDUCKDB_TEST_HOOKS), never into the release build: ends the
 * process with abort() as a crash would, with no answer and no core file, so
 * that tests/e2e/test_crash.py can show the supervisor restarting the server
 * and no committed transaction lost. abort() rather than a bad pointer: the
 * sanitizers report SIGSEGV as an error of their own, not SIGABRT. */
static void cmd_debug_crash(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    (void)env;
    (void)w;
    (void)out;
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    log_warn("debug crash: aborting the process on the super user's request (test build)");
    abort();
}
#endif

/* ---- the command table ------------------------------------------------ */

/*
 * Every command of the line protocol, in the order `help` lists them
 * (docs/protocol.md, "Commands and SQL"). A request that is none of them is
 * SQL. The handlers take the words of the request and append one answer
 * line; they run only after the table's checks, so another front end can
 * call them with words it made from its own protocol.
 */
static const SessionCommand commands[] = {
    {"login", NULL, SESSION_MATCH_WORDS, NULL, 3, 3, SESSION_WHO_GUEST, cmd_login,
     "login USER PASSWORD"},
    {"session", "key", SESSION_MATCH_WORDS, NULL, 2, 2, SESSION_WHO_USER, cmd_session_key,
     "session key"},
    /* cmd_cancel_any checks who sends which form. */
    {"cancel", NULL, SESSION_MATCH_WORDS, NULL, 2, 3, SESSION_WHO_ANYONE, cmd_cancel_any,
     "cancel ID KEY | cancel SESSION-ID (super user)"},
    {"create", "database", SESSION_MATCH_WORDS, NULL, 3, 3, SESSION_WHO_SUPER, cmd_create_database,
     "create database NAME"},
    {"create", "user", SESSION_MATCH_WORDS, NULL, 4, 4, SESSION_WHO_SUPER, cmd_create_user,
     "create user NAME PASSWORD"},
    {"drop", "database", SESSION_MATCH_WORDS, NULL, 3, 3, SESSION_WHO_SUPER, cmd_drop_database,
     "drop database NAME"},
    {"drop", "user", SESSION_MATCH_WORDS, NULL, 3, 3, SESSION_WHO_SUPER, cmd_drop_user,
     "drop user NAME"},
    {"connect", NULL, SESSION_MATCH_WORDS, NULL, 2, 2, SESSION_WHO_USER, cmd_connect,
     "connect DATABASE"},
    {"disconnect", NULL, SESSION_MATCH_WORDS, NULL, 1, 1, SESSION_WHO_USER, cmd_disconnect,
     "disconnect"},
    {"start transaction", NULL, SESSION_MATCH_TEXT, NULL, 0, 0, SESSION_WHO_CONNECTED, cmd_begin,
     "start transaction | begin"},
    {"commit", NULL, SESSION_MATCH_TEXT, NULL, 0, 0, SESSION_WHO_CONNECTED, cmd_commit, "commit"},
    {"rollback", NULL, SESSION_MATCH_TEXT, NULL, 0, 0, SESSION_WHO_CONNECTED, cmd_rollback,
     "rollback"},
    {"update", "database", SESSION_MATCH_WORDS, "set", 4, 4, SESSION_WHO_SUPER, cmd_update_database,
     "update database OLD NEW"},
    {"update", "user", SESSION_MATCH_WORDS, "set", 5, 6, SESSION_WHO_SUPER, cmd_update_user,
     USAGE_UPDATE_USER},
    {"grant", "database", SESSION_MATCH_WORDS, NULL, 5, 5, SESSION_WHO_SUPER,
     access_cmd_grant_database, ACCESS_USAGE_GRANT_DATABASE},
    {"grant", "table", SESSION_MATCH_WORDS, NULL, 6, INT_MAX, SESSION_WHO_SUPER,
     access_cmd_grant_table, ACCESS_USAGE_GRANT_TABLE},
    {"revoke", "database", SESSION_MATCH_WORDS, NULL, 4, 4, SESSION_WHO_SUPER,
     access_cmd_revoke_database, ACCESS_USAGE_REVOKE_DATABASE},
    {"revoke", "table", SESSION_MATCH_WORDS, NULL, 6, INT_MAX, SESSION_WHO_SUPER,
     access_cmd_revoke_table, ACCESS_USAGE_REVOKE_TABLE},
    {"backup", NULL, SESSION_MATCH_WORDS, NULL, 2, 2, SESSION_WHO_SUPER, backup_cmd_backup,
     "backup DATABASE | backup all"},
    {"list", "backups", SESSION_MATCH_WORDS, NULL, 2, 3, SESSION_WHO_SUPER, backup_cmd_list,
     "list backups [DATABASE]"},
    {"restore", NULL, SESSION_MATCH_WORDS, NULL, 4, INT_MAX, SESSION_WHO_SUPER, backup_cmd_restore,
     "restore DATABASE AS NEWDATABASE [FROM BACKUP_ID | AT 'UTC TIME']"},
    {"verify", "backup", SESSION_MATCH_WORDS, NULL, 3, 3, SESSION_WHO_SUPER, backup_cmd_verify,
     "verify backup BACKUP_ID"},
    {"list", "limits", SESSION_MATCH_WORDS, NULL, 2, 3, SESSION_WHO_USER, cmd_list_limits,
     "list limits [USER]"},
    {"list", NULL, SESSION_MATCH_WORDS, NULL, 2, 3, SESSION_WHO_USER, access_cmd_list,
     ACCESS_USAGE_LIST},
    /* cdclink.c checks the words of its commands itself (and hands audit links to pglink.c). */
    {"link", NULL, SESSION_MATCH_ARGS, NULL, 2, INT_MAX, SESSION_WHO_SUPER, cdclink_cmd_link,
     "link DATABASE \"CONNECTION STRING\" [SCHEMA] [mode=auto|cdc|audit]"},
    {"migrate", NULL, SESSION_MATCH_ARGS, NULL, 2, INT_MAX, SESSION_WHO_SUPER, cdclink_cmd_migrate,
     "migrate DATABASE"},
    {"unlink", NULL, SESSION_MATCH_ARGS, NULL, 2, INT_MAX, SESSION_WHO_SUPER, cdclink_cmd_unlink,
     "unlink DATABASE [force]"},
    {"cdc", NULL, SESSION_MATCH_ARGS, NULL, 2, INT_MAX, SESSION_WHO_SUPER, cdclink_cmd_cdc,
     "cdc start DATABASE | cdc stop DATABASE | cdc status [DATABASE] | cdc resync DATABASE "
     "[TABLE] | cdc drop-orphans | cdc switch DATABASE"},
    {"stats", NULL, SESSION_MATCH_WORDS, NULL, 1, 1, SESSION_WHO_SUPER, opscmd_stats, "stats"},
    {"show", "sessions", SESSION_MATCH_WORDS, NULL, 2, 2, SESSION_WHO_SUPER, opscmd_show_sessions,
     "show sessions"},
    {"terminate", NULL, SESSION_MATCH_WORDS, NULL, 2, 2, SESSION_WHO_SUPER, opscmd_terminate,
     "terminate SESSION-ID"},
    {"reload", NULL, SESSION_MATCH_ALONE, NULL, 1, 1, SESSION_WHO_SUPER, opscmd_reload, "reload"},
    {"set", "cache", SESSION_MATCH_WORDS, NULL, 3, 3, SESSION_WHO_USER, cmd_set_cache,
     "set cache on|off"},
#ifdef TCPDUCKDB_TEST_HOOKS
    {"debug", "crash", SESSION_MATCH_WORDS, NULL, 2, 2, SESSION_WHO_SUPER, cmd_debug_crash,
     "debug crash (test builds only)"},
#endif
    {"help", NULL, SESSION_MATCH_ALONE, NULL, 1, 1, SESSION_WHO_ANYONE, cmd_help, "help"},
    {"quit", NULL, SESSION_MATCH_ALONE, NULL, 1, 1, SESSION_WHO_ANYONE, cmd_quit, "quit"},
    {"exit", NULL, SESSION_MATCH_ALONE, NULL, 1, 1, SESSION_WHO_ANYONE, cmd_quit, "exit"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *who_text(SessionWho who)
{
    switch (who) {
    case SESSION_WHO_ANYONE:
        return "anyone";
    case SESSION_WHO_GUEST:
        return "anyone not logged in";
    case SESSION_WHO_USER:
        return "logged-in users";
    case SESSION_WHO_SUPER:
        return "super user";
    case SESSION_WHO_CONNECTED:
        return "connected";
    }
    return "";
}

/* `help`: the command table as one JSON array line. */
static void cmd_help(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    (void)env;
    (void)w;
    buf_putc(out, '[');
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *who = who_text(commands[i].who);
        buf_append_str(out, i ? ",{\"command\":" : "{\"command\":");
        json_append_string(out, commands[i].usage, strlen(commands[i].usage));
        buf_append_str(out, ",\"who\":");
        json_append_string(out, who, strlen(who));
        buf_putc(out, '}');
    }
    buf_append_str(out, "]\n");
}

const SessionCommand *session_command_find(const RequestWords *w)
{
    if (w->n < 1)
        return NULL;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const SessionCommand *c = &commands[i];
        if (c->match == SESSION_MATCH_TEXT || !request_word_is(w->word[0], c->name))
            continue;
        if (c->match == SESSION_MATCH_ALONE && w->n != 1)
            continue;
        if (c->match == SESSION_MATCH_ARGS && w->n < 2)
            continue;
        if (c->sub && (w->n < 2 || !request_word_is(w->word[1], c->sub)))
            continue;
        if (c->not_third && w->n >= 3 && request_word_is(w->word[2], c->not_third))
            continue;
        return c;
    }
    return NULL;
}

void session_command_run(const SessionCommand *c, Session *s, const SessionEnv *env,
                         const RequestWords *w, Buf *out)
{
    if (!who_allows(s, c->who, out))
        return;
    if (c->match != SESSION_MATCH_TEXT && (w->n < c->min_words || w->n > c->max_words)) {
        reply_bad_request(out, "usage: %s", c->usage);
        return;
    }
    c->run(s, env, w, out);
}

void session_run_sql(Session *s, const SessionEnv *env, const char *sql, const TypedRequest *params,
                     const QueryFormat *fmt, QueryIo *io, SessionAction *action)
{
    TypedRequest typed = {0};
    if (params) {
        typed = *params;
        typed.sql = (char *)sql;
    }
    run_sql(s, env, params ? NULL : sql, params ? &typed : NULL, fmt, io, action);
}

int session_describe_sql(Session *s, const SessionEnv *env, const char *sql,
                         void (*fn)(void *ctx, duckdb_prepared_statement prep), void *ctx,
                         Buf *errors)
{
    if (!who_allows(s, SESSION_WHO_CONNECTED, errors))
        return -1;
    const char *too_complex = sqllex_check_bounds(sql, strlen(sql));
    if (too_complex) {
        reply_bad_request(errors, "%s", too_complex);
        return -1;
    }
    stmtcache_sync(s->stmts, pool_db_schema_gen(s->db));
    StmtEntry *cached = stmtcache_find(s->stmts, sql, strlen(sql));
    AuthzPlan *plan = NULL;
    AccessGuard guard = {0};
    access_guard_request(s, sql, &guard);
    /* Column names and types of a table are only shown to who may read it. */
    duckdb_prepared_statement checked = NULL;
    int rc = access_check_request(s, env, sql, cached, &plan, &checked, errors);
    /* The statement comes from the check (which prepared it), from the session's cache
     * (prepared in this schema generation, see stmtcache_sync above), or else is prepared
     * here; then it is kept in the cache as a run would keep it. A client that sends Describe
     * with every Execute (libpq, pgbench -M prepared) would otherwise pay a full parse, bind
     * and plan per statement. */
    if (rc == 0 && !checked && !cached)
        rc = query_prepare_one(s->con, sql, &checked, errors);
    if (rc == 0) {
        fn(ctx, checked ? checked : cached->prep);
        sqlrun_keep_checked(s, sql, cached, &plan, &checked);
    }
    authz_plan_free(plan);
    query_prepared_free(&checked);
    access_guard_release(&guard);
    return rc;
}

/* The table's entry for a transaction command. */
static const SessionCommand *transaction_entry(SessionCommandFn run)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].run == run)
            return &commands[i];
    assert(!"a transaction command is missing from the table");
    return NULL;
}

/* ---- dispatch --------------------------------------------------------- */

/* The JSON object of a typed request (`query {...}`), or NULL for any other. */
static const char *typed_body(const char *text)
{
    if (strncasecmp(text, "query", 5) != 0 || (text[5] != ' ' && text[5] != '\t'))
        return NULL;
    const char *p = text + 5;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '{' ? p : NULL;
}

const SessionCommand *session_transaction_command(const char *text, size_t len)
{
    static const struct {
        const char *text;
        SessionCommandFn cmd;
    } forms[] = {
        {"start transaction", cmd_begin},       {"begin", cmd_begin},
        {"begin transaction", cmd_begin},       {"commit", cmd_commit},
        {"commit transaction", cmd_commit},     {"end", cmd_commit},
        {"end transaction", cmd_commit},        {"rollback", cmd_rollback},
        {"rollback transaction", cmd_rollback}, {"abort", cmd_rollback},
        {"abort transaction", cmd_rollback},
    };
    char norm[32];
    size_t n = 0;
    bool space = false;
    /* Blanks and line ends (an @N script) around the words and one trailing ';' are ignored. */
    while (len > 0 && strchr(" \t\r\n", text[len - 1]))
        len--;
    if (len > 0 && text[len - 1] == ';')
        len--;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            space = n > 0;
            continue;
        }
        if (n + 2 >= sizeof(norm))
            return NULL;
        if (space)
            norm[n++] = ' ';
        space = false;
        norm[n++] = (char)tolower((unsigned char)ch);
    }
    norm[n] = '\0';
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        if (strcmp(norm, forms[i].text) == 0)
            return transaction_entry(forms[i].cmd);
    return NULL;
}

/* Dispatches one request (session_handle) and sets *kind for the metrics (metrics.h). */
static SessionAction dispatch(Session *s, const SessionEnv *env, RequestStatus status, char *text,
                              size_t len, QueryIo *io, int *kind)
{
    Buf *out = io->out;
    SessionAction action = SESSION_CONTINUE;
    switch (status) {
    case REQUEST_OK:
        break;
    case REQUEST_TOO_LONG:
        reply_request_too_large(out, env->cfg->max_request_bytes);
        return action;
    case REQUEST_BAD:
        reply_bad_request(out, "malformed request (a NUL byte, or a bad @LENGTH line)");
        return action;
    case REQUEST_NONE:
        *kind = -1;
        return action;
    }

    if (strspn(text, " \t") == len) {
        reply_bad_request(out, "empty request");
        return action;
    }
    const char *body = typed_body(text);
    if (body) {
        *kind = METRICS_TYPED;
        TypedRequest typed = {0};
        char err[256];
        if (params_parse(body, len - (size_t)(body - text), &typed, err, sizeof(err)) != 0)
            reply_bad_request(out, "%s", err);
        else
            run_sql(s, env, NULL, &typed, NULL, io, &action);
        params_free(&typed);
        return action;
    }
    RequestWords none = {0};
    const SessionCommand *tx = len < 32 ? session_transaction_command(text, len) : NULL;
    if (tx) {
        *kind = METRICS_TRANSACTION;
        session_command_run(tx, s, env, &none, out);
        sessions_set_tx(&s->reg, s->in_tx);
        return action;
    }

    char copy[COMMAND_MAX];
    RequestWords w = {0};
    const SessionCommand *cmd = NULL;
    if (len < sizeof(copy)) {
        memcpy(copy, text, len + 1);
        if (request_split(copy, &w) == 0)
            cmd = session_command_find(&w);
    }
    if (cmd) {
        *kind = metrics_kind_of_command(cmd->name);
        session_command_run(cmd, s, env, &w, out);
        if (s->quit)
            action = SESSION_CLOSE;
    } else {
        *kind = METRICS_SQL;
        run_sql(s, env, text, NULL, NULL, io, &action);
    }
    return action;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* True when the last answer line in `out` is an error (every answer ends with its one line). */
static bool ends_with_error(const Buf *out)
{
    if (out->len == 0)
        return false;
    size_t i = out->len - 1; /* the line's '\n' */
    while (i > 0 && out->data[i - 1] != '\n')
        i--;
    return out->len - i >= 6 && memcmp(out->data + i, "Error:", 6) == 0;
}

SessionAction session_handle(Session *s, const SessionEnv *env, RequestStatus status, char *text,
                             size_t len, QueryIo *io)
{
    int64_t start = monotonic_ns();
    int kind = METRICS_OTHER;
    SessionAction action = dispatch(s, env, status, text, len, io, &kind);
    if (kind >= 0)
        metrics_request_done(kind, ends_with_error(io->out), monotonic_ns() - start);
    return action;
}

int session_idle_in_transaction_limit(const Session *s)
{
    return s->in_tx ? (int)s->limits.value[USERLIMIT_IDLE_IN_TX_TIMEOUT] : 0;
}

int64_t session_statement_timeout_ms(const Session *s)
{
    int64_t ms = s->limits.value[USERLIMIT_STATEMENT_TIMEOUT] * 1000;
    if (s->client_timeout_ms > 0 && (ms == 0 || s->client_timeout_ms < ms))
        ms = s->client_timeout_ms;
    return ms;
}

bool session_statement_admit(const Session *s, const SessionEnv *env, Buf *out)
{
    Quota *quota = s->user.super ? NULL : env->quota;
    int64_t max_statements = s->limits.value[USERLIMIT_MAX_STATEMENTS];
    if (quota_enter(quota, s->user.id, max_statements))
        return true;
    reply_too_many_statements(out, s->user.name, (int)max_statements);
    return false;
}

void session_statement_release(const Session *s, const SessionEnv *env)
{
    quota_leave(s->user.super ? NULL : env->quota, s->user.id);
}

void session_interrupt(Session *s)
{
    pthread_mutex_lock(&s->con_lock);
    if (s->con)
        duckdb_interrupt(s->con);
    pthread_mutex_unlock(&s->con_lock);
}

void session_free(Session *s, const SessionEnv *env)
{
    if (!s)
        return;
    if (s->in_tx)
        log_info("rolling back the open transaction of user %s on %s", s->user.name, s->database);
    /* No cancel request, snapshot or terminate may find the session once it is being freed. */
    sessions_unregister(&s->reg);
    cancel_unregister(&s->cancel);
    leave_database(s, env);
    if (s->state != SESSION_NEW)
        metrics_logged_in(-1);
    pthread_mutex_destroy(&s->con_lock);
    sessions_entry_destroy(&s->reg);
    access_grants_free(s->grants);
    free(s);
}
