/*
 * tdb_bench: the TCP-DuckDB side of `make bench`, a client on the C client
 * library (clients/c/tcpduckdb.h) with four subcommands:
 *
 *   load   N connections send small queries for a fixed time: `SELECT 1` or
 *          a primary-key lookup on the 100k-row table kv, as literal SQL text
 *          (tdb_query without parameters) or as a typed request with
 *          parameters (bound by the server as a prepared statement). With
 *          --churn NDB each operation is instead `connect churnK`, `SELECT 1`,
 *          `disconnect`, K cycling over NDB databases.
 *   large  streams one query's result row by row (tdb_query_start and
 *          tdb_next_row) and reads every cell, as an application would.
 *   conns  opens --n idle connections and reads the server's RSS from
 *          /proc/PID/status after connecting, logging in and `connect`ing
 *          them; then times --samples fresh connections from TCP connect to
 *          the first query result.
 *   beside one connection sends `SELECT 1` back to back for --seconds while
 *          --long other connections (as --long-user) each run --long-sql in
 *          a loop: the short client's latency percentiles beside long work.
 *
 * Connections are plain TCP unless --sslmode asks for TLS (the library's
 * default, prefer, would first send `starttls` to every server).
 *
 * Each subcommand prints one line of JSON with its figures on stdout and
 * exits 0, or prints why it failed on stderr and exits 1: bench/run.py
 * fails the run when a figure is missing.
 *
 * `load` drives its connections as pgbench does: --threads threads (by
 * default as many as cores, at most one per connection), each keeping one
 * query in flight on each of its connections with tdb_send_query() and
 * tdb_get_result() and waiting for the answers with epoll. (A thread per
 * connection, as this program had first, cost 11-18 µs of client CPU per
 * query against pgbench's 5-7, most of it the kernel putting threads to
 * sleep and waking them.) --churn, whose operations are three requests in
 * a row, runs one thread per connection on the blocking calls. `load`
 * reports its own CPU time (getrusage) so that its cost can be compared
 * with pgbench's, since on a 2-core machine the client's CPU is taken from
 * the server's.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <getopt.h>
#include <linux/tcp.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tcpduckdb.h"

#define KV_ROWS 100000

typedef struct Options {
    const char *host;
    int port;
    const char *user;
    const char *password;
    const char *database;
    int conns;
    double seconds;
    const char *mode;          /* load: select1 | point */
    const char *form;          /* load: literal | params */
    int churn;                 /* load: databases to cycle over (0: no churn) */
    int threads;               /* load: threads (0: one per core, at most one per connection) */
    const char *sql;           /* large */
    long long expect;          /* large: rows expected (-1: any) */
    int n;                     /* conns: idle connections */
    int samples;               /* conns: connect-to-first-result samples */
    int pid;                   /* conns: the server's process id */
    int nlong;                 /* beside: connections running the long statement */
    const char *long_sql;      /* beside: the long statement */
    const char *long_user;     /* beside: their user (NULL: --user) */
    const char *long_password; /* beside: their password (NULL: --password) */
    double warmup;             /* beside: seconds the long ones run before the short one starts */
    tdb_sslmode sslmode;       /* TLS: disable (the default here: plain TCP) or require, ... */
    const char *sslrootcert;   /* TLS: CA file for verify-ca / verify-full */
} Options;

static Options opt = {
    .host = "127.0.0.1",
    .port = 0,
    .user = "duck",
    .password = "duck",
    .database = "bench",
    .conns = 1,
    .seconds = 5,
    .mode = "select1",
    .form = "literal",
    .churn = 0,
    .threads = 0,
    .sql = NULL,
    .expect = -1,
    .n = 1000,
    .samples = 200,
    .pid = 0,
    .nlong = 0,
    .long_sql = NULL,
    .long_user = NULL,
    .long_password = NULL,
    .warmup = 1,
    .sslmode = TDB_SSL_DISABLE,
    .sslrootcert = NULL,
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n sorted values, nearest rank. */
static double quantile(const int64_t *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)n);
    if (i >= n)
        i = n - 1;
    return (double)sorted[i];
}

