/*
 * Unit tests of catalog.c against a real SQLite file in a temporary
 * directory (removed at the end). The file is also read directly with the
 * SQLite API to check what is stored, not only what the catalog returns.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog.h"
#include "log.h"
#include "unit.h"

/* Entries in catalog.c's migrations[]: bump with each new schema step. */
#define MIGRATIONS 3

static char dir[] = "/tmp/test_catalog.XXXXXX";
static char path[sizeof(dir) + 32];

/* Runs a one-value query on the file at `file`; copies a text result into out. */
static bool query_text(const char *file, const char *sql, char *out, size_t outlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool ok = false;
    out[0] = '\0';
    if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
        ok = true;
    }
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

static void test_name_valid(void)
{
    char name[80];
    CHECK(catalog_name_valid("duck"));
    CHECK(catalog_name_valid("A"));
    CHECK(catalog_name_valid("_"));
    CHECK(catalog_name_valid("_1"));
    CHECK(catalog_name_valid("Sales_2024"));
    memset(name, 'a', 63);
    name[63] = '\0';
    CHECK(catalog_name_valid(name));
    name[63] = 'a';
    name[64] = '\0';
    CHECK(!catalog_name_valid(name));
    CHECK(!catalog_name_valid(""));
    CHECK(!catalog_name_valid("1abc"));
    CHECK(!catalog_name_valid("9"));
    CHECK(!catalog_name_valid("../etc"));
    CHECK(!catalog_name_valid("a/b"));
    CHECK(!catalog_name_valid("a.b"));
    CHECK(!catalog_name_valid("a-b"));
    CHECK(!catalog_name_valid("a b"));
    CHECK(!catalog_name_valid(" a"));
    CHECK(!catalog_name_valid("a\n"));
    CHECK(!catalog_name_valid("\xc3\xa9t\xc3\xa9")); /* "été" */
    CHECK(!catalog_name_valid("na\xc3\xafve"));      /* "naïve" */
    CHECK(!catalog_name_valid("\xe6\x97\xa5"));      /* a CJK character */
}

typedef struct FileCalls {
    int calls;
    int64_t last_id;
    int rc;
} FileCalls;

static int create_file(int64_t id, void *ctx)
{
    FileCalls *f = ctx;
    f->calls++;
    f->last_id = id;
    return f->rc;
}

static void test_users(Catalog *c)
{
    char verifier[512];
    CHECK(query_text(path, "SELECT verifier FROM users WHERE name = 'duck' AND is_super = 1",
                     verifier, sizeof(verifier)));
    CHECK(strncmp(verifier, "SCRAM-SHA-256$", 14) == 0);
    CHECK(strstr(verifier, "duck") == NULL);

    CatalogUser u = {0};
    CHECK(catalog_login(c, "duck", "duck", &u) == CATALOG_OK);
    CHECK_STR(u.name, "duck");
    CHECK(u.super);
    CHECK(u.id > 0);
    CatalogUser untouched = {.id = 42};
    CHECK(catalog_login(c, "duck", "wrong", &untouched) == CATALOG_DENIED);
    CHECK(untouched.id == 42);
    CHECK(catalog_login(c, "nobody", "duck", &untouched) == CATALOG_DENIED);
    CHECK(catalog_login(c, "../etc", "duck", &untouched) == CATALOG_DENIED);
    CHECK(catalog_login(c, "", "duck", &untouched) == CATALOG_DENIED);
    CHECK(catalog_super_has_default_password(c));

    CHECK(catalog_user_create(c, "alice", "pw1") == CATALOG_OK);
    CHECK(catalog_user_create(c, "alice", "other") == CATALOG_EXISTS);
    CHECK(catalog_user_create(c, "duck", "other") == CATALOG_EXISTS);
    CHECK(catalog_login(c, "alice", "other", &u) == CATALOG_DENIED);
    CHECK(catalog_login(c, "alice", "pw1", &u) == CATALOG_OK);
    CHECK_STR(u.name, "alice");
    CHECK(!u.super);
    int64_t alice_id = u.id;
    CHECK(query_text(path, "SELECT verifier FROM users WHERE name = 'alice'", verifier,
                     sizeof(verifier)));
    CHECK(strncmp(verifier, "SCRAM-SHA-256$", 14) == 0);

    CHECK(catalog_user_rename(c, "alice", "bob") == CATALOG_OK);
    CHECK(catalog_login(c, "alice", "pw1", &u) == CATALOG_DENIED);
    CHECK(catalog_login(c, "bob", "pw1", &u) == CATALOG_OK);
    CHECK(u.id == alice_id);
    CHECK_STR(u.name, "bob");
    CHECK(catalog_user_rename(c, "nobody", "carol") == CATALOG_NOT_FOUND);
    CHECK(catalog_user_rename(c, "bob", "duck") == CATALOG_EXISTS);

    CHECK(catalog_user_set_password(c, "bob", "pw2") == CATALOG_OK);
    CHECK(catalog_login(c, "bob", "pw1", &u) == CATALOG_DENIED);
    CHECK(catalog_login(c, "bob", "pw2", &u) == CATALOG_OK);
    CHECK(catalog_user_set_password(c, "nobody", "pw") == CATALOG_NOT_FOUND);

    CHECK(catalog_user_set_password(c, "duck", "a better password") == CATALOG_OK);
    CHECK(!catalog_super_has_default_password(c));
    CHECK(catalog_login(c, "duck", "duck", &u) == CATALOG_DENIED);
    CHECK(catalog_login(c, "duck", "a better password", &u) == CATALOG_OK);
}

