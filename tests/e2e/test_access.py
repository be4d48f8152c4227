"""Enforcement of grants for users other than the super user: a table of
requests, each allowed (with its exact answer) or denied (with its answer),
run against the real server. docs/access-control.md holds the same rules."""
import json

import pytest

DENY = "Error: Access Denied: "


def tables(user, *names):
    return 'Error: Access Denied: User "%s" does not have access over Tables "%s"' % (
        user, ",".join(names))


@pytest.fixture(scope="module")
def shop(request, tmp_path_factory):
    from conftest import Server
    srv = Server(str(tmp_path_factory.mktemp("access"))).start()
    a = srv.admin()
    for line in [
        "create database shop", "create database other", "connect shop",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, amount INTEGER)",
        "INSERT INTO orders VALUES (1, 10), (2, 20)",
        "CREATE TABLE secret (id INTEGER, pw VARCHAR)",
        "INSERT INTO secret VALUES (1, 'hunter2')",
        "CREATE TABLE \"MixedCase\" (id INTEGER)", "INSERT INTO \"MixedCase\" VALUES (7)",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR)",
        "CREATE VIEW v_secret AS SELECT id FROM secret",
        "CREATE SCHEMA s2", "CREATE TABLE s2.x (i INTEGER)",
        "create user r pw", "create user w pw", "create user n pw",
        "grant database shop r read", "grant database shop w write", "grant database shop n read",
        "grant table shop orders r select", "grant table shop MixedCase r select",
        "grant table shop v_secret r select",
        "grant table shop orders w select insert update delete",
        "grant table shop items w insert",
    ]:
        assert a.req(line) in ("success", "1", "2"), line
    yield srv
    a.close()
    srv.check_clean(srv.stop())


def session(srv, user):
    c = srv.client(login=(user, "pw"))
    assert c.req("connect shop") == "success"
    return c


