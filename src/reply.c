/*
 * reply: the protocol's answer lines. See reply.h; docs/protocol.md lists
 * them, and the end-to-end tests compare them byte for byte.
 */
#include "reply.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "memstat.h"

void reply_success(Buf *out)
{
    buf_append(out, "success\n", 8);
}

void reply_unauthorized(Buf *out)
{
    buf_append_str(out, "Error: Unauthorized\n");
}

void reply_internal(Buf *out)
{
    buf_append_str(out, "Error: Internal Error\n");
}

void reply_bad_request(Buf *out, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_printf(out, "Error: Bad Request: %s\n", msg);
}

void reply_invalid_name(Buf *out, const char *what, const char *name)
{
    char shown[80];
    /* Quote at most a prefix of what the client sent, with control bytes hidden. */
    size_t i = 0;
    for (; name[i] && i < 64; i++)
        shown[i] = isprint((unsigned char)name[i]) && name[i] != '"' ? name[i] : '?';
    shown[i] = '\0';
    reply_bad_request(out, "invalid %s name \"%s%s\" (names match %s)", what, shown,
                      name[i] ? "..." : "", CATALOG_NAME_RULE);
}

void reply_catalog(Buf *out, CatalogStatus st, const char *kind, const char *name)
{
    switch (st) {
    case CATALOG_OK:
        reply_success(out);
        break;
    case CATALOG_NOT_FOUND:
        buf_printf(out, "Error: %s %s Does Not Exist\n", kind, name);
        break;
    case CATALOG_EXISTS:
        buf_printf(out, "Error: %s %s Already Exists\n", kind, name);
        break;
    case CATALOG_DENIED:
        reply_unauthorized(out);
        break;
    case CATALOG_ERROR:
        reply_internal(out);
        break;
    }
}

void reply_table_not_found(Buf *out, const char *table)
{
    buf_printf(out, "Error: Tables %s Does Not Exist\n", table);
}

void reply_database_denied(Buf *out, const char *user, const char *database)
{
    buf_printf(out, "Error: Access Denied: User \"%s\" does not have access over Database \"%s\"\n",
               user, database);
}

void reply_server_busy(Buf *out, const char *why)
{
    buf_printf(out, "Error: Server Busy: %s; try again later\n", why);
}

void reply_request_too_large(Buf *out, int64_t limit)
{
    buf_printf(out, "Error: Request Too Large: the limit is %lld bytes\n", (long long)limit);
}

void reply_transaction_aborted(Buf *out)
{
    buf_append_str(out, "Error: Transaction Aborted: a statement in the transaction failed, so "
                        "it was rolled back\n");
}

void reply_tls_not_enabled(Buf *out)
{
    buf_append_str(out, "Error: TLS is not enabled on this server\n");
}

void reply_tls_required(Buf *out)
{
    buf_append_str(out, "Error: TLS required: this server accepts only encrypted connections "
                        "(send starttls first)\n");
}

void reply_too_many_connections(Buf *out)
{
    buf_append_str(out, "Error: Too Many Connections\n");
}

void reply_idle_timeout(Buf *out)
{
    buf_append_str(out, "Error: Idle Timeout\n");
}

void reply_too_many_connections_from_address(Buf *out, int limit)
{
    buf_printf(out, "Error: Too Many Connections: at most %d from one address\n", limit);
}

void reply_login_timeout(Buf *out)
{
    buf_append_str(out, "Error: Login Timeout\n");
}

void reply_too_many_failed_logins(Buf *out, int retry_after_sec)
{
    buf_printf(out, "Error: Too Many Failed Logins: try again in %d s\n", retry_after_sec);
}

void reply_shutting_down(Buf *out)
{
    buf_append_str(out, "Error: Server Shutting Down\n");
}

void reply_statement_timeout(Buf *out, int64_t ms)
{
    if (ms % 1000 == 0)
        buf_printf(out,
                   "Error: Statement Timeout: the statement ran longer than %lld s "
                   "(StatementTimeout)\n",
                   (long long)(ms / 1000));
    else
        buf_printf(out,
                   "Error: Statement Timeout: the statement ran longer than %lld ms "
                   "(statement_timeout)\n",
                   (long long)ms);
}

void reply_too_many_statements(Buf *out, const char *user, int limit)
{
    buf_printf(out,
               "Error: Too Many Statements: user %s already runs %d statements at once "
               "(MaxUserStatements); try again when one has finished\n",
               user, limit);
}

void reply_idle_in_transaction_timeout(Buf *out)
{
    buf_append_str(out, "Error: Idle In Transaction Timeout: the transaction was left open "
                        "longer than IdleInTransactionTimeout and is rolled back\n");
}

void reply_statement_canceled(Buf *out)
{
    buf_append_str(out, "Error: Canceled: canceling statement due to user request\n");
}

void reply_session_terminated(Buf *out)
{
    buf_append_str(out, "Error: Terminated: the session was ended by the super user\n");
}

