/*
 * catalog: users, databases and grants in SQLite. See catalog.h.
 *
 * Every public function takes the catalog mutex for its SQLite work only;
 * password hashing (PBKDF2, milliseconds) runs outside the lock so logins
 * do not queue behind each other.
 */
#include "catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "scram.h"
#include "xalloc.h"

struct Catalog {
    sqlite3 *db;
    pthread_mutex_t lock; /* guards db and the kept statements */
    /* The lookups every request of a user other than the super user makes,
     * prepared once (prepare_kept) instead of at every request. */
    sqlite3_stmt *access_st, *privileges_st;
    /* catalog_generation(): SQLite's count of the rows this connection changed, published
     * (release) by every unlock(), so after every write and before its writer returns. */
    uint64_t generation;
};

/*
 * Schema migrations: entry i upgrades user_version i to i+1. Append new
 * steps; never edit a released one.
 */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  verifier TEXT NOT NULL,"
    "  is_super INTEGER NOT NULL DEFAULT 0 CHECK (is_super IN (0, 1)),"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
    "CREATE TABLE databases ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));"
    "CREATE TABLE database_grants ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  database_id INTEGER NOT NULL REFERENCES databases(id) ON DELETE CASCADE,"
    "  access TEXT NOT NULL CHECK (access IN ('read', 'write')),"
    "  PRIMARY KEY (user_id, database_id));"
    "CREATE TABLE table_grants ("
    "  user_id INTEGER NOT NULL,"
    "  database_id INTEGER NOT NULL,"
    "  table_name TEXT NOT NULL COLLATE NOCASE,"
    "  privileges INTEGER NOT NULL CHECK (privileges BETWEEN 1 AND 15),"
    "  PRIMARY KEY (user_id, database_id, table_name),"
    "  FOREIGN KEY (user_id, database_id)"
    "    REFERENCES database_grants(user_id, database_id) ON DELETE CASCADE);"
    "CREATE TABLE postgres_links ("
    "  database_id INTEGER PRIMARY KEY REFERENCES databases(id) ON DELETE CASCADE,"
    "  dsn_encrypted BLOB NOT NULL,"
    "  linked_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));",
    /* 1 -> 2: per-user limits over the server's defaults (limits.h). */
    "CREATE TABLE user_limits ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  value INTEGER NOT NULL CHECK (value >= 0),"
    "  PRIMARY KEY (user_id, name));",
    /* 2 -> 3: what a forced unlink of a CDC link left in PostgreSQL (docs/cdc.md). */
    "CREATE TABLE cdc_orphans ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  database_name TEXT NOT NULL,"
    "  database_id INTEGER NOT NULL,"
    "  slot TEXT NOT NULL,"
    "  publication TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  dsn_encrypted BLOB NOT NULL,"
    "  left_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),"
    "  last_error TEXT NOT NULL DEFAULT '');"
    /* ... and the tables each CDC stream follows, read-only to users (docs/cdc.md). */
    "CREATE TABLE cdc_followed_tables ("
    "  database_id INTEGER NOT NULL REFERENCES databases(id) ON DELETE CASCADE,"
    "  table_name TEXT NOT NULL COLLATE NOCASE,"
    "  PRIMARY KEY (database_id, table_name));",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

bool catalog_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > CATALOG_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
        bool digit = ch >= '0' && ch <= '9';
        if (!alpha && !(digit && i > 0))
            return false;
    }
    return true;
}

/* Releases the catalog lock after publishing the generation (catalog_generation). */
static void unlock(Catalog *c)
{
    __atomic_store_n(&c->generation, (uint64_t)sqlite3_total_changes64(c->db), __ATOMIC_RELEASE);
    pthread_mutex_unlock(&c->lock);
}

uint64_t catalog_generation(Catalog *c)
{
    return __atomic_load_n(&c->generation, __ATOMIC_ACQUIRE);
}

