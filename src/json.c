/*
 * json: DuckDB result chunks to JSON row objects. See json.h for the contract
 * and docs/protocol.md for the encoding of every type.
 *
 * json_rows_new() turns each column's logical type into an encoder: a small
 * tree of Enc nodes that mirrors the type (a LIST node has one child, a
 * STRUCT node one per field, ...). Each node holds its formatting function,
 * the type parameters it needs (decimal scale, enum dictionary already
 * encoded as JSON strings, struct keys already escaped as `,"name":`), and,
 * once per chunk, the data and validity pointers of its vector, set by
 * bind(). The top level is itself a STRUCT node whose fields are the
 * columns, so encoding a row is the same code as encoding a struct value.
 *
 * Encoding a value never allocates: scalars are written straight into the
 * output Buf after one buf_reserve() of their maximum width, with our own
 * integer, floating point, date and time formatting (snprintf only for
 * doubles of extreme magnitude). The only scratch memory (MAP keys,
 * BIGNUM digits) lives in the node and is reused.
 *
 * Types this module does not know (ids added by a newer DuckDB than the
 * header we compile against, such as GEOMETRY and VARIANT in 1.5) are not
 * silently turned into null: every value of such a column is the JSON
 * string "<unsupported type NAME>", so the client sees the gap.
 *
 * A JsonRows is used by the one query worker thread that streams its
 * result; nothing here is shared between threads.
 *
 * Size (about 1,500 lines): one file on purpose. There is one encoder per
 * DuckDB type, all working on the private Enc tree, its bind() and the
 * writer's raw output pointer; splitting the types across files would
 * publish Enc and spread one table of formats (docs/protocol.md) over
 * several. The formatting of numbers, dates and times is written for
 * exactly that use (into reserved room, never allocating); moving it out is
 * the natural cut the day a second user appears (the PostgreSQL front end's
 * text output), and is left for then.
 */
#include "json.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decfmt.h"
#include "log.h"
#include "xalloc.h"

/* HUGEINT, UHUGEINT and wide DECIMALs are formatted with the 128-bit
 * integers of GCC and Clang. */
typedef __int128 i128;
typedef unsigned __int128 u128;

typedef struct Enc Enc;

/* Writes the non-NULL value at `row` of the node's bound vector. */
typedef void (*EncodeFn)(Enc *e, idx_t row, Buf *out);

struct Enc {
    EncodeFn encode;
    duckdb_type type;
    /* Bound once per chunk by bind(); validity NULL means all valid. */
    void *data;
    const uint64_t *validity;
    const uint8_t *tags; /* UNION: the member index of each row */
    /* Type parameters, fixed by enc_init(). */
    uint8_t scale;    /* DECIMAL */
    idx_t array_size; /* ARRAY */
    idx_t dict_size;  /* ENUM */
    Enc *children;    /* LIST, ARRAY: element; MAP: key, value; STRUCT, UNION: members */
    idx_t nchildren;
    char *text;       /* STRUCT keys, ENUM strings, or the unsupported-type string */
    size_t *text_off; /* entry k is text[text_off[k] .. text_off[k + 1]) */
    Buf scratch;      /* MAP: a key being encoded; BIGNUM: digit groups */
};

struct JsonRows {
    Enc root; /* a STRUCT whose fields are the columns, or the row array */
    idx_t ncols;
    bool wrote_row;
};

static inline void commit(Buf *out, char *w)
{
    out->len = (size_t)(w - out->data);
}

static inline bool row_is_valid(const uint64_t *validity, idx_t row)
{
    return !validity || (validity[row >> 6] >> (row & 63)) & 1;
}

static inline void encode_value(Enc *e, idx_t row, Buf *out)
{
    if (row_is_valid(e->validity, row))
        e->encode(e, row, out);
    else
        buf_append(out, "null", 4);
}

/* ---- Numbers ---------------------------------------------------------- */

static inline i128 hugeint_value(const duckdb_hugeint *h)
{
    return (i128)(((u128)(uint64_t)h->upper << 64) | h->lower);
}

/* Writes v / 10^scale with exactly `scale` decimals (at most 42 bytes). */
static char *put_decimal(char *w, i128 v, unsigned scale)
{
    char digits[40];
    u128 mag = v < 0 ? 0 - (u128)v : (u128)v;
    size_t n = (size_t)(decfmt_u128(digits, mag) - digits);
    if (v < 0)
        *w++ = '-';
    if (scale == 0) {
        memcpy(w, digits, n);
        return w + n;
    }
    if (n <= scale) {
        *w++ = '0';
        *w++ = '.';
        memset(w, '0', scale - n);
        w += scale - n;
        memcpy(w, digits, n);
        return w + n;
    }
    memcpy(w, digits, n - scale);
    w += n - scale;
    *w++ = '.';
    memcpy(w, digits + n - scale, scale);
    return w + scale;
}

/* Writes m / 10^k in fixed notation, trailing fraction zeros trimmed. */
static char *put_fixed(char *w, bool negative, uint64_t m, int k)
{
    while (k > 0 && m % 10 == 0) {
        m /= 10;
        k--;
    }
    char digits[20];
    int n = (int)(decfmt_u64(digits, m) - digits);
    if (negative)
        *w++ = '-';
    if (k == 0) {
        memcpy(w, digits, (size_t)n);
        return w + n;
    }
    if (n <= k) {
        *w++ = '0';
        *w++ = '.';
        memset(w, '0', (size_t)(k - n));
        w += k - n;
        memcpy(w, digits, (size_t)n);
        return w + n;
    }
    memcpy(w, digits, (size_t)(n - k));
    w += n - k;
    *w++ = '.';
    memcpy(w, digits + n - k, (size_t)k);
    return w + k;
}

/*
 * Finds the shortest decimal m / 10^k that reads back as the binary value
 * v = mant * 2^-shift, exactly, in 128-bit integers. The values that read
 * back as v are those of its rounding interval: up to half-way to each
 * neighbour (the lower one is closer when mant is a power of two), the ends
 * included only when mant is even, since parsing rounds half to even. For
 * k = 0, 1, ... the interval is scaled by 10^k until it holds an integer;
 * of those, the one nearest to v * 10^k is taken. Needs
 * 4 * mant * 10^kmax < 2^127 and shift <= 120; false if no k <= kmax works.
 */
