/*
 * test_json: the JSON encoding of every DuckDB type (docs/protocol.md,
 * "JSON encoding of DuckDB values"). Each case runs a query on an in-memory
 * database, encodes every chunk with json_rows_append_chunk() as the query
 * module does, and compares the whole array with the exact expected text.
 * Cross-checks compare thousands of generated values with DuckDB's own text
 * form, and a small JSON validator checks that whatever we write parses.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "duckdb.h"
#include "json.h"
#include "unit.h"

static duckdb_database db;
static duckdb_connection con;
static Buf got = BUF_INIT;
static size_t got_rows;

/* Runs sql (streaming, as the server does) and returns its rows as a JSON
 * array, owned by `got` until the next call; NULL if the query fails. */
static const char *rows(const char *sql)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    const char *ret = NULL;
    got.len = 0;
    got_rows = 0;
    if (duckdb_prepare(con, sql, &prep) != DuckDBSuccess) {
        fprintf(stderr, "prepare failed: %s\n%s\n", sql, duckdb_prepare_error(prep));
        duckdb_destroy_prepare(&prep);
        return NULL;
    }
    if (duckdb_execute_prepared_streaming(prep, &res) != DuckDBSuccess) {
        fprintf(stderr, "query failed: %s\n%s\n", sql, duckdb_result_error(&res));
        goto out;
    }
    JsonRows *jr = json_rows_new(&res);
    buf_putc(&got, '[');
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        if (!chunk)
            break;
        got_rows += json_rows_append_chunk(jr, chunk, &got);
        duckdb_destroy_data_chunk(&chunk);
    }
    buf_putc(&got, ']');
    json_rows_free(jr);
    ret = duckdb_result_error(&res) ? NULL : buf_cstr(&got);
out:
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&prep);
    return ret;
}

static void exec(const char *sql)
{
    duckdb_result res;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess)
        fprintf(stderr, "query failed: %s\n%s\n", sql, duckdb_result_error(&res));
    duckdb_destroy_result(&res);
}

/* The first VARCHAR of a query's result, malloc'd; NULL if there is none. */
static char *first_string(const char *sql)
{
    duckdb_result res;
    char *s = NULL;
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        fprintf(stderr, "query failed: %s\n%s\n", sql, duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return NULL;
    }
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    if (chunk && duckdb_data_chunk_get_size(chunk) > 0) {
        duckdb_vector v = duckdb_data_chunk_get_vector(chunk, 0);
        uint64_t *validity = duckdb_vector_get_validity(v);
        duckdb_string_t *str = duckdb_vector_get_data(v);
        if (duckdb_validity_row_is_valid(validity, 0)) {
            uint32_t n = duckdb_string_t_length(str[0]);
            s = malloc(n + 1);
            memcpy(s, duckdb_string_t_data(&str[0]), n);
            s[n] = '\0';
        }
    }
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
    return s;
}

/* ---- A minimal JSON validator (RFC 8259), UTF-8 checked in strings ---- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *parse_value(const char *p, int depth);

static const char *parse_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                        return NULL;
                p += 5;
            } else if (*p && strchr("\"\\/bfnrt", *p)) {
                p++;
            } else {
                return NULL;
            }
            continue;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        int need = c >= 0xF0 && c <= 0xF4   ? 3
                   : c >= 0xE0 && c <= 0xEF ? 2
                   : c >= 0xC2 && c <= 0xDF ? 1
                                            : -1;
        if (need < 0)
            return NULL;
        uint32_t cp = c & (0x3F >> need);
        for (int i = 1; i <= need; i++) {
            unsigned char d = (unsigned char)p[i];
            if ((d & 0xC0) != 0x80)
                return NULL;
            cp = (cp << 6) | (d & 0x3F);
        }
        static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return NULL;
        p += need + 1;
    }
}

static const char *parse_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *parse_items(const char *p, char close, bool object, int depth)
{
    p = skip_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (object) {
            p = parse_string(skip_ws(p));
            if (!p)
                return NULL;
            p = skip_ws(p);
            if (*p++ != ':')
                return NULL;
        }
        p = parse_value(p, depth + 1);
        if (!p)
            return NULL;
        p = skip_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *parse_value(const char *p, int depth)
{
    if (depth > 64)
        return NULL;
    p = skip_ws(p);
    switch (*p) {
    case '{':
        return parse_items(p, '}', true, depth);
    case '[':
        return parse_items(p, ']', false, depth);
    case '"':
        return parse_string(p);
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return parse_number(p);
    }
}

static bool valid_json(const char *s)
{
    const char *end = s ? parse_value(s, 0) : NULL;
    return end && *skip_ws(end) == '\0';
}

/* ---- One case per type -------------------------------------------------- */

static void test_booleans_and_integers(void)
{
    CHECK_STR(rows("SELECT true AS a, false AS b, NULL::BOOLEAN AS c"),
              "[{\"a\":true,\"b\":false,\"c\":null}]");
    CHECK_STR(rows("SELECT (-128)::TINYINT AS t, 127::TINYINT AS t2, (-32768)::SMALLINT AS s, "
                   "2147483647::INTEGER AS i, (-2147483648)::INTEGER AS i2, "
                   "(-9223372036854775808)::BIGINT AS bmin, 9223372036854775807::BIGINT AS bmax, "
                   "0::BIGINT AS z, NULL::INTEGER AS n"),
              "[{\"t\":-128,\"t2\":127,\"s\":-32768,\"i\":2147483647,\"i2\":-2147483648,"
              "\"bmin\":-9223372036854775808,\"bmax\":9223372036854775807,\"z\":0,\"n\":null}]");
    CHECK_STR(rows("SELECT 255::UTINYINT AS a, 65535::USMALLINT AS b, 4294967295::UINTEGER AS c, "
                   "18446744073709551615::UBIGINT AS d, 0::UBIGINT AS e, NULL::UBIGINT AS f"),
              "[{\"a\":255,\"b\":65535,\"c\":4294967295,\"d\":18446744073709551615,\"e\":0,"
              "\"f\":null}]");
}

