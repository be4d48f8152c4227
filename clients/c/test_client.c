/*
 * Tests of libtcpduckdb against a real server.
 *
 * Without TDB_TEST_PORT, the test starts the server itself: $TCPDUCKDB_BIN, or tcp-duckdb next
 * to the directory of this binary (build/asan/tests/../tcp-duckdb), on port 0 with a temporary
 * data directory, reads the port from the "listening to 127.0.0.1:PORT" log line, and at the
 * end stops it with SIGTERM and fails if it did not exit 0 or logged a sanitizer report. With
 * TDB_TEST_PORT (and TDB_TEST_HOST, default 127.0.0.1) it uses a running server whose super
 * user is duck/duck, and skips the test that stops the server.
 */
#include "tcpduckdb.h"

#include <errno.h>
#include <limits.h>
#include <arpa/inet.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static int checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Checks a status, printing the connection's message when it is not the expected one. */
#define CHECK_RC(conn, call, want)                                                                 \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        checks++;                                                                                  \
        if (rc_ != (want)) {                                                                       \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %d: %s\n", __FILE__, __LINE__,       \
                    #call, rc_, tdb_strstatus(rc_), (want), tdb_error(conn));                      \
        }                                                                                          \
    } while (0)

typedef struct {
    pid_t pid;
    char dir[PATH_MAX];
    char log[PATH_MAX];
    const char *host;
    int port;
} TestServer;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void server_binary(char *out, size_t len)
{
    const char *env = getenv("TCPDUCKDB_BIN");
    if (env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        snprintf(out, len, "build/asan/tcp-duckdb");
        return;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, len, "%s/../tcp-duckdb", self);
}

static int server_start(TestServer *s)
{
    static const char *const server_env[] = {
        "ServerPort",    "ServerAddr",     "DBdir",           "ServerDbFile",      "ENCRYPTION_KEY",
        "SuperPassword", "MaxConnections", "MaxRequestBytes", "IdleTimeout",       "QueryWorkers",
        "PoolSize",      "PoolWaitMs",     "DuckdbThreads",   "DuckdbMemoryLimit", "LogLevel"};
    char bin[PATH_MAX];
    server_binary(bin, sizeof(bin));
    snprintf(s->dir, sizeof(s->dir), "/tmp/tdb-client-test-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(s->log, sizeof(s->log), "%s/server.log", s->dir);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        for (size_t i = 0; i < sizeof(server_env) / sizeof(server_env[0]); i++)
            unsetenv(server_env[i]);
        if (chdir(s->dir) != 0 || !freopen(s->log, "w", stderr) ||
            !freopen("/dev/null", "w", stdout))
            _exit(127);
        execl(bin, bin, "--port", "0", "--addr", "127.0.0.1", "--data-dir", s->dir, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    for (int i = 0; i < 600; i++) {
        FILE *f = fopen(s->log, "r");
        char line[1024];
        while (f && fgets(line, sizeof(line), f)) {
            const char *p = strstr(line, "listening to 127.0.0.1:");
            if (p) {
                s->port = atoi(p + strlen("listening to 127.0.0.1:"));
                fclose(f);
                s->host = "127.0.0.1";
                return 0;
            }
        }
        if (f)
            fclose(f);
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            fprintf(stderr, "the server exited at start-up; log in %s\n", s->log);
            s->pid = 0;
            return -1;
        }
        usleep(100000);
    }
    fprintf(stderr, "the server did not start within 60 s\n");
    return -1;
}

/* Stops the server; 0 if it exited 0 with a clean log. */
static int server_stop(TestServer *s)
{
    int rc = 0;
    if (s->pid > 0) {
        int status = 0;
        kill(s->pid, SIGTERM);
        waitpid(s->pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "the server exited with status 0x%x\n", status);
            rc = -1;
        }
        s->pid = 0;
    }
    FILE *f = fopen(s->log, "r");
    char line[4096];
    bool dump = false;
    while (f && fgets(line, sizeof(line), f)) {
        if (strstr(line, "ERROR: AddressSanitizer") || strstr(line, "ERROR: LeakSanitizer") ||
            strstr(line, "runtime error:"))
            dump = true;
        if (dump)
            fputs(line, stderr);
    }
    if (f)
        fclose(f);
    if (dump)
        rc = -1;
    if (rc == 0 && s->dir[0]) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", s->dir);
    }
    return rc;
}

static tdb_conn *open_conn(const TestServer *s, bool login)
{
    tdb_conn *c = tdb_conn_new();
    CHECK(c != NULL);
    CHECK_RC(c, tdb_connect(c, s->host, s->port, 5000), TDB_OK);
    tdb_set_timeout(c, 120000);
    if (login)
        CHECK_RC(c, tdb_login(c, "duck", "duck"), TDB_OK);
    return c;
}

static void test_connect_errors(const TestServer *s)
{
    (void)s;
    tdb_conn *c = tdb_conn_new();
    /* Port 1 on loopback: refused at once. */
    CHECK_RC(c, tdb_connect(c, "127.0.0.1", 1, 2000), TDB_ECONN);
    CHECK(strstr(tdb_error(c), "cannot connect") != NULL);
    CHECK(!tdb_is_connected(c));
    CHECK_RC(c, tdb_command(c, "list databases", NULL), TDB_ECONN);
    tdb_close(c);

    c = tdb_conn_new();
    CHECK_RC(c, tdb_connect(c, "no-such-host.invalid", 4000, 2000), TDB_ECONN);
    CHECK(strstr(tdb_error(c), "cannot resolve") != NULL);
    tdb_close(c);

    /* A non-routable address: the connect timeout must hold (a sandbox's network may accept
     * it, refuse it, or answer `starttls` with something that is not this protocol; either way
     * the call returns in time). */
    c = tdb_conn_new();
    double t0 = now_s();
    int rc = tdb_connect(c, "10.255.255.1", 4000, 300);
    CHECK(rc == TDB_ETIMEOUT || rc == TDB_ECONN || rc == TDB_OK || rc == TDB_EPROTO);
    CHECK(now_s() - t0 < 3.0);
    tdb_close(c);
    tdb_close(NULL);

    /* A listener that never answers: the I/O timeout kills the connection. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(addr);
    CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
          listen(lfd, 4) == 0 && getsockname(lfd, (struct sockaddr *)&addr, &alen) == 0);
    /* With the default sslmode (prefer), connecting waits for the answer to starttls: the
     * connect timeout covers it. */
    c = tdb_conn_new();
    t0 = now_s();
    CHECK_RC(c, tdb_connect(c, "localhost", ntohs(addr.sin_port), 300), TDB_ETIMEOUT);
    CHECK(now_s() - t0 < 3.0);
    CHECK(!tdb_is_connected(c));
    tdb_close(c);
    /* Without TLS the connect succeeds, and the I/O timeout holds for requests. */
    c = tdb_conn_new();
    tdb_tls_options plain = {.sslmode = TDB_SSL_DISABLE};
    CHECK_RC(c, tdb_set_tls(c, &plain), TDB_OK);
    CHECK_RC(c, tdb_connect(c, "localhost", ntohs(addr.sin_port), 2000), TDB_OK);
    CHECK(tdb_tls_version(c) == NULL);
    tdb_set_timeout(c, 200);
    t0 = now_s();
    CHECK_RC(c, tdb_command(c, "login duck duck", NULL), TDB_ETIMEOUT);
    CHECK(now_s() - t0 < 2.0);
    CHECK(!tdb_is_connected(c));
    CHECK_RC(c, tdb_command(c, "login duck duck", NULL), TDB_ECONN);
    tdb_close(c);
    close(lfd);
}

/* The test server runs with TLSMode=off (tests/e2e/test_tls.py covers the TLS modes,
 * through the shell): prefer goes on in plain text, the other modes fail clearly. */
static void test_tls_options(const TestServer *s)
{
    tdb_sslmode m = TDB_SSL_DISABLE;
    CHECK_RC(NULL, tdb_sslmode_parse("verify-full", &m), TDB_OK);
    CHECK(m == TDB_SSL_VERIFY_FULL);
    CHECK_RC(NULL, tdb_sslmode_parse("prefer", &m), TDB_OK);
    CHECK(m == TDB_SSL_PREFER);
    CHECK_RC(NULL, tdb_sslmode_parse("verify_full", &m), TDB_EINVAL);
    CHECK_RC(NULL, tdb_sslmode_parse(NULL, &m), TDB_EINVAL);
    CHECK(strcmp(tdb_sslmode_name(TDB_SSL_VERIFY_CA), "verify-ca") == 0);

    /* Default (prefer) against a server without TLS: plain, and nothing else changes. */
    tdb_conn *c = open_conn(s, true);
    CHECK(tdb_tls_version(c) == NULL && tdb_tls_cipher(c) == NULL);
    char *answer = NULL;
    CHECK_RC(c, tdb_command(c, "list databases", &answer), TDB_OK);
    CHECK(answer && answer[0] == '[');
    free(answer);
    tdb_tls_options late = {.sslmode = TDB_SSL_REQUIRE};
    CHECK_RC(c, tdb_set_tls(c, &late), TDB_EINVAL);
    tdb_close(c);

    for (int mode = TDB_SSL_REQUIRE; mode <= TDB_SSL_VERIFY_FULL; mode++) {
        c = tdb_conn_new();
        tdb_tls_options o = {.sslmode = (tdb_sslmode)mode};
        CHECK_RC(c, tdb_set_tls(c, &o), TDB_OK);
        CHECK_RC(c, tdb_connect(c, s->host, s->port, 5000), TDB_ETLS);
        CHECK(strstr(tdb_error(c), "the server does not offer TLS") != NULL);
        CHECK(strstr(tdb_error(c), "TLS is not enabled on this server") != NULL);
        CHECK(!tdb_is_connected(c));
        tdb_close(c);
    }
    c = tdb_conn_new();
    tdb_tls_options bad = {.sslmode = (tdb_sslmode)42};
    CHECK_RC(c, tdb_set_tls(c, &bad), TDB_EINVAL);
    CHECK_RC(c, tdb_set_tls(c, NULL), TDB_EINVAL);
    tdb_close(c);
}

