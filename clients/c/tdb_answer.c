/*
 * tdb_answer.c: the answer parsers of libtcpduckdb and the results they fill.
 *
 * Answers are parsed straight from the connection's read buffer (tdb_io.c) by a small pull
 * parser: a command answer is read as one line (tdb__read_answer); a typed query answer
 * `{"columns":[...],"rows":[[...],...]}` is read token by token, its header by
 * tdb__read_header() and then one row per tdb_next_row(), so the library never holds a whole
 * result line unless the caller asks for the whole result (tdb_query, tdb__read_result).
 *
 * The server's bytes are untrusted: any byte sequence must end in a result, a server error
 * (TDB_ESERVER, connection still in sync) or a dead connection (TDB_EPROTO and others), never in
 * a crash or a read outside the buffers; tests/fuzz/fuzz_client_answer.c checks that. A row line
 * that ends early (the server's error after some rows) is followed by an `Error: ...` line: the
 * parsers return TDB__CUT for it, and the stream functions read that error line.
 *
 * Memory: values are copied into the result's `data` string, one NUL-terminated cell after
 * another, bounded by the connection's max_answer (for a streamed result: per row).
 */
#include "tdb_internal.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- command answers ------------------------------------------------------------------ */

/* Reads a command answer line into *out_answer (caller frees) or returns its error. */
int tdb__read_answer(tdb_conn *c, char **out_answer)
{
    Str line = {0};
    char tail[2] = {0, 0};
    bool over = false;
    int rc = tdb__read_line(c, &line, c->max_answer, &over, tail);
    if (rc != 0)
        goto out;
    if (strncmp(line.p, "Error: ", 7) == 0) {
        rc = tdb__server_error(c, line.p + 7);
        goto out;
    }
    /* A result line that was cut short by an error is followed by the error line. */
    bool cut = (line.p[0] == '[' && tail[1] != ']') ||
               (strncmp(line.p, "{\"columns\"", 10) == 0 && (tail[0] != ']' || tail[1] != '}'));
    if (cut) {
        rc = tdb__read_error_line(c);
        goto out;
    }
    if (over) {
        rc = tdb__set_error(c, TDB_ETOOBIG, "the answer is larger than the limit of %zu bytes",
                            c->max_answer);
        goto out;
    }
    if (out_answer) {
        *out_answer = line.p;
        line.p = NULL;
    }
out:
    tdb__str_free(&line);
    return rc;
}

/* ---- the typed answer parser ---------------------------------------------------------- */

/* Room for one more cell in res; TDB_ETOOBIG over the connection's answer limit. */
static int check_size(tdb_result *res)
{
    size_t held = res->data.len + res->ncells * sizeof(Cell);
    if (held > res->conn->max_answer)
        return tdb__set_error(res->conn, TDB_ETOOBIG,
                              res->streaming ? "a row is larger than the limit of %zu bytes"
                                             : "the result is larger than the limit of %zu bytes",
                              res->conn->max_answer);
    return 0;
}

