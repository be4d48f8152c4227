/*
 * Unit tests of autoparam.c: which literals of a text become parameters.
 * Each case gives a text and its shape with the values taken, written as
 * "SHAPE | v1 | v2", or "-" when the text keeps all its literals.
 */
#include <stdio.h>
#include <string.h>

#include "autoparam.h"
#include "unit.h"

static const struct {
    const char *sql;
    const char *want;
} cases[] = {
    {"SELECT v FROM t WHERE id = 17", "SELECT v FROM t WHERE id = $1 | 17"},
    {"select * from t where id=42;", "select * from t where id=$1; | 42"},
    {"SELECT * FROM t WHERE a = 1 AND b <> 'x''y' ORDER BY a LIMIT 5",
     "SELECT * FROM t WHERE a = $1 AND b <> $2 ORDER BY a LIMIT 5 | 1 | 'x'y'"},
    {"SELECT * FROM t WHERE t.a >= 9 OR \"B\" != ''",
     "SELECT * FROM t WHERE t.a >= $1 OR \"B\" != $2 | 9 | ''"},
    {"SELECT * FROM t WHERE (a = 1 OR (b = 2)) AND NOT c = 3",
     "SELECT * FROM t WHERE (a = $1 OR (b = $2)) AND NOT c = $3 | 1 | 2 | 3"},
    {"SELECT * FROM t WHERE id = 9223372036854775807",
     "SELECT * FROM t WHERE id = $1 | 9223372036854775807"},
    /* Kept: in a select list, which names the result's columns after its text. */
    {"SELECT (SELECT count(*) FROM t WHERE k < 10) AS c", "-"},
    {"SELECT sum(x) FILTER (WHERE g = 'm') FROM t", "-"},
    {"SELECT count(*) FILTER (WHERE k < 3) FROM t WHERE k = 4",
     "SELECT count(*) FILTER (WHERE k < 3) FROM t WHERE k = $1 | 4"},
    {"SELECT * FROM (SELECT k FROM t WHERE k = 1)",
     "SELECT * FROM (SELECT k FROM t WHERE k = $1) | 1"},
    {"SELECT * FROM (SELECT (SELECT 1 FROM u WHERE a = 1) FROM t)", "-"},
    /* Kept: not a bare comparison with a column, or something binds to the literal. */
    {"SELECT 17", "-"},
    {"SELECT id, 17 AS k FROM t", "-"},
    {"SELECT * FROM t LIMIT 5", "-"},
    {"SELECT * FROM t ORDER BY 1", "-"},
    {"SELECT a FROM t GROUP BY 1", "-"},
    {"SELECT * FROM t WHERE id = -1", "-"},
    {"SELECT * FROM t WHERE id = 1.5", "-"},
    {"SELECT * FROM t WHERE id = 1e3", "-"},
    {"SELECT * FROM t WHERE id = 0x10", "-"},
    {"SELECT * FROM t WHERE id = 1_000", "-"},
    {"SELECT * FROM t WHERE id = 017", "-"},
    {"SELECT * FROM t WHERE id = 9223372036854775808", "-"},
    {"SELECT * FROM t WHERE id = 1 + 1", "-"},
    {"SELECT * FROM t WHERE id = 1::INTEGER", "-"},
    {"SELECT * FROM t WHERE v = 'a' COLLATE nocase", "-"},
    {"SELECT * FROM t WHERE v = 'a' || 'b'", "-"},
    {"SELECT * FROM t WHERE v = E'a'", "-"},
    {"SELECT * FROM t WHERE v = $$a$$", "-"},
    {"SELECT * FROM t WHERE d = DATE '2020-01-01'", "-"},
    {"SELECT * FROM t WHERE id + 1 = 2", "-"},
    {"SELECT * FROM t WHERE f(id) = 2", "-"},
    {"SELECT * FROM t WHERE f(id = 2)", "-"},
    {"SELECT * FROM t WHERE x BETWEEN 1 AND a = 2", "-"},
    {"SELECT * FROM t WHERE id IN (1, 2)", "-"},
    {"SELECT * FROM t WHERE CASE WHEN a = 1 THEN 1 END = 1", "-"},
    {"SELECT * FROM t JOIN u ON t.a = 1", "-"},
    {"SELECT * FROM t WHERE id = ?", "-"},
    {"SELECT * FROM t WHERE id = $1 AND v = 2", "-"},
    {"SELECT nextval('s') FROM t WHERE id = 1", "-"},
    {"SELECT 1; SELECT * FROM t WHERE id = 1", "-"},
    {"SELECT * FROM t WHERE id = 1; SELECT 2", "-"},
    {"INSERT INTO t SELECT * FROM u WHERE id = 1", "-"},
    {"DELETE FROM t WHERE id = 1", "-"},
    {"WITH x AS (SELECT 1) SELECT * FROM t WHERE id = 1", "-"},
    {"SELECT * FROM t WHERE null = 1", "-"},
    {"SELECT * FROM t WHERE v = 'unterminated", "-"},
};

static void describe(const char *sql, Buf *out)
{
    AutoparamShape sh = {0};
    buf_reset(out, 4096);
    if (!autoparam_shape(sql, strlen(sql), &sh)) {
        buf_append_str(out, "-");
        buf_cstr(out);
        return;
    }
    buf_append_str(out, sh.request.sql);
    for (size_t i = 0; i < sh.request.nparams; i++) {
        const Param *p = &sh.request.params[i];
        if (p->kind == PARAM_INT)
            buf_printf(out, " | %lld", (long long)p->i);
        else
            buf_printf(out, " | '%.*s'", (int)p->len, p->bytes);
    }
    buf_cstr(out);
    autoparam_shape_free(&sh);
}

static void test_cases(void)
{
    Buf b = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        describe(cases[i].sql, &b);
        CHECK_STR(b.data, cases[i].want);
    }
    buf_free(&b);
}

static void test_limits(void)
{
    char sql[AUTOPARAM_MAX_SQL + 64];
    AutoparamShape sh = {0};
    /* More literals than a shape holds: the text keeps them all. */
    size_t n = (size_t)snprintf(sql, sizeof(sql), "SELECT * FROM t WHERE a = 0");
    for (int i = 1; i <= AUTOPARAM_MAX_LITERALS; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, " AND a = %d", i);
    CHECK(!autoparam_shape(sql, n, &sh));
    /* A text longer than looked at. */
    memset(sql, ' ', sizeof(sql));
    memcpy(sql, "SELECT * FROM t WHERE a = 1", 27);
    CHECK(!autoparam_shape(sql, AUTOPARAM_MAX_SQL + 1, &sh));
    CHECK(autoparam_shape(sql, AUTOPARAM_MAX_SQL, &sh));
    autoparam_shape_free(&sh);
}

int main(void)
{
    UNIT_RUN(test_cases);
    UNIT_RUN(test_limits);
    return unit_summary("autoparam");
}
