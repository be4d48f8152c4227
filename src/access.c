/*
 * access: who may do what; grant, revoke and list. See access.h.
 *
 * A table grant names a table that exists when it is made: the name is
 * checked against the database's catalog through a short-lived DuckDB
 * connection and stored in DuckDB's own spelling. Grants follow a database
 * through renames (they refer to its id) and follow a table through renames
 * (a sync compares the oids of its tables before and after a change), and
 * go with it when it is dropped, so a grant never passes to a different
 * table that is created later under the same name. The identities and their
 * lock are described in access.h.
 */
#include "access.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "dbmeta.h"
#include "json.h"
#include "log.h"
#include "memguard.h"
#include "memstat.h"
#include "query.h"
#include "reply.h"
#include "sqllex.h"
#include "watchdog.h"
#include "xalloc.h"

/* Longest table name accepted in a command (DuckDB has no limit of its own). */
#define TABLE_NAME_MAX 255

static const struct {
    const char *word;
    unsigned bit;
} privilege_words[] = {
    {"select", CATALOG_PRIV_SELECT},
    {"insert", CATALOG_PRIV_INSERT},
    {"update", CATALOG_PRIV_UPDATE},
    {"delete", CATALOG_PRIV_DELETE},
};

#define NPRIVS (sizeof(privilege_words) / sizeof(privilege_words[0]))

/* Parses words[from..n) as privilege names; 0 when one is unknown or none given. */
static unsigned parse_privileges(const RequestWords *w, int from)
{
    unsigned bits = 0;
    for (int i = from; i < w->n; i++) {
        unsigned bit = 0;
        for (size_t k = 0; k < NPRIVS; k++)
            if (request_word_is(w->word[i], privilege_words[k].word))
                bit = privilege_words[k].bit;
        if (!bit)
            return 0;
        bits |= bit;
    }
    return bits;
}

static bool table_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > TABLE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return true;
}

/* Resolves a database and a user named in a command; answers and returns
 * -1 when either is missing. */
static int find_db_and_user(const SessionEnv *env, const char *db, const char *user,
                            int64_t *out_db_id, CatalogUser *out_user, Buf *out)
{
    if (!catalog_name_valid(db)) {
        reply_invalid_name(out, "database", db);
        return -1;
    }
    if (!catalog_name_valid(user)) {
        reply_invalid_name(out, "user", user);
        return -1;
    }
    CatalogStatus st = catalog_database_find(env->catalog, db, out_db_id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", db);
        return -1;
    }
    st = catalog_user_find(env->catalog, user, out_user);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "User", user);
        return -1;
    }
    if (out_user->super) {
        reply_bad_request(out, "%s is the super user and holds every privilege", user);
        return -1;
    }
    return 0;
}

/* ---- table identities ------------------------------------------------- */

typedef struct TableId {
    char *name; /* DuckDB's spelling; xstrdup */
    int64_t oid;
} TableId;

typedef struct TableIds {
    TableId *ids;
    size_t n, cap;
} TableIds;

struct AccessTables {
    pthread_rwlock_t lock; /* see access.h; guards everything below */
    bool known;            /* `now` holds the tables as of the last sync */
    TableIds now;
};

static void ids_free(TableIds *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->ids[i].name);
    free(t->ids);
    memset(t, 0, sizeof(*t));
}

static void collect_id(void *ctx, const char *name, int64_t oid)
{
    TableIds *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->ids = xrealloc(t->ids, t->cap * sizeof(*t->ids));
    }
    t->ids[t->n].name = xstrdup(name);
    t->ids[t->n].oid = oid;
    t->n++;
}

/* The tables of database `db_id` as `con` sees them, into *out (empty on failure). */
static int list_ids(duckdb_connection con, int64_t db_id, TableIds *out)
{
    if (dbmeta_list_tables(con, db_id, collect_id, out) != 0) {
        ids_free(out);
        return -1;
    }
    return 0;
}

static const TableId *find_oid(const TableIds *t, int64_t oid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->ids[i].oid == oid)
            return &t->ids[i];
    return NULL;
}

