/*
 * pgwire_rewrite: PostgreSQL spellings rewritten for DuckDB. See
 * pgwire_rewrite.h. Each rewrite returns a new text, or NULL when it
 * changed nothing, so pgrw_client_text copies a statement only once when
 * no rewrite applies.
 */
#include "pgwire_rewrite.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pgwire.h"
#include "pgwire_ddl.h"
#include "sqllex.h"
#include "xalloc.h"

/* ---- version() ---- */

#if defined(__x86_64__)
#define PG_HOST "x86_64-pc-linux-gnu"
#elif defined(__aarch64__)
#define PG_HOST "aarch64-unknown-linux-gnu"
#else
#define PG_HOST "unknown-linux-gnu"
#endif
#ifndef TCPDUCKDB_VERSION
#define TCPDUCKDB_VERSION "unknown"
#endif

/* The server builds on 64-bit Linux only (its Makefile); the text says so as PostgreSQL's. */
_Static_assert(sizeof(void *) == 8, "version() says 64-bit");

const char *pgrw_version(void)
{
    return "PostgreSQL 15.0 on " PG_HOST ", compiled by TCP-DuckDB " TCPDUCKDB_VERSION ", 64-bit";
}

/* ---- bytea ---- */

/* Appends the replacement of t[0] (of three tokens in a row) to `out`; false: none. */
typedef bool (*TokenWindowFn)(const char *sql, const SqlToken t[3], Buf *out);

/*
 * `sql` with every token that `fn` replaces (looking at it and the two
 * after it) replaced, outside strings and comments (the lexer's tokens).
 * Returns a new text (caller frees), or NULL when nothing changed.
 */

/* The end of a rewrite into `out` of which `copied` bytes of `sql` (`len` in all) are taken:
 * NULL (and `out` freed) when nothing changed, else the text with the rest of `sql` appended,
 * allocated. */
static char *rewrite_result(Buf *out, const char *sql, size_t copied, size_t len, bool changed)
{
    if (!changed) {
        buf_free(out);
        return NULL;
    }
    buf_append(out, sql + copied, len - copied);
    char *r = xstrndup(out->data, out->len);
    buf_free(out);
    return r;
}
static char *rewrite_tokens(const char *sql, size_t len, TokenWindowFn fn)
{
    SqlLexer lx;
    SqlToken t[3] = {{0}};
    int have = 0;
    Buf out = BUF_INIT, repl = BUF_INIT;
    size_t copied = 0;
    bool changed = false;
    sqllex_init(&lx, sql, len, 0);
    for (;;) {
        SqlToken tok;
        if (sqllex_next(&lx, &tok) <= 0)
            break;
        t[0] = t[1];
        t[1] = t[2];
        t[2] = tok;
        if (have < 3)
            have++;
        repl.len = 0;
        if (have < 3 || !fn(sql, t, &repl))
            continue;
        buf_append(&out, sql + copied, t[0].offset - copied);
        buf_append(&out, repl.data, repl.len);
        copied = t[0].offset + t[0].length;
        changed = true;
    }
    buf_free(&repl);
    return rewrite_result(&out, sql, copied, len, changed);
}

/*
 * PostgreSQL's bytea hex literals ('\x0001ff'::bytea, as psycopg2 sends bytes) in DuckDB's
 * escape form ('\x00\x01\xFF'): DuckDB reads '\x0001ff' as a zero byte and the four
 * characters "01ff", silently.
 */
static bool bytea_literal(const char *sql, const SqlToken t[3], Buf *out)
{
    if (t[0].kind != SQLLEX_STRING || sql[t[0].offset] != '\'' || t[1].kind != SQLLEX_OP ||
        t[1].length != 2 || memcmp(sql + t[1].offset, "::", 2) ||
        !sqllex_is_word(sql, &t[2], "bytea"))
        return false;
    const char *body = sql + t[0].offset + 1;
    size_t n = t[0].length - 2;
    if (!pgwire_bytea_hex(body, n))
        return false;
    buf_putc(out, '\'');
    for (size_t i = 2; i < n; i += 2)
        buf_printf(out, "\\x%c%c", body[i], body[i + 1]);
    buf_putc(out, '\'');
    return true;
}

