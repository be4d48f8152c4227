/*
 * reply: the protocol's answer lines. See reply.h; docs/protocol.md lists
 * them, and the end-to-end tests compare them byte for byte.
 */
#include "reply.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>

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

void reply_engine_error(Buf *out, const char *msg)
{
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
