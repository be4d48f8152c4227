/*
 * Unit tests of pgcopy.c and pgvalue.c: hand-built binary COPY streams, as
 * PostgreSQL's *send functions write them, decoded into an in-memory DuckDB
 * table through an appender and read back as text. Every supported type,
 * NULLs, arrays, chunks larger than one vector, and malformed input:
 * truncated data, bad lengths, wrong field counts, bytes after the trailer,
 * values DuckDB's type cannot hold. No PostgreSQL server is involved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duckdb.h"
#include "pgcopy.h"
#include "unit.h"

static duckdb_database db;
static duckdb_connection con;

/* ---- building a COPY stream ------------------------------------------- */

typedef struct Stream {
    unsigned char b[1 << 17];
    size_t n;
} Stream;

static void put(Stream *s, const void *p, size_t n)
{
    if (s->n + n > sizeof(s->b))
        abort(); /* a test that builds too much */
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void put16(Stream *s, uint16_t v)
{
    unsigned char b[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    put(s, b, 2);
}

static void put32(Stream *s, uint32_t v)
{
    put16(s, (uint16_t)(v >> 16));
    put16(s, (uint16_t)v);
}

static void put64(Stream *s, uint64_t v)
{
    put32(s, (uint32_t)(v >> 32));
    put32(s, (uint32_t)v);
}

static void header(Stream *s)
{
    put(s, "PGCOPY\n\377\r\n", 11);
    put32(s, 0); /* flags */
    put32(s, 0); /* header extension */
}

static void trailer(Stream *s)
{
    put16(s, 0xffff);
}

/* One field holding `v`, `n` bytes. */
static void field(Stream *s, const void *v, int32_t n)
{
    put32(s, (uint32_t)n);
    put(s, v, (size_t)n);
}

static void field_null(Stream *s)
{
    put32(s, UINT32_MAX);
}

static void field_i16(Stream *s, int16_t v)
{
    put32(s, 2);
    put16(s, (uint16_t)v);
}

static void field_i32(Stream *s, int32_t v)
{
    put32(s, 4);
    put32(s, (uint32_t)v);
}

static void field_i64(Stream *s, int64_t v)
{
    put32(s, 8);
    put64(s, (uint64_t)v);
}

static void field_str(Stream *s, const char *v)
{
    field(s, v, (int32_t)strlen(v));
}

/* numeric_send: base-10000 digits, the weight of the first, the sign. */
static void field_numeric(Stream *s, int weight, uint16_t sign, int ndigits, const int16_t *digits)
{
    put32(s, (uint32_t)(8 + 2 * ndigits));
    put16(s, (uint16_t)ndigits);
    put16(s, (uint16_t)weight);
    put16(s, sign);
    put16(s, 0); /* dscale: not read */
    for (int i = 0; i < ndigits; i++)
        put16(s, (uint16_t)digits[i]);
}

/* A stream of one row with one field written by the caller between the two. */
static void one_row(Stream *s)
{
    header(s);
    put16(s, 1);
}

/* ---- decoding into DuckDB --------------------------------------------- */

static int append_chunk(void *ctx, duckdb_data_chunk chunk, char *err, size_t errlen)
{
    duckdb_appender app = ctx;
    if (duckdb_append_data_chunk(app, chunk) != DuckDBSuccess) {
        snprintf(err, errlen, "%s", duckdb_appender_error(app));
        return -1;
    }
    return 0;
}

/*
 * Creates table t with the columns `cols_sql` and decodes the messages of
 * `s` (split after each offset in `splits`, which ends with 0) into it, with
 * the PostgreSQL types `types`. Returns 0, or -1 with the decoder's message
 * in err.
 */
static int decode_split(const char *cols_sql, int ncols, const PgValueType *const *types,
                        const Stream *s, const size_t *splits, char *err, size_t errlen)
{
    char sql[512];
    duckdb_appender app = NULL;
    duckdb_logical_type ltypes[8] = {0};
    const char *names[8] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    PgCopy d;
    int rc = -1;
    err[0] = '\0';
    duckdb_query(con, "DROP TABLE IF EXISTS t", NULL);
    snprintf(sql, sizeof(sql), "CREATE TABLE t (%s)", cols_sql);
    if (duckdb_query(con, sql, NULL) != DuckDBSuccess) {
        snprintf(err, errlen, "cannot create %s", sql);
        return -1;
    }
    if (duckdb_appender_create(con, NULL, "t", &app) != DuckDBSuccess)
        abort();
    for (int c = 0; c < ncols; c++)
        ltypes[c] = duckdb_appender_column_type(app, (idx_t)c);
    if (pgcopy_init(&d, "t", ncols, names, types, ltypes, append_chunk, app) != 0)
        goto out;
    size_t at = 0;
    for (int i = 0; splits && splits[i]; i++) {
        if (pgcopy_feed(&d, s->b + at, splits[i] - at) != 0)
            goto out;
        at = splits[i];
    }
    if (pgcopy_feed(&d, s->b + at, s->n - at) != 0 || pgcopy_finish(&d) != 0)
        goto out;
    if (duckdb_appender_close(app) != DuckDBSuccess) {
        snprintf(err, errlen, "appender: %s", duckdb_appender_error(app));
        goto out;
    }
    rc = 0;
out:
    if (rc != 0 && !err[0])
        snprintf(err, errlen, "%s", d.err);
    pgcopy_free(&d);
    for (int c = 0; c < ncols; c++)
        duckdb_destroy_logical_type(&ltypes[c]);
    duckdb_appender_destroy(&app);
    return rc;
}

static int decode(const char *cols_sql, int ncols, const PgValueType *const *types, const Stream *s,
                  char *err, size_t errlen)
{
    return decode_split(cols_sql, ncols, types, s, NULL, err, errlen);
}

/* The rows of t as `expr` values joined by '|', NULL as "NULL". */
static const char *rows_text(const char *expr)
{
    static char text[4096];
    char sql[512];
    duckdb_result res;
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(string_agg(coalesce((%s)::VARCHAR, 'NULL'), '|' ORDER BY rowid), "
             "'') FROM t",
             expr);
    text[0] = '\0';
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        snprintf(text, sizeof(text), "query failed: %s", duckdb_result_error(&res));
    } else {
        char *v = duckdb_value_varchar(&res, 0, 0);
        snprintf(text, sizeof(text), "%s", v ? v : "(null)");
        duckdb_free(v);
    }
    duckdb_destroy_result(&res);
    return text;
}

/* The first value of the first row of `sql`, as text. */
static const char *scalar(const char *sql)
{
    static char text[256];
    duckdb_result res;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        snprintf(text, sizeof(text), "query failed: %s", duckdb_result_error(&res));
    } else {
        char *v = duckdb_value_varchar(&res, 0, 0);
        snprintf(text, sizeof(text), "%s", v ? v : "(null)");
        duckdb_free(v);
    }
    duckdb_destroy_result(&res);
    return text;
}

