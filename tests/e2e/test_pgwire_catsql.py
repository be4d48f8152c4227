"""
Catalog queries that no recogniser knows (pgAdmin's, DBeaver's, a person's own) run as SQL on a
private in-memory DuckDB that holds only the user's view of the catalog (docs/pgwire.md#catalog,
src/pgwire_catsql.c): they answer what PostgreSQL would about what the user may see, never
DuckDB's own pg_catalog, never a table or database that is not granted, and nothing in them can
reach a file or outlive the query.
"""
import json
import threading

import psycopg
import psycopg2
import pytest

from conftest import wait_for

from test_pgwire import connect, pg, psql  # noqa: F401 (pg is a fixture)

# The catalog queries Duckgres' client compatibility suite sends (scripts/client-compat/
# queries.yaml there): what pgAdmin, DBeaver and hand-written introspection use. Each must run.
CLIENT_QUERIES = [
    "SELECT datname FROM pg_database WHERE datallowconn",
    "SELECT nspname FROM pg_namespace",
    "SELECT typname, typtype FROM pg_type LIMIT 10",
    "SELECT relname, relkind FROM pg_class WHERE relkind = 'r' LIMIT 10",
    "SELECT attname, atttypid FROM pg_attribute WHERE attnum > 0 LIMIT 10",
    "SELECT rolname FROM pg_roles",
    "SELECT datname FROM pg_database WHERE datistemplate IS false AND datallowconn IS true "
    "ORDER BY datname",
    "SELECT format_type(23, -1)",
    "SELECT format_type(1043, 54)",
    "SELECT format_type(1700, 655366)",
    "SELECT pg_get_userbyid(10)",
    "SELECT pg_table_is_visible(0)",
    "SELECT has_schema_privilege('public', 'USAGE')",
    "SELECT has_table_privilege('pg_class', 'SELECT')",
    "SELECT pg_encoding_to_char(6)",
    "SELECT obj_description(0, 'pg_class')",
    "SELECT col_description(0, 1)",
    "SELECT pg_is_in_recovery()",
    "SELECT pg_backend_pid()",
    "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
    "ON c.relnamespace = n.oid WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "ORDER BY n.nspname, c.relname LIMIT 20",
    "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
    "JOIN pg_class t ON a.attrelid = t.oid JOIN pg_namespace s ON t.relnamespace = s.oid "
    "WHERE a.attnum > 0 AND NOT a.attisdropped AND s.nspname NOT IN ('pg_catalog', "
    "'information_schema') ORDER BY a.attnum LIMIT 20",
    "SELECT n.nspname as \"Schema\", c.relname as \"Name\", CASE c.relkind WHEN 'r' THEN "
    "'table' WHEN 'v' THEN 'view' END as \"Type\", pg_catalog.pg_get_userbyid(c.relowner) as "
    "\"Owner\" FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = "
    "c.relnamespace WHERE c.relkind IN ('r','v') AND n.nspname NOT IN ('pg_catalog', "
    "'information_schema') ORDER BY 1, 2 LIMIT 20",
    "SELECT n.nspname AS \"Name\", pg_catalog.pg_get_userbyid(n.nspowner) AS \"Owner\" FROM "
    "pg_catalog.pg_namespace n WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' "
    "ORDER BY 1",
    "SELECT d.datname as \"Name\", pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\", "
    "pg_catalog.pg_encoding_to_char(d.encoding) as \"Encoding\" FROM pg_catalog.pg_database d "
    "ORDER BY 1",
    "SELECT matviewname FROM pg_matviews",
    "SELECT * FROM pg_policy LIMIT 5",
    "SELECT collname FROM pg_collation LIMIT 5",
    "SELECT * FROM pg_statistic_ext LIMIT 5",
    "SELECT * FROM pg_publication LIMIT 5",
    "SELECT * FROM pg_inherits LIMIT 5",
    "SELECT * FROM pg_rules LIMIT 5",
    "SELECT * FROM pg_stat_statements LIMIT 5",
    "SELECT * FROM pg_partitioned_table LIMIT 5",
    "SELECT * FROM pg_constraint LIMIT 5",
    "SELECT * FROM pg_enum LIMIT 5",
    "SELECT * FROM pg_indexes LIMIT 5",
    "SELECT * FROM pg_stat_activity LIMIT 5",
    "SELECT relname FROM pg_stat_user_tables LIMIT 5",
    "SELECT word, catcode FROM pg_catalog.pg_get_keywords()",
]