static int exec(Catalog *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("catalog: %s", msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Prepares `sql`, logging SQLite's message on failure. */
static sqlite3_stmt *prepare(Catalog *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("catalog: prepare failed: %s", sqlite3_errmsg(c->db));
        return NULL;
    }
    return st;
}

/*
 * The statement for `sql` kept in *slot, prepared on its first use. The
 * caller holds c->lock and gives it back with release_kept(), not
 * sqlite3_finalize(); catalog_close() finalizes it.
 */
static sqlite3_stmt *prepare_kept(Catalog *c, sqlite3_stmt **slot, const char *sql)
{
    if (!*slot &&
        sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        log_error("catalog: prepare failed: %s", sqlite3_errmsg(c->db));
        sqlite3_finalize(*slot);
        *slot = NULL;
    }
    return *slot;
}

/* Readies a kept statement for its next use; it keeps no pointer to the caller's values. */
static void release_kept(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static int user_version(Catalog *c)
{
    sqlite3_stmt *st = prepare(c, "PRAGMA user_version");
    int v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int migrate(Catalog *c, char *err, size_t errlen)
{
    int v = user_version(c);
    if (v < 0) {
        snprintf(err, errlen, "cannot read the catalog's schema version");
        return -1;
    }
    if (v > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "the catalog has schema version %d, newer than this server's %d: "
                 "upgrade the server",
                 v, SCHEMA_VERSION);
        return -1;
    }
    for (; v < SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version = %d;", v + 1);
        if (exec(c, "BEGIN IMMEDIATE") != 0)
            goto failed;
        if (exec(c, migrations[v]) != 0 || exec(c, bump) != 0) {
            exec(c, "ROLLBACK");
            goto failed;
        }
        if (exec(c, "COMMIT") != 0)
            goto failed;
        log_info("catalog schema upgraded to version %d", v + 1);
    }
    return 0;
failed:
    snprintf(err, errlen, "cannot upgrade the catalog to schema version %d (see log)", v + 1);
    return -1;
}

static int ensure_super(Catalog *c, const char *password, char *err, size_t errlen)
{
    sqlite3_stmt *st = prepare(c, "SELECT 1 FROM users WHERE is_super = 1");
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        goto failed;

    char verifier[SCRAM_VERIFIER_MAX];
    if (scram_make_verifier(password, SCRAM_DEFAULT_ITERATIONS, verifier) != 0)
        goto failed;
    st = prepare(c, "INSERT INTO users (name, verifier, is_super) VALUES (?, ?, 1)");
    if (!st)
        goto failed;
    sqlite3_bind_text(st, 1, CATALOG_SUPER_USER, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, verifier, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto failed;
    log_info("Super user created");
    return 0;
failed:
    snprintf(err, errlen, "cannot create the super user: %s", sqlite3_errmsg(c->db));
    return -1;
}

Catalog *catalog_open(const char *path, const char *super_password, char *err, size_t errlen)
{
    Catalog *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the catalog %s: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        goto failed;
    }
    sqlite3_busy_timeout(c->db, 5000);
    if (exec(c, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
                "PRAGMA synchronous = NORMAL;") != 0) {
        snprintf(err, errlen, "cannot configure the catalog %s: %s", path, sqlite3_errmsg(c->db));
        goto failed;
    }
    if (migrate(c, err, errlen) != 0 || ensure_super(c, super_password, err, errlen) != 0)
        goto failed;
    return c;
failed:
    catalog_close(c);
    return NULL;
}

void catalog_close(Catalog *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->access_st);
    sqlite3_finalize(c->privileges_st);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Reads a user's row; CATALOG_NOT_FOUND when there is none. */
static CatalogStatus lookup_user(Catalog *c, const char *name, CatalogUser *out_user,
                                 char verifier[SCRAM_VERIFIER_MAX])
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT id, is_super, verifier FROM users WHERE name = ?");
    if (!st)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        status = CATALOG_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_ROW)
        goto out;
    const char *stored = (const char *)sqlite3_column_text(st, 2);
    if (!stored) /* out of memory inside SQLite */
        goto out;
    out_user->id = sqlite3_column_int64(st, 0);
    out_user->super = sqlite3_column_int(st, 1) != 0;
    snprintf(out_user->name, sizeof(out_user->name), "%s", name);
    snprintf(verifier, SCRAM_VERIFIER_MAX, "%s", stored);
    status = CATALOG_OK;
out:
    if (status == CATALOG_ERROR)
        log_error("catalog: user lookup failed: %s", sqlite3_errmsg(c->db));
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

CatalogStatus catalog_login(Catalog *c, const char *name, const char *password,
                            CatalogUser *out_user)
{
    CatalogUser user = {0};
    char verifier[SCRAM_VERIFIER_MAX] = {0};
    CatalogStatus status = CATALOG_NOT_FOUND;
    if (catalog_name_valid(name))
        status = lookup_user(c, name, &user, verifier);
    if (status == CATALOG_ERROR)
        return status;
    /* Unknown users cost the same PBKDF2 run as known ones. */
    bool found = status == CATALOG_OK;
    bool ok = scram_verify(found ? verifier : scram_dummy_verifier(), password);
    if (!found || !ok)
        return CATALOG_DENIED;
    *out_user = user;
    return CATALOG_OK;
}

CatalogStatus catalog_user_verifier(Catalog *c, const char *name, CatalogUser *out_user,
                                    char verifier[SCRAM_VERIFIER_MAX])
{
    if (!catalog_name_valid(name))
        return CATALOG_NOT_FOUND;
    return lookup_user(c, name, out_user, verifier);
}

/* Maps the result of a write statement to a status; UNIQUE violations are EXISTS. */
static CatalogStatus step_write(Catalog *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return sqlite3_changes(c->db) > 0 ? CATALOG_OK : CATALOG_NOT_FOUND;
    if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE)
        return CATALOG_EXISTS;
    log_error("catalog: write failed: %s", sqlite3_errmsg(c->db));
    return CATALOG_ERROR;
}

