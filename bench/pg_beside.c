/*
 * pg_beside: PostgreSQL's side of the "short requests beside long ones"
 * figure of `make bench`, the counterpart of `tdb_bench beside` on libpq.
 *
 * --long connections (conninfo --long-conninfo) each run --long-sql in a
 * loop, after --long-setup once (the bench sets
 * max_parallel_workers_per_gather = 0 so that a long statement takes one
 * core, as on TCP-DuckDB with DuckdbThreads=1). After --warmup seconds one
 * more connection (--conninfo) sends `SELECT 1` (simple protocol, one in
 * flight) back to back for --seconds, recording each latency. At the end the
 * long statements in flight are cancelled (PQcancel, repeated until their
 * threads have stopped: a cancel that arrives between two statements is
 * ignored by the server) and not counted.
 *
 * Prints one line of JSON with the same keys as `tdb_bench beside` and exits 0, or
 * says why it failed on stderr and exits 1.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

typedef struct Options {
    const char *conninfo;      /* the short connection */
    const char *long_conninfo; /* the long ones (NULL: conninfo) */
    const char *long_sql;
    const char *long_setup; /* run once on each long connection (NULL: nothing) */
    int nlong;
    double seconds;
    double warmup;
} Options;

static Options opt = {.seconds = 5, .warmup = 1};

/* One connection running the long statement in a loop until the run ends. */
typedef struct LongWorker {
    pthread_t thread;
    int index;
    PGconn *conn;
    PGcancel *cancel;
    atomic_bool running;
    long long done; /* statements that ended before the run did */
    double busy_s;  /* seconds spent in them */
} LongWorker;

static atomic_bool long_stop, failed;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n sorted values, nearest rank. */
static double quantile(const int64_t *sorted, size_t n, double q)
{
    size_t i = (size_t)(q * (double)n);
    return (double)sorted[i < n ? i : n - 1];
}

/* Runs sql on c; true when it returned rows or a command status. */
static bool exec_ok(PGconn *c, const char *sql, int *out_rows)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
    if (out_rows)
        *out_rows = ok ? PQntuples(r) : -1;
    PQclear(r);
    return ok;
}

static void *long_main(void *arg)
{
    LongWorker *w = arg;
    while (!atomic_load(&long_stop) && !atomic_load(&failed)) {
        int64_t t0 = now_ns();
        bool ok = exec_ok(w->conn, opt.long_sql, NULL);
        if (atomic_load(&long_stop))
            break; /* cancelled by the end of the run: not counted */
        if (!ok) {
            fprintf(stderr, "pg_beside: long connection %d: %s", w->index, PQerrorMessage(w->conn));
            atomic_store(&failed, true);
            break;
        }
        w->done++;
        w->busy_s += (double)(now_ns() - t0) / 1e9;
    }
    atomic_store(&w->running, false);
    return NULL;
}