static void put_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int read_hex4(tdb_conn *c, uint32_t *out)
{
    int rc = 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int b = tdb__next_byte(c, &rc);
        if (b < 0)
            return rc;
        if (b == '\n')
            return TDB__CUT;
        int d = b >= '0' && b <= '9'   ? b - '0'
                : b >= 'a' && b <= 'f' ? b - 'a' + 10
                : b >= 'A' && b <= 'F' ? b - 'A' + 10
                                       : -1;
        if (d < 0)
            return tdb__die(c, TDB_EPROTO, "bad \\u escape in the answer");
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/*
 * Decodes a JSON string whose opening quote was consumed, appending its bytes to out. limit
 * bounds out->len (0: no limit beyond memory; TDB_ETOOBIG set by the caller's check).
 */
static int parse_string(tdb_conn *c, Str *out, size_t limit)
{
    int rc = 0;
    for (;;) {
        if (c->rpos == c->rlen && (rc = tdb__fill(c)) != 0)
            return rc;
        /* Copy the run of plain bytes at once. */
        const unsigned char *start = c->rbuf + c->rpos, *end = c->rbuf + c->rlen, *p = start;
        while (p < end && *p != '"' && *p != '\\' && *p != '\n')
            p++;
        if (p > start && tdb__str_put(out, start, (size_t)(p - start)) != 0)
            return tdb__set_error(c, TDB_ENOMEM, "out of memory");
        c->rpos += (size_t)(p - start);
        if (limit && out->len > limit)
            return TDB_ETOOBIG;
        if (p == end)
            continue;
        c->rpos++;
        if (*p == '"')
            return 0;
        if (*p == '\n')
            return TDB__CUT;
        int e = tdb__next_byte(c, &rc);
        if (e < 0)
            return rc;
        char ch;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            ch = (char)e;
            break;
        case 'n':
            ch = '\n';
            break;
        case 'r':
            ch = '\r';
            break;
        case 't':
            ch = '\t';
            break;
        case 'b':
            ch = '\b';
            break;
        case 'f':
            ch = '\f';
            break;
        case 'u': {
            uint32_t cp;
            if ((rc = read_hex4(c, &cp)) != 0)
                return rc;
            if (cp >= 0xD800 && cp < 0xDC00) {
                /* A high surrogate: the low one must follow as another \u escape. */
                int b1 = tdb__next_byte(c, &rc), b2 = b1 < 0 ? -1 : tdb__next_byte(c, &rc);
                if (b1 < 0 || b2 < 0)
                    return rc;
                if (b1 == '\n' || b2 == '\n')
                    return TDB__CUT;
                uint32_t lo = 0;
                if (b1 != '\\' || b2 != 'u')
                    return tdb__die(c, TDB_EPROTO, "unpaired surrogate in the answer");
                if ((rc = read_hex4(c, &lo)) != 0)
                    return rc;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return tdb__die(c, TDB_EPROTO, "unpaired surrogate in the answer");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return tdb__die(c, TDB_EPROTO, "unpaired surrogate in the answer");
            }
            char u[4];
            size_t n = 0;
            put_utf8(u, &n, cp);
            if (tdb__str_put(out, u, n) != 0)
                return tdb__set_error(c, TDB_ENOMEM, "out of memory");
            continue;
        }
        case '\n':
            return TDB__CUT;
        default:
            return tdb__die(c, TDB_EPROTO, "bad escape in the answer");
        }
        if (tdb__str_putc(out, ch) != 0)
            return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    }
}

/* Copies a nested value (first byte `open` consumed) as raw JSON text into out. */
static int parse_nested(tdb_conn *c, Str *out, int open, size_t limit)
{
    int rc = 0, depth = 1;
    bool in_string = false, escaped = false;
    if (tdb__str_putc(out, (char)open) != 0)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    while (depth > 0) {
        if (c->rpos == c->rlen && (rc = tdb__fill(c)) != 0)
            return rc;
        const unsigned char *start = c->rbuf + c->rpos, *end = c->rbuf + c->rlen, *p = start;
        for (; p < end && depth > 0; p++) {
            unsigned char b = *p;
            if (b == '\n') {
                c->rpos += (size_t)(p - start) + 1;
                return TDB__CUT;
            }
            if (in_string) {
                if (escaped)
                    escaped = false;
                else if (b == '\\')
                    escaped = true;
                else if (b == '"')
                    in_string = false;
            } else if (b == '"') {
                in_string = true;
            } else if (b == '[' || b == '{') {
                depth++;
            } else if (b == ']' || b == '}') {
                depth--;
            }
        }
        if (tdb__str_put(out, start, (size_t)(p - start)) != 0)
            return tdb__set_error(c, TDB_ENOMEM, "out of memory");
        c->rpos += (size_t)(p - start);
        if (limit && out->len > limit)
            return TDB_ETOOBIG;
    }
    return 0;
}

/* Expects the rest of a literal (its first byte consumed). */
static int parse_literal(tdb_conn *c, const char *rest)
{
    int rc = 0;
    for (const char *p = rest; *p; p++) {
        int b = tdb__next_byte(c, &rc);
        if (b < 0)
            return rc;
        if (b == '\n')
            return TDB__CUT;
        if (b != *p)
            return tdb__die(c, TDB_EPROTO, "bad literal in the answer");
    }
    return 0;
}

/*
 * Appends a number (first byte consumed) to out; *out_int tells whether it is an integer.
 * limit bounds out->len as in parse_string (BIGNUM values can have any number of digits).
 */
/* The bytes of a JSON number: 1 digits and signs, 2 what makes it a float. A table, since
 * numbers are most of a large result. */
static const unsigned char number_class[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['-'] = 1, ['+'] = 1, ['.'] = 2, ['e'] = 2, ['E'] = 2};

/* Reads a JSON number whose first byte (already consumed) is `first`; copies
 * it to out a run of the read buffer at a time, not byte by byte (large
 * results are mostly numbers). */