static void test_login_and_commands(const TestServer *s)
{
    tdb_conn *c = open_conn(s, false);
    char *answer = NULL;
    CHECK_RC(c, tdb_command(c, "list databases", &answer), TDB_ESERVER);
    CHECK(answer == NULL);
    CHECK(strcmp(tdb_error(c), "Unauthorized") == 0);
    CHECK_RC(c, tdb_login(c, "duck", "wrong"), TDB_ESERVER);
    CHECK(strcmp(tdb_error(c), "Unauthorized") == 0);
    CHECK(tdb_is_connected(c));
    CHECK_RC(c, tdb_login(c, "duck", "duck"), TDB_OK);
    CHECK(strcmp(tdb_error(c), "") == 0);

    CHECK_RC(c, tdb_command(c, "create database cmds", &answer), TDB_OK);
    CHECK(answer && strcmp(answer, "success") == 0);
    free(answer);
    CHECK_RC(c, tdb_command(c, "create database cmds", NULL), TDB_ESERVER);
    CHECK(strcmp(tdb_error(c), "Database cmds Already Exists") == 0);
    /* A user whose password needs quoting (space, quote, backslash). */
    CHECK_RC(c, tdb_command(c, "create user alice \"p w\\\"x\\\\\"", NULL), TDB_OK);
    CHECK_RC(c, tdb_command(c, "grant database cmds alice read", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "nope"), TDB_ESERVER);
    CHECK(strstr(tdb_error(c), "nope") != NULL);
    CHECK_RC(c, tdb_connect_database(c, "cmds"), TDB_OK);
    CHECK_RC(c, tdb_command(c, "CREATE TABLE t (i INTEGER, s VARCHAR)", &answer), TDB_OK);
    CHECK(answer && strcmp(answer, "success") == 0);
    free(answer);
    CHECK_RC(c, tdb_command(c, "INSERT INTO t VALUES (1, 'a'), (2, 'b')", &answer), TDB_OK);
    CHECK(answer && strcmp(answer, "2") == 0);
    free(answer);
    /* A newline in the text: sent as a length-prefixed request. */
    CHECK_RC(c, tdb_command(c, "SELECT i\n  FROM t\n  ORDER BY i;", &answer), TDB_OK);
    CHECK(answer && strcmp(answer, "[{\"i\":1},{\"i\":2}]") == 0);
    free(answer);
    CHECK_RC(c, tdb_command(c, "SELECT * FROM missing", &answer), TDB_ESERVER);
    CHECK(strstr(tdb_error(c), "Catalog Error") != NULL);
    CHECK_RC(c, tdb_command(c, "", NULL), TDB_ESERVER);
    CHECK(strstr(tdb_error(c), "empty request") != NULL);
    /* A plain answer over the limit is dropped whole; the connection stays in sync. */
    tdb_set_max_answer(c, 1000);
    CHECK_RC(c, tdb_command(c, "SELECT * FROM range(1000)", &answer), TDB_ETOOBIG);
    tdb_set_max_answer(c, 0);
    CHECK_RC(c, tdb_command(c, "SELECT 7 AS x", &answer), TDB_OK);
    CHECK(answer && strcmp(answer, "[{\"x\":7}]") == 0);
    free(answer);
    tdb_close(c);

    /* The new user logs in with the quoted password, and is read-only. */
    c = open_conn(s, false);
    CHECK_RC(c, tdb_login(c, "alice", "p w\"x\\"), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "cmds"), TDB_OK);
    CHECK_RC(c, tdb_command(c, "create database other", NULL), TDB_ESERVER);
    CHECK(strcmp(tdb_error(c), "Unauthorized") == 0);
    tdb_close(c);
}

static void test_params(const TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    CHECK_RC(c, tdb_command(c, "create database params", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "params"), TDB_OK);
    CHECK_RC(c,
             tdb_query(c,
                       "CREATE TABLE p (i BIGINT, s VARCHAR, f DOUBLE, ok BOOLEAN, b BLOB, "
                       "n INTEGER, d DECIMAL(20,4))",
                       NULL, 0, &r),
             TDB_OK);
    CHECK(r && tdb_result_kind_of(r) == TDB_RESULT_SUCCESS && tdb_result_changed(r) == -1);
    tdb_result_free(r);

    /* Quotes, a newline, a backslash, control bytes and non-ASCII: bound, not pasted. */
    const char evil[] =
        "x'); DROP TABLE p; --\n\"q\" \\ \t\x01 \xc3\xa9\xe2\x98\x83\xf0\x9f\x98\x80";
    const unsigned char blob[] = {0x00, 0xff, 0x10, '\n'};
    tdb_param params[] = {
        tdb_param_int64(INT64_MIN),
        tdb_param_text(evil),
        tdb_param_double(0.1),
        tdb_param_bool(true),
        tdb_param_blob(blob, 4),
        tdb_param_null(),
        tdb_param_text("12345678901234.5678"),
    };
    CHECK_RC(c, tdb_query(c, "INSERT INTO p VALUES ($1, $2, $3, $4, $5, $6, $7)", params, 7, &r),
             TDB_OK);
    CHECK(r && tdb_result_kind_of(r) == TDB_RESULT_CHANGED && tdb_result_changed(r) == 1);
    tdb_result_free(r);
    tdb_param second[] = {tdb_param_int64(INT64_MAX), tdb_param_text_len("a\0b", 1),
                          tdb_param_double(-1e300),   tdb_param_bool(false),
                          tdb_param_blob(NULL, 0),    tdb_param_int64(-7),
                          tdb_param_double(2.0)};
    CHECK_RC(c, tdb_query(c, "INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?)", second, 7, &r), TDB_OK);
    tdb_result_free(r);

    tdb_param key = tdb_param_text(evil);
    CHECK_RC(c, tdb_query(c, "SELECT * FROM p WHERE s = $1", &key, 1, &r), TDB_OK);
    CHECK(r && tdb_result_nrows(r) == 1 && tdb_result_ncols(r) == 7);
    if (r && tdb_result_nrows(r) == 1) {
        int64_t i = 0;
        double f = 0;
        bool ok = false;
        size_t len = 0;
        CHECK_RC(c, tdb_result_int64(r, 0, 0, &i), TDB_OK);
        CHECK(i == INT64_MIN);
        const char *text = tdb_result_text(r, 0, 1, &len);
        CHECK(text && len == strlen(evil) && memcmp(text, evil, len) == 0);
        CHECK_RC(c, tdb_result_double(r, 0, 2, &f), TDB_OK);
        CHECK(f == 0.1);
        CHECK_RC(c, tdb_result_bool(r, 0, 3, &ok), TDB_OK);
        CHECK(ok);
        CHECK(strcmp(tdb_result_text(r, 0, 4, NULL), "\\x00ff100a") == 0);
        CHECK(tdb_result_is_null(r, 0, 5));
        CHECK_RC(c, tdb_result_int64(r, 0, 5, &i), TDB_ENULL);
        CHECK(tdb_result_text(r, 0, 5, NULL) == NULL);
        CHECK(strcmp(tdb_result_json(r, 0, 5), "null") == 0);
        CHECK(strcmp(tdb_result_text(r, 0, 6, NULL), "12345678901234.5678") == 0);
        CHECK(tdb_result_value_kind(r, 0, 6) == TDB_VALUE_FLOAT);
        CHECK(strcmp(tdb_result_column_type(r, 6), "DECIMAL(20,4)") == 0);
        CHECK(strcmp(tdb_result_column_name(r, 1), "s") == 0);
        CHECK(tdb_result_column_name(r, 7) == NULL);
        const char *json = tdb_result_json(r, 0, 1);
        CHECK(json &&
              strncmp(json, "\"x'); DROP TABLE p; --\\n\\\"q\\\" \\\\ \\t\\u0001 ", 36) == 0);
    }
    tdb_result_free(r);

    CHECK_RC(c,
             tdb_query(c, "SELECT i, s, f, n, d, octet_length(b) FROM p WHERE i > 0", NULL, 0, &r),
             TDB_OK);
    CHECK(r && tdb_result_nrows(r) == 1);
    if (r && tdb_result_nrows(r) == 1) {
        int64_t i = 0;
        double f = 0;
        CHECK_RC(c, tdb_result_int64(r, 0, 0, &i), TDB_OK);
        CHECK(i == INT64_MAX);
        CHECK(strcmp(tdb_result_text(r, 0, 1, NULL), "a") == 0);
        CHECK_RC(c, tdb_result_double(r, 0, 2, &f), TDB_OK);
        CHECK(f == -1e300);
        CHECK_RC(c, tdb_result_int64(r, 0, 3, &i), TDB_OK);
        CHECK(i == -7);
        CHECK(strcmp(tdb_result_text(r, 0, 4, NULL), "2.0000") == 0);
        CHECK_RC(c, tdb_result_int64(r, 0, 5, &i), TDB_OK);
        CHECK(i == 0);
    }
    tdb_result_free(r);

    /* Wrong parameter count: the server's message, the connection stays usable. */
    CHECK_RC(c, tdb_query(c, "SELECT $1", NULL, 0, &r), TDB_ESERVER);
    CHECK(r == NULL);
    CHECK_RC(c, tdb_query(c, "SELECT $1::INTEGER AS x", &key, 1, &r), TDB_ESERVER);
    CHECK(strstr(tdb_error(c), "Conversion Error") != NULL);
    tdb_param nan = tdb_param_double(NAN);
    CHECK_RC(c, tdb_query(c, "SELECT $1::DOUBLE AS x", &nan, 1, &r), TDB_OK);
    if (r) {
        double f = 0;
        CHECK_RC(c, tdb_result_double(r, 0, 0, &f), TDB_OK);
        CHECK(isnan(f));
    }
    tdb_result_free(r);
    tdb_close(c);
}