/*
 * Decodes a one-column stream of `s` (header, rows, trailer added here: the
 * caller writes the rows) into a column of DuckDB type `duck` and returns
 * its rows as text, or "error: <message>".
 */
static const char *one(const char *duck, const PgValueType *t, Stream *s)
{
    static char out[4096];
    char cols[256], err[2048];
    const PgValueType *types[] = {t};
    trailer(s);
    snprintf(cols, sizeof(cols), "a %s", duck);
    if (decode(cols, 1, types, s, err, sizeof(err)) != 0) {
        snprintf(out, sizeof(out), "error: %s", err);
        return out;
    }
    return rows_text("a");
}

/* ---- tests ------------------------------------------------------------ */

static void test_integers_and_bool(void)
{
    PgValueType tb = {.kind = PGVALUE_BOOL}, t2 = {.kind = PGVALUE_INT2},
                t4 = {.kind = PGVALUE_INT4}, t8 = {.kind = PGVALUE_INT8};
    Stream s = {0};
    header(&s);
    put16(&s, 1), field(&s, "\1", 1);
    put16(&s, 1), field(&s, "\0", 1);
    put16(&s, 1), field_null(&s);
    CHECK_STR(one("BOOLEAN", &tb, &s), "true|false|NULL");

    s = (Stream){0};
    header(&s);
    put16(&s, 1), field_i16(&s, -32768);
    put16(&s, 1), field_i16(&s, 12345);
    CHECK_STR(one("SMALLINT", &t2, &s), "-32768|12345");

    s = (Stream){0};
    header(&s);
    put16(&s, 1), field_i32(&s, INT32_MIN);
    put16(&s, 1), field_null(&s);
    put16(&s, 1), field_i32(&s, 7);
    CHECK_STR(one("INTEGER", &t4, &s), "-2147483648|NULL|7");

    s = (Stream){0};
    header(&s);
    put16(&s, 1), field_i64(&s, INT64_MAX);
    put16(&s, 1), field_i64(&s, -1);
    CHECK_STR(one("BIGINT", &t8, &s), "9223372036854775807|-1");
}