static void test_hugeint(void)
{
    CHECK_STR(rows("SELECT (-170141183460469231731687303715884105728)::HUGEINT AS min, "
                   "170141183460469231731687303715884105727::HUGEINT AS max, "
                   "0::HUGEINT AS z, (-1)::HUGEINT AS m, 18446744073709551616::HUGEINT AS p64, "
                   "(-18446744073709551616)::HUGEINT AS n64, "
                   "10000000000000000000::HUGEINT AS t19, NULL::HUGEINT AS n"),
              "[{\"min\":-170141183460469231731687303715884105728,"
              "\"max\":170141183460469231731687303715884105727,\"z\":0,\"m\":-1,"
              "\"p64\":18446744073709551616,\"n64\":-18446744073709551616,"
              "\"t19\":10000000000000000000,\"n\":null}]");
    CHECK_STR(rows("SELECT 340282366920938463463374607431768211455::UHUGEINT AS max, "
                   "100000000000000000000000000000000000000::UHUGEINT AS t38, "
                   "0::UHUGEINT AS z, NULL::UHUGEINT AS n"),
              "[{\"max\":340282366920938463463374607431768211455,"
              "\"t38\":100000000000000000000000000000000000000,\"z\":0,\"n\":null}]");
}

static void test_decimal(void)
{
    /* DECIMAL(4,2) is stored in int16, (9,x) int32, (18,x) int64, (38,x) int128. */
    CHECK_STR(rows("SELECT 12.5::DECIMAL(4,2) AS a, (-0.05)::DECIMAL(4,2) AS b, "
                   "0::DECIMAL(4,2) AS c, (-99.99)::DECIMAL(4,2) AS d, NULL::DECIMAL(4,2) AS n"),
              "[{\"a\":12.50,\"b\":-0.05,\"c\":0.00,\"d\":-99.99,\"n\":null}]");
    CHECK_STR(rows("SELECT (-0.000001)::DECIMAL(9,6) AS a, 5::DECIMAL(9,0) AS b, "
                   "123456789.123::DECIMAL(18,3) AS c, (-1.5)::DECIMAL(18,17) AS d"),
              "[{\"a\":-0.000001,\"b\":5,\"c\":123456789.123,\"d\":-1.50000000000000000}]");
    CHECK_STR(rows("SELECT (-1234567890123456789012345678.0123456789)::DECIMAL(38,10) AS a, "
                   "9999999999999999999999999999.9999999999::DECIMAL(38,10) AS b, "
                   "0.0000000001::DECIMAL(38,10) AS c, "
                   "(-99999999999999999999999999999999999999)::DECIMAL(38,0) AS d, "
                   "'0.12345678901234567890123456789012345678'::DECIMAL(38,38) AS e"),
              "[{\"a\":-1234567890123456789012345678.0123456789,"
              "\"b\":9999999999999999999999999999.9999999999,\"c\":0.0000000001,"
              "\"d\":-99999999999999999999999999999999999999,"
              "\"e\":0.12345678901234567890123456789012345678}]");
}

static void test_floating(void)
{
    CHECK_STR(rows("SELECT 0.1::DOUBLE AS a, 'nan'::DOUBLE AS b, 'inf'::DOUBLE AS c, "
                   "'-inf'::DOUBLE AS d, 1e20::DOUBLE AS e, 0::DOUBLE AS f, "
                   "'-0.0'::DOUBLE AS g, 1.5e-7::DOUBLE AS h, 123456.789::DOUBLE AS i, "
                   "1/3 AS j, 1e15::DOUBLE AS k, 999999999999999::DOUBLE AS l, "
                   "(-2.5)::DOUBLE AS m, 0.0001::DOUBLE AS o, NULL::DOUBLE AS n"),
              "[{\"a\":0.1,\"b\":\"NaN\",\"c\":\"Infinity\",\"d\":\"-Infinity\",\"e\":1e+20,"
              "\"f\":0,\"g\":-0,\"h\":1.5e-07,\"i\":123456.789,\"j\":0.3333333333333333,"
              "\"k\":1e+15,\"l\":999999999999999,\"m\":-2.5,\"o\":0.0001,\"n\":null}]");
    CHECK_STR(rows("SELECT 5e-324::DOUBLE AS a, 1.7976931348623157e308::DOUBLE AS b, "
                   "2.2250738585072014e-308::DOUBLE AS c, 1e-5::DOUBLE AS d, "
                   "0.30000000000000004::DOUBLE AS e"),
              "[{\"a\":5e-324,\"b\":1.7976931348623157e+308,\"c\":2.2250738585072014e-308,"
              "\"d\":1e-05,\"e\":0.30000000000000004}]");
    CHECK_STR(rows("SELECT 0.1::FLOAT AS a, 0.3::FLOAT AS b, 'nan'::FLOAT AS c, "
                   "'-inf'::FLOAT AS d, 3.4028235e38::FLOAT AS e, 16777217::FLOAT AS f, "
                   "1.4e-45::FLOAT AS g, (-1.25)::FLOAT AS h, 1e-40::FLOAT AS i, "
                   "NULL::FLOAT AS n"),
              "[{\"a\":0.1,\"b\":0.3,\"c\":\"NaN\",\"d\":\"-Infinity\",\"e\":3.4028235e+38,"
              "\"f\":16777216,\"g\":1e-45,\"h\":-1.25,\"i\":1e-40,\"n\":null}]");
}