static int parse_number(tdb_conn *c, Str *out, int first, bool *out_int, size_t limit)
{
    int rc = 0;
    char ch = (char)first;
    unsigned flt = number_class[(unsigned char)first];
    if (tdb__str_put(out, &ch, 1) != 0)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    for (;;) {
        if (c->rpos == c->rlen && (rc = tdb__fill(c)) != 0)
            return rc;
        const unsigned char *start = c->rbuf + c->rpos, *end = c->rbuf + c->rlen, *p = start;
        unsigned cls;
        while (p < end && (cls = number_class[*p]) != 0) {
            flt |= cls;
            p++;
        }
        if (p > start && tdb__str_put(out, start, (size_t)(p - start)) != 0)
            return tdb__set_error(c, TDB_ENOMEM, "out of memory");
        c->rpos += (size_t)(p - start);
        *out_int = (flt & 2) == 0;
        if (out->len > limit)
            return TDB_ETOOBIG;
        if (p < end)
            return 0;
    }
}

/* Appends one cell read from the stream to res. */
static int parse_cell(tdb_result *res, int first)
{
    tdb_conn *c = res->conn;
    if (res->ncells == res->cells_cap) {
        size_t cap = res->cells_cap ? res->cells_cap * 2 : 16;
        Cell *cells = realloc(res->cells, cap * sizeof(Cell));
        if (!cells)
            return tdb__set_error(c, TDB_ENOMEM, "out of memory");
        res->cells = cells;
        res->cells_cap = cap;
    }
    Cell *cell = &res->cells[res->ncells];
    Str *d = &res->data;
    size_t limit = c->max_answer;
    cell->off = d->len;
    int rc = 0;
    bool is_int = false;
    switch (first) {
    case '"':
        cell->kind = TDB_VALUE_STRING;
        rc = parse_string(c, d, limit);
        break;
    case '[':
    case '{':
        cell->kind = TDB_VALUE_NESTED;
        rc = parse_nested(c, d, first, limit);
        break;
    case 't':
        cell->kind = TDB_VALUE_BOOL;
        rc = parse_literal(c, "rue");
        if (rc == 0 && tdb__str_puts(d, "true") != 0)
            rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
        break;
    case 'f':
        cell->kind = TDB_VALUE_BOOL;
        rc = parse_literal(c, "alse");
        if (rc == 0 && tdb__str_puts(d, "false") != 0)
            rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
        break;
    case 'n':
        cell->kind = TDB_VALUE_NULL;
        rc = parse_literal(c, "ull");
        break;
    case '\n':
        return TDB__CUT;
    default:
        if (first == '-' || (first >= '0' && first <= '9')) {
            rc = parse_number(c, d, first, &is_int, limit);
            cell->kind = is_int ? TDB_VALUE_INT : TDB_VALUE_FLOAT;
        } else {
            return tdb__die(c, TDB_EPROTO, "unexpected byte 0x%02x in a row", (unsigned)first);
        }
    }
    if (rc == TDB_ETOOBIG)
        return tdb__set_error(c, TDB_ETOOBIG, "a value is larger than the limit of %zu bytes",
                              limit);
    if (rc != 0)
        return rc;
    cell->len = d->len - cell->off;
    if (tdb__str_putc(d, '\0') != 0)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    res->ncells++;
    return check_size(res);
}

/* Reads a JSON string (opening quote expected next) into a new C string. */
static int parse_owned_string(tdb_conn *c, char **out)
{
    int rc = 0;
    int b = tdb__next_token(c, &rc);
    if (b < 0)
        return rc;
    if (b != '"')
        return tdb__die(c, TDB_EPROTO, "expected a string in the answer header");
    Str s = {0};
    rc = parse_string(c, &s, 1 << 20);
    if (rc == TDB__CUT || rc == TDB_ETOOBIG)
        rc = tdb__die(c, TDB_EPROTO, "bad string in the answer header");
    if (rc == 0 && tdb__str_reserve(&s, 0) != 0)
        rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
    if (rc != 0) {
        tdb__str_free(&s);
        return rc;
    }
    *out = s.p;
    return 0;
}

static int expect(tdb_conn *c, int want)
{
    int rc = 0;
    int b = tdb__next_token(c, &rc);
    if (b < 0)
        return rc;
    if (b != want)
        return tdb__die(c, TDB_EPROTO, "expected '%c' in the answer header", want);
    return 0;
}