void *access_tables_open(duckdb_connection con, int64_t db_id)
{
    AccessTables *t = xcalloc(1, sizeof(*t));
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* A sync waits for the requests under way; requests that come after it
     * wait for it, so a stream of users' requests cannot starve it. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&t->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    t->known = list_ids(con, db_id, &t->now) == 0;
    if (!t->known)
        log_warn("cannot record the tables of database %lld: its grants follow renames only "
                 "after the next sync",
                 (long long)db_id);
    return t;
}

void access_tables_close(void *tables)
{
    AccessTables *t = tables;
    if (!t)
        return;
    ids_free(&t->now);
    pthread_rwlock_destroy(&t->lock);
    free(t);
}

static bool table_name_valid(const char *name);

/*
 * The sync (access.h): lists the tables of `db_id` on `con` (a connection
 * outside any transaction) and moves or deletes the grants of every
 * recorded oid whose name changed or which is gone; then, after a change or
 * when nothing was recorded, deletes the grants whose name no table has.
 * Records the new list once the grants match it. The exclusive lock of `t`
 * is held. Returns 0, or -1 (logged; the old record stays).
 */
static int sync_locked(const SessionEnv *env, AccessTables *t, duckdb_connection con, int64_t db_id)
{
    TableIds now = {0};
    CatalogTableRename *renames = NULL;
    const char **names = NULL;
    size_t n = 0;
    int rc = -1;
    if (list_ids(con, db_id, &now) != 0)
        goto out;
    if (t->known) {
        renames = xcalloc(t->now.n + 1, sizeof(*renames));
        for (size_t i = 0; i < t->now.n; i++) {
            const TableId *old = &t->now.ids[i];
            const TableId *cur = find_oid(&now, old->oid);
            if (cur && strcmp(cur->name, old->name) == 0)
                continue;
            /* A name no grant could be made on keeps none. */
            renames[n].from = old->name;
            renames[n].to = cur && table_name_valid(cur->name) ? cur->name : NULL;
            log_info("table grants on %s of database %lld: %s%s", old->name, (long long)db_id,
                     renames[n].to ? "renamed to " : "dropped", renames[n].to ? cur->name : "");
            n++;
        }
        if (n > 0 && catalog_table_grants_rename(env->catalog, db_id, renames, n) < 0)
            goto out;
    }
    if (!t->known || n > 0) {
        names = xcalloc(now.n + 1, sizeof(*names));
        for (size_t i = 0; i < now.n; i++)
            names[i] = now.ids[i].name;
        /* Only grants that name no table at all remain to go; should this
         * fail they stay until the next sync, and give nothing meanwhile. */
        (void)catalog_table_grants_prune(env->catalog, db_id, names, now.n);
    }
    ids_free(&t->now);
    t->now = now;
    memset(&now, 0, sizeof(now));
    t->known = true;
    rc = 0;
out:
    if (rc != 0)
        log_warn("cannot bring the table grants of database %lld up to date: they are "
                 "synced again after the next schema change",
                 (long long)db_id);
    ids_free(&now);
    free(renames);
    free(names);
    return rc;
}

/* The sync on a connection of its own; the exclusive lock of `t` is held. */
static int sync_connect(const SessionEnv *env, AccessTables *t, int64_t db_id)
{
    PoolDb *db = NULL;
    duckdb_connection con = NULL;
    Buf ignored = {0};
    int rc = -1;
    if (pool_connect(env->pool, db_id, &db, &con, &ignored) == 0)
        rc = sync_locked(env, t, con, db_id);
    else
        log_warn("cannot connect to database %lld to sync its table grants", (long long)db_id);
    pool_disconnect(env->pool, &db, &con);
    buf_free(&ignored);
    return rc;
}

static AccessTables *session_tables(const Session *s)
{
    return s->state == SESSION_CONNECTED && s->db ? pool_db_attachment(s->db) : NULL;
}