static void test_floats(void)
{
    PgValueType f4 = {.kind = PGVALUE_FLOAT4}, f8 = {.kind = PGVALUE_FLOAT8};
    float f = 1.5f;
    double d = -2.25;
    uint32_t fu;
    uint64_t du;
    memcpy(&fu, &f, 4);
    memcpy(&du, &d, 8);
    Stream s = {0};
    one_row(&s);
    put32(&s, 4), put32(&s, fu);
    CHECK_STR(one("FLOAT", &f4, &s), "1.5");
    s = (Stream){0};
    one_row(&s);
    put32(&s, 8), put64(&s, du);
    CHECK_STR(one("DOUBLE", &f8, &s), "-2.25");
}

static void test_numeric(void)
{
    PgValueType t = {.kind = PGVALUE_NUMERIC, .precision = 10, .scale = 2};
    Stream s = {0};
    header(&s);
    /* 123.45 = 123 * 10000^0 + 4500 * 10000^-1 */
    put16(&s, 1), field_numeric(&s, 0, 0, 2, (const int16_t[]){123, 4500});
    put16(&s, 1), field_numeric(&s, 0, 0x4000, 2, (const int16_t[]){123, 4500});
    put16(&s, 1), field_numeric(&s, 0, 0, 0, NULL);                  /* zero */
    put16(&s, 1), field_numeric(&s, 1, 0, 1, (const int16_t[]){12}); /* 120000 */
    put16(&s, 1), field_null(&s);
    CHECK_STR(one("DECIMAL(10,2)", &t, &s), "123.45|-123.45|0.00|120000.00|NULL");

    /* HUGEINT storage: 38 digits. */
    PgValueType big = {.kind = PGVALUE_NUMERIC, .precision = 38, .scale = 10};
    s = (Stream){0};
    one_row(&s);
    field_numeric(&s, 6, 0, 8, (const int16_t[]){9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999});
    CHECK_STR(one("DECIMAL(38,10)", &big, &s), "9999999999999999999999999999.9999000000");

    s = (Stream){0};
    one_row(&s);
    field_numeric(&s, 0, 0xC000, 0, NULL);
    CHECK_STR(one("DECIMAL(10,2)", &t, &s),
              "error: column t.a holds NaN, which DuckDB's DECIMAL cannot hold");
    s = (Stream){0};
    one_row(&s);
    field_numeric(&s, 0, 0xD000, 0, NULL);
    CHECK_STR(one("DECIMAL(10,2)", &t, &s),
              "error: column t.a holds an infinity, which DuckDB's DECIMAL cannot hold");
    s = (Stream){0};
    one_row(&s);
    field_numeric(&s, 0, 0, 2, (const int16_t[]){1, 2345}); /* 1.2345 */
    CHECK_STR(one("DECIMAL(10,2)", &t, &s),
              "error: column t.a holds a value with more than 2 decimals; DECIMAL(10,2) would "
              "round it");
    s = (Stream){0};
    one_row(&s);
    field_numeric(&s, 2, 0, 1, (const int16_t[]){1}); /* 10^8 */
    CHECK_STR(one("DECIMAL(10,2)", &t, &s),
              "error: column t.a holds a value that does not fit DECIMAL(10,2)");
    s = (Stream){0};
    one_row(&s);
    field_numeric(&s, 0, 0, 1, (const int16_t[]){10000}); /* a digit out of base */
    CHECK_STR(one("DECIMAL(10,2)", &t, &s),
              "error: column t.a: malformed binary numeric from PostgreSQL");
    s = (Stream){0};
    one_row(&s);
    put32(&s, 10), put16(&s, 2), put16(&s, 0), put16(&s, 0), put16(&s, 0), put16(&s, 1);
    CHECK_STR(one("DECIMAL(10,2)", &t, &s),
              "error: column t.a: malformed binary numeric from PostgreSQL"); /* 2 digits, 1 sent */
    s = (Stream){0};
    one_row(&s);
    field_numeric(&s, 0, 0x1234, 1, (const int16_t[]){1}); /* no such sign */
    CHECK_STR(one("DECIMAL(10,2)", &t, &s),
              "error: column t.a: malformed binary numeric from PostgreSQL");
    s = (Stream){0};
    one_row(&s);
    put32(&s, 4), put32(&s, 0);
    CHECK_STR(one("DECIMAL(10,2)", &t, &s),
              "error: column t.a: malformed binary numeric from PostgreSQL"); /* no header */
}