void reply_config_invalid(Buf *out, const char *why)
{
    buf_printf(out, "Error: Invalid Configuration: %s; the configuration in force is unchanged\n",
               why);
}

void reply_statement_memory_limit(Buf *out, int64_t limit_bytes)
{
    char size[32];
    memstat_format_size(size, sizeof(size), limit_bytes);
    buf_printf(out,
               "Error: Statement Memory Limit: the statement allocated more than %s "
               "(StatementMemoryLimit)\n",
               size);
}

void reply_server_memory_limit(Buf *out, int64_t limit_bytes)
{
    char size[32];
    memstat_format_size(size, sizeof(size), limit_bytes);
    buf_printf(out,
               "Error: Server Memory Limit: the server's memory reached %s (MemoryLimit) and the "
               "statement was interrupted to bring it down\n",
               size);
}

#define INTERNAL_PREFIX "INTERNAL Error: "

bool reply_is_internal_error(const char *msg)
{
    /* DuckDB puts its stack trace under this heading (InternalException). */
    return strncmp(msg, INTERNAL_PREFIX, strlen(INTERNAL_PREFIX)) == 0 ||
           strstr(msg, "Stack Trace:") != NULL;
}

/* A word of a message that names a file: "/x/y", "./x", "~/x", "lib/x/y.cpp". */
static bool looks_like_path(const char *w, size_t n)
{
    size_t slashes = 0;
    for (size_t i = 0; i < n; i++)
        slashes += w[i] == '/';
    return slashes >= 2 || (slashes == 1 && (w[0] == '/' || w[0] == '.' || w[0] == '~'));
}

/* A word that holds a hexadecimal address, as in "(+0x9ed500) [0x7f09739ed500]". */
static bool looks_like_address(const char *w, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if (w[i] == '0' && (w[i + 1] == 'x' || w[i + 1] == 'X') &&
            isxdigit((unsigned char)w[i + 2]))
            return true;
    return false;
}

/* The first line of `msg`, without the INTERNAL prefix, paths and addresses, into `out`. */
static void append_first_line_scrubbed(Buf *out, const char *msg)
{
    const char *p = msg;
    if (strncmp(p, INTERNAL_PREFIX, strlen(INTERNAL_PREFIX)) == 0)
        p += strlen(INTERNAL_PREFIX);
    const char *end = p + strcspn(p, "\r\n");
    /* A client needs the gist, not pages: the log has the whole message. */
    if (end - p > 300)
        end = p + 300;
    while (p < end) {
        if (*p == ' ') {
            buf_putc(out, ' ');
            p++;
            continue;
        }
        size_t n = strcspn(p, " \r\n");
        if (p + n > end)
            n = (size_t)(end - p);
        if (looks_like_path(p, n)) {
            buf_append_str(out, "<path>");
        } else if (looks_like_address(p, n)) {
            buf_append_str(out, "<address>");
        } else {
            for (size_t i = 0; i < n; i++)
                buf_putc(out, isprint((unsigned char)p[i]) || (p[i] & 0x80) ? p[i] : '?');
        }
        p += n;
    }
}

void reply_internal_incident(Buf *out, const char *msg)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)&r; /* an id, not a secret */
    char id[9];
    snprintf(id, sizeof(id), "%08x", r);
    /* One log line per line of the message (a stack trace is long), each with the id. */
    log_error("internal error of DuckDB, incident %s:", id);
    for (const char *p = msg; *p;) {
        size_t n = strcspn(p, "\n");
        if (n > 0)
            log_error("incident %s: %.*s", id, (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
    buf_append_str(out, "Error: Internal Error: ");
    append_first_line_scrubbed(out, msg);
    buf_printf(out, " (incident %s)\n", id);
}

void reply_engine_error(Buf *out, const char *msg)
{
    if (reply_is_internal_error(msg)) {
        reply_internal_incident(out, msg);
        return;
    }
    buf_append_str(out, "Error: ");
    for (const char *p = msg; *p; p++) {
        if (*p == '\n')
            buf_append(out, "\\n", 2);
        else if (*p == '\r')
            buf_append(out, "\\r", 2);
        else
            buf_putc(out, *p);
    }
    buf_putc(out, '\n');
}

void reply_database_in_use(Buf *out, const char *name)
{
    buf_printf(out,
               "Error: Database %s Is In Use: sessions are connected to it (or a backup runs); "
               "they must disconnect first\n",
               name);
}

void reply_backup_not_found(Buf *out, const char *id)
{
    buf_printf(out, "Error: Backup Not Found: %s\n", id);
}

void reply_backup_corrupt(Buf *out, const char *file, const char *why)
{
    buf_printf(out, "Error: Backup Corrupt: %s: %s\n", file, why);
}

void reply_backup_failed(Buf *out, const char *why)
{
    buf_printf(out, "Error: Backup Failed: %s\n", why);
}