static void test_strings(void)
{
    CHECK_STR(rows("SELECT 'a\"b\\c' AS s, 'héllo' AS u, chr(10) || chr(13) || chr(9) || chr(8) || "
                   "chr(12) || chr(1) || chr(31) AS c, '' AS e, "
                   "'this string is longer than twelve bytes' AS long, "
                   "'twelve bytes' AS twelve, 'thirteen byte' AS thirteen, "
                   "'a' || chr(0) || 'b' AS nul, NULL::VARCHAR AS n"),
              "[{\"s\":\"a\\\"b\\\\c\",\"u\":\"héllo\",\"c\":\"\\n\\r\\t\\b\\f\\u0001\\u001f\","
              "\"e\":\"\",\"long\":\"this string is longer than twelve bytes\","
              "\"twelve\":\"twelve bytes\",\"thirteen\":\"thirteen byte\","
              "\"nul\":\"a\\u0000b\",\"n\":null}]");
}

static const char *escaped(const char *s, size_t n)
{
    got.len = 0;
    json_append_string(&got, s, n);
    return buf_cstr(&got);
}

#define ESC(lit) escaped(lit, sizeof(lit) - 1)

static void test_append_string(void)
{
    CHECK_STR(ESC("plain"), "\"plain\"");
    CHECK_STR(ESC(""), "\"\"");
    CHECK_STR(ESC("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
    CHECK_STR(ESC("\n\r\t\b\f\x01\x1f\x7f"), "\"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
    CHECK_STR(ESC("a\0b"), "\"a\\u0000b\"");
    /* Valid UTF-8 of 2, 3 and 4 bytes, U+2028 included, is kept. */
    CHECK_STR(ESC("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xE2\x80\xA8\xF4\x8F\xBF\xBF"),
              "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xE2\x80\xA8\xF4\x8F\xBF\xBF\"");
    /* Each maximal ill-formed subsequence becomes one U+FFFD. */
#define FFFD "\xEF\xBF\xBD"
    CHECK_STR(ESC("\xFF"), "\"" FFFD "\"");
    CHECK_STR(ESC("a\x80z"), "\"a" FFFD "z\"");
    CHECK_STR(ESC("\xC0\xAF"), "\"" FFFD FFFD "\"");          /* overlong '/' */
    CHECK_STR(ESC("\xC1\xBF"), "\"" FFFD FFFD "\"");          /* overlong */
    CHECK_STR(ESC("\xE0\x80\xAF"), "\"" FFFD FFFD FFFD "\""); /* overlong */
    CHECK_STR(ESC("\xF0\x80\x80\xAF"), "\"" FFFD FFFD FFFD FFFD "\"");
    CHECK_STR(ESC("\xED\xA0\x80"), "\"" FFFD FFFD FFFD "\"");          /* surrogate */
    CHECK_STR(ESC("\xF4\x90\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\""); /* > U+10FFFF */
    CHECK_STR(ESC("\xF5\x80"), "\"" FFFD FFFD "\"");
    CHECK_STR(ESC("x\xE2\x82"), "\"x" FFFD "\"");   /* truncated at the end */
    CHECK_STR(ESC("\xE2\x82x"), "\"" FFFD "x\"");   /* truncated by an ASCII byte */
    CHECK_STR(ESC("\xF0\x9F\x98"), "\"" FFFD "\""); /* truncated 4-byte sequence */
    CHECK_STR(ESC("\xC3\n"), "\"" FFFD "\\n\"");
#undef FFFD
    /* Whatever the bytes, the result parses as a JSON string and holds no raw newline. */
    uint32_t seed = 12345;
    char bytes[64];
    bool all_valid = true;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 64);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245 + 12345;
            unsigned char b = (unsigned char)(seed >> 16);
            /* Bias towards the interesting bytes. */
            bytes[i] = (char)(round % 3 == 0 ? b : (b & 0x3F) | (b & 0x40 ? 0x80 : 0xC0));
        }
        const char *s = escaped(bytes, n);
        if (!valid_json(s) || strchr(s, '\n') || strlen(s) != got.len) {
            all_valid = false;
            break;
        }
    }
    CHECK(all_valid);
}

static void test_blob_bit(void)
{
    CHECK_STR(rows("SELECT '\\x00\\xFF'::BLOB AS a, 'abc'::BLOB AS b, ''::BLOB AS c, "
                   "'\\x0A\\x22\\x5C'::BLOB AS d, NULL::BLOB AS n, "
                   "repeat('\\xAB', 20)::BLOB AS long"),
              "[{\"a\":\"\\\\x00ff\",\"b\":\"\\\\x616263\",\"c\":\"\\\\x\","
              "\"d\":\"\\\\x0a225c\",\"n\":null,"
              "\"long\":\"\\\\xabababababababababababababababababababab\"}]");
    /* The first byte of a BIT counts the padding bits of the second. */
    CHECK_STR(
        rows("SELECT '0101'::BIT AS a, '1'::BIT AS b, '0'::BIT AS c, "
             "'10101010'::BIT AS d, '111100001'::BIT AS e, "
             "'0000000011111111000000001111111100000000111111110000000011111111001'::BIT AS f, "
             "NULL::BIT AS n"),
        "[{\"a\":\"0101\",\"b\":\"1\",\"c\":\"0\",\"d\":\"10101010\","
        "\"e\":\"111100001\","
        "\"f\":\"0000000011111111000000001111111100000000111111110000000011111111001\","
        "\"n\":null}]");
}

static void test_enum_uuid(void)
{
    exec("CREATE TYPE mood AS ENUM ('sad', 'ok', 'hap\"py')");
    /* More than 255 and 65535 values: stored as uint16 and uint32. */
    exec("CREATE TYPE mid_enum AS ENUM (SELECT 'm' || i FROM range(300) t(i))");
    exec("CREATE TYPE big_enum AS ENUM (SELECT 'b' || i FROM range(70000) t(i))");
    CHECK_STR(rows("SELECT 'ok'::mood AS a, 'hap\"py'::mood AS b, NULL::mood AS n, "
                   "'m299'::mid_enum AS m, 'b69999'::big_enum AS b2, 'b0'::big_enum AS b3"),
              "[{\"a\":\"ok\",\"b\":\"hap\\\"py\",\"n\":null,\"m\":\"m299\",\"b2\":\"b69999\","
              "\"b3\":\"b0\"}]");
    CHECK_STR(rows("SELECT '550e8400-e29b-41d4-a716-446655440000'::UUID AS a, "
                   "'00000000-0000-0000-0000-000000000000'::UUID AS b, "
                   "'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID AS c, "
                   "'7fffffff-0000-0000-8000-000000000001'::UUID AS d, NULL::UUID AS n"),
              "[{\"a\":\"550e8400-e29b-41d4-a716-446655440000\","
              "\"b\":\"00000000-0000-0000-0000-000000000000\","
              "\"c\":\"ffffffff-ffff-ffff-ffff-ffffffffffff\","
              "\"d\":\"7fffffff-0000-0000-8000-000000000001\",\"n\":null}]");
}

static void test_dates(void)
{
    CHECK_STR(rows("SELECT '2024-01-31'::DATE AS a, 'infinity'::DATE AS b, "
                   "'-infinity'::DATE AS c, '0001-01-01'::DATE AS d, '9999-12-31'::DATE AS e, "
                   "'0044-03-15 (BC)'::DATE AS f, '0001-12-31 (BC)'::DATE AS g, "
                   "'1970-01-01'::DATE AS h, '1969-12-31'::DATE AS i, '2000-02-29'::DATE AS j, "
                   "'1900-03-01'::DATE AS k, '10000-01-01'::DATE AS l, "
                   "'5881580-07-10'::DATE AS m, '5877642-06-25 (BC)'::DATE AS o, "
                   "NULL::DATE AS n"),
              "[{\"a\":\"2024-01-31\",\"b\":\"infinity\",\"c\":\"-infinity\","
              "\"d\":\"0001-01-01\",\"e\":\"9999-12-31\",\"f\":\"-0043-03-15\","
              "\"g\":\"0000-12-31\",\"h\":\"1970-01-01\",\"i\":\"1969-12-31\","
              "\"j\":\"2000-02-29\",\"k\":\"1900-03-01\",\"l\":\"10000-01-01\","
              "\"m\":\"5881580-07-10\",\"o\":\"-5877641-06-25\",\"n\":null}]");
}

static void test_times(void)
{
    CHECK_STR(rows("SELECT '13:45:30.25'::TIME AS a, '00:00:00'::TIME AS b, "
                   "'24:00:00'::TIME AS c, '23:59:59.999999'::TIME AS d, "
                   "'01:02:03.000001'::TIME AS e, NULL::TIME AS n"),
              "[{\"a\":\"13:45:30.25\",\"b\":\"00:00:00\",\"c\":\"24:00:00\","
              "\"d\":\"23:59:59.999999\",\"e\":\"01:02:03.000001\",\"n\":null}]");
    CHECK_STR(rows("SELECT '13:45:30.123456789'::TIME_NS AS a, '13:45:30'::TIME_NS AS b, "
                   "'00:00:00.000000001'::TIME_NS AS c, NULL::TIME_NS AS n"),
              "[{\"a\":\"13:45:30.123456789\",\"b\":\"13:45:30\",\"c\":\"00:00:00.000000001\","
              "\"n\":null}]");
    CHECK_STR(rows("SELECT '13:45:30+02:00'::TIMETZ AS a, '13:45:30.5-05:30'::TIMETZ AS b, "
                   "'00:00:00+00'::TIMETZ AS c, '12:00:00+15:59'::TIMETZ AS d, "
                   "'12:00:00-15:59'::TIMETZ AS e, NULL::TIMETZ AS n"),
              "[{\"a\":\"13:45:30+02:00\",\"b\":\"13:45:30.5-05:30\",\"c\":\"00:00:00+00:00\","
              "\"d\":\"12:00:00+15:59\",\"e\":\"12:00:00-15:59\",\"n\":null}]");
}

static void test_timestamps(void)
{
    CHECK_STR(rows("SELECT '2024-01-31 13:45:30.5'::TIMESTAMP AS a, "
                   "'2024-01-31 13:45:30'::TIMESTAMP AS b, 'infinity'::TIMESTAMP AS c, "
                   "'-infinity'::TIMESTAMP AS d, '1969-12-31 23:59:59.999999'::TIMESTAMP AS e, "
                   "'0044-03-15 (BC) 12:00:00'::TIMESTAMP AS f, "
                   "'0001-01-01 00:00:00'::TIMESTAMP AS g, NULL::TIMESTAMP AS n"),
              "[{\"a\":\"2024-01-31T13:45:30.5\",\"b\":\"2024-01-31T13:45:30\","
              "\"c\":\"infinity\",\"d\":\"-infinity\",\"e\":\"1969-12-31T23:59:59.999999\","
              "\"f\":\"-0043-03-15T12:00:00\",\"g\":\"0001-01-01T00:00:00\",\"n\":null}]");
    CHECK_STR(rows("SELECT '2024-01-31 13:45:30'::TIMESTAMP_S AS s, "
                   "'1960-01-31 13:45:30.123'::TIMESTAMP_MS AS ms, "
                   "'2024-01-31 13:45:30.123456789'::TIMESTAMP_NS AS ns, "
                   "'1969-12-31 23:59:59.999999999'::TIMESTAMP_NS AS ns2, "
                   "'infinity'::TIMESTAMP_S AS si, '-infinity'::TIMESTAMP_MS AS msi, "
                   "'infinity'::TIMESTAMP_NS AS nsi, NULL::TIMESTAMP_NS AS n"),
              "[{\"s\":\"2024-01-31T13:45:30\",\"ms\":\"1960-01-31T13:45:30.123\","
              "\"ns\":\"2024-01-31T13:45:30.123456789\","
              "\"ns2\":\"1969-12-31T23:59:59.999999999\",\"si\":\"infinity\","
              "\"msi\":\"-infinity\",\"nsi\":\"infinity\",\"n\":null}]");
    /* TIMESTAMPTZ is stored as UTC, so the session's time zone does not matter. */
    exec("SET TimeZone = 'America/New_York'");
    CHECK_STR(rows("SELECT '2024-01-31 13:45:30+02'::TIMESTAMPTZ AS a, "
                   "'2024-07-01 00:00:00.25+00'::TIMESTAMPTZ AS b, "
                   "'infinity'::TIMESTAMPTZ AS c, '-infinity'::TIMESTAMPTZ AS d, "
                   "NULL::TIMESTAMPTZ AS n"),
              "[{\"a\":\"2024-01-31T11:45:30Z\",\"b\":\"2024-07-01T00:00:00.25Z\","
              "\"c\":\"infinity\",\"d\":\"-infinity\",\"n\":null}]");
    exec("RESET TimeZone");
}

static void test_intervals(void)
{
    CHECK_STR(rows("SELECT INTERVAL '1 year 2 months 3 days 04:05:06.5' AS a, "
                   "INTERVAL '0' AS b, INTERVAL '-1 day' AS c, "
                   "INTERVAL '1 month -1 hour' AS d, INTERVAL '-0.5 seconds' AS e, "
                   "INTERVAL '-14 months' AS f, INTERVAL '-1 day -01:02:03.25' AS g, "
                   "INTERVAL '36 hours' AS h, INTERVAL '1 year' AS i, "
                   "INTERVAL '00:00:00.000001' AS j, INTERVAL '2 days 00:01:00' AS k, "
                   "NULL::INTERVAL AS n"),
              "[{\"a\":\"P1Y2M3DT4H5M6.5S\",\"b\":\"PT0S\",\"c\":\"P-1D\",\"d\":\"P1MT-1H\","
              "\"e\":\"PT-0.5S\",\"f\":\"P-1Y-2M\",\"g\":\"P-1DT-1H-2M-3.25S\","
              "\"h\":\"PT36H\",\"i\":\"P1Y\",\"j\":\"PT0.000001S\",\"k\":\"P2DT1M\","
              "\"n\":null}]");
}

static void test_bignum(void)
{
    CHECK_STR(rows("SELECT 0::BIGNUM AS a, 1::BIGNUM AS b, (-1)::BIGNUM AS c, 255::BIGNUM AS d, "
                   "256::BIGNUM AS e, (-256)::BIGNUM AS f, 4294967296::BIGNUM AS g, "
                   "'123456789012345678901234567890'::BIGNUM AS h, "
                   "'-1000000000000000000000000000000000000000000'::BIGNUM AS i, "
                   "NULL::BIGNUM AS n"),
              "[{\"a\":0,\"b\":1,\"c\":-1,\"d\":255,\"e\":256,\"f\":-256,\"g\":4294967296,"
              "\"h\":123456789012345678901234567890,"
              "\"i\":-1000000000000000000000000000000000000000000,\"n\":null}]");
}

static void test_lists_structs(void)
{
    CHECK_STR(rows("SELECT [1, NULL, 3] AS l, []::INTEGER[] AS e, NULL::INTEGER[] AS n, "
                   "[NULL]::INTEGER[] AS ln, [[1], [], NULL, [2, 3]] AS ll, "
                   "['a', 'a string longer than 12'] AS ls"),
              "[{\"l\":[1,null,3],\"e\":[],\"n\":null,\"ln\":[null],\"ll\":[[1],[],null,[2,3]],"
              "\"ls\":[\"a\",\"a string longer than 12\"]}]");
    CHECK_STR(rows("SELECT {'a': 1, 'b': 'x'} AS s, NULL::STRUCT(a INTEGER) AS n, "
                   "{'a': NULL, 'b\"': [1]} AS s2, {'x': {'y': [{'z': 1}]}} AS deep, "
                   "[{'a': 1, 'b': [2]}, NULL, {'a': NULL, 'b': []}] AS ls"),
              "[{\"s\":{\"a\":1,\"b\":\"x\"},\"n\":null,\"s2\":{\"a\":null,\"b\\\"\":[1]},"
              "\"deep\":{\"x\":{\"y\":[{\"z\":1}]}},"
              "\"ls\":[{\"a\":1,\"b\":[2]},null,{\"a\":null,\"b\":[]}]}]");
    /* An unnamed struct's fields have empty names, deduplicated like columns. */
    CHECK_STR(rows("SELECT row(1, 'x', 2) AS r"), "[{\"r\":{\"\":1,\"_1\":\"x\",\"_2\":2}}]");
}

static void test_maps(void)
{
    CHECK_STR(rows("SELECT MAP {'k1': 1, 'k2': NULL} AS a, MAP {1: 'x', 2: 'y'} AS b, "
                   "MAP {} AS c, NULL::MAP(INTEGER, INTEGER) AS n, "
                   "MAP {'q\"': MAP {'in': [1]}} AS d, MAP {[1, 2]: 1} AS e, "
                   "MAP {true: 1.5} AS f, MAP {'2024-01-31'::DATE: 1} AS g, "
                   "MAP {1.5::DOUBLE: 1} AS h"),
              "[{\"a\":{\"k1\":1,\"k2\":null},\"b\":{\"1\":\"x\",\"2\":\"y\"},\"c\":{},"
              "\"n\":null,\"d\":{\"q\\\"\":{\"in\":[1]}},\"e\":{\"[1,2]\":1},"
              "\"f\":{\"true\":1.5},\"g\":{\"2024-01-31\":1},\"h\":{\"1.5\":1}}]");
}

static void test_arrays_unions(void)
{
    CHECK_STR(rows("SELECT [1, 2, 3]::INTEGER[3] AS a, NULL::INTEGER[3] AS n, "
                   "[1, NULL, 3]::INTEGER[3] AS b, [[1, 2], [3, 4]]::INTEGER[2][2] AS c, "
                   "['x', 'y']::VARCHAR[2] AS d, [{'a': 1}]::STRUCT(a INTEGER)[1] AS e"),
              "[{\"a\":[1,2,3],\"n\":null,\"b\":[1,null,3],\"c\":[[1,2],[3,4]],"
              "\"d\":[\"x\",\"y\"],\"e\":[{\"a\":1}]}]");
    CHECK_STR(rows("SELECT union_value(n := 42)::UNION(n INTEGER, s VARCHAR) AS a, "
                   "union_value(s := 'x')::UNION(n INTEGER, s VARCHAR) AS b, "
                   "NULL::UNION(n INTEGER, s VARCHAR) AS c, "
                   "union_value(s := NULL::VARCHAR)::UNION(n INTEGER, s VARCHAR) AS d, "
                   "[union_value(l := [1])::UNION(n INTEGER, l INTEGER[])] AS e"),
              "[{\"a\":42,\"b\":\"x\",\"c\":null,\"d\":null,\"e\":[[1]]}]");
}

static void test_unsupported(void)
{
    /* Types DuckDB 1.5 added after the C header we build against. */
    CHECK_STR(rows("SELECT 1::VARIANT AS v, NULL::VARIANT AS n, "
                   "'POINT(1 2)'::GEOMETRY AS g"),
              "[{\"v\":\"<unsupported type VARIANT>\",\"n\":null,"
              "\"g\":\"<unsupported type GEOMETRY>\"}]");
}

static void test_column_names(void)
{
    CHECK_STR(rows("SELECT 1 AS a, 2 AS a, 3 AS a"), "[{\"a\":1,\"a_1\":2,\"a_2\":3}]");
    /* Taken means assigned to an earlier column, as in DuckDB's CREATE TABLE AS. */
    CHECK_STR(rows("SELECT 1 AS a, 2 AS a, 3 AS a_1"), "[{\"a\":1,\"a_1\":2,\"a_1_1\":3}]");
    CHECK_STR(rows("SELECT 1 AS a_1, 2 AS a, 3 AS a, 4 AS a"),
              "[{\"a_1\":1,\"a\":2,\"a_2\":3,\"a_3\":4}]");
    /* Names compare case-insensitively, as DuckDB's identifiers do. */
    CHECK_STR(rows("SELECT 1 AS a, 2 AS A, 3 AS A_1"), "[{\"a\":1,\"A_1\":2,\"A_1_1\":3}]");
    CHECK_STR(rows("SELECT 1 AS \"q\"\"uote\\\", 2 AS \"é\""), "[{\"q\\\"uote\\\\\":1,\"é\":2}]");
    CHECK_STR(rows("SELECT 1 AS x WHERE false"), "[]");
    CHECK(got_rows == 0);
}

static void test_many_rows(void)
{
    /* 5000 rows come in three chunks: commas between chunks, none before the first. */
    Buf want = BUF_INIT;
    buf_putc(&want, '[');
    for (int i = 0; i < 5000; i++) {
        buf_printf(&want, "%s{\"i\":%d,\"l\":", i ? "," : "", i);
        if (i % 3 == 0)
            buf_printf(&want, "null");
        else
            buf_printf(&want, "[%d,%d]", i, -i);
        buf_printf(&want, ",\"c\":\"const\"}");
    }
    buf_putc(&want, ']');
    const char *s =
        rows("SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE [i, -i] END AS l, 'const' AS c "
             "FROM range(5000) t(i) ORDER BY i");
    CHECK_STR(s, buf_cstr(&want));
    CHECK(got_rows == 5000);
    CHECK(valid_json(s));
    buf_free(&want);
}

/* A result fetched from a materialized (not streaming) query. */
static void test_materialized(void)
{
    duckdb_result res;
    CHECK(duckdb_query(con, "SELECT i, i * 2 AS d FROM range(3000) t(i)", &res) == DuckDBSuccess);
    JsonRows *jr = json_rows_new(&res);
    Buf out = BUF_INIT;
    size_t n = 0;
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        if (!chunk)
            break;
        n += json_rows_append_chunk(jr, chunk, &out);
        duckdb_destroy_data_chunk(&chunk);
    }
    CHECK(n == 3000);
    const char *s = buf_cstr(&out);
    CHECK(strncmp(s, "{\"i\":0,\"d\":0},{\"i\":1,\"d\":2},", 28) == 0);
    CHECK(strstr(s, ",{\"i\":2999,\"d\":5998}") != NULL);
    json_rows_free(jr);
    json_rows_free(NULL);
    buf_free(&out);
    duckdb_destroy_result(&res);
}