static bool shortest_decimal(uint64_t mant, int shift, bool lower_closer, int kmax, uint64_t *out_m,
                             int *out_k)
{
    unsigned sh = (unsigned)shift + 2; /* v, and the ends, in units of 2^-(shift + 2) */
    u128 mask = ((u128)1 << sh) - 1;
    bool even = (mant & 1) == 0;
    u128 pow = 1;
    for (int k = 0; k <= kmax; k++, pow *= 10) {
        u128 x = (u128)(4 * mant) * pow;
        u128 hi = x + 2 * pow;
        u128 lo = x - (lower_closer ? 1 : 2) * pow;
        u128 lo_int = (lo >> sh) + ((lo & mask) != 0 || !even);
        u128 hi_int = (hi >> sh) - ((hi & mask) == 0 && !even);
        if (lo_int <= hi_int) {
            u128 m = (x + ((u128)1 << (sh - 1))) >> sh;
            if (m < lo_int)
                m = lo_int;
            if (m > hi_int)
                m = hi_int;
            *out_m = (uint64_t)m;
            *out_k = k;
            return true;
        }
    }
    return false;
}

/*
 * Writes the shortest decimal that reads back as d (finite; at most 32
 * bytes). Between 1e-4 and 1e15, where printf's %g would use fixed
 * notation too, shortest_decimal() computes it exactly (a double has at
 * most 17 significant digits, so k <= 21 there). Other magnitudes go
 * through %.15g/%.16g/%.17g and strtod: a normal double whose shortest form
 * has at most 15 digits prints as exactly that form with %.15g, while
 * subnormals have fewer significant bits, so their search starts at one
 * digit.
 */
static char *put_double(char *w, double d)
{
    double a = fabs(d);
    if (a == 0) {
        if (signbit(d))
            *w++ = '-';
        *w++ = '0';
        return w;
    }
    if (a >= 1e-4 && a < 1e15) {
        uint64_t bits, m;
        int k;
        memcpy(&bits, &a, sizeof(bits));
        uint64_t frac = bits & ((UINT64_C(1) << 52) - 1);
        int exp = (int)(bits >> 52);
        if (shortest_decimal(frac | UINT64_C(1) << 52, 1075 - exp, frac == 0 && exp > 1, 21, &m,
                             &k))
            return put_fixed(w, d < 0, m, k);
    }
    char tmp[32];
    for (int prec = a < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        int n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d) {
            memcpy(w, tmp, (size_t)n);
            return w + n;
        }
    }
    return w; /* not reached */
}

/* put_double() for FLOAT: the shortest text that reads back as the float
 * (at most 9 significant digits, so k <= 13 between 1e-4 and 1e6). */
static char *put_float(char *w, float f)
{
    float a = fabsf(f);
    if (a >= 1e-4f && a < 1e6f) {
        uint32_t bits;
        uint64_t m;
        int k;
        memcpy(&bits, &a, sizeof(bits));
        uint32_t frac = bits & ((UINT32_C(1) << 23) - 1);
        int exp = (int)(bits >> 23);
        if (shortest_decimal(frac | UINT32_C(1) << 23, 150 - exp, frac == 0 && exp > 1, 13, &m, &k))
            return put_fixed(w, f < 0, m, k);
    }
    char tmp[32];
    for (int prec = a < FLT_MIN ? 1 : 6; prec <= 9; prec++) {
        int n = snprintf(tmp, sizeof(tmp), "%.*g", prec, (double)f);
        if (prec == 9 || strtof(tmp, NULL) == f) {
            memcpy(w, tmp, (size_t)n);
            return w + n;
        }
    }
    return w; /* not reached */
}

/* ---- Dates and times -------------------------------------------------- */

static inline int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * Writes the proleptic Gregorian date `days` after 1970-01-01 as
 * YYYY-MM-DD (at most 26 bytes). The year has at least four digits and a
 * '-' when negative (astronomical numbering: year 0 is 1 BC). The
 * conversion counts 400-year eras from 0000-03-01, so that the leap day is
 * the last day of its year, following Howard Hinnant's civil_from_days.
 */
static char *put_date(char *w, int64_t days)
{
    int64_t z = days + 719468; /* days since 0000-03-01 */
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* March is 0 */
    unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    int64_t year = yoe + era * 400 + (month <= 2);

    uint64_t ayear = year < 0 ? 0 - (uint64_t)year : (uint64_t)year;
    if (year < 0)
        *w++ = '-';
    w = ayear < 10000 ? decfmt_padded(w, ayear, 4) : decfmt_u64(w, ayear);
    *w++ = '-';
    w = decfmt_2digits(w, month);
    *w++ = '-';
    return decfmt_2digits(w, day);
}

/* Writes '.' and the non-zero fraction of a second, trailing zeros trimmed. */
static char *put_fraction(char *w, uint32_t nanos)
{
    if (nanos == 0)
        return w;
    int digits = 9;
    while (nanos % 10 == 0) {
        nanos /= 10;
        digits--;
    }
    *w++ = '.';
    return decfmt_padded(w, nanos, digits);
}

/* Writes HH:MM:SS[.fraction] for a time of day (hours may reach 24). */
static char *put_time(char *w, int64_t seconds, uint32_t nanos)
{
    w = decfmt_2digits(w, (unsigned)(seconds / 3600));
    *w++ = ':';
    w = decfmt_2digits(w, (unsigned)(seconds / 60 % 60));
    *w++ = ':';
    w = decfmt_2digits(w, (unsigned)(seconds % 60));
    return put_fraction(w, nanos);
}

/*
 * Writes a timestamp of `v` units since the epoch, `per_sec` units a second
 * (1, 1000, 10^6 or 10^9), as YYYY-MM-DDTHH:MM:SS[.fraction] (at most 50
 * bytes), or the infinities DuckDB stores as +-INT64_MAX.
 */
static char *put_timestamp(char *w, int64_t v, int64_t per_sec)
{
    if (v == INT64_MAX || v == -INT64_MAX) {
        size_t n = v > 0 ? 8 : 9;
        memcpy(w, v > 0 ? "infinity" : "-infinity", n);
        return w + n;
    }
    int64_t per_day = 86400 * per_sec;
    int64_t days = floor_div(v, per_day);
    int64_t rest = v - days * per_day;
    w = put_date(w, days);
    *w++ = 'T';
    return put_time(w, rest / per_sec, (uint32_t)(rest % per_sec * (1000000000 / per_sec)));
}