/* Runs a write statement with one or two text parameters (b may be NULL). */
static CatalogStatus write2(Catalog *c, const char *sql, const char *a, const char *b)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, sql);
    if (st) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        if (b)
            sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
        status = step_write(c, st);
    }
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

/* Runs a write statement whose one parameter is a row id. */
static CatalogStatus write_id(Catalog *c, const char *sql, int64_t id)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, sql);
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        status = step_write(c, st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&c->lock);
    return status;
}

CatalogStatus catalog_user_create(Catalog *c, const char *name, const char *password)
{
    char verifier[SCRAM_VERIFIER_MAX];
    if (scram_make_verifier(password, SCRAM_DEFAULT_ITERATIONS, verifier) != 0)
        return CATALOG_ERROR;
    return write2(c, "INSERT INTO users (name, verifier) VALUES (?, ?)", name, verifier);
}

CatalogStatus catalog_user_rename(Catalog *c, const char *old_name, const char *new_name)
{
    return write2(c, "UPDATE users SET name = ?2 WHERE name = ?1", old_name, new_name);
}

CatalogStatus catalog_user_limit_set(Catalog *c, int64_t user_id, const char *name, int64_t value)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(
        c, value >= 0 ? "INSERT INTO user_limits (user_id, name, value) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value"
                      : "DELETE FROM user_limits WHERE user_id = ?1 AND name = ?2");
    if (st) {
        sqlite3_bind_int64(st, 1, user_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (value >= 0)
            sqlite3_bind_int64(st, 3, value);
        status = step_write(c, st);
        if (status == CATALOG_NOT_FOUND) /* no value to remove: already the default */
            status = CATALOG_OK;
    }
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

int catalog_user_limits(Catalog *c, int64_t user_id,
                        void (*fn)(void *ctx, const char *name, int64_t value), void *ctx)
{
    int rc = -1;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT name, value FROM user_limits WHERE user_id = ?");
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, user_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name)
            fn(ctx, name, sqlite3_column_int64(st, 1));
    }
    if (step == SQLITE_DONE)
        rc = 0;
out:
    if (rc != 0)
        log_error("catalog: reading user limits failed: %s", sqlite3_errmsg(c->db));
    sqlite3_finalize(st);
    unlock(c);
    return rc;
}

CatalogStatus catalog_user_set_password(Catalog *c, const char *name, const char *password)
{
    char verifier[SCRAM_VERIFIER_MAX];
    if (scram_make_verifier(password, SCRAM_DEFAULT_ITERATIONS, verifier) != 0)
        return CATALOG_ERROR;
    return write2(c, "UPDATE users SET verifier = ?2 WHERE name = ?1", name, verifier);
}

CatalogStatus catalog_user_delete(Catalog *c, const char *name)
{
    return write2(c, "DELETE FROM users WHERE name = ?1 AND is_super = 0", name, NULL);
}

CatalogStatus catalog_user_set_verifier(Catalog *c, const char *name, const char *verifier)
{
    if (!scram_verifier_info(verifier, NULL, NULL))
        return CATALOG_ERROR;
    return write2(c, "UPDATE users SET verifier = ?2 WHERE name = ?1", name, verifier);
}

bool catalog_super_has_default_password(Catalog *c)
{
    CatalogUser user = {0};
    char verifier[SCRAM_VERIFIER_MAX] = {0};
    if (lookup_user(c, CATALOG_SUPER_USER, &user, verifier) != CATALOG_OK)
        return false;
    return scram_verify(verifier, CATALOG_SUPER_USER);
}