/* The whole type zoo, in many rows with NULLs, must be valid JSON. */
static void test_everything_is_valid_json(void)
{
    const char *s =
        rows("SELECT i, i % 2 = 0 AS b, (i % 100)::TINYINT AS t, (i * 1e10)::HUGEINT AS h, "
             "(i / 7)::DECIMAL(18,4) AS d, i / 7 AS f, (i / 7)::FLOAT AS ff, "
             "CASE WHEN i % 5 = 0 THEN NULL ELSE 'v' || i END AS s, "
             "('\\x' || lpad(to_hex(i % 256), 2, '0'))::BLOB AS bl, "
             "DATE '1990-01-01' + i::INTEGER AS dt, TIMESTAMP '1990-01-01' + "
             "to_seconds(i * 3600.5) AS ts, "
             "to_seconds(i) AS iv, [i, NULL] AS l, {'a': i, 'b': [i::VARCHAR]} AS st, "
             "MAP {i::VARCHAR: i} AS m, gen_random_uuid() AS u, "
             "CASE WHEN i % 7 = 0 THEN 'nan'::DOUBLE ELSE i * 1e300 * 1e10 END AS inf "
             "FROM range(3000) t(i)");
    CHECK(s != NULL);
    CHECK(valid_json(s));
}

/* ---- Cross-checks against DuckDB's own text for generated values -------- */