static void test_accessors(const TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    CHECK_RC(c, tdb_command(c, "create database acc", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "acc"), TDB_OK);
    CHECK_RC(
        c,
        tdb_query(c,
                  "SELECT 170141183460469231731687303715884105727::HUGEINT AS h, "
                  "12.50::DECIMAL(10,2) AS d, [1, 2, NULL] AS l, {'a': 'x\"y', 'b': [1]} AS st, "
                  "'Infinity'::DOUBLE AS inf, true AS b, 'héllo' AS v, DATE '2024-01-31' AS dt, "
                  "1 AS a, 2 AS a",
                  NULL, 0, &r),
        TDB_OK);
    CHECK(r && tdb_result_ncols(r) == 10 && tdb_result_nrows(r) == 1);
    if (r && tdb_result_nrows(r) == 1) {
        int64_t i = 0;
        double f = 0;
        bool b = false;
        CHECK(strcmp(tdb_result_column_type(r, 0), "HUGEINT") == 0);
        CHECK_RC(c, tdb_result_int64(r, 0, 0, &i), TDB_ERANGE);
        CHECK(strcmp(tdb_result_text(r, 0, 0, NULL), "170141183460469231731687303715884105727") ==
              0);
        CHECK(tdb_result_value_kind(r, 0, 0) == TDB_VALUE_INT);
        CHECK_RC(c, tdb_result_int64(r, 0, 1, &i), TDB_ETYPE);
        CHECK_RC(c, tdb_result_double(r, 0, 1, &f), TDB_OK);
        CHECK(f == 12.5);
        CHECK(strcmp(tdb_result_text(r, 0, 1, NULL), "12.50") == 0);
        CHECK(strcmp(tdb_result_column_type(r, 2), "INTEGER[]") == 0);
        CHECK(tdb_result_value_kind(r, 0, 2) == TDB_VALUE_NESTED);
        CHECK(strcmp(tdb_result_text(r, 0, 2, NULL), "[1,2,null]") == 0);
        CHECK(strcmp(tdb_result_json(r, 0, 3), "{\"a\":\"x\\\"y\",\"b\":[1]}") == 0);
        CHECK_RC(c, tdb_result_double(r, 0, 4, &f), TDB_OK);
        CHECK(isinf(f) && f > 0);
        CHECK_RC(c, tdb_result_bool(r, 0, 5, &b), TDB_OK);
        CHECK(b);
        CHECK_RC(c, tdb_result_bool(r, 0, 6, &b), TDB_ETYPE);
        CHECK(strcmp(tdb_result_text(r, 0, 6, NULL), "héllo") == 0);
        CHECK(strcmp(tdb_result_json(r, 0, 6), "\"héllo\"") == 0);
        CHECK(strcmp(tdb_result_text(r, 0, 7, NULL), "2024-01-31") == 0);
        CHECK(strcmp(tdb_result_column_name(r, 8), "a") == 0);
        CHECK(strcmp(tdb_result_column_name(r, 9), "a") == 0);
        CHECK_RC(c, tdb_result_int64(r, 1, 0, &i), TDB_EINVAL);
        CHECK_RC(c, tdb_result_int64(r, 0, 10, &i), TDB_EINVAL);
    }
    tdb_result_free(r);
    /* Integers at the edge of the fast path (18 digits) and past it. */
    CHECK_RC(c,
             tdb_query(c,
                       "SELECT 999999999999999999 AS a, -999999999999999999 AS b, "
                       "1000000000000000000 AS c, 9223372036854775807 AS d, "
                       "-9223372036854775808 AS e, 0 AS f, -0 AS g",
                       NULL, 0, &r),
             TDB_OK);
    if (r && tdb_result_nrows(r) == 1) {
        static const int64_t want[] = {INT64_C(999999999999999999),
                                       -INT64_C(999999999999999999),
                                       INT64_C(1000000000000000000),
                                       INT64_MAX,
                                       INT64_MIN,
                                       0,
                                       0};
        for (size_t col = 0; col < 7; col++) {
            int64_t v = -1;
            CHECK_RC(c, tdb_result_int64(r, 0, col, &v), TDB_OK);
            CHECK(v == want[col]);
        }
    }
    tdb_result_free(r);
    CHECK_RC(c, tdb_query(c, "SELECT * FROM range(0)", NULL, 0, &r), TDB_OK);
    CHECK(r && tdb_result_kind_of(r) == TDB_RESULT_ROWS && tdb_result_nrows(r) == 0 &&
          tdb_result_ncols(r) == 1);
    tdb_result_free(r);
    /* Several statements without parameters: the last one's answer. */
    CHECK_RC(c,
             tdb_query(c, "CREATE TABLE m (i INT); INSERT INTO m VALUES (1),(2),(3)", NULL, 0, &r),
             TDB_OK);
    CHECK(r && tdb_result_changed(r) == 3);
    tdb_result_free(r);
    tdb_close(c);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_streaming(const TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    CHECK_RC(c, tdb_command(c, "create database stream", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "stream"), TDB_OK);

    /* 1M rows, each held alone: with a 4 KiB answer limit the stream still succeeds, which
     * shows the library never holds more than one row. */
    const char *sql = "SELECT i, 'row ' || i AS s, i % 3 = 0 AS b FROM range(1000000) t(i)";
    tdb_set_max_answer(c, 4096);
    long rss0 = max_rss_kb();
    double t0 = now_s();
    CHECK_RC(c, tdb_query_start(c, sql, NULL, 0, &r), TDB_OK);
    CHECK(r && tdb_result_ncols(r) == 3 && tdb_result_nrows(r) == 0);
    CHECK_RC(c, tdb_command(c, "SELECT 1", NULL), TDB_EINVAL); /* busy streaming */
    int64_t count = 0, sum = 0;
    int rc = TDB_EINVAL;
    bool ok = true;
    while (r && (rc = tdb_next_row(r)) == 1) {
        int64_t v = 0;
        if (tdb_result_nrows(r) != 1 || tdb_result_int64(r, 0, 0, &v) != 0 || v != count)
            ok = false;
        sum += v;
        count++;
    }
    CHECK(ok);
    CHECK_RC(c, rc, 0);
    CHECK(tdb_result_nrows(r) == 0);
    CHECK_RC(c, tdb_next_row(r), 0);
    CHECK_RC(c, tdb_query_end(r), TDB_OK);
    double dt = now_s() - t0;
    CHECK(count == 1000000);
    CHECK(sum == (int64_t)999999 * 1000000 / 2);
    fprintf(stderr, "streamed %lld rows in %.2f s (%.0f rows/s, ASan build), max RSS +%ld KiB\n",
            (long long)count, dt, (double)count / dt, max_rss_kb() - rss0);

    /* The same result read whole passes the limit: dropped, and the connection stays usable. */
    CHECK_RC(c, tdb_query(c, sql, NULL, 0, &r), TDB_ETOOBIG);
    CHECK(r == NULL);
    tdb_set_max_answer(c, 0);
    CHECK_RC(c, tdb_query(c, "SELECT 42 AS x", NULL, 0, &r), TDB_OK);
    CHECK(r && tdb_result_nrows(r) == 1);
    tdb_result_free(r);

    /* Ending a stream early drops the rest; the next query works. */
    CHECK_RC(c, tdb_query_start(c, sql, NULL, 0, &r), TDB_OK);
    for (int k = 0; k < 10; k++)
        CHECK_RC(c, tdb_next_row(r), 1);
    CHECK_RC(c, tdb_query_end(r), TDB_OK);
    CHECK_RC(c, tdb_query(c, "SELECT count(*) AS n FROM range(5)", NULL, 0, &r), TDB_OK);
    if (r) {
        int64_t n = 0;
        CHECK_RC(c, tdb_result_int64(r, 0, 0, &n), TDB_OK);
        CHECK(n == 5);
    }
    tdb_result_free(r);

    /* A streamed statement without rows. */
    CHECK_RC(c, tdb_query_start(c, "CREATE TABLE x (i INT)", NULL, 0, &r), TDB_OK);
    CHECK(r && tdb_result_kind_of(r) == TDB_RESULT_SUCCESS);
    CHECK_RC(c, tdb_next_row(r), 0);
    CHECK_RC(c, tdb_query_end(r), TDB_OK);
    tdb_close(c);
}

/*
 * tdb_send_query/tdb_get_result: four connections driven from one thread with poll(), each
 * answer matched to its own query; misuse is refused without losing the connection.
 */
static void test_send_and_get(const TestServer *s)
{
    enum { N = 4, ROUNDS = 50 };
    tdb_conn *cs[N];
    tdb_result *r = NULL;
    int sent[N], got[N];
    for (int i = 0; i < N; i++) {
        cs[i] = open_conn(s, true);
        sent[i] = got[i] = 0;
        CHECK(tdb_socket(cs[i]) >= 0);
        CHECK(!tdb_input_buffered(cs[i]));
    }
    tdb_conn *c = cs[0];
    CHECK_RC(c, tdb_command(c, "create database sendget", NULL), TDB_OK);
    for (int i = 0; i < N; i++)
        CHECK_RC(cs[i], tdb_connect_database(cs[i], "sendget"), TDB_OK);

    CHECK_RC(c, tdb_get_result(c, &r), TDB_EINVAL); /* nothing sent */
    CHECK(r == NULL);
    tdb_param p = tdb_param_int64(7);
    CHECK_RC(c, tdb_send_query(c, "SELECT $1 * 6 AS x", &p, 1), TDB_OK);
    CHECK(tdb_is_connected(c));
    CHECK_RC(c, tdb_command(c, "SELECT 1", NULL), TDB_EINVAL);       /* answer unread */
    CHECK_RC(c, tdb_send_query(c, "SELECT 1", NULL, 0), TDB_EINVAL); /* one at a time */
    CHECK_RC(c, tdb_get_result(c, &r), TDB_OK);
    int64_t v = 0;
    CHECK(r && tdb_result_int64(r, 0, 0, &v) == TDB_OK && v == 42);
    tdb_result_free(r);

    /* An error answer comes back through tdb_get_result; the connection goes on. */
    CHECK_RC(c, tdb_send_query(c, "SELECT * FROM no_such_table", NULL, 0), TDB_OK);
    CHECK_RC(c, tdb_get_result(c, &r), TDB_ESERVER);
    CHECK(r == NULL && strstr(tdb_error(c), "no_such_table"));

    char sql[64];
    for (int i = 0; i < N; i++) {
        snprintf(sql, sizeof(sql), "SELECT %d AS k", i * 1000);
        CHECK_RC(cs[i], tdb_send_query(cs[i], sql, NULL, 0), TDB_OK);
        sent[i] = 1;
    }
    int done = 0;
    while (done < N) {
        struct pollfd pfd[N];
        for (int i = 0; i < N; i++)
            pfd[i] =
                (struct pollfd){.fd = got[i] < sent[i] ? tdb_socket(cs[i]) : -1, .events = POLLIN};
        bool buffered = false;
        for (int i = 0; i < N; i++)
            buffered |= got[i] < sent[i] && tdb_input_buffered(cs[i]);
        if (!buffered && poll(pfd, N, 10000) <= 0) {
            CHECK(!"an answer arrived within 10 s");
            break;
        }
        for (int i = 0; i < N; i++) {
            if (got[i] == sent[i] || !(pfd[i].revents & POLLIN || tdb_input_buffered(cs[i])))
                continue;
            CHECK_RC(cs[i], tdb_get_result(cs[i], &r), TDB_OK);
            v = -1;
            CHECK(r && tdb_result_int64(r, 0, 0, &v) == TDB_OK && v == i * 1000 + got[i]);
            tdb_result_free(r);
            got[i]++;
            if (sent[i] == ROUNDS) {
                done++;
                continue;
            }
            snprintf(sql, sizeof(sql), "SELECT %d AS k", i * 1000 + sent[i]);
            CHECK_RC(cs[i], tdb_send_query(cs[i], sql, NULL, 0), TDB_OK);
            sent[i]++;
        }
    }
    for (int i = 0; i < N; i++) {
        CHECK(got[i] == ROUNDS);
        tdb_close(cs[i]);
    }
}

/* An error raised by DuckDB after many rows were sent: the row line is cut, an error follows. */
static void test_mid_result_error(const TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    CHECK_RC(c, tdb_command(c, "create database miderr", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "miderr"), TDB_OK);
    const char *sql = "SELECT CASE WHEN i < 500000 THEN i ELSE error('boom at ' || i) END AS v "
                      "FROM range(1000000) t(i)";
    int rc = tdb_query_start(c, sql, NULL, 0, &r);
    int64_t rows = 0;
    if (rc == TDB_OK) {
        while ((rc = tdb_next_row(r)) == 1)
            rows++;
        CHECK_RC(c, rc, TDB_ESERVER);
        CHECK(strstr(tdb_error(c), "boom") != NULL || strstr(tdb_error(c), "Interrupt") != NULL);
        CHECK_RC(c, tdb_next_row(r), TDB_ESERVER);
        CHECK_RC(c, tdb_query_end(r), TDB_ESERVER);
    } else {
        CHECK_RC(c, rc, TDB_ESERVER);
    }
    fprintf(stderr, "mid-result error after %lld rows: %.60s\n", (long long)rows, tdb_error(c));
    CHECK(rows > 0);
    /* The buffered form and the plain command form report the same error. */
    /* (The server sometimes reports DuckDB's "INTERRUPT Error: Interrupted!" instead of the
     * error itself, when another DuckDB thread stops first: accept any server error here.) */
    CHECK_RC(c, tdb_query(c, sql, NULL, 0, &r), TDB_ESERVER);
    CHECK(strstr(tdb_error(c), "boom") != NULL || strstr(tdb_error(c), "Interrupt") != NULL);
    CHECK_RC(c, tdb_command(c, sql, NULL), TDB_ESERVER);
    CHECK(strstr(tdb_error(c), "boom") != NULL || strstr(tdb_error(c), "Interrupt") != NULL);
    CHECK(tdb_is_connected(c));
    CHECK_RC(c, tdb_query(c, "SELECT 1 AS one", NULL, 0, &r), TDB_OK);
    tdb_result_free(r);
    tdb_close(c);
}

static int64_t count_rows(tdb_conn *c, const char *table)
{
    char sql[128];
    tdb_result *r = NULL;
    int64_t n = -1;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    if (tdb_query(c, sql, NULL, 0, &r) == 0 && tdb_result_int64(r, 0, 0, &n) != 0)
        n = -1;
    tdb_result_free(r);
    return n;
}

static void test_transactions(const TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    CHECK_RC(c, tdb_command(c, "create database tx", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "tx"), TDB_OK);
    CHECK_RC(c, tdb_command(c, "CREATE TABLE t (i INTEGER)", NULL), TDB_OK);
    CHECK_RC(c, tdb_commit(c), TDB_ESERVER); /* no transaction */
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    tdb_param one = tdb_param_int64(1);
    CHECK_RC(c, tdb_query(c, "INSERT INTO t VALUES ($1)", &one, 1, &r), TDB_OK);
    tdb_result_free(r);
    CHECK(count_rows(c, "t") == 1);
    CHECK_RC(c, tdb_rollback(c), TDB_OK);
    CHECK(count_rows(c, "t") == 0);
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    CHECK_RC(c, tdb_query(c, "INSERT INTO t VALUES ($1)", &one, 1, &r), TDB_OK);
    tdb_result_free(r);
    CHECK_RC(c, tdb_commit(c), TDB_OK);
    CHECK(count_rows(c, "t") == 1);
    /* A failed statement aborts the transaction; commit reports it. */
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    CHECK_RC(c, tdb_query(c, "INSERT INTO t VALUES ('x')", NULL, 0, &r), TDB_ESERVER);
    CHECK_RC(c, tdb_commit(c), TDB_ESERVER);
    CHECK(strstr(tdb_error(c), "Transaction Aborted") != NULL);
    CHECK(count_rows(c, "t") == 1);
    /* Transaction statements go through the helpers, not tdb_query. */
    CHECK_RC(c, tdb_query(c, "BEGIN", NULL, 0, &r), TDB_ESERVER);
    tdb_close(c);
}

static void test_server_gone(TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    CHECK(server_stop(s) == 0);
    int rc = tdb_query(c, "SELECT 1", NULL, 0, &r);
    /* Either the shutdown notice is read as the answer, or the closed socket. */
    CHECK(rc == TDB_ESERVER || rc == TDB_ECONN);
    if (rc == TDB_ESERVER)
        CHECK(strstr(tdb_error(c), "Shutting Down") != NULL);
    CHECK_RC(c, tdb_query(c, "SELECT 1", NULL, 0, &r), TDB_ECONN);
    CHECK(!tdb_is_connected(c));
    tdb_close(c);
}

/*
 * A fake server for answers the real one never sends (tests/fuzz/fuzz_client_answer.c found
 * them): a listening socket on 127.0.0.1 whose one accepted connection sends canned bytes.
 */
typedef struct {
    int listen_fd;
    int fd;
} FakeServer;

/* Connects a plain-text handle to a new fake server; NULL if that failed. */
static tdb_conn *fake_connect(FakeServer *f)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    f->fd = -1;
    f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(f->listen_fd, 1) != 0 ||
        getsockname(f->listen_fd, (struct sockaddr *)&addr, &len) != 0)
        return NULL;
    tdb_conn *c = tdb_conn_new();
    tdb_tls_options plain = {.sslmode = TDB_SSL_DISABLE};
    CHECK_RC(c, tdb_set_tls(c, &plain), TDB_OK);
    CHECK_RC(c, tdb_connect(c, "127.0.0.1", ntohs(addr.sin_port), 5000), TDB_OK);
    tdb_set_timeout(c, 5000);
    f->fd = accept(f->listen_fd, NULL, NULL);
    CHECK(f->fd >= 0);
    return c;
}