# Introspection in the shape DBeaver 23 sends through pgjdbc (extended protocol, parameters):
# its navigator reads databases, schemas, tables, columns, types, indexes, constraints,
# roles, extensions and functions this way.
DBEAVER_QUERIES = [
 ("SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=%s", ("db1",)),
 ("select * from pg_catalog.pg_settings where name='standard_conforming_strings'", None),
 ("SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname", None),
 ("SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr, pg_catalog.pg_get_partkeydef(c.oid) as partition_key FROM pg_catalog.pg_class c LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass WHERE c.relnamespace=%s AND c.relkind not in ('i','I','c')", (2200,)),
 ("select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size FROM pg_class c WHERE c.relnamespace=%s", (2200,)),
 ("SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid FROM pg_catalog.pg_attribute a INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid) LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum) LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid) LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.relname=%s ORDER BY a.attnum", ("items",)),
 ("select t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description from pg_catalog.pg_type t LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid WHERE t.typname IS NOT NULL AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')", None),
 ("SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans FROM pg_catalog.pg_index i INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid WHERE tc.relname=%s ORDER BY tabrelname, c.relname", ("items",)),
 ("SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then \"substring\"(pg_get_constraintdef(c.oid), 7) end as consrc_copy FROM pg_catalog.pg_constraint c INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass WHERE t.relname=%s ORDER BY c.oid", ("items",)),
 ("SELECT current_schema(),session_user", None),
 ("SELECT * FROM pg_catalog.pg_enum WHERE enumtypid=%s ORDER BY enumsortorder", (0,)),
 ("select a.oid,a.* from pg_catalog.pg_am a", None),
 ("SELECT e.oid,e.*,n.nspname FROM pg_catalog.pg_extension e, pg_catalog.pg_namespace n WHERE n.oid = e.extnamespace", None),
 ("select r.oid,r.* from pg_catalog.pg_roles r", None),
 ("SELECT p.oid,p.*,pg_catalog.pg_get_function_arguments(p.oid) as arguments_signature FROM pg_catalog.pg_proc p WHERE p.pronamespace=%s ORDER BY p.proname", (2200,)),
 ("SELECT t.oid,t.*,c.relkind,d.description FROM pg_catalog.pg_trigger t LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.tgrelid LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=t.oid WHERE t.tgrelid=%s", (16384,)),
 ("SELECT n.nspname, c.relname, pg_catalog.array_to_string(c.relacl, ',') FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace", None),
]


def one(cur, sql, params=None):
    cur.execute(sql, params)
    return cur.fetchall()


@pytest.fixture
def shop(pg):
    with pg.admin() as a:
        for req in ["connect db1",
                    "create table items(id integer primary key, name varchar not null, "
                    "price decimal(10, 2) default 0, tags varchar[])",
                    "comment on table items is 'things we sell'",
                    "comment on column items.price is 'in euros'",
                    "create unique index items_name on items(name)",
                    "create view cheap as select * from items where price < 10"]:
            assert a.req(req) == "success", req
    return pg


def test_client_catalog_queries_all_run(shop):
    with connect(shop) as conn:
        cur = conn.cursor()
        for sql in CLIENT_QUERIES:
            cur.execute(sql)
            cur.fetchall()