static void test_databases(Catalog *c, int64_t *out_sales_id)
{
    FileCalls ok = {0}, fail = {.rc = -1};
    int64_t id = 0, found = 0;
    CHECK(catalog_database_create(c, "analytics", create_file, &ok, &id) == CATALOG_OK);
    CHECK(ok.calls == 1 && ok.last_id == id && id > 0);
    CHECK(catalog_database_find(c, "analytics", &found) == CATALOG_OK);
    CHECK(found == id);

    int64_t other = -7;
    CHECK(catalog_database_create(c, "analytics", create_file, &ok, &other) == CATALOG_EXISTS);
    CHECK(ok.calls == 1); /* no file for a duplicate */
    CHECK(other == -7);

    CHECK(catalog_database_create(c, "broken", create_file, &fail, &other) != CATALOG_OK);
    CHECK(fail.calls == 1);
    CHECK(other == -7);
    CHECK(catalog_database_find(c, "broken", &found) == CATALOG_NOT_FOUND);
    char count[32];
    CHECK(query_text(path, "SELECT count(*) FROM databases WHERE name = 'broken'", count,
                     sizeof(count)));
    CHECK_STR(count, "0");

    int64_t second = 0;
    CHECK(catalog_database_create(c, "reports", create_file, &ok, &second) == CATALOG_OK);
    CHECK(second != id);

    CHECK(catalog_database_rename(c, "analytics", "sales") == CATALOG_OK);
    CHECK(catalog_database_find(c, "analytics", &found) == CATALOG_NOT_FOUND);
    CHECK(catalog_database_find(c, "sales", &found) == CATALOG_OK);
    CHECK(found == id); /* a rename keeps the id, hence the file */
    CHECK(catalog_database_rename(c, "nothing", "x") == CATALOG_NOT_FOUND);
    CHECK(catalog_database_rename(c, "sales", "reports") == CATALOG_EXISTS);

    CatalogUser bob = {0};
    CatalogAccess access = CATALOG_ACCESS_WRITE;
    CHECK(catalog_login(c, "bob", "pw2", &bob) == CATALOG_OK);
    CHECK(catalog_database_access(c, bob.id, id, &access) == CATALOG_OK);
    CHECK(access == CATALOG_ACCESS_NONE);
    *out_sales_id = id;
}

/* The grants of `user_id` on `db_id`, "name:privileges" sorted by name, comma separated. */
static void grants_of(int64_t user_id, int64_t db_id, char *out, size_t outlen)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT group_concat(table_name || ':' || privileges, ',') FROM (SELECT * FROM "
             "table_grants WHERE user_id = %lld AND database_id = %lld ORDER BY table_name)",
             (long long)user_id, (long long)db_id);
    if (!query_text(path, sql, out, outlen))
        snprintf(out, outlen, "(none)");
}