/* ---- Strings ---------------------------------------------------------- */

/* Bytes copied as they are inside a JSON string: ASCII but controls, " and \. */
static inline bool is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/*
 * Returns the length of the UTF-8 sequence at p (p < end, *p >= 0x80) and
 * sets *ok if it is well formed. When it is not, the length is that of its
 * maximal ill-formed prefix (at least 1), each of which becomes one U+FFFD,
 * as the Unicode standard recommends (overlongs, surrogates, values above
 * U+10FFFF and truncated sequences are all ill-formed).
 */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end, bool *ok)
{
    unsigned char c = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        *ok = false;
        return 1;
    }
    for (size_t i = 1; i < need; i++) {
        if (p + i >= end || p[i] < lo || p[i] > hi) {
            *ok = false;
            return i;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    *ok = true;
    return need;
}

void json_append_string(Buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
    buf_putc(out, '"');
    while (p < end) {
        unsigned char c = *p;
        if (is_plain(c)) {
            p++;
            continue;
        }
        if (c >= 0x80) {
            bool ok;
            size_t len = utf8_sequence(p, end, &ok);
            if (ok) {
                p += len;
                continue;
            }
            buf_append(out, run, (size_t)(p - run));
            buf_append(out, "\xEF\xBF\xBD", 3);
            p += len;
            run = p;
            continue;
        }
        buf_append(out, run, (size_t)(p - run));
        char *w = buf_reserve(out, 6);
        *w++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *w++ = (char)c;
            break;
        case '\n':
            *w++ = 'n';
            break;
        case '\r':
            *w++ = 'r';
            break;
        case '\t':
            *w++ = 't';
            break;
        case '\b':
            *w++ = 'b';
            break;
        case '\f':
            *w++ = 'f';
            break;
        default:
            memcpy(w, "u00", 3);
            w[3] = hex[c >> 4];
            w[4] = hex[c & 15];
            w += 5;
            break;
        }
        commit(out, w);
        p++;
        run = p;
    }
    buf_append(out, run, (size_t)(p - run));
    buf_putc(out, '"');
}

/* The bytes of a VARCHAR, BLOB, BIT or BIGNUM value. */
static inline const char *string_bytes(void *data, idx_t row, uint32_t *out_len)
{
    duckdb_string_t *s = (duckdb_string_t *)data + row;
    *out_len = duckdb_string_t_length(*s);
    return duckdb_string_t_data(s);
}

/* ---- Encoders of scalar types ----------------------------------------- */

static void enc_null(Enc *e, idx_t row, Buf *out)
{
    (void)e;
    (void)row;
    buf_append(out, "null", 4);
}

static void enc_bool(Enc *e, idx_t row, Buf *out)
{
    if (((const bool *)e->data)[row])
        buf_append(out, "true", 4);
    else
        buf_append(out, "false", 5);
}

#define ENC_INT(name, ctype, put, wide)                                                            \
    static void name(Enc *e, idx_t row, Buf *out)                                                  \
    {                                                                                              \
        char *w = buf_reserve(out, 21);                                                            \
        commit(out, put(w, (wide)((const ctype *)e->data)[row]));                                  \
    }
ENC_INT(enc_i8, int8_t, decfmt_i64, int64_t)
ENC_INT(enc_i16, int16_t, decfmt_i64, int64_t)
ENC_INT(enc_i32, int32_t, decfmt_i64, int64_t)
ENC_INT(enc_i64, int64_t, decfmt_i64, int64_t)
ENC_INT(enc_u8, uint8_t, decfmt_u64, uint64_t)
ENC_INT(enc_u16, uint16_t, decfmt_u64, uint64_t)
ENC_INT(enc_u32, uint32_t, decfmt_u64, uint64_t)
ENC_INT(enc_u64, uint64_t, decfmt_u64, uint64_t)

static void enc_hugeint(Enc *e, idx_t row, Buf *out)
{
    char *w = buf_reserve(out, 41);
    commit(out, decfmt_i128(w, hugeint_value((const duckdb_hugeint *)e->data + row)));
}

static void enc_uhugeint(Enc *e, idx_t row, Buf *out)
{
    const duckdb_uhugeint *v = (const duckdb_uhugeint *)e->data + row;
    char *w = buf_reserve(out, 40);
    commit(out, decfmt_u128(w, ((u128)v->upper << 64) | v->lower));
}

#define ENC_DECIMAL(name, ctype)                                                                   \
    static void name(Enc *e, idx_t row, Buf *out)                                                  \
    {                                                                                              \
        char *w = buf_reserve(out, 44);                                                            \
        commit(out, put_decimal(w, ((const ctype *)e->data)[row], e->scale));                      \
    }
ENC_DECIMAL(enc_decimal16, int16_t)
ENC_DECIMAL(enc_decimal32, int32_t)
ENC_DECIMAL(enc_decimal64, int64_t)

static void enc_decimal128(Enc *e, idx_t row, Buf *out)
{
    char *w = buf_reserve(out, 44);
    commit(out, put_decimal(w, hugeint_value((const duckdb_hugeint *)e->data + row), e->scale));
}

/* Returns the JSON string for a non-finite value, or NULL if v is finite. */
static const char *non_finite(double v)
{
    if (isnan(v))
        return "\"NaN\"";
    if (isinf(v))
        return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return NULL;
}

static void enc_float(Enc *e, idx_t row, Buf *out)
{
    float v = ((const float *)e->data)[row];
    const char *special = non_finite(v);
    if (special) {
        buf_append_str(out, special);
        return;
    }
    char *w = buf_reserve(out, 32);
    commit(out, put_float(w, v));
}

static void enc_double(Enc *e, idx_t row, Buf *out)
{
    double v = ((const double *)e->data)[row];
    const char *special = non_finite(v);
    if (special) {
        buf_append_str(out, special);
        return;
    }
    char *w = buf_reserve(out, 32);
    commit(out, put_double(w, v));
}

static void enc_varchar(Enc *e, idx_t row, Buf *out)
{
    uint32_t len;
    const char *s = string_bytes(e->data, row, &len);
    json_append_string(out, s, len);
}

static void enc_blob(Enc *e, idx_t row, Buf *out)
{
    static const char hex[] = "0123456789abcdef";
    uint32_t len;
    const unsigned char *s = (const unsigned char *)string_bytes(e->data, row, &len);
    char *w = buf_reserve(out, 2 * (size_t)len + 5);
    memcpy(w, "\"\\\\x", 4);
    w += 4;
    for (uint32_t i = 0; i < len; i++) {
        *w++ = hex[s[i] >> 4];
        *w++ = hex[s[i] & 15];
    }
    *w++ = '"';
    commit(out, w);
}