/* Parses `[{"name":...,"type":...},...]` into res->names/types. */
static int parse_columns(tdb_result *res)
{
    tdb_conn *c = res->conn;
    int rc = expect(c, '[');
    if (rc != 0)
        return rc;
    size_t cap = 0;
    for (;;) {
        int b = tdb__next_token(c, &rc);
        if (b < 0)
            return rc;
        if (b == ']' && res->ncols == 0)
            return 0;
        if (res->ncols > 0) {
            if (b == ']')
                return 0;
            if (b != ',')
                return tdb__die(c, TDB_EPROTO, "expected ',' between columns");
            b = tdb__next_token(c, &rc);
            if (b < 0)
                return rc;
        }
        if (b != '{')
            return tdb__die(c, TDB_EPROTO, "expected a column object");
        if (res->ncols == cap) {
            cap = cap ? cap * 2 : 8;
            char **names = realloc(res->names, cap * sizeof(char *));
            if (names)
                res->names = names;
            char **types = names ? realloc(res->types, cap * sizeof(char *)) : NULL;
            if (!types)
                return tdb__set_error(c, TDB_ENOMEM, "out of memory");
            res->types = types;
        }
        res->names[res->ncols] = res->types[res->ncols] = NULL;
        res->ncols++;
        for (int field = 0; field < 2; field++) {
            char *key = NULL, *value = NULL;
            if (field == 1 && (rc = expect(c, ',')) != 0)
                return rc;
            if ((rc = parse_owned_string(c, &key)) != 0)
                return rc;
            rc = expect(c, ':');
            if (rc == 0)
                rc = parse_owned_string(c, &value);
            if (rc == 0 && strcmp(key, "name") == 0 && !res->names[res->ncols - 1]) {
                res->names[res->ncols - 1] = value;
            } else if (rc == 0 && strcmp(key, "type") == 0 && !res->types[res->ncols - 1]) {
                res->types[res->ncols - 1] = value;
            } else {
                free(value);
                if (rc == 0)
                    rc = tdb__die(c, TDB_EPROTO, "unexpected key in a column object");
            }
            free(key);
            if (rc != 0)
                return rc;
        }
        if ((rc = expect(c, '}')) != 0)
            return rc;
    }
}

/* Reads the answer up to its first row (or whole, when it has no rows). */
static int parse_header(tdb_result *res)
{
    tdb_conn *c = res->conn;
    int rc = 0;
    int b = tdb__next_byte(c, &rc);
    if (b < 0)
        return rc;
    if (b == 'E') {
        Str line = {0};
        char tail[2] = {0, 0};
        rc = tdb__read_line(c, &line, 65536, NULL, tail);
        if (rc == 0 && strncmp(line.p, "rror: ", 6) == 0)
            rc = tdb__server_error(c, line.p + 6);
        else if (rc == 0)
            rc = tdb__die(c, TDB_EPROTO, "unexpected answer: E%.200s", line.p);
        tdb__str_free(&line);
        return rc;
    }
    if (b != '{')
        return tdb__die(c, TDB_EPROTO, "unexpected answer to a query (byte 0x%02x)", (unsigned)b);
    res->kind = TDB_RESULT_SUCCESS;
    for (;;) {
        char *key = NULL;
        if ((rc = parse_owned_string(c, &key)) != 0)
            return rc;
        rc = expect(c, ':');
        if (rc == 0 && strcmp(key, "columns") == 0) {
            /* Twice would append to the first list: refuse it (parse_columns sizes its arrays
             * for one list). */
            rc = res->names || res->ncols
                     ? tdb__die(c, TDB_EPROTO, "two column lists in the answer")
                     : parse_columns(res);
        } else if (rc == 0 && strcmp(key, "rows") == 0) {
            free(key);
            if ((rc = expect(c, '[')) != 0)
                return rc;
            res->kind = TDB_RESULT_ROWS;
            res->first_row = true;
            c->state = CONN_STREAMING;
            return 0; /* the rows follow, read by tdb_next_row */
        } else if (rc == 0 && strcmp(key, "changed") == 0) {
            Str num = {0};
            bool is_int = false;
            b = tdb__next_token(c, &rc);
            if (b >= 0)
                rc = parse_number(c, &num, b, &is_int, 64);
            if (rc == TDB_ETOOBIG)
                rc = tdb__die(c, TDB_EPROTO, "bad row count");
            if (rc == 0 && !is_int)
                rc = tdb__die(c, TDB_EPROTO, "bad row count");
            if (rc == 0) {
                res->kind = TDB_RESULT_CHANGED;
                res->changed = strtoll(num.p, NULL, 10);
            }
            tdb__str_free(&num);
        } else if (rc == 0 && strcmp(key, "success") == 0) {
            b = tdb__next_token(c, &rc);
            if (b >= 0 && (b != 't' || (rc = parse_literal(c, "rue")) != 0))
                rc = rc && rc != TDB__CUT ? rc : tdb__die(c, TDB_EPROTO, "bad success answer");
        } else if (rc == 0) {
            rc = tdb__die(c, TDB_EPROTO, "unexpected key \"%.100s\" in the answer", key);
        }
        free(key);
        if (rc != 0)
            return rc;
        b = tdb__next_token(c, &rc);
        if (b < 0)
            return rc;
        if (b == ',')
            continue;
        if (b != '}')
            return tdb__die(c, TDB_EPROTO, "expected '}' in the answer");
        if ((rc = expect(c, '\n')) != 0)
            return rc;
        res->done = true;
        return 0;
    }
}