/* A connected handle logged in as user (in opt.database unless database is NULL), or NULL. */
static tdb_conn *open_conn_as(const char *user, const char *password, const char *database,
                              char *err, size_t errlen)
{
    tdb_conn *c = tdb_conn_new();
    int rc;
    tdb_tls_options tls = {.sslmode = opt.sslmode, .sslrootcert = opt.sslrootcert};
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if ((rc = tdb_set_tls(c, &tls)) != TDB_OK ||
        (rc = tdb_connect(c, opt.host, opt.port, 10000)) != TDB_OK ||
        (rc = tdb_login(c, user, password)) != TDB_OK ||
        (database && (rc = tdb_connect_database(c, database)) != TDB_OK)) {
        snprintf(err, errlen, "%s: %s", tdb_strstatus(rc), tdb_error(c));
        tdb_close(c);
        return NULL;
    }
    tdb_set_timeout(c, 60000);
    return c;
}

/* A connected handle logged in as opt.user (in opt.database unless database is NULL), or NULL. */
static tdb_conn *open_conn(const char *database, char *err, size_t errlen)
{
    return open_conn_as(opt.user, opt.password, database, err, errlen);
}

/* ---- load ------------------------------------------------------------------------------ */

/* One connection of the load. */
typedef struct Worker {
    int index;
    tdb_conn *conn;
    int64_t *lat; /* nanoseconds per operation */
    size_t nlat, cap;
    long long busy;     /* churn: `connect` answered Server Busy */
    long long rejected; /* answered Too Many Statements (MaxUserStatements): sent again */
    uint64_t rng;
    int64_t sent_ns; /* when the query in flight was sent */
    bool in_flight;  /* a query was sent and its answer not read */
} Worker;

/* A thread of the load and the connections it drives. */
typedef struct Thread {
    pthread_t thread;
    Worker *ws;
    int n;
} Thread;

static atomic_int failed;
static int64_t load_end_ns;
static pthread_barrier_t start_barrier;