CatalogStatus catalog_database_create(Catalog *c, const char *name,
                                      int (*create_file)(int64_t id, void *ctx), void *ctx,
                                      int64_t *out_id)
{
    CatalogStatus status = CATALOG_ERROR;
    sqlite3_stmt *st = NULL;
    bool in_tx = false;
    pthread_mutex_lock(&c->lock);
    if (exec(c, "BEGIN IMMEDIATE") != 0)
        goto out;
    in_tx = true;
    st = prepare(c, "INSERT INTO databases (name) VALUES (?)");
    if (!st)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    status = step_write(c, st);
    if (status != CATALOG_OK)
        goto out;
    int64_t id = sqlite3_last_insert_rowid(c->db);
    /* The file is created while the row is uncommitted: if either fails,
     * neither remains (the caller removes a file whose commit failed). */
    if (create_file(id, ctx) != 0) {
        status = CATALOG_ERROR;
        goto out;
    }
    if (exec(c, "COMMIT") != 0) {
        status = CATALOG_ERROR;
        goto out;
    }
    in_tx = false;
    *out_id = id;
out:
    if (in_tx)
        exec(c, "ROLLBACK");
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

CatalogStatus catalog_database_find(Catalog *c, const char *name, int64_t *out_id)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT id FROM databases WHERE name = ?");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out_id = sqlite3_column_int64(st, 0);
            status = CATALOG_OK;
        } else if (rc == SQLITE_DONE) {
            status = CATALOG_NOT_FOUND;
        } else {
            log_error("catalog: database lookup failed: %s", sqlite3_errmsg(c->db));
        }
    }
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

CatalogStatus catalog_database_delete(Catalog *c, int64_t id)
{
    return write_id(c, "DELETE FROM databases WHERE id = ?", id);
}

CatalogStatus catalog_database_rename(Catalog *c, const char *old_name, const char *new_name)
{
    return write2(c, "UPDATE databases SET name = ?2 WHERE name = ?1", old_name, new_name);
}

CatalogStatus catalog_user_find(Catalog *c, const char *name, CatalogUser *out_user)
{
    char verifier[SCRAM_VERIFIER_MAX];
    return lookup_user(c, name, out_user, verifier);
}

unsigned catalog_access_cap(CatalogAccess access)
{
    switch (access) {
    case CATALOG_ACCESS_WRITE:
        return CATALOG_PRIV_ALL;
    case CATALOG_ACCESS_READ:
        return CATALOG_PRIV_SELECT;
    case CATALOG_ACCESS_NONE:
        break;
    }
    return 0;
}

/* Runs a statement whose parameters are (int64 a, int64 b[, text t][, int64 n]). */
typedef struct Params {
    int64_t a, b;
    const char *text;
    int64_t n;
    bool has_n;
} Params;

static CatalogStatus run_locked(Catalog *c, const char *sql, const Params *p, bool need_change)
{
    sqlite3_stmt *st = prepare(c, sql);
    CatalogStatus status = CATALOG_ERROR;
    if (!st)
        return status;
    sqlite3_bind_int64(st, 1, p->a);
    sqlite3_bind_int64(st, 2, p->b);
    if (p->text)
        sqlite3_bind_text(st, 3, p->text, -1, SQLITE_STATIC);
    if (p->has_n)
        sqlite3_bind_int64(st, 4, p->n);
    status = step_write(c, st);
    if (!need_change && status == CATALOG_NOT_FOUND)
        status = CATALOG_OK;
    sqlite3_finalize(st);
    return status;
}

CatalogStatus catalog_grant_database(Catalog *c, int64_t db_id, int64_t user_id,
                                     CatalogAccess access)
{
    Params p = {
        .a = user_id, .b = db_id, .text = access == CATALOG_ACCESS_WRITE ? "write" : "read"};
    pthread_mutex_lock(&c->lock);
    CatalogStatus st = run_locked(c,
                                  "INSERT INTO database_grants (user_id, database_id, access) "
                                  "VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET access = ?3",
                                  &p, true);
    unlock(c);
    return st;
}

CatalogStatus catalog_revoke_database(Catalog *c, int64_t db_id, int64_t user_id)
{
    Params p = {.a = user_id, .b = db_id};
    pthread_mutex_lock(&c->lock);
    CatalogStatus st = run_locked(
        c, "DELETE FROM database_grants WHERE user_id = ?1 AND database_id = ?2", &p, false);
    unlock(c);
    return st;
}

