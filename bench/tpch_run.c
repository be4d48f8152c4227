/*
 * tpch_run: runs SQL scripts and timed queries on one of three systems, for the TPC-H-like
 * section of `make bench` (bench/tpch.py; docs/performance.md, "TPC-H-like queries").
 *
 *   tpch_run duckdb FILE THREADS  [options]   in-process DuckDB on database file FILE;
 *                                             THREADS: DuckDB's threads (0: DuckDB's default,
 *                                             one per core); --server-settings: the settings
 *                                             every database of the server gets (src/pool.c)
 *   tpch_run tdb CONNINFO         [options]   through TCP-DuckDB, on the C client library
 *   tpch_run pg CONNINFO          [options]   PostgreSQL, on libpq
 *
 * Options:
 *   --script FILE      run FILE's statements first, one at a time, untimed. A statement ends
 *                      with `;` at the end of a line; `__SF__` is replaced by --sf.
 *   --sf X             the scale factor put in for __SF__ (default 1)
 *   --queries FILE     then run FILE's queries: each starts at a line `-- Q<n>` (n a number) and
 * ends with `;`
 *   --only N,N,...     only these query numbers
 *   --reps N           timed runs of each query after one untimed warm-up run (default 3)
 *   --dump DIR         write each query's answer (warm-up run) to DIR/q<n>.tsv: one line per
 *                      row, cells as text separated by tabs, NULL as \N
 *   --timeout S        PostgreSQL's statement_timeout for the queries, in seconds; a query that
 *                      reaches it is reported with "timeout": true and not run again
 *
 * Prints one JSON line per query: {"q":N,"ms":[...],"rows":R} (the times of the timed runs,
 * wall clock around the whole call, the answer fully read). Exits 1 on any error, with the
 * statement and the system's message on stderr, so a broken run never reads as a slow one.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "duckdb.h"
#include "tcpduckdb.h"

typedef enum { SYS_DUCKDB, SYS_TDB, SYS_PG } System;

typedef struct {
    System sys;
    duckdb_database db;
    duckdb_connection con;
    tdb_conn *tdb;
    PGconn *pg;
    FILE *dump; /* where the current statement's answer goes, or NULL */
    long rows;  /* rows of the last answer */
} Target;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *sql, const char *msg)
{
    fprintf(stderr, "tpch_run: %s failed: %s\n--- statement:\n%.2000s\n", what, msg ? msg : "?",
            sql ? sql : "");
    exit(1);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("opening a file", path, "cannot open");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        die("reading a file", path, "short read");
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* `text` with every __SF__ replaced by `sf`; the caller frees it. */
static char *put_sf(const char *text, const char *sf)
{
    size_t cap = strlen(text) * 2 + 64, len = 0;
    char *out = malloc(cap);
    for (const char *p = text; *p;) {
        if (strncmp(p, "__SF__", 6) == 0) {
            len += (size_t)snprintf(out + len, cap - len, "(%s)", sf);
            p += 6;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    return out;
}

/* The next statement of *pos: up to and with a `;` that ends a line, comments-only text
 * skipped; NULL at the end. Modifies the buffer. */
static char *next_statement(char **pos)
{
    char *p = *pos;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (strncmp(p, "--", 2) == 0) {
            char *nl = strchr(p, '\n');
            if (!nl)
                return NULL;
            p = nl + 1;
            continue;
        }
        break;
    }
    if (!*p)
        return NULL;
    char *start = p;
    for (;;) {
        char *semi = strstr(p, ";\n");
        if (!semi) {
            *pos = p + strlen(p);
            return start;
        }
        *semi = '\0';
        *pos = semi + 2;
        return start;
    }
}

static void dump_cell(FILE *f, bool first, const char *text, bool null)
{
    if (!first)
        fputc('\t', f);
    fputs(null ? "\\N" : text, f);
}

/* Runs one statement, reads its whole answer, writes it to t->dump when set. */
static void run(Target *t, const char *sql, bool *timed_out)
{
    t->rows = 0;
    if (t->sys == SYS_DUCKDB) {
        duckdb_result res;
        if (duckdb_query(t->con, sql, &res) != DuckDBSuccess)
            die("DuckDB", sql, duckdb_result_error(&res));
        idx_t rows = duckdb_row_count(&res), cols = duckdb_column_count(&res);
        t->rows = (long)rows;
        for (idx_t r = 0; t->dump && r < rows; r++) {
            for (idx_t c = 0; c < cols; c++) {
                char *v = duckdb_value_varchar(&res, c, r);
                dump_cell(t->dump, c == 0, v, v == NULL);
                duckdb_free(v);
            }
            fputc('\n', t->dump);
        }
        duckdb_destroy_result(&res);
    } else if (t->sys == SYS_TDB) {
        tdb_result *res = NULL;
        if (tdb_query(t->tdb, sql, NULL, 0, &res) != TDB_OK)
            die("TCP-DuckDB", sql, tdb_error(t->tdb));
        size_t rows = tdb_result_nrows(res), cols = tdb_result_ncols(res);
        t->rows = (long)rows;
        for (size_t r = 0; t->dump && r < rows; r++) {
            for (size_t c = 0; c < cols; c++)
                dump_cell(t->dump, c == 0, tdb_result_text(res, r, c, NULL),
                          tdb_result_is_null(res, r, c));
            fputc('\n', t->dump);
        }
        tdb_result_free(res);
    } else {
        PGresult *res = PQexec(t->pg, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            const char *code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            if (timed_out && code && strcmp(code, "57014") == 0) {
                *timed_out = true;
                PQclear(res);
                return;
            }
            die("PostgreSQL", sql, PQresultErrorMessage(res));
        }
        int rows = PQntuples(res), cols = PQnfields(res);
        t->rows = rows;
        for (int r = 0; t->dump && r < rows; r++) {
            for (int c = 0; c < cols; c++)
                dump_cell(t->dump, c == 0, PQgetvalue(res, r, c), PQgetisnull(res, r, c));
            fputc('\n', t->dump);
        }
        PQclear(res);
    }
}

static void open_target(Target *t, const char *kind, const char *where, const char *threads,
                        bool server_settings)
{
    memset(t, 0, sizeof(*t));
    if (strcmp(kind, "duckdb") == 0) {
        t->sys = SYS_DUCKDB;
        duckdb_config cfg = NULL;
        char *err = NULL;
        if (duckdb_create_config(&cfg) != DuckDBSuccess)
            die("duckdb_create_config", NULL, "out of memory");
        if (atoi(threads) > 0 && duckdb_set_config(cfg, "threads", threads) != DuckDBSuccess)
            die("setting threads", threads, "rejected");
        /* The server's own settings (src/pool.c, open_db) that change plans. */
        if (server_settings &&
            duckdb_set_config(cfg, "disabled_optimizers",
                              "statistics_propagation,row_group_pruner") != DuckDBSuccess)
            die("setting disabled_optimizers", NULL, "rejected");
        if (duckdb_open_ext(where, &t->db, cfg, &err) != DuckDBSuccess)
            die("opening DuckDB", where, err);
        duckdb_destroy_config(&cfg);
        if (duckdb_connect(t->db, &t->con) != DuckDBSuccess)
            die("connecting to DuckDB", where, NULL);
    } else if (strcmp(kind, "tdb") == 0) {
        t->sys = SYS_TDB;
        t->tdb = tdb_connectdb(where);
        if (!t->tdb || tdb_connectdb_status(t->tdb) != TDB_OK)
            die("connecting to TCP-DuckDB", where, t->tdb ? tdb_error(t->tdb) : "out of memory");
        /* TPC-H answers are small, but the generator's statements run for a while. */
        tdb_set_timeout(t->tdb, 0);
    } else if (strcmp(kind, "pg") == 0) {
        t->sys = SYS_PG;
        t->pg = PQconnectdb(where);
        if (PQstatus(t->pg) != CONNECTION_OK)
            die("connecting to PostgreSQL", where, PQerrorMessage(t->pg));
    } else {
        die("parsing the arguments", kind, "the system must be duckdb, tdb or pg");
    }
}

static void close_target(Target *t)
{
    if (t->sys == SYS_DUCKDB) {
        duckdb_disconnect(&t->con);
        duckdb_close(&t->db);
    } else if (t->sys == SYS_TDB) {
        tdb_close(t->tdb);
    } else {
        PQfinish(t->pg);
    }
}

static bool wanted(const char *only, int q)
{
    if (!only)
        return true;
    for (const char *p = only; *p;) {
        if (atoi(p) == q)
            return true;
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    return false;
}

static void run_queries(Target *t, char *text, const char *only, int reps, const char *dumpdir,
                        int timeout_s)
{
    char *p = text;
    if (t->sys == SYS_PG && timeout_s > 0) {
        char set[64];
        snprintf(set, sizeof(set), "SET statement_timeout = '%ds'", timeout_s);
        run(t, set, NULL);
    }
    for (;;) {
        char *start = strstr(p, "\n-- Q");
        while (start && !isdigit((unsigned char)start[5]))
            start = strstr(start + 1, "\n-- Q");
        if (!start)
            break;
        start++;
        int q = atoi(start + 4);
        char *body = strchr(start, '\n');
        if (!body)
            break;
        char *end = strstr(body, ";\n");
        if (!end)
            die("reading the queries", start, "a query without `;` at the end of a line");
        *end = '\0';
        p = end + 2;
        if (!wanted(only, q))
            continue;
        if (dumpdir) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/q%d.tsv", dumpdir, q);
            t->dump = fopen(path, "w");
            if (!t->dump)
                die("opening the dump file", path, "cannot create");
        }
        bool timed_out = false;
        run(t, body, &timed_out); /* warm-up, and the answer to compare */
        if (t->dump) {
            fclose(t->dump);
            t->dump = NULL;
        }
        printf("{\"q\":%d,\"rows\":%ld,\"ms\":[", q, t->rows);
        for (int r = 0; r < reps && !timed_out; r++) {
            double t0 = now_ms();
            run(t, body, &timed_out);
            printf("%s%.3f", r ? "," : "", now_ms() - t0);
        }
        printf("]%s}\n", timed_out ? ",\"timeout\":true" : "");
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: tpch_run duckdb FILE THREADS | tdb CONNINFO | pg CONNINFO "
                        "[--script F] [--sf X] [--queries F] [--only N,..] [--reps N] "
                        "[--dump DIR] [--timeout S] [--server-settings]\n");
        return 2;
    }
    const char *kind = argv[1], *where = argv[2], *threads = "0";
    int i = 3;
    if (strcmp(kind, "duckdb") == 0) {
        if (argc < 4)
            die("parsing the arguments", NULL, "duckdb needs FILE and THREADS");
        threads = argv[3];
        i = 4;
    }
    const char *script = NULL, *sf = "1", *queries = NULL, *only = NULL, *dumpdir = NULL;
    int reps = 3, timeout_s = 0;
    bool server_settings = false;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--server-settings") == 0) {
            server_settings = true;
            continue;
        }
        if (i + 1 >= argc)
            die("parsing the arguments", a, "a value is missing");
        const char *v = argv[++i];
        if (strcmp(a, "--script") == 0)
            script = v;
        else if (strcmp(a, "--sf") == 0)
            sf = v;
        else if (strcmp(a, "--queries") == 0)
            queries = v;
        else if (strcmp(a, "--only") == 0)
            only = v;
        else if (strcmp(a, "--reps") == 0)
            reps = atoi(v);
        else if (strcmp(a, "--dump") == 0)
            dumpdir = v;
        else if (strcmp(a, "--timeout") == 0)
            timeout_s = atoi(v);
        else
            die("parsing the arguments", a, "unknown option");
    }
    Target t;
    open_target(&t, kind, where, threads, server_settings);
    if (script) {
        char *raw = read_file(script);
        char *text = put_sf(raw, sf);
        free(raw);
        char *pos = text, *stmt;
        while ((stmt = next_statement(&pos)) != NULL) {
            double t0 = now_ms();
            run(&t, stmt, NULL);
            fprintf(stderr, "tpch_run: %.0f ms: %.60s\n", now_ms() - t0, stmt);
        }
        free(text);
    }
    if (queries) {
        char *raw = read_file(queries);
        char *text = put_sf(raw, sf);
        free(raw);
        run_queries(&t, text, only, reps, dumpdir, timeout_s);
        free(text);
    }
    close_target(&t);
    return 0;
}
