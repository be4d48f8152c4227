/*
 * pgwire: framing, fields and encoding of PostgreSQL's protocol 3.0. See
 * pgwire.h.
 */
#include "pgwire.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decfmt.h"

/* ---- framing ---- */

/* A reader gives back a large buffer once it has become mostly empty. */
#define KEEP_BYTES (64 * 1024)

static uint32_t rd32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

char *pgwire_space(PgReader *r, size_t n)
{
    if (r->pos > 0 && (r->pos == r->in.len || r->in.cap - r->in.len < n)) {
        buf_consume(&r->in, r->pos);
        r->pos = 0;
        if (r->in.len == 0 && r->in.cap > KEEP_BYTES)
            buf_free(&r->in);
    }
    return buf_reserve(&r->in, n);
}

void pgwire_commit(PgReader *r, size_t n)
{
    r->in.len += n;
}

size_t pgwire_pending(const PgReader *r)
{
    return r->in.len - r->pos;
}

PgStatus pgwire_next(PgReader *r, bool startup, size_t max, PgMsg *out)
{
    size_t have = r->in.len - r->pos;
    const char *p = r->in.data + r->pos;
    size_t head = startup ? 4 : 5;
    out->type = 0;
    out->body = NULL;
    out->len = 0;
    if (have < head)
        return PGWIRE_NONE;
    uint32_t len = rd32(p + head - 4);
    /* The length counts itself; a startup packet also has its 4-byte code. */
    if (len < (startup ? 8u : 4u))
        return PGWIRE_BAD;
    if (len > max)
        return PGWIRE_TOO_LONG;
    if (have < (size_t)len + head - 4)
        return PGWIRE_NONE;
    out->type = startup ? 0 : p[0];
    out->body = p + head;
    out->len = len - 4;
    r->pos += (size_t)len + head - 4;
    return PGWIRE_MSG;
}

void pgwire_reader_free(PgReader *r)
{
    if (!r)
        return;
    buf_free(&r->in);
    r->pos = 0;
}

int pgwire_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool pgwire_bytea_hex(const char *p, size_t n)
{
    if (n < 2 || p[0] != '\\' || (p[1] != 'x' && p[1] != 'X') || (n - 2) % 2 != 0)
        return false;
    for (size_t i = 2; i < n; i++)
        if (pgwire_hex_digit(p[i]) < 0)
            return false;
    return true;
}

static bool array_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool pgwire_array_to_list(const char *p, size_t n, Buf *out)
{
    size_t start = out->len, i = 0;
    while (i < n && array_blank(p[i]))
        i++;
    if (i == n || p[i++] != '{')
        return false;
    buf_putc(out, '[');
    bool first = true, closed = false;
    while (i < n && !closed) {
        while (i < n && array_blank(p[i]))
            i++;
        if (first && i < n && p[i] == '}') {
            i++;
            closed = true;
            break;
        }
        if (!first)
            buf_append_str(out, ", ");
        first = false;
        /* One element: quoted, or unquoted up to , or } with trailing blanks dropped. */
        bool quoted = i < n && p[i] == '"', any = false;
        size_t kept = 0; /* bytes of the unquoted element up to its last non-blank */
        size_t elem = out->len;
        buf_putc(out, '"');
        if (quoted)
            i++;
        for (;;) {
            if (i == n)
                goto bad;
            char c = p[i];
            if (quoted && c == '"') {
                i++;
                break;
            }
            if (!quoted && (c == ',' || c == '}'))
                break;
            if (!quoted && (c == '{' || c == '"'))
                goto bad; /* a nested array, or a quote inside an unquoted element */
            bool escaped = c == '\\';
            if (escaped) {
                if (++i == n)
                    goto bad;
                c = p[i];
            }
            i++;
            if (!quoted && !escaped && !any && array_blank(c))
                continue; /* leading blanks */
            any = true;
            if (c == '"' || c == '\\')
                buf_putc(out, '\\');
            buf_putc(out, c);
            if (quoted || escaped || !array_blank(c))
                kept = out->len - elem;
        }
        if (!quoted) {
            out->len = elem + kept; /* trailing blanks */
            if (!any)
                goto bad; /* an empty unquoted element: {1,,2} */
            if (kept == 5 && strncasecmp(out->data + elem + 1, "null", 4) == 0) {
                out->len = elem;
                buf_append_str(out, "NULL");
                goto next;
            }
        }
        buf_putc(out, '"');
    next:
        while (i < n && array_blank(p[i]))
            i++;
        if (i == n)
            goto bad;
        if (p[i] == '}')
            closed = true;
        else if (p[i] != ',')
            goto bad;
        i++;
    }
    while (i < n && array_blank(p[i]))
        i++;
    if (!closed || i != n)
        goto bad;
    buf_putc(out, ']');
    return true;
bad:
    out->len = start;
    return false;
}

/* ---- fields ---- */

