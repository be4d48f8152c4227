"""The per-connection cache of prepared statements (docs/architecture.md, "Statement cache"):
a request sent again runs the statement prepared the first time, and its answer is exactly the
answer of an uncached run, after DDL and SET in this or another session, inside transactions,
after rollbacks and across `connect`; and a cached statement of a user other than the super user
is checked against the grants again at every request."""
import json

import pytest


def stats(admin):
    return json.loads(admin.req("stats"))["statements"]


def fresh(srv, db, sql, login=("duck", "duck")):
    """The answer of a new session, whose cache is empty."""
    c = srv.client(login=login)
    assert c.req("connect " + db) == "success"
    answer = c.req(sql)
    c.close()
    return answer


@pytest.fixture
def db(server):
    a = server.admin()
    for line in ["create database d", "create database e", "connect d",
                 "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)",
                 "INSERT INTO t VALUES (1, 'one'), (2, 'two')",
                 "CREATE VIEW vw AS SELECT id FROM t WHERE id = 1",
                 "connect e", "CREATE TABLE t (id INTEGER, v VARCHAR)",
                 "INSERT INTO t VALUES (9, 'nine')"]:
        assert a.req(line) in ("success", "2", "1"), line
    a.close()
    return server


def connected(srv, dbname="d", login=("duck", "duck")):
    c = srv.client(login=login)
    assert c.req("connect " + dbname) == "success"
    return c


def test_a_repeated_request_is_served_from_the_cache(db):
    admin = db.admin()
    c = connected(db)
    before = stats(admin)
    for _ in range(5):
        assert c.req("SELECT v FROM t WHERE id = 2") == '[{"v":"two"}]'
    after = stats(admin)
    assert after["hits"] - before["hits"] >= 4
    # The typed form shares the entry and still answers in its own form.
    assert c.req('query {"sql": "SELECT v FROM t WHERE id = 2"}') == \
        '{"columns":[{"name":"v","type":"VARCHAR"}],"rows":[["two"]]}'


def test_ddl_in_another_session_is_seen(db):
    c = connected(db)
    other = connected(db)
    assert c.req("SELECT * FROM t WHERE id = 1") == '[{"id":1,"v":"one"}]'
    assert c.req("SELECT * FROM vw") == '[{"id":1}]'
    assert other.req("ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 5") == "success"
    # DuckDB does not rebind a prepared statement when a view is replaced: the cache must drop it.
    assert other.req("CREATE OR REPLACE VIEW vw AS SELECT id FROM t WHERE id = 2") == "success"
    assert c.req("SELECT * FROM t WHERE id = 1") == '[{"id":1,"v":"one","w":5}]'
    assert c.req("SELECT * FROM vw") == '[{"id":2}]'
    assert other.req("DROP VIEW vw") == "success"
    expected = fresh(db, "d", "SELECT * FROM vw")
    assert expected.startswith("Error: Catalog Error")
    assert c.req("SELECT * FROM vw") == expected


def test_set_variable_in_the_same_session_is_seen(db):
    c = connected(db)
    assert c.req("SET VARIABLE x = 1") == "success"
    assert c.req("SELECT getvariable('x') AS x") == '[{"x":1}]'
    assert c.req("SET VARIABLE x = 2") == "success"
    assert c.req("SELECT getvariable('x') AS x") == '[{"x":2}]'


def test_ddl_rolled_back_in_a_transaction(db):
    c = connected(db)
    assert c.req("SELECT * FROM t WHERE id = 2") == '[{"id":2,"v":"two"}]'
    assert c.req("start transaction") == "success"
    assert c.req("ALTER TABLE t ADD COLUMN z INTEGER") == "success"
    assert c.req("SELECT * FROM t WHERE id = 2") == '[{"id":2,"v":"two","z":null}]'
    assert c.req("rollback") == "success"
    assert c.req("SELECT * FROM t WHERE id = 2") == '[{"id":2,"v":"two"}]'