/*
 * `values` yields columns i and v; `text` is a SQL expression over v giving
 * its expected JSON. Checks that our encoding of v equals it for every row.
 */
static void cross_check(const char *values, const char *text)
{
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "SELECT '[' || string_agg('{\"v\":' || coalesce(%s, 'null') || '}', ',' ORDER BY i) "
             "|| ']' FROM (%s)",
             text, values);
    char *want = first_string(sql);
    snprintf(sql, sizeof(sql), "SELECT v FROM (%s) ORDER BY i", values);
    CHECK(want != NULL);
    if (want)
        CHECK_STR(rows(sql), want);
    free(want);
}

static void test_cross_check_numbers(void)
{
    cross_check("SELECT i, (CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END) * hash(i)::HUGEINT * "
                "(hash(i + 1) >> (i % 64 + 1))::HUGEINT AS v FROM range(3000) t(i)",
                "v::VARCHAR");
    cross_check("SELECT i, hash(i)::UHUGEINT * (hash(i + 1) >> (i % 64))::UHUGEINT AS v "
                "FROM range(3000) t(i)",
                "v::VARCHAR");
    cross_check("SELECT i, (CASE WHEN i % 2 = 0 THEN '-' ELSE '' END || "
                "(hash(i) % 10000000000000000000)::VARCHAR || (hash(i + 7) % 1000000000)::VARCHAR "
                "|| '.' || lpad((hash(i + 3) % 10000000000)::VARCHAR, 10, '0'))::DECIMAL(38,10) "
                "AS v FROM range(3000) t(i)",
                "v::VARCHAR");
    cross_check("SELECT i, ((hash(i) % 2000000)::DOUBLE / 1000 - 1000)::DECIMAL(18,4) AS v "
                "FROM range(3000) t(i)",
                "v::VARCHAR");
    cross_check("SELECT i, ((hash(i) % 2000000)::DOUBLE / 1000 - 1000)::DECIMAL(9,3) AS v "
                "FROM range(3000) t(i)",
                "v::VARCHAR");
    cross_check("SELECT i, ((hash(i) % 1999)::DOUBLE / 100 - 9.99)::DECIMAL(4,2) AS v "
                "FROM range(3000) t(i)",
                "v::VARCHAR");
    cross_check("SELECT i, (CASE WHEN i % 2 = 0 THEN '-' ELSE '' END || (hash(i) % 1000) || "
                "repeat(hash(i)::VARCHAR, (i % 50)::INTEGER))::BIGNUM AS v FROM range(2000) t(i)",
                "v::VARCHAR");
    cross_check("SELECT i, (hash(i) % 3)::BIGNUM AS v FROM range(10) t(i) "
                "UNION ALL SELECT 10, repeat('9', 2000)::BIGNUM",
                "v::VARCHAR");
}

