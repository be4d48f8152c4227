/*
 * reply: answer lines. See reply.h.
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
