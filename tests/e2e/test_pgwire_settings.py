"""
The PostgreSQL front end's own answers (docs/pgwire.md, "Settings"): version(), DEALLOCATE,
DISCARD ALL, current_setting() and set_config(), and statement_timeout enforced, with psql,
psycopg2 and psycopg 3 (whose automatic preparation sends DEALLOCATE itself).
"""
import os
import re
import socket
import subprocess

import psycopg
import psycopg2
import psycopg2.errors
import pytest

from test_pgwire import PSQL, connect, pg, psql, read_msg, scram_login  # noqa: F401
from test_pgwire_proto import connect3, msg, until_ready

# A statement that runs for minutes: the timeouts below end it.
LONG = "select sum(hash(i)) from range(100000000000) t(i)"


def sqlstate(excinfo):
    return excinfo.value.pgcode if hasattr(excinfo.value, "pgcode") else excinfo.value.sqlstate


def test_version_is_postgresqls(pg):
    with connect(pg) as conn, conn.cursor() as cur:
        cur.execute("select version()")
        (v,) = cur.fetchone()
        assert cur.description[0].name == "version"
        assert re.match(r"PostgreSQL 15\.0 on \S+, compiled by TCP-DuckDB \S+, 64-bit$", v), v
        # SQLAlchemy's psycopg2 dialect reads the server version with this expression.
        m = re.match(r".*(?:PostgreSQL|EnterpriseDB) "
                     r"(\d+)\.?(\d+)?(?:\.(\d+))?(?:\.\d+)?(?:devel|beta)?", v)
        assert m and (int(m.group(1)), int(m.group(2))) == (15, 0)
        cur.execute("select pg_catalog.version() like 'PostgreSQL 15.0 %', "
                    "'version()', upper(version()) = upper(version())")
        assert cur.fetchone() == (True, "version()", True)
        cur.execute("show server_version")
        assert cur.fetchone()[0] == "15.0"
        assert conn.get_parameter_status("server_version") == "15.0"
        assert conn.server_version == 150000
    # psycopg 3 (extended protocol: the column is described before it runs).
    with connect3(pg, autocommit=True) as conn:
        cur = conn.execute("select version()")
        assert cur.description[0].name == "version"
        assert cur.fetchone()[0] == v
    # The line protocol keeps DuckDB's own function.
    with pg.admin() as a:
        assert a.req("connect db1") == "success"
        assert "PostgreSQL" not in a.req("select version() as v")


def test_current_setting_and_set_config(pg):
    with connect(pg) as conn, conn.cursor() as cur:
        cur.execute("select current_setting('search_path')")
        assert cur.fetchone() == ('"$user", public',)
        assert cur.description[0].name == "current_setting"
        cur.execute("select pg_catalog.set_config('application_name', 'my app', false) as a")
        assert cur.fetchone() == ("my app",)
        assert cur.description[0].name == "a"
        assert conn.get_parameter_status("application_name") == "my app"
        cur.execute("show application_name")
        assert cur.fetchone() == ("my app",)
        cur.execute("select current_setting('no_such_thing', true)")
        assert cur.fetchone() == (None,)
        conn.rollback()
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("select current_setting('no_such_thing')")
        assert sqlstate(e) == "42704"
        conn.rollback()
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("select set_config('server_version', '16', false)")
        assert sqlstate(e) == "55P02"
        conn.rollback()
        # Anywhere else the call is refused, not handed to DuckDB's own.
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("select 1 from t1 where current_setting('search_path') <> ''")
        assert sqlstate(e) == "0A000"
        assert "whole statement" in str(e.value)
        conn.rollback()
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("select set_config('search_path', 'x', true)")
        assert sqlstate(e) == "0A000"
    # The extended protocol: Describe answers the column before Execute.
    with connect3(pg, autocommit=True) as conn:
        conn.execute("select set_config('statement_timeout', '3000', false)")
        cur = conn.execute("select current_setting('statement_timeout') as t")
        assert cur.description[0].name == "t"
        assert cur.fetchone() == ("3s",)