static uint64_t next_rand(uint64_t *s)
{
    /* xorshift64: cheap and good enough to spread keys over the table. */
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static int record(Worker *w, int64_t ns)
{
    if (w->nlat == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 65536;
        int64_t *p = realloc(w->lat, cap * sizeof(*p));
        if (!p)
            return -1;
        w->lat = p;
        w->cap = cap;
    }
    w->lat[w->nlat++] = ns;
    return 0;
}

static int fail(Worker *w, const char *what, int rc)
{
    fprintf(stderr, "tdb_bench load: connection %d: %s: %s: %s\n", w->index, what,
            tdb_strstatus(rc), tdb_error(w->conn));
    atomic_store(&failed, 1);
    return -1;
}

/* One churn operation: `connect churnK`, `SELECT 1`, `disconnect`. Returns 0, 1 when the
 * `connect` was answered Server Busy (nothing else was done), or -1 on failure. */
static int churn_op(Worker *w, long long k)
{
    char db[64];
    tdb_result *res = NULL;
    snprintf(db, sizeof(db), "churn%lld", k % opt.churn);
    int rc = tdb_connect_database(w->conn, db);
    if (rc == TDB_ESERVER && strstr(tdb_error(w->conn), "Server Busy")) {
        w->busy++;
        return 1; /* counted apart, not as an operation */
    }
    if (rc != TDB_OK)
        return fail(w, "connect", rc);
    rc = tdb_query(w->conn, "SELECT 1", NULL, 0, &res);
    if (rc != TDB_OK)
        return fail(w, "SELECT 1", rc);
    tdb_result_free(res);
    rc = tdb_command(w->conn, "disconnect", NULL);
    return rc == TDB_OK ? 0 : fail(w, "disconnect", rc);
}

/* Sends the next query of the chosen mode and form; 0 or -1. */
static int send_op(Worker *w)
{
    char sql[160];
    int rc;
    bool params = strcmp(opt.form, "params") == 0;
    if (strcmp(opt.mode, "select1") == 0) {
        tdb_param p = tdb_param_int64(1);
        rc = params ? tdb_send_query(w->conn, "SELECT $1", &p, 1)
                    : tdb_send_query(w->conn, "SELECT 1", NULL, 0);
    } else {
        long long id = (long long)(next_rand(&w->rng) % KV_ROWS) + 1;
        tdb_param p = tdb_param_int64(id);
        if (params) {
            rc = tdb_send_query(w->conn, "SELECT val FROM kv WHERE id = $1", &p, 1);
        } else {
            snprintf(sql, sizeof(sql), "SELECT val FROM kv WHERE id = %lld", id);
            rc = tdb_send_query(w->conn, sql, NULL, 0);
        }
    }
    if (rc != TDB_OK)
        return fail(w, "send", rc);
    w->sent_ns = now_ns();
    w->in_flight = true;
    return 0;
}

/* Reads the answer in flight, checks its shape and records its latency; 0 or -1. */
static int finish_op(Worker *w)
{
    tdb_result *res = NULL;
    int rc = tdb_get_result(w->conn, &res);
    int64_t done = now_ns();
    w->in_flight = false;
    /* A normal user's connections beyond MaxUserStatements are refused, not failed: counted,
     * and the next query is sent at once (the figures show how many). */
    if (rc == TDB_ESERVER && strstr(tdb_error(w->conn), "Too Many Statements")) {
        w->rejected++;
        return 0;
    }
    if (rc != TDB_OK)
        return fail(w, "query", rc);
    size_t rows = tdb_result_nrows(res);
    tdb_result_free(res);
    if (rows != 1) {
        fprintf(stderr, "tdb_bench load: expected 1 row, got %zu\n", rows);
        atomic_store(&failed, 1);
        return -1;
    }
    if (record(w, done - w->sent_ns) != 0) {
        fprintf(stderr, "tdb_bench load: out of memory\n");
        atomic_store(&failed, 1);
        return -1;
    }
    return 0;
}

/* --churn: one connection, blocking calls. */
static void *churn_main(void *arg)
{
    Thread *t = arg;
    Worker *w = &t->ws[0];
    pthread_barrier_wait(&start_barrier);
    long long k = (long long)w->index * 7;
    while (!atomic_load_explicit(&failed, memory_order_relaxed)) {
        int64_t t0 = now_ns();
        if (t0 >= load_end_ns)
            break;
        int rc = churn_op(w, k++);
        if (rc < 0)
            break;
        if (rc == 0 && record(w, now_ns() - t0) != 0) {
            fprintf(stderr, "tdb_bench load: out of memory\n");
            atomic_store(&failed, 1);
            break;
        }
    }
    return NULL;
}

/*
 * One query in flight on each of the thread's connections until the time is up, then the
 * last answers are read. The sockets are in an epoll set, so a wake-up costs the connections
 * that are ready, not all of them; answers the library already holds are read before any
 * wait.
 */
static void *mux_main(void *arg)
{
    Thread *t = arg;
    struct epoll_event evs[64];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; ep >= 0 && i < t->n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, tdb_socket(t->ws[i].conn), &ev) != 0) {
            close(ep);
            ep = -1;
        }
    }
    if (ep < 0) {
        fprintf(stderr, "tdb_bench load: epoll: %s\n", strerror(errno));
        atomic_store(&failed, 1);
    }
    pthread_barrier_wait(&start_barrier);
    int in_flight = 0;
    for (int i = 0; ep >= 0 && i < t->n && !atomic_load(&failed); i++)
        in_flight += send_op(&t->ws[i]) == 0;
    while (in_flight > 0 && !atomic_load_explicit(&failed, memory_order_relaxed)) {
        int n = 0;
        for (int i = 0; i < t->n && n < 64; i++) {
            if (t->ws[i].in_flight && tdb_input_buffered(t->ws[i].conn))
                evs[n++].data.u32 = (uint32_t)i;
        }
        if (n == 0) {
            n = epoll_wait(ep, evs, 64, 60000);
            if (n == 0 || (n < 0 && errno != EINTR)) {
                fprintf(stderr, "tdb_bench load: epoll_wait: %s\n",
                        n ? strerror(errno) : "no answer in 60 s");
                atomic_store(&failed, 1);
                break;
            }
        }
        bool more = now_ns() < load_end_ns;
        for (int k = 0; k < n; k++) {
            Worker *w = &t->ws[evs[k].data.u32];
            if (!w->in_flight)
                continue;
            in_flight--;
            if (finish_op(w) != 0)
                break;
            if (more && send_op(w) == 0)
                in_flight++;
        }
    }
    if (ep >= 0)
        close(ep);
    return NULL;
}