/* The fake server's next answer (the client's request is never read). */
static void fake_answer(const FakeServer *f, const char *bytes)
{
    CHECK(send(f->fd, bytes, strlen(bytes), MSG_NOSIGNAL) == (ssize_t)strlen(bytes));
}

static void fake_close(FakeServer *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->listen_fd >= 0)
        close(f->listen_fd);
}

/* Answers a client must survive: empty strings, a header cut short, two column lists. */
static void test_hostile_answers(void)
{
    FakeServer f = {0};
    tdb_conn *c = fake_connect(&f);
    CHECK(c != NULL);
    if (!c)
        return;
    tdb_result *r = NULL;
    char *answer = NULL;
    /* An empty line and an empty column name are "" (they were unterminated heap bytes). */
    fake_answer(&f, "\n");
    CHECK_RC(c, tdb_command(c, "ping", &answer), TDB_OK);
    CHECK(answer && answer[0] == '\0');
    free(answer);
    fake_answer(&f, "{\"columns\":[{\"name\":\"\",\"type\":\"\"}],\"rows\":[[\"\"]]}\n");
    CHECK_RC(c, tdb_query(c, "SELECT 1", NULL, 0, &r), TDB_OK);
    CHECK(r && strcmp(tdb_result_column_name(r, 0), "") == 0);
    CHECK(r && strcmp(tdb_result_column_type(r, 0), "") == 0);
    CHECK(r && strcmp(tdb_result_text(r, 0, 0, NULL), "") == 0);
    tdb_result_free(r);
    /* A header whose line ends early is a protocol error (it returned the parser's internal
     * status 1, neither success nor an error). */
    fake_answer(&f, "{\"success\":t\n");
    CHECK_RC(c, tdb_query(c, "SELECT 1", NULL, 0, &r), TDB_EPROTO);
    CHECK(r == NULL && !tdb_is_connected(c));
    tdb_close(c);
    fake_close(&f);

    /* A second column list appended to the first past its array (a heap overflow). */
    c = fake_connect(&f);
    CHECK(c != NULL);
    if (!c)
        return;
    const char *col = "{\"name\":\"a\",\"type\":\"INTEGER\"}";
    char dup[1024];
    snprintf(dup, sizeof(dup), "{\"columns\":[%s],\"columns\":[,%s,%s,%s,%s,%s,%s,%s,%s,%s]}\n",
             col, col, col, col, col, col, col, col, col, col);
    fake_answer(&f, dup);
    CHECK_RC(c, tdb_query(c, "SELECT 1", NULL, 0, &r), TDB_EPROTO);
    CHECK(strstr(tdb_error(c), "two column lists") != NULL);
    tdb_close(c);
    fake_close(&f);
}