static const char *take(PgIn *in, size_t n)
{
    if (in->bad || in->left < n) {
        in->bad = true;
        return NULL;
    }
    const char *p = in->p;
    in->p += n;
    in->left -= n;
    return p;
}

uint8_t pgwire_get_u8(PgIn *in)
{
    const char *p = take(in, 1);
    return p ? (uint8_t)p[0] : 0;
}

int16_t pgwire_get_i16(PgIn *in)
{
    const char *p = take(in, 2);
    return p ? (int16_t)((uint16_t)(unsigned char)p[0] << 8 | (unsigned char)p[1]) : 0;
}

int32_t pgwire_get_i32(PgIn *in)
{
    const char *p = take(in, 4);
    return p ? (int32_t)rd32(p) : 0;
}

const char *pgwire_get_str(PgIn *in)
{
    const char *nul = in->bad ? NULL : memchr(in->p, '\0', in->left);
    if (!nul) {
        in->bad = true;
        return "";
    }
    return take(in, (size_t)(nul - in->p) + 1);
}

const char *pgwire_get_bytes(PgIn *in, size_t n)
{
    return take(in, n);
}

/* ---- writing ---- */

size_t pgwire_begin(Buf *out, char type)
{
    size_t start = out->len;
    char *w = buf_reserve(out, 5);
    w[0] = type;
    out->len += 5;
    return start;
}

static void put32_at(char *w, uint32_t v)
{
    w[0] = (char)(v >> 24);
    w[1] = (char)(v >> 16);
    w[2] = (char)(v >> 8);
    w[3] = (char)v;
}

void pgwire_end(Buf *out, size_t start)
{
    put32_at(out->data + start + 1, (uint32_t)(out->len - start - 1));
}

void pgwire_put_i16(Buf *out, int16_t v)
{
    buf_putc(out, (char)((uint16_t)v >> 8));
    buf_putc(out, (char)v);
}

void pgwire_put_i32(Buf *out, int32_t v)
{
    char *w = buf_reserve(out, 4);
    put32_at(w, (uint32_t)v);
    out->len += 4;
}

void pgwire_put_str(Buf *out, const char *s)
{
    buf_append(out, s, strlen(s) + 1);
}

void pgwire_auth(Buf *out, int32_t code, const char *data, size_t len)
{
    size_t m = pgwire_begin(out, 'R');
    pgwire_put_i32(out, code);
    buf_append(out, data, len);
    pgwire_end(out, m);
}

void pgwire_parameter_status(Buf *out, const char *name, const char *value)
{
    size_t m = pgwire_begin(out, 'S');
    pgwire_put_str(out, name);
    pgwire_put_str(out, value);
    pgwire_end(out, m);
}

void pgwire_ready(Buf *out, char status)
{
    size_t m = pgwire_begin(out, 'Z');
    buf_putc(out, status);
    pgwire_end(out, m);
}

void pgwire_command_complete(Buf *out, const char *tag)
{
    size_t m = pgwire_begin(out, 'C');
    pgwire_put_str(out, tag);
    pgwire_end(out, m);
}

void pgwire_text_row_description(Buf *out, const char *const *names, int n)
{
    size_t m = pgwire_begin(out, 'T');
    pgwire_put_i16(out, (int16_t)n);
    for (int i = 0; i < n; i++) {
        pgwire_put_str(out, names[i]);
        pgwire_put_i32(out, 0);
        pgwire_put_i16(out, 0);
        pgwire_put_i32(out, 25);
        pgwire_put_i16(out, -1);
        pgwire_put_i32(out, -1);
        pgwire_put_i16(out, 0);
    }
    pgwire_end(out, m);
}

void pgwire_empty(Buf *out, char type)
{
    pgwire_end(out, pgwire_begin(out, type));
}

static void error_or_notice(Buf *out, char type, const char *severity, const char *sqlstate,
                            const char *message, size_t len)
{
    size_t m = pgwire_begin(out, type);
    buf_putc(out, 'S');
    pgwire_put_str(out, severity);
    buf_putc(out, 'V');
    pgwire_put_str(out, severity);
    buf_putc(out, 'C');
    pgwire_put_str(out, sqlstate);
    buf_putc(out, 'M');
    const char *nul = memchr(message, '\0', len);
    buf_append(out, message, nul ? (size_t)(nul - message) : len);
    buf_putc(out, '\0');
    buf_putc(out, '\0');
    pgwire_end(out, m);
}

void pgwire_error(Buf *out, const char *severity, const char *sqlstate, const char *message,
                  size_t len)
{
    error_or_notice(out, 'E', severity, sqlstate, message, len);
}

void pgwire_errorf(Buf *out, const char *sqlstate, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pgwire_error(out, "ERROR", sqlstate, msg, strlen(msg));
}

void pgwire_notice(Buf *out, const char *severity, const char *sqlstate, const char *message)
{
    error_or_notice(out, 'N', severity, sqlstate, message, strlen(message));
}

/* True when `line` (of `len` bytes) contains `needle`. */
static bool has(const char *line, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(line + i, needle, n) == 0)
            return true;
    return false;
}

