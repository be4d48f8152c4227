/*
 * Unit tests of pgwire.c: framing (fed in pieces of every size), lengths out
 * of bounds, field reads at the end of a message, server messages, the
 * SQLSTATE table, DuckDB values in PostgreSQL's text and binary formats
 * (through an in-memory DuckDB), and PostgreSQL's array text read as
 * DuckDB's list literal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire.h"
#include "unit.h"

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A startup packet, then Query "select 1" and Terminate, as one stream. */
static size_t stream(unsigned char *buf)
{
    static const char params[] = "user\0duck\0\0";
    size_t n = 0;
    put32(buf, 8 + sizeof(params) - 1);
    put32(buf + 4, PGWIRE_PROTOCOL_3_0);
    memcpy(buf + 8, params, sizeof(params) - 1);
    n = 8 + sizeof(params) - 1;
    buf[n] = 'Q';
    put32(buf + n + 1, 4 + 9);
    memcpy(buf + n + 5, "select 1", 9);
    n += 5 + 9;
    buf[n] = 'X';
    put32(buf + n + 1, 4);
    return n + 5;
}

static void test_framing_in_pieces(void)
{
    unsigned char buf[128];
    size_t total = stream(buf);
    for (size_t piece = 1; piece <= total; piece++) {
        PgReader r = {0};
        int seen = 0;
        bool startup = true;
        for (size_t off = 0; off < total; off += piece) {
            size_t n = total - off < piece ? total - off : piece;
            memcpy(pgwire_space(&r, n), buf + off, n);
            pgwire_commit(&r, n);
            PgMsg m;
            while (pgwire_next(&r, startup, 1024, &m) == PGWIRE_MSG) {
                if (seen == 0) {
                    PgIn in = pgwire_in(&m);
                    CHECK(m.type == 0 && (uint32_t)pgwire_get_i32(&in) == PGWIRE_PROTOCOL_3_0);
                    CHECK_STR(pgwire_get_str(&in), "user");
                    CHECK_STR(pgwire_get_str(&in), "duck");
                } else if (seen == 1) {
                    PgIn in = pgwire_in(&m);
                    CHECK(m.type == 'Q');
                    CHECK_STR(pgwire_get_str(&in), "select 1");
                    CHECK(in.left == 0 && !in.bad);
                } else {
                    CHECK(m.type == 'X' && m.len == 0);
                }
                startup = false;
                seen++;
            }
        }
        CHECK(seen == 3);
        CHECK(pgwire_pending(&r) == 0);
        pgwire_reader_free(&r);
    }
}

static void test_lengths(void)
{
    unsigned char b[16];
    PgReader r = {0};
    PgMsg m;
    put32(b, 1u << 30); /* 1 GB startup packet: refused from its 4 length bytes */
    memcpy(pgwire_space(&r, 4), b, 4);
    pgwire_commit(&r, 4);
    CHECK(pgwire_next(&r, true, 4096, &m) == PGWIRE_TOO_LONG);
    pgwire_reader_free(&r);
    put32(b, 7); /* shorter than length and code */
    memcpy(pgwire_space(&r, 4), b, 4);
    pgwire_commit(&r, 4);
    CHECK(pgwire_next(&r, true, 4096, &m) == PGWIRE_BAD);
    pgwire_reader_free(&r);
    b[0] = 'Q';
    put32(b + 1, 3); /* a typed message shorter than its length field */
    memcpy(pgwire_space(&r, 5), b, 5);
    pgwire_commit(&r, 5);
    CHECK(pgwire_next(&r, false, 4096, &m) == PGWIRE_BAD);
    pgwire_reader_free(&r);
    b[0] = 'Q';
    put32(b + 1, 5000);
    memcpy(pgwire_space(&r, 5), b, 5);
    pgwire_commit(&r, 5);
    CHECK(pgwire_next(&r, false, 4096, &m) == PGWIRE_TOO_LONG);
    pgwire_reader_free(&r);
}

static void test_fields_stop_at_the_end(void)
{
    PgMsg m = {'B', "ab\0c", 4};
    PgIn in = pgwire_in(&m);
    CHECK_STR(pgwire_get_str(&in), "ab");
    CHECK_STR(pgwire_get_str(&in), ""); /* "c" has no NUL */
    CHECK(in.bad);
    in = pgwire_in(&m);
    CHECK(pgwire_get_i32(&in) != 0 && !in.bad);
    CHECK(pgwire_get_i16(&in) == 0 && in.bad);
    in = pgwire_in(&m);
    CHECK(pgwire_get_bytes(&in, 5) == NULL && in.bad);
    CHECK(pgwire_get_u8(&in) == 0); /* stays bad */
}