typedef struct {
    const tdb_cancel_handle *handle;
    int delay_ms;
    int rc;
    char err[256];
} CancelArg;

/* Sends a cancel after a.delay_ms, from its own thread. */
static void *cancel_later(void *arg)
{
    CancelArg *a = arg;
    usleep((useconds_t)a->delay_ms * 1000);
    a->rc = tdb_cancel(a->handle, a->err, sizeof(a->err));
    return NULL;
}

#define CANCELED "Canceled: canceling statement due to user request"

static void test_cancel(const TestServer *s)
{
    char err[256];
    tdb_result *r = NULL;
    tdb_conn *c = open_conn(s, false);
    /* No key before login; the connection stays usable. */
    CHECK(tdb_get_cancel(c) == NULL);
    CHECK(strstr(tdb_error(c), "Unauthorized") != NULL);
    CHECK_RC(c, tdb_login(c, "duck", "duck"), TDB_OK);
    int created = tdb_command(c, "create database cancel_db", NULL);
    CHECK(created == TDB_OK || created == TDB_ESERVER);
    CHECK_RC(c, tdb_connect_database(c, "cancel_db"), TDB_OK);
    tdb_cancel_handle *h = tdb_get_cancel(c);
    CHECK(h != NULL);
    tdb_cancel_handle *h2 = tdb_get_cancel(c); /* the key is asked for once, kept after */
    CHECK(h2 != NULL);
    tdb_free_cancel(h2);

    /* A cancel while nothing runs does nothing, also to the next query. */
    CHECK_RC(c, tdb_cancel(h, err, sizeof(err)), TDB_OK);
    usleep(300000);
    CHECK_RC(c, tdb_query(c, "SELECT 42 AS x, sleep_ms(300) AS s", NULL, 0, &r), TDB_OK);
    tdb_result_free(r);

    /* A long query, cancelled from another thread. */
    CancelArg a = {.handle = h, .delay_ms = 1000};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancel_later, &a) == 0);
    r = NULL;
    CHECK_RC(c, tdb_query(c, "SELECT count(*) FROM range(10000000000)", NULL, 0, &r), TDB_ESERVER);
    CHECK(r == NULL && strcmp(tdb_error(c), CANCELED) == 0);
    pthread_join(t, NULL);
    CHECK(a.rc == TDB_OK);
    CHECK(tdb_is_connected(c));
    CHECK_RC(c, tdb_query(c, "SELECT 1 AS one", NULL, 0, &r), TDB_OK);
    tdb_result_free(r);

    /* A streamed result: the rows stop and the error follows. */
    r = NULL;
    CHECK_RC(c, tdb_query_start(c, "SELECT range AS i FROM range(10000000000)", NULL, 0, &r),
             TDB_OK);
    a = (CancelArg){.handle = h, .delay_ms = 500};
    CHECK(pthread_create(&t, NULL, cancel_later, &a) == 0);
    int rc;
    long rows = 0;
    while ((rc = tdb_next_row(r)) == 1)
        rows++;
    CHECK(rc == TDB_ESERVER);
    CHECK(rows > 0);
    CHECK_RC(c, tdb_query_end(r), TDB_ESERVER);
    CHECK(strcmp(tdb_error(c), CANCELED) == 0);
    pthread_join(t, NULL);
    CHECK(a.rc == TDB_OK);
    CHECK_RC(c, tdb_query(c, "SELECT 2 AS two", NULL, 0, &r), TDB_OK);
    tdb_result_free(r);

    /* The handle is independent of the connection: it outlives it (and matches nothing). */
    tdb_close(c);
    CHECK(tdb_cancel(h, err, sizeof(err)) == TDB_OK);
    tdb_free_cancel(h);
    CHECK(tdb_cancel(NULL, err, sizeof(err)) == TDB_EINVAL);
    tdb_free_cancel(NULL);

    /* A server whose answer to `session key` is not the protocol's: no handle, and the
     * connection goes on. */
    FakeServer f;
    const char *bad[] = {"{\"session\":0,\"key\":\"00000000000000000000000000000000\"}\n",
                         "{\"session\":1,\"key\":\"0000\"}\n",
                         "{\"session\":99999999999999999999,\"key\":\"0\"}\n", "success\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = fake_connect(&f);
        CHECK(c != NULL);
        if (!c)
            return;
        fake_answer(&f, bad[i]);
        CHECK(tdb_get_cancel(c) == NULL);
        CHECK(strstr(tdb_error(c), "unexpected answer to session key") != NULL);
        CHECK(tdb_is_connected(c));
        tdb_close(c);
        fake_close(&f);
    }
}