static void test_text_bytea_json(void)
{
    PgValueType tt = {.kind = PGVALUE_TEXT}, tb = {.kind = PGVALUE_BYTEA},
                tj = {.kind = PGVALUE_JSON}, tjb = {.kind = PGVALUE_JSONB};
    Stream s = {0};
    header(&s);
    put16(&s, 1), field_str(&s, "h\xc3\xa9llo");
    put16(&s, 1), field_str(&s, "");
    put16(&s, 1), field_null(&s);
    CHECK_STR(one("VARCHAR", &tt, &s), "h\xc3\xa9llo||NULL");

    s = (Stream){0};
    one_row(&s);
    field(&s, "\0\xff", 2);
    CHECK_STR(one("BLOB", &tb, &s), "\\x00\\xFF");

    s = (Stream){0};
    one_row(&s);
    field_str(&s, "{\"a\": [1, 2]}");
    CHECK_STR(one("JSON", &tj, &s), "{\"a\": [1, 2]}");

    s = (Stream){0};
    one_row(&s);
    field_str(&s, "\001{\"a\": 1}"); /* jsonb_send: version 1, then the text */
    CHECK_STR(one("JSON", &tjb, &s), "{\"a\": 1}");
    s = (Stream){0};
    one_row(&s);
    field_str(&s, "\002{}");
    CHECK_STR(one("JSON", &tjb, &s), "error: column t.a: unknown jsonb binary version");
    s = (Stream){0};
    one_row(&s);
    field(&s, "", 0);
    CHECK_STR(one("JSON", &tjb, &s), "error: column t.a: unknown jsonb binary version");
}

static void test_dates_and_times(void)
{
    PgValueType td = {.kind = PGVALUE_DATE}, tt = {.kind = PGVALUE_TIME},
                ts = {.kind = PGVALUE_TIMESTAMP}, tz = {.kind = PGVALUE_TIMESTAMPTZ},
                ti = {.kind = PGVALUE_INTERVAL};
    Stream s = {0};
    header(&s);
    put16(&s, 1), field_i32(&s, 0);
    put16(&s, 1), field_i32(&s, -1);
    put16(&s, 1), field_i32(&s, INT32_MAX);
    put16(&s, 1), field_i32(&s, INT32_MIN);
    CHECK_STR(one("DATE", &td, &s), "2000-01-01|1999-12-31|infinity|-infinity");
    /* PostgreSQL's last date, 5874897-12-31; then one beyond 32 bits (fuzz_pgcopy). */
    s = (Stream){0};
    one_row(&s);
    field_i32(&s, 2145031948);
    CHECK_STR(one("DATE", &td, &s), "5874897-12-31");
    s = (Stream){0};
    one_row(&s);
    field_i32(&s, INT32_MAX - 256);
    CHECK_STR(one("DATE", &td, &s), "error: column t.a holds a date beyond DuckDB's range");

    s = (Stream){0};
    one_row(&s);
    field_i64(&s, INT64_C(3723000001));
    CHECK_STR(one("TIME", &tt, &s), "01:02:03.000001");

    s = (Stream){0};
    header(&s);
    put16(&s, 1), field_i64(&s, 0);
    put16(&s, 1), field_i64(&s, INT64_C(86400000000));
    put16(&s, 1), field_i64(&s, INT64_MAX);
    put16(&s, 1), field_i64(&s, INT64_MIN);
    CHECK_STR(one("TIMESTAMP", &ts, &s),
              "2000-01-01 00:00:00|2000-01-02 00:00:00|infinity|-infinity");
    s = (Stream){0};
    one_row(&s);
    field_i64(&s, INT64_MAX - 1);
    CHECK_STR(one("TIMESTAMP", &ts, &s),
              "error: column t.a holds a timestamp beyond DuckDB's range");

    s = (Stream){0};
    one_row(&s);
    field_i64(&s, 0);
    trailer(&s);
    const PgValueType *types[] = {&tz};
    char err[2048];
    CHECK(decode("a TIMESTAMPTZ", 1, types, &s, err, sizeof(err)) == 0);
    CHECK_STR(rows_text("epoch_us(a)"), "946684800000000");

    s = (Stream){0};
    one_row(&s);
    put32(&s, 16), put64(&s, 1000000), put32(&s, 2), put32(&s, 3);
    CHECK_STR(one("INTERVAL", &ti, &s), "3 months 2 days 00:00:01");
}