/* The database grant, read under the lock the caller holds. */
static CatalogStatus access_locked(Catalog *c, int64_t user_id, int64_t db_id,
                                   CatalogAccess *out_access)
{
    CatalogStatus status = CATALOG_ERROR;
    sqlite3_stmt *st = prepare_kept(c, &c->access_st,
                                    "SELECT access FROM database_grants "
                                    "WHERE user_id = ? AND database_id = ?");
    if (!st)
        return status;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, db_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        *out_access = a && strcmp(a, "write") == 0 ? CATALOG_ACCESS_WRITE : CATALOG_ACCESS_READ;
        status = CATALOG_OK;
    } else if (rc == SQLITE_DONE) {
        *out_access = CATALOG_ACCESS_NONE;
        status = CATALOG_OK;
    } else {
        log_error("catalog: grant lookup failed: %s", sqlite3_errmsg(c->db));
    }
    release_kept(st);
    return status;
}

CatalogStatus catalog_grant_table(Catalog *c, int64_t db_id, int64_t user_id, const char *table,
                                  unsigned privs)
{
    CatalogAccess access = CATALOG_ACCESS_NONE;
    Params p = {.a = user_id, .b = db_id, .text = table, .n = privs, .has_n = true};
    pthread_mutex_lock(&c->lock);
    CatalogStatus st = access_locked(c, user_id, db_id, &access);
    if (st == CATALOG_OK && (privs & ~catalog_access_cap(access)) != 0)
        st = CATALOG_DENIED;
    if (st == CATALOG_OK)
        st = run_locked(c,
                        "INSERT INTO table_grants (user_id, database_id, table_name, privileges) "
                        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE "
                        "SET privileges = privileges | ?4",
                        &p, true);
    unlock(c);
    return st;
}

CatalogStatus catalog_revoke_table(Catalog *c, int64_t db_id, int64_t user_id, const char *table,
                                   unsigned privs)
{
    Params p = {.a = user_id, .b = db_id, .text = table, .n = privs, .has_n = true};
    pthread_mutex_lock(&c->lock);
    CatalogStatus st = CATALOG_ERROR;
    if (exec(c, "BEGIN IMMEDIATE") == 0) {
        st = run_locked(c,
                        "UPDATE table_grants SET privileges = privileges & ~?4 "
                        "WHERE user_id = ?1 AND database_id = ?2 AND table_name = ?3 "
                        "AND privileges & ~?4 != 0",
                        &p, false);
        if (st == CATALOG_OK)
            st = run_locked(c,
                            "DELETE FROM table_grants WHERE user_id = ?1 AND database_id = ?2 "
                            "AND table_name = ?3 AND privileges & ~?4 = 0",
                            &p, false);
        if (st != CATALOG_OK || exec(c, "COMMIT") != 0) {
            exec(c, "ROLLBACK");
            st = CATALOG_ERROR;
        }
    }
    unlock(c);
    return st;
}

unsigned catalog_table_privileges(Catalog *c, int64_t db_id, int64_t user_id, const char *table)
{
    unsigned privs = 0;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st =
        prepare_kept(c, &c->privileges_st,
                     "SELECT t.privileges, d.access FROM table_grants t "
                     "JOIN database_grants d USING (user_id, database_id) "
                     "WHERE t.user_id = ? AND t.database_id = ? AND t.table_name = ?");
    if (st) {
        sqlite3_bind_int64(st, 1, user_id);
        sqlite3_bind_int64(st, 2, db_id);
        sqlite3_bind_text(st, 3, table, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *a = (const char *)sqlite3_column_text(st, 1);
            CatalogAccess access =
                a && strcmp(a, "write") == 0 ? CATALOG_ACCESS_WRITE : CATALOG_ACCESS_READ;
            privs = (unsigned)sqlite3_column_int(st, 0) & catalog_access_cap(access);
        } else if (rc != SQLITE_DONE) {
            log_error("catalog: table grant lookup failed: %s", sqlite3_errmsg(c->db));
        }
    }
    release_kept(st);
    unlock(c);
    return privs;
}

