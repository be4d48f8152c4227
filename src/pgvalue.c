/*
 * pgvalue: PostgreSQL's binary send formats into DuckDB vectors. See
 * pgvalue.h. The decoders follow PostgreSQL 15's *send functions; what
 * DuckDB's column type cannot hold exactly fails with the column named.
 */
#include "pgvalue.h"

#include <endian.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* PostgreSQL's epoch (2000-01-01) in DuckDB's (1970-01-01) units. */
#define PG_EPOCH_DAYS 10957
#define PG_EPOCH_MICROS INT64_C(946684800000000)

typedef __int128 i128;

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- binding to DuckDB's types ---------------------------------------- */

/* DuckDB's type id for the (element) values of each kind. */
static const duckdb_type kind_type_id[PGVALUE_NKINDS] = {
    [PGVALUE_BOOL] = DUCKDB_TYPE_BOOLEAN,
    [PGVALUE_INT2] = DUCKDB_TYPE_SMALLINT,
    [PGVALUE_INT4] = DUCKDB_TYPE_INTEGER,
    [PGVALUE_INT8] = DUCKDB_TYPE_BIGINT,
    [PGVALUE_FLOAT4] = DUCKDB_TYPE_FLOAT,
    [PGVALUE_FLOAT8] = DUCKDB_TYPE_DOUBLE,
    [PGVALUE_NUMERIC] = DUCKDB_TYPE_DECIMAL,
    [PGVALUE_TEXT] = DUCKDB_TYPE_VARCHAR,
    [PGVALUE_BYTEA] = DUCKDB_TYPE_BLOB,
    [PGVALUE_DATE] = DUCKDB_TYPE_DATE,
    [PGVALUE_TIME] = DUCKDB_TYPE_TIME,
    [PGVALUE_TIMESTAMP] = DUCKDB_TYPE_TIMESTAMP,
    [PGVALUE_TIMESTAMPTZ] = DUCKDB_TYPE_TIMESTAMP_TZ,
    [PGVALUE_INTERVAL] = DUCKDB_TYPE_INTERVAL,
    [PGVALUE_UUID] = DUCKDB_TYPE_UUID,
    [PGVALUE_JSON] = DUCKDB_TYPE_VARCHAR, /* JSON is an alias of VARCHAR */
    [PGVALUE_JSONB] = DUCKDB_TYPE_VARCHAR,
    [PGVALUE_ENUM] = DUCKDB_TYPE_ENUM,
};

int pgvalue_bind(PgValueColumn *out, const char *table, const char *name, const PgValueType *type,
                 duckdb_logical_type column, char *err, size_t errlen)
{
    duckdb_logical_type t = column, child = NULL;
    int rc = -1;
    if ((unsigned)type->kind >= PGVALUE_NKINDS)
        goto mismatch;
    if (type->is_array) {
        if (duckdb_get_type_id(column) != DUCKDB_TYPE_LIST)
            goto mismatch;
        t = child = duckdb_list_type_child_type(column);
    }
    duckdb_type id = duckdb_get_type_id(t), storage = id;
    if (id != kind_type_id[type->kind])
        goto mismatch;
    if (type->kind == PGVALUE_NUMERIC) {
        if (type->precision < 1 || type->precision > 38 || type->scale < 0 ||
            type->scale > type->precision || duckdb_decimal_width(t) != type->precision ||
            duckdb_decimal_scale(t) != type->scale)
            goto mismatch;
        storage = duckdb_decimal_internal_type(t);
    } else if (type->kind == PGVALUE_ENUM) {
        if (type->nlabels < 0 || duckdb_enum_dictionary_size(t) != (uint32_t)type->nlabels)
            goto mismatch;
        storage = duckdb_enum_internal_type(t);
    }
    *out = (PgValueColumn){.table = table, .name = name, .type = type, .storage = storage};
    rc = 0;
    goto out;
mismatch:
    errf(err, errlen, "column %s.%s: DuckDB's column type does not match PostgreSQL's", table,
         name);
out:
    duckdb_destroy_logical_type(&child);
    return rc;
}