/*
 * Reads and drops the rest of the current answer, so the connection is in sync again. When the
 * row line was cut short by an error, the error line is read too and its status returned.
 */
static int stream_drain(tdb_result *res)
{
    tdb_conn *c = res->conn;
    char tail[2] = {0, 0};
    int rc = tdb__read_line(c, NULL, 0, NULL, tail);
    if (rc == 0 && (tail[0] != ']' || tail[1] != '}'))
        rc = tdb__read_error_line(c);
    return rc;
}

/* Ends the stream at the server's error line; the connection is in sync again. */
static int stream_fail(tdb_result *res, int rc)
{
    tdb_conn *c = res->conn;
    if (rc == TDB__CUT)
        rc = tdb__read_error_line(c);
    else if (rc == TDB_ETOOBIG) {
        int drained = stream_drain(res);
        if (drained != 0 && drained != TDB_ESERVER)
            rc = drained; /* the connection died: report that */
        else
            tdb__set_error(c, TDB_ETOOBIG, "the answer is larger than the limit of %zu bytes",
                           c->max_answer);
    }
    if (c->state == CONN_STREAMING)
        c->state = CONN_READY;
    res->done = true;
    res->fail_status = rc;
    return rc;
}

/*
 * Writes one value read from the stream as a CSV field (its first byte `first` consumed) at the
 * end of res->data, after a separator unless it is the row's first (nth 0). The JSON text of a
 * number or of a nested value is the field's text; a field is quoted (RFC 4180: quotes doubled)
 * when it holds the separator, a quote, CR or LF, when it equals a non-empty null_text, and an
 * empty string when quote_empty asks.
 */
static int csv_cell(tdb_result *res, int first, const tdb_csv_options *o, size_t nth)
{
    tdb_conn *c = res->conn;
    Str *d = &res->data;
    size_t limit = c->max_answer;
    char sep = o->sep ? o->sep : ',';
    if (nth && tdb__str_putc(d, sep) != 0)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    size_t start = d->len;
    bool is_int = false, text = false;
    int rc = 0;
    switch (first) {
    case '"':
        rc = parse_string(c, d, limit);
        text = true;
        break;
    case '[':
    case '{':
        rc = parse_nested(c, d, first, limit);
        text = true;
        break;
    case 't':
        rc = parse_literal(c, "rue");
        if (rc == 0 && tdb__str_puts(d, "true") != 0)
            rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
        break;
    case 'f':
        rc = parse_literal(c, "alse");
        if (rc == 0 && tdb__str_puts(d, "false") != 0)
            rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
        break;
    case 'n':
        rc = parse_literal(c, "ull");
        if (rc == 0 && o->null_text && tdb__str_puts(d, o->null_text) != 0)
            rc = tdb__set_error(c, TDB_ENOMEM, "out of memory");
        break;
    case '\n':
        return TDB__CUT;
    default:
        if (first == '-' || (first >= '0' && first <= '9'))
            rc = parse_number(c, d, first, &is_int, limit);
        else
            return tdb__die(c, TDB_EPROTO, "unexpected byte 0x%02x in a row", (unsigned)first);
    }
    if (rc == TDB_ETOOBIG)
        return tdb__set_error(c, TDB_ETOOBIG, "a value is larger than the limit of %zu bytes",
                              limit);
    if (rc != 0 || !text)
        return rc;
    size_t n = d->len - start, quotes = 0;
    bool quote = n == 0 ? o->quote_empty
                        : o->null_text && o->null_text[0] && strlen(o->null_text) == n &&
                              memcmp(d->p + start, o->null_text, n) == 0;
    for (size_t k = start; k < d->len; k++) {
        char ch = d->p[k];
        if (ch == '"')
            quotes++;
        quote |= ch == sep || ch == '"' || ch == '\n' || ch == '\r';
    }
    if (!quote)
        return 0;
    /* Rare: shift the field right, from its end, doubling its quotes. */
    if (tdb__str_reserve(d, quotes + 2) != 0)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    char *f = d->p + start;
    size_t w = n + quotes + 2;
    f[w - 1] = '"';
    for (size_t r = n, k = w - 1; r > 0; r--) {
        f[--k] = f[r - 1];
        if (f[r - 1] == '"')
            f[--k] = '"';
    }
    f[0] = '"';
    d->len += quotes + 2;
    d->p[d->len] = '\0';
    return 0;
}