int catalog_table_grants_prune(Catalog *c, int64_t db_id, const char *const *tables, size_t n)
{
    int removed = -1;
    sqlite3_stmt *sel = NULL, *del = NULL;
    pthread_mutex_lock(&c->lock);
    if (exec(c, "BEGIN IMMEDIATE") != 0)
        goto out;
    sel = prepare(c, "SELECT DISTINCT table_name FROM table_grants WHERE database_id = ?");
    del = prepare(c, "DELETE FROM table_grants WHERE database_id = ? AND table_name = ?");
    if (!sel || !del)
        goto rollback;
    sqlite3_bind_int64(sel, 1, db_id);
    int count = 0, rc;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(sel, 0);
        bool exists = false;
        for (size_t i = 0; name && i < n && !exists; i++)
            exists = sqlite3_stricmp(tables[i], name) == 0;
        if (exists || !name)
            continue;
        log_info("dropping the grants on table %s of database %lld: the table is gone", name,
                 (long long)db_id);
        sqlite3_reset(del);
        sqlite3_bind_int64(del, 1, db_id);
        sqlite3_bind_text(del, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(del) != SQLITE_DONE)
            goto rollback;
        count += sqlite3_changes(c->db);
    }
    if (rc != SQLITE_DONE || exec(c, "COMMIT") != 0)
        goto rollback;
    removed = count;
    goto out;
rollback:
    log_error("catalog: pruning table grants failed: %s", sqlite3_errmsg(c->db));
    exec(c, "ROLLBACK");
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    unlock(c);
    return removed;
}

/*
 * Phase one moves every grant that moves to a name of its own that no
 * stored grant can have (a control character, which table names of grants
 * never hold: access.c refuses them) and deletes those of dropped tables;
 * phase two moves them to their new names. Two phases let names swap
 * without a moment where two grants have one name.
 */
int catalog_table_grants_rename(Catalog *c, int64_t db_id, const CatalogTableRename *renames,
                                size_t n)
{
    int changed = -1, count = 0;
    /* One statement moves a name's grants to another name (parking, then
     * placing), one deletes a name's grants (dropped tables, then whatever a
     * new name held before the move). */
    sqlite3_stmt *move = NULL, *drop = NULL;
    char tmp[32];
    pthread_mutex_lock(&c->lock);
    if (exec(c, "BEGIN IMMEDIATE") != 0)
        goto out;
    move = prepare(c, "UPDATE table_grants SET table_name = ?3 "
                      "WHERE database_id = ?1 AND table_name = ?2");
    drop = prepare(c, "DELETE FROM table_grants WHERE database_id = ?1 AND table_name = ?2");
    if (!move || !drop)
        goto rollback;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = renames[i].to ? move : drop;
        snprintf(tmp, sizeof(tmp), "\x01%zu", i);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, db_id);
        sqlite3_bind_text(st, 2, renames[i].from, -1, SQLITE_STATIC);
        if (renames[i].to)
            sqlite3_bind_text(st, 3, tmp, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto rollback;
        count += sqlite3_changes(c->db);
    }
    for (size_t i = 0; i < n; i++) {
        if (!renames[i].to)
            continue;
        snprintf(tmp, sizeof(tmp), "\x01%zu", i);
        sqlite3_reset(drop);
        sqlite3_bind_int64(drop, 1, db_id);
        sqlite3_bind_text(drop, 2, renames[i].to, -1, SQLITE_STATIC);
        if (sqlite3_step(drop) != SQLITE_DONE)
            goto rollback;
        count += sqlite3_changes(c->db);
        sqlite3_reset(move);
        sqlite3_bind_int64(move, 1, db_id);
        sqlite3_bind_text(move, 2, tmp, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(move, 3, renames[i].to, -1, SQLITE_STATIC);
        if (sqlite3_step(move) != SQLITE_DONE)
            goto rollback;
    }
    if (exec(c, "COMMIT") != 0)
        goto rollback;
    changed = count;
    goto out;
rollback:
    log_error("catalog: renaming table grants failed: %s", sqlite3_errmsg(c->db));
    exec(c, "ROLLBACK");
out:
    sqlite3_finalize(move);
    sqlite3_finalize(drop);
    unlock(c);
    return changed;
}