def test_deallocate_by_psycopg3_auto_prepare(pg):
    """psycopg 3 prepares a query from its first run (prepare_threshold 0), sends DEALLOCATE
    name when it keeps more than prepared_max, and DEALLOCATE ALL after a DROP."""
    def prepared(conn):
        """The names of psycopg's statements the server holds (Describe of each)."""
        held = []
        for i in range(20):
            name = b"_pg3_%d" % i
            res = conn.pgconn.describe_prepared(name)
            if res.status == psycopg.pq.ExecStatus.COMMAND_OK:
                held.append(name)
            else:
                assert res.error_field(psycopg.pq.DiagnosticField.SQLSTATE) == b"26000"
        return held

    with connect3(pg, autocommit=True, prepare_threshold=0) as conn:
        conn.prepared_max = 2
        for _ in range(3):
            for q in ["select a from t1 where a = %s", "select b from t1 where a = %s",
                      "select a + 1 from t1 where a = %s"]:
                assert len(conn.execute(q, (1,)).fetchall()) == 1
        assert len(prepared(conn)) == 2
        conn.execute("drop table if exists no_such_table")
        assert conn.execute("select 7").fetchone() == (7,)  # after the DEALLOCATE ALL
        assert len(prepared(conn)) <= 1
        assert conn.execute("select a from t1 where a = %s", (2,)).fetchall() == [(2,)]
        with pytest.raises(psycopg.Error) as e:
            conn.execute("deallocate no_such_statement")
        assert e.value.sqlstate == "26000"


def test_deallocate_and_discard_raw(pg):
    """A named statement made by Parse is gone after DEALLOCATE name; DISCARD ALL drops
    statements and portals and resets settings, and is refused inside a block."""
    with socket.create_connection(("127.0.0.1", pg.pg_port), timeout=30) as s:
        scram_login(s)
        s.sendall(msg(b"P", b"st1\0select 1\0\0\0") + msg(b"S"))
        assert [t for t, _ in until_ready(s)] == [b"1", b"Z"]
        s.sendall(msg(b"Q", b"DEALLOCATE PREPARE \"st1\"\0"))
        got = until_ready(s)
        assert (b"C", b"DEALLOCATE\0") in got
        s.sendall(msg(b"B", b"\0st1\0\0\0\0\0\0\0") + msg(b"S"))
        got = until_ready(s)
        assert got[0][0] == b"E" and b"C26000\0" in got[0][1]
        s.sendall(msg(b"P", b"st1\0select 1\0\0\0") + msg(b"P", b"st3\0select 3\0\0\0") +
                  msg(b"S"))
        until_ready(s)
        s.sendall(msg(b"Q", b"deallocate all\0"))
        assert (b"C", b"DEALLOCATE ALL\0") in until_ready(s)
        s.sendall(msg(b"B", b"\0st3\0\0\0\0\0\0\0") + msg(b"S"))
        got = until_ready(s)
        assert got[0][0] == b"E" and b"C26000\0" in got[0][1]
        # DISCARD ALL: statements gone, settings back to their defaults.
        s.sendall(msg(b"P", b"st2\0select 2\0\0\0") + msg(b"S"))
        until_ready(s)
        s.sendall(msg(b"Q", b"set extra_float_digits = 3; set application_name = 'x'\0"))
        until_ready(s)
        s.sendall(msg(b"Q", b"begin; discard all\0"))
        got = until_ready(s)
        assert any(t == b"E" and b"C25001\0" in b for t, b in got)
        s.sendall(msg(b"Q", b"rollback\0"))
        until_ready(s)
        s.sendall(msg(b"Q", b"discard all\0"))
        got = until_ready(s)
        assert (b"C", b"DISCARD ALL\0") in got
        assert (b"S", b"application_name\0\0") in got
        s.sendall(msg(b"Q", b"show extra_float_digits\0"))
        got = until_ready(s)
        assert any(t == b"D" and b.endswith(b"1") for t, b in got)
        s.sendall(msg(b"B", b"\0st2\0\0\0\0\0\0\0") + msg(b"S"))
        got = until_ready(s)
        assert got[0][0] == b"E" and b"C26000\0" in got[0][1]
        s.sendall(msg(b"Q", b"discard temp\0"))
        got = until_ready(s)
        assert got[0][0] == b"E" and b"C0A000\0" in got[0][1]