/* ---- values ----------------------------------------------------------- */

void pgvalue_put_null(duckdb_vector v, idx_t row)
{
    duckdb_vector_ensure_validity_writable(v);
    duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row);
}

static i128 pow10[39];
static pthread_once_t pow10_once = PTHREAD_ONCE_INIT;

static void pow10_init(void)
{
    pow10[0] = 1;
    for (int i = 1; i < 39; i++)
        pow10[i] = pow10[i - 1] * 10;
}

/* numeric_send's format into the unscaled DECIMAL(p, s) integer. */
static int decode_numeric(const PgValueColumn *col, const unsigned char *p, int32_t len, i128 *out,
                          char *err, size_t errlen)
{
    const PgValueType *t = col->type;
    pthread_once(&pow10_once, pow10_init);
    if (len < 8)
        goto bad;
    int ndigits = (int16_t)pgvalue_rd16(p), weight = (int16_t)pgvalue_rd16(p + 2);
    unsigned sign = pgvalue_rd16(p + 4);
    if (sign == 0xC000 || sign == 0xD000 || sign == 0xF000) {
        errf(err, errlen, "column %s.%s holds %s, which DuckDB's DECIMAL cannot hold", col->table,
             col->name, sign == 0xC000 ? "NaN" : "an infinity");
        return -1;
    }
    if (ndigits < 0 || len != 8 + 2 * ndigits || (sign != 0 && sign != 0x4000))
        goto bad;
    i128 v = 0;
    for (int i = 0; i < ndigits; i++) {
        int d = (int16_t)pgvalue_rd16(p + 8 + 2 * i);
        if (d < 0 || d > 9999)
            goto bad;
        if (d == 0)
            continue;
        int e = (weight - i) * 4 + t->scale;
        if (e >= 0) {
            if (e > 38 || (i128)d > (pow10[38] - 1 - v) / pow10[e])
                goto range;
            v += (i128)d * pow10[e];
        } else {
            if (-e >= 4 || d % (int)pow10[-e] != 0)
                goto digits;
            v += d / (int)pow10[-e];
        }
    }
    if (v >= pow10[t->precision])
        goto range;
    *out = sign == 0x4000 ? -v : v;
    return 0;
range:
    errf(err, errlen, "column %s.%s holds a value that does not fit DECIMAL(%d,%d)", col->table,
         col->name, t->precision, t->scale);
    return -1;
digits:
    errf(err, errlen,
         "column %s.%s holds a value with more than %d decimals; DECIMAL(%d,%d) would round it",
         col->table, col->name, t->scale, t->precision, t->scale);
    return -1;
bad:
    errf(err, errlen, "column %s.%s: malformed binary numeric from PostgreSQL", col->table,
         col->name);
    return -1;
}

