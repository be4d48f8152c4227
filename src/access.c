/*
 * access: who may do what; grant, revoke and list. See access.h.
 *
 * A table grant names a table that exists when it is made: the name is
 * checked against the database's catalog through a short-lived DuckDB
 * connection and stored in DuckDB's own spelling. Grants follow a database
 * through renames (they refer to its id) and are pruned when their table is
 * dropped or renamed, so a grant never passes to a different table that is
 * created later under the same name.
 */
#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "json.h"
#include "log.h"
#include "query.h"
#include "reply.h"

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

typedef struct TableMatch {
    const char *want;
    char found[TABLE_NAME_MAX + 1];
} TableMatch;

static void match_table(void *ctx, const char *name, int64_t oid)
{
    (void)oid;
    TableMatch *m = ctx;
    if (!m->found[0] && strcasecmp(name, m->want) == 0)
        snprintf(m->found, sizeof(m->found), "%s", name);
}

/*
 * Looks `table` up in database `db_id` (tables and views of schema main),
 * writing DuckDB's spelling of it into `out_name`. Returns 1 found, 0 not
 * found, -1 after answering an error.
 */
static int table_lookup(const SessionEnv *env, int64_t db_id, const char *table,
                        char out_name[TABLE_NAME_MAX + 1], Buf *out)
{
    PoolDb *db = NULL;
    duckdb_connection con = NULL;
    TableMatch m = {.want = table};
    int rc = -1;
    if (pool_connect(env->pool, db_id, &db, &con, out) != 0)
        return -1;
    if (query_list_tables(con, db_id, match_table, &m) != 0) {
        reply_internal(out);
        goto out;
    }
    rc = m.found[0] != '\0';
    memcpy(out_name, m.found, sizeof(m.found));
out:
    pool_disconnect(env->pool, &db, &con);
    return rc;
}

bool access_require_super(const Session *s, Buf *out)
{
    if (s->state != SESSION_NEW && s->user.super)
        return true;
    reply_unauthorized(out);
    return false;
}

/* The user's grant on database `db_id`; -1 (answered) when there is none. */
static int database_access(const Session *s, const SessionEnv *env, int64_t db_id, const char *name,
                           CatalogAccess *out_access, Buf *out)
{
    *out_access = CATALOG_ACCESS_NONE;
    if (catalog_database_access(env->catalog, s->user.id, db_id, out_access) != CATALOG_OK) {
        reply_internal(out);
        return -1;
    }
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

/* The table grants of the session's user on the connected database (AuthzUser). */
static AuthzPrivileges table_privileges(void *ctx, const char *table)
{
    const GrantLookup *g = ctx;
    return catalog_table_privileges(g->env->catalog, g->s->db_id, g->s->user.id, table);
}

int access_check_request(const Session *s, const SessionEnv *env, const char *sql,
                         const StmtEntry *cached, AuthzPlan **out_plan, Buf *out)
{
    CatalogAccess access;
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
    return authz_check_plan(s->con, sql, &user, out, out_plan);
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
    char name[TABLE_NAME_MAX + 1];
    int found = table_lookup(env, db_id, table, name, out);
    if (found < 0)
        return;
    if (found == 0) {
        reply_table_not_found(out, table);
        return;
    }
    CatalogStatus st = catalog_grant_table(env->catalog, db_id, user.id, name, privs);
    if (st == CATALOG_OK)
        log_info("granted privileges %u on table %s of database %s to %s", privs, name, w->word[2],
                 user.name);
    reply_catalog(out, st, "Database", w->word[2]);
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
    for (int i = 0; i < ncols; i++) {
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
    static const char *const user_keys[] = {"name", "super"};
    static const char *const db_keys[] = {"name", "access"};
    static const char *const grant_keys[] = {"database", "access", "table", "privileges"};
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

typedef struct TableList {
    char (*names)[TABLE_NAME_MAX + 1];
    size_t n, cap;
} TableList;

static void collect_table(void *ctx, const char *name, int64_t oid)
{
    (void)oid;
    TableList *tl = ctx;
    if (tl->n == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 64;
        void *p = realloc(tl->names, cap * sizeof(*tl->names));
        if (!p)
            log_fatal("out of memory");
        tl->names = p;
        tl->cap = cap;
    }
    snprintf(tl->names[tl->n++], TABLE_NAME_MAX + 1, "%s", name);
}

void access_prune_table_grants(Session *s, const SessionEnv *env)
{
    TableList tl = {0};
    const char **ptrs = NULL;
    if (s->state != SESSION_CONNECTED ||
        query_list_tables(s->con, s->db_id, collect_table, &tl) != 0) {
        log_warn("cannot list the tables of %s to prune its grants", s->database);
        goto out;
    }
    ptrs = calloc(tl.n + 1, sizeof(*ptrs));
    if (!ptrs)
        log_fatal("out of memory");
    for (size_t i = 0; i < tl.n; i++)
        ptrs[i] = tl.names[i];
    (void)catalog_table_grants_prune(env->catalog, s->db_id, ptrs, tl.n);
out:
    free(ptrs);
    free(tl.names);
}