/*
 * BIT: the first byte counts the padding bits that precede the value in the
 * following bytes (most significant bit first); they are set to 1.
 */
static void enc_bit(Enc *e, idx_t row, Buf *out)
{
    uint32_t len;
    const unsigned char *s = (const unsigned char *)string_bytes(e->data, row, &len);
    size_t total = len > 1 ? (size_t)(len - 1) * 8 : 0;
    size_t pad = len > 0 ? s[0] : 0;
    char *w = buf_reserve(out, total + 2);
    *w++ = '"';
    for (size_t i = pad; i < total; i++)
        *w++ = (char)('0' + ((s[1 + i / 8] >> (7 - i % 8)) & 1));
    *w++ = '"';
    commit(out, w);
}

/*
 * BIGNUM: a 3-byte big-endian header holding the number of data bytes with
 * the top bit set, then the magnitude big-endian; for a negative number
 * every byte (header included) is inverted. The magnitude is cut into
 * 32-bit words and divided by 10^9 repeatedly to get its decimal digits.
 */
static void enc_bignum(Enc *e, idx_t row, Buf *out)
{
    uint32_t len;
    const unsigned char *s = (const unsigned char *)string_bytes(e->data, row, &len);
    if (len < 4) {
        buf_append(out, "null", 4);
        return;
    }
    bool negative = !(s[0] & 0x80);
    unsigned char flip = negative ? 0xFF : 0;
    const unsigned char *mag = s + 3;
    size_t nbytes = len - 3;
    size_t nwords = (nbytes + 3) / 4;
    size_t ngroups = nbytes * 8 / 29 + 2; /* 10^9 > 2^29 */

    /* The scratch is empty, so the space starts at its malloc'd (aligned) base. */
    e->scratch.len = 0;
    uint32_t *words =
        (uint32_t *)(void *)buf_reserve(&e->scratch, (nwords + ngroups) * sizeof(uint32_t));
    uint32_t *groups = words + nwords;
    memset(words, 0, nwords * sizeof(uint32_t));
    for (size_t i = 0; i < nbytes; i++) {
        size_t from_end = nbytes - 1 - i; /* byte significance */
        words[nwords - 1 - from_end / 4] |= (uint32_t)(mag[i] ^ flip) << (8 * (from_end % 4));
    }
    size_t first = 0, ng = 0;
    while (first < nwords && words[first] == 0)
        first++;
    while (first < nwords) {
        uint64_t rem = 0;
        for (size_t i = first; i < nwords; i++) {
            uint64_t cur = (rem << 32) | words[i];
            words[i] = (uint32_t)(cur / 1000000000);
            rem = cur % 1000000000;
        }
        groups[ng++] = (uint32_t)rem;
        while (first < nwords && words[first] == 0)
            first++;
    }
    if (ng == 0)
        groups[ng++] = 0;
    char *w = buf_reserve(out, ng * 9 + 2);
    if (negative && !(ng == 1 && groups[0] == 0))
        *w++ = '-';
    w = decfmt_u64(w, groups[ng - 1]);
    for (size_t i = ng - 1; i-- > 0;)
        w = decfmt_padded(w, groups[i], 9);
    commit(out, w);
}

static void append_text(Buf *out, const Enc *e, idx_t k)
{
    buf_append(out, e->text + e->text_off[k], e->text_off[k + 1] - e->text_off[k]);
}

#define ENC_ENUM(name, ctype)                                                                      \
    static void name(Enc *e, idx_t row, Buf *out)                                                  \
    {                                                                                              \
        idx_t k = ((const ctype *)e->data)[row];                                                   \
        if (k < e->dict_size)                                                                      \
            append_text(out, e, k);                                                                \
        else                                                                                       \
            buf_append(out, "null", 4);                                                            \
    }
ENC_ENUM(enc_enum8, uint8_t)
ENC_ENUM(enc_enum16, uint16_t)
ENC_ENUM(enc_enum32, uint32_t)

/* UUID: a HUGEINT whose top bit is flipped so that they sort as unsigned. */
static void enc_uuid(Enc *e, idx_t row, Buf *out)
{
    static const char hex[] = "0123456789abcdef";
    const duckdb_hugeint *h = (const duckdb_hugeint *)e->data + row;
    uint64_t halves[2] = {(uint64_t)h->upper ^ (UINT64_C(1) << 63), h->lower};
    char *w = buf_reserve(out, 38);
    *w++ = '"';
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            *w++ = '-';
        *w++ = hex[(halves[i / 16] >> (60 - 4 * (i % 16))) & 15];
    }
    *w++ = '"';
    commit(out, w);
}

static void enc_date(Enc *e, idx_t row, Buf *out)
{
    int32_t days = ((const duckdb_date *)e->data)[row].days;
    if (days == INT32_MAX || days == -INT32_MAX) {
        buf_append_str(out, days > 0 ? "\"infinity\"" : "\"-infinity\"");
        return;
    }
    char *w = buf_reserve(out, 32);
    *w++ = '"';
    w = put_date(w, days);
    *w++ = '"';
    commit(out, w);
}

static void enc_time(Enc *e, idx_t row, Buf *out)
{
    int64_t us = ((const duckdb_time *)e->data)[row].micros;
    char *w = buf_reserve(out, 48);
    *w++ = '"';
    w = put_time(w, us / 1000000, (uint32_t)(us % 1000000) * 1000);
    *w++ = '"';
    commit(out, w);
}

static void enc_time_ns(Enc *e, idx_t row, Buf *out)
{
    int64_t ns = ((const duckdb_time_ns *)e->data)[row].nanos;
    char *w = buf_reserve(out, 48);
    *w++ = '"';
    w = put_time(w, ns / 1000000000, (uint32_t)(ns % 1000000000));
    *w++ = '"';
    commit(out, w);
}

