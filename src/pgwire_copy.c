/*
 * pgwire_copy: COPY statements, COPY lines. See pgwire_copy.h.
 */
#include "pgwire_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgwire.h"
#include "sqllex.h"
#include "xalloc.h"

#define MAX_TOKENS 256

typedef struct Toks {
    const char *sql;
    SqlToken t[MAX_TOKENS];
    int n;
} Toks;

static bool is_word(const Toks *k, int i, const char *w)
{
    return i < k->n && sqllex_is_word(k->sql, &k->t[i], w);
}

/* The text of a string literal token (standard strings: '' undoubled). */
static bool string_value(const Toks *k, int i, Buf *out)
{
    if (i >= k->n || k->t[i].kind != SQLLEX_STRING)
        return false;
    const char *p = k->sql + k->t[i].offset;
    size_t n = k->t[i].length;
    if (n < 2 || p[0] != '\'' || p[n - 1] != '\'')
        return false; /* E'', $$, U&'' ...: not read here */
    for (size_t j = 1; j + 1 < n; j++) {
        if (p[j] == '\'' && j + 2 < n && p[j + 1] == '\'')
            j++;
        buf_append(out, p + j, 1);
    }
    return true;
}

static int fail(char sqlstate[6], const char *state, char *err, size_t errlen, const char *msg)
{
    snprintf(sqlstate, 6, "%s", state);
    snprintf(err, errlen, "%s", msg);
    return -1;
}

/* One-character option value (DELIMITER, QUOTE). */
static int char_option(const Toks *k, int *i, char *dst, char sqlstate[6], char *err, size_t errlen)
{
    Buf v = BUF_INIT;
    if (is_word(k, *i, "as"))
        (*i)++;
    bool ok = string_value(k, *i, &v) && v.len == 1 && v.data[0] != '\n' && v.data[0] != '\r' &&
              v.data[0] != '\\';
    if (ok)
        *dst = v.data[0];
    buf_free(&v);
    (*i)++;
    return ok ? 0
              : fail(sqlstate, "22023", err, errlen,
                     "COPY delimiter and quote must be one "
                     "single-byte character");
}