CatalogStatus catalog_list(Catalog *c, CatalogList what, int64_t filter,
                           void (*row)(void *ctx, const char *const *cols, int ncols), void *ctx)
{
    static const char *const queries[] = {
        [CATALOG_LIST_USERS] = "SELECT name, CASE is_super WHEN 1 THEN 'true' ELSE 'false' END, id "
                               "FROM users ORDER BY name",
        [CATALOG_LIST_DATABASES] =
            "SELECT d.name, g.access, d.id FROM databases d LEFT JOIN database_grants g "
            "ON g.database_id = d.id AND g.user_id = ?1 "
            "WHERE ?1 = 0 OR g.user_id IS NOT NULL ORDER BY d.name",
        [CATALOG_LIST_GRANTS] =
            "SELECT d.name, g.access, t.table_name, t.privileges FROM database_grants g "
            "JOIN databases d ON d.id = g.database_id "
            "LEFT JOIN table_grants t USING (user_id, database_id) "
            "WHERE g.user_id = ?1 ORDER BY d.name, t.table_name",
    };
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, queries[what]);
    if (!st)
        goto out;
    if (what != CATALOG_LIST_USERS)
        sqlite3_bind_int64(st, 1, filter);
    int ncols = sqlite3_column_count(st), rc;
    const char *cols[8];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < ncols && i < 8; i++)
            cols[i] = (const char *)sqlite3_column_text(st, i);
        row(ctx, cols, ncols);
    }
    if (rc == SQLITE_DONE)
        status = CATALOG_OK;
    else
        log_error("catalog: listing failed: %s", sqlite3_errmsg(c->db));
out:
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

CatalogStatus catalog_database_access(Catalog *c, int64_t user_id, int64_t db_id,
                                      CatalogAccess *out_access)
{
    pthread_mutex_lock(&c->lock);
    CatalogStatus st = access_locked(c, user_id, db_id, out_access);
    unlock(c);
    return st;
}

/* ---- PostgreSQL links ------------------------------------------------- */

CatalogStatus catalog_pglink_set(Catalog *c, int64_t db_id, const void *blob, size_t len)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "INSERT OR REPLACE INTO postgres_links (database_id, "
                                  "dsn_encrypted) VALUES (?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, db_id);
        sqlite3_bind_blob(st, 2, blob, (int)len, SQLITE_STATIC);
        status = step_write(c, st);
    }
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

CatalogStatus catalog_pglink_delete(Catalog *c, int64_t db_id)
{
    return write_id(c, "DELETE FROM postgres_links WHERE database_id = ?", db_id);
}

CatalogStatus catalog_pglink_get(Catalog *c, int64_t db_id, unsigned char **out_blob,
                                 size_t *out_len)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT dsn_encrypted FROM postgres_links WHERE database_id = ?");
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, db_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        status = CATALOG_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        log_error("catalog: read failed: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    unsigned char *blob = xmalloc(n ? n : 1);
    if (n)
        memcpy(blob, sqlite3_column_blob(st, 0), n);
    *out_blob = blob;
    *out_len = n;
    status = CATALOG_OK;
out:
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

/* ---- CDC orphans -------------------------------------------------------- */

CatalogStatus catalog_cdc_orphan_add(Catalog *c, const CatalogCdcOrphan *o)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "INSERT INTO cdc_orphans (database_name, database_id, slot, "
                                  "publication, target, dsn_encrypted, last_error) VALUES (?, ?, "
                                  "?, ?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, o->database, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, o->database_id);
        sqlite3_bind_text(st, 3, o->slot, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, o->publication, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, o->target, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, o->dsn_sealed, (int)o->dsn_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, o->last_error, -1, SQLITE_STATIC);
        status = step_write(c, st);
    }
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

CatalogStatus catalog_cdc_orphan_list(Catalog *c, CatalogCdcOrphan **out, size_t *out_n)
{
    CatalogStatus status = CATALOG_ERROR;
    CatalogCdcOrphan *v = NULL;
    size_t n = 0;
    *out = NULL;
    *out_n = 0;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT id, database_name, database_id, slot, publication, "
                                  "target, dsn_encrypted, left_at, last_error FROM cdc_orphans "
                                  "ORDER BY id");
    if (!st)
        goto out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = xrealloc(v, (n + 1) * sizeof(*v));
        CatalogCdcOrphan *o = &v[n++];
        memset(o, 0, sizeof(*o));
        o->id = sqlite3_column_int64(st, 0);
        snprintf(o->database, sizeof(o->database), "%s", (const char *)sqlite3_column_text(st, 1));
        o->database_id = sqlite3_column_int64(st, 2);
        snprintf(o->slot, sizeof(o->slot), "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(o->publication, sizeof(o->publication), "%s",
                 (const char *)sqlite3_column_text(st, 4));
        snprintf(o->target, sizeof(o->target), "%s", (const char *)sqlite3_column_text(st, 5));
        o->dsn_len = (size_t)sqlite3_column_bytes(st, 6);
        o->dsn_sealed = xmalloc(o->dsn_len ? o->dsn_len : 1);
        if (o->dsn_len)
            memcpy(o->dsn_sealed, sqlite3_column_blob(st, 6), o->dsn_len);
        snprintf(o->left_at, sizeof(o->left_at), "%s", (const char *)sqlite3_column_text(st, 7));
        snprintf(o->last_error, sizeof(o->last_error), "%s",
                 (const char *)sqlite3_column_text(st, 8));
    }
    if (rc != SQLITE_DONE) {
        log_error("catalog: read failed: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    *out = v;
    *out_n = n;
    v = NULL;
    n = 0;
    status = CATALOG_OK;
out:
    sqlite3_finalize(st);
    unlock(c);
    catalog_cdc_orphans_free(v, n);
    return status;
}

CatalogStatus catalog_cdc_orphan_set_error(Catalog *c, int64_t id, const char *err)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "UPDATE cdc_orphans SET last_error = ? WHERE id = ?");
    if (st) {
        sqlite3_bind_text(st, 1, err, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, id);
        status = step_write(c, st);
    }
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