static void test_table_grants_rename(Catalog *c, int64_t db_id)
{
    CatalogUser carol = {0};
    char got[256];
    CHECK(catalog_user_create(c, "carol", "pw3") == CATALOG_OK);
    CHECK(catalog_user_find(c, "carol", &carol) == CATALOG_OK);
    CHECK(catalog_grant_database(c, db_id, carol.id, CATALOG_ACCESS_WRITE) == CATALOG_OK);
    CHECK(catalog_grant_table(c, db_id, carol.id, "a", CATALOG_PRIV_SELECT) == CATALOG_OK);
    CHECK(catalog_grant_table(c, db_id, carol.id, "b", CATALOG_PRIV_INSERT) == CATALOG_OK);
    CHECK(catalog_grant_table(c, db_id, carol.id, "c", CATALOG_PRIV_DELETE) == CATALOG_OK);
    CHECK(catalog_grant_table(c, db_id, carol.id, "stale", CATALOG_PRIV_UPDATE) == CATALOG_OK);

    /* Nothing to do. */
    CHECK(catalog_table_grants_rename(c, db_id, NULL, 0) == 0);
    grants_of(carol.id, db_id, got, sizeof(got));
    CHECK_STR(got, "a:1,b:2,c:8,stale:4");

    /* A swap of a and b, case kept as given (names compare case-insensitively). */
    CatalogTableRename swap[] = {{"A", "b"}, {"b", "A"}};
    CHECK(catalog_table_grants_rename(c, db_id, swap, 2) == 2);
    grants_of(carol.id, db_id, got, sizeof(got));
    CHECK_STR(got, "A:2,b:1,c:8,stale:4");
    CHECK(catalog_table_privileges(c, db_id, carol.id, "a") == CATALOG_PRIV_INSERT);
    CHECK(catalog_table_privileges(c, db_id, carol.id, "B") == CATALOG_PRIV_SELECT);

    /* A drop and a rename onto the dropped name; a move onto a name whose
     * stored grant is not moved away replaces it; an unknown name moves nothing. */
    CatalogTableRename shift[] = {{"A", NULL}, {"c", "a"}, {"b", "stale"}, {"ghost", "g"}};
    CHECK(catalog_table_grants_rename(c, db_id, shift, 4) == 4);
    grants_of(carol.id, db_id, got, sizeof(got));
    CHECK_STR(got, "a:8,stale:1");

    /* Other users' grants and other databases are left alone. */
    CatalogTableRename drop_all[] = {{"a", NULL}, {"stale", NULL}};
    CHECK(catalog_table_grants_rename(c, db_id + 1000, drop_all, 2) == 0);
    grants_of(carol.id, db_id, got, sizeof(got));
    CHECK_STR(got, "a:8,stale:1");
    CHECK(catalog_table_grants_rename(c, db_id, drop_all, 2) == 2);
    grants_of(carol.id, db_id, got, sizeof(got));
    CHECK_STR(got, "(none)");
    CHECK(catalog_revoke_database(c, db_id, carol.id) == CATALOG_OK);
}

typedef struct SeenLimits {
    int n;
    char names[4][64];
    int64_t values[4];
} SeenLimits;

static void see_limit(void *ctx, const char *name, int64_t value)
{
    SeenLimits *s = ctx;
    if (s->n < 4) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
        s->values[s->n++] = value;
    }
}

/* Per-user limits: set, replace, remove (also one never set), per user. */
static void test_user_limits(Catalog *c)
{
    CatalogUser u, d;
    CHECK(catalog_user_create(c, "limited", "pw") == CATALOG_OK);
    CHECK(catalog_user_find(c, "limited", &u) == CATALOG_OK);
    CHECK(catalog_user_find(c, "duck", &d) == CATALOG_OK);
    SeenLimits seen = {0};
    CHECK(catalog_user_limits(c, u.id, see_limit, &seen) == 0 && seen.n == 0);
    CHECK(catalog_user_limit_set(c, u.id, "statement_timeout", 30) == CATALOG_OK);
    CHECK(catalog_user_limit_set(c, u.id, "statement_timeout", 60) == CATALOG_OK);
    CHECK(catalog_user_limit_set(c, u.id, "max_statements", 2) == CATALOG_OK);
    CHECK(catalog_user_limit_set(c, d.id, "max_statements", 9) == CATALOG_OK);
    CHECK(catalog_user_limits(c, u.id, see_limit, &seen) == 0);
    CHECK(seen.n == 2);
    for (int i = 0; i < seen.n; i++) {
        if (strcmp(seen.names[i], "statement_timeout") == 0)
            CHECK(seen.values[i] == 60);
        else
            CHECK(strcmp(seen.names[i], "max_statements") == 0 && seen.values[i] == 2);
    }
    CHECK(catalog_user_limit_set(c, u.id, "statement_timeout", -1) == CATALOG_OK);
    CHECK(catalog_user_limit_set(c, u.id, "statement_timeout", -1) == CATALOG_OK);
    seen = (SeenLimits){0};
    CHECK(catalog_user_limits(c, u.id, see_limit, &seen) == 0);
    CHECK(seen.n == 1 && strcmp(seen.names[0], "max_statements") == 0 && seen.values[0] == 2);
    CHECK(catalog_user_limit_set(c, d.id, "max_statements", -1) == CATALOG_OK);
}