def test_statement_timeout_is_enforced(pg):
    rc, out, err = psql(pg, "-c", "set statement_timeout = '1s'", "-c", LONG)
    assert rc != 0
    assert "ERROR:  Statement Timeout" in err, err
    # 57014 as in PostgreSQL, for the statements after the SET only; RESET lifts it.
    conn = connect(pg)
    conn.autocommit = True  # (psycopg2's `with conn` would open a transaction)
    with conn.cursor() as cur:
        cur.execute("set statement_timeout to 1000")
        cur.execute("show statement_timeout")
        assert cur.fetchone() == ("1s",)
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(LONG)
        assert sqlstate(e) == "57014"
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
        # Milliseconds, not rounded up to whole seconds (the watchdog's deadline is in ms).
        cur.execute("set statement_timeout = 250")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(LONG)
        assert sqlstate(e) == "57014"
        assert "ran longer than 250 ms" in str(e.value), str(e.value)
        cur.execute("set statement_timeout = '1s'")
        for bad in ["'abc'", "'-1'", "'5 parsecs'", "'3000000000'"]:
            with pytest.raises(psycopg2.Error) as e:
                cur.execute("set statement_timeout = " + bad)
            assert sqlstate(e) == "22023", bad
        cur.execute("show statement_timeout")
        assert cur.fetchone() == ("1s",)
        cur.execute("set statement_timeout = '2min'")
        cur.execute("show statement_timeout")
        assert cur.fetchone() == ("2min",)
    conn.close()
    # psycopg 3 (extended protocol), and set_config.
    with connect3(pg, autocommit=True) as conn:
        conn.execute("select set_config('statement_timeout', '1500ms', false)")
        with pytest.raises(psycopg.Error) as e:
            conn.execute(LONG)
        assert e.value.sqlstate == "57014"


def test_statement_timeout_never_raises_the_users_limit(pg):
    with pg.admin() as a:
        assert a.req("update user limit alice statement_timeout 1") == "success"
    conn = connect(pg, user="alice", password="s3cret")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("set statement_timeout = '1h'")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(LONG)
        assert sqlstate(e) == "57014"
        cur.execute("reset statement_timeout")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(LONG)
        assert sqlstate(e) == "57014"
    conn.close()


def catalog_verifier(srv, user):
    """The verifier the server's catalog (SQLite) holds for `user`."""
    import glob
    import sqlite3
    for path in glob.glob(os.path.join(srv.data_dir, "*")):
        try:
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
            row = db.execute("select verifier from users where name = ?", (user,)).fetchone()
            db.close()
        except sqlite3.Error:
            continue
        if row:
            return row[0]
    raise AssertionError("no catalog with user %s in %s" % (user, srv.data_dir))


def test_psql_password_stores_the_verifier(pg):
    """psql's \\password makes the verifier itself (libpq, after SHOW password_encryption) and
    sends ALTER USER ... PASSWORD 'SCRAM-SHA-256$...': stored as given, then the new password
    logs in through psql and the old one no longer does."""
    env = dict(os.environ, PGPASSWORD="duck", PGCONNECT_TIMEOUT="30")
    # Without a terminal (a new session), psql reads the new password twice from stdin.
    p = subprocess.run([PSQL, "-X", "-h", "127.0.0.1", "-p", str(pg.pg_port), "-U", "duck",
                        "-d", "db1"], input="\\password alice\nN3w-pass\nN3w-pass\n",
                       capture_output=True, text=True, env=env, timeout=120,
                       start_new_session=True)
    assert p.returncode == 0, p.stderr
    assert "ERROR" not in p.stderr, p.stderr
    stored = catalog_verifier(pg, "alice")
    assert re.match(r"SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:"
                    r"[A-Za-z0-9+/=]{44}$", stored), stored
    assert "N3w-pass" not in stored
    rc, out, err = psql(pg, "-A", "-t", "-c", "select a from t1 order by a", user="alice",
                        password="N3w-pass")
    assert rc == 0, err
    assert out.split() == ["1", "2"]
    rc, out, err = psql(pg, "-c", "select 1", user="alice", password="s3cret")
    assert rc != 0 and "password authentication failed" in err, err
    # The line protocol logs in with it too (the same verifier).
    with pg.client(login=("alice", "N3w-pass")) as c:
        assert c.req("connect db1") == "success"