/* Reads the next row; csv NULL: into cells, else as one CSV line in res->data. */
static int next_row(tdb_result *res, const tdb_csv_options *csv)
{
    if (!res)
        return TDB_EINVAL;
    if (res->done) {
        if (res->streaming)
            res->nrows = 0;
        return res->fail_status ? res->fail_status : 0;
    }
    tdb_conn *c = res->conn;
    if (res->streaming) {
        res->nrows = 0;
        res->ncells = 0;
        res->data.len = 0;
    }
    int rc = 0;
    int b = tdb__next_token(c, &rc);
    if (b < 0)
        return stream_fail(res, rc);
    if (b == ']') {
        if ((rc = expect(c, '}')) == 0)
            rc = expect(c, '\n');
        if (rc != 0)
            return stream_fail(res, rc);
        res->done = true;
        c->state = CONN_READY;
        return 0;
    }
    if (!res->first_row) {
        if (b == '\n')
            return stream_fail(res, TDB__CUT);
        if (b != ',')
            return stream_fail(res, tdb__die(c, TDB_EPROTO, "expected ',' between rows"));
        b = tdb__next_token(c, &rc);
        if (b < 0)
            return stream_fail(res, rc);
    }
    res->first_row = false;
    if (b == '\n')
        return stream_fail(res, TDB__CUT);
    if (b != '[')
        return stream_fail(res, tdb__die(c, TDB_EPROTO, "expected a row array"));
    size_t got = 0;
    for (;;) {
        b = tdb__next_token(c, &rc);
        if (b < 0)
            return stream_fail(res, rc);
        if (b == ']' && got == 0)
            break;
        if (got > 0) {
            if (b == ']')
                break;
            if (b == '\n')
                return stream_fail(res, TDB__CUT);
            if (b != ',')
                return stream_fail(res, tdb__die(c, TDB_EPROTO, "expected ',' between values"));
            b = tdb__next_token(c, &rc);
            if (b < 0)
                return stream_fail(res, rc);
        }
        rc = csv ? csv_cell(res, b, csv, got) : parse_cell(res, b);
        if (rc != 0)
            return stream_fail(res, rc);
        got++;
    }
    if (got != res->ncols)
        return stream_fail(
            res, tdb__die(c, TDB_EPROTO, "a row has %zu values for %zu columns", got, res->ncols));
    if (csv) {
        if (tdb__str_putc(&res->data, '\n') != 0)
            return stream_fail(res, tdb__set_error(c, TDB_ENOMEM, "out of memory"));
        return 1;
    }
    res->nrows++;
    return 1;
}

int tdb_next_row(tdb_result *res)
{
    return next_row(res, NULL);
}

int tdb_next_row_csv(tdb_result *res, const tdb_csv_options *options, const char **out_line,
                     size_t *out_len)
{
    static const tdb_csv_options plain = {0};
    *out_line = "";
    *out_len = 0;
    if (res && !res->streaming)
        return TDB_EINVAL; /* a whole result (tdb_query): read its cells */
    int rc = next_row(res, options ? options : &plain);
    if (rc == 1) {
        *out_line = res->data.p;
        *out_len = res->data.len;
    }
    return rc;
}

/* Reads the header of the answer to a query just sent into a new result. */
int tdb__read_header(tdb_conn *c, bool streaming, tdb_result **out_result)
{
    int rc;
    tdb_result *res = calloc(1, sizeof(*res));
    if (!res) {
        /* The answer is coming and nobody would read it: the connection is out of sync. */
        return tdb__die(c, TDB_ENOMEM, "out of memory");
    }
    res->conn = c;
    res->streaming = streaming;
    res->changed = -1;
    rc = parse_header(res);
    assert(rc != TDB__CUT); /* a header cut short is a protocol error, not a server error */
    if (rc != 0) {
        if (c->state == CONN_STREAMING)
            c->state = CONN_READY;
        res->conn = NULL;
        tdb_result_free(res);
        return rc;
    }
    tdb__set_error(c, TDB_OK, "%s", "");
    *out_result = res;
    return 0;
}