int pgwcopy_spec_parse(const char *sql, size_t len, PgWCopySpec *out, char sqlstate[6], char *err,
                       size_t errlen)
{
    Toks k = {.sql = sql};
    SqlLexer lx;
    SqlToken t;
    sqllex_init(&lx, sql, len, 0);
    while (sqllex_next(&lx, &t) > 0) {
        if (t.kind == SQLLEX_SEMI)
            continue;
        if (k.n == MAX_TOKENS)
            return fail(sqlstate, "54000", err, errlen, "COPY statement too long");
        k.t[k.n++] = t;
    }
    int i = 1; /* after COPY */
    if (i < k.n && k.t[i].kind == SQLLEX_OPEN) {
        int depth = 0, start = i;
        for (; i < k.n; i++) {
            if (k.t[i].kind == SQLLEX_OPEN)
                depth++;
            else if (k.t[i].kind == SQLLEX_CLOSE && --depth == 0)
                break;
        }
        if (i >= k.n || i == start + 1)
            return fail(sqlstate, "42601", err, errlen, "syntax error in COPY (query)");
        size_t qs = k.t[start + 1].offset, qe = k.t[i].offset;
        out->query = xstrndup(sql + qs, qe - qs);
        i++;
    } else {
        int start = i;
        while (i < k.n && (k.t[i].kind == SQLLEX_WORD || k.t[i].kind == SQLLEX_QUOTED) &&
               !is_word(&k, i, "from") && !is_word(&k, i, "to")) {
            i++;
            if (i < k.n && k.t[i].kind == SQLLEX_DOT)
                i++;
            else
                break;
        }
        if (i == start || k.t[i - 1].kind == SQLLEX_DOT)
            return fail(sqlstate, "42601", err, errlen, "syntax error in COPY: no table");
        size_t ts = k.t[start].offset, te = k.t[i - 1].offset + k.t[i - 1].length;
        out->table = xstrndup(sql + ts, te - ts);
        size_t end = te;
        if (i < k.n && k.t[i].kind == SQLLEX_OPEN) {
            int cs = i + 1;
            for (i++; i < k.n && k.t[i].kind != SQLLEX_CLOSE; i++)
                if (k.t[i].kind != SQLLEX_WORD && k.t[i].kind != SQLLEX_QUOTED &&
                    k.t[i].kind != SQLLEX_COMMA)
                    return fail(sqlstate, "42601", err, errlen,
                                "syntax error in COPY's column list");
            if (i >= k.n || i == cs)
                return fail(sqlstate, "42601", err, errlen, "syntax error in COPY's column list");
            out->columns = xstrndup(sql + k.t[cs].offset, k.t[i].offset - k.t[cs].offset);
            end = k.t[i].offset + 1;
            i++;
        }
        out->target = xstrndup(sql + ts, end - ts);
    }
    if (is_word(&k, i, "to") || is_word(&k, i, "from")) {
        out->to = is_word(&k, i, "to");
        i++;
    } else {
        return fail(sqlstate, "42601", err, errlen, "syntax error in COPY: TO or FROM expected");
    }
    if (!(out->to ? is_word(&k, i, "stdout") : is_word(&k, i, "stdin")))
        return fail(sqlstate, "42501", err, errlen,
                    "COPY to or from a file or program is not allowed through the PostgreSQL "
                    "front end: use COPY ... TO STDOUT / FROM STDIN (psql's \\copy)");
    if (out->query && !out->to)
        return fail(sqlstate, "42601", err, errlen, "COPY (query) works with TO only");
    i++;
    if (is_word(&k, i, "with"))
        i++;
    bool paren = i < k.n && k.t[i].kind == SQLLEX_OPEN;
    if (paren)
        i++;
    char *null_opt = NULL;
    int rc = 0;
    out->quote = '"';
    out->delim = 0;
    while (i < k.n && rc == 0) {
        if (k.t[i].kind == SQLLEX_COMMA) {
            i++;
            continue;
        }
        if (k.t[i].kind == SQLLEX_CLOSE && paren) {
            i++;
            paren = false;
            continue;
        }
        if (is_word(&k, i, "format")) {
            i++;
            if (is_word(&k, i, "csv"))
                out->csv = true;
            else if (!is_word(&k, i, "text"))
                rc = fail(sqlstate, "0A000", err, errlen,
                          "COPY formats text and csv only (BINARY is not supported)");
            i++;
        } else if (is_word(&k, i, "csv")) {
            out->csv = true;
            i++;
        } else if (is_word(&k, i, "binary")) {
            rc = fail(sqlstate, "0A000", err, errlen,
                      "COPY formats text and csv only (BINARY is not supported)");
        } else if (is_word(&k, i, "header")) {
            i++;
            if (is_word(&k, i, "true") || is_word(&k, i, "on"))
                i++, out->header = true;
            else if (is_word(&k, i, "false") || is_word(&k, i, "off"))
                i++;
            else
                out->header = true;
        } else if (is_word(&k, i, "delimiter")) {
            i++;
            rc = char_option(&k, &i, &out->delim, sqlstate, err, errlen);
        } else if (is_word(&k, i, "quote")) {
            i++;
            rc = char_option(&k, &i, &out->quote, sqlstate, err, errlen);
        } else if (is_word(&k, i, "null")) {
            i++;
            if (is_word(&k, i, "as"))
                i++;
            Buf v = BUF_INIT;
            if (string_value(&k, i, &v)) {
                free(null_opt);
                null_opt = xstrdup(buf_cstr(&v));
            } else {
                rc = fail(sqlstate, "42601", err, errlen, "COPY NULL needs a string");
            }
            buf_free(&v);
            i++;
        } else if (is_word(&k, i, "freeze")) {
            i++; /* PostgreSQL's loading hint: nothing to do */
            if (is_word(&k, i, "true") || is_word(&k, i, "on") || is_word(&k, i, "false") ||
                is_word(&k, i, "off"))
                i++;
        } else if (is_word(&k, i, "encoding")) {
            i++;
            Buf v = BUF_INIT;
            if (!string_value(&k, i, &v) ||
                (strcasecmp(buf_cstr(&v), "utf8") != 0 && strcasecmp(buf_cstr(&v), "utf-8") != 0))
                rc = fail(sqlstate, "22023", err, errlen, "COPY ENCODING must be UTF8");
            buf_free(&v);
            i++;
        } else {
            rc = fail(sqlstate, "0A000", err, errlen,
                      "COPY option not supported by the PostgreSQL front end (supported: "
                      "FORMAT text|csv, CSV, HEADER, DELIMITER, NULL, QUOTE, FREEZE, ENCODING)");
        }
    }
    if (rc == 0 && paren)
        rc = fail(sqlstate, "42601", err, errlen, "syntax error in COPY's options");
    if (rc == 0) {
        if (!out->delim)
            out->delim = out->csv ? ',' : '\t';
        out->null = null_opt ? null_opt : xstrdup(out->csv ? "" : "\\N");
        null_opt = NULL;
        if (out->header && !out->csv)
            rc = fail(sqlstate, "0A000", err, errlen, "COPY HEADER is available only in CSV mode");
        else if (out->csv && out->delim == out->quote)
            rc = fail(sqlstate, "22023", err, errlen, "COPY delimiter and quote must differ");
    }
    free(null_opt);
    return rc;
}