static void test_cross_check_dates(void)
{
    cross_check("SELECT i, DATE '0001-01-01' + (hash(i) % 3652059)::INTEGER AS v "
                "FROM range(5000) t(i)",
                "'\"' || v::VARCHAR || '\"'");
    cross_check("SELECT i, TIMESTAMP '0001-01-01' + to_microseconds(CASE WHEN i % 3 = 0 THEN "
                "(hash(i) % 315537897600)::BIGINT * 1000000 ELSE (hash(i) % 315537897600000000)"
                "::BIGINT END) AS v FROM range(5000) t(i)",
                "'\"' || replace(v::VARCHAR, ' ', 'T') || '\"'");
    cross_check("SELECT i, make_timestamp_ns((hash(i) % 9000000000000000000)::BIGINT - "
                "4500000000000000000) AS v FROM range(3000) t(i)",
                "'\"' || replace(v::VARCHAR, ' ', 'T') || '\"'");
    cross_check("SELECT i, TIME '00:00:00' + to_microseconds((hash(i) % 86400000000)::BIGINT) "
                "AS v FROM range(3000) t(i)",
                "'\"' || v::VARCHAR || '\"'");
}

/* Doubles and floats: each printed number reads back as the same value and
 * has no more significant digits than the shortest %.Ng that does. */