/* What a forced CDC unlink left: recorded, listed with its sealed string, updated, forgotten. */
static void test_cdc_orphans(Catalog *c)
{
    CatalogCdcOrphan o = {.database_id = 42, .dsn_sealed = "\x01\x00sealed", .dsn_len = 8};
    snprintf(o.database, sizeof(o.database), "shop");
    snprintf(o.slot, sizeof(o.slot), "tcpduckdb_0123");
    snprintf(o.publication, sizeof(o.publication), "tcpduckdb_0123");
    snprintf(o.target, sizeof(o.target), "postgresql://app:****@db:5432/shop");
    snprintf(o.last_error, sizeof(o.last_error), "connection refused");
    CatalogCdcOrphan *v = NULL;
    size_t n = 9;
    CHECK(catalog_cdc_orphan_list(c, &v, &n) == CATALOG_OK && n == 0 && v == NULL);
    CHECK(catalog_cdc_orphan_add(c, &o) == CATALOG_OK);
    snprintf(o.slot, sizeof(o.slot), "tcpduckdb_4567");
    CHECK(catalog_cdc_orphan_add(c, &o) == CATALOG_OK);
    CHECK(catalog_cdc_orphan_list(c, &v, &n) == CATALOG_OK && n == 2);
    if (n == 2) {
        CHECK_STR(v[0].slot, "tcpduckdb_0123");
        CHECK_STR(v[1].slot, "tcpduckdb_4567");
        CHECK_STR(v[0].database, "shop");
        CHECK(v[0].database_id == 42);
        CHECK(v[0].dsn_len == 8 && memcmp(v[0].dsn_sealed, "\x01\x00sealed", 8) == 0);
        CHECK(strlen(v[0].left_at) == 20 && v[0].left_at[19] == 'Z');
        CHECK(catalog_cdc_orphan_set_error(c, v[1].id, "still down") == CATALOG_OK);
        CHECK(catalog_cdc_orphan_delete(c, v[0].id) == CATALOG_OK);
        CHECK(catalog_cdc_orphan_delete(c, v[0].id) == CATALOG_NOT_FOUND);
    }
    catalog_cdc_orphans_free(v, n);
    CHECK(catalog_cdc_orphan_list(c, &v, &n) == CATALOG_OK && n == 1);
    if (n == 1)
        CHECK_STR(v[0].last_error, "still down");
    catalog_cdc_orphans_free(v, n);
}

/* The tables a CDC stream follows: replaced, added to once, forgotten. */
static void test_cdc_followed(Catalog *c, int64_t db_id)
{
    char **v = NULL;
    int n = 9;
    CHECK(catalog_cdc_followed_list(c, db_id, &v, &n) == CATALOG_OK && n == 0 && v == NULL);
    const char *names[] = {"orders", "Items"};
    CHECK(catalog_cdc_followed_set(c, db_id, names, 2) == CATALOG_OK);
    CHECK(catalog_cdc_followed_add(c, db_id, "ORDERS") == CATALOG_OK); /* NOCASE: known */
    CHECK(catalog_cdc_followed_add(c, db_id, "lines") == CATALOG_OK);
    CHECK(catalog_cdc_followed_list(c, db_id, &v, &n) == CATALOG_OK && n == 3);
    if (n == 3) {
        CHECK_STR(v[0], "Items");
        CHECK_STR(v[1], "lines");
        CHECK_STR(v[2], "orders");
    }
    catalog_names_free(v, n);
    CHECK(catalog_cdc_followed_set(c, db_id, NULL, 0) == CATALOG_OK);
    CHECK(catalog_cdc_followed_list(c, db_id, &v, &n) == CATALOG_OK && n == 0);
    catalog_names_free(v, n);
}