static void test_uuid_and_enum(void)
{
    PgValueType tu = {.kind = PGVALUE_UUID};
    Stream s = {0};
    one_row(&s);
    field(&s, "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
    CHECK_STR(one("UUID", &tu, &s), "00112233-4455-6677-8899-aabbccddeeff");
    s = (Stream){0};
    one_row(&s);
    field(&s, "\xff\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\x00", 16);
    CHECK_STR(one("UUID", &tu, &s), "ff112233-4455-6677-8899-aabbccddee00");

    char *labels[] = {"red", "green", "blue"};
    size_t lens[] = {3, 5, 4};
    PgValueType te = {.kind = PGVALUE_ENUM, .labels = labels, .label_len = lens, .nlabels = 3};
    s = (Stream){0};
    header(&s);
    put16(&s, 1), field_str(&s, "blue");
    put16(&s, 1), field_str(&s, "red");
    put16(&s, 1), field_null(&s);
    CHECK_STR(one("ENUM('red', 'green', 'blue')", &te, &s), "blue|red|NULL");
    s = (Stream){0};
    one_row(&s);
    field_str(&s, "gre");
    CHECK_STR(one("ENUM('red', 'green', 'blue')", &te, &s),
              "error: column t.a holds an enum label added after link");
}

static void test_arrays(void)
{
    PgValueType t = {.kind = PGVALUE_INT4, .is_array = true};
    Stream s = {0};
    header(&s);
    /* array_send: ndim, has-nulls flag, element oid, then per dimension its
     * length and lower bound, then each element as a field. */
    put16(&s, 1), put32(&s, 20 + 8 + 4 + 8);
    put32(&s, 1), put32(&s, 1), put32(&s, 23), put32(&s, 3), put32(&s, 1);
    field_i32(&s, 1), field_null(&s), field_i32(&s, 3);
    put16(&s, 1), put32(&s, 12), put32(&s, 0), put32(&s, 0), put32(&s, 23); /* '{}' */
    put16(&s, 1), field_null(&s);
    put16(&s, 1), put32(&s, 28);
    put32(&s, 1), put32(&s, 0), put32(&s, 23), put32(&s, 1), put32(&s, 1), field_i32(&s, -5);
    CHECK_STR(one("INTEGER[]", &t, &s), "[1, NULL, 3]|[]|NULL|[-5]");

    PgValueType tt = {.kind = PGVALUE_TEXT, .is_array = true};
    s = (Stream){0};
    one_row(&s);
    put32(&s, 20 + 5 + 6);
    put32(&s, 1), put32(&s, 0), put32(&s, 25), put32(&s, 2), put32(&s, 1);
    field_str(&s, "a"), field_str(&s, "bc");
    CHECK_STR(one("VARCHAR[]", &tt, &s), "[a, bc]");

    s = (Stream){0};
    one_row(&s);
    put32(&s, 28);
    put32(&s, 2), put32(&s, 0), put32(&s, 23), put32(&s, 1), put32(&s, 1), put32(&s, 1),
        put32(&s, 1);
    CHECK_STR(one("INTEGER[]", &t, &s),
              "error: column t.a holds a 2-dimensional array; link copies one-dimensional "
              "arrays only");

    /* Two elements announced, one present. */
    s = (Stream){0};
    one_row(&s);
    put32(&s, 28);
    put32(&s, 1), put32(&s, 0), put32(&s, 23), put32(&s, 2), put32(&s, 1), field_i32(&s, 1);
    CHECK_STR(one("INTEGER[]", &t, &s),
              "error: column t.a: malformed binary array from PostgreSQL");

    /* An element of the wrong size. */
    s = (Stream){0};
    one_row(&s);
    put32(&s, 26);
    put32(&s, 1), put32(&s, 0), put32(&s, 23), put32(&s, 1), put32(&s, 1), field_i16(&s, 1);
    CHECK_STR(one("INTEGER[]", &t, &s),
              "error: column t.a: a binary value of 2 bytes from PostgreSQL, expected 4");

    /* Too short for its header. */
    s = (Stream){0};
    one_row(&s);
    put32(&s, 8), put32(&s, 1), put32(&s, 0);
    CHECK_STR(one("INTEGER[]", &t, &s),
              "error: column t.a: malformed binary array from PostgreSQL");

    /* An element length below -1; bytes after the last element; an empty
     * array with bytes after its header. */
    s = (Stream){0};
    one_row(&s);
    put32(&s, 24);
    put32(&s, 1), put32(&s, 0), put32(&s, 23), put32(&s, 1), put32(&s, 1), put32(&s, (uint32_t)-3);
    CHECK_STR(one("INTEGER[]", &t, &s),
              "error: column t.a: malformed binary array from PostgreSQL");
    s = (Stream){0};
    one_row(&s);
    put32(&s, 29);
    put32(&s, 1), put32(&s, 0), put32(&s, 23), put32(&s, 1), put32(&s, 1), field_i32(&s, 1);
    put(&s, "!", 1);
    CHECK_STR(one("INTEGER[]", &t, &s),
              "error: column t.a: malformed binary array from PostgreSQL");
    s = (Stream){0};
    one_row(&s);
    put32(&s, 16), put32(&s, 0), put32(&s, 0), put32(&s, 23), put32(&s, 9);
    CHECK_STR(one("INTEGER[]", &t, &s),
              "error: column t.a: malformed binary array from PostgreSQL");

    /* A length far beyond the bytes sent: refused before any allocation. */
    s = (Stream){0};
    one_row(&s);
    put32(&s, 20);
    put32(&s, 1), put32(&s, 0), put32(&s, 23), put32(&s, 0x7fffffff), put32(&s, 1);
    CHECK_STR(one("INTEGER[]", &t, &s),
              "error: column t.a: malformed binary array from PostgreSQL");
}

static void test_several_columns_and_chunks(void)
{
    PgValueType t4 = {.kind = PGVALUE_INT4}, tt = {.kind = PGVALUE_TEXT};
    const PgValueType *types[] = {&t4, &tt};
    static Stream s;
    char err[2048];
    s = (Stream){0};
    header(&s);
    for (int i = 0; i < 5000; i++) {
        put16(&s, 2);
        field_i32(&s, i);
        if (i % 7 == 0)
            field_null(&s);
        else
            field_str(&s, "x");
    }
    trailer(&s);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) == 0);
    CHECK_STR(scalar("SELECT count(*) || ',' || sum(a) || ',' || count(b) FROM t"),
              "5000,12497500,4285");

    /* The same rows, one message per row as PostgreSQL sends them. */
    static size_t splits[5001];
    size_t at = 19;
    for (int i = 0; i < 5000; i++) {
        at += 2 + 8 + (i % 7 == 0 ? 4 : 5);
        splits[i] = at;
    }
    splits[5000] = 0;
    CHECK(decode_split("a INTEGER, b VARCHAR", 2, types, &s, splits, err, sizeof(err)) == 0);
    CHECK_STR(scalar("SELECT count(*) || ',' || sum(a) FROM t"), "5000,12497500");

    /* An empty table: header and trailer only. */
    s = (Stream){0};
    header(&s);
    trailer(&s);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) == 0);
    CHECK_STR(scalar("SELECT count(*) FROM t"), "0");
}