def test_verifiers_are_checked_strictly(pg):
    good = catalog_verifier(pg, "alice")
    salt = good.split(":")[1].split("$")[0]
    keys = good.split("$")[2]
    stored, server = keys.split(":")
    conn = connect(pg)
    conn.autocommit = True
    bad = {
        "SCRAM-SHA-256$4096:%s$%s" % (salt, stored): "22023",           # no ServerKey
        "SCRAM-SHA-256$4096:%s$%s:%s" % (salt, stored[:-4], server): "22023",  # short key
        "SCRAM-SHA-256$04096:%s$%s:%s" % (salt, stored, server): "22023",  # leading zero
        "SCRAM-SHA-256$4096:%s$%s:%s!" % (salt, stored, server): "22023",  # not base64
        "SCRAM-SHA-256$1000:%s$%s:%s" % (salt, stored, server): "22023",   # few iterations
        "SCRAM-SHA-256$4096:c2FsdA==$%s:%s" % (stored, server): "22023",   # 4-byte salt
        "md5" + "0" * 32: "0A000",
    }
    with conn.cursor() as cur:
        for verifier, state in bad.items():
            with pytest.raises(psycopg2.Error) as e:
                cur.execute("alter user alice password '%s'" % verifier)
            assert sqlstate(e) == state, verifier
            assert catalog_verifier(pg, "alice") == good
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("create user carol password 'SCRAM-SHA-256$4096:%s$%s:%s'" %
                        (salt, stored, server))
        assert sqlstate(e) == "0A000"
        # A well-formed one is stored as given: the super user's \password for another user.
        new = "SCRAM-SHA-256$4096:%s$%s:%s" % (salt, server, stored)
        cur.execute("alter user alice with password '%s'" % new)
        assert catalog_verifier(pg, "alice") == new
    conn.close()
    # Only the super user changes passwords, as `update user password`.
    with pg.admin() as a:
        assert a.req("update user password alice s3cret") == "success"
    conn = connect(pg, user="alice", password="s3cret")
    conn.autocommit = True
    with conn.cursor() as cur, pytest.raises(psycopg2.Error) as e:
        cur.execute("alter user alice password '%s'" % good)
    assert sqlstate(e) == "42501"
    conn.close()
    assert catalog_verifier(pg, "alice") != good


def test_binary_numeric_time_interval(pg):
    """psycopg 3's binary cursor reads DECIMAL, HUGEINT, UBIGINT, TIME and INTERVAL columns in
    PostgreSQL's binary send formats; every value equals the text format's."""
    import datetime
    from decimal import Decimal
    exprs = [
        "0::decimal(10,2)", "1.5::decimal(4,2)", "-1.5::decimal(4,2)", "0.0001::decimal(9,4)",
        "12345.6789::decimal(18,4)", "-0.00001::decimal(18,5)", "10000::decimal(18,0)",
        "-99999999.99::decimal(10,2)", "123456789012345678901234567.89012345678::decimal(38,11)",
        "-0.1::decimal(38,37)", "100000000::decimal(9,0)", "0.5::decimal(38,1)",
        "170141183460469231731687303715884105727::hugeint",
        "-170141183460469231731687303715884105727::hugeint",
        "18446744073709551615::ubigint", "340282366920938463463374607431768211455::uhugeint",
        "0::hugeint", "null::decimal(10,2)",
        "time '00:00:00'", "time '23:59:59.999999'", "time '12:34:56.5'",
        "interval '1 year 2 months 3 days 04:05:06.789'", "interval '-1 day'",
        "interval '-00:00:01.5'", "interval '0 seconds'", "interval '40 days 100 hours'",
    ]
    sql = "select " + ", ".join(exprs)
    with connect3(pg, autocommit=True) as conn:
        text = conn.cursor().execute(sql).fetchone()
        cur = conn.cursor(binary=True)
        binary = cur.execute(sql).fetchone()
        assert all(d.type_code in (1700, 1083, 1186) for d in cur.description)
        assert cur.pgresult.fformat(0) == 1  # the values came in binary
        assert list(binary) == list(text)
        assert binary[:4] == (Decimal("0.00"), Decimal("1.50"), Decimal("-1.50"),
                              Decimal("0.0001"))
        assert binary[8] == Decimal("123456789012345678901234567.89012345678")
        assert binary[9] == Decimal("-0.1000000000000000000000000000000000000")
        assert binary[9].as_tuple().exponent == -37  # dscale 37 kept
        assert binary[12] == 2 ** 127 - 1 and binary[15] == 2 ** 128 - 1
        assert binary[17] is None
        assert binary[19] == datetime.time(23, 59, 59, 999999)
        assert binary[22] == datetime.timedelta(days=-1)
        assert binary[23] == datetime.timedelta(seconds=-1.5)
        # The same through a table, row by row.
        conn.execute("create table nums(d decimal(18,3), t time, i interval)")
        conn.execute("insert into nums select (i * 1234.567 - 50000)::decimal(18,3), "
                     "(time '00:00:00' + i * interval 77 second), i * interval 3001 second "
                     "from range(300) t(i)")
        q = "select d, t, i from nums order by d"
        assert (conn.cursor(binary=True).execute(q).fetchall() ==
                conn.cursor().execute(q).fetchall())