static bool starts(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(line, prefix, n) == 0;
}

const char *pgwire_sqlstate(const char *line, size_t len)
{
    if (starts(line, len, "Error: "))
        line += 7, len -= 7;
    /* Ours (reply.h) first, then DuckDB's error classes. */
    static const struct {
        const char *prefix, *state;
    } table[] = {
        {"Access Denied", "42501"},
        {"Unauthorized", "42501"},
        {"Canceled", "57014"},
        {"Statement Timeout", "57014"},
        {"Too Many Statements", "53300"},
        {"Too Many Connections", "53300"},
        {"Too Many Failed Logins", "28000"},
        {"Statement Memory Limit", "53200"},
        {"Server Memory Limit", "53200"},
        {"Server Busy", "53000"},
        {"Request Too Large", "54000"},
        {"Transaction Aborted", "40000"},
        {"Server Shutting Down", "57P01"},
        {"Idle Timeout", "57P05"},
        {"Idle In Transaction Timeout", "25P03"},
        {"Login Timeout", "08006"},
        {"Bad Request", "08P01"},
        {"Internal Error", "XX000"},
        {"INTERNAL Error", "XX000"},
        {"FATAL Error", "XX000"},
        {"INTERRUPT Error", "57014"},
        {"Parser Error", "42601"},
        {"Syntax Error", "42601"},
        {"Constraint Error", "23000"},
        {"Conversion Error", "22P02"},
        {"Invalid Input Error", "22P02"},
        {"Out of Range Error", "22003"},
        {"Divide by Zero Error", "22012"},
        {"TransactionContext Error", "40001"},
        {"Not implemented Error", "0A000"},
        {"Permission Error", "42501"},
        {"Binder Error", "42703"},
        {"Catalog Error", "42P01"},
        {"Dependency Error", "2BP01"},
        {"Sequence Error", "2200H"},
        {"Invalid Error", "XX000"},
        {"Out of Memory Error", "53200"},
        {"IO Error", "58030"},
        {"Invalid type Error", "42804"},
        {"Mismatch Type Error", "42804"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (!starts(line, len, table[i].prefix))
            continue;
        const char *state = table[i].state;
        /* DuckDB 1.5.6 writes "duplicate key" (older versions "Duplicate key"). */
        if (strcmp(state, "23000") == 0 &&
            (has(line, len, "Duplicate key") || has(line, len, "duplicate key")))
            return "23505";
        if (strcmp(state, "23000") == 0 && has(line, len, "NOT NULL"))
            return "23502";
        if (strcmp(state, "42P01") == 0 && has(line, len, "Function with name"))
            return "42883";
        if (strcmp(state, "42P01") == 0 && has(line, len, "already exists"))
            return "42P07";
        if (strcmp(state, "42P01") == 0 && has(line, len, "Schema with name"))
            return "3F000";
        if (strcmp(state, "42703") == 0 && has(line, len, "No function matches"))
            return "42883";
        return state;
    }
    if (has(line, len, "Does Not Exist"))
        return starts(line, len, "Database") ? "3D000" : "42704";
    if (has(line, len, "Already Exists"))
        return "42710";
    if (has(line, len, "Conflict on"))
        return "40001";
    return "XX000";
}

void pgwire_error_line(Buf *out, const char *severity, const char *line, size_t len)
{
    const char *state = pgwire_sqlstate(line, len);
    if (starts(line, len, "Error: "))
        line += 7, len -= 7;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    /* The line protocol wrote DuckDB's line ends as \n (reply_engine_error); a
     * PostgreSQL message may hold them, and psql shows DuckDB's caret under the error. */
    Buf msg = BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '\\' && i + 1 < len && (line[i + 1] == 'n' || line[i + 1] == 'r')) {
            buf_putc(&msg, line[i + 1] == 'n' ? '\n' : '\r');
            i++;
        } else {
            buf_putc(&msg, line[i]);
        }
    }
    pgwire_error(out, severity, state, msg.data ? msg.data : "", msg.len);
    buf_free(&msg);
}

/* ---- types ---- */