def test_ddl_of_another_transaction_is_seen_once_committed(db):
    c = connected(db)
    other = connected(db)
    assert c.req("SELECT * FROM vw") == '[{"id":1}]'
    assert other.req("start transaction") == "success"
    assert other.req("CREATE OR REPLACE VIEW vw AS SELECT id, v FROM t WHERE id = 2") == "success"
    assert c.req("SELECT * FROM vw") == '[{"id":1}]'
    assert other.req("commit") == "success"
    assert c.req("SELECT * FROM vw") == '[{"id":2,"v":"two"}]'


def test_connect_elsewhere_uses_the_other_database(db):
    c = connected(db)
    assert c.req("SELECT v FROM t ORDER BY id LIMIT 1") == '[{"v":"one"}]'
    assert c.req("connect e") == "success"
    assert c.req("SELECT v FROM t ORDER BY id LIMIT 1") == '[{"v":"nine"}]'
    assert c.req("connect d") == "success"
    assert c.req("SELECT v FROM t ORDER BY id LIMIT 1") == '[{"v":"one"}]'


def test_parameters_do_not_leak_between_requests(db):
    c = connected(db)
    typed = 'query {"sql": "SELECT v FROM t WHERE id = $1", "params": [%d]}'
    assert json.loads(c.req(typed % 1))["rows"] == [["one"]]
    assert json.loads(c.req(typed % 2))["rows"] == [["two"]]
    # The same text without parameters: the uncached answer (an error), not the last binding.
    expected = fresh(db, "d", "SELECT v FROM t WHERE id = $1")
    assert expected.startswith("Error: ")
    assert c.req("SELECT v FROM t WHERE id = $1") == expected
    assert json.loads(c.req(typed % 1))["rows"] == [["one"]]


def test_a_changed_table_is_prepared_again(db):
    c = connected(db)
    assert c.req("SELECT v FROM t WHERE id = 1") == '[{"v":"one"}]'
    other = connected(db)
    assert other.req("DROP VIEW vw") == "success"
    assert other.req("DROP TABLE t") == "success"
    expected = fresh(db, "d", "SELECT v FROM t WHERE id = 1")
    assert expected.startswith("Error: Catalog Error")
    assert c.req("SELECT v FROM t WHERE id = 1") == expected
    assert other.req("CREATE TABLE t (id INTEGER, v INTEGER)") == "success"
    assert other.req("INSERT INTO t VALUES (1, 100)") == "1"
    assert c.req("SELECT v FROM t WHERE id = 1") == '[{"v":100}]'


def test_more_statements_than_the_cache_holds(db):
    c = connected(db)
    for rnd in range(2):
        for i in range(80):
            assert c.req("SELECT %d AS k, count(*) AS n FROM t" % i) == '[{"k":%d,"n":2}]' % i


@pytest.fixture
def granted(db):
    a = db.admin()
    for line in ["create user r pw", "grant database d r read", "grant table d t r select"]:
        assert a.req(line) == "success", line
    return a


def test_a_cached_statement_is_checked_after_a_revoke(db, granted):
    r = connected(db, login=("r", "pw"))
    denied = 'Error: Access Denied: User "r" does not have access over Tables "t"'
    for _ in range(3):
        assert r.req("SELECT v FROM t WHERE id = 1") == '[{"v":"one"}]'
    assert granted.req("revoke table d t r select") == "success"
    assert r.req("SELECT v FROM t WHERE id = 1") == denied
    assert r.req('query {"sql": "SELECT v FROM t WHERE id = $1", "params": [1]}') == denied
    assert granted.req("grant table d t r select") == "success"
    assert r.req("SELECT v FROM t WHERE id = 1") == '[{"v":"one"}]'
    assert granted.req("revoke database d r") == "success"
    assert r.req("SELECT v FROM t WHERE id = 1") == \
        'Error: Access Denied: User "r" does not have access over Database "d"'


