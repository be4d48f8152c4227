"""
psql's \\d family through the PostgreSQL front end (docs/pgwire.md#catalog): the catalog
queries psql 15 sends are answered by the front end from what the user may see, never by
DuckDB's own pg_catalog; other catalog queries are refused with 0A000.
"""
import psycopg2
import pytest

from test_pgwire import connect, pg, psql  # noqa: F401 (pg is a fixture)


def ok(srv, *args, **kw):
    rc, out, err = psql(srv, "-v", "ON_ERROR_STOP=1", *args, **kw)
    assert rc == 0, err
    assert "ERROR" not in err, err
    return out


def test_psql_lists_tables_views_and_describes(pg):
    with pg.admin() as a:
        for req in ["connect db1",
                    "create table typed(i integer not null, big bigint default 7, d double, "
                    "n decimal(10, 2), s varchar, ts timestamp, l integer[])",
                    "create view v1 as select a from t1"]:
            assert a.req(req) == "success", req
    out = ok(pg, "-A", "-t", "-c", "\\dt")
    rows = sorted(line.split("|")[:3] for line in out.splitlines())
    assert rows == [["public", "t1", "table"], ["public", "t2", "table"],
                    ["public", "typed", "table"]]
    out = ok(pg, "-A", "-t", "-c", "\\d")
    assert "public|v1|view|" in out and "public|t1|table|" in out
    out = ok(pg, "-A", "-t", "-c", "\\dt t*")
    assert sorted(line.split("|")[1] for line in out.splitlines()) == ["t1", "t2", "typed"]
    out = ok(pg, "-A", "-t", "-c", "\\dt public.t1")
    assert [line.split("|")[1] for line in out.splitlines()] == ["t1"]
    out = ok(pg, "-c", "\\d typed")
    assert 'Table "public.typed"' in out
    for col, typ in [("i", "integer"), ("big", "bigint"), ("d", "double precision"),
                     ("n", "numeric(10,2)"), ("s", "text"),
                     ("ts", "timestamp without time zone"), ("l", "integer[]")]:
        assert any(line.split("|")[0].strip() == col and line.split("|")[1].strip() == typ
                   for line in out.splitlines() if "|" in line), (col, typ, out)
    line_i = next(line for line in out.splitlines() if line.split("|")[0].strip() == "i")
    assert "not null" in line_i
    line_big = next(line for line in out.splitlines() if line.split("|")[0].strip() == "big")
    assert "7" in line_big.split("|")[4]
    out = ok(pg, "-c", "\\d v1")
    assert 'View "public.v1"' in out and " a " in out
    rc, out, err = psql(pg, "-c", "\\d nosuch")
    assert "Did not find any relation named \"nosuch\"" in err


def test_psql_databases_schemas_roles(pg):
    out = ok(pg, "-A", "-t", "-c", "\\l")
    names = sorted(line.split("|")[0] for line in out.splitlines())
    assert names == ["db1", "db2"]
    assert ok(pg, "-A", "-t", "-c", "\\dn").split("|")[0] == "public"
    out = ok(pg, "-A", "-t", "-c", "\\du")
    roles = {line.split("|")[0]: line for line in out.splitlines()}
    assert set(roles) == {"duck", "alice"}
    assert "Superuser" in roles["duck"] and "Superuser" not in roles["alice"]


def test_a_user_sees_only_what_is_granted(pg):
    kw = dict(user="alice", password="s3cret")
    out = ok(pg, "-A", "-t", "-c", "\\dt", **kw)
    assert [line.split("|")[1] for line in out.splitlines()] == ["t1"]
    out = ok(pg, "-A", "-t", "-c", "\\l", **kw)
    assert [line.split("|")[0] for line in out.splitlines()] == ["db1"]
    out = ok(pg, "-A", "-t", "-c", "\\du", **kw)
    assert [line.split("|")[0] for line in out.splitlines()] == ["alice"]
    # t2 exists but is not granted: \d says it is not there, as for a missing table.
    rc, out, err = psql(pg, "-c", "\\d t2", **kw)
    assert "Did not find any relation named \"t2\"" in err and "secret" not in out
    out = ok(pg, "-c", "\\d t1", **kw)
    assert 'Table "public.t1"' in out
    # An oid guessed from the super user's view answers nothing either.
    duck_oid = ok(pg, "-A", "-t", "-c",
                  "SELECT c.oid,\n  n.nspname,\n  c.relname\nFROM pg_catalog.pg_class c\n"
                  "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
                  "WHERE c.relname OPERATOR(pg_catalog.~) '^(t2)$' COLLATE pg_catalog.default\n"
                  "  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 2, 3;").split("|")[0]
    assert duck_oid.isdigit()
    cols = ok(pg, "-A", "-t", "-c",
              "SELECT a.attname,\n  pg_catalog.format_type(a.atttypid, a.atttypmod),\n"
              "  NULL\nFROM pg_catalog.pg_attribute a\n"
              f"WHERE a.attrelid = '{duck_oid}' AND a.attnum > 0 AND NOT a.attisdropped\n"
              "ORDER BY a.attnum;", **kw)
    assert cols.strip() == ""
    # Revoked: gone from \dt at the next query.
    with pg.admin() as a:
        assert a.req("revoke table db1 t1 alice select") == "success"
    assert ok(pg, "-A", "-t", "-c", "\\dt", **kw).strip() == ""


def test_other_catalog_queries_fail_closed(pg):
    rc, out, err = psql(pg, "-v", "ON_ERROR_STOP=1", "-c",
                        "select oid, typname from pg_catalog.pg_type")
    assert rc != 0 and "not supported" in err
    with connect(pg) as conn:
        cur = conn.cursor()
        with pytest.raises(psycopg2.errors.FeatureNotSupported):
            cur.execute("select * from pg_attribute")
        conn.rollback()
        # Parameters make psycopg2 interpolate client side: still a simple query, refused.
        with pytest.raises(psycopg2.errors.FeatureNotSupported):
            cur.execute("select relname from pg_class where relname = %s", ("t1",))
        conn.rollback()
        # Strings and comments do not count.
        cur.execute("select 'pg_class' -- pg_catalog.pg_type\n")
        assert cur.fetchone() == ("pg_class",)


def test_public_schema_is_main(pg):
    assert ok(pg, "-A", "-t", "-c", "select count(*) from public.t1").strip() == "2"
    ok(pg, "-c", "insert into public.t2 values ('y')")
    assert ok(pg, "-A", "-t", "-c", 'select count(*) from public."t2"').strip() == "2"
    # Strings, quoted names and comments are left alone.
    assert ok(pg, "-A", "-t", "-c", "select 'public.t1' -- public.t1\n").strip() == "public.t1"
    with connect(pg) as conn:
        cur = conn.cursor()
        cur.execute("select a from public.t1 where a = %s", (2,))
        assert cur.fetchall() == [(2,)]
    # The access checks see the same table.
    kw = dict(user="alice", password="s3cret")
    assert ok(pg, "-A", "-t", "-c", "select count(*) from public.t1", **kw).strip() == "2"
    rc, out, err = psql(pg, "-c", "select * from public.t2", **kw)
    assert rc != 0 and "Access Denied" in err
