/*
 * test_reply: the answer lines that carry more than fixed text: the
 * statement timeout, and internal errors of DuckDB, which must reach the
 * client without stack traces, file paths or addresses (docs/security.md).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "reply.h"
#include "unit.h"

/* The answer of `fn` for `msg`, NUL-terminated; caller frees. */
static char *answer_for(void (*fn)(Buf *, const char *), const char *msg)
{
    Buf out = BUF_INIT;
    fn(&out, msg);
    char *s = strndup(out.data, out.len);
    buf_free(&out);
    return s;
}

static void test_statement_timeout(void)
{
    Buf out = BUF_INIT;
    reply_statement_timeout(&out, 300000);
    char *s = strndup(out.data, out.len);
    CHECK_STR(s, "Error: Statement Timeout: the statement ran longer than 300 s "
                 "(StatementTimeout)\n");
    free(s);
    buf_free(&out);
}

static void test_recognises_internal_errors(void)
{
    CHECK(reply_is_internal_error("INTERNAL Error: x"));
    CHECK(reply_is_internal_error("Binder Error: x\n\nStack Trace:\n\n/usr/lib/x.so"));
    CHECK(!reply_is_internal_error("Binder Error: column x not found"));
    CHECK(!reply_is_internal_error("Parser Error: syntax error at or near \"INTERNAL Error:\""));
}

/* The shape of DuckDB 1.5.6's message for json_deserialize_sql of a broken tree. */
static const char trace[] =
    "INTERNAL Error: SerializationData - unexpected empty stack\n\nStack Trace:\n\n"
    "/work/x/third_party/duckdb/lib/libduckdb.so(_ZN6duckdb9Exception6ToJSON+0x5b) "
    "[0x7f097484c1eb]\n"
    "/lib/x86_64-linux-gnu/libc.so.6(__libc_start_main+0x85) [0x7f0972e45305]\n\n"
    "This error signals an assertion failure within DuckDB.";

static bool is_hex8(const char *p)
{
    for (int i = 0; i < 8; i++)
        if (!strchr("0123456789abcdef", p[i]))
            return false;
    return true;
}

static void test_incident_line(void)
{
    char *s = answer_for(reply_engine_error, trace);
    const char *want = "Error: Internal Error: SerializationData - unexpected empty stack "
                       "(incident ";
    CHECK(strncmp(s, want, strlen(want)) == 0);
    const char *id = s + strlen(want);
    CHECK(strlen(id) == 10 && is_hex8(id) && strcmp(id + 8, ")\n") == 0);
    CHECK(strchr(s, '/') == NULL && strstr(s, "0x") == NULL && strstr(s, "Stack") == NULL);
    /* Two incidents get two ids. */
    char *again = answer_for(reply_internal_incident, trace);
    CHECK(strcmp(s, again) != 0);
    free(again);
    free(s);
}

static void test_first_line_is_scrubbed(void)
{
    char *s = answer_for(reply_internal_incident,
                         "INTERNAL Error: cannot open /srv/data/1.duckdb.wal at 0xdeadbeef "
                         "(./src/x.cpp) in lib/a/b.so ok\nsecond line /etc/passwd");
    const char *want = "Error: Internal Error: cannot open <path> at <address> <path> in <path> "
                       "ok (incident ";
    CHECK(strncmp(s, want, strlen(want)) == 0);
    CHECK(strstr(s, "second") == NULL && strstr(s, "passwd") == NULL);
    free(s);
    /* Ordinary errors keep DuckDB's text, slashes included. */
    s = answer_for(reply_engine_error, "Binder Error: a / b\nLINE 1");
    CHECK_STR(s, "Error: Binder Error: a / b\\nLINE 1\n");
    free(s);
    /* A long first line is cut. */
    char longmsg[1200] = "INTERNAL Error: ";
    memset(longmsg + strlen(longmsg), 'a', 1000);
    s = answer_for(reply_internal_incident, longmsg);
    CHECK(strlen(s) < 400);
    free(s);
}

int main(void)
{
    UNIT_RUN(test_statement_timeout);
    UNIT_RUN(test_recognises_internal_errors);
    UNIT_RUN(test_incident_line);
    UNIT_RUN(test_first_line_is_scrubbed);
    return unit_summary("reply");
}