static int shortest_digits(double v, bool is_float)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (is_float ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
            return prec;
    }
    return 17;
}

static int significant_digits(const char *s, size_t n)
{
    int digits = 0, pending_zeros = 0;
    bool started = false;
    for (size_t i = 0; i < n && s[i] != 'e'; i++) {
        if (s[i] < '0' || s[i] > '9')
            continue;
        if (s[i] == '0') {
            if (started)
                pending_zeros++;
            continue;
        }
        started = true;
        digits += pending_zeros + 1;
        pending_zeros = 0;
    }
    return digits ? digits : 1;
}

static void check_shortest(const char *sql, bool is_float)
{
    duckdb_result res;
    CHECK(duckdb_query(con, sql, &res) == DuckDBSuccess);
    JsonRows *jr = json_rows_new(&res);
    Buf out = BUF_INIT;
    int bad = 0, checked = 0;
    for (;;) {
        duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
        if (!chunk)
            break;
        duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, 0);
        void *data = duckdb_vector_get_data(vec);
        idx_t n = duckdb_data_chunk_get_size(chunk);
        out.len = 0;
        json_rows_append_chunk(jr, chunk, &out);
        const char *p = buf_cstr(&out);
        for (idx_t r = 0; r < n; r++) {
            double v = is_float ? (double)((float *)data)[r] : ((double *)data)[r];
            p = strstr(p, "\"v\":") + 4;
            size_t len = strcspn(p, "}");
            if (isfinite(v)) {
                char *end;
                double back = is_float ? (double)strtof(p, &end) : strtod(p, &end);
                checked++;
                if (back != v || signbit(back) != signbit(v) || end != p + len ||
                    significant_digits(p, len) > shortest_digits(v, is_float)) {
                    if (bad++ < 5)
                        fprintf(stderr, "double %.17g printed as %.*s\n", v, (int)len, p);
                }
            }
            p += len;
        }
        duckdb_destroy_data_chunk(&chunk);
    }
    CHECK(bad == 0);
    CHECK(checked > 1000);
    json_rows_free(jr);
    buf_free(&out);
    duckdb_destroy_result(&res);
}

