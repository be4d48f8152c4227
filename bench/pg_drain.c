/*
 * pg_drain: the ceiling for `link`: how fast a plain libpq program drains
 * COPY (SELECT ...) TO STDOUT (FORMAT binary|text), doing nothing with the
 * rows. Usage: pg_drain CONNINFO "SELECT ..." [binary|text]. Prints rows/s.
 * Build: cc -O2 -o build/pg_drain bench/pg_drain.c -lpq -I/usr/include/postgresql
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: pg_drain CONNINFO QUERY [binary|text]\n");
        return 2;
    }
    const char *format = argc > 3 ? argv[3] : "binary";
    PGconn *pg = PQconnectdb(argv[1]);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "%s", PQerrorMessage(pg));
        return 1;
    }
    char sql[8192];
    snprintf(sql, sizeof(sql), "COPY (%s) TO STDOUT (FORMAT %s)", argv[2], format);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        fprintf(stderr, "%s", PQresultErrorMessage(r));
        return 1;
    }
    PQclear(r);
    long long rows = 0, bytes = 0;
    char *buf;
    int n;
    while ((n = PQgetCopyData(pg, &buf, 0)) > 0) {
        rows++;
        bytes += n;
        PQfreemem(buf);
    }
    r = PQgetResult(pg);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "%s", PQresultErrorMessage(r));
        return 1;
    }
    PQclear(r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%s: %lld rows, %lld bytes in %.2f s: %.0f rows/s\n", format, rows, bytes, s,
           (double)rows / s);
    PQfinish(pg);
    return 0;
}