static PGconn *connect_to(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_beside: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

static int run(void)
{
    int ret = 1, started = 0;
    int64_t *lat = NULL;
    size_t nlat = 0, cap = 0;
    PGconn *shortc = NULL;
    LongWorker *ls = calloc((size_t)(opt.nlong > 0 ? opt.nlong : 1), sizeof(*ls));
    if (!ls)
        goto out;
    if (!(shortc = connect_to(opt.conninfo)))
        goto out;
    for (int i = 0; i < opt.nlong; i++) {
        ls[i].index = i;
        if (!(ls[i].conn = connect_to(opt.long_conninfo ? opt.long_conninfo : opt.conninfo)))
            goto out;
        if (opt.long_setup && !exec_ok(ls[i].conn, opt.long_setup, NULL)) {
            fprintf(stderr, "pg_beside: --long-setup: %s", PQerrorMessage(ls[i].conn));
            goto out;
        }
        if (!(ls[i].cancel = PQgetCancel(ls[i].conn)))
            goto out;
    }
    int64_t long0 = now_ns();
    for (; started < opt.nlong; started++) {
        atomic_store(&ls[started].running, true);
        if (pthread_create(&ls[started].thread, NULL, long_main, &ls[started]) != 0) {
            atomic_store(&ls[started].running, false);
            fprintf(stderr, "pg_beside: cannot start thread %d\n", started);
            atomic_store(&failed, true);
            break;
        }
    }
    if (!atomic_load(&failed))
        usleep((useconds_t)(opt.warmup * 1e6));

    int64_t t0 = now_ns(), end = t0 + (int64_t)(opt.seconds * 1e9);
    while (!atomic_load(&failed) && now_ns() < end) {
        int rows = 0;
        int64_t q0 = now_ns();
        bool ok = exec_ok(shortc, "SELECT 1", &rows);
        int64_t q1 = now_ns();
        if (!ok || rows != 1) {
            fprintf(stderr, "pg_beside: SELECT 1: %s\n",
                    ok ? "not one row" : PQerrorMessage(shortc));
            atomic_store(&failed, true);
            break;
        }
        if (nlat == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            int64_t *p = realloc(lat, ncap * sizeof(*p));
            if (!p) {
                fprintf(stderr, "pg_beside: out of memory\n");
                atomic_store(&failed, true);
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
    for (bool any = true; any;) {
        any = false;
        for (int i = 0; i < started; i++) {
            char errbuf[256];
            if (atomic_load(&ls[i].running)) {
                any = true;
                (void)PQcancel(ls[i].cancel, errbuf, sizeof(errbuf));
            }
        }
        if (any)
            usleep(50000);
    }
    for (int i = 0; i < started; i++)
        pthread_join(ls[i].thread, NULL);
    if (atomic_load(&failed) || started < opt.nlong)
        goto out;
    if (nlat == 0) {
        fprintf(stderr, "pg_beside: no SELECT 1 completed\n");
        goto out;
    }
    long long done = 0;
    double busy = 0;
    for (int i = 0; i < opt.nlong; i++) {
        done += ls[i].done;
        busy += ls[i].busy_s;
    }
    double long_wall = (double)(long1 - long0) / 1e9;
    qsort(lat, nlat, sizeof(*lat), cmp_i64);
    printf("{\"ops\":%zu,\"seconds\":%.3f,\"qps\":%.1f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,"
           "\"max_ms\":%.4f,\"long\":%d,\"long_done\":%lld,\"long_rejected\":0,"
           "\"long_seconds\":%.3f,\"long_per_s\":%.4f,\"long_mean_s\":%.3f}\n",
           nlat, wall, (double)nlat / wall, quantile(lat, nlat, 0.50) / 1e6,
           quantile(lat, nlat, 0.99) / 1e6, (double)lat[nlat - 1] / 1e6, opt.nlong, done, long_wall,
           (double)done / long_wall, done ? busy / (double)done : 0.0);
    ret = 0;
out:
    for (int i = 0; ls && i < opt.nlong; i++) {
        PQfreeCancel(ls[i].cancel);
        PQfinish(ls[i].conn);
    }
    PQfinish(shortc);
    free(ls);
    free(lat);
    return ret;
}

static void usage(void)
{
    fprintf(stderr, "usage: pg_beside --conninfo CI --seconds S --long N --long-sql SQL\n"
                    "         [--long-conninfo CI] [--long-setup SQL] [--warmup S] (default 1)\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"conninfo", required_argument, NULL, 'c'}, {"long-conninfo", required_argument, NULL, 'C'},
        {"long-sql", required_argument, NULL, 'Q'}, {"long-setup", required_argument, NULL, 'S'},
        {"long", required_argument, NULL, 'L'},     {"seconds", required_argument, NULL, 'T'},
        {"warmup", required_argument, NULL, 'r'},   {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            opt.conninfo = optarg;
            break;
        case 'C':
            opt.long_conninfo = optarg;
            break;
        case 'Q':
            opt.long_sql = optarg;
            break;
        case 'S':
            opt.long_setup = optarg;
            break;
        case 'L':
            opt.nlong = atoi(optarg);
            break;
        case 'T':
            opt.seconds = atof(optarg);
            break;
        case 'r':
            opt.warmup = atof(optarg);
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!opt.conninfo || opt.seconds <= 0 || opt.nlong < 0 || opt.warmup < 0 ||
        (opt.nlong > 0 && !opt.long_sql)) {
        usage();
        return 2;
    }
    return run();
}