static int cmd_load(void)
{
    int ret = 1;
    Worker *ws = calloc((size_t)opt.conns, sizeof(*ws));
    int nthreads = opt.churn > 0     ? opt.conns
                   : opt.threads > 0 ? opt.threads
                                     : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (nthreads > opt.conns)
        nthreads = opt.conns;
    if (nthreads < 1)
        nthreads = 1;
    Thread *ts = calloc((size_t)nthreads, sizeof(*ts));
    if (!ws || !ts)
        goto out;
    if (strcmp(opt.mode, "select1") != 0 && strcmp(opt.mode, "point") != 0) {
        fprintf(stderr, "tdb_bench load: --mode is select1 or point\n");
        goto out;
    }
    if (strcmp(opt.form, "literal") != 0 && strcmp(opt.form, "params") != 0) {
        fprintf(stderr, "tdb_bench load: --form is literal or params\n");
        goto out;
    }
    for (int i = 0; i < opt.conns; i++) {
        char err[512];
        ws[i].index = i;
        ws[i].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        ws[i].conn = open_conn(opt.churn > 0 ? NULL : opt.database, err, sizeof(err));
        if (!ws[i].conn) {
            fprintf(stderr, "tdb_bench load: connection %d: %s\n", i, err);
            goto out;
        }
    }
    /* Connections are dealt out in contiguous runs: thread i gets conns/nthreads of them,
     * the first conns%nthreads threads one more. */
    for (int i = 0, at = 0; i < nthreads; i++) {
        ts[i].ws = ws + at;
        ts[i].n = opt.conns / nthreads + (i < opt.conns % nthreads);
        at += ts[i].n;
    }
    pthread_barrier_init(&start_barrier, NULL, (unsigned)nthreads + 1);
    double cpu0 = cpu_seconds();
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&ts[i].thread, NULL, opt.churn > 0 ? churn_main : mux_main, &ts[i]) !=
            0) {
            /* The started threads wait at the barrier for ever: nothing to join. */
            fprintf(stderr, "tdb_bench load: cannot start thread %d\n", i);
            _exit(1);
        }
    }
    int64_t t0 = now_ns();
    load_end_ns = t0 + (int64_t)(opt.seconds * 1e9);
    pthread_barrier_wait(&start_barrier);
    for (int i = 0; i < nthreads; i++)
        pthread_join(ts[i].thread, NULL);
    double wall = (double)(now_ns() - t0) / 1e9;
    double cpu = cpu_seconds() - cpu0;
    pthread_barrier_destroy(&start_barrier);
    if (atomic_load(&failed))
        goto out;

    size_t total = 0;
    long long busy = 0, rejected = 0;
    for (int i = 0; i < opt.conns; i++) {
        total += ws[i].nlat;
        busy += ws[i].busy;
        rejected += ws[i].rejected;
    }
    int64_t *all = malloc((total ? total : 1) * sizeof(*all));
    if (!all)
        goto out;
    size_t at = 0;
    for (int i = 0; i < opt.conns; i++) {
        memcpy(all + at, ws[i].lat, ws[i].nlat * sizeof(*all));
        at += ws[i].nlat;
    }
    qsort(all, total, sizeof(*all), cmp_i64);
    if (total == 0) {
        fprintf(stderr, "tdb_bench load: no operation completed\n");
        free(all);
        goto out;
    }
    printf("{\"ops\":%zu,\"busy\":%lld,\"rejected\":%lld,\"seconds\":%.3f,\"qps\":%.1f,\"p50_ms\":%"
           ".4f,"
           "\"p99_ms\":%.4f,\"client_cpu_s\":%.3f,\"conns\":%d,\"threads\":%d}\n",
           total, busy, rejected, wall, (double)total / wall, quantile(all, total, 0.50) / 1e6,
           quantile(all, total, 0.99) / 1e6, cpu, opt.conns, nthreads);
    free(all);
    ret = 0;
out:
    for (int i = 0; ws && i < opt.conns; i++) {
        tdb_close(ws[i].conn);
        free(ws[i].lat);
    }
    free(ws);
    free(ts);
    return ret;
}

/* ---- large ----------------------------------------------------------------------------- */

/*
 * The descriptor of the connection to the server: the library does not expose it, so it is
 * the socket of this process whose peer port is the server's (the only one in `large`).
 */
static int server_socket(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL && found < 0) {
        int fd = atoi(e->d_name);
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        if (e->d_name[0] == '.' || fd == dirfd(d) ||
            getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
            continue;
        int port = sa.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&sa)->sin_port)
                   : sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                              : -1;
        if (port == opt.port)
            found = fd;
    }
    closedir(d);
    return found;
}

/* Bytes received on a TCP socket so far (TCP_INFO), or -1. */
static long long bytes_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
        return -1;
    return (long long)ti.tcpi_bytes_received;
}