/* Reads the whole answer to a query just sent. */
int tdb__read_result(tdb_conn *c, tdb_result **out_result)
{
    tdb_result *res = NULL;
    int rc = tdb__read_header(c, false, &res);
    if (rc != 0) {
        *out_result = NULL;
        return rc;
    }
    while ((rc = tdb_next_row(res)) == 1)
        ;
    if (rc != 0) {
        tdb_result_free(res);
        *out_result = NULL;
        return rc;
    }
    res->conn = NULL;
    *out_result = res;
    return 0;
}

/*
 * Reads and drops at most `limit` bytes of the current answer line. *out_ended says whether its
 * end came within them; then, as stream_drain(), the error line after a line cut short is read
 * and its status returned.
 */
static int skip_some(tdb_result *res, size_t limit, bool *out_ended)
{
    tdb_conn *c = res->conn;
    char tail[2] = {0, 0};
    size_t total = 0;
    *out_ended = false;
    while (total <= limit) {
        const unsigned char *start;
        size_t n;
        int rc = tdb__scan_line(c, &start, &n, out_ended, tail);
        if (rc != 0)
            return rc;
        total += n;
        if (*out_ended)
            return tail[0] == ']' && tail[1] == '}' ? 0 : tdb__read_error_line(c);
    }
    return 0;
}

/*
 * Ends an answer nobody will read, as the Node and Python drivers do: up to
 * TDB__ABANDON_DRAIN bytes are read and dropped; a longer rest is stopped by cancelling the
 * statement (a second connection, tdb_cancel) and reading the short rest, which then ends in
 * the Canceled error the caller asked for (not reported). Inside a transaction, or for a
 * session without a cancel key, the rest is read whatever its size, since a cancel would
 * abort the transaction.
 */
static int abandon(tdb_result *res)
{
    tdb_conn *c = res->conn;
    if (c->tx != TDB_TRANS_IDLE || c->cancel_id == 0)
        return stream_drain(res);
    bool ended = false;
    int rc = skip_some(res, TDB__ABANDON_DRAIN, &ended);
    if (rc != 0 || ended)
        return rc;
    tdb_cancel_handle *h = tdb_get_cancel(c);
    if (!h)
        return stream_drain(res);
    int sent = tdb_cancel(h, NULL, 0);
    tdb_free_cancel(h);
    rc = stream_drain(res);
    if (rc == TDB_ESERVER && sent == TDB_OK && strcmp(c->err_kind, "Canceled") == 0) {
        tdb__set_error(c, TDB_OK, "%s", "");
        rc = 0;
    }
    return rc;
}

int tdb_query_end(tdb_result *res)
{
    if (!res)
        return 0;
    int rc = 0;
    tdb_conn *c = res->conn;
    if (c && !res->done) {
        rc = abandon(res);
        if (c->state == CONN_STREAMING)
            c->state = CONN_READY;
    } else if (res->fail_status) {
        rc = res->fail_status;
    }
    tdb__str_free(&res->data);
    tdb__str_free(&res->json);
    for (size_t i = 0; i < res->ncols; i++) {
        free(res->names[i]);
        free(res->types[i]);
    }
    free(res->names);
    free(res->types);
    free(res->cells);
    free(res);
    return rc;
}

void tdb_result_free(tdb_result *res)
{
    (void)tdb_query_end(res);
}

/* ---- accessors ------------------------------------------------------------------------ */

tdb_result_kind tdb_result_kind_of(const tdb_result *res)
{
    return res->kind;
}

int64_t tdb_result_changed(const tdb_result *res)
{
    return res->kind == TDB_RESULT_CHANGED ? res->changed : -1;
}

size_t tdb_result_ncols(const tdb_result *res)
{
    return res->ncols;
}

size_t tdb_result_nrows(const tdb_result *res)
{
    return res->nrows;
}

const char *tdb_result_column_name(const tdb_result *res, size_t col)
{
    return col < res->ncols ? res->names[col] : NULL;
}

const char *tdb_result_column_type(const tdb_result *res, size_t col)
{
    return col < res->ncols ? res->types[col] : NULL;
}

int tdb_result_column_index(const tdb_result *res, const char *name)
{
    if (!res || !name)
        return -1;
    for (size_t i = 0; i < res->ncols && i < INT32_MAX; i++)
        if (strcmp(res->names[i], name) == 0)
            return (int)i;
    for (size_t i = 0; i < res->ncols && i < INT32_MAX; i++)
        if (strcasecmp(res->names[i], name) == 0)
            return (int)i;
    return -1;
}