# (user, request, expected answer, or a prefix ending in "...")
CASES = [
    # plain selects
    ("r", "SELECT id, amount FROM orders ORDER BY id", '[{"id":1,"amount":10},{"id":2,"amount":20}]'),
    ("r", "SELECT * FROM secret", tables("r", "secret")),
    ("r", "select * from SECRET", tables("r", "SECRET")),
    ("r", 'SELECT * FROM "secret"', tables("r", "secret")),
    ("n", "SELECT * FROM orders", tables("n", "orders")),
    ("r", "SELECT o.id FROM orders o JOIN secret s ON o.id = s.id", tables("r", "secret")),
    ("r", "SELECT * FROM orders, secret", tables("r", "secret")),
    ("r", "SELECT o.id FROM orders o JOIN orders p USING (id) ORDER BY 1", '[{"id":1},{"id":2}]'),
    # subqueries in SELECT, WHERE, FROM
    ("r", "SELECT (SELECT count(*) FROM secret) AS n FROM orders", tables("r", "secret")),
    ("r", "SELECT id FROM orders WHERE id IN (SELECT id FROM secret)", tables("r", "secret")),
    ("r", "SELECT * FROM (SELECT * FROM secret) q", tables("r", "secret")),
    ("r", "SELECT id FROM orders WHERE EXISTS (SELECT 1 FROM secret WHERE pw = 'x')", tables("r", "secret")),
    ("r", "SELECT * FROM orders WHERE id = (SELECT max(id) FROM orders)", '[{"id":2,"amount":20}]'),
    ("r", "SELECT * REPLACE ((SELECT pw FROM secret) AS amount) FROM orders", tables("r", "secret")),
    # CTEs
    ("r", "WITH q AS (SELECT * FROM secret) SELECT * FROM q", tables("r", "secret")),
    ("r", "WITH secret AS (SELECT id FROM orders) SELECT count(*) AS n FROM secret", '[{"n":2}]'),
    ("r", "WITH orders AS (SELECT * FROM secret) SELECT * FROM orders", tables("r", "secret")),
    ("r", "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3) SELECT sum(i) AS s FROM c", '[{"s":6}]'),
    # views: by their own name
    ("r", "SELECT count(*) AS n FROM v_secret", '[{"n":1}]'),
    ("w", "SELECT * FROM v_secret", tables("w", "v_secret")),
    # quoted, mixed case, qualified
    ("r", 'SELECT id FROM "MixedCase"', '[{"id":7}]'),
    ("r", "SELECT id FROM mixedcase", '[{"id":7}]'),
    ("r", "SELECT id FROM main.orders WHERE id = 1", '[{"id":1}]'),
    ("r", "SELECT * FROM main.secret", tables("r", "secret")),
    ("r", "SELECT * FROM s2.x", tables("r", "s2.x")),
    ("r", "SELECT * FROM information_schema.tables", DENY + "..."),
    ("r", "SELECT * FROM duckdb_tables()", DENY + "..."),
    ("r", "SELECT * FROM duckdb_tables", DENY + "..."),
    ("r", "SELECT * FROM sqlite_master", DENY + "..."),
    ("r", "SELECT * FROM pg_catalog.pg_class", DENY + "..."),
    ("r", "SELECT * FROM system.main.duckdb_settings()", DENY + "..."),
    # comments and strings mentioning tables or keywords
    ("r", "SELECT 'DELETE FROM secret' AS s FROM orders WHERE id = 1", '[{"s":"DELETE FROM secret"}]'),
    ("r", "SELECT id FROM orders WHERE id = 1 -- FROM secret", '[{"id":1}]'),
    ("r", "SELECT /* ; DROP TABLE orders; */ id FROM orders WHERE id = 2", '[{"id":2}]'),
    ("r", 'SELECT id AS "secret" FROM orders WHERE id = 1', '[{"secret":1}]'),
    # writes and the read cap
    ("r", "INSERT INTO orders VALUES (9, 9)", tables("r", "orders")),
    ("r", "UPDATE orders SET amount = 0", tables("r", "orders")),
    ("r", "DELETE FROM orders", tables("r", "orders")),
    ("w", "INSERT INTO orders VALUES (3, 30)", "1"),
    ("w", "UPDATE orders SET amount = amount + 1 WHERE id = 3", "1"),
    ("w", "DELETE FROM orders WHERE id = 3", "1"),
    ("w", "INSERT INTO items VALUES (1, 'pen')", "1"),
    ("w", "SELECT * FROM items", tables("w", "items")),
    ("w", "UPDATE items SET name = 'x'", tables("w", "items")),
    ("w", "DELETE FROM items", tables("w", "items")),
    ("w", "INSERT INTO items SELECT id, pw FROM secret", tables("w", "secret")),
    ("w", "INSERT INTO orders SELECT id, 1 FROM secret", tables("w", "secret")),
    ("w", "INSERT INTO orders (id, amount) SELECT id + 100, amount FROM orders WHERE id = 1", "1"),
    ("w", "UPDATE orders SET amount = s.id FROM secret s WHERE s.id = orders.id", tables("w", "secret")),
    ("w", "DELETE FROM orders USING secret WHERE orders.id = secret.id", tables("w", "secret")),
    ("w", "WITH q AS (SELECT id FROM secret) DELETE FROM orders USING q WHERE orders.id = q.id", tables("w", "secret")),
    ("w", "INSERT OR REPLACE INTO orders VALUES (101, 5)", "1"),
    ("w", "INSERT OR REPLACE INTO items VALUES (1, 'ink')", tables("w", "items")),
    ("w", "INSERT INTO orders VALUES (101, 6) ON CONFLICT DO UPDATE SET amount = excluded.amount", "1"),
    ("w", "DELETE FROM orders WHERE id = 101", "1"),
    ("w", "TRUNCATE items", tables("w", "items")),
    # several statements: nothing runs when one is denied
    ("w", "INSERT INTO orders VALUES (50, 50); SELECT * FROM secret", tables("w", "secret")),
    ("w", "SELECT count(*) AS n FROM orders WHERE id = 50", '[{"n":0}]'),
    ("w", "INSERT INTO orders VALUES (51, 51); DROP TABLE secret", DENY + "..."),
    ("w", "SELECT count(*) AS n FROM orders WHERE id = 51", '[{"n":0}]'),
    # EXPLAIN
    ("r", "EXPLAIN SELECT * FROM orders", "[..."),
    ("r", "EXPLAIN SELECT * FROM secret", tables("r", "secret")),
    ("w", "EXPLAIN ANALYZE DELETE FROM orders", DENY + "EXPLAIN ANALYZE is not allowed..."),
    ("r", "EXPLAIN ANALYZE SELECT * FROM orders", DENY + "EXPLAIN ANALYZE is not allowed..."),
    # the host, other databases, extensions, settings
    ("w", "SELECT * FROM read_csv('/etc/passwd')", DENY + "function read_csv is not allowed..."),
    ("w", "SELECT * FROM '/etc/passwd'", DENY + "..."),
    ("w", "COPY orders TO '/tmp/x.csv'", DENY + "COPY is not allowed..."),
    ("w", "COPY orders FROM '/etc/passwd'", DENY + "COPY is not allowed..."),
    ("w", "ATTACH ':memory:' AS m", DENY + "ATTACH is not allowed..."),
    ("w", "DETACH shop", DENY + "..."),
    ("w", "USE other", DENY + "..."),
    ("w", "INSTALL httpfs", DENY + "..."),
    ("w", "LOAD json", DENY + "..."),
    ("w", "SET threads = 1", DENY + "SET is not allowed..."),
    ("w", "RESET threads", DENY + "..."),
    ("w", "PRAGMA table_info('secret')", DENY + "..."),
    ("w", "CALL pragma_version()", DENY + "..."),
    ("w", "CHECKPOINT", DENY + "..."),
    ("w", "EXPORT DATABASE '/tmp/e'", DENY + "..."),
    ("w", "IMPORT DATABASE '/tmp/e'", DENY + "..."),
    ("w", "SELECT current_setting('memory_limit') AS m", DENY + "..."),
    ("w", "SELECT nextval('seq')", DENY + "..."),
    ("w", "DESCRIBE secret", DENY + "..."),
    ("w", "SHOW TABLES", DENY + "..."),
    # DDL
    ("w", "CREATE TABLE t2 (i INTEGER)", DENY + "CREATE is not allowed..."),
    ("w", "CREATE TEMP TABLE t3 AS SELECT 1", DENY + "..."),
    ("w", "DROP TABLE orders", DENY + "..."),
    ("w", "ALTER TABLE orders ADD COLUMN c INTEGER", DENY + "..."),
    ("w", "CREATE MACRO m() AS TABLE SELECT * FROM secret", DENY + "..."),
    # harmless generators stay allowed
    ("r", "SELECT sum(range) AS s FROM range(4)", '[{"s":6}]'),
    ("r", "SELECT unnest([1, 2]) AS u", '[{"u":1},{"u":2}]'),
]