def test_drop_user(pg):
    """DROP USER|ROLE maps onto `drop user`: super user only, never the super user; the
    user's grants go with them and a user made again under the name starts with none."""
    def script(sql, user="duck", password="duck"):
        rc, out, err = psql(pg, "-v", "VERBOSITY=sqlstate", "-c", sql, user=user,
                            password=password)
        return out + err

    out = script("create user eve password 'pw1'")
    assert "CREATE ROLE" in out, out
    with pg.admin() as a:
        assert a.req("grant database db1 eve read") == "success"
        assert a.req("grant table db1 t1 eve select") == "success"
    rc, out, err = psql(pg, "-A", "-t", "-c", "select count(*) from t1", user="eve",
                        password="pw1")
    assert (rc, out.strip()) == (0, "2"), err
    # Not the super user's to lose, and only the super user drops.
    assert "42501" in script("drop user eve", user="alice", password="s3cret")
    assert "ERROR:  08P01" in script("drop role duck")  # the line protocol's Bad Request
    open_conn = connect(pg, user="eve", password="pw1")
    open_conn.autocommit = True
    assert "DROP ROLE" in script("drop role eve")
    # A session opened before the drop is refused from its next statement.
    with open_conn.cursor() as cur, pytest.raises(psycopg2.Error) as e:
        cur.execute("select count(*) from t1")
    assert sqlstate(e) == "42501"
    open_conn.close()
    with pg.admin() as a:
        assert "eve" not in a.req("list users")
    rc, out, err = psql(pg, "-c", "select 1", user="eve", password="pw1")
    assert rc != 0 and "password authentication failed" in err, err
    assert "ERROR:  42704" in script("drop user eve")
    assert "DROP ROLE" in script("drop user if exists eve")
    # A new eve has none of the old one's grants.
    assert "CREATE ROLE" in script("create user eve password 'pw2'")
    rc, out, err = psql(pg, "-c", "select 1", user="eve", password="pw2")
    assert rc != 0 and "Access Denied" in err, err


def test_timezone_is_utc_only(pg):
    """DuckDB's TimeZone cannot be set per connection under the sandbox's locked
    configuration, and the front end writes timestamptz in UTC: another zone is refused with
    a clear error, never stored and silently ignored (docs/pgwire.md, "Settings")."""
    rc, out, err = psql(pg, "-v", "ON_ERROR_STOP=1", "-c", "set TimeZone = 'America/New_York'")
    assert rc != 0
    assert 'ERROR:  time zone "America/New_York" is not supported' in err, err
    rc, out, err = psql(pg, "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", "set time zone 'UTC'",
                        "-c", "show timezone",
                        "-c", "select timestamptz '2024-01-01 00:00:00+00'")
    assert rc == 0, err
    assert out.split("\n")[:2] == ["UTC", "2024-01-01 00:00:00+00"], out
    conn = connect(pg)
    conn.autocommit = True
    with conn.cursor() as cur:
        for bad in ["set timezone = 'Europe/Paris'", "set time zone 'America/New_York'",
                    "set time zone -5", "select set_config('TimeZone', 'Asia/Tokyo', false)"]:
            with pytest.raises(psycopg2.Error) as e:
                cur.execute(bad)
            assert sqlstate(e) == "0A000", bad
            assert "UTC only" in str(e.value)
        cur.execute("show timezone")
        assert cur.fetchone() == ("UTC",)
        for good in ["'Etc/UTC'", "'GMT'", "local", "default", "'+00:00'"]:
            cur.execute("set time zone " + good)
        cur.execute("set timezone = 'Etc/UTC'")
        cur.execute("show timezone")
        assert cur.fetchone() == ("Etc/UTC",)
        assert conn.get_parameter_status("TimeZone") == "Etc/UTC"
    conn.close()