static void enc_time_tz(Enc *e, idx_t row, Buf *out)
{
    duckdb_time_tz_struct t = duckdb_from_time_tz(((const duckdb_time_tz *)e->data)[row]);
    int64_t seconds = (int64_t)t.time.hour * 3600 + t.time.min * 60 + t.time.sec;
    int32_t off = t.offset;
    char *w = buf_reserve(out, 48);
    *w++ = '"';
    w = put_time(w, seconds, (uint32_t)t.time.micros * 1000);
    *w++ = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    w = decfmt_2digits(w, (unsigned)(off / 3600));
    *w++ = ':';
    w = decfmt_2digits(w, (unsigned)(off / 60 % 60));
    if (off % 60) {
        *w++ = ':';
        w = decfmt_2digits(w, (unsigned)(off % 60));
    }
    *w++ = '"';
    commit(out, w);
}

#define ENC_TIMESTAMP(name, per_sec, zone)                                                         \
    static void name(Enc *e, idx_t row, Buf *out)                                                  \
    {                                                                                              \
        int64_t v = ((const int64_t *)e->data)[row];                                               \
        char *w = buf_reserve(out, 56);                                                            \
        *w++ = '"';                                                                                \
        w = put_timestamp(w, v, per_sec);                                                          \
        if (zone && v != INT64_MAX && v != -INT64_MAX)                                             \
            *w++ = 'Z';                                                                            \
        *w++ = '"';                                                                                \
        commit(out, w);                                                                            \
    }
ENC_TIMESTAMP(enc_timestamp_s, 1, false)
ENC_TIMESTAMP(enc_timestamp_ms, 1000, false)
ENC_TIMESTAMP(enc_timestamp, 1000000, false)
ENC_TIMESTAMP(enc_timestamp_ns, 1000000000, false)
ENC_TIMESTAMP(enc_timestamp_tz, 1000000, true)

/* Writes one part of a duration, with its own sign, when it is not zero. */
static char *put_duration_part(char *w, int64_t v, char unit)
{
    if (v == 0)
        return w;
    w = decfmt_i64(w, v);
    *w++ = unit;
    return w;
}

/*
 * INTERVAL: ISO 8601 duration. Months, days and microseconds are
 * independent in DuckDB (a month is not a fixed number of days), so each
 * part keeps its own sign: P1Y2M3DT4H5M6.5S, P-1D, P1MT-1H, PT-0.5S; zero is PT0S.
 */
static void enc_interval(Enc *e, idx_t row, Buf *out)
{
    duckdb_interval iv = ((const duckdb_interval *)e->data)[row];
    char *w = buf_reserve(out, 96);
    *w++ = '"';
    *w++ = 'P';
    w = put_duration_part(w, iv.months / 12, 'Y');
    w = put_duration_part(w, iv.months % 12, 'M');
    w = put_duration_part(w, iv.days, 'D');
    if (iv.micros != 0 || (iv.months == 0 && iv.days == 0)) {
        *w++ = 'T';
        int64_t us = iv.micros;
        int64_t sec = us / 1000000;
        int32_t frac = (int32_t)(us % 1000000);
        w = put_duration_part(w, sec / 3600, 'H');
        w = put_duration_part(w, sec / 60 % 60, 'M');
        if (sec % 60 != 0 || frac != 0 || us == 0) {
            if (us < 0)
                *w++ = '-';
            w = decfmt_u64(w, (uint64_t)(sec % 60 < 0 ? -(sec % 60) : sec % 60));
            w = put_fraction(w, (uint32_t)(frac < 0 ? -frac : frac) * 1000);
            *w++ = 'S';
        }
    }
    *w++ = '"';
    commit(out, w);
}

static void enc_unsupported(Enc *e, idx_t row, Buf *out)
{
    (void)row;
    append_text(out, e, 0);
}

/* ---- Encoders of nested types ----------------------------------------- */

static void enc_list(Enc *e, idx_t row, Buf *out)
{
    duckdb_list_entry entry = ((const duckdb_list_entry *)e->data)[row];
    Enc *child = &e->children[0];
    buf_putc(out, '[');
    for (idx_t i = 0; i < entry.length; i++) {
        if (i > 0)
            buf_putc(out, ',');
        encode_value(child, entry.offset + i, out);
    }
    buf_putc(out, ']');
}

static void enc_array(Enc *e, idx_t row, Buf *out)
{
    Enc *child = &e->children[0];
    idx_t base = row * e->array_size;
    buf_putc(out, '[');
    for (idx_t i = 0; i < e->array_size; i++) {
        if (i > 0)
            buf_putc(out, ',');
        encode_value(child, base + i, out);
    }
    buf_putc(out, ']');
}

/* The keys are stored with their separators: `{"a":`, `,"b":`, ... */
static void enc_struct(Enc *e, idx_t row, Buf *out)
{
    if (e->nchildren == 0) {
        buf_append(out, "{}", 2);
        return;
    }
    for (idx_t k = 0; k < e->nchildren; k++) {
        append_text(out, e, k);
        encode_value(&e->children[k], row, out);
    }
    buf_putc(out, '}');
}

/* MAP keys become text: a key that encodes as a JSON string is used as it
 * is; any other (number, true, null, array, ...) is quoted. */
static void enc_map(Enc *e, idx_t row, Buf *out)
{
    duckdb_list_entry entry = ((const duckdb_list_entry *)e->data)[row];
    Enc *key = &e->children[0], *value = &e->children[1];
    buf_putc(out, '{');
    for (idx_t i = 0; i < entry.length; i++) {
        idx_t at = entry.offset + i;
        if (i > 0)
            buf_putc(out, ',');
        if (key->type == DUCKDB_TYPE_VARCHAR && row_is_valid(key->validity, at)) {
            key->encode(key, at, out);
        } else {
            e->scratch.len = 0;
            encode_value(key, at, &e->scratch);
            if (e->scratch.len > 0 && e->scratch.data[0] == '"')
                buf_append(out, e->scratch.data, e->scratch.len);
            else
                json_append_string(out, e->scratch.data, e->scratch.len);
        }
        buf_putc(out, ':');
        encode_value(value, at, out);
    }
    buf_putc(out, '}');
}

static void enc_union(Enc *e, idx_t row, Buf *out)
{
    uint8_t tag = e->tags[row];
    if (tag < e->nchildren)
        encode_value(&e->children[tag], row, out);
    else
        buf_append(out, "null", 4);
}

/* ---- Building the encoder tree ---------------------------------------- */

/* A name and how many times it was used as a base (DuckDB's name_map). */
typedef struct NameSlot {
    char *lower;
    uint64_t count;
} NameSlot;