def test_a_cached_statement_is_checked_after_write_becomes_read(db, granted):
    assert granted.req("create user w pw") == "success"
    assert granted.req("grant database d w write") == "success"
    assert granted.req("grant table d t w select insert delete") == "success"
    w = connected(db, login=("w", "pw"))
    for i in range(3):
        assert w.req("INSERT INTO t VALUES (10, 'ten')") == "1"
        assert w.req("DELETE FROM t WHERE id = 10") == "1"
    assert granted.req("grant database d w read") == "success"
    assert w.req("INSERT INTO t VALUES (10, 'ten')") == \
        'Error: Access Denied: User "w" does not have access over Tables "t"'
    assert w.req("SELECT count(*) AS n FROM t") == '[{"n":2}]'


def test_a_view_replaced_under_a_cached_check_is_checked_anew(db, granted):
    """A user allowed on a view reads through it; when the super user makes the name a
    view of another table, the check is made again (the schema changed)."""
    assert granted.req("grant table d vw r select") == "success"
    assert granted.req("revoke table d t r select") == "success"
    r = connected(db, login=("r", "pw"))
    for _ in range(2):
        assert r.req("SELECT * FROM vw") == '[{"id":1}]'
    assert r.req("SELECT * FROM t") == \
        'Error: Access Denied: User "r" does not have access over Tables "t"'
    admin = connected(db)
    assert admin.req("DROP VIEW vw") == "success"
    assert admin.req("CREATE TABLE vw AS SELECT 42 AS id") == "success"
    # Still a grant on the name `vw` (grants are pruned only on DROP TABLE by name).
    answer = r.req("SELECT * FROM vw")
    assert answer == fresh(db, "d", "SELECT * FROM vw", login=("r", "pw"))


def test_a_users_checked_statement_runs_and_is_kept(db, granted):
    """A user's request of one statement runs the statement its access check prepared (issue
    22): the answers are the super user's, first time and cached, literal and with parameters,
    parameters bound wrongly fail as they do for the super user, and the statement is kept."""
    admin = db.admin()
    r = connected(db, login=("r", "pw"))
    su = connected(db)
    typed = '{"columns":[{"name":"v","type":"VARCHAR"}],"rows":[["two"]]}'
    for c in (r, su):
        assert c.req("SELECT v FROM t WHERE id = 2") == '[{"v":"two"}]'
        assert c.req('query {"sql": "SELECT v FROM t WHERE id = $1", "params": [2]}') == typed
    before = stats(admin)
    assert r.req('query {"sql": "SELECT v FROM t WHERE id = $1", "params": [2]}') == typed
    assert r.req("SELECT v FROM t WHERE id = 2") == '[{"v":"two"}]'
    assert stats(admin)["hits"] - before["hits"] >= 2
    wrong = 'query {"sql": "SELECT v FROM t WHERE id = $1 AND v = $2", "params": [2]}'
    first = r.req(wrong)
    assert first.startswith("Error: ")
    assert first == su.req(wrong)
    # A request of several statements is prepared as it runs, after the check.
    assert r.req("SELECT 1 AS a; SELECT v FROM t WHERE id = 1") == '[{"v":"one"}]'


def test_a_users_result_cache_hit_keeps_the_check(db, granted):
    """A user's request answered from the result cache keeps what its check derived, so the
    same text is then rechecked from the statement cache, and a revoke still takes effect."""
    admin = db.admin()
    r = connected(db, login=("r", "pw"))
    su = connected(db)
    sql = "SELECT v FROM t WHERE id = 1 AND v <> 'x'"
    assert su.req(sql) == '[{"v":"one"}]'  # now in the result cache
    assert r.req(sql) == '[{"v":"one"}]'  # a hit there; the check's statement is kept
    before = stats(admin)
    for _ in range(3):
        assert r.req(sql) == '[{"v":"one"}]'
    assert stats(admin)["hits"] - before["hits"] >= 3
    assert granted.req("revoke table d t r select") == "success"
    assert r.req(sql) == 'Error: Access Denied: User "r" does not have access over Tables "t"'
