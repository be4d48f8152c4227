/*
 * Unit tests of the pure parts of the PostgreSQL catalog emulation
 * (pgwire_catmodel.c, pgwire_catalog.c): reading literals and OIDs from a
 * client's query, LIKE matching and escaping, type names, and which
 * statements are the front end's. The answers themselves need a session and
 * DuckDB: tests/e2e/test_pgwire_catalog.py runs them with the real clients.
 */
#include <string.h>

#include "pgwire_catalog.h"
#include "pgwire_catmodel.h"
#include "pgwire_catrewrite.h"
#include "unit.h"

static void test_literal_after(void)
{
    Buf b = BUF_INIT;
    CHECK(catmodel_literal_after("WHERE c.relname LIKE 'it''s%' AND x", "c.relname LIKE", &b));
    CHECK_STR(buf_cstr(&b), "it's%");
    buf_reset(&b, 64);
    CHECK(catmodel_literal_after("x ~\n\t 'a'", "x ~", &b));
    CHECK_STR(buf_cstr(&b), "a");
    buf_reset(&b, 64);
    CHECK(!catmodel_literal_after("no marker here", "c.relname LIKE", &b));
    CHECK(!catmodel_literal_after("c.relname LIKE 'unclosed", "c.relname LIKE", &b));
    CHECK(!catmodel_literal_after("c.relname LIKE $1", "c.relname LIKE", &b));
    buf_free(&b);
}

static void test_oid_after(void)
{
    CHECK(catmodel_oid_after("WHERE c.oid = '16385';", "c.oid =") == 16385);
    CHECK(catmodel_oid_after("pg_get_viewdef('16394'::pg_catalog.oid, true)", "pg_get_viewdef(") ==
          16394);
    CHECK(catmodel_oid_after("WHERE c.oid = 42", "c.oid =") == 42);
    CHECK(catmodel_oid_after("WHERE c.oid = '1x'", "c.oid =") == -1);
    CHECK(catmodel_oid_after("WHERE c.oid = ''", "c.oid =") == -1);
    CHECK(catmodel_oid_after("WHERE c.oid = '99999999999999999999'", "c.oid =") == -1);
    CHECK(catmodel_oid_after("nothing", "c.oid =") == -1);
}

static void test_like(void)
{
    CHECK(catmodel_like_match("t1", "%"));
    CHECK(catmodel_like_match("t1", "t%"));
    CHECK(catmodel_like_match("t1", "t_"));
    CHECK(!catmodel_like_match("t1", "t"));
    CHECK(!catmodel_like_match("t12", "t_"));
    CHECK(catmodel_like_match("a_b", "a\\_b"));
    CHECK(!catmodel_like_match("axb", "a\\_b"));
    CHECK(catmodel_like_match("50%", "50\\%"));
    CHECK(!catmodel_like_match("500", "50\\%"));
    CHECK(catmodel_like_match("public", "p%l%c"));
    CHECK(catmodel_like_match("", "%"));
    CHECK(!catmodel_like_match("", "_"));
    Buf b = BUF_INIT;
    const char *p = catmodel_like_exact("a_b%c\\d", &b);
    CHECK_STR(p, "a\\_b\\%c\\\\d");
    CHECK(catmodel_like_match("a_b%c\\d", p));
    CHECK(!catmodel_like_match("aXb%c\\d", p));
    buf_free(&b);
}