static char *ascii_lower(const char *s)
{
    char *low = xstrdup(s);
    for (char *p = low; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return low;
}

/* Returns the slot holding `low`, or the empty slot where it belongs. */
static NameSlot *name_slot(NameSlot *table, size_t cap, const char *low)
{
    uint64_t h = 14695981039346656037ULL;
    for (const char *p = low; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (size_t i = (size_t)h & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!table[i].lower || strcmp(table[i].lower, low) == 0)
            return &table[i];
}

/*
 * Renames repeated names in place (names[i] are malloc'd and may be
 * replaced), with the rule DuckDB applies when a query result becomes a
 * table (QueryResult::DeduplicateColumns): left to right, names compared
 * ASCII-case-insensitively; a name not seen before is kept; a repeated name
 * N gets N_k with the smallest k, counting up from the last k tried for N,
 * such that N_k has not been assigned to an earlier column. So a, a, a_1
 * becomes a, a_1, a_1_1 and a, A becomes a, A_1.
 */
static void dedup_names(char **names, idx_t n)
{
    size_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    /* At most one entry per name, so the table never fills past half. */
    NameSlot *table = xcalloc(cap, sizeof(NameSlot));
    for (idx_t i = 0; i < n; i++) {
        char *low = ascii_lower(names[i]);
        NameSlot *base = name_slot(table, cap, low);
        if (!base->lower) {
            base->lower = low;
            base->count = 1;
            continue;
        }
        free(low);
        size_t len = strlen(names[i]);
        char *cand = xmalloc(len + 22);
        for (;; base->count++) {
            snprintf(cand, len + 22, "%s_%llu", names[i], (unsigned long long)base->count);
            char *cand_low = ascii_lower(cand);
            NameSlot *slot = name_slot(table, cap, cand_low);
            if (!slot->lower) {
                slot->lower = cand_low;
                slot->count = 1;
                break;
            }
            free(cand_low);
        }
        base->count++;
        free(names[i]);
        names[i] = cand;
    }
    for (size_t i = 0; i < cap; i++)
        free(table[i].lower);
    free(table);
}

/* Fills e->text with the `n` entries appended to `b`, freeing b. */
static void take_text(Enc *e, Buf *b, size_t *offsets)
{
    e->text = xmalloc(b->len);
    memcpy(e->text, b->data, b->len);
    e->text_off = offsets;
    buf_free(b);
}

/* Builds the keys of a STRUCT node (or the row object) from `names`
 * (malloc'd, freed here): `{"a":`, then `,"b":`, ... */
static void set_keys(Enc *e, char **names, idx_t n)
{
    Buf b = BUF_INIT;
    size_t *off = xcalloc(n + 1, sizeof(size_t));
    dedup_names(names, n);
    for (idx_t k = 0; k < n; k++) {
        off[k] = b.len;
        buf_putc(&b, k == 0 ? '{' : ',');
        json_append_string(&b, names[k], strlen(names[k]));
        buf_putc(&b, ':');
        free(names[k]);
    }
    off[n] = b.len;
    free(names);
    take_text(e, &b, off);
}

static const char *type_name(duckdb_type t)
{
    switch ((int)t) {
    case DUCKDB_TYPE_INVALID:
        return "INVALID";
    case DUCKDB_TYPE_ANY:
        return "ANY";
    case DUCKDB_TYPE_STRING_LITERAL:
        return "STRING_LITERAL";
    case DUCKDB_TYPE_INTEGER_LITERAL:
        return "INTEGER_LITERAL";
    /* Ids of DuckDB 1.5 that the 1.4 header does not name. */
    case 40:
        return "GEOMETRY";
    case 41:
        return "VARIANT";
    default:
        return NULL;
    }
}

static void enc_init(Enc *e, duckdb_logical_type t);

static void init_child(Enc *child, duckdb_logical_type t)
{
    enc_init(child, t);
    duckdb_destroy_logical_type(&t);
}

static void init_unsupported(Enc *e)
{
    Buf b = BUF_INIT;
    const char *name = type_name(e->type);
    if (name)
        buf_printf(&b, "\"<unsupported type %s>\"", name);
    else
        buf_printf(&b, "\"<unsupported type %d>\"", (int)e->type);
    size_t *off = xcalloc(2, sizeof(size_t));
    off[1] = b.len;
    take_text(e, &b, off);
    e->encode = enc_unsupported;
}

static void init_enum(Enc *e, duckdb_logical_type t)
{
    Buf b = BUF_INIT;
    e->dict_size = duckdb_enum_dictionary_size(t);
    size_t *off = xcalloc(e->dict_size + 1, sizeof(size_t));
    for (idx_t k = 0; k < e->dict_size; k++) {
        char *v = duckdb_enum_dictionary_value(t, k);
        off[k] = b.len;
        json_append_string(&b, v ? v : "", v ? strlen(v) : 0);
        duckdb_free(v);
    }
    off[e->dict_size] = b.len;
    take_text(e, &b, off);
    switch (duckdb_enum_internal_type(t)) {
    case DUCKDB_TYPE_UTINYINT:
        e->encode = enc_enum8;
        break;
    case DUCKDB_TYPE_USMALLINT:
        e->encode = enc_enum16;
        break;
    default:
        e->encode = enc_enum32;
        break;
    }
}

static void init_decimal(Enc *e, duckdb_logical_type t)
{
    e->scale = duckdb_decimal_scale(t);
    switch (duckdb_decimal_internal_type(t)) {
    case DUCKDB_TYPE_SMALLINT:
        e->encode = enc_decimal16;
        break;
    case DUCKDB_TYPE_INTEGER:
        e->encode = enc_decimal32;
        break;
    case DUCKDB_TYPE_BIGINT:
        e->encode = enc_decimal64;
        break;
    default:
        e->encode = enc_decimal128;
        break;
    }
}

static void init_struct(Enc *e, duckdb_logical_type t)
{
    idx_t n = duckdb_struct_type_child_count(t);
    char **names = xcalloc(n, sizeof(char *));
    e->nchildren = n;
    e->children = xcalloc(n, sizeof(Enc));
    for (idx_t k = 0; k < n; k++) {
        char *name = duckdb_struct_type_child_name(t, k);
        names[k] = xstrdup(name ? name : "");
        duckdb_free(name);
        init_child(&e->children[k], duckdb_struct_type_child_type(t, k));
    }
    set_keys(e, names, n);
    e->encode = enc_struct;
}

static void init_union(Enc *e, duckdb_logical_type t)
{
    idx_t n = duckdb_union_type_member_count(t);
    e->nchildren = n;
    e->children = xcalloc(n, sizeof(Enc));
    for (idx_t k = 0; k < n; k++)
        init_child(&e->children[k], duckdb_union_type_member_type(t, k));
    e->encode = enc_union;
}

/* Sets up `e` (zeroed) to encode values of type `t` (borrowed). */
static void enc_init(Enc *e, duckdb_logical_type t)
{
    static const EncodeFn simple[] = {
        [DUCKDB_TYPE_BOOLEAN] = enc_bool,
        [DUCKDB_TYPE_TINYINT] = enc_i8,
        [DUCKDB_TYPE_SMALLINT] = enc_i16,
        [DUCKDB_TYPE_INTEGER] = enc_i32,
        [DUCKDB_TYPE_BIGINT] = enc_i64,
        [DUCKDB_TYPE_UTINYINT] = enc_u8,
        [DUCKDB_TYPE_USMALLINT] = enc_u16,
        [DUCKDB_TYPE_UINTEGER] = enc_u32,
        [DUCKDB_TYPE_UBIGINT] = enc_u64,
        [DUCKDB_TYPE_FLOAT] = enc_float,
        [DUCKDB_TYPE_DOUBLE] = enc_double,
        [DUCKDB_TYPE_TIMESTAMP] = enc_timestamp,
        [DUCKDB_TYPE_DATE] = enc_date,
        [DUCKDB_TYPE_TIME] = enc_time,
        [DUCKDB_TYPE_INTERVAL] = enc_interval,
        [DUCKDB_TYPE_HUGEINT] = enc_hugeint,
        [DUCKDB_TYPE_UHUGEINT] = enc_uhugeint,
        [DUCKDB_TYPE_VARCHAR] = enc_varchar,
        [DUCKDB_TYPE_BLOB] = enc_blob,
        [DUCKDB_TYPE_TIMESTAMP_S] = enc_timestamp_s,
        [DUCKDB_TYPE_TIMESTAMP_MS] = enc_timestamp_ms,
        [DUCKDB_TYPE_TIMESTAMP_NS] = enc_timestamp_ns,
        [DUCKDB_TYPE_UUID] = enc_uuid,
        [DUCKDB_TYPE_BIT] = enc_bit,
        [DUCKDB_TYPE_TIME_TZ] = enc_time_tz,
        [DUCKDB_TYPE_TIMESTAMP_TZ] = enc_timestamp_tz,
        [DUCKDB_TYPE_BIGNUM] = enc_bignum,
        [DUCKDB_TYPE_SQLNULL] = enc_null,
        [DUCKDB_TYPE_TIME_NS] = enc_time_ns,
    };
    e->type = duckdb_get_type_id(t);
    switch (e->type) {
    case DUCKDB_TYPE_DECIMAL:
        init_decimal(e, t);
        break;
    case DUCKDB_TYPE_ENUM:
        init_enum(e, t);
        break;
    case DUCKDB_TYPE_LIST:
        e->nchildren = 1;
        e->children = xcalloc(1, sizeof(Enc));
        init_child(&e->children[0], duckdb_list_type_child_type(t));
        e->encode = enc_list;
        break;
    case DUCKDB_TYPE_ARRAY:
        e->nchildren = 1;
        e->children = xcalloc(1, sizeof(Enc));
        e->array_size = duckdb_array_type_array_size(t);
        init_child(&e->children[0], duckdb_array_type_child_type(t));
        e->encode = enc_array;
        break;
    case DUCKDB_TYPE_MAP:
        e->nchildren = 2;
        e->children = xcalloc(2, sizeof(Enc));
        init_child(&e->children[0], duckdb_map_type_key_type(t));
        init_child(&e->children[1], duckdb_map_type_value_type(t));
        e->encode = enc_map;
        break;
    case DUCKDB_TYPE_STRUCT:
        init_struct(e, t);
        break;
    case DUCKDB_TYPE_UNION:
        init_union(e, t);
        break;
    default:
        if ((size_t)e->type < sizeof(simple) / sizeof(simple[0]) && simple[e->type])
            e->encode = simple[e->type];
        else
            init_unsupported(e);
        break;
    }
}

/* Points `e` and its children at the data of vector `v` for one chunk. */
static void bind(Enc *e, duckdb_vector v)
{
    e->data = duckdb_vector_get_data(v);
    e->validity = duckdb_vector_get_validity(v);
    switch (e->type) {
    case DUCKDB_TYPE_LIST:
        bind(&e->children[0], duckdb_list_vector_get_child(v));
        break;
    case DUCKDB_TYPE_ARRAY:
        bind(&e->children[0], duckdb_array_vector_get_child(v));
        break;
    case DUCKDB_TYPE_MAP: {
        /* A MAP is a LIST of STRUCT(key, value). */
        duckdb_vector entries = duckdb_list_vector_get_child(v);
        bind(&e->children[0], duckdb_struct_vector_get_child(entries, 0));
        bind(&e->children[1], duckdb_struct_vector_get_child(entries, 1));
        break;
    }
    case DUCKDB_TYPE_STRUCT:
        for (idx_t k = 0; k < e->nchildren; k++)
            bind(&e->children[k], duckdb_struct_vector_get_child(v, k));
        break;
    case DUCKDB_TYPE_UNION:
        /* A UNION is a STRUCT whose first field is the tag. */
        e->tags = duckdb_vector_get_data(duckdb_struct_vector_get_child(v, 0));
        for (idx_t k = 0; k < e->nchildren; k++)
            bind(&e->children[k], duckdb_struct_vector_get_child(v, k + 1));
        break;
    default:
        break;
    }
}

static void enc_free(Enc *e)
{
    for (idx_t k = 0; k < e->nchildren; k++)
        enc_free(&e->children[k]);
    free(e->children);
    free(e->text);
    free(e->text_off);
    buf_free(&e->scratch);
}

/* ---- Public ------------------------------------------------------------ */

/* A row as an array of its values, for typed answers. */
static void enc_row_array(Enc *e, idx_t row, Buf *out)
{
    buf_putc(out, '[');
    for (idx_t k = 0; k < e->nchildren; k++) {
        if (k > 0)
            buf_putc(out, ',');
        encode_value(&e->children[k], row, out);
    }
    buf_putc(out, ']');
}

JsonRows *json_rows_new_arrays(duckdb_result *result)
{
    JsonRows *jr = json_rows_new(result);
    if (jr)
        jr->root.encode = enc_row_array;
    return jr;
}

JsonRows *json_rows_new(duckdb_result *result)
{
    if (!result)
        return NULL;
    JsonRows *jr = xcalloc(1, sizeof(JsonRows));
    idx_t n = duckdb_column_count(result);
    char **names = xcalloc(n, sizeof(char *));
    jr->ncols = n;
    jr->root.type = DUCKDB_TYPE_STRUCT;
    jr->root.encode = enc_struct;
    jr->root.nchildren = n;
    jr->root.children = xcalloc(n, sizeof(Enc));
    for (idx_t c = 0; c < n; c++) {
        const char *name = duckdb_column_name(result, c);
        names[c] = xstrdup(name ? name : "");
        init_child(&jr->root.children[c], duckdb_column_logical_type(result, c));
    }
    set_keys(&jr->root, names, n);
    return jr;
}

size_t json_rows_append_chunk(JsonRows *jr, duckdb_data_chunk chunk, Buf *out)
{
    idx_t rows = duckdb_data_chunk_get_size(chunk);
    assert(duckdb_data_chunk_get_column_count(chunk) == jr->ncols);
    if (rows == 0)
        return 0;
    for (idx_t c = 0; c < jr->ncols; c++)
        bind(&jr->root.children[c], duckdb_data_chunk_get_vector(chunk, c));
    for (idx_t r = 0; r < rows; r++) {
        if (jr->wrote_row)
            buf_putc(out, ',');
        jr->wrote_row = true;
        jr->root.encode(&jr->root, r, out);
    }
    return rows;
}

void json_rows_free(JsonRows *jr)
{
    if (!jr)
        return;
    enc_free(&jr->root);
    free(jr);
}

static const char *base_type_name(duckdb_type t)
{
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN:
        return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT:
        return "TINYINT";
    case DUCKDB_TYPE_SMALLINT:
        return "SMALLINT";
    case DUCKDB_TYPE_INTEGER:
        return "INTEGER";
    case DUCKDB_TYPE_BIGINT:
        return "BIGINT";
    case DUCKDB_TYPE_UTINYINT:
        return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT:
        return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER:
        return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT:
        return "UBIGINT";
    case DUCKDB_TYPE_FLOAT:
        return "FLOAT";
    case DUCKDB_TYPE_DOUBLE:
        return "DOUBLE";
    case DUCKDB_TYPE_TIMESTAMP:
        return "TIMESTAMP";
    case DUCKDB_TYPE_DATE:
        return "DATE";
    case DUCKDB_TYPE_TIME:
        return "TIME";
    case DUCKDB_TYPE_INTERVAL:
        return "INTERVAL";
    case DUCKDB_TYPE_HUGEINT:
        return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT:
        return "UHUGEINT";
    case DUCKDB_TYPE_VARCHAR:
        return "VARCHAR";
    case DUCKDB_TYPE_BLOB:
        return "BLOB";
    case DUCKDB_TYPE_TIMESTAMP_S:
        return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS:
        return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return "TIMESTAMP_NS";
    case DUCKDB_TYPE_ENUM:
        return "ENUM";
    case DUCKDB_TYPE_UUID:
        return "UUID";
    case DUCKDB_TYPE_BIT:
        return "BIT";
    case DUCKDB_TYPE_TIME_TZ:
        return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_BIGNUM:
        return "BIGNUM";
    case DUCKDB_TYPE_SQLNULL:
        return "NULL";
    case DUCKDB_TYPE_TIME_NS:
        return "TIME_NS";
    default:
        return NULL;
    }
}

/* Appends the SQL spelling of `type` (unquoted, for json_append_type). */
static void sql_type_name(Buf *out, duckdb_logical_type type)
{
    duckdb_type id = duckdb_get_type_id(type);
    const char *base = base_type_name(id);
    if (base) {
        buf_append_str(out, base);
        return;
    }
    switch (id) {
    case DUCKDB_TYPE_DECIMAL:
        buf_printf(out, "DECIMAL(%u,%u)", (unsigned)duckdb_decimal_width(type),
                   (unsigned)duckdb_decimal_scale(type));
        return;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
        duckdb_logical_type child = id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(type)
                                                           : duckdb_array_type_child_type(type);
        sql_type_name(out, child);
        duckdb_destroy_logical_type(&child);
        if (id == DUCKDB_TYPE_LIST)
            buf_append_str(out, "[]");
        else
            buf_printf(out, "[%llu]", (unsigned long long)duckdb_array_type_array_size(type));
        return;
    }
    case DUCKDB_TYPE_MAP: {
        duckdb_logical_type k = duckdb_map_type_key_type(type);
        duckdb_logical_type v = duckdb_map_type_value_type(type);
        buf_append_str(out, "MAP(");
        sql_type_name(out, k);
        buf_append_str(out, ", ");
        sql_type_name(out, v);
        buf_putc(out, ')');
        duckdb_destroy_logical_type(&k);
        duckdb_destroy_logical_type(&v);
        return;
    }
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
        bool is_struct = id == DUCKDB_TYPE_STRUCT;
        idx_t n =
            is_struct ? duckdb_struct_type_child_count(type) : duckdb_union_type_member_count(type);
        buf_append_str(out, is_struct ? "STRUCT(" : "UNION(");
        for (idx_t i = 0; i < n; i++) {
            char *name = is_struct ? duckdb_struct_type_child_name(type, i)
                                   : duckdb_union_type_member_name(type, i);
            duckdb_logical_type child = is_struct ? duckdb_struct_type_child_type(type, i)
                                                  : duckdb_union_type_member_type(type, i);
            /* Field names are quoted as DuckDB quotes identifiers. */
            if (i)
                buf_append_str(out, ", ");
            buf_append_quoted(out, name ? name : "", '"');
            buf_putc(out, ' ');
            sql_type_name(out, child);
            duckdb_free(name);
            duckdb_destroy_logical_type(&child);
        }
        buf_putc(out, ')');
        return;
    }
    default:
        buf_printf(out, "UNKNOWN(%d)", (int)id);
        return;
    }
}

void json_append_type(Buf *out, duckdb_logical_type type)
{
    Buf name = BUF_INIT;
    sql_type_name(&name, type);
    json_append_string(out, name.data, name.len);
    buf_free(&name);
}