static void test_cross_check_floating(void)
{
    check_shortest(
        "SELECT ((hash(i) % 100000000)::DOUBLE / pow(10, (hash(i + 1) % 40)::INTEGER - 20) "
        "* CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END) AS v FROM range(5000) t(i)",
        false);
    check_shortest("SELECT (hash(i)::DOUBLE / (hash(i + 1) % 1000 + 1)::DOUBLE * "
                   "pow(10, (hash(i + 2) % 600)::INTEGER - 300)) AS v FROM range(5000) t(i)",
                   false);
    check_shortest("SELECT 1 / (i + 1) AS v FROM range(3000) t(i)", false);
    check_shortest(
        "SELECT ((hash(i) % 100000000)::DOUBLE / pow(10, (hash(i + 1) % 60)::INTEGER - 30) "
        "* CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END)::FLOAT AS v FROM range(5000) t(i)",
        true);
    check_shortest("SELECT (1 / (i + 1))::FLOAT AS v FROM range(3000) t(i)", true);
}

int main(void)
{
    if (duckdb_open(NULL, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess) {
        fprintf(stderr, "cannot open DuckDB\n");
        return 1;
    }
    UNIT_RUN(test_booleans_and_integers);
    UNIT_RUN(test_hugeint);
    UNIT_RUN(test_decimal);
    UNIT_RUN(test_floating);
    UNIT_RUN(test_strings);
    UNIT_RUN(test_append_string);
    UNIT_RUN(test_blob_bit);
    UNIT_RUN(test_enum_uuid);
    UNIT_RUN(test_dates);
    UNIT_RUN(test_times);
    UNIT_RUN(test_timestamps);
    UNIT_RUN(test_intervals);
    UNIT_RUN(test_bignum);
    UNIT_RUN(test_lists_structs);
    UNIT_RUN(test_maps);
    UNIT_RUN(test_arrays_unions);
    UNIT_RUN(test_unsupported);
    UNIT_RUN(test_column_names);
    UNIT_RUN(test_many_rows);
    UNIT_RUN(test_materialized);
    UNIT_RUN(test_everything_is_valid_json);
    UNIT_RUN(test_cross_check_numbers);
    UNIT_RUN(test_cross_check_dates);
    UNIT_RUN(test_cross_check_floating);
    buf_free(&got);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return unit_summary("test_json");
}