static void test_malformed_stream(void)
{
    PgValueType t4 = {.kind = PGVALUE_INT4}, tt = {.kind = PGVALUE_TEXT};
    const PgValueType *types[] = {&t4, &tt};
    const char *malformed = "table t: malformed binary COPY data from PostgreSQL";
    Stream s;
    char err[2048];

    /* Bad signature; header cut short; header extension beyond the message. */
    s = (Stream){0};
    put(&s, "PGCOPY\n\377\r\r", 11), put32(&s, 0), put32(&s, 0), trailer(&s);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);
    s = (Stream){0};
    put(&s, "PGCOPY\n\377\r\n", 11), put32(&s, 0);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);
    s = (Stream){0};
    put(&s, "PGCOPY\n\377\r\n", 11), put32(&s, 0), put32(&s, 100), trailer(&s);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);
    s = (Stream){0};
    put(&s, "PGCOPY\n\377\r\n", 11), put32(&s, 0), put32(&s, UINT32_MAX), trailer(&s);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);
    /* A header extension is skipped. */
    s = (Stream){0};
    put(&s, "PGCOPY\n\377\r\n", 11), put32(&s, 0), put32(&s, 3), put(&s, "abc", 3);
    put16(&s, 2), field_i32(&s, 1), field_str(&s, "x"), trailer(&s);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) == 0);

    /* Wrong field counts: more, fewer, zero. */
    int counts[] = {3, 1, 0};
    for (int i = 0; i < 3; i++) {
        s = (Stream){0};
        header(&s);
        put16(&s, (uint16_t)counts[i]);
        for (int c = 0; c < counts[i]; c++)
            field_i32(&s, c);
        trailer(&s);
        CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
        CHECK_STR(err, malformed);
    }

    /* A field length beyond the message; a length cut in half; a lone byte. */
    s = (Stream){0};
    header(&s), put16(&s, 2), field_i32(&s, 1), put32(&s, 10), put(&s, "abc", 3);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);
    s = (Stream){0};
    header(&s), put16(&s, 2), field_i32(&s, 1), put16(&s, 0);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);
    s = (Stream){0};
    header(&s), put(&s, "\0", 1);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);

    /* A negative length other than -1 (NULL). */
    s = (Stream){0};
    header(&s), put16(&s, 2), field_i32(&s, 1), put32(&s, (uint32_t)-2), trailer(&s);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);

    /* A value of the wrong size. */
    s = (Stream){0};
    header(&s), put16(&s, 2), field_i16(&s, 1), field_str(&s, "x"), trailer(&s);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, "column t.a: a binary value of 2 bytes from PostgreSQL, expected 4");

    /* No trailer: the data ended early. */
    s = (Stream){0};
    header(&s), put16(&s, 2), field_i32(&s, 1), field_str(&s, "x");
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, "table t: the binary COPY data from PostgreSQL ended early");
    s = (Stream){0};
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);

    /* Bytes after the trailer, in its message or in a later one. */
    s = (Stream){0};
    header(&s), trailer(&s), put16(&s, 2);
    CHECK(decode("a INTEGER, b VARCHAR", 2, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);
    s = (Stream){0};
    header(&s), trailer(&s), put16(&s, 2), field_i32(&s, 1), field_str(&s, "x");
    size_t split[] = {21, 0};
    CHECK(decode_split("a INTEGER, b VARCHAR", 2, types, &s, split, err, sizeof(err)) != 0);
    CHECK_STR(err, malformed);
}