/* tdb_next_row_csv: one CSV line per row, quoted as RFC 4180, options honoured. */
static void test_csv_rows(const TestServer *s)
{
    tdb_result *r = NULL;
    tdb_conn *c = open_conn(s, true);
    const char *line = NULL;
    size_t len = 0;
    int created = tdb_command(c, "create database csv_db", NULL);
    CHECK(created == TDB_OK || created == TDB_ESERVER);
    CHECK_RC(c, tdb_connect_database(c, "csv_db"), TDB_OK);
    const char *sql = "SELECT * FROM (VALUES (1, 'plain', 2.5, true, NULL::VARCHAR, [1, 2], ''), "
                      "(-7, 'a,b \"q\"', -0.5, false, 'x', [], E'l1\\nl2')) t(a, b, c, d, e, f, g)";
    CHECK_RC(c, tdb_query_start(c, sql, NULL, 0, &r), TDB_OK);
    CHECK_RC(c, tdb_next_row_csv(r, NULL, &line, &len), 1);
    CHECK(len == strlen(line) && strcmp(line, "1,plain,2.5,true,,\"[1,2]\",\n") == 0);
    CHECK_RC(c, tdb_next_row_csv(r, NULL, &line, &len), 1);
    CHECK(strcmp(line, "-7,\"a,b \"\"q\"\"\",-0.5,false,x,[],\"l1\nl2\"\n") == 0);
    CHECK_RC(c, tdb_next_row_csv(r, NULL, &line, &len), 0);
    CHECK(len == 0);
    CHECK_RC(c, tdb_query_end(r), TDB_OK);

    /* A separator, "" for the empty string, a NULL text (a string equal to it is quoted). */
    tdb_csv_options o = {.sep = '\t', .quote_empty = true, .null_text = "\\N"};
    CHECK_RC(c,
             tdb_query_start(c, "SELECT 'a,b' AS a, '' AS b, NULL AS c, '\\N' AS d, 'x\ty' AS e",
                             NULL, 0, &r),
             TDB_OK);
    CHECK_RC(c, tdb_next_row_csv(r, &o, &line, &len), 1);
    CHECK(strcmp(line, "a,b\t\"\"\t\\N\t\"\\N\"\t\"x\ty\"\n") == 0);
    CHECK_RC(c, tdb_query_end(r), TDB_OK);

    /* Rows and CSV lines mixed; a whole result is refused; a server error mid-stream. */
    CHECK_RC(c, tdb_query_start(c, "SELECT i FROM range(3) t(i)", NULL, 0, &r), TDB_OK);
    CHECK_RC(c, tdb_next_row(r), 1);
    CHECK_RC(c, tdb_next_row_csv(r, NULL, &line, &len), 1);
    CHECK(strcmp(line, "1\n") == 0 && tdb_result_nrows(r) == 0);
    CHECK_RC(c, tdb_next_row(r), 1);
    CHECK(tdb_result_nrows(r) == 1);
    CHECK_RC(c, tdb_query_end(r), TDB_OK);
    CHECK_RC(c, tdb_query(c, "SELECT 1 AS one", NULL, 0, &r), TDB_OK);
    CHECK_RC(c, tdb_next_row_csv(r, NULL, &line, &len), TDB_EINVAL);
    tdb_result_free(r);
    CHECK_RC(c,
             tdb_query_start(c,
                             "SELECT CASE WHEN i < 300000 THEN i ELSE error('boom') END "
                             "FROM range(400000) t(i)",
                             NULL, 0, &r),
             TDB_OK);
    int rc;
    long rows = 0;
    while ((rc = tdb_next_row_csv(r, NULL, &line, &len)) == 1)
        rows++;
    CHECK(rc == TDB_ESERVER && rows > 0 && rows <= 300000);
    CHECK(strstr(tdb_error(c), "boom") != NULL);
    CHECK_RC(c, tdb_query_end(r), TDB_ESERVER);
    CHECK_RC(c, tdb_query(c, "SELECT 2 AS two", NULL, 0, &r), TDB_OK);
    tdb_result_free(r);
    tdb_close(c);
}

static void abandon_timeout(int signo)
{
    (void)signo;
    static const char msg[] = "test_client: tdb_query_end read an abandoned result for 120 s "
                              "instead of cancelling it\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)ignored;
    _exit(1);
}

/*
 * tdb_query_end on a result abandoned early: a long rest is cancelled rather than read (10^10
 * rows would take hours to read: SIGALRM after 120 s fails the test), and the connection goes
 * on with no error left; inside a transaction the rest is read instead (a cancel would abort
 * it, and the commit would then fail).
 */
static void test_abandon(const TestServer *s)
{
    tdb_result *r = NULL;
    tdb_conn *c = open_conn(s, true);
    int created = tdb_command(c, "create database abandon_db", NULL);
    CHECK(created == TDB_OK || created == TDB_ESERVER);
    CHECK_RC(c, tdb_connect_database(c, "abandon_db"), TDB_OK);

    struct sigaction sa = {.sa_handler = abandon_timeout}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    for (int round = 0; round < 2; round++) {
        CHECK_RC(c, tdb_query_start(c, "SELECT range AS i FROM range(10000000000)", NULL, 0, &r),
                 TDB_OK);
        for (int k = 0; k < 10; k++)
            CHECK_RC(c, tdb_next_row(r), 1);
        alarm(120);
        CHECK_RC(c, tdb_query_end(r), TDB_OK);
        alarm(0);
        CHECK(tdb_error(c)[0] == '\0');
        CHECK(tdb_is_connected(c));
        CHECK(tdb_transaction_status_of(c) == TDB_TRANS_IDLE);
        CHECK_RC(c, tdb_query(c, "SELECT 7 AS seven", NULL, 0, &r), TDB_OK);
        int64_t v = 0;
        CHECK(r && tdb_result_int64(r, 0, 0, &v) == TDB_OK && v == 7);
        tdb_result_free(r);
    }
    sigaction(SIGALRM, &old, NULL);

    /* In a transaction: 2M rows (about 40 MB, past the 4 MiB read before a cancel) are read
     * to the end; the transaction is intact and commits. */
    CHECK_RC(c, tdb_command(c, "CREATE TABLE kept (i INT)", NULL), TDB_OK);
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    CHECK_RC(c, tdb_command(c, "INSERT INTO kept VALUES (1)", NULL), TDB_OK);
    CHECK_RC(c,
             tdb_query_start(c, "SELECT range AS i, 'row ' || range AS s FROM range(2000000)", NULL,
                             0, &r),
             TDB_OK);
    CHECK_RC(c, tdb_next_row(r), 1);
    CHECK_RC(c, tdb_query_end(r), TDB_OK);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INTRANS);
    CHECK_RC(c, tdb_commit(c), TDB_OK);
    CHECK(count_rows(c, "kept") == 1);
    tdb_close(c);
}

/* ---- issue 21: conninfo, URI, environment, error classes, transaction status, the
 * non-blocking API, column lookup, escaping, reset ---------------------------------------- */

static const char *const tdb_env_names[] = {
    "TCPDUCKDB_HOST",        "TCPDUCKDB_PORT",     "TCPDUCKDB_USER",
    "TCPDUCKDB_PASSWORD",    "TCPDUCKDB_DATABASE", "TCPDUCKDB_SSLMODE",
    "TCPDUCKDB_SSLROOTCERT", "TCPDUCKDB_SSLCERT",  "TCPDUCKDB_SSLKEY"};

static void clear_tdb_env(void)
{
    for (size_t i = 0; i < sizeof(tdb_env_names) / sizeof(tdb_env_names[0]); i++)
        unsetenv(tdb_env_names[i]);
}

/* Whether `c` is logged in and in a database with table t (one SELECT). */
static bool sees_table(tdb_conn *c, const char *table, int64_t rows)
{
    return count_rows(c, table) == rows;
}

static void test_conninfo(const TestServer *s)
{
    char info[512];
    clear_tdb_env();
    tdb_conn *admin = open_conn(s, true);
    CHECK_RC(admin, tdb_command(admin, "create database ci", NULL), TDB_OK);
    CHECK_RC(admin, tdb_connect_database(admin, "ci"), TDB_OK);
    CHECK_RC(admin, tdb_command(admin, "CREATE TABLE t AS SELECT 1 AS i", NULL), TDB_OK);
    CHECK_RC(admin, tdb_command(admin, "create user ann \"p@ss w:rd'\\\\\"", NULL), TDB_OK);
    CHECK_RC(admin, tdb_command(admin, "grant database ci ann read", NULL), TDB_OK);
    CHECK_RC(admin, tdb_command(admin, "grant table ci t ann select", NULL), TDB_OK);

    /* A conninfo string: quoted value with an escaped quote and backslash. */
    snprintf(info, sizeof(info),
             "host=%s port = %d user=ann password='p@ss w:rd\\'\\\\' dbname=ci sslmode=disable "
             "connect_timeout=10",
             s->host, s->port);
    tdb_conn *c = tdb_connectdb(info);
    CHECK(c && tdb_connectdb_status(c) == TDB_OK && tdb_is_connected(c));
    CHECK(c && sees_table(c, "t", 1));
    tdb_close(c);

    /* A URI, percent-decoded (' is %27, \ is %5C). */
    snprintf(info, sizeof(info),
             "tcpduckdb://ann:p%%40ss%%20w%%3Ard%%27%%5C@%s:%d/ci?sslmode=disable", s->host,
             s->port);
    c = tdb_connectdb(info);
    CHECK_RC(c, tdb_connectdb_status(c), TDB_OK);
    CHECK(sees_table(c, "t", 1));
    tdb_close(c);
    /* An IPv6 literal in brackets is taken apart (nothing listens there: a connect error). */
    c = tdb_connectdb("tcpduckdb://duck:duck@[::1]:1/ci?sslmode=disable&connect_timeout=5");
    CHECK(tdb_connectdb_status(c) == TDB_ECONN || tdb_connectdb_status(c) == TDB_ETIMEOUT);
    CHECK(strstr(tdb_error(c), "::1") != NULL);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_OPERATIONAL);
    tdb_close(c);

    /* The environment fills what the string leaves out; the string wins. */
    char port[16];
    snprintf(port, sizeof(port), "%d", s->port);
    setenv("TCPDUCKDB_HOST", s->host, 1);
    setenv("TCPDUCKDB_PORT", port, 1);
    setenv("TCPDUCKDB_USER", "duck", 1);
    setenv("TCPDUCKDB_PASSWORD", "duck", 1);
    setenv("TCPDUCKDB_DATABASE", "ci", 1);
    setenv("TCPDUCKDB_SSLMODE", "disable", 1);
    c = tdb_connectdb("");
    CHECK_RC(c, tdb_connectdb_status(c), TDB_OK);
    CHECK(sees_table(c, "t", 1));
    CHECK(tdb_tls_version(c) == NULL); /* sslmode=disable from the environment */
    tdb_close(c);
    c = tdb_connectdb(NULL);
    CHECK_RC(c, tdb_connectdb_status(c), TDB_OK);
    tdb_close(c);
    setenv("TCPDUCKDB_PASSWORD", "wrong", 1);
    c = tdb_connectdb("password=duck");
    CHECK_RC(c, tdb_connectdb_status(c), TDB_OK);
    tdb_close(c);
    c = tdb_connectdb("tcpduckdb://");
    CHECK_RC(c, tdb_connectdb_status(c), TDB_ESERVER); /* the wrong password from the env */
    CHECK(strcmp(tdb_error_kind(c), "Unauthorized") == 0);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_OPERATIONAL);
    tdb_close(c);
    setenv("TCPDUCKDB_SSLMODE", "maybe", 1);
    c = tdb_connectdb("password=duck");
    CHECK_RC(c, tdb_connectdb_status(c), TDB_EINVAL);
    CHECK(strstr(tdb_error(c), "maybe") != NULL && !tdb_is_connected(c));
    tdb_close(c);
    clear_tdb_env();

    /* Bad strings are refused before connecting, and never quote the password. */
    static const char *const bad[] = {
        "bogus=1",
        "host",
        "host=x password='unterminated",
        "port=0",
        "port=70000",
        "port=4x",
        "sslmode=maybe",
        "sslkey=/k.pem",
        "connect_timeout=-1",
        "postgres://u:secretpw@h/db",
        "tcpduckdb://u:secretpw@h:99999/db",
        "tcpduckdb://u:secretpw@h/db?user=x",
        "tcpduckdb://u:secretpw@h/db?bogus=1",
        "tcpduckdb://u%zz:secretpw@h/db",
        "tcpduckdb://u:secret%00pw@h/db",
        "tcpduckdb://u:secretpw@[::1/db",
        "tcpduckdb://u:secretpw@h/db#frag",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = tdb_connectdb(bad[i]);
        CHECK(c != NULL);
        if (tdb_connectdb_status(c) != TDB_EINVAL)
            fprintf(stderr, "conninfo %s: status %d (%s)\n", bad[i], tdb_connectdb_status(c),
                    tdb_error(c));
        CHECK(tdb_connectdb_status(c) == TDB_EINVAL);
        CHECK(!tdb_is_connected(c));
        CHECK(strstr(tdb_error(c), "secretpw") == NULL && strstr(tdb_error(c), "secret") == NULL);
        CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_INTERFACE);
        CHECK(strcmp(tdb_error_code(c), "INVALID") == 0);
        tdb_close(c);
    }
    tdb_close(admin);
}