/* The array type of element type `oid`, or 0. */
static uint32_t array_oid(uint32_t oid)
{
    static const uint32_t pairs[][2] = {
        {16, 1000},   {17, 1001},   {20, 1016},   {21, 1005},   {23, 1007},   {25, 1009},
        {114, 199},   {700, 1021},  {701, 1022},  {1082, 1182}, {1083, 1183}, {1114, 1115},
        {1184, 1185}, {1186, 1187}, {1700, 1231}, {2950, 2951},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        if (pairs[i][0] == oid)
            return pairs[i][1];
    return 0;
}

PgType pgwire_type(duckdb_logical_type t)
{
    PgType r = {25, -1, -1};
    duckdb_type id = duckdb_get_type_id(t);
    char *alias = duckdb_logical_type_get_alias(t);
    bool json = alias && strcasecmp(alias, "JSON") == 0;
    duckdb_free(alias);
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
        return (PgType){16, 1, -1};
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_UTINYINT:
        return (PgType){21, 2, -1};
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_USMALLINT:
        return (PgType){23, 4, -1};
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UINTEGER:
        return (PgType){20, 8, -1};
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
        return (PgType){1700, -1, -1};
    case DUCKDB_TYPE_DECIMAL:
        return (PgType){1700, -1,
                        ((int32_t)duckdb_decimal_width(t) << 16 | duckdb_decimal_scale(t)) + 4};
    case DUCKDB_TYPE_FLOAT:
        return (PgType){700, 4, -1};
    case DUCKDB_TYPE_DOUBLE:
        return (PgType){701, 8, -1};
    case DUCKDB_TYPE_VARCHAR:
        return json ? (PgType){114, -1, -1} : r;
    case DUCKDB_TYPE_ENUM:
        return r;
    case DUCKDB_TYPE_BLOB:
        return (PgType){17, -1, -1};
    case DUCKDB_TYPE_DATE:
        return (PgType){1082, 4, -1};
    case DUCKDB_TYPE_TIME:
        return (PgType){1083, 8, -1};
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return (PgType){1114, 8, -1};
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return (PgType){1184, 8, -1};
    case DUCKDB_TYPE_INTERVAL:
        return (PgType){1186, 16, -1};
    case DUCKDB_TYPE_UUID:
        return (PgType){2950, 16, -1};
    case DUCKDB_TYPE_SQLNULL:
        return r;
    case DUCKDB_TYPE_LIST: {
        duckdb_logical_type c = duckdb_list_type_child_type(t);
        duckdb_type cid = duckdb_get_type_id(c);
        PgType e = cid == DUCKDB_TYPE_LIST || cid == DUCKDB_TYPE_ARRAY ? (PgType){0, -1, -1}
                                                                       : pgwire_type(c);
        duckdb_destroy_logical_type(&c);
        return (PgType){e.oid ? array_oid(e.oid) : 0, -1, -1};
    }
    default:
        return (PgType){0, -1, -1};
    }
}

/* True when the binary format of `oid` is written here. */
static bool binary_supported(uint32_t oid)
{
    switch (oid) {
    case 16:
    case 17:
    case 20:
    case 21:
    case 23:
    case 25:
    case 114:
    case 700:
    case 701:
    case 1082:
    case 1083:
    case 1114:
    case 1184:
    case 1186:
    case 1700:
    case 2950:
        return true;
    default:
        return false;
    }
}

void pgwire_column_float_digits(PgColumn *col, int extra_float_digits)
{
    for (; col; col = col->child) {
        col->float_rounded = extra_float_digits <= 0;
        col->float_extra = (int8_t)(extra_float_digits < -15 ? -15 : extra_float_digits);
    }
}

int pgwire_column_init(PgColumn *col, duckdb_logical_type t, bool binary)
{
    memset(col, 0, sizeof(*col));
    col->id = duckdb_get_type_id(t);
    col->pg = pgwire_type(t);
    col->binary = binary;
    if (col->pg.oid == 0 || (binary && !binary_supported(col->pg.oid)))
        return -1;
    if (col->id == DUCKDB_TYPE_LIST) {
        duckdb_logical_type c = duckdb_list_type_child_type(t);
        col->child = calloc(1, sizeof(*col->child));
        int rc = col->child ? pgwire_column_init(col->child, c, false) : -1;
        duckdb_destroy_logical_type(&c);
        if (rc != 0) {
            pgwire_column_free(col);
            return -1;
        }
    } else if (col->id == DUCKDB_TYPE_DECIMAL) {
        col->internal = duckdb_decimal_internal_type(t);
        col->scale = duckdb_decimal_scale(t);
    } else if (col->id == DUCKDB_TYPE_ENUM) {
        col->internal = duckdb_enum_internal_type(t);
        /* Kept for the dictionary: a copy, since `t` is borrowed. */
        idx_t n = duckdb_enum_dictionary_size(t);
        const char **names = n ? calloc(n, sizeof(*names)) : NULL;
        char **owned = n ? calloc(n, sizeof(*owned)) : NULL;
        for (idx_t i = 0; i < n; i++)
            names[i] = owned[i] = duckdb_enum_dictionary_value(t, i);
        col->logical = duckdb_create_enum_type(names, n);
        for (idx_t i = 0; i < n; i++)
            duckdb_free(owned[i]);
        free(owned);
        free(names);
    }
    return 0;
}

void pgwire_column_free(PgColumn *col)
{
    if (col->logical)
        duckdb_destroy_logical_type(&col->logical);
    if (col->child) {
        pgwire_column_free(col->child);
        free(col->child);
        col->child = NULL;
    }
}

/* ---- values ---- */

/* Appends a value's length and reserves room for its bytes; returns the length's place. */
static size_t value_begin(Buf *out)
{
    size_t at = out->len;
    pgwire_put_i32(out, 0);
    return at;
}