/* Writes one non-NULL scalar value of `col` into row `row` of vector `v`. */
static int put_scalar(const PgValueColumn *col, duckdb_vector v, idx_t row, const unsigned char *p,
                      int32_t len, char *err, size_t errlen)
{
    const PgValueType *t = col->type;
    void *data = duckdb_vector_get_data(v);
    static const int32_t fixed[PGVALUE_NKINDS] = {
        [PGVALUE_BOOL] = 1,        [PGVALUE_INT2] = 2,      [PGVALUE_INT4] = 4,
        [PGVALUE_INT8] = 8,        [PGVALUE_FLOAT4] = 4,    [PGVALUE_FLOAT8] = 8,
        [PGVALUE_DATE] = 4,        [PGVALUE_TIME] = 8,      [PGVALUE_TIMESTAMP] = 8,
        [PGVALUE_TIMESTAMPTZ] = 8, [PGVALUE_INTERVAL] = 16, [PGVALUE_UUID] = 16};
    if (fixed[t->kind] && len != fixed[t->kind]) {
        errf(err, errlen, "column %s.%s: a binary value of %d bytes from PostgreSQL, expected %d",
             col->table, col->name, len, fixed[t->kind]);
        return -1;
    }
    switch (t->kind) {
    case PGVALUE_BOOL:
        ((bool *)data)[row] = p[0] != 0;
        return 0;
    case PGVALUE_INT2:
        ((int16_t *)data)[row] = (int16_t)pgvalue_rd16(p);
        return 0;
    case PGVALUE_INT4:
        ((int32_t *)data)[row] = (int32_t)pgvalue_rd32(p);
        return 0;
    case PGVALUE_INT8:
    case PGVALUE_TIME:
        ((int64_t *)data)[row] = (int64_t)pgvalue_rd64(p);
        return 0;
    case PGVALUE_FLOAT4: {
        uint32_t u = pgvalue_rd32(p);
        memcpy((float *)data + row, &u, 4);
        return 0;
    }
    case PGVALUE_FLOAT8: {
        uint64_t u = pgvalue_rd64(p);
        memcpy((double *)data + row, &u, 8);
        return 0;
    }
    case PGVALUE_DATE: {
        int32_t d = (int32_t)pgvalue_rd32(p), u;
        /* PostgreSQL's infinities are INT32_MAX/MIN, DuckDB's INT32_MAX/-INT32_MAX. */
        if (d == INT32_MAX || d == INT32_MIN) {
            ((int32_t *)data)[row] = d == INT32_MAX ? INT32_MAX : -INT32_MAX;
            return 0;
        }
        /* PostgreSQL's dates end in 5874897 AD, well inside; only malformed
         * input reaches the ends of the 32-bit range. */
        if (__builtin_add_overflow(d, PG_EPOCH_DAYS, &u) || u == INT32_MAX || u <= -INT32_MAX) {
            errf(err, errlen, "column %s.%s holds a date beyond DuckDB's range", col->table,
                 col->name);
            return -1;
        }
        ((int32_t *)data)[row] = u;
        return 0;
    }
    case PGVALUE_TIMESTAMP:
    case PGVALUE_TIMESTAMPTZ: {
        int64_t ts = (int64_t)pgvalue_rd64(p), u;
        if (ts == INT64_MAX || ts == INT64_MIN) {
            ((int64_t *)data)[row] = ts == INT64_MAX ? INT64_MAX : -INT64_MAX;
            return 0;
        }
        if (__builtin_add_overflow(ts, PG_EPOCH_MICROS, &u) || u >= INT64_MAX - 1 ||
            u <= -INT64_MAX) {
            errf(err, errlen, "column %s.%s holds a timestamp beyond DuckDB's range", col->table,
                 col->name);
            return -1;
        }
        ((int64_t *)data)[row] = u;
        return 0;
    }
    case PGVALUE_INTERVAL: {
        duckdb_interval iv = {.micros = (int64_t)pgvalue_rd64(p),
                              .days = (int32_t)pgvalue_rd32(p + 8),
                              .months = (int32_t)pgvalue_rd32(p + 12)};
        ((duckdb_interval *)data)[row] = iv;
        return 0;
    }
    case PGVALUE_UUID: {
        /* DuckDB stores a UUID as a hugeint with the top bit flipped, so that
         * signed order equals the textual order. */
        duckdb_hugeint h = {.lower = pgvalue_rd64(p + 8),
                            .upper = (int64_t)(pgvalue_rd64(p) ^ (UINT64_C(1) << 63))};
        ((duckdb_hugeint *)data)[row] = h;
        return 0;
    }
    case PGVALUE_NUMERIC: {
        i128 x = 0;
        if (decode_numeric(col, p, len, &x, err, errlen) != 0)
            return -1;
        switch (col->storage) {
        case DUCKDB_TYPE_SMALLINT:
            ((int16_t *)data)[row] = (int16_t)x;
            break;
        case DUCKDB_TYPE_INTEGER:
            ((int32_t *)data)[row] = (int32_t)x;
            break;
        case DUCKDB_TYPE_BIGINT:
            ((int64_t *)data)[row] = (int64_t)x;
            break;
        default: {
            duckdb_hugeint h = {.lower = (uint64_t)x, .upper = (int64_t)(x >> 64)};
            ((duckdb_hugeint *)data)[row] = h;
        }
        }
        return 0;
    }
    case PGVALUE_JSONB:
        if (len < 1 || p[0] != 1) {
            errf(err, errlen, "column %s.%s: unknown jsonb binary version", col->table, col->name);
            return -1;
        }
        duckdb_vector_assign_string_element_len(v, row, (const char *)p + 1, (idx_t)len - 1);
        return 0;
    case PGVALUE_TEXT:
    case PGVALUE_JSON:
    case PGVALUE_BYTEA:
        duckdb_vector_assign_string_element_len(v, row, (const char *)p, (idx_t)len);
        return 0;
    case PGVALUE_ENUM:
        for (int i = 0; i < t->nlabels; i++) {
            if (t->label_len[i] == (size_t)len && memcmp(t->labels[i], p, (size_t)len) == 0) {
                if (col->storage == DUCKDB_TYPE_UTINYINT)
                    ((uint8_t *)data)[row] = (uint8_t)i;
                else if (col->storage == DUCKDB_TYPE_USMALLINT)
                    ((uint16_t *)data)[row] = (uint16_t)i;
                else
                    ((uint32_t *)data)[row] = (uint32_t)i;
                return 0;
            }
        }
        errf(err, errlen, "column %s.%s holds an enum label added after link", col->table,
             col->name);
        return -1;
    }
    return -1;
}