static int cmd_large(void)
{
    char err[512];
    int ret = 1, rc;
    tdb_result *res = NULL;
    if (!opt.sql) {
        fprintf(stderr, "tdb_bench large: --sql is required\n");
        return 1;
    }
    tdb_conn *c = open_conn(opt.database, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "tdb_bench large: %s\n", err);
        return 1;
    }
    int fd = server_socket();
    long long bytes0 = bytes_received(fd);
    if (bytes0 < 0) {
        fprintf(stderr, "tdb_bench large: cannot read TCP_INFO of the connection\n");
        goto out;
    }
    double cpu0 = cpu_seconds();
    int64_t t0 = now_ns();
    if ((rc = tdb_query_start(c, opt.sql, NULL, 0, &res)) != TDB_OK) {
        fprintf(stderr, "tdb_bench large: %s: %s\n", tdb_strstatus(rc), tdb_error(c));
        goto out;
    }
    size_t ncols = tdb_result_ncols(res);
    long long rows = 0, sum = 0, textbytes = 0;
    while ((rc = tdb_next_row(res)) == 1) {
        for (size_t col = 0; col < ncols; col++) {
            int64_t v;
            size_t len = 0;
            if (tdb_result_value_kind(res, 0, col) == TDB_VALUE_INT) {
                if (tdb_result_int64(res, 0, col, &v) != TDB_OK) {
                    fprintf(stderr, "tdb_bench large: row %lld: bad integer\n", rows);
                    goto out;
                }
                sum += v;
            } else if (tdb_result_text(res, 0, col, &len) != NULL) {
                textbytes += (long long)len;
            }
        }
        rows++;
    }
    if (rc < 0) {
        fprintf(stderr, "tdb_bench large: after %lld rows: %s: %s\n", rows, tdb_strstatus(rc),
                tdb_error(c));
        goto out;
    }
    rc = tdb_query_end(res);
    res = NULL;
    if (rc != TDB_OK) {
        fprintf(stderr, "tdb_bench large: %s: %s\n", tdb_strstatus(rc), tdb_error(c));
        goto out;
    }
    double wall = (double)(now_ns() - t0) / 1e9;
    double cpu = cpu_seconds() - cpu0;
    long long bytes = bytes_received(fd) - bytes0;
    if (opt.expect >= 0 && rows != opt.expect) {
        fprintf(stderr, "tdb_bench large: %lld rows, expected %lld\n", rows, opt.expect);
        goto out;
    }
    printf("{\"rows\":%lld,\"bytes\":%lld,\"seconds\":%.3f,\"rows_per_s\":%.0f,"
           "\"mb_per_s\":%.1f,\"client_cpu_s\":%.3f,\"checksum\":%lld,\"text_bytes\":%lld}\n",
           rows, bytes, wall, (double)rows / wall, (double)bytes / wall / 1e6, cpu, sum, textbytes);
    ret = 0;
out:
    if (res)
        (void)tdb_query_end(res);
    tdb_close(c);
    return ret;
}

/* ---- conns ----------------------------------------------------------------------------- */