static const Cell *cell_at(const tdb_result *res, size_t row, size_t col)
{
    if (!res || row >= res->nrows || col >= res->ncols)
        return NULL;
    return &res->cells[row * res->ncols + col];
}

tdb_value_kind tdb_result_value_kind(const tdb_result *res, size_t row, size_t col)
{
    const Cell *cell = cell_at(res, row, col);
    return cell ? cell->kind : TDB_VALUE_NULL;
}

bool tdb_result_is_null(const tdb_result *res, size_t row, size_t col)
{
    const Cell *cell = cell_at(res, row, col);
    return !cell || cell->kind == TDB_VALUE_NULL;
}

/* The cell, or a status for NULL/out of range; *out_text is its NUL-terminated text. */
static int cell_text(const tdb_result *res, size_t row, size_t col, const Cell **out_cell,
                     const char **out_text)
{
    const Cell *cell = cell_at(res, row, col);
    if (!cell)
        return TDB_EINVAL;
    if (cell->kind == TDB_VALUE_NULL)
        return TDB_ENULL;
    *out_cell = cell;
    *out_text = res->data.p + cell->off;
    return 0;
}

int tdb_result_int64(const tdb_result *res, size_t row, size_t col, int64_t *out_value)
{
    const Cell *cell = NULL;
    const char *text = NULL;
    int rc = cell_text(res, row, col, &cell, &text);
    if (rc != 0)
        return rc;
    if (cell->kind != TDB_VALUE_INT)
        return TDB_ETYPE;
    /* Up to 18 digits cannot overflow: convert them here, a large part of
     * reading a big result; longer ones (and anything odd) go to strtoll. */
    const char *d = text + (text[0] == '-');
    size_t nd = 0;
    int64_t acc = 0;
    while (nd < 18 && d[nd] >= '0' && d[nd] <= '9')
        acc = acc * 10 + (d[nd++] - '0');
    if (nd > 0 && d[nd] == '\0') {
        *out_value = text[0] == '-' ? -acc : acc;
        return 0;
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE)
        return TDB_ERANGE;
    if (*end != '\0')
        return TDB_ETYPE;
    *out_value = (int64_t)v;
    return 0;
}

int tdb_result_double(const tdb_result *res, size_t row, size_t col, double *out_value)
{
    const Cell *cell = NULL;
    const char *text = NULL;
    int rc = cell_text(res, row, col, &cell, &text);
    if (rc != 0)
        return rc;
    if (cell->kind == TDB_VALUE_STRING) {
        if (strcmp(text, "NaN") == 0)
            *out_value = NAN;
        else if (strcmp(text, "Infinity") == 0)
            *out_value = INFINITY;
        else if (strcmp(text, "-Infinity") == 0)
            *out_value = -INFINITY;
        else
            return TDB_ETYPE;
        return 0;
    }
    if (cell->kind != TDB_VALUE_INT && cell->kind != TDB_VALUE_FLOAT)
        return TDB_ETYPE;
    *out_value = strtod(text, NULL);
    return 0;
}

int tdb_result_bool(const tdb_result *res, size_t row, size_t col, bool *out_value)
{
    const Cell *cell = NULL;
    const char *text = NULL;
    int rc = cell_text(res, row, col, &cell, &text);
    if (rc != 0)
        return rc;
    if (cell->kind != TDB_VALUE_BOOL)
        return TDB_ETYPE;
    *out_value = text[0] == 't';
    return 0;
}

const char *tdb_result_text(const tdb_result *res, size_t row, size_t col, size_t *out_len)
{
    const Cell *cell = NULL;
    const char *text = NULL;
    if (cell_text(res, row, col, &cell, &text) != 0) {
        if (out_len)
            *out_len = 0;
        return NULL;
    }
    if (out_len)
        *out_len = cell->len;
    return text;
}

const char *tdb_result_json(tdb_result *res, size_t row, size_t col)
{
    const Cell *cell = cell_at(res, row, col);
    if (!cell)
        return NULL;
    if (cell->kind == TDB_VALUE_NULL)
        return "null";
    const char *text = res->data.p + cell->off;
    if (cell->kind != TDB_VALUE_STRING)
        return text;
    res->json.len = 0;
    if (tdb__str_put_json_string(&res->json, text, cell->len) != 0)
        return NULL;
    return res->json.p;
}