/* array_send's format into a DuckDB LIST at row `row`. */
static int put_array(const PgValueColumn *col, duckdb_vector v, idx_t row, const unsigned char *p,
                     int32_t len, char *err, size_t errlen)
{
    const unsigned char *end = p + len;
    if (len < 12)
        goto bad;
    int32_t ndim = (int32_t)pgvalue_rd32(p);
    duckdb_list_entry *entries = duckdb_vector_get_data(v);
    duckdb_vector child = duckdb_list_vector_get_child(v);
    idx_t base = duckdb_list_vector_get_size(v);
    if (ndim == 0) {
        if (len != 12)
            goto bad;
        entries[row] = (duckdb_list_entry){.offset = base, .length = 0};
        return 0;
    }
    if (ndim != 1) {
        errf(err, errlen,
             "column %s.%s holds a %d-dimensional array; link copies one-dimensional "
             "arrays only",
             col->table, col->name, ndim);
        return -1;
    }
    if (len < 20)
        goto bad;
    int32_t n = (int32_t)pgvalue_rd32(p + 12);
    p += 20;
    /* Each element takes at least its 4-byte length: a count beyond that is
     * refused before DuckDB reserves room for it. */
    if (n < 0 || n > (end - p) / 4)
        goto bad;
    if (duckdb_list_vector_reserve(v, base + (idx_t)n) != DuckDBSuccess)
        log_fatal("out of memory");
    for (int32_t i = 0; i < n; i++) {
        if (end - p < 4)
            goto bad;
        int32_t elen = (int32_t)pgvalue_rd32(p);
        p += 4;
        if (elen == -1) {
            pgvalue_put_null(child, base + (idx_t)i);
            continue;
        }
        if (elen < 0)
            goto bad;
        if (end - p < elen)
            goto bad;
        if (put_scalar(col, child, base + (idx_t)i, p, elen, err, errlen) != 0)
            return -1;
        p += elen;
    }
    if (p != end)
        goto bad;
    if (duckdb_list_vector_set_size(v, base + (idx_t)n) != DuckDBSuccess)
        log_fatal("out of memory");
    entries[row] = (duckdb_list_entry){.offset = base, .length = (uint64_t)n};
    return 0;
bad:
    errf(err, errlen, "column %s.%s: malformed binary array from PostgreSQL", col->table,
         col->name);
    return -1;
}

int pgvalue_put(const PgValueColumn *col, duckdb_vector v, idx_t row, const unsigned char *p,
                int32_t len, char *err, size_t errlen)
{
    return col->type->is_array ? put_array(col, v, row, p, len, err, errlen)
                               : put_scalar(col, v, row, p, len, err, errlen);
}