/* ---- `public.`, version() and the whole statement ---- */

/*
 * PostgreSQL's schema `public` is DuckDB's `main`: an unquoted qualifier
 * `public.` before a name (`public.t`, `db.public.t`) is rewritten to
 * `main.`, outside strings and comments, before the access check, which
 * therefore sees the name DuckDB resolves. (A table alias named public
 * would be rewritten too; docs/pgwire.md.)
 */
static bool public_schema(const char *sql, const SqlToken t[3], Buf *out)
{
    if (!sqllex_is_word(sql, &t[0], "public") || t[1].kind != SQLLEX_DOT ||
        (t[2].kind != SQLLEX_WORD && t[2].kind != SQLLEX_QUOTED))
        return false;
    buf_append_str(out, "main");
    return true;
}

/*
 * version() is PostgreSQL's text (pgrw_version), not DuckDB's: each call
 * `[pg_catalog.]version()` outside strings and comments becomes the
 * literal, and a statement that is only `SELECT version()` becomes
 * `SELECT '...' AS version`, PostgreSQL's column name. DuckDB's own
 * function is left alone for the line protocol. Returns a new text, or
 * NULL when there is no call.
 */
static char *version_calls(const char *sql)
{
    if (!strcasestr(sql, "version"))
        return NULL;
    size_t len = strlen(sql);
    SqlToken *tok = NULL;
    size_t n = 0, cap = 0;
    SqlLexer lx;
    SqlToken t;
    sqllex_init(&lx, sql, len, 0);
    while (sqllex_next(&lx, &t) > 0) {
        if (t.kind == SQLLEX_SEMI)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            tok = xrealloc(tok, cap * sizeof(*tok));
        }
        tok[n++] = t;
    }
    Buf out = BUF_INIT;
    size_t copied = 0;
    bool changed = false;
    for (size_t i = 0; i + 2 < n; i++) {
        if (!sqllex_is_word(sql, &tok[i], "version") || tok[i + 1].kind != SQLLEX_OPEN ||
            sql[tok[i + 1].offset] != '(' || tok[i + 2].kind != SQLLEX_CLOSE ||
            sql[tok[i + 2].offset] != ')')
            continue;
        size_t first = i;
        if (i >= 1 && tok[i - 1].kind == SQLLEX_DOT) {
            if (i < 2 || !sqllex_is_word(sql, &tok[i - 2], "pg_catalog"))
                continue; /* another schema's version() */
            first = i - 2;
        }
        if (first >= 1 && sqllex_is_word(sql, &tok[first - 1], "function"))
            continue; /* CREATE FUNCTION version() */
        bool alone = first == 1 && i + 3 == n && sqllex_is_word(sql, &tok[0], "select");
        buf_append(&out, sql + copied, tok[first].offset - copied);
        buf_printf(&out, "'%s'%s", pgrw_version(), alone ? " AS version" : "");
        copied = tok[i + 2].offset + tok[i + 2].length;
        changed = true;
        i += 2;
    }
    free(tok);
    return rewrite_result(&out, sql, copied, len, changed);
}

char *pgrw_client_text(const char *sql, size_t len)
{
    char *text = rewrite_tokens(sql, len, bytea_literal);
    if (!text)
        text = xstrndup(sql, len);
    char *pub = rewrite_tokens(text, strlen(text), public_schema);
    if (pub) {
        free(text);
        text = pub;
    }
    char *ver = version_calls(text);
    if (ver) {
        free(text);
        text = ver;
    }
    char *ddl = pgddl_rewrite(text, strlen(text));
    if (ddl) {
        free(text);
        text = ddl;
    }
    return text;
}
