"""
psql's \\d family through the PostgreSQL front end (docs/pgwire.md#catalog): the catalog
queries psql 15 sends are answered by the front end from what the user may see, never by
DuckDB's own pg_catalog; other catalog queries run as SQL over the user's view of the
catalog (pgwire_catsql.c, tests in test_pgwire_catsql.py).
"""
import os
import subprocess

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


def test_strings_and_comments_name_no_catalog_relation(pg):
    """Other catalog queries are answered as SQL over the user's view (test_pgwire_catsql.py);
    a catalog name inside a string or a comment does not make a query one."""
    with connect(pg) as conn:
        cur = conn.cursor()
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


# ---- \d+ and the other + forms, \di, \df, \l+ (psql 15's own queries) ----

def make_keyed(pg):
    """db1 gains table k (a primary key, a unique and a plain index, a comment), view v1 and
    macro add1; alice is granted t1 only."""
    with pg.admin() as a:
        for req in ["connect db1",
                    "create table k(id integer primary key, name varchar not null default 'x', "
                    "d double, n decimal(10, 2), iv interval, l integer[])",
                    "create unique index k_name on k(name)", "create index k_d on k(d)",
                    "comment on table k is 'the k table'",
                    "create view v1 as select a from t1", "create macro add1(x) as x + 1"]:
            assert a.req(req) == "success", req


def rows(out):
    return [line.split("|") for line in out.splitlines()]


def test_psql_verbose_lists(pg):
    make_keyed(pg)
    out = ok(pg, "-A", "-c", "\\d+")
    lines = out.splitlines()
    assert lines.pop(0) == "List of relations"
    assert lines[0] == "Schema|Name|Type|Owner|Persistence|Access method|Size|Description"
    assert lines[1:-1] == ["public|k|table|duck|permanent|heap||the k table",
                           "public|t1|table|duck|permanent|heap||",
                           "public|t2|table|duck|permanent|heap||",
                           "public|v1|view|duck|permanent|||"]
    assert lines[-1] == "(4 rows)"
    assert [r[1] for r in rows(ok(pg, "-A", "-t", "-c", "\\dt+"))] == ["k", "t1", "t2"]
    assert rows(ok(pg, "-A", "-t", "-c", "\\dv+")) == [
        ["public", "v1", "view", "duck", "permanent", "", ""]]
    assert rows(ok(pg, "-A", "-t", "-c", "\\di")) == [["public", "k_d", "index", "duck", "k"],
                                                      ["public", "k_name", "index", "duck", "k"]]
    assert [r[1] for r in rows(ok(pg, "-A", "-t", "-c", "\\di k_n*"))] == ["k_name"]
    out = ok(pg, "-A", "-c", "\\l+")
    assert out.splitlines().pop(0) == "List of databases"
    out = out.split("\n", 1)[1]
    assert out.splitlines()[0] == ("Name|Owner|Encoding|Collate|Ctype|ICU Locale|"
                                   "Locale Provider|Access privileges|Size|Tablespace|"
                                   "Description")
    assert [r[0] for r in rows(out)[1:-1]] == ["db1", "db2"]
    out = ok(pg, "-A", "-t", "-c", "\\du+")
    assert {r[0]: r[1] for r in rows(out)} == {"alice": "", "duck":
                                               "Superuser, Create role, Create DB"}
    assert rows(ok(pg, "-A", "-t", "-c", "\\dn+")) == [
        ["public", "duck", "", "standard public schema"]]


def test_psql_describe_verbose(pg):
    make_keyed(pg)
    out = ok(pg, "-c", "\\d+ k")
    lines = [line.rstrip() for line in out.strip().splitlines()]
    assert lines[0].strip() == 'Table "public.k"'
    assert [c.strip() for c in lines[1].split("|")] == [
        "Column", "Type", "Collation", "Nullable", "Default", "Storage", "Compression",
        "Stats target", "Description"]
    cols = {c[0]: c for c in ([v.strip() for v in line.split("|")] for line in lines[3:9])}
    assert cols["id"][1:6] == ["integer", "", "not null", "", "plain"]
    assert cols["name"][1:6] == ["text", "", "not null", "'x'", "extended"]
    assert cols["d"][1] == "double precision" and cols["n"][1] == "numeric(10,2)"
    assert cols["iv"][1] == "interval" and cols["l"][1:6] == ["integer[]", "", "", "",
                                                              "extended"]
    assert lines[9:] == ["Indexes:",
                         '    "k_id_pkey" PRIMARY KEY, art (id)',
                         '    "k_d" art (d)',
                         '    "k_name" UNIQUE, art ("name")',
                         "Access method: heap"]
    out = ok(pg, "-c", "\\d k")
    assert '"k_id_pkey" PRIMARY KEY, art (id)' in out and "Storage" not in out
    out = ok(pg, "-c", "\\d+ v1")
    assert 'View "public.v1"' in out
    assert out.rstrip().endswith("View definition:\nSELECT a FROM t1")