static long rss_kib(int pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* The server's RSS once it has settled (it answers requests on other threads). */
static long settled_rss(void)
{
    usleep(500000);
    return rss_kib(opt.pid);
}

static int cmd_conns(void)
{
    int ret = 1, rc;
    tdb_conn **cs = calloc((size_t)opt.n, sizeof(*cs));
    int64_t *lat = calloc((size_t)opt.samples + 1, sizeof(*lat));
    if (!cs || !lat || opt.pid <= 0) {
        fprintf(stderr, "tdb_bench conns: --pid is required\n");
        goto out;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.n + 64) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < (rlim_t)opt.n + 64) {
            fprintf(stderr, "tdb_bench conns: cannot raise RLIMIT_NOFILE to %d\n", opt.n + 64);
            goto out;
        }
    }
    long base = settled_rss();
    for (int i = 0; i < opt.n; i++) {
        tdb_tls_options tls = {.sslmode = opt.sslmode, .sslrootcert = opt.sslrootcert};
        cs[i] = tdb_conn_new();
        if (!cs[i] || (rc = tdb_set_tls(cs[i], &tls)) != TDB_OK ||
            (rc = tdb_connect(cs[i], opt.host, opt.port, 10000)) != TDB_OK) {
            fprintf(stderr, "tdb_bench conns: connection %d: %s\n", i,
                    cs[i] ? tdb_error(cs[i]) : "out of memory");
            goto out;
        }
    }
    /* Nothing was sent yet: a round trip on the last one proves the server accepted all. */
    if ((rc = tdb_login(cs[opt.n - 1], opt.user, opt.password)) != TDB_OK) {
        fprintf(stderr, "tdb_bench conns: login: %s\n", tdb_error(cs[opt.n - 1]));
        goto out;
    }
    long connected = settled_rss();
    for (int i = 0; i < opt.n - 1; i++) {
        if ((rc = tdb_login(cs[i], opt.user, opt.password)) != TDB_OK) {
            fprintf(stderr, "tdb_bench conns: login %d: %s\n", i, tdb_error(cs[i]));
            goto out;
        }
    }
    long logged_in = settled_rss();
    for (int i = 0; i < opt.n; i++) {
        if ((rc = tdb_connect_database(cs[i], opt.database)) != TDB_OK) {
            fprintf(stderr, "tdb_bench conns: connect %d: %s\n", i, tdb_error(cs[i]));
            goto out;
        }
    }
    long in_db = settled_rss();
    for (int i = 0; i < opt.n; i++) {
        tdb_close(cs[i]);
        cs[i] = NULL;
    }
    if (base < 0 || connected < 0 || logged_in < 0 || in_db < 0) {
        fprintf(stderr, "tdb_bench conns: cannot read /proc/%d/status\n", opt.pid);
        goto out;
    }

    for (int s = 0; s < opt.samples; s++) {
        char err[512];
        tdb_result *res = NULL;
        int64_t t0 = now_ns();
        tdb_conn *c = open_conn(opt.database, err, sizeof(err));
        if (!c) {
            fprintf(stderr, "tdb_bench conns: sample %d: %s\n", s, err);
            goto out;
        }
        rc = tdb_query(c, "SELECT 1", NULL, 0, &res);
        lat[s] = now_ns() - t0;
        tdb_result_free(res);
        tdb_close(c);
        if (rc != TDB_OK) {
            fprintf(stderr, "tdb_bench conns: sample %d: %s\n", s, tdb_strstatus(rc));
            goto out;
        }
    }
    qsort(lat, (size_t)opt.samples, sizeof(*lat), cmp_i64);
    double n = opt.n;
    printf("{\"n\":%d,\"rss_base_kib\":%ld,\"per_conn_connected_kib\":%.2f,"
           "\"per_conn_logged_in_kib\":%.2f,\"per_conn_in_db_kib\":%.2f,\"samples\":%d,"
           "\"connect_p50_ms\":%.3f,\"connect_p99_ms\":%.3f}\n",
           opt.n, base, (double)(connected - base) / n, (double)(logged_in - base) / n,
           (double)(in_db - base) / n, opt.samples, quantile(lat, (size_t)opt.samples, 0.5) / 1e6,
           quantile(lat, (size_t)opt.samples, 0.99) / 1e6);
    ret = 0;
out:
    if (cs)
        for (int i = 0; i < opt.n; i++)
            tdb_close(cs[i]);
    free(cs);
    free(lat);
    return ret;
}

/* ---- beside ---------------------------------------------------------------------------- */

/* One connection running the long statement in a loop until the run ends. */
typedef struct LongWorker {
    pthread_t thread;
    int index;
    tdb_conn *conn;
    long long done;     /* statements that ended (with their rows) before the run did */
    long long rejected; /* answered `Too Many Statements` (MaxUserStatements) */
    double busy_s;      /* seconds spent in the statements counted in done */
} LongWorker;

static atomic_bool long_stop;

static void *long_main(void *arg)
{
    LongWorker *w = arg;
    while (!atomic_load(&long_stop) && !atomic_load(&failed)) {
        tdb_result *res = NULL;
        int64_t t0 = now_ns();
        int rc = tdb_query(w->conn, opt.long_sql, NULL, 0, &res);
        tdb_result_free(res);
        if (atomic_load(&long_stop))
            break; /* cut short by the end of the run (its socket was shut down): not counted */
        if (rc == TDB_ESERVER && strstr(tdb_error(w->conn), "Too Many Statements")) {
            w->rejected++;
            usleep(10000); /* as a client that backs off; not a figure of the long work */
            continue;
        }
        if (rc != TDB_OK) {
            fprintf(stderr, "tdb_bench beside: long connection %d: %s: %s\n", w->index,
                    tdb_strstatus(rc), tdb_error(w->conn));
            atomic_store(&failed, 1);
            break;
        }
        w->done++;
        w->busy_s += (double)(now_ns() - t0) / 1e9;
    }
    return NULL;
}