def test_answers_are_postgresql_s_about_the_database(shop):
    with connect(shop) as conn:
        cur = conn.cursor()
        assert one(cur, "SELECT format_type(23, -1), format_type(1043, 54), "
                        "format_type(1700, 655366), format_type(1007, -1)") == [
            ("integer", "character varying(50)", "numeric(10,2)", "integer[]")]
        assert one(cur, "SELECT relname, relkind FROM pg_catalog.pg_class ORDER BY 1") == [
            ("cheap", "v"), ("items", "r"), ("items_id_pkey", "i"), ("items_name", "i"),
            ("t1", "r"), ("t2", "r")]
        # Columns with PostgreSQL's types, NOT NULL, defaults and comments.
        rows = one(cur, "SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), "
                        "a.attnotnull, pg_get_expr(d.adbin, d.adrelid), "
                        "col_description(a.attrelid, a.attnum) "
                        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                        "WHERE c.relname = 'items' AND a.attnum > 0 ORDER BY a.attnum")
        assert [r[:4] for r in rows] == [(1, "id", "integer", True),
                                         (2, "name", "text", True),
                                         (3, "price", "numeric(10,2)", False),
                                         (4, "tags", "text[]", False)]
        assert rows[2][4] is not None and "0" in rows[2][4] and rows[2][5] == "in euros"
        assert one(cur, "SELECT obj_description('items'::regclass, 'pg_class')") == [
            ("things we sell",)]
        # Keys: the primary key as a constraint with its index, and the unique index.
        assert one(cur, "SELECT conname, contype, conkey, pg_get_constraintdef(oid) "
                        "FROM pg_constraint WHERE conrelid = 'public.items'::regclass") == [
            ("items_id_pkey", "p", [1], "PRIMARY KEY (id)")]
        assert one(cur, "SELECT i.indisprimary, i.indisunique FROM pg_index i JOIN pg_class c "
                        "ON c.oid = i.indrelid WHERE c.relname = 'items' "
                        "ORDER BY i.indisprimary") == [(False, True), (True, True)]
        assert one(cur, "SELECT indexname FROM pg_indexes WHERE tablename = 'items' "
                        "ORDER BY 1") == [("items_id_pkey",), ("items_name",)]
        assert one(cur, "SELECT viewname FROM pg_views") == [("cheap",)]
        # PostgreSQL's regular expression operators match anywhere, ~* ignoring case.
        assert one(cur, "SELECT relname FROM pg_class WHERE relname ~ 'tem' AND relkind = 'r'"
                        ) == [("items",)]
        assert one(cur, "SELECT relname FROM pg_class WHERE relname OPERATOR(pg_catalog.~*) "
                        "'^ITEMS$'") == [("items",)]
        # Who and where: the session's user, the database's name and public.
        assert one(cur, "SELECT current_user, session_user, current_database(), "
                        "current_schema()") == [("duck", "duck", "db1", "public")]
        assert one(cur, "SELECT version()")[0][0].startswith("PostgreSQL 15.0")
        assert one(cur, "SELECT current_setting('server_version_num')") == [("150000",)]


def test_a_user_sees_only_what_is_granted(shop):
    with connect(shop, user="alice", password="s3cret") as conn:
        cur = conn.cursor()
        assert one(cur, "SELECT relname FROM pg_class") == [("t1",)]
        assert one(cur, "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c "
                        "ON c.oid = a.attrelid ORDER BY 2") == [("t1", "a"), ("t1", "b")]
        assert one(cur, "SELECT datname FROM pg_database") == [("db1",)]
        assert sorted(one(cur, "SELECT rolname FROM pg_roles")) == [("alice",), ("duck",)]
        assert one(cur, "SELECT count(*) FROM pg_attribute WHERE attname = 'secret'") == [(0,)]
        assert one(cur, "SELECT current_user, current_database()") == [("alice", "db1")]


def test_nothing_in_a_catalog_query_reaches_files_or_lasts(shop):
    # Not `with conn`: psycopg2 2.9 opens a transaction there even in autocommit mode, and an
    # error inside one aborts it (25P02 until ROLLBACK), as PostgreSQL does.
    conn = connect(shop)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("SELECT * FROM pg_class, read_csv('/etc/passwd')")
        assert "Permission Error" in str(e.value)
        with pytest.raises(psycopg2.errors.FeatureNotSupported) as e:
            cur.execute("CREATE TABLE pg_class_copy AS SELECT * FROM pg_class")
        assert "a catalog query is a single SELECT statement" in str(e.value)
        with pytest.raises(psycopg2.errors.FeatureNotSupported):
            cur.execute("DROP TABLE pg_class")
        # A query that would run for ever ends at the session's statement timeout.
        cur.execute("SET statement_timeout = 1000")
        with pytest.raises(psycopg2.errors.QueryCanceled):
            cur.execute("SELECT count(*) FROM pg_class, range(100000000000)")
        cur.execute("RESET statement_timeout")
        # The session goes on; and the super user's view and alice's, side by side, stay apart.
        alice = connect(shop, user="alice", password="s3cret")
        try:
            acur = alice.cursor()
            for _ in range(3):
                assert one(cur, "SELECT count(*) FROM pg_class WHERE relkind = 'r'") == [(3,)]
                assert one(acur, "SELECT count(*) FROM pg_class WHERE relkind = 'r'") == [(1,)]
        finally:
            alice.close()
    finally:
        conn.close()