void pgwcopy_spec_free(PgWCopySpec *spec)
{
    free(spec->null);
    free(spec->target);
    free(spec->table);
    free(spec->columns);
    free(spec->query);
    memset(spec, 0, sizeof(*spec));
}

void pgwcopy_put_null(const PgWCopySpec *spec, Buf *line)
{
    buf_append_str(line, spec->null);
}

/* True when a text-format byte must be written as a backslash escape. */
static bool text_special(const PgWCopySpec *spec, char c)
{
    return c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f' ||
           c == '\v' || c == spec->delim;
}

bool pgwcopy_value_plain(const PgWCopySpec *spec, const char *v, size_t n)
{
    if (spec->csv) {
        size_t nl = strlen(spec->null);
        if (n == nl && memcmp(v, spec->null, n) == 0)
            return false; /* quoted, so that it is not read back as NULL */
        for (size_t i = 0; i < n; i++)
            if (v[i] == spec->delim || v[i] == spec->quote || v[i] == '\n' || v[i] == '\r')
                return false;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        if (text_special(spec, v[i]))
            return false;
    return true;
}

void pgwcopy_put_value(const PgWCopySpec *spec, Buf *line, const char *v, size_t n)
{
    if (pgwcopy_value_plain(spec, v, n)) {
        buf_append(line, v, n);
        return;
    }
    if (spec->csv) {
        buf_putc(line, spec->quote);
        size_t from = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i] != spec->quote)
                continue;
            buf_append(line, v + from, i + 1 - from); /* up to and with the quote, doubled */
            buf_putc(line, spec->quote);
            from = i + 1;
        }
        buf_append(line, v + from, n - from);
        buf_putc(line, spec->quote);
        return;
    }
    /* Spans of plain bytes are copied whole; each special byte becomes its escape. */
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!text_special(spec, c))
            continue;
        buf_append(line, v + from, i - from);
        from = i + 1;
        char esc = c;
        switch (c) {
        case '\n':
            esc = 'n';
            break;
        case '\r':
            esc = 'r';
            break;
        case '\t':
            esc = 't';
            break;
        case '\b':
            esc = 'b';
            break;
        case '\f':
            esc = 'f';
            break;
        case '\v':
            esc = 'v';
            break;
        default: /* the backslash and the delimiter stand for themselves */
            break;
        }
        buf_putc(line, '\\');
        buf_putc(line, esc);
    }
    buf_append(line, v + from, n - from);
}

static int octal(char c)
{
    return c >= '0' && c <= '7' ? c - '0' : -1;
}

/*
 * Hands one field of a row to the sink: NULL when its raw text (before
 * de-escaping, as PostgreSQL matches it) is the NULL string and it was not
 * quoted, else the n bytes at v. Returns the sink's answer.
 */
static int field_end(const PgWCopySpec *spec, const PgWCopySink *sink, int col, const char *raw,
                     size_t rawlen, bool quoted, const char *v, size_t n)
{
    bool null = !quoted && rawlen == strlen(spec->null) && memcmp(raw, spec->null, rawlen) == 0;
    return sink->field(sink->ctx, col, null ? NULL : v, null ? 0 : n, null);
}

/* The text-format field p[0..n) (escapes included) de-escaped into `out`; -1 at a zero byte. */
static int text_unescape(const char *p, size_t n, Buf *out, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < n) {
        const char *bs = memchr(p + i, '\\', n - i);
        size_t plain = bs ? (size_t)(bs - (p + i)) : n - i;
        buf_append(out, p + i, plain);
        i += plain;
        if (i >= n)
            break;
        i++; /* the backslash */
        if (i >= n) {
            buf_putc(out, '\\'); /* a backslash ending the field stays */
            break;
        }
        char c = p[i++];
        int d;
        switch (c) {
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        case 'v':
            c = '\v';
            break;
        case 'x':
            if (i < n && (d = pgwire_hex_digit(p[i])) >= 0) {
                int v = d;
                i++;
                if (i < n && (d = pgwire_hex_digit(p[i])) >= 0)
                    v = v * 16 + d, i++;
                c = (char)v;
            }
            break;
        default:
            if ((d = octal(c)) >= 0) {
                int v = d;
                for (int k = 0; k < 2 && i < n && (d = octal(p[i])) >= 0; k++, i++)
                    v = v * 8 + d;
                c = (char)v;
            }
            break;
        }
        if (c == '\0') {
            snprintf(err, errlen, "invalid byte sequence for encoding \"UTF8\": 0x00");
            return -1;
        }
        buf_putc(out, c);
    }
    return 0;
}

/*
 * One line of the text format (without its newline), field by field to the
 * sink. Returns 0, -1 (err set) or PGWCOPY_SINK_STOPPED.
 */