static void value_end(Buf *out, size_t at)
{
    put32_at(out->data + at, (uint32_t)(out->len - at - 4));
}

static void put_text(Buf *out, const char *s, size_t n)
{
    pgwire_put_i32(out, (int32_t)n);
    buf_append(out, s, n);
}

static void put_u128(Buf *out, unsigned __int128 v, bool negative)
{
    char tmp[48];
    char *w = tmp;
    if (negative)
        *w++ = '-';
    w = decfmt_u128(w, v);
    buf_append(out, tmp, (size_t)(w - tmp));
}

static void put_i128(Buf *out, __int128 v)
{
    char tmp[48];
    buf_append(out, tmp, (size_t)(decfmt_i128(tmp, v) - tmp));
}

/* A decimal's unscaled value with `scale` digits after the point. */
static void put_decimal(Buf *out, __int128 v, unsigned scale)
{
    char tmp[64];
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    int i = sizeof(tmp);
    unsigned digits = 0;
    do {
        tmp[--i] = (char)('0' + (int)(u % 10));
        u /= 10;
        digits++;
        if (digits == scale)
            tmp[--i] = '.';
    } while (u > 0 || digits < scale);
    if (tmp[i] == '.')
        tmp[--i] = '0';
    if (neg)
        tmp[--i] = '-';
    buf_append(out, tmp + i, sizeof(tmp) - (size_t)i);
}

/* PostgreSQL's float output: with extra_float_digits >= 1 the shortest text that reads
 * back, else rounded to DBL_DIG (FLT_DIG) + extra_float_digits significant digits. */