static void test_error_classes(const TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_NONE);
    CHECK(strcmp(tdb_error_code(c), "") == 0 && strcmp(tdb_error_kind(c), "") == 0);
    CHECK_RC(c, tdb_command(c, "create database errs", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "nope"), TDB_ESERVER);
    CHECK(strcmp(tdb_error_kind(c), "Does Not Exist") == 0);
    CHECK(strcmp(tdb_error_code(c), "DOES_NOT_EXIST") == 0);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_PROGRAMMING);
    CHECK(strcmp(tdb_error_class_name(tdb_error_class_of(c)), "ProgrammingError") == 0);
    CHECK_RC(c, tdb_command(c, "create database errs", NULL), TDB_ESERVER);
    CHECK(strcmp(tdb_error_code(c), "ALREADY_EXISTS") == 0);
    CHECK_RC(c, tdb_connect_database(c, "errs"), TDB_OK);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_NONE);
    CHECK_RC(c, tdb_query(c, "SELECT * FROM missing", NULL, 0, &r), TDB_ESERVER);
    CHECK(strcmp(tdb_error_kind(c), "Catalog Error") == 0);
    CHECK(strcmp(tdb_error_code(c), "CATALOG_ERROR") == 0);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_PROGRAMMING);
    /* DuckDB's multi-line messages come with their line breaks, not "\n" escapes. */
    CHECK_RC(c, tdb_query(c, "SELEC 1", NULL, 0, &r), TDB_ESERVER);
    CHECK(strcmp(tdb_error_code(c), "PARSER_ERROR") == 0);
    CHECK(strchr(tdb_error(c), '\n') != NULL && strstr(tdb_error(c), "\\n") == NULL);
    CHECK_RC(c, tdb_command(c, "SELEC 1", NULL), TDB_ESERVER);
    CHECK(strchr(tdb_error(c), '\n') != NULL && strstr(tdb_error(c), "\\n") == NULL);
    CHECK_RC(c, tdb_command(c, "CREATE TABLE k (i INTEGER PRIMARY KEY)", NULL), TDB_OK);
    CHECK_RC(c, tdb_command(c, "INSERT INTO k VALUES (1)", NULL), TDB_OK);
    CHECK_RC(c, tdb_query(c, "INSERT INTO k VALUES (1)", NULL, 0, &r), TDB_ESERVER);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_INTEGRITY);
    CHECK(strcmp(tdb_error_code(c), "CONSTRAINT_ERROR") == 0);
    CHECK_RC(c, tdb_query(c, "SELECT 'x'::INTEGER", NULL, 0, &r), TDB_ESERVER);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_DATA);
    CHECK_RC(c, tdb_command(c, "", NULL), TDB_ESERVER);
    CHECK(strcmp(tdb_error_code(c), "BAD_REQUEST") == 0);
    /* Local failures have a code and a class too. */
    CHECK_RC(c, tdb_query_start(c, "SELECT 1", NULL, 0, NULL == r ? &r : &r), TDB_OK);
    CHECK_RC(c, tdb_command(c, "SELECT 2", NULL), TDB_EINVAL);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_INTERFACE && strcmp(tdb_error_kind(c), "") == 0);
    CHECK_RC(c, tdb_query_end(r), TDB_OK);
    tdb_close(c);
    c = tdb_conn_new();
    CHECK_RC(c, tdb_connect(c, s->host, 1, 2000), TDB_ECONN);
    CHECK(tdb_error_class_of(c) == TDB_ERRCLASS_OPERATIONAL);
    CHECK(strcmp(tdb_error_code(c), "CONNECTION") == 0);
    tdb_close(c);
}

static void test_transaction_status(const TestServer *s)
{
    tdb_conn *c = tdb_conn_new();
    tdb_result *r = NULL;
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_UNKNOWN);
    tdb_close(c);
    c = open_conn(s, true);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_IDLE);
    CHECK_RC(c, tdb_command(c, "create database txs", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "txs"), TDB_OK);
    CHECK_RC(c, tdb_command(c, "CREATE TABLE t (i INTEGER)", NULL), TDB_OK);
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INTRANS);
    CHECK_RC(c, tdb_command(c, "INSERT INTO t VALUES (1)", NULL), TDB_OK);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INTRANS);
    CHECK_RC(c, tdb_commit(c), TDB_OK);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_IDLE);
    /* A failed statement aborts the transaction: the status says so, and only rollback (or a
     * commit that fails) ends it. */
    CHECK_RC(c, tdb_command(c, "  Begin Transaction ; ", NULL), TDB_OK);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INTRANS);
    CHECK_RC(c, tdb_query(c, "INSERT INTO t VALUES ('x')", NULL, 0, &r), TDB_ESERVER);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INERROR);
    CHECK_RC(c, tdb_query(c, "SELECT 1", NULL, 0, &r), TDB_ESERVER); /* DuckDB agrees */
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INERROR);
    CHECK_RC(c, tdb_rollback(c), TDB_OK);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_IDLE);
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    CHECK_RC(c, tdb_query(c, "INSERT INTO t VALUES ('y')", NULL, 0, &r), TDB_ESERVER);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INERROR);
    CHECK_RC(c, tdb_commit(c), TDB_ESERVER);
    CHECK(strcmp(tdb_error_code(c), "TRANSACTION_ABORTED") == 0);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_IDLE);
    CHECK(count_rows(c, "t") == 1);
    /* An error of binding leaves DuckDB's transaction usable: the next statement that
     * succeeds shows it, and the status returns to INTRANS. */
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    CHECK_RC(c, tdb_query(c, "SELECT * FROM missing", NULL, 0, &r), TDB_ESERVER);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INERROR);
    CHECK_RC(c, tdb_query(c, "INSERT INTO t VALUES (3)", NULL, 0, &r), TDB_OK);
    tdb_result_free(r);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INTRANS);
    CHECK_RC(c, tdb_rollback(c), TDB_OK);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_IDLE);
    /* A request the server refuses before running it leaves the transaction alone. */
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    CHECK_RC(c, tdb_command(c, "", NULL), TDB_ESERVER);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_INTRANS);
    CHECK_RC(c, tdb_command(c, "INSERT INTO t VALUES (2)", NULL), TDB_OK);
    CHECK_RC(c, tdb_command(c, "end", NULL), TDB_OK);
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_IDLE);
    CHECK(count_rows(c, "t") == 2);
    tdb_close(c);
}