static void test_reopen(int64_t sales_id)
{
    char err[256] = "";
    /* A different super password on a later start changes nothing. */
    Catalog *c = catalog_open(path, "ignored", err, sizeof(err));
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CatalogUser u = {0};
    int64_t found = 0;
    CHECK(catalog_login(c, "duck", "a better password", &u) == CATALOG_OK);
    CHECK(catalog_login(c, "duck", "ignored", &u) == CATALOG_DENIED);
    CHECK(!catalog_super_has_default_password(c));
    CHECK(catalog_login(c, "bob", "pw2", &u) == CATALOG_OK);
    CHECK(catalog_database_find(c, "sales", &found) == CATALOG_OK);
    CHECK(found == sales_id);
    CHECK(catalog_database_find(c, "reports", &found) == CATALOG_OK);
    catalog_close(c);

    char users[32];
    CHECK(query_text(path, "SELECT count(*) FROM users WHERE is_super = 1", users, sizeof(users)));
    CHECK_STR(users, "1");
    char version[32];
    CHECK(query_text(path, "PRAGMA user_version", version, sizeof(version)));
    char want[32];
    snprintf(want, sizeof(want), "%d", MIGRATIONS);
    CHECK_STR(version, want);
}

static void test_open_failures(void)
{
    char err[256] = "";
    char missing[sizeof(path) + 32];
    snprintf(missing, sizeof(missing), "%s/no/such/dir/catalog.db", dir);
    CHECK(catalog_open(missing, "duck", err, sizeof(err)) == NULL);
    CHECK(err[0] != '\0');

    /* A catalog from a newer server is refused, not downgraded. */
    char newer[sizeof(path) + 32];
    snprintf(newer, sizeof(newer), "%s/newer.db", dir);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(newer, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    err[0] = '\0';
    CHECK(catalog_open(newer, "duck", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "newer") != NULL);
}

/* Removes the temporary directory and the files in it. */
static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char file[sizeof(dir) + 300];
        snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
        CHECK(unlink(file) == 0);
    }
    closedir(d);
    CHECK(rmdir(dir) == 0);
}

/* Every change of a grant or a user moves the generation; a read or a write that changed
 * nothing leaves it, so the access checks' copies stay valid (access.h). */
static void test_generation(Catalog *c, int64_t db_id)
{
    CatalogUser dave = {0};
    CatalogAccess access = CATALOG_ACCESS_NONE;
    uint64_t g0 = catalog_generation(c);
    CHECK(catalog_user_create(c, "dave", "pw4") == CATALOG_OK);
    uint64_t g1 = catalog_generation(c);
    CHECK(g1 != g0);
    CHECK(catalog_user_find(c, "dave", &dave) == CATALOG_OK);
    CHECK(catalog_database_access(c, dave.id, db_id, &access) == CATALOG_OK);
    CHECK(catalog_table_privileges(c, db_id, dave.id, "t") == 0);
    CHECK(catalog_generation(c) == g1);
    CHECK(catalog_grant_database(c, db_id, dave.id, CATALOG_ACCESS_READ) == CATALOG_OK);
    uint64_t g2 = catalog_generation(c);
    CHECK(g2 != g1);
    CHECK(catalog_grant_table(c, db_id, dave.id, "t", CATALOG_PRIV_SELECT) == CATALOG_OK);
    uint64_t g3 = catalog_generation(c);
    CHECK(g3 != g2);
    CHECK(catalog_revoke_table(c, db_id, dave.id, "t", CATALOG_PRIV_SELECT) == CATALOG_OK);
    uint64_t g4 = catalog_generation(c);
    CHECK(g4 != g3);
    CHECK(catalog_revoke_database(c, db_id, dave.id) == CATALOG_OK);
    uint64_t g5 = catalog_generation(c);
    CHECK(g5 != g4);
    CHECK(catalog_revoke_database(c, db_id, dave.id) != CATALOG_ERROR);
    CHECK(catalog_generation(c) == g5);
}

static void test_catalog_file(void)
{
    char err[256] = "";
    Catalog *c = catalog_open(path, "duck", err, sizeof(err));
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    int64_t sales_id = 0;
    unit_current = "test_users";
    test_users(c);
    unit_current = "test_databases";
    test_databases(c, &sales_id);
    unit_current = "test_table_grants_rename";
    test_table_grants_rename(c, sales_id);
    unit_current = "test_user_limits";
    test_user_limits(c);
    unit_current = "test_generation";
    test_generation(c, sales_id);
    unit_current = "test_cdc_orphans";
    test_cdc_orphans(c);
    unit_current = "test_cdc_followed";
    test_cdc_followed(c, sales_id);
    catalog_close(c);
    catalog_close(NULL);
    unit_current = "test_reopen";
    test_reopen(sales_id);
}

int main(void)
{
    log_set_level(LOG_WARN);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/catalog.db", dir);
    UNIT_RUN(test_name_valid);
    UNIT_RUN(test_catalog_file);
    UNIT_RUN(test_open_failures);
    remove_dir();
    return unit_summary("test_catalog");
}