static int text_row(const PgWCopySpec *spec, const char *p, size_t n, const PgWCopySink *sink,
                    Buf *scratch, int *ncols, char *err, size_t errlen)
{
    size_t i = 0;
    int col = 0;
    for (;;) {
        size_t start = i;
        bool escaped = false;
        /* A backslash escapes the byte after it, the delimiter included. */
        while (i < n && p[i] != spec->delim) {
            if (p[i] == '\\') {
                escaped = true;
                i++;
            }
            i++;
        }
        if (i > n)
            i = n;
        const char *v = p + start;
        size_t len = i - start;
        if (escaped) {
            buf_reset(scratch, 65536);
            if (text_unescape(p + start, i - start, scratch, err, errlen) != 0)
                return -1;
            v = scratch->data ? scratch->data : "";
            len = scratch->len;
        }
        if (field_end(spec, sink, col, p + start, i - start, false, v, len) != 0)
            return PGWCOPY_SINK_STOPPED;
        col++;
        if (i >= n)
            break;
        i++; /* the delimiter */
    }
    *ncols = col;
    return 0;
}

/*
 * The end of the CSV row starting at p (quotes may hold newlines), or -1
 * when it does not end within n bytes.
 */
static long csv_row_end(const PgWCopySpec *spec, const char *p, size_t n)
{
    bool inq = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == spec->quote)
            inq = !inq;
        else if (p[i] == '\n' && !inq)
            return (long)i;
    }
    return -1;
}

static int csv_row(const PgWCopySpec *spec, const char *p, size_t n, const PgWCopySink *sink,
                   Buf *scratch, int *ncols, char *err, size_t errlen)
{
    size_t i = 0;
    int col = 0;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    for (;;) {
        bool quoted = false;
        size_t start = i;
        /* A field without quotes goes to the sink as it stands; one with quotes is built in
         * `scratch`, its quotes removed and doubled quotes undoubled. */
        while (i < n && p[i] != spec->delim && p[i] != spec->quote)
            i++;
        const char *v = p + start;
        size_t len = i - start;
        if (i < n && p[i] == spec->quote) {
            quoted = true;
            buf_reset(scratch, 65536);
            buf_append(scratch, p + start, i - start);
            while (i < n && p[i] != spec->delim) {
                if (p[i] != spec->quote) {
                    buf_putc(scratch, p[i++]);
                    continue;
                }
                for (i++;; i++) {
                    if (i >= n) {
                        snprintf(err, errlen, "unterminated CSV quoted field");
                        return -1;
                    }
                    if (p[i] == spec->quote) {
                        if (i + 1 < n && p[i + 1] == spec->quote) {
                            buf_putc(scratch, p[i]);
                            i++;
                            continue;
                        }
                        i++;
                        break;
                    }
                    buf_putc(scratch, p[i]);
                }
            }
            v = scratch->data ? scratch->data : "";
            len = scratch->len;
        }
        if (field_end(spec, sink, col, p + start, i - start, quoted, v, len) != 0)
            return PGWCOPY_SINK_STOPPED;
        col++;
        if (i >= n)
            break;
        i++;
    }
    *ncols = col;
    return 0;
}

long pgwcopy_decode(const PgWCopySpec *spec, const char *data, size_t n, bool last,
                    bool *skip_header, const PgWCopySink *sink, Buf *scratch, long *rows,
                    bool *done, char *err, size_t errlen)
{
    size_t pos = 0;
    while (pos < n && !*done) {
        const char *p = data + pos;
        size_t left = n - pos;
        long end;
        if (spec->csv) {
            end = csv_row_end(spec, p, left);
        } else {
            const char *nl = memchr(p, '\n', left);
            end = nl ? (long)(nl - p) : -1;
        }
        size_t len, next;
        if (end < 0) {
            if (!last)
                break;
            len = left;
            next = left;
        } else {
            len = (size_t)end;
            next = len + 1;
        }
        size_t l = len;
        if (!spec->csv && l > 0 && p[l - 1] == '\r')
            l--;
        if (l == 2 && p[0] == '\\' && p[1] == '.') {
            *done = true;
            pos += next;
            break;
        }
        if (*skip_header) {
            *skip_header = false;
            pos += next;
            continue;
        }
        if (l == 0 && end < 0) { /* nothing after the last newline */
            pos += next;
            break;
        }
        if (memchr(p, '\0', l)) {
            snprintf(err, errlen, "invalid byte sequence for encoding \"UTF8\": 0x00");
            return -1;
        }
        int ncols = 0;
        int rc = spec->csv ? csv_row(spec, p, l, sink, scratch, &ncols, err, errlen)
                           : text_row(spec, p, l, sink, scratch, &ncols, err, errlen);
        if (rc == 0 && sink->row_end(sink->ctx, ncols) != 0)
            rc = PGWCOPY_SINK_STOPPED;
        if (rc != 0)
            return rc;
        (*rows)++;
        pos += next;
    }
    return (long)pos;
}