static void guard_take(AccessTables *t, AccessHold hold, AccessGuard *out)
{
    out->tables = t;
    out->hold = t ? hold : ACCESS_HOLD_NONE;
    if (out->hold == ACCESS_HOLD_SHARED)
        pthread_rwlock_rdlock(&t->lock);
    else if (out->hold == ACCESS_HOLD_EXCLUSIVE)
        pthread_rwlock_wrlock(&t->lock);
}

/* Whether `sql` has a word that starts a statement able to change which table a name means. */
static bool may_change_tables(const char *sql)
{
    static const char *const words[] = {"drop", "alter", "create", "execute"};
    SqlLexer lx;
    SqlToken tok;
    int rc;
    sqllex_init(&lx, sql, strlen(sql), 0);
    while ((rc = sqllex_next(&lx, &tok)) == 1) {
        if (tok.kind != SQLLEX_WORD)
            continue;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (sqllex_is_word(sql, &tok, words[i]))
                return true;
    }
    /* DuckDB refuses a text that does not lex; nothing of it runs. */
    return false;
}

void access_guard_request(const Session *s, const char *sql, AccessGuard *out)
{
    AccessHold hold = ACCESS_HOLD_NONE;
    if (!s->user.super)
        hold = ACCESS_HOLD_SHARED;
    else if (!s->in_tx && may_change_tables(sql))
        hold = ACCESS_HOLD_EXCLUSIVE;
    guard_take(session_tables(s), hold, out);
}

void access_guard_exclusive(const Session *s, AccessGuard *out)
{
    guard_take(session_tables(s), ACCESS_HOLD_EXCLUSIVE, out);
}

void access_guard_release(AccessGuard *g)
{
    if (g->tables && g->hold != ACCESS_HOLD_NONE)
        pthread_rwlock_unlock(&g->tables->lock);
    g->tables = NULL;
    g->hold = ACCESS_HOLD_NONE;
}

/* Syncs the grants of `t` under its exclusive lock, taken here unless `held`
 * already holds it. */
static void sync_exclusive(const SessionEnv *env, AccessTables *t, int64_t db_id,
                           const AccessGuard *held)
{
    AccessGuard own = {0};
    if (!t)
        return;
    if (!held || held->hold != ACCESS_HOLD_EXCLUSIVE || held->tables != t)
        guard_take(t, ACCESS_HOLD_EXCLUSIVE, &own);
    (void)sync_connect(env, t, db_id);
    access_guard_release(&own);
}

void access_prune_table_grants(Session *s, const SessionEnv *env, AccessGuard *g)
{
    assert(!g || g->hold != ACCESS_HOLD_SHARED);
    sync_exclusive(env, session_tables(s), s->db_id, g);
}

void access_sync_table_grants(const SessionEnv *env, PoolDb *db, int64_t db_id)
{
    sync_exclusive(env, pool_db_attachment(db), db_id, NULL);
}

/* ---- checks ------------------------------------------------------------ */

bool access_require_super(const Session *s, Buf *out)
{
    if (s->state != SESSION_NEW && s->user.super)
        return true;
    reply_unauthorized(out);
    return false;
}

/*
 * A session's copy of its user's grants on one database: the database grant and the table
 * grants looked up so far, all read while the catalog generation was `gen`. A request first
 * compares `gen` with the catalog's (grants_sync) and starts afresh when it moved, so a grant,
 * revoke or user change made before the request started is always seen; what a lookup reads
 * after the generation was taken is at least as new, so it may be kept under it. Owned by the
 * session's thread.
 */
#define GRANTS_TABLES 32

struct AccessGrants {
    bool valid;
    uint64_t gen;
    int64_t user_id, db_id;
    CatalogAccess access;
    size_t n;
    struct {
        char *name;
        AuthzPrivileges privileges;
    } tables[GRANTS_TABLES];
};

static void grants_clear_tables(AccessGrants *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->tables[i].name);
    g->n = 0;
}

void access_grants_free(AccessGrants *g)
{
    if (!g)
        return;
    grants_clear_tables(g);
    free(g);
}

