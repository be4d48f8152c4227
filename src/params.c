/*
 * params: a small strict JSON reader for the typed request. See params.h.
 *
 * Only the shapes the request allows are accepted: one object with the keys
 * "sql" (a string, required), "params" (an array of scalars or
 * {"blob": hex} objects) and "cache" (true or false), nothing else, no trailing bytes. Strings are
 * decoded (escapes, \u surrogate pairs) into owned UTF-8; a NUL character in
 * a string is refused, since SQL text and VARCHAR values end at it.
 */
#include "params.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "textnum.h"
#include "xalloc.h"

typedef struct Reader {
    const char *p, *end;
    char *err;
    size_t errlen;
} Reader;

static int fail(Reader *r, const char *what)
{
    snprintf(r->err, r->errlen, "malformed typed request: %s", what);
    return -1;
}

static void skip_ws(Reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool take(Reader *r, char ch)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == ch) {
        r->p++;
        return true;
    }
    return false;
}

static bool take_word(Reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) >= n && memcmp(r->p, word, n) == 0) {
        r->p += n;
        return true;
    }
    return false;
}

static int read_u16(Reader *r, unsigned *out)
{
    if (r->end - r->p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = textnum_hex_digit(r->p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    r->p += 4;
    *out = v;
    return 0;
}

static void put_utf8(Buf *b, unsigned cp)
{
    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(b, (char)(0xC0 | cp >> 6));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_putc(b, (char)(0xE0 | cp >> 12));
        buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_putc(b, (char)(0xF0 | cp >> 18));
        buf_putc(b, (char)(0x80 | (cp >> 12 & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

/* Reads a JSON string into a new NUL-terminated buffer (*out, *out_len). */
static int read_string(Reader *r, char **out, size_t *out_len)
{
    Buf b = BUF_INIT;
    if (!take(r, '"'))
        return fail(r, "expected a string");
    while (r->p < r->end && *r->p != '"') {
        unsigned char ch = (unsigned char)*r->p++;
        if (ch < 0x20)
            goto bad;
        if (ch != '\\') {
            buf_putc(&b, (char)ch);
            continue;
        }
        if (r->p == r->end)
            goto bad;
        char esc = *r->p++;
        const char *simple = strchr("\"\\/bfnrt", esc);
        if (simple && esc) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            buf_putc(&b, decoded[simple - "\"\\/bfnrt"]);
            continue;
        }
        unsigned cp, lo;
        if (esc != 'u' || read_u16(r, &cp) != 0)
            goto bad;
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (!take_word(r, "\\u") || read_u16(r, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                goto bad;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp < 0xE000) {
            goto bad;
        }
        if (cp == 0) {
            buf_free(&b);
            return fail(r, "strings may not contain NUL (\\u0000)");
        }
        put_utf8(&b, cp);
    }
    if (r->p == r->end)
        goto bad;
    r->p++;
    buf_cstr(&b);
    *out = b.data;
    *out_len = b.len;
    return 0;
bad:
    buf_free(&b);
    return fail(r, "bad string");
}

static int read_number(Reader *r, Param *out)
{
    const char *start = r->p;
    bool negative = r->p < r->end && *r->p == '-';
    if (negative)
        r->p++;
    const char *digits = r->p;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
        r->p++;
    size_t ndigits = (size_t)(r->p - digits);
    if (ndigits == 0 || (ndigits > 1 && *digits == '0'))
        return fail(r, "bad number");
    bool fraction = false;
    if (r->p < r->end && *r->p == '.') {
        fraction = true;
        r->p++;
        const char *f = r->p;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
        if (r->p == f)
            return fail(r, "bad number");
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        fraction = true;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        const char *e = r->p;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
        if (r->p == e)
            return fail(r, "bad number");
    }
    if (fraction) {
        char tmp[512];
        size_t n = (size_t)(r->p - start);
        if (n >= sizeof(tmp))
            return fail(r, "number too long");
        memcpy(tmp, start, n);
        tmp[n] = '\0';
        out->kind = PARAM_DOUBLE;
        out->d = strtod(tmp, NULL);
        return 0;
    }
    /* Accumulate as a negative number so that the 128-bit minimum fits. */
    const __int128 min = -(((__int128)1 << 126) - 1) * 2 - 2;
    __int128 v = 0;
    for (const char *d = digits; d < r->p; d++) {
        int digit = *d - '0';
        if (v < (min + digit) / 10)
            return fail(r, "integer parameter out of the 128-bit range");
        v = v * 10 - digit;
    }
    if (!negative) {
        if (v == min)
            return fail(r, "integer parameter out of the 128-bit range");
        v = -v;
    }
    out->kind = PARAM_INT;
    out->i = v;
    return 0;
}

static int read_blob(Reader *r, Param *out)
{
    char *key = NULL, *hex = NULL;
    size_t key_len = 0, hex_len = 0;
    int rc = -1;
    if (read_string(r, &key, &key_len) != 0)
        goto out;
    if (strcmp(key, "blob") != 0 || !take(r, ':')) {
        fail(r, "the only object parameter is {\"blob\": \"<hex>\"}");
        goto out;
    }
    skip_ws(r);
    if (read_string(r, &hex, &hex_len) != 0)
        goto out;
    if (!take(r, '}') || hex_len % 2 != 0) {
        fail(r, "a blob parameter is {\"blob\": \"<even number of hex digits>\"}");
        goto out;
    }
    for (size_t i = 0; i < hex_len; i += 2) {
        int hi = textnum_hex_digit(hex[i]), lo = textnum_hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            fail(r, "a blob parameter holds hex digits only");
            goto out;
        }
        hex[i / 2] = (char)(hi << 4 | lo);
    }
    out->kind = PARAM_BLOB;
    out->bytes = hex;
    out->len = hex_len / 2;
    hex = NULL;
    rc = 0;
out:
    free(key);
    free(hex);
    return rc;
}

static int read_param(Reader *r, Param *out)
{
    skip_ws(r);
    if (r->p == r->end)
        return fail(r, "unexpected end");
    switch (*r->p) {
    case '"':
        out->kind = PARAM_TEXT;
        return read_string(r, &out->bytes, &out->len);
    case '{':
        r->p++;
        return read_blob(r, out);
    case 'n':
        out->kind = PARAM_NULL;
        return take_word(r, "null") ? 0 : fail(r, "bad literal");
    case 't':
    case 'f':
        out->kind = PARAM_BOOL;
        out->b = *r->p == 't';
        return take_word(r, out->b ? "true" : "false") ? 0 : fail(r, "bad literal");
    case '[':
        return fail(r, "parameters are scalars (lists are not supported)");
    default:
        return read_number(r, out);
    }
}

static int read_params(Reader *r, TypedRequest *out)
{
    if (!take(r, '['))
        return fail(r, "\"params\" must be an array");
    out->has_params = true;
    if (take(r, ']'))
        return 0;
    size_t cap = 0;
    do {
        if (out->nparams == PARAMS_MAX)
            return fail(r, "too many parameters");
        if (out->nparams == cap) {
            cap = cap ? cap * 2 : 8;
            out->params = xrealloc(out->params, cap * sizeof(Param));
        }
        Param *p = &out->params[out->nparams];
        memset(p, 0, sizeof(*p));
        out->nparams++;
        if (read_param(r, p) != 0)
            return -1;
    } while (take(r, ','));
    return take(r, ']') ? 0 : fail(r, "expected , or ] in \"params\"");
}

int params_parse(const char *json, size_t len, TypedRequest *out, char *err, size_t errlen)
{
    Reader r = {.p = json, .end = json + len, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    if (!take(&r, '{'))
        return fail(&r, "expected a JSON object");
    bool have_sql = false, have_cache = false;
    do {
        char *key = NULL;
        size_t key_len = 0;
        skip_ws(&r);
        if (read_string(&r, &key, &key_len) != 0)
            goto failed;
        bool is_sql = strcmp(key, "sql") == 0, is_params = strcmp(key, "params") == 0;
        bool is_cache = strcmp(key, "cache") == 0;
        free(key);
        if (!take(&r, ':'))
            goto bad;
        if (is_sql && !have_sql) {
            size_t n = 0;
            skip_ws(&r);
            if (read_string(&r, &out->sql, &n) != 0)
                goto failed;
            have_sql = true;
        } else if (is_params && !out->has_params) {
            if (read_params(&r, out) != 0)
                goto failed;
        } else if (is_cache && !have_cache) {
            skip_ws(&r);
            if (take_word(&r, "false")) {
                out->no_cache = true;
            } else if (!take_word(&r, "true")) {
                fail(&r, "\"cache\" is true or false");
                goto failed;
            }
            have_cache = true;
        } else {
            fail(&r, "the keys are \"sql\", \"params\" and \"cache\", each once");
            goto failed;
        }
    } while (take(&r, ','));
    if (!take(&r, '}'))
        goto bad;
    skip_ws(&r);
    if (r.p != r.end)
        goto bad;
    if (!have_sql) {
        fail(&r, "\"sql\" is missing");
        goto failed;
    }
    return 0;
bad:
    fail(&r, "expected {\"sql\": \"...\", \"params\": [...]}");
failed:
    params_free(out);
    return -1;
}

void params_free(TypedRequest *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->params[i].bytes);
        free(r->params[i].list);
    }
    free(r->params);
    free(r->sql);
    memset(r, 0, sizeof(*r));
}