/* Drives one query through the non-blocking API; returns its tdb_get_result status. */
static int run_nonblocking(tdb_conn *c, const char *sql, tdb_result **out, int *out_rounds)
{
    int rc = tdb_send_query(c, sql, NULL, 0);
    if (rc != 0)
        return rc;
    int rounds = 0;
    for (;;) {
        int f = tdb_flush(c);
        if (f < 0)
            return f;
        if (!tdb_is_busy(c))
            break;
        struct pollfd p = {.fd = tdb_socket(c), .events = (short)(POLLIN | (f ? POLLOUT : 0))};
        if (poll(&p, 1, 60000) <= 0)
            return TDB_ETIMEOUT;
        rc = tdb_consume_input(c);
        if (rc != 0)
            return rc;
        rounds++;
    }
    *out_rounds = rounds;
    return tdb_get_result(c, out);
}

static void test_nonblocking(const TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    int rounds = 0;
    CHECK_RC(c, tdb_command(c, "create database nb", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "nb"), TDB_OK);
    CHECK(!tdb_is_nonblocking(c));
    CHECK_RC(c, tdb_set_nonblocking(c, true), TDB_OK);
    CHECK(tdb_is_nonblocking(c));
    CHECK(!tdb_is_busy(c)); /* nothing sent */
    CHECK_RC(c, run_nonblocking(c, "SELECT 42 AS x", &r, &rounds), TDB_OK);
    int64_t v = 0;
    CHECK(r && tdb_result_int64(r, 0, 0, &v) == TDB_OK && v == 42);
    tdb_result_free(r);
    /* A result of many reads: the answer is whole when tdb_is_busy() says so. */
    CHECK_RC(
        c,
        run_nonblocking(c, "SELECT i, repeat('x', 50) AS pad FROM range(200000) t(i)", &r, &rounds),
        TDB_OK);
    CHECK(r && tdb_result_nrows(r) == 200000);
    CHECK(r && tdb_result_int64(r, 199999, 0, &v) == TDB_OK && v == 199999);
    tdb_result_free(r);
    /* An error after rows: the cut line and its error line both arrive before not-busy. */
    CHECK_RC(c,
             run_nonblocking(c,
                             "SELECT CASE WHEN i < 300000 THEN i ELSE error('boom') END AS v "
                             "FROM range(600000) t(i)",
                             &r, &rounds),
             TDB_ESERVER);
    CHECK(r == NULL);
    CHECK(tdb_is_connected(c) && !tdb_is_busy(c));
    /* A large request (over what one send takes) is queued and flushed. */
    size_t big = 1000000; /* under MaxRequestBytes (1 MiB) */
    char *sql = malloc(big + 64);
    CHECK(sql != NULL);
    if (sql) {
        strcpy(sql, "SELECT length('");
        memset(sql + strlen(sql), 'y', big);
        strcpy(sql + 15 + big, "') AS n");
        CHECK_RC(c, run_nonblocking(c, sql, &r, &rounds), TDB_OK);
        CHECK(r && tdb_result_int64(r, 0, 0, &v) == TDB_OK && v == (int64_t)big);
        tdb_result_free(r);
        free(sql);
    }
    /* The blocking calls still work on a nonblocking connection; switching back is allowed. */
    CHECK_RC(c, tdb_query(c, "SELECT 7 AS s", NULL, 0, &r), TDB_OK);
    tdb_result_free(r);
    CHECK_RC(c, tdb_set_nonblocking(c, false), TDB_OK);
    tdb_close(c);
}

static void test_column_index_and_escaping(const TestServer *s)
{
    tdb_conn *c = open_conn(s, true);
    tdb_result *r = NULL;
    CHECK_RC(c, tdb_command(c, "create database esc", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "esc"), TDB_OK);
    CHECK_RC(c, tdb_query(c, "SELECT 1 AS a, 2 AS \"B\", 3 AS b", NULL, 0, &r), TDB_OK);
    CHECK(tdb_result_column_index(r, "a") == 0);
    CHECK(tdb_result_column_index(r, "B") == 1);
    CHECK(tdb_result_column_index(r, "b") == 2);
    CHECK(tdb_result_column_index(r, "A") == 0); /* case-insensitive when nothing matches */
    CHECK(tdb_result_column_index(r, "zz") == -1);
    CHECK(tdb_result_column_index(r, NULL) == -1);
    CHECK(tdb_result_column_index(NULL, "a") == -1);
    tdb_result_free(r);

    char *lit = tdb_escape_literal("it's", 4);
    CHECK(lit && strcmp(lit, "'it''s'") == 0);
    free(lit);
    char *id = tdb_escape_identifier("a\"b", 3);
    CHECK(id && strcmp(id, "\"a\"\"b\"") == 0);
    free(id);
    lit = tdb_escape_literal("abc", 2); /* len counts */
    CHECK(lit && strcmp(lit, "'ab'") == 0);
    free(lit);
    lit = tdb_escape_literal("a\0b", 3); /* stops at a NUL */
    CHECK(lit && strcmp(lit, "'a'") == 0);
    free(lit);
    CHECK(tdb_escape_literal("\xff", 1) == NULL);        /* not UTF-8 */
    CHECK(tdb_escape_identifier("\xc0\xaf", 2) == NULL); /* overlong */
    /* Round trip through DuckDB: names and values with quotes, backslashes, UTF-8. */
    const char *name = "we\"ird 'tab\\le' ünï";
    const char *value = "O'Brien \\n \"quoted\" 名前 ''";
    char *qn = tdb_escape_identifier(name, strlen(name));
    char *qv = tdb_escape_literal(value, strlen(value));
    CHECK(qn && qv);
    if (qn && qv) {
        char sql[512];
        snprintf(sql, sizeof(sql), "CREATE TABLE %s AS SELECT %s AS v", qn, qv);
        CHECK_RC(c, tdb_command(c, sql, NULL), TDB_OK);
        snprintf(sql, sizeof(sql), "SELECT v FROM %s", qn);
        CHECK_RC(c, tdb_query(c, sql, NULL, 0, &r), TDB_OK);
        const char *got = r ? tdb_result_text(r, 0, 0, NULL) : NULL;
        CHECK(got && strcmp(got, value) == 0);
        tdb_result_free(r);
    }
    free(qn);
    free(qv);
    tdb_close(c);
}

static void test_reset(const TestServer *s)
{
    char info[256];
    tdb_result *r = NULL;
    clear_tdb_env();
    snprintf(info, sizeof(info), "host=%s port=%d user=duck password=duck sslmode=disable", s->host,
             s->port);
    tdb_conn *c = tdb_connectdb(info);
    CHECK_RC(c, tdb_connectdb_status(c), TDB_OK);
    CHECK_RC(c, tdb_command(c, "create database rst", NULL), TDB_OK);
    CHECK_RC(c, tdb_connect_database(c, "rst"), TDB_OK);
    CHECK_RC(c, tdb_command(c, "CREATE TABLE t AS SELECT 5 AS i", NULL), TDB_OK);
    char *before = NULL, *after = NULL;
    CHECK_RC(c, tdb_command(c, "session key", &before), TDB_OK);
    CHECK_RC(c, tdb_begin(c), TDB_OK);
    CHECK_RC(c, tdb_command(c, "INSERT INTO t VALUES (6)", NULL), TDB_OK);
    CHECK_RC(c, tdb_reset(c), TDB_OK);
    /* A new session, logged in again and in the same database; the transaction is gone. */
    CHECK(tdb_is_connected(c));
    CHECK(tdb_transaction_status_of(c) == TDB_TRANS_IDLE);
    CHECK_RC(c, tdb_command(c, "session key", &after), TDB_OK);
    CHECK(before && after && strcmp(before, after) != 0);
    CHECK(count_rows(c, "t") == 1);
    free(before);
    free(after);
    /* The old API resets too, also a connection that was lost. */
    tdb_conn *d = open_conn(s, true);
    CHECK_RC(d, tdb_connect_database(d, "rst"), TDB_OK);
    CHECK_RC(d, tdb_command(d, "quit", NULL), TDB_OK);
    CHECK_RC(d, tdb_command(d, "SELECT 1", NULL), TDB_ECONN);
    CHECK(!tdb_is_connected(d));
    CHECK_RC(d, tdb_reset(d), TDB_OK);
    CHECK(count_rows(d, "t") == 1);
    tdb_close(d);
    d = tdb_conn_new();
    CHECK_RC(d, tdb_reset(d), TDB_EINVAL);
    tdb_close(d);
    (void)r;
    tdb_close(c);
}

int main(void)
{
    TestServer srv = {0};
    const char *port = getenv("TDB_TEST_PORT");
    if (port) {
        srv.host = getenv("TDB_TEST_HOST") ? getenv("TDB_TEST_HOST") : "127.0.0.1";
        srv.port = atoi(port);
    } else if (server_start(&srv) != 0) {
        fprintf(stderr, "test_client: cannot start the server\n");
        return 1;
    }
    test_connect_errors(&srv);
    test_tls_options(&srv);
    test_login_and_commands(&srv);
    test_params(&srv);
    test_accessors(&srv);
    test_streaming(&srv);
    test_send_and_get(&srv);
    test_mid_result_error(&srv);
    test_transactions(&srv);
    test_cancel(&srv);
    test_abandon(&srv);
    test_csv_rows(&srv);
    test_conninfo(&srv);
    test_error_classes(&srv);
    test_transaction_status(&srv);
    test_nonblocking(&srv);
    test_column_index_and_escaping(&srv);
    test_reset(&srv);
    test_hostile_answers();
    if (!port) {
        test_server_gone(&srv);
        if (server_stop(&srv) != 0)
            failures++;
    }
    printf("test_client: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