/*
 * The long connections start first and run for --warmup seconds (so that the pool of workers
 * has grown, if it grows, before anything is measured); then the short connection sends
 * `SELECT 1` back to back for --seconds, one in flight, recording each latency. At the end the
 * long connections' sockets are shut down: their statements in flight are not counted, and the
 * server interrupts them when it sees their clients gone.
 */
static int cmd_beside(void)
{
    int ret = 1, started = 0;
    char err[512];
    int64_t *lat = NULL;
    size_t nlat = 0, cap = 0;
    tdb_conn *shortc = NULL;
    LongWorker *ls = calloc((size_t)(opt.nlong > 0 ? opt.nlong : 1), sizeof(*ls));
    if (!ls)
        goto out;
    if (opt.nlong > 0 && !opt.long_sql) {
        fprintf(stderr, "tdb_bench beside: --long-sql is required with --long\n");
        goto out;
    }
    shortc = open_conn(opt.database, err, sizeof(err));
    if (!shortc) {
        fprintf(stderr, "tdb_bench beside: short connection: %s\n", err);
        goto out;
    }
    for (int i = 0; i < opt.nlong; i++) {
        ls[i].index = i;
        ls[i].conn = open_conn_as(opt.long_user ? opt.long_user : opt.user,
                                  opt.long_password ? opt.long_password : opt.password,
                                  opt.database, err, sizeof(err));
        if (!ls[i].conn) {
            fprintf(stderr, "tdb_bench beside: long connection %d: %s\n", i, err);
            goto out;
        }
    }
    int64_t long0 = now_ns();
    for (; started < opt.nlong; started++) {
        if (pthread_create(&ls[started].thread, NULL, long_main, &ls[started]) != 0) {
            fprintf(stderr, "tdb_bench beside: cannot start thread %d\n", started);
            atomic_store(&failed, 1);
            break;
        }
    }
    if (!atomic_load(&failed))
        usleep((useconds_t)(opt.warmup * 1e6));

    int64_t t0 = now_ns(), end = t0 + (int64_t)(opt.seconds * 1e9);
    while (!atomic_load(&failed) && now_ns() < end) {
        tdb_result *res = NULL;
        int64_t q0 = now_ns();
        int rc = tdb_query(shortc, "SELECT 1", NULL, 0, &res);
        int64_t q1 = now_ns();
        size_t rows = rc == TDB_OK ? tdb_result_nrows(res) : 0;
        tdb_result_free(res);
        if (rc != TDB_OK || rows != 1) {
            fprintf(stderr, "tdb_bench beside: SELECT 1: %s: %s\n", tdb_strstatus(rc),
                    rc == TDB_OK ? "not one row" : tdb_error(shortc));
            atomic_store(&failed, 1);
            break;
        }
        if (nlat == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            int64_t *p = realloc(lat, ncap * sizeof(*p));
            if (!p) {
                fprintf(stderr, "tdb_bench beside: out of memory\n");
                atomic_store(&failed, 1);
                break;
            }
            lat = p;
            cap = ncap;
        }
        lat[nlat++] = q1 - q0;
    }
    double wall = (double)(now_ns() - t0) / 1e9;

    atomic_store(&long_stop, true);
    int64_t long1 = now_ns();
    for (int i = 0; i < started; i++)
        shutdown(tdb_socket(ls[i].conn), SHUT_RDWR);
    for (int i = 0; i < started; i++)
        pthread_join(ls[i].thread, NULL);
    if (atomic_load(&failed) || started < opt.nlong)
        goto out;
    if (nlat == 0) {
        fprintf(stderr, "tdb_bench beside: no SELECT 1 completed\n");
        goto out;
    }
    long long done = 0, rejected = 0;
    double busy = 0;
    for (int i = 0; i < opt.nlong; i++) {
        done += ls[i].done;
        rejected += ls[i].rejected;
        busy += ls[i].busy_s;
    }
    double long_wall = (double)(long1 - long0) / 1e9;
    qsort(lat, nlat, sizeof(*lat), cmp_i64);
    printf("{\"ops\":%zu,\"seconds\":%.3f,\"qps\":%.1f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,"
           "\"max_ms\":%.4f,\"long\":%d,\"long_done\":%lld,\"long_rejected\":%lld,"
           "\"long_seconds\":%.3f,\"long_per_s\":%.4f,\"long_mean_s\":%.3f}\n",
           nlat, wall, (double)nlat / wall, quantile(lat, nlat, 0.50) / 1e6,
           quantile(lat, nlat, 0.99) / 1e6, (double)lat[nlat - 1] / 1e6, opt.nlong, done, rejected,
           long_wall, (double)done / long_wall, done ? busy / (double)done : 0.0);
    ret = 0;
out:
    for (int i = 0; ls && i < opt.nlong; i++)
        tdb_close(ls[i].conn);
    tdb_close(shortc);
    free(ls);
    free(lat);
    return ret;
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(void)
{
    fprintf(
        stderr,
        "usage: tdb_bench load|large|conns|beside --port P [--host H] [--user U] [--password W]\n"
        "         [--database D] [--sslmode disable|prefer|require|verify-ca|verify-full]\n"
        "         [--sslrootcert CA_FILE]   (default: --sslmode disable, plain TCP)\n"
        "  load:  --conns N --seconds S --mode select1|point --form literal|params\n"
        "         [--threads T] (default: one per core) [--churn NDB] (databases\n"
        "         churn0..churnNDB-1; one thread per connection)\n"
        "  large: --sql SQL [--expect ROWS]\n"
        "  conns: --pid SERVER_PID [--n 1000] [--samples 200]\n"
        "  beside: --seconds S --long N --long-sql SQL [--long-user U --long-password W]\n"
        "         [--warmup S] (default 1)\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"user", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, 'w'},
        {"database", required_argument, NULL, 'd'},
        {"conns", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 'T'},
        {"mode", required_argument, NULL, 'm'},
        {"form", required_argument, NULL, 'f'},
        {"churn", required_argument, NULL, 'C'},
        {"sql", required_argument, NULL, 's'},
        {"expect", required_argument, NULL, 'e'},
        {"n", required_argument, NULL, 'n'},
        {"samples", required_argument, NULL, 'S'},
        {"pid", required_argument, NULL, 'P'},
        {"sslmode", required_argument, NULL, 'M'},
        {"sslrootcert", required_argument, NULL, 'R'},
        {"threads", required_argument, NULL, 't'},
        {"long", required_argument, NULL, 'L'},
        {"long-sql", required_argument, NULL, 'Q'},
        {"long-user", required_argument, NULL, 'U'},
        {"long-password", required_argument, NULL, 'W'},
        {"warmup", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *cmd = argv[1];
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            opt.host = optarg;
            break;
        case 'p':
            opt.port = atoi(optarg);
            break;
        case 'u':
            opt.user = optarg;
            break;
        case 'w':
            opt.password = optarg;
            break;
        case 'd':
            opt.database = optarg;
            break;
        case 'c':
            opt.conns = atoi(optarg);
            break;
        case 'T':
            opt.seconds = atof(optarg);
            break;
        case 'm':
            opt.mode = optarg;
            break;
        case 'f':
            opt.form = optarg;
            break;
        case 'C':
            opt.churn = atoi(optarg);
            break;
        case 't':
            opt.threads = atoi(optarg);
            break;
        case 's':
            opt.sql = optarg;
            break;
        case 'e':
            opt.expect = atoll(optarg);
            break;
        case 'n':
            opt.n = atoi(optarg);
            break;
        case 'S':
            opt.samples = atoi(optarg);
            break;
        case 'P':
            opt.pid = atoi(optarg);
            break;
        case 'M':
            if (tdb_sslmode_parse(optarg, &opt.sslmode) != TDB_OK) {
                usage();
                return 2;
            }
            break;
        case 'R':
            opt.sslrootcert = optarg;
            break;
        case 'L':
            opt.nlong = atoi(optarg);
            break;
        case 'Q':
            opt.long_sql = optarg;
            break;
        case 'U':
            opt.long_user = optarg;
            break;
        case 'W':
            opt.long_password = optarg;
            break;
        case 'r':
            opt.warmup = atof(optarg);
            break;
        default:
            usage();
            return 2;
        }
    }
    if (opt.port <= 0 || opt.conns < 1 || opt.seconds <= 0 || opt.n < 1 || opt.samples < 1 ||
        opt.nlong < 0 || opt.warmup < 0) {
        usage();
        return 2;
    }
    if (strcmp(cmd, "load") == 0)
        return cmd_load();
    if (strcmp(cmd, "large") == 0)
        return cmd_large();
    if (strcmp(cmd, "conns") == 0)
        return cmd_conns();
    if (strcmp(cmd, "beside") == 0)
        return cmd_beside();
    usage();
    return 2;
}