def test_psql_functions(pg):
    make_keyed(pg)
    assert rows(ok(pg, "-A", "-t", "-c", "\\df")) == [["public", "add1", "", "x", "func"]]
    assert ok(pg, "-A", "-t", "-c", "\\df nosuch*").strip() == ""
    out = ok(pg, "-A", "-t", "-c", "\\df+")
    assert rows(out)[0][:5] == ["public", "add1", "", "x", "func"]
    assert "(x + 1)" in out
    # Macros are not covered by table grants: a user sees none.
    assert ok(pg, "-A", "-t", "-c", "\\df", user="alice", password="s3cret").strip() == ""


def test_verbose_forms_show_only_what_is_granted(pg):
    make_keyed(pg)
    kw = dict(user="alice", password="s3cret")
    assert [r[1] for r in rows(ok(pg, "-A", "-t", "-c", "\\d+", **kw))] == ["t1"]
    assert ok(pg, "-A", "-t", "-c", "\\di", **kw).strip() == ""
    rc, out, err = psql(pg, "-c", "\\d+ k", **kw)
    assert 'Did not find any relation named "k"' in err and "id" not in out
    assert [r[0] for r in rows(ok(pg, "-A", "-t", "-c", "\\l+", **kw))] == ["db1"]
    with pg.admin() as a:
        assert a.req("grant table db1 k alice select") == "success"
    assert [r[1] for r in rows(ok(pg, "-A", "-t", "-c", "\\di", **kw))] == ["k_d", "k_name"]
    assert "k_id_pkey" in ok(pg, "-c", "\\d k", **kw)


# ---- pgjdbc's DatabaseMetaData (extended protocol) ----