/* The session's copy for `db_id`, emptied when the catalog changed since it was filled. */
static AccessGrants *grants_sync(const Session *s, const SessionEnv *env, int64_t db_id)
{
    Session *owner = (Session *)s; /* the copy is the session's own cache, not its state */
    if (!owner->grants)
        owner->grants = xcalloc(1, sizeof(*owner->grants));
    AccessGrants *g = owner->grants;
    uint64_t gen = catalog_generation(env->catalog);
    if (!g->valid || g->gen != gen || g->user_id != s->user.id || g->db_id != db_id) {
        grants_clear_tables(g);
        g->valid = false;
        g->gen = gen;
        g->user_id = s->user.id;
        g->db_id = db_id;
    }
    return g;
}

/* The user's grant on database `db_id`; -1 (answered) when there is none. */
static int database_access(const Session *s, const SessionEnv *env, int64_t db_id, const char *name,
                           CatalogAccess *out_access, Buf *out)
{
    AccessGrants *g = grants_sync(s, env, db_id);
    if (!g->valid) {
        if (catalog_database_access(env->catalog, s->user.id, db_id, &g->access) != CATALOG_OK) {
            *out_access = CATALOG_ACCESS_NONE;
            reply_internal(out);
            return -1;
        }
        g->valid = true;
    }
    *out_access = g->access;
    if (*out_access == CATALOG_ACCESS_NONE) {
        reply_database_denied(out, s->user.name, name);
        return -1;
    }
    return 0;
}

int access_check_database(const Session *s, const SessionEnv *env, int64_t db_id, const char *name,
                          Buf *out)
{
    CatalogAccess access;
    if (s->user.super)
        return 0;
    return database_access(s, env, db_id, name, &access, out);
}

typedef struct GrantLookup {
    const SessionEnv *env;
    const Session *s;
} GrantLookup;

/* The table grants of the session's user on the connected database (AuthzUser), from the
 * session's copy (synced by database_access() at the start of the check) or the catalog. */
static AuthzPrivileges table_privileges(void *ctx, const char *table)
{
    const GrantLookup *l = ctx;
    AccessGrants *g = l->s->grants;
    if (g && (!g->valid || g->gen != catalog_generation(l->env->catalog)))
        g = NULL; /* not synced for this request: read the catalog */
    for (size_t i = 0; g && i < g->n; i++)
        if (strcmp(g->tables[i].name, table) == 0)
            return g->tables[i].privileges;
    AuthzPrivileges p =
        catalog_table_privileges(l->env->catalog, l->s->db_id, l->s->user.id, table);
    if (g && g->db_id == l->s->db_id && g->user_id == l->s->user.id) {
        if (g->n == GRANTS_TABLES)
            grants_clear_tables(g);
        g->tables[g->n].name = xstrdup(table);
        g->tables[g->n].privileges = p;
        g->n++;
    }
    return p;
}

int access_check_request(const Session *s, const SessionEnv *env, const char *sql,
                         const StmtEntry *cached, AuthzPlan **out_plan,
                         duckdb_prepared_statement *out_prep, Buf *out)
{
    CatalogAccess access;
    if (out_prep)
        *out_prep = NULL;
    if (s->user.super)
        return 0;
    if (database_access(s, env, s->db_id, s->database, &access, out) != 0)
        return -1;
    char catalog[32];
    snprintf(catalog, sizeof(catalog), "%lld", (long long)s->db_id);
    GrantLookup g = {.env = env, .s = s};
    AuthzUser user = {.name = s->user.name,
                      .cap = catalog_access_cap(access),
                      .catalog = catalog,
                      .table_privileges = table_privileges,
                      .ctx = &g};
    if (cached && cached->authz)
        return authz_recheck(cached->authz, &user, out);
    /* The check prepares the statement, and DuckDB folds constant calls while it prepares
     * (`range(0, 100000000)`): it runs under the memory guard as the statement will
     * (memguard.h), and a refusal is answered with the limit's line. */
    size_t mark = out->len;
    int64_t limit = s->limits.value[USERLIMIT_STATEMENT_MEMORY];
    MemguardThread *mg = memguard_begin(memstat_thread_net(memstat_thread()), limit);
    int rc = authz_check_prepare(s->con, sql, &user, out, out_plan, out_prep);
    memguard_end();
    WatchdogReason why =
        rc != 0 ? watchdog_account_refusal(memguard_refused(mg), limit) : WATCHDOG_NONE;
    if (why != WATCHDOG_NONE) {
        out->len = mark;
        WatchdogMemoryLimits mem;
        watchdog_memory_limits(&mem);
        if (why == WATCHDOG_STATEMENT_MEMORY)
            reply_statement_memory_limit(out, limit);
        else
            reply_server_memory_limit(out, mem.server_bytes);
    }
    return rc;
}