static void put_double(Buf *out, double d, bool single, const PgColumn *col)
{
    char tmp[40];
    if (isnan(d)) {
        buf_append_str(out, "NaN");
        return;
    }
    if (isinf(d)) {
        buf_append_str(out, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    int n = 0;
    if (col->float_rounded) {
        int prec = (single ? 6 : 15) + col->float_extra;
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec < 1 ? 1 : prec, d);
        buf_append(out, tmp, (size_t)n);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (single ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
            break;
    }
    buf_append(out, tmp, (size_t)n);
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_date_part(Buf *out, int64_t days, bool *bc)
{
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    *bc = y <= 0;
    buf_printf(out, "%04lld-%02u-%02u", (long long)(y <= 0 ? 1 - y : y), m, d);
}

static void put_time_part(Buf *out, int64_t micros)
{
    int64_t s = micros / 1000000, us = micros % 1000000;
    buf_printf(out, "%02lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
               (long long)(s % 60));
    if (us) {
        char frac[8];
        snprintf(frac, sizeof(frac), ".%06lld", (long long)us);
        size_t n = strlen(frac);
        while (frac[n - 1] == '0')
            n--;
        buf_append(out, frac, n);
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void put_timestamp(Buf *out, int64_t micros, bool tz)
{
    if (micros == INT64_MAX || micros == -INT64_MAX) {
        buf_append_str(out, micros > 0 ? "infinity" : "-infinity");
        return;
    }
    int64_t days = floor_div(micros, 86400000000LL);
    bool bc = false;
    put_date_part(out, days, &bc);
    buf_putc(out, ' ');
    put_time_part(out, micros - days * 86400000000LL);
    if (tz)
        buf_append_str(out, "+00");
    if (bc)
        buf_append_str(out, " BC");
}

static void put_interval(Buf *out, duckdb_interval iv)
{
    size_t start = out->len;
    int32_t years = iv.months / 12, months = iv.months % 12;
    if (years)
        buf_printf(out, "%d year%s ", years, years == 1 ? "" : "s");
    if (months)
        buf_printf(out, "%d mon%s ", months, months == 1 ? "" : "s");
    if (iv.days)
        buf_printf(out, "%d day%s ", iv.days, iv.days == 1 ? "" : "s");
    if (iv.micros || out->len == start) {
        int64_t us = iv.micros;
        if (us < 0) {
            buf_putc(out, '-');
            us = -us;
        }
        put_time_part(out, us);
    } else {
        out->len--; /* the last space */
    }
}

static void put_uuid(Buf *out, duckdb_hugeint h)
{
    uint64_t hi = (uint64_t)h.upper ^ (1ULL << 63), lo = h.lower;
    buf_printf(out, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
               (unsigned long long)(hi >> 16 & 0xffff), (unsigned long long)(hi & 0xffff),
               (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffULL));
}

static __int128 hugeint(duckdb_hugeint h)
{
    return (__int128)((unsigned __int128)(uint64_t)h.upper << 64 | h.lower);
}

/* Microseconds of a timestamp of any unit. */
static int64_t timestamp_micros(duckdb_type id, int64_t v)
{
    if (v == INT64_MAX || v == -INT64_MAX)
        return v;
    if (id == DUCKDB_TYPE_TIMESTAMP_S)
        return v * 1000000;
    if (id == DUCKDB_TYPE_TIMESTAMP_MS)
        return v * 1000;
    if (id == DUCKDB_TYPE_TIMESTAMP_NS)
        return floor_div(v, 1000);
    return v;
}

static void put_be64(Buf *out, uint64_t v)
{
    pgwire_put_i32(out, (int32_t)(uint32_t)(v >> 32));
    pgwire_put_i32(out, (int32_t)(uint32_t)v);
}

/*
 * numeric's binary send format (PostgreSQL's numeric_send): int16 ndigits,
 * int16 weight, int16 sign (0 or 0x4000), int16 dscale, then ndigits
 * base-10000 digits, most significant first; the value is the sum of
 * digit[i] * 10000^(weight - i). Leading and trailing zero digits are not
 * sent (zero has none, weight 0); dscale is the number of decimal digits
 * after the point, the DECIMAL's scale.
 */
static void put_numeric_binary(Buf *out, unsigned __int128 u, bool negative, unsigned scale)
{
    /* The decimal digits of u, at least scale + 1 of them. */
    char dec[64];
    int n = 0;
    char rev[64];
    do {
        rev[n++] = (char)(u % 10);
        u /= 10;
    } while (u > 0);
    while (n < (int)scale + 1)
        rev[n++] = 0;
    for (int i = 0; i < n; i++)
        dec[i] = rev[n - 1 - i];
    int int_len = n - (int)scale;
    /* Groups of 4 decimal digits aligned on the point: the integer part is padded on its
     * left, the fraction on its right. */
    int lead = (4 - int_len % 4) % 4;
    int int_groups = (int_len + lead) / 4;
    int frac_groups = ((int)scale + 3) / 4;
    int16_t digits[20];
    int nd = int_groups + frac_groups;
    for (int g = 0; g < nd; g++) {
        int v = 0;
        for (int k = 0; k < 4; k++) {
            int pos = g * 4 + k - lead; /* index into dec; beyond n: fraction padding */
            v = v * 10 + (pos >= 0 && pos < n ? dec[pos] : 0);
        }
        digits[g] = (int16_t)v;
    }
    int first = 0, last = nd;
    int weight = int_groups - 1;
    while (first < last && digits[first] == 0) {
        first++;
        weight--;
    }
    while (last > first && digits[last - 1] == 0)
        last--;
    if (first == last) {
        weight = 0;
        negative = false;
    }
    pgwire_put_i32(out, 8 + 2 * (last - first));
    pgwire_put_i16(out, (int16_t)(last - first));
    pgwire_put_i16(out, (int16_t)weight);
    pgwire_put_i16(out, negative ? 0x4000 : 0);
    pgwire_put_i16(out, (int16_t)scale);
    for (int g = first; g < last; g++)
        pgwire_put_i16(out, digits[g]);
}

/* The binary send format of the types binary_supported() names. */
static void put_binary(Buf *out, const PgColumn *col, void *data, idx_t row)
{
    switch (col->id) {
    case DUCKDB_TYPE_BOOLEAN:
        pgwire_put_i32(out, 1);
        buf_putc(out, ((bool *)data)[row] ? 1 : 0);
        return;
    case DUCKDB_TYPE_TINYINT:
        pgwire_put_i32(out, 2);
        pgwire_put_i16(out, ((int8_t *)data)[row]);
        return;
    case DUCKDB_TYPE_UTINYINT:
        pgwire_put_i32(out, 2);
        pgwire_put_i16(out, ((uint8_t *)data)[row]);
        return;
    case DUCKDB_TYPE_SMALLINT:
        pgwire_put_i32(out, 2);
        pgwire_put_i16(out, ((int16_t *)data)[row]);
        return;
    case DUCKDB_TYPE_USMALLINT:
        pgwire_put_i32(out, 4);
        pgwire_put_i32(out, ((uint16_t *)data)[row]);
        return;
    case DUCKDB_TYPE_INTEGER:
        pgwire_put_i32(out, 4);
        pgwire_put_i32(out, ((int32_t *)data)[row]);
        return;
    case DUCKDB_TYPE_UINTEGER:
        pgwire_put_i32(out, 8);
        put_be64(out, ((uint32_t *)data)[row]);
        return;
    case DUCKDB_TYPE_BIGINT:
        pgwire_put_i32(out, 8);
        put_be64(out, (uint64_t)((int64_t *)data)[row]);
        return;
    case DUCKDB_TYPE_FLOAT: {
        float f = ((float *)data)[row];
        uint32_t u;
        memcpy(&u, &f, 4);
        pgwire_put_i32(out, 4);
        pgwire_put_i32(out, (int32_t)u);
        return;
    }
    case DUCKDB_TYPE_DOUBLE: {
        double d = ((double *)data)[row];
        uint64_t u;
        memcpy(&u, &d, 8);
        pgwire_put_i32(out, 8);
        put_be64(out, u);
        return;
    }
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: {
        duckdb_string_t *s = &((duckdb_string_t *)data)[row];
        put_text(out, duckdb_string_t_data(s), duckdb_string_t_length(*s));
        return;
    }
    case DUCKDB_TYPE_DATE: {
        /* Days since 2000-01-01. */
        int32_t d = ((duckdb_date *)data)[row].days;
        pgwire_put_i32(out, 4);
        pgwire_put_i32(out, d == INT32_MAX || d == -INT32_MAX ? d : d - 10957);
        return;
    }
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: {
        int64_t us = timestamp_micros(col->id, ((int64_t *)data)[row]);
        if (us != INT64_MAX && us != -INT64_MAX)
            us -= 946684800000000LL;
        else
            us = us > 0 ? INT64_MAX : INT64_MIN;
        pgwire_put_i32(out, 8);
        put_be64(out, (uint64_t)us);
        return;
    }
    case DUCKDB_TYPE_UBIGINT:
        put_numeric_binary(out, ((uint64_t *)data)[row], false, 0);
        return;
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_DECIMAL: {
        __int128 v;
        if (col->id == DUCKDB_TYPE_HUGEINT || col->internal == DUCKDB_TYPE_HUGEINT)
            v = hugeint(((duckdb_hugeint *)data)[row]);
        else if (col->internal == DUCKDB_TYPE_SMALLINT)
            v = ((int16_t *)data)[row];
        else if (col->internal == DUCKDB_TYPE_INTEGER)
            v = ((int32_t *)data)[row];
        else
            v = ((int64_t *)data)[row];
        unsigned __int128 u =
            v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
        put_numeric_binary(out, u, v < 0, col->id == DUCKDB_TYPE_DECIMAL ? col->scale : 0);
        return;
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((duckdb_uhugeint *)data)[row];
        put_numeric_binary(out, (unsigned __int128)h.upper << 64 | h.lower, false, 0);
        return;
    }
    case DUCKDB_TYPE_TIME:
        /* Microseconds since midnight. */
        pgwire_put_i32(out, 8);
        put_be64(out, (uint64_t)((duckdb_time *)data)[row].micros);
        return;
    case DUCKDB_TYPE_INTERVAL: {
        /* Microseconds, then days, then months, as PostgreSQL's interval_send. */
        duckdb_interval iv = ((duckdb_interval *)data)[row];
        pgwire_put_i32(out, 16);
        put_be64(out, (uint64_t)iv.micros);
        pgwire_put_i32(out, iv.days);
        pgwire_put_i32(out, iv.months);
        return;
    }
    case DUCKDB_TYPE_UUID: {
        duckdb_hugeint h = ((duckdb_hugeint *)data)[row];
        pgwire_put_i32(out, 16);
        put_be64(out, (uint64_t)h.upper ^ (1ULL << 63));
        put_be64(out, h.lower);
        return;
    }
    default:
        pgwire_put_i32(out, -1); /* refused by pgwire_column_init() */
        return;
    }
}

static void text_value(Buf *out, const PgColumn *col, duckdb_vector v, idx_t row);

/* An array element needs quotes when it is empty, NULL's spelling, or holds a special byte. */
static bool needs_quotes(const char *p, size_t n)
{
    if (n == 0 || (n == 4 && strncasecmp(p, "null", 4) == 0))
        return true;
    for (size_t i = 0; i < n; i++)
        if (strchr("{},\"\\ \t\n\r\v\f", p[i]) && p[i] != '\0')
            return true;
    return false;
}

/* A LIST as PostgreSQL's array text: {1,2,NULL}, {"a b","x\"y"}. */
static void text_array(Buf *out, const PgColumn *col, duckdb_vector v, idx_t row)
{
    const duckdb_list_entry *e = &((duckdb_list_entry *)duckdb_vector_get_data(v))[row];
    duckdb_vector child = duckdb_list_vector_get_child(v);
    uint64_t *valid = duckdb_vector_get_validity(child);
    Buf elem = BUF_INIT;
    buf_putc(out, '{');
    for (uint64_t i = 0; i < e->length; i++) {
        idx_t k = e->offset + i;
        if (i)
            buf_putc(out, ',');
        if (!duckdb_validity_row_is_valid(valid, k)) {
            buf_append_str(out, "NULL");
            continue;
        }
        elem.len = 0;
        text_value(&elem, col->child, child, k);
        if (!needs_quotes(elem.data ? elem.data : "", elem.len)) {
            buf_append(out, elem.data, elem.len);
            continue;
        }
        buf_putc(out, '"');
        for (size_t j = 0; j < elem.len; j++) {
            if (elem.data[j] == '"' || elem.data[j] == '\\')
                buf_putc(out, '\\');
            buf_putc(out, elem.data[j]);
        }
        buf_putc(out, '"');
    }
    buf_putc(out, '}');
    buf_free(&elem);
}

void pgwire_put_value(Buf *out, const PgColumn *col, duckdb_vector v, idx_t row)
{
    if (col->binary) {
        put_binary(out, col, duckdb_vector_get_data(v), row);
        return;
    }
    size_t at = value_begin(out);
    text_value(out, col, v, row);
    value_end(out, at);
}

/* The value's text, without its length. */
static void text_value(Buf *out, const PgColumn *col, duckdb_vector v, idx_t row)
{
    void *data = duckdb_vector_get_data(v);
    switch (col->id) {
    case DUCKDB_TYPE_BOOLEAN:
        buf_putc(out, ((bool *)data)[row] ? 't' : 'f');
        break;
    case DUCKDB_TYPE_VARCHAR: {
        duckdb_string_t *s = &((duckdb_string_t *)data)[row];
        buf_append(out, duckdb_string_t_data(s), duckdb_string_t_length(*s));
        break;
    }
    case DUCKDB_TYPE_LIST:
        text_array(out, col, v, row);
        break;
    case DUCKDB_TYPE_TINYINT:
        put_i128(out, ((int8_t *)data)[row]);
        break;
    case DUCKDB_TYPE_SMALLINT:
        put_i128(out, ((int16_t *)data)[row]);
        break;
    case DUCKDB_TYPE_INTEGER:
        put_i128(out, ((int32_t *)data)[row]);
        break;
    case DUCKDB_TYPE_BIGINT:
        put_i128(out, ((int64_t *)data)[row]);
        break;
    case DUCKDB_TYPE_UTINYINT:
        put_i128(out, ((uint8_t *)data)[row]);
        break;
    case DUCKDB_TYPE_USMALLINT:
        put_i128(out, ((uint16_t *)data)[row]);
        break;
    case DUCKDB_TYPE_UINTEGER:
        put_i128(out, ((uint32_t *)data)[row]);
        break;
    case DUCKDB_TYPE_UBIGINT:
        put_i128(out, ((uint64_t *)data)[row]);
        break;
    case DUCKDB_TYPE_HUGEINT:
        put_i128(out, hugeint(((duckdb_hugeint *)data)[row]));
        break;
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint h = ((duckdb_uhugeint *)data)[row];
        put_u128(out, (unsigned __int128)h.upper << 64 | h.lower, false);
        break;
    }
    case DUCKDB_TYPE_FLOAT:
        put_double(out, ((float *)data)[row], true, col);
        break;
    case DUCKDB_TYPE_DOUBLE:
        put_double(out, ((double *)data)[row], false, col);
        break;
    case DUCKDB_TYPE_DECIMAL: {
        __int128 u = 0;
        if (col->internal == DUCKDB_TYPE_SMALLINT)
            u = ((int16_t *)data)[row];
        else if (col->internal == DUCKDB_TYPE_INTEGER)
            u = ((int32_t *)data)[row];
        else if (col->internal == DUCKDB_TYPE_BIGINT)
            u = ((int64_t *)data)[row];
        else
            u = hugeint(((duckdb_hugeint *)data)[row]);
        put_decimal(out, u, col->scale);
        break;
    }
    case DUCKDB_TYPE_BLOB: {
        static const char hex[] = "0123456789abcdef";
        duckdb_string_t *s = &((duckdb_string_t *)data)[row];
        const unsigned char *p = (const unsigned char *)duckdb_string_t_data(s);
        uint32_t n = duckdb_string_t_length(*s);
        buf_append(out, "\\x", 2);
        char *w = buf_reserve(out, 2 * (size_t)n);
        for (uint32_t i = 0; i < n; i++) {
            w[2 * i] = hex[p[i] >> 4];
            w[2 * i + 1] = hex[p[i] & 15];
        }
        out->len += 2 * (size_t)n;
        break;
    }
    case DUCKDB_TYPE_DATE: {
        int32_t d = ((duckdb_date *)data)[row].days;
        if (d == INT32_MAX || d == -INT32_MAX) {
            buf_append_str(out, d > 0 ? "infinity" : "-infinity");
            break;
        }
        bool bc = false;
        put_date_part(out, d, &bc);
        if (bc)
            buf_append_str(out, " BC");
        break;
    }
    case DUCKDB_TYPE_TIME:
        put_time_part(out, ((duckdb_time *)data)[row].micros);
        break;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
        put_timestamp(out, timestamp_micros(col->id, ((int64_t *)data)[row]), false);
        break;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        put_timestamp(out, ((int64_t *)data)[row], true);
        break;
    case DUCKDB_TYPE_INTERVAL:
        put_interval(out, ((duckdb_interval *)data)[row]);
        break;
    case DUCKDB_TYPE_UUID:
        put_uuid(out, ((duckdb_hugeint *)data)[row]);
        break;
    case DUCKDB_TYPE_ENUM: {
        idx_t k = col->internal == DUCKDB_TYPE_UTINYINT    ? ((uint8_t *)data)[row]
                  : col->internal == DUCKDB_TYPE_USMALLINT ? ((uint16_t *)data)[row]
                                                           : ((uint32_t *)data)[row];
        char *name = duckdb_enum_dictionary_value(col->logical, k);
        if (name)
            buf_append_str(out, name);
        duckdb_free(name);
        break;
    }
    default:
        break; /* refused by pgwire_column_init() */
    }
}