def run_jdbc_meta(pg, tmp_path, user="duck", password="duck"):
    jar = "/usr/share/java/postgresql.jar"
    assert os.path.exists(jar), "libpostgresql-jdbc-java is missing: run scripts/setup.sh --test"
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgwire", "PgJdbcMeta.java")
    if not (tmp_path / "PgJdbcMeta.class").exists():
        p = subprocess.run(["javac", "-d", str(tmp_path), src], capture_output=True, text=True,
                           timeout=300)
        assert p.returncode == 0, p.stderr
    p = subprocess.run(["java", "-cp", jar + os.pathsep + str(tmp_path), "PgJdbcMeta",
                        str(pg.pg_port), "db1", user, password], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, (p.stdout, p.stderr)
    calls = {}
    for block in p.stdout.split("== ")[1:]:
        lines = block.rstrip("\n").split("\n")
        calls[lines[0]] = [line.split("|") for line in lines[1:]]
    return calls


def test_jdbc_database_metadata(pg, tmp_path):
    make_keyed(pg)
    m = run_jdbc_meta(pg, tmp_path)
    assert m["getTables"][0][:5] == ["TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE",
                                     "REMARKS"]
    assert [r[:5] for r in m["getTables"][1:]] == [
        ["null", "public", "k", "TABLE", "the k table"],
        ["null", "public", "t1", "TABLE", "null"],
        ["null", "public", "t2", "TABLE", "null"],
        ["null", "public", "v1", "VIEW", "null"]]
    # No types asked: indexes too, ordered by type.
    assert [r[2:4] for r in m["getTables public k%"][1:]] == [
        ["k_d", "INDEX"], ["k_name", "INDEX"], ["k", "TABLE"]]
    assert [r[2] for r in m["getTables views"][1:]] == ["v1"]
    head = m["getColumns k"][0]
    cols = [dict(zip(head, r)) for r in m["getColumns k"][1:]]
    assert [(c["COLUMN_NAME"], c["DATA_TYPE"], c["TYPE_NAME"], c["NULLABLE"], c["IS_NULLABLE"],
             c["ORDINAL_POSITION"]) for c in cols] == [
        ("id", "4", "int4", "0", "NO", "1"),
        ("name", "12", "text", "0", "NO", "2"),
        ("d", "8", "float8", "1", "YES", "3"),
        ("n", "2", "numeric", "1", "YES", "4"),
        ("iv", "1111", "interval", "1", "YES", "5"),
        ("l", "2003", "_int4", "1", "YES", "6")]
    assert cols[1]["COLUMN_DEF"] == "'x'"
    assert (cols[3]["COLUMN_SIZE"], cols[3]["DECIMAL_DIGITS"]) == ("10", "2")
    assert [(r[2], r[3]) for r in m["getColumns t% a"][1:]] == [("t1", "a")]
    assert m["getPrimaryKeys k"][1:] == [["null", "public", "k", "id", "1", "k_id_pkey"]]
    assert m["getPrimaryKeys t1"][1:] == []
    assert m["getSchemas"][1:] == [["public", "null"]]
    assert m["getSchemas x%"][1:] == []
    assert m["getCatalogs"][1:] == [["db1"]]
    # The rest of DatabaseMetaData runs as SQL over the user's view (pgwire_catsql.c).
    head = m["getIndexInfo k"][0]
    idx = sorted((r[head.index("INDEX_NAME")], r[head.index("NON_UNIQUE")],
                  r[head.index("COLUMN_NAME")]) for r in m["getIndexInfo k"][1:])
    assert idx == [("k_d", "t", "d"), ("k_id_pkey", "f", "id"), ("k_name", "f", "name")]
    head = m["getBestRowIdentifier k"][0]
    assert [r[head.index("COLUMN_NAME")] for r in m["getBestRowIdentifier k"][1:]] == ["id"]
    assert m["getImportedKeys k"][1:] == []
    head = m["getTypeInfo"][0]
    names = {r[head.index("TYPE_NAME")] for r in m["getTypeInfo"][1:]}
    assert {"int4", "int8", "text", "numeric", "timestamptz", "_int4"} <= names
    assert "product PostgreSQL 15" in m


def test_jdbc_metadata_shows_only_what_is_granted(pg, tmp_path):
    make_keyed(pg)
    m = run_jdbc_meta(pg, tmp_path, user="alice", password="s3cret")
    assert [r[2] for r in m["getTables"][1:]] == ["t1"]
    assert m["getTables public k%"][1:] == []
    assert m["getColumns k"][1:] == [] and m["getPrimaryKeys k"][1:] == []
    assert [(r[2], r[3]) for r in m["getColumns t% a"][1:]] == [("t1", "a")]


# ---- Grafana's PostgreSQL data source (its postgresMetaQuery.ts, built the same way) ----

GRAFANA_SCHEMA_CONSTRAINT = """
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )"""

GRAFANA_SCHEMAS = """SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name"""


def grafana_tables(schema=None):
    if schema:
        return f"""SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = '{schema}'
      ORDER BY 1"""
    return f"""SELECT
    CASE WHEN {GRAFANA_SCHEMA_CONSTRAINT}
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN {GRAFANA_SCHEMA_CONSTRAINT} THEN 0 ELSE 1 END, 1"""


def grafana_columns(table):
    t = "'" + table.replace("'", "''") + "'"
    return f"""SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident({t}),1) = 2
        THEN quote_ident(table_schema) = (parse_ident({t}))[1]
          AND quote_ident(table_name) = (parse_ident({t}))[2]
        ELSE quote_ident(table_name) = {t}
          AND {GRAFANA_SCHEMA_CONSTRAINT}
      END"""


def test_grafana_metadata_queries(pg):
    make_keyed(pg)
    with connect(pg) as conn:
        cur = conn.cursor()
        cur.execute(GRAFANA_SCHEMAS)
        assert cur.fetchall() == [("public",)]
        for q in [grafana_tables(), grafana_tables("public")]:
            cur.execute(q)
            assert cur.fetchall() == [("k",), ("t1",), ("t2",), ("v1",)]
        cur.execute(grafana_tables("other"))
        assert cur.fetchall() == []
        for name in ["k", "public.k"]:
            cur.execute(grafana_columns(name))
            assert cur.fetchall() == [("id", "integer"), ("name", "text"),
                                      ("d", "double precision"), ("n", "numeric"),
                                      ("iv", "interval"), ("l", "ARRAY")]
        # Other information_schema queries stay DuckDB's (the super user's).
        cur.execute("select count(*) from information_schema.tables where table_name = 'k'")
        assert cur.fetchone() == (1,)
    with connect(pg, user="alice", password="s3cret") as conn:
        cur = conn.cursor()
        cur.execute(grafana_tables())
        assert cur.fetchall() == [("t1",)]
        cur.execute(grafana_columns("k"))
        assert cur.fetchall() == []
        cur.execute(grafana_columns("t1"))
        assert cur.fetchall() == [("a", "integer"), ("b", "text")]