static void test_bind_mismatch(void)
{
    PgValueType t8 = {.kind = PGVALUE_INT8}, num = {.kind = PGVALUE_NUMERIC, .precision = 12};
    PgValueType arr = {.kind = PGVALUE_INT4, .is_array = true}, bad = {.kind = 99};
    char *labels[] = {"a"};
    size_t lens[] = {1};
    PgValueType en = {.kind = PGVALUE_ENUM, .labels = labels, .label_len = lens, .nlabels = 1};
    Stream s = {0};
    header(&s), trailer(&s);
    char err[2048];
    const char *want = "column t.a: DuckDB's column type does not match PostgreSQL's";
    const PgValueType *types[] = {&t8};
    CHECK(decode("a INTEGER", 1, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, want);
    types[0] = &num;
    CHECK(decode("a DECIMAL(10,0)", 1, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, want);
    CHECK(decode("a DECIMAL(12,0)", 1, types, &s, err, sizeof(err)) == 0);
    types[0] = &arr;
    CHECK(decode("a INTEGER", 1, types, &s, err, sizeof(err)) != 0);
    CHECK(decode("a BIGINT[]", 1, types, &s, err, sizeof(err)) != 0);
    types[0] = &en;
    CHECK(decode("a ENUM('a', 'b')", 1, types, &s, err, sizeof(err)) != 0);
    CHECK(decode("a ENUM('a')", 1, types, &s, err, sizeof(err)) == 0);
    types[0] = &bad;
    CHECK(decode("a INTEGER", 1, types, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, want);
}

int main(void)
{
    if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "cannot open DuckDB\n");
        return 1;
    }
    UNIT_RUN(test_integers_and_bool);
    UNIT_RUN(test_floats);
    UNIT_RUN(test_numeric);
    UNIT_RUN(test_text_bytea_json);
    UNIT_RUN(test_dates_and_times);
    UNIT_RUN(test_uuid_and_enum);
    UNIT_RUN(test_arrays);
    UNIT_RUN(test_several_columns_and_chunks);
    UNIT_RUN(test_malformed_stream);
    UNIT_RUN(test_bind_mismatch);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return unit_summary("test_pgcopy");
}
