/*
 * pgjob: one command's PostgreSQL connection and its first error. See
 * pgjob.h. Only this module opens, drives and closes libpq connections.
 */
#include "pgjob.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "secret.h"

#define CONNECT_TIMEOUT "10"

void pgjob_fail(PgJob *j, const char *fmt, ...)
{
    if (j->err[0])
        return; /* keep the first error */
    char raw[sizeof(j->err)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    secret_mask_text(raw, j->password, j->err, sizeof(j->err));
    size_t n = strlen(j->err);
    while (n && (j->err[n - 1] == '\n' || j->err[n - 1] == ' '))
        j->err[--n] = '\0';
}

void pgjob_fail_pg(PgJob *j, const char *what)
{
    pgjob_fail(j, "PostgreSQL: %s: %s", what, PQerrorMessage(j->conn));
}

PGresult *pgjob_query(PgJob *j, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = nparams ? PQexecParams(j->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                          : PQexec(j->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        pgjob_fail(j, "PostgreSQL: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

PGresult *pgjob_query_timed(PgJob *j, const char *sql, int timeout_ms, void (*on_timeout)(void *),
                            void *ctx, bool *timed_out)
{
    *timed_out = false;
    if (!PQsendQuery(j->conn, sql)) {
        pgjob_fail_pg(j, "query");
        return NULL;
    }
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (PQisBusy(j->conn)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = timeout_ms - ((int64_t)(now.tv_sec - t0.tv_sec) * 1000 +
                                     (now.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0) {
            on_timeout(ctx);
            char eb[256];
            PGcancel *c = PQgetCancel(j->conn);
            if (c) {
                (void)PQcancel(c, eb, sizeof(eb));
                PQfreeCancel(c);
            }
            PGresult *x;
            while ((x = PQgetResult(j->conn)))
                PQclear(x);
            *timed_out = true;
            return NULL;
        }
        struct pollfd pfd = {.fd = PQsocket(j->conn), .events = POLLIN};
        if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR) {
            pgjob_fail(j, "poll: %s", strerror(errno));
            return NULL;
        }
        if (PQconsumeInput(j->conn) == 0) {
            pgjob_fail_pg(j, "query");
            return NULL;
        }
    }
    PGresult *r = PQgetResult(j->conn), *x;
    while ((x = PQgetResult(j->conn)))
        PQclear(x);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        pgjob_fail(j, "PostgreSQL: %s", r ? PQresultErrorMessage(r) : PQerrorMessage(j->conn));
        PQclear(r);
        return NULL;
    }
    return r;
}

int pgjob_backend_pid(const PgJob *j)
{
    return PQbackendPID(j->conn);
}

int pgjob_rows(PgJob *j, const char *sql, int nparams, const char *const *params)
{
    PGresult *r = pgjob_query(j, sql, nparams, params);
    int n = r ? PQntuples(r) : -1;
    PQclear(r);
    return n;
}

int pgjob_exec(PgJob *j, const char *sql)
{
    return pgjob_rows(j, sql, 0, NULL) < 0 ? -1 : 0;
}

void pgjob_exec_quiet(PgJob *j, const char *sql, int nparams, const char *const *params)
{
    if (!j->conn || PQstatus(j->conn) != CONNECTION_OK)
        return;
    PQclear(nparams ? PQexecParams(j->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                    : PQexec(j->conn, sql));
}

void pgjob_rollback(PgJob *j)
{
    pgjob_exec_quiet(j, "ROLLBACK", 0, NULL);
}

/* PostgreSQL's NOTICEs ("... does not exist, skipping") are not for our log. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int connect_as(PgJob *j, const char *dsn, bool replication)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &errmsg);
    if (!opts) {
        /* libpq's message may quote part of the string: never show it. */
        PQfreemem(errmsg);
        pgjob_fail(j, "Bad Request: invalid PostgreSQL connection string (a URI "
                      "postgresql://user:password@host:port/db or key=value pairs)");
        return -1;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0])
            j->password = strdup(o->val);
    PQconninfoFree(opts);
    const char *keys[] = {"dbname",
                          "connect_timeout",
                          "client_encoding",
                          "application_name",
                          replication ? "replication" : NULL,
                          NULL};
    const char *vals[] = {dsn, CONNECT_TIMEOUT, "UTF8", "tcp-duckdb", "database", NULL};
    j->conn = PQconnectdbParams(keys, vals, 1);
    if (!j->conn)
        log_fatal("out of memory");
    if (PQstatus(j->conn) != CONNECTION_OK) {
        pgjob_fail_pg(j, "cannot connect");
        return -1;
    }
    PQsetNoticeProcessor(j->conn, ignore_notice, NULL);
    return 0;
}

int pgjob_connect(PgJob *j, const char *dsn)
{
    return connect_as(j, dsn, false);
}

int pgjob_connect_replication(PgJob *j, const char *dsn)
{
    return connect_as(j, dsn, true);
}

int pgjob_stream_start(PgJob *j, const char *sql)
{
    PGresult *r = PQexec(j->conn, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COPY_BOTH) {
        pgjob_fail(j, "PostgreSQL: %s", PQresultErrorMessage(r));
        rc = -1;
    }
    PQclear(r);
    return rc;
}

int pgjob_stream_read(PgJob *j, unsigned char **out_msg, int timeout_ms)
{
    *out_msg = NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t deadline = (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000 + timeout_ms;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(j->conn, &buf, 1);
        if (n > 0) {
            *out_msg = (unsigned char *)buf;
            return n;
        }
        if (n == -1) {
            PGresult *r = PQgetResult(j->conn);
            pgjob_fail(j, "PostgreSQL ended the replication stream: %s",
                       r && PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
                                                       : PQerrorMessage(j->conn));
            PQclear(r);
            return -1;
        }
        if (n == -2) {
            pgjob_fail_pg(j, "replication stream");
            return -1;
        }
        /* No whole message yet: wait for more bytes until the deadline. Only a message that
         * did not come in time is 0 (the stream treats that as idle and commits its batch);
         * one that arrived in several TCP segments is waited for, not taken for idleness. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = deadline - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        if (left < 0)
            left = 0;
        struct pollfd pfd = {.fd = PQsocket(j->conn), .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr == 0)
            return 0;
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            pgjob_fail(j, "replication stream: poll: %s", strerror(errno));
            return -1;
        }
        if (PQconsumeInput(j->conn) == 0) {
            pgjob_fail_pg(j, "replication stream");
            return -1;
        }
    }
}

void pgjob_stream_free(unsigned char *msg)
{
    PQfreemem(msg);
}

int pgjob_stream_send(PgJob *j, const void *msg, size_t len)
{
    if (PQputCopyData(j->conn, msg, (int)len) != 1 || PQflush(j->conn) != 0) {
        pgjob_fail_pg(j, "replication stream");
        return -1;
    }
    return 0;
}

int pgjob_copy_out(PgJob *j, const char *copy_sql, PgJobCopyFn fn, void *ctx)
{
    int rc = -1;
    PGresult *r = PQexec(j->conn, copy_sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        pgjob_fail(j, "PostgreSQL: %s", PQresultErrorMessage(r));
        goto out;
    }
    PQclear(r);
    r = NULL;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(j->conn, &buf, 0);
        if (n == -1)
            break;
        if (n == -2) {
            pgjob_fail_pg(j, "COPY failed");
            goto out;
        }
        int st = fn(ctx, (const unsigned char *)buf, (size_t)n);
        PQfreemem(buf);
        if (st != 0)
            goto out;
    }
    r = PQgetResult(j->conn);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        pgjob_fail(j, "PostgreSQL: %s", PQresultErrorMessage(r));
        goto out;
    }
    rc = 0;
out:
    /* After a failure the connection may be in the middle of the COPY; the
     * command ends and closes it, so it is not drained here. */
    PQclear(r);
    return rc;
}

void pgjob_close(PgJob *j)
{
    PQfinish(j->conn);
    j->conn = NULL;
    if (j->password) {
        memset(j->password, 0, strlen(j->password));
        free(j->password);
        j->password = NULL;
    }
}