void access_cmd_grant_database(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    int64_t db_id = 0;
    CatalogUser user = {0};
    bool write = request_word_is(w->word[4], "write");
    if (!write && !request_word_is(w->word[4], "read")) {
        reply_bad_request(out, "usage: " ACCESS_USAGE_GRANT_DATABASE);
        return;
    }
    if (find_db_and_user(env, w->word[2], w->word[3], &db_id, &user, out) != 0)
        return;
    CatalogStatus st = catalog_grant_database(env->catalog, db_id, user.id,
                                              write ? CATALOG_ACCESS_WRITE : CATALOG_ACCESS_READ);
    if (st == CATALOG_OK)
        log_info("granted %s on database %s to %s", write ? "write" : "read", w->word[2],
                 user.name);
    reply_catalog(out, st, "Database", w->word[2]);
}

void access_cmd_grant_table(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    int64_t db_id = 0;
    CatalogUser user = {0};
    unsigned privs = parse_privileges(w, 5);
    if (!privs) {
        reply_bad_request(out, "usage: " ACCESS_USAGE_GRANT_TABLE);
        return;
    }
    const char *table = w->word[3];
    if (!table_name_valid(table)) {
        reply_bad_request(out, "invalid table name");
        return;
    }
    if (find_db_and_user(env, w->word[2], w->word[4], &db_id, &user, out) != 0)
        return;
    /* The grant is made on the table the name means now, with the grants
     * of every earlier change synced first, under the exclusive lock: no
     * sync can fall between the lookup and the grant. */
    PoolDb *db = NULL;
    duckdb_connection con = NULL;
    AccessGuard g = {0};
    const char *name = NULL;
    if (pool_connect(env->pool, db_id, &db, &con, out) != 0)
        return;
    AccessTables *t = pool_db_attachment(db);
    guard_take(t, ACCESS_HOLD_EXCLUSIVE, &g);
    if (!t || sync_locked(env, t, con, db_id) != 0) {
        reply_internal(out);
        goto out;
    }
    for (size_t i = 0; i < t->now.n && !name; i++)
        if (strcasecmp(t->now.ids[i].name, table) == 0)
            name = t->now.ids[i].name;
    if (!name) {
        reply_table_not_found(out, table);
        goto out;
    }
    CatalogStatus st = catalog_grant_table(env->catalog, db_id, user.id, name, privs);
    if (st == CATALOG_OK)
        log_info("granted privileges %u on table %s of database %s to %s", privs, name, w->word[2],
                 user.name);
    reply_catalog(out, st, "Database", w->word[2]);
out:
    access_guard_release(&g);
    pool_disconnect(env->pool, &db, &con);
}

void access_cmd_revoke_database(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    int64_t db_id = 0;
    CatalogUser user = {0};
    if (find_db_and_user(env, w->word[2], w->word[3], &db_id, &user, out) != 0)
        return;
    CatalogStatus st = catalog_revoke_database(env->catalog, db_id, user.id);
    if (st == CATALOG_OK)
        log_info("revoked database %s from %s", w->word[2], user.name);
    reply_catalog(out, st, "Database", w->word[2]);
}

void access_cmd_revoke_table(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    int64_t db_id = 0;
    CatalogUser user = {0};
    unsigned privs = parse_privileges(w, 5);
    if (!privs || !table_name_valid(w->word[3])) {
        reply_bad_request(out, "usage: " ACCESS_USAGE_REVOKE_TABLE);
        return;
    }
    if (find_db_and_user(env, w->word[2], w->word[4], &db_id, &user, out) != 0)
        return;
    CatalogStatus st = catalog_revoke_table(env->catalog, db_id, user.id, w->word[3], privs);
    if (st == CATALOG_OK)
        log_info("revoked privileges %u on table %s of database %s from %s", privs, w->word[3],
                 w->word[2], user.name);
    reply_catalog(out, st, "Database", w->word[2]);
}

