/*
 * Unit tests of access.c: who may do what, on a real catalog (SQLite in a
 * temporary directory) and a real pool, through sessions driven without
 * sockets (session_handle with an in-memory QueryIo). Covers the super-user
 * commands, the database grant, table grants of SQL requests, revoke taking
 * effect at the next request, and grants that follow a renamed table.
 */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "catalog.h"
#include "config.h"
#include "pool.h"
#include "session.h"
#include "unit.h"

static char root[] = "/tmp/test_access.XXXXXX";
static SessionEnv env;

static int keep_all(void *ctx, Buf *out)
{
    buf_append(ctx, out->data, out->len);
    out->len = 0;
    return 0;
}

/* The answer line to one request, without its newline (static until the next call). */
static const char *req(Session *s, const char *text)
{
    static char answer[4096];
    Buf out = BUF_INIT, all = BUF_INIT;
    QueryIo io = {.out = &out, .flush = keep_all, .ctx = &all, .client_fd = -1};
    char *copy = strdup(text);
    session_handle(s, &env, REQUEST_OK, copy, strlen(copy), &io);
    buf_append(&all, out.data, out.len);
    snprintf(answer, sizeof(answer), "%s", buf_cstr(&all));
    size_t n = strlen(answer);
    if (n > 0 && answer[n - 1] == '\n')
        answer[n - 1] = '\0';
    free(copy);
    buf_free(&out);
    buf_free(&all);
    return answer;
}

static Session *logged_in(const char *user, const char *password)
{
    Session *s = session_new();
    char line[128];
    snprintf(line, sizeof(line), "login %s %s", user, password);
    CHECK_STR(req(s, line), "success");
    return s;
}

static void test_super_user_commands(void)
{
    Session *duck = logged_in("duck", "duck");
    CHECK_STR(req(duck, "create database shop"), "success");
    CHECK_STR(req(duck, "create user ann pw"), "success");
    Session *ann = logged_in("ann", "pw");
    Buf out = BUF_INIT;
    CHECK(access_require_super(duck, &out) && out.len == 0);
    CHECK(!access_require_super(ann, &out));
    CHECK_STR(buf_cstr(&out), "Error: Unauthorized\n");
    buf_free(&out);
    CHECK_STR(req(ann, "create database mine"), "Error: Unauthorized");
    CHECK_STR(req(ann, "grant database shop ann write"), "Error: Unauthorized");
    CHECK_STR(req(ann, "connect shop"),
              "Error: Access Denied: User \"ann\" does not have access over Database \"shop\"");
    session_free(ann, &env);
    session_free(duck, &env);
}

static void test_database_and_table_grants(void)
{
    Session *duck = logged_in("duck", "duck");
    CHECK_STR(req(duck, "connect shop"), "success");
    CHECK_STR(req(duck, "CREATE TABLE orders (id INTEGER, secret VARCHAR)"), "success");
    CHECK_STR(req(duck, "CREATE TABLE hidden (v VARCHAR)"), "success");
    CHECK_STR(req(duck, "INSERT INTO orders VALUES (1, 's')"), "1");
    CHECK_STR(req(duck, "INSERT INTO hidden VALUES ('h')"), "1");
    CHECK_STR(req(duck, "grant database shop ann read"), "success");
    CHECK_STR(req(duck, "grant table shop orders ann select"), "success");

    Session *ann = logged_in("ann", "pw");
    CHECK_STR(req(ann, "connect shop"), "success");
    CHECK_STR(req(ann, "SELECT id FROM orders"), "[{\"id\":1}]");
    CHECK(strncmp(req(ann, "SELECT * FROM hidden"), "Error: ", 7) == 0);
    CHECK(strncmp(req(ann, "INSERT INTO orders VALUES (2, 'x')"), "Error: ", 7) == 0);
    /* A revoke takes effect at the next request, cached statement or not. */
    CHECK_STR(req(duck, "revoke table shop orders ann select"), "success");
    CHECK(strncmp(req(ann, "SELECT id FROM orders"), "Error: ", 7) == 0);
    CHECK_STR(req(duck, "grant table shop orders ann select"), "success");
    CHECK_STR(req(ann, "SELECT id FROM orders"), "[{\"id\":1}]");

    /* A rename in one request: the grant stays with the table, under its new name, and the
     * name it had does not pass to the table renamed onto it. */
    CHECK_STR(req(duck, "ALTER TABLE orders RENAME TO orders_old; "
                        "ALTER TABLE hidden RENAME TO orders"),
              "success");
    CHECK(strncmp(req(ann, "SELECT * FROM orders"), "Error: ", 7) == 0);
    CHECK_STR(req(ann, "SELECT id FROM orders_old"), "[{\"id\":1}]");
    session_free(ann, &env);
    session_free(duck, &env);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

int main(void)
{
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    static Config cfg;
    char *argv[] = {"test_access", "--data-dir", root, NULL};
    char err[512] = "";
    if (config_load(&cfg, 3, argv, "/nonexistent.env", err, sizeof(err)) != CONFIG_OK) {
        fprintf(stderr, "config: %s\n", err);
        return 2;
    }
    char path[1100];
    snprintf(path, sizeof(path), "%s/catalog.sqlite3", root);
    Catalog *catalog = catalog_open(path, "duck", err, sizeof(err));
    PoolConfig pc = {.data_dir = root,
                     .size = 4,
                     .wait_ms = 1000,
                     .max_waiters = 2,
                     .threads = 1,
                     .memory_limit = "",
                     .on_open = access_tables_open,
                     .on_close = access_tables_close};
    Pool *pool = catalog ? pool_new(&pc, err, sizeof(err)) : NULL;
    if (!pool) {
        fprintf(stderr, "set-up: %s\n", err);
        return 2;
    }
    env = (SessionEnv){.cfg = &cfg, .catalog = catalog, .pool = pool};
    UNIT_RUN(test_super_user_commands);
    UNIT_RUN(test_database_and_table_grants);
    pool_free(pool);
    catalog_close(catalog);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return unit_summary("test_access");
}