@pytest.mark.parametrize("user,sql,expected", CASES, ids=[c[1][:60] for c in CASES])
def test_access(shop, user, sql, expected):
    c = session(shop, user)
    ans = c.req(sql)
    if expected.endswith("..."):
        assert ans.startswith(expected[:-3]), ans
    else:
        assert ans == expected


def test_denied_inside_a_transaction_runs_nothing_and_keeps_it(shop):
    c = session(shop, "w")
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO orders VALUES (60, 60)") == "1"
    assert c.req("SELECT * FROM secret") == tables("w", "secret")
    assert c.req("commit") == "success"
    assert c.req("SELECT count(*) AS n FROM orders WHERE id = 60") == '[{"n":1}]'
    assert c.req("DELETE FROM orders WHERE id = 60") == "1"


def test_revoke_takes_effect_at_the_next_request(shop):
    admin = shop.admin()
    assert admin.req("create user t pw") == "success"
    assert admin.req("grant database shop t write") == "success"
    assert admin.req("grant table shop orders t select insert") == "success"
    c = session(shop, "t")
    assert c.req("SELECT count(*) AS n FROM orders WHERE id < 3") == '[{"n":2}]'
    assert admin.req("revoke table shop orders t select") == "success"
    assert c.req("SELECT count(*) AS n FROM orders") == tables("t", "orders")
    assert c.req("INSERT INTO orders VALUES (70, 70)") == "1"
    assert c.req("DELETE FROM orders WHERE id = 70") == tables("t", "orders")
    assert admin.req("revoke database shop t") == "success"
    assert c.req("INSERT INTO orders VALUES (71, 71)") == \
        'Error: Access Denied: User "t" does not have access over Database "shop"'
    assert admin.req("connect shop") == "success"
    assert admin.req("DELETE FROM orders WHERE id = 70") == "1"


def test_typed_requests_are_checked_too(shop):
    c = session(shop, "r")
    assert c.req('query {"sql": "SELECT * FROM secret WHERE id = $1", "params": [1]}') == \
        tables("r", "secret")
    assert json.loads(c.req('query {"sql": "SELECT amount FROM orders WHERE id = $1", "params": [2]}'))[
        "rows"] == [[20]]


def test_a_user_cannot_reach_another_database(shop):
    c = session(shop, "w")
    assert c.req("SELECT * FROM other.main.t") .startswith(DENY)
    assert c.req("connect other") == 'Error: Access Denied: User "w" does not have access over Database "other"'