/* Writes catalog rows as JSON objects; `keys` name the columns. */
typedef struct ListWriter {
    Buf *out;
    const char *const *keys;
    bool first;
} ListWriter;

static void write_key(Buf *out, const char *key)
{
    json_append_string(out, key, strlen(key));
    buf_putc(out, ':');
}

static void write_text(Buf *out, const char *v)
{
    if (v)
        json_append_string(out, v, strlen(v));
    else
        buf_append_str(out, "null");
}

static void list_row(void *ctx, const char *const *cols, int ncols)
{
    ListWriter *lw = ctx;
    buf_append_str(lw->out, lw->first ? "{" : ",{");
    lw->first = false;
    for (int i = 0; i < ncols && lw->keys[i]; i++) {
        if (i)
            buf_putc(lw->out, ',');
        write_key(lw->out, lw->keys[i]);
        if (strcmp(lw->keys[i], "super") == 0) {
            buf_append_str(lw->out, cols[i] ? cols[i] : "false");
        } else if (strcmp(lw->keys[i], "privileges") == 0) {
            /* A bit set in decimal becomes the list of privilege words. */
            unsigned bits = cols[i] ? (unsigned)strtoul(cols[i], NULL, 10) : 0;
            buf_putc(lw->out, '[');
            bool first = true;
            for (size_t k = 0; k < NPRIVS; k++) {
                if (!(bits & privilege_words[k].bit))
                    continue;
                buf_printf(lw->out, "%s\"%s\"", first ? "" : ",", privilege_words[k].word);
                first = false;
            }
            buf_putc(lw->out, ']');
        } else {
            write_text(lw->out, cols[i]);
        }
    }
    buf_putc(lw->out, '}');
}

void access_cmd_list(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    /* NULL-terminated: the listing's further columns (ids) are not shown. */
    static const char *const user_keys[] = {"name", "super", NULL};
    static const char *const db_keys[] = {"name", "access", NULL};
    static const char *const grant_keys[] = {"database", "access", "table", "privileges", NULL};
    CatalogList what;
    const char *const *keys;
    int64_t filter = 0;
    if (w->n == 2 && request_word_is(w->word[1], "users")) {
        if (!access_require_super(s, out))
            return;
        what = CATALOG_LIST_USERS;
        keys = user_keys;
    } else if (w->n == 2 && request_word_is(w->word[1], "databases")) {
        /* Other users see the databases they have a grant on, with the grant. */
        what = CATALOG_LIST_DATABASES;
        keys = db_keys;
        filter = s->user.super ? 0 : s->user.id;
    } else if ((w->n == 2 || w->n == 3) && request_word_is(w->word[1], "grants")) {
        what = CATALOG_LIST_GRANTS;
        keys = grant_keys;
        filter = s->user.id;
        if (w->n == 3 && strcmp(w->word[2], s->user.name) != 0) {
            if (!access_require_super(s, out))
                return;
            CatalogUser user = {0};
            if (!catalog_name_valid(w->word[2])) {
                reply_invalid_name(out, "user", w->word[2]);
                return;
            }
            CatalogStatus st = catalog_user_find(env->catalog, w->word[2], &user);
            if (st != CATALOG_OK) {
                reply_catalog(out, st, "User", w->word[2]);
                return;
            }
            filter = user.id;
        }
    } else {
        reply_bad_request(out, "usage: " ACCESS_USAGE_LIST);
        return;
    }
    size_t start = out->len;
    ListWriter lw = {.out = out, .keys = keys, .first = true};
    buf_putc(out, '[');
    if (catalog_list(env->catalog, what, filter, list_row, &lw) != CATALOG_OK) {
        out->len = start;
        reply_internal(out);
        return;
    }
    buf_append_str(out, "]\n");
}