def test_dbeaver_shaped_introspection_runs_with_parameters(shop):
    with psycopg.connect(host="127.0.0.1", port=shop.pg_port, user="duck", password="duck",
                         dbname="db1", connect_timeout=30, autocommit=True) as conn:
        for sql, params in DBEAVER_QUERIES:
            conn.execute(sql, params).fetchall()
        # Its column listing of one table, as it would show it.
        rows = conn.execute(DBEAVER_QUERIES[5][0], ("items",)).fetchall()
        assert [r[0] for r in rows] == ["items"] * 4
        # Its index listing: the primary key's index and the unique index of items.
        rows = conn.execute(DBEAVER_QUERIES[7][0], ("items",)).fetchall()
        assert len(rows) == 2


def test_psql_describe_commands_beyond_the_recognised_ones(shop):
    """psql's other \\d commands read catalogs DuckDB has no counterpart of: each answers
    (with no rows where the server has none of the kind) instead of failing."""
    for cmd in ["\\dx", "\\dT", "\\dp", "\\dD", "\\dc", "\\dC", "\\do", "\\dy", "\\dRp",
                "\\dRs", "\\dg", "\\des", "\\dL", "\\db", "\\dA", "\\dF", "\\dO", "\\dl",
                "\\dP", "\\dconfig"]:
        rc, out, err = psql(shop, "-v", "ON_ERROR_STOP=1", "-c", cmd)
        assert rc == 0 and "ERROR" not in err, (cmd, err)
    rc, out, err = psql(shop, "-A", "-t", "-c", "\\db")
    assert out.split("|")[0] == "pg_default", out
    rc, out, err = psql(shop, "-A", "-t", "-c", "\\dA")
    assert sorted(line.split("|")[0] for line in out.splitlines()) == ["btree", "heap"], out


def test_a_catalog_query_counts_against_max_statements(shop):
    """A user's catalog queries are statements like others: held to their MaxUserStatements."""
    with shop.admin() as a:
        assert a.req("update user limit alice max_statements 1") == "success"
    long_conn = connect(shop, user="alice", password="s3cret")
    long_conn.autocommit = True
    other = connect(shop, user="alice", password="s3cret")
    other.autocommit = True
    errors = []

    def run_long():
        try:
            long_conn.cursor().execute("SELECT count(*) FROM pg_class, range(100000000000)")
        except psycopg2.Error as e:
            errors.append(e)

    t = threading.Thread(target=run_long)
    t.start()
    try:
        # The long one is past its admission once the server shows it running for a while.
        with shop.admin() as a:
            def running():
                rows = json.loads(a.req("show sessions"))
                return any(r["user"] == "alice" and r["state"] == "active" and
                           (r["running_ms"] or 0) >= 300 for r in rows)

            assert wait_for(running, timeout=30), errors
        with pytest.raises(psycopg2.Error) as e:
            other.cursor().execute("SELECT relname FROM pg_class")
        assert e.value.pgcode == "53300" and "Too Many Statements" in str(e.value)
        long_conn.cancel()
        t.join(30)
        assert not t.is_alive() and errors and errors[0].pgcode == "57014", errors
        # Once it ended, the next one runs.
        cur = other.cursor()
        cur.execute("SELECT relname FROM pg_class")
        assert cur.fetchall() == [("t1",)]
    finally:
        long_conn.close()
        other.close()


def test_an_answer_beyond_its_bound_is_refused_and_the_session_goes_on(shop):
    """A catalog query's answer is at most CATSQL_MAX_ANSWER (64 MB): a larger one is 54000,
    with nothing of it sent, and the next query is answered."""
    conn = connect(shop)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("SELECT repeat('x', 1000000) FROM pg_class, range(100)")
        assert e.value.pgcode == "54000" and "larger than 64 MB" in str(e.value)
        assert one(cur, "SELECT count(*) FROM pg_class WHERE relkind = 'r'") == [(3,)]
    finally:
        conn.close()


def test_extended_protocol_binds_parameters(shop):
    with psycopg.connect(host="127.0.0.1", port=shop.pg_port, user="duck", password="duck",
                         dbname="db1", connect_timeout=30) as conn:
        cur = conn.cursor()
        cur.execute("SELECT relname, relkind FROM pg_class WHERE relname = %s", ("items",))
        assert cur.fetchall() == [("items", "r")]
        cur.execute("SELECT attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                    "WHERE c.relname = %s AND a.attnum = %s", ("items", 2), prepare=True)
        assert cur.fetchall() == [("name",)]
        cur.execute("SELECT relname FROM pg_class WHERE relname ~ %s ORDER BY 1", ("^t",))
        assert cur.fetchall() == [("t1",), ("t2",)]