static void test_type_names(void)
{
    static const struct {
        const char *duck, *pg;
    } cases[] = {
        {"INTEGER", "integer"},
        {"DOUBLE", "double precision"},
        {"DECIMAL(10,2)", "numeric(10,2)"},
        {"VARCHAR", "text"},
        {"TIMESTAMP WITH TIME ZONE", "timestamp with time zone"},
        {"INTEGER[]", "integer[]"},
        {"VARCHAR[][]", "text[][]"},
        {"STRUCT(a INTEGER)", "struct(a integer)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Buf b = BUF_INIT;
        catmodel_type_name(cases[i].duck, &b);
        CHECK_STR(buf_cstr(&b), cases[i].pg);
        buf_free(&b);
    }
    bool array = true;
    CHECK_STR(catmodel_type_oid_name(1186, &array), "interval");
    CHECK(!array);
    CHECK_STR(catmodel_type_oid_name(1007, &array), "_int4");
    CHECK(array);
    CHECK(catmodel_type_oid_name(600, &array) == NULL); /* point: never sent */
}

static void test_is_catalog_query(void)
{
    static const char *const ours[] = {
        "select * from pg_catalog.pg_class",
        "SELECT oid FROM pg_type",
        "select 1 from \"pg_namespace\"",
        "select 1 from main.\"PG_Class\"",
        "SELECT schema_name AS \"name\"\n    FROM information_schema.schemata WHERE true",
        "SELECT format_type(23, -1)",
        "select current_schema(), session_user",
    };
    static const char *const not_ours[] = {
        "select 'pg_class'",
        "select 1 -- pg_catalog.pg_type\n",
        "select /* pg_attribute */ 1",
        "select pg_classic from t",
        "select table_name from information_schema.tables",
        "select current_user, count(*) from t",
    };
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        CHECK(pgcat_is_catalog_query(ours[i], strlen(ours[i])));
    for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++)
        CHECK(!pgcat_is_catalog_query(not_ours[i], strlen(not_ours[i])));
    /* Grafana's markers count only in a whole (NUL-terminated) statement. */
    const char *g = ours[3];
    CHECK(!pgcat_is_catalog_query(g, strlen(g) - 3));
}

/* The text the catalog instance runs (pgwire_catsql.c): only tokens outside strings change. */
static void test_catrw_text(void)
{
    static const char *const cases[][2] = {
        {"SELECT relname FROM pg_catalog.pg_class c", "SELECT relname FROM pg_class c"},
        {"select 1 from \"pg_catalog\".pg_type", "select 1 from pg_type"},
        {"SELECT 'pg_catalog.pg_class' -- pg_catalog.x\n",
         "SELECT 'pg_catalog.pg_class' -- pg_catalog.x\n"},
        {"WHERE n OPERATOR(pg_catalog.~) '^(t)$'", "WHERE n  ~ ('(?s:.*(?:' || '^(t)$' || ').*)')"},
        {"WHERE n OPERATOR(pg_catalog.=) 'x'", "WHERE n  =  'x'"},
        {"WHERE n ~* $1", "WHERE n  ~ ('(?is:.*(?:' || $1 || ').*)')"},
        {"WHERE n !~ '^pg_'", "WHERE n  !~ ('(?s:.*(?:' || '^pg_' || ').*)')"},
        {"ORDER BY 1 COLLATE pg_catalog.\"default\"", "ORDER BY 1 "},
        {"WHERE c.oid = 'public.t'::regclass", "WHERE c.oid = _tdb_regclass('public.t')"},
        {"SELECT c.oid::pg_catalog.regclass", "SELECT c.oid::BIGINT"},
        {"SELECT x::name, y::regproc", "SELECT x::VARCHAR, y::VARCHAR"},
        {"SELECT current_user, 1", "SELECT _tdb_user() AS \"current_user\", 1"},
        {"WHERE r.rolname = current_user", "WHERE r.rolname = _tdb_user()"},
        {"SELECT a.current_user FROM t a", "SELECT a.current_user FROM t a"},
        {"(information_schema._pg_expandarray(i.indkey)).n", "(_pg_expandarray(i.indkey)).n"},
    };
    Buf out = BUF_INIT;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(catrw_text(cases[i][0], &out));
        CHECK_STR(buf_cstr(&out), cases[i][1]);
    }
    CHECK(!catrw_text("SELECT 'unterminated", &out));
    buf_free(&out);
}

int main(void)
{
    UNIT_RUN(test_literal_after);
    UNIT_RUN(test_oid_after);
    UNIT_RUN(test_like);
    UNIT_RUN(test_type_names);
    UNIT_RUN(test_is_catalog_query);
    UNIT_RUN(test_catrw_text);
    return unit_summary("test_pgcatmodel");
}