static void test_messages(void)
{
    Buf b = BUF_INIT;
    pgwire_ready(&b, 'I');
    CHECK(b.len == 6 && memcmp(b.data, "Z\0\0\0\5I", 6) == 0);
    buf_reset(&b, 0);
    pgwire_command_complete(&b, "SELECT 1");
    CHECK(b.len == 1 + 4 + 9 && b.data[0] == 'C' && b.data[4] == 13);
    buf_reset(&b, 0);
    pgwire_error_line(&b, "ERROR", "Error: Parser Error: syntax error\\nLINE 1: x\n", 44);
    CHECK(b.data[0] == 'E');
    CHECK(memmem(b.data, b.len, "C42601", 7) != NULL);
    CHECK(memmem(b.data, b.len, "MParser Error: syntax error\nLINE 1: x", 38) != NULL);
    buf_free(&b);
}

static void test_sqlstates(void)
{
    static const struct {
        const char *line, *state;
    } cases[] = {
        {"Error: Access Denied: User \"u\" does not have access over Tables \"t\"", "42501"},
        {"Error: Access Denied: User \"u\" does not have access over Database \"d\"", "42501"},
        {"Error: Canceled: canceling statement due to user request", "57014"},
        {"Error: Statement Timeout: the statement ran longer than 1 s", "57014"},
        {"Error: Catalog Error: Table with name nope does not exist!", "42P01"},
        {"Error: Catalog Error: Table with name \"j\" already exists!", "42P07"},
        {"Error: Catalog Error: Scalar Function with name f does not exist!", "42883"},
        {"Error: Parser Error: syntax error at or near \"selec\"", "42601"},
        {"Error: Constraint Error: Duplicate key \"id: 1\" violates primary key", "23505"},
        {"Error: Constraint Error: PRIMARY KEY or UNIQUE constraint violation: duplicate key \"1\"",
         "23505"},
        {"Error: Conversion Error: Could not convert string 'a' to INT32", "22P02"},
        {"Error: TransactionContext Error: Conflict on update!", "40001"},
        {"Error: Database nope Does Not Exist", "3D000"},
        {"Error: Internal Error", "XX000"},
        {"Error: Internal Error: x (incident 1234)", "XX000"},
        {"Error: Bad Request: usage", "08P01"},
        {"Error: Too Many Failed Logins: try again in 2 s", "28000"},
        {"something else entirely", "XX000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_STR(pgwire_sqlstate(cases[i].line, strlen(cases[i].line)), cases[i].state);
}

/* The text (or, `binary`, hex of the bytes) of each column of `sql`'s first row, '|'-joined. */
static void values_of(duckdb_connection con, const char *sql, bool binary, Buf *out)
{
    duckdb_result res;
    buf_reset(out, 0);
    if (duckdb_query(con, sql, &res) != DuckDBSuccess) {
        buf_printf(out, "query failed: %s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        return;
    }
    duckdb_data_chunk chunk = duckdb_fetch_chunk(res);
    idx_t n = duckdb_column_count(&res);
    for (idx_t c = 0; c < n; c++) {
        PgColumn col;
        duckdb_logical_type t = duckdb_column_logical_type(&res, c);
        int rc = pgwire_column_init(&col, t, binary);
        duckdb_destroy_logical_type(&t);
        if (c)
            buf_putc(out, '|');
        if (rc != 0) {
            buf_append_str(out, "(unsupported)");
            continue;
        }
        Buf v = BUF_INIT;
        pgwire_put_value(&v, &col, duckdb_data_chunk_get_vector(chunk, c), 0);
        uint32_t len = (uint32_t)(unsigned char)v.data[0] << 24 |
                       (uint32_t)(unsigned char)v.data[1] << 16 |
                       (uint32_t)(unsigned char)v.data[2] << 8 | (unsigned char)v.data[3];
        CHECK(len == v.len - 4);
        if (binary)
            for (size_t i = 4; i < v.len; i++)
                buf_printf(out, "%02x", (unsigned char)v.data[i]);
        else
            buf_append(out, v.data + 4, v.len - 4);
        buf_free(&v);
        pgwire_column_free(&col);
    }
    duckdb_destroy_data_chunk(&chunk);
    duckdb_destroy_result(&res);
}

static void test_values(void)
{
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    CHECK(duckdb_open(NULL, &db) == DuckDBSuccess && duckdb_connect(db, &con) == DuckDBSuccess);
    Buf out = BUF_INIT;
    values_of(con,
              "select true, false, -5::tinyint, 300::smallint, -70000, 1e10::bigint, "
              "170141183460469231731687303715884105727::hugeint, 255::utinyint",
              false, &out);
    CHECK_STR(buf_cstr(&out), "t|f|-5|300|-70000|10000000000|"
                              "170141183460469231731687303715884105727|255");
    values_of(con,
              "select 0.1::double, 1.5::float, 'nan'::double, '-inf'::double, 1e300, "
              "-0.001::decimal(10,3), 12.5::decimal(30,4), 0::decimal(5,2)",
              false, &out);
    CHECK_STR(buf_cstr(&out), "0.1|1.5|NaN|-Infinity|1e+300|-0.001|12.5000|0.00");
    values_of(con,
              "select date '2024-02-29', date '0044-03-15' - interval 100000 day, "
              "'infinity'::date, time '04:05:06.25', timestamp '1999-12-31 23:59:59.000001', "
              "'2024-01-02 03:04:05'::timestamptz, timestamp_ms '2024-01-02 03:04:05.123'",
              false, &out);
    CHECK_STR(buf_cstr(&out), "2024-02-29|0231-05-31 00:00:00 BC|infinity|04:05:06.25|"
                              "1999-12-31 23:59:59.000001|2024-01-02 03:04:05+00|"
                              "2024-01-02 03:04:05.123");
    values_of(con,
              "select interval '1 year 2 months 3 days 04:05:06.5', interval '0 seconds', "
              "interval '-1 day -2 hours', '\\xAB\\x00'::blob, "
              "uuid 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'é'::varchar, "
              "'{\"a\":1}'::json",
              false, &out);
    CHECK_STR(buf_cstr(&out), "1 year 2 mons 3 days 04:05:06.5|00:00:00|-1 days -02:00:00|"
                              "\\xab00|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|é|{\"a\":1}");
    values_of(con,
              "select [1, 2], ['a b', NULL, 'x\"y', '', 'null', 'é\\'], []::int[], "
              "[date '2024-01-02'], [[1]], {'a': 1}, time with time zone '01:02:03+00'",
              false, &out);
    CHECK_STR(buf_cstr(&out), "{1,2}|{\"a b\",NULL,\"x\\\"y\",\"\",\"null\",\"é\\\\\"}|{}|"
                              "{2024-01-02}|(unsupported)|(unsupported)|(unsupported)");
    /* Binary: network byte order; dates from 2000-01-01, timestamps in microseconds. */
    values_of(con,
              "select true, 258::smallint, -2, 1::bigint, 1.0::float, 1.0::double, "
              "date '2000-01-02', timestamp '2000-01-01 00:00:01', 'ab', 'ab'::blob, "
              "uuid '00000000-0000-0000-0000-000000000001'",
              true, &out);
    CHECK_STR(buf_cstr(&out), "01|0102|fffffffe|0000000000000001|3f800000|3ff0000000000000|"
                              "00000001|00000000000f4240|6162|6162|"
                              "00000000000000000000000000000001");
    /* numeric: ndigits, weight, sign, dscale, base-10000 digits; time: microseconds;
     * interval: microseconds, days, months. */
    values_of(con,
              "select 1.5::decimal(4,1), -0.0001::decimal(9,4), 10000::decimal(18,0), "
              "0::decimal(4,1), 18446744073709551615::ubigint, time '00:00:01', "
              "interval '1 month 1 day 1 second'",
              true, &out);
    CHECK_STR(buf_cstr(&out), "000200000000000100011388|0001ffff400000040001|"
                              "00010001000000000001|0000000000000001|"
                              "000500040000000007341a5802e103bb064f|00000000000f4240|"
                              "00000000000f42400000000100000001");
    buf_free(&out);
    duckdb_disconnect(&con);
    duckdb_close(&db);
}

/* pgwire_array_to_list of `in`: the list literal, or "-" when refused (out then unchanged). */
static const char *to_list(const char *in, Buf *out)
{
    buf_reset(out, 64);
    buf_append_str(out, "x");
    if (!pgwire_array_to_list(in, strlen(in), out))
        return buf_cstr(out)[0] == 'x' && out->len == 1 ? "-" : "changed";
    return buf_cstr(out) + 1;
}

static void test_array_to_list(void)
{
    Buf b = BUF_INIT;
    CHECK_STR(to_list("{}", &b), "[]");
    CHECK_STR(to_list(" { } ", &b), "[]");
    CHECK_STR(to_list("{1,2,3}", &b), "[\"1\", \"2\", \"3\"]");
    CHECK_STR(to_list("{ 1 , -2 }", &b), "[\"1\", \"-2\"]");
    CHECK_STR(to_list("{NULL,null,\"NULL\"}", &b), "[NULL, NULL, \"NULL\"]");
    CHECK_STR(to_list("{\"a b\",\"x,y\",\"q\\\"z\",\"b\\\\s\",\"\"}", &b),
              "[\"a b\", \"x,y\", \"q\\\"z\", \"b\\\\s\", \"\"]");
    CHECK_STR(to_list("{\" pad \",un quoted ,\\,x}", &b), "[\" pad \", \"un quoted\", \",x\"]");
    CHECK_STR(to_list("{[x],it's}", &b), "[\"[x]\", \"it's\"]");
    /* Not a one-dimensional array: refused, left to DuckDB's cast (and its error). */
    const char *bad[] = {"",       "1,2",      "{",         "{1,2", "{1,,2}",
                         "{1,}",   "{,1}",     "{{1}}",     "{1}x", "{\"a}",
                         "{a\"b}", "{\"a\"b}", "[1:2]={1}", "{a\\", "{1} {2}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_STR(to_list(bad[i], &b), "-");
    buf_free(&b);
}

int main(void)
{
    UNIT_RUN(test_framing_in_pieces);
    UNIT_RUN(test_lengths);
    UNIT_RUN(test_fields_stop_at_the_end);
    UNIT_RUN(test_messages);
    UNIT_RUN(test_sqlstates);
    UNIT_RUN(test_values);
    UNIT_RUN(test_array_to_list);
    return unit_summary("test_pgwire");
}