CatalogStatus catalog_cdc_orphan_delete(Catalog *c, int64_t id)
{
    return write_id(c, "DELETE FROM cdc_orphans WHERE id = ?", id);
}

void catalog_cdc_orphans_free(CatalogCdcOrphan *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].dsn_sealed);
    free(v);
}

/* ---- tables followed by CDC ----------------------------------------------- */

CatalogStatus catalog_cdc_followed_list(Catalog *c, int64_t db_id, char ***out, int *out_n)
{
    CatalogStatus status = CATALOG_ERROR;
    char **v = NULL;
    int n = 0;
    *out = NULL;
    *out_n = 0;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "SELECT table_name FROM cdc_followed_tables WHERE database_id "
                                  "= ? ORDER BY table_name");
    if (!st)
        goto out;
    sqlite3_bind_int64(st, 1, db_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = xrealloc(v, (size_t)(n + 1) * sizeof(*v));
        v[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_DONE) {
        log_error("catalog: read failed: %s", sqlite3_errmsg(c->db));
        goto out;
    }
    *out = v;
    *out_n = n;
    v = NULL;
    n = 0;
    status = CATALOG_OK;
out:
    sqlite3_finalize(st);
    unlock(c);
    catalog_names_free(v, n);
    return status;
}

CatalogStatus catalog_cdc_followed_set(Catalog *c, int64_t db_id, const char *const *names, int n)
{
    CatalogStatus status = CATALOG_ERROR;
    sqlite3_stmt *del = NULL, *ins = NULL;
    bool in_tx = false;
    pthread_mutex_lock(&c->lock);
    if (exec(c, "BEGIN IMMEDIATE") != 0)
        goto out;
    in_tx = true;
    del = prepare(c, "DELETE FROM cdc_followed_tables WHERE database_id = ?");
    ins = prepare(c, "INSERT OR IGNORE INTO cdc_followed_tables VALUES (?, ?)");
    if (!del || !ins)
        goto out;
    sqlite3_bind_int64(del, 1, db_id);
    if (sqlite3_step(del) != SQLITE_DONE)
        goto failed;
    for (int i = 0; i < n; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, db_id);
        sqlite3_bind_text(ins, 2, names[i], -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            goto failed;
    }
    if (exec(c, "COMMIT") != 0)
        goto out;
    in_tx = false;
    status = CATALOG_OK;
    goto out;
failed:
    log_error("catalog: write failed: %s", sqlite3_errmsg(c->db));
out:
    if (in_tx)
        exec(c, "ROLLBACK");
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    unlock(c);
    return status;
}

CatalogStatus catalog_cdc_followed_add(Catalog *c, int64_t db_id, const char *name)
{
    CatalogStatus status = CATALOG_ERROR;
    pthread_mutex_lock(&c->lock);
    sqlite3_stmt *st = prepare(c, "INSERT OR IGNORE INTO cdc_followed_tables VALUES (?, ?)");
    if (st) {
        sqlite3_bind_int64(st, 1, db_id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        status = sqlite3_step(st) == SQLITE_DONE ? CATALOG_OK : CATALOG_ERROR;
        if (status != CATALOG_OK)
            log_error("catalog: write failed: %s", sqlite3_errmsg(c->db));
    }
    sqlite3_finalize(st);
    unlock(c);
    return status;
}

void catalog_names_free(char **v, int n)
{
    for (int i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}