def test_extra_float_digits_rounds_text_floats(pg):
    """extra_float_digits <= 0 rounds float8 to 15 + n and float4 to 6 + n significant
    digits, as PostgreSQL 12+ does; 1 (the default) and more give the shortest exact text.
    Another session, served from the same result cache, keeps its own."""
    q = "select 1.0/3::double, 0.1::double, pi()::real, [1.0/3, 2.5]::double[]"
    rc, out, err = psql(pg, "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", q)
    assert rc == 0, err
    assert out.strip() == "0.3333333333333333|0.1|3.1415927|{0.3333333333333333,2.5}", out
    rc, out, err = psql(pg, "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-c", "set extra_float_digits = 0", "-c", q,
                        "-c", "set extra_float_digits = -3", "-c", q,
                        "-c", "reset extra_float_digits", "-c", q)
    assert rc == 0, err
    assert out.split("\n")[:3] == [
        "0.333333333333333|0.1|3.14159|{0.333333333333333,2.5}",
        "0.333333333333|0.1|3.14|{0.333333333333,2.5}",
        "0.3333333333333333|0.1|3.1415927|{0.3333333333333333,2.5}"], out
    # Twice more in a fresh session: a cached answer, and still the shortest text.
    for _ in range(2):
        rc, out, err = psql(pg, "-A", "-t", "-c", q)
        assert out.strip() == "0.3333333333333333|0.1|3.1415927|{0.3333333333333333,2.5}", out
    conn = connect(pg)
    conn.autocommit = True
    with conn.cursor() as cur:
        for bad in ["4", "-16", "'x'", "'1.5'"]:
            with pytest.raises(psycopg2.Error) as e:
                cur.execute("set extra_float_digits = " + bad)
            assert sqlstate(e) == "22023", bad
        cur.execute("set extra_float_digits = 3")
        cur.execute("select 0.1::double")
        assert cur.fetchone() == (0.1,)
    conn.close()
    # psycopg 3 (extended protocol, text results).
    with connect3(pg, autocommit=True) as conn:
        conn.execute("set extra_float_digits to 0")
        cur = conn.execute("select (1.0/3)::double::text, %s::double * 1", (1 / 3,))
        assert cur.fetchone()[1] == 0.333333333333333


def test_search_path_names_public(pg):
    """public is DuckDB's main, on DuckDB's path already: a search_path of public, "$user",
    pg_catalog or main is accepted as PostgreSQL's clients send it; a path through another
    schema is refused instead of being stored and ignored."""
    conn = connect(pg)
    conn.autocommit = True
    with conn.cursor() as cur:
        for good in ["public", '"$user", public', "pg_catalog, public", "'public'", "main",
                     "default"]:
            cur.execute("set search_path to " + good)
            cur.execute("select count(*) from t1")
            assert cur.fetchone()[0] >= 1
        cur.execute('set search_path = "$user", public')
        cur.execute("show search_path")
        assert cur.fetchone() == ('"$user", public',)
        for bad in ["myschema", "public, other", '"Public"']:
            with pytest.raises(psycopg2.Error) as e:
                cur.execute("set search_path to " + bad)
            assert sqlstate(e) == "0A000", bad
            assert "cannot be on the search_path" in str(e.value)
        cur.execute("show search_path")
        assert cur.fetchone() == ('"$user", public',)
    conn.close()


def test_transaction_warnings_are_notices(pg):
    """BEGIN inside a block and COMMIT/ROLLBACK outside one answer PostgreSQL's WARNING
    (NoticeResponse 25001 / 25P01) and go on; client_min_messages = error silences them."""
    conn = connect(pg)
    with conn.cursor() as cur:
        cur.execute("select 1")  # psycopg2 opened a block with its own BEGIN
        cur.execute("begin")
        assert conn.notices[-1] == "WARNING:  there is already a transaction in progress\n"
        conn.rollback()
        conn.autocommit = True
        del conn.notices[:]
        cur.execute("commit")
        cur.execute("rollback")
        assert conn.notices == ["WARNING:  there is no transaction in progress\n"] * 2
        cur.execute("begin; select 1")
        cur.execute("commit")
        assert len(conn.notices) == 2  # a block to end: no warning
        cur.execute("set client_min_messages = error")
        cur.execute("commit")
        assert len(conn.notices) == 2
    conn.close()
    rc, out, err = psql(pg, "-c", "begin", "-c", "begin", "-c", "commit", "-c", "commit")
    assert rc == 0, err
    assert err.count("WARNING:  there is already a transaction in progress") == 1, err
    assert err.count("WARNING:  there is no transaction in progress") == 1, err
    # psycopg 3: the notice's fields, through the extended protocol too.
    got = []
    with connect3(pg, autocommit=True) as conn3:
        conn3.add_notice_handler(lambda d: got.append((d.severity, d.sqlstate, d.message_primary)))
        conn3.execute("rollback")
        conn3.execute("begin")
        conn3.execute("start transaction")
        conn3.execute("commit")
    assert got == [("WARNING", "25P01", "there is no transaction in progress"),
                   ("WARNING", "25001", "there is already a transaction in progress")], got
