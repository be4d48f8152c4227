/*
 * Unit tests of cdcguard.c's scan: which tables a request's text writes.
 * Each case gives a text and the names found, space separated, in order.
 */
#include <string.h>

#include "buf.h"
#include "cdcguard.h"
#include "unit.h"

static void collect(void *ctx, const char *name)
{
    Buf *b = ctx;
    if (b->len)
        buf_putc(b, ' ');
    buf_append_str(b, name);
}

static const struct {
    const char *sql;
    const char *written;
} cases[] = {
    {"SELECT * FROM t", ""},
    {"insert into t values (1)", "t"},
    {"INSERT OR REPLACE INTO \"T\" SELECT * FROM u", "T"},
    {"INSERT INTO x SELECT * FROM t", "x"},
    {"UPDATE main.t SET v = 1 WHERE id IN (SELECT id FROM u)", "t"},
    {"UPDATE \"42\".main.t SET v = 1", "t"},
    {"UPDATE other.t SET v = 1", ""},
    {"UPDATE \"7\".t SET v = 1", ""},
    {"DELETE FROM t USING u WHERE t.id = u.id", "t"},
    {"TRUNCATE TABLE t; TRUNCATE u", "t u"},
    {"ALTER TABLE IF EXISTS t ADD COLUMN w int", "t"},
    {"DROP TABLE IF EXISTS a, main.b", "a b"},
    {"DROP VIEW t", ""},
    {"COPY t FROM 'x.csv'", "t"},
    {"COPY t (a, b) FROM STDIN", "t"},
    {"COPY t TO 'x.csv'", ""},
    {"COPY (SELECT * FROM t) TO 'x.csv'", ""},
    {"CREATE TABLE t (a int)", ""},
    {"CREATE OR REPLACE TABLE t AS SELECT 1", "t"},
    {"CREATE UNIQUE INDEX i ON t (a)", "t"},
    {"MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE", "t"},
    {"INSERT INTO x VALUES (1) ON CONFLICT DO UPDATE SET v = 2", "x"},
    {"CREATE TABLE c (a int REFERENCES p (a) ON UPDATE CASCADE ON DELETE CASCADE)", ""},
    {"SELECT 'insert into t values (1)' -- update t\n", ""},
    {"EXPLAIN DELETE FROM t", "t"},
};

static void test_written_tables(void)
{
    Buf got = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(&got, 64);
        int n = cdcguard_written_tables(cases[i].sql, "42", collect, &got);
        CHECK_STR(buf_cstr(&got), cases[i].written);
        CHECK((n == 0) == (cases[i].written[0] == '\0'));
    }
    buf_free(&got);
}

int main(void)
{
    UNIT_RUN(test_written_tables);
    return unit_summary("cdcguard");
}
