"""The query result cache (docs/cache.md): a read sent again is answered from the cache with
exactly the bytes a fresh execution gives, and never once the database changed by any path
(SQL writes, DDL, transactions, link/migrate, rename), never for volatile or time-dependent
functions, never across parameter types, never past a revoke; bounded in memory with LRU
eviction, and answers larger than CacheMaxEntry stream as before and are not kept."""
import json
import threading

import pytest

from conftest import run_parallel, wait_for
from pgserver import PgServer

KEY = {"ENCRYPTION_KEY": "an encryption key for the tests, 48 bytes long.."}


def cache_stats(admin):
    return json.loads(admin.req("stats"))["result_cache"]


def db_stats(admin, db_id=1):
    for d in cache_stats(admin)["databases"]:
        if d["id"] == db_id:
            return d
    return {"entries": 0, "bytes": 0, "hits": 0, "misses": 0, "evictions": 0,
            "invalidations": 0, "hit_ratio": 0.0}


def connected(srv, dbname="d", login=("duck", "duck"), cache=True):
    c = srv.client(login=login)
    assert c.req("connect " + dbname) == "success"
    if not cache:
        assert c.req("set cache off") == "success"
    return c


def fresh(srv, sql, dbname="d"):
    """The answer of an execution that does not use the cache."""
    c = connected(srv, dbname, cache=False)
    try:
        return c.req(sql)
    finally:
        c.close()


def hits(admin):
    return db_stats(admin)["hits"]


def served_from_cache(srv, c, sql):
    """Sends sql twice on c; returns (answer, whether the second came from the cache)."""
    admin = srv.admin()
    first = c.req(sql)
    before = hits(admin)
    second = c.req(sql)
    after = hits(admin)
    admin.close()
    assert first == second
    return second, after == before + 1


def make_db(make_server, args=()):
    srv = make_server(args=list(args))
    a = srv.admin()
    for line in ["create database d", "connect d",
                 "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)",
                 "INSERT INTO t VALUES (1, 'one'), (2, 'two')",
                 "CREATE SEQUENCE s"]:
        assert a.req(line) in ("success", "2"), line
    a.close()
    return srv


@pytest.fixture
def db(make_server):
    return make_db(make_server)


@pytest.fixture
def db_unarchived(make_server):
    """With ArchiveMode off: checkpoint() may run inside a SELECT (docs/backup.md)."""
    return make_db(make_server, ["--archive-mode", "off"])


def test_a_repeated_read_is_served_with_the_same_bytes(db):
    c = connected(db)
    for sql in ["SELECT v FROM t WHERE id = 2", "SELECT count(*) AS n, sum(id) FROM t",
                'query {"sql": "SELECT v FROM t ORDER BY id"}']:
        answer, cached = served_from_cache(db, c, sql)
        assert cached, sql
        assert answer == fresh(db, sql)
    # Whitespace and comments do not change the key; the answer is the same bytes.
    admin = db.admin()
    before = hits(admin)
    assert c.req("SELECT  v\tFROM t /* c */ WHERE id = 2 -- x") == '[{"v":"two"}]'
    assert hits(admin) == before + 1
    # Case is kept: an alias names a column as written.
    assert c.req("SELECT v AS V FROM t WHERE id = 2") == '[{"V":"two"}]'
    assert c.req("SELECT v AS v FROM t WHERE id = 2") == '[{"v":"two"}]'
    st = db_stats(admin)
    assert st["entries"] >= 3 and st["bytes"] > 0 and 0 < st["hit_ratio"] <= 1


def test_the_line_and_typed_forms_are_different_entries(db):
    c = connected(db)
    assert c.req("SELECT v FROM t WHERE id = 1") == '[{"v":"one"}]'
    assert c.req('query {"sql": "SELECT v FROM t WHERE id = 1"}') == \
        '{"columns":[{"name":"v","type":"VARCHAR"}],"rows":[["one"]]}'
    assert c.req("SELECT v FROM t WHERE id = 1") == '[{"v":"one"}]'


def test_parameter_values_and_types_are_part_of_the_key(db):
    c = connected(db)
    q = 'query {"sql": "SELECT typeof($1) AS t, $1 AS v", "params": [%s]}'
    answers = {}
    for p in ["1", "1.0", '"1"', "true", "null", '{"blob": "31"}', "2", "1e0"]:
        for _ in range(2):
            a = c.req(q % p)
            assert a == fresh(db, q % p), p
        answers[p] = a
    assert len(set(answers[p] for p in ["1", "1.0", '"1"', "true", "null", '{"blob": "31"}',
                                         "2"])) == 7
    assert '"BIGINT"' in answers["1"] and '"DOUBLE"' in answers["1.0"]
    assert '"VARCHAR"' in answers['"1"']
    lookup = 'query {"sql": "SELECT v FROM t WHERE id = $1", "params": [%s]}'
    assert c.req(lookup % "1") == '{"columns":[{"name":"v","type":"VARCHAR"}],"rows":[["one"]]}'
    assert c.req(lookup % "2") == '{"columns":[{"name":"v","type":"VARCHAR"}],"rows":[["two"]]}'
    assert c.req(lookup % "1") == '{"columns":[{"name":"v","type":"VARCHAR"}],"rows":[["one"]]}'


@pytest.mark.parametrize("write,after", [
    ("INSERT INTO t VALUES (3, 'three')", "3"),
    ("UPDATE t SET v = 'uno' WHERE id = 1", "2"),
    ("DELETE FROM t WHERE id = 2", "1"),
    ("ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 7", "2"),
    ("CREATE OR REPLACE TABLE t AS SELECT 5 AS id, 'five' AS v", "1"),
    ("INSERT INTO t VALUES (3, 'three'); INSERT INTO t VALUES (4, 'four')", "4"),
    ("INSERT INTO t SELECT 3, 'three' FROM (SELECT 1) WHERE random() < 2", "3"),
])
def test_every_sql_write_is_seen_by_the_next_read(db, write, after):
    reader = connected(db)
    writer = connected(db)
    sql = "SELECT count(*) AS n FROM t"
    _, cached = served_from_cache(db, reader, sql)
    assert cached
    admin = db.admin()
    inval = db_stats(admin)["invalidations"]
    assert writer.req(write) in ("1", "success")
    assert reader.req(sql) == '[{"n":%s}]' % after
    assert reader.req("SELECT * FROM t ORDER BY id") == fresh(db, "SELECT * FROM t ORDER BY id")
    assert db_stats(admin)["invalidations"] > inval


def test_transactions_commit_and_rollback(db):
    reader = connected(db)
    writer = connected(db)
    sql = "SELECT count(*) AS n FROM t"
    assert reader.req(sql) == '[{"n":2}]'
    assert writer.req("start transaction") == "success"
    assert writer.req("INSERT INTO t VALUES (3, 'three')") == "1"
    # The transaction sees its own write; nothing cached is served to it or from it.
    assert writer.req(sql) == '[{"n":3}]'
    assert writer.req(sql) == '[{"n":3}]'
    assert reader.req(sql) == '[{"n":2}]'
    assert writer.req("rollback") == "success"
    assert reader.req(sql) == '[{"n":2}]'
    assert writer.req(sql) == '[{"n":2}]'
    assert writer.req("start transaction") == "success"
    assert writer.req("INSERT INTO t VALUES (4, 'four')") == "1"
    assert reader.req(sql) == '[{"n":2}]'
    assert writer.req("commit") == "success"
    assert reader.req(sql) == '[{"n":3}]'
    assert writer.req(sql) == '[{"n":3}]'


def test_a_transaction_reads_its_snapshot_not_the_cache(db):
    tx = connected(db)
    writer = connected(db)
    other = connected(db)
    sql = "SELECT count(*) AS n FROM t"
    assert tx.req("start transaction") == "success"
    assert tx.req(sql) == '[{"n":2}]'
    assert writer.req("INSERT INTO t VALUES (3, 'three')") == "1"
    assert other.req(sql) == '[{"n":3}]'
    assert other.req(sql) == '[{"n":3}]'  # cached at the new generation
    # The open transaction still sees its snapshot, not the cached newer answer.
    assert tx.req(sql) == '[{"n":2}]'
    assert tx.req("commit") == "success"
    assert tx.req(sql) == '[{"n":3}]'


def test_rename_and_connect_after_rename(db):
    c = connected(db)
    sql = "SELECT v FROM t WHERE id = 1"
    _, cached = served_from_cache(db, c, sql)
    assert cached
    admin = db.admin()
    inval = db_stats(admin)["invalidations"]
    assert admin.req("update database d e") == "success"
    assert db_stats(admin)["invalidations"] == inval + 1
    c2 = connected(db, "e")
    assert c2.req(sql) == '[{"v":"one"}]'


@pytest.mark.parametrize("sql", [
    "SELECT random() AS r",
    "SELECT gen_random_uuid() AS u",
    "SELECT uuid() AS u",
    "SELECT now() AS n",
    "SELECT current_timestamp AS n",
    "SELECT current_date AS n",
    "SELECT get_current_time() AS n",
    "SELECT today() AS n",
    "SELECT nextval('s') AS n",
    "SELECT currval('s') AS n",
    "SELECT current_setting('threads') AS n",
    "SELECT current_query() AS q",
    "SELECT * FROM duckdb_tables()",
    "SELECT current_user AS u",
    "SELECT * FROM t USING SAMPLE 1",
    'SELECT "random"() AS r',
    "SELECT v.md5_number_upper() FROM t",  # a built-in macro, called as a method
    "SELECT getvariable('x') AS x",
    "SELECT v FROM t; SELECT 1",
])
def test_volatile_and_unknown_functions_are_never_cached(db, sql):
    c = connected(db)
    admin = db.admin()
    c.req(sql)
    before = db_stats(admin)
    c.req(sql)
    c.req(sql)
    after = db_stats(admin)
    assert after["hits"] == before["hits"], sql
    assert after["entries"] == 0 or after["entries"] <= before["entries"], sql


def test_random_and_sequences_answer_anew_each_time(db):
    c = connected(db)
    assert len({c.req("SELECT random() AS r") for _ in range(5)}) > 1
    assert [c.req("SELECT nextval('s') AS n") for _ in range(3)] == \
        ['[{"n":1}]', '[{"n":2}]', '[{"n":3}]']


def test_a_user_macro_is_not_cached_and_its_replacement_is_seen(db):
    a = connected(db)
    assert a.req("CREATE MACRO twice(x) AS x * 2") == "success"
    c = connected(db)
    assert c.req("SELECT twice(3) AS v") == '[{"v":6}]'
    assert a.req("CREATE OR REPLACE MACRO twice(x) AS x * 3") == "success"
    assert c.req("SELECT twice(3) AS v") == '[{"v":9}]'


def test_a_session_with_its_own_objects_or_variables_does_not_use_the_cache(db):
    plain = connected(db)
    sql = "SELECT v FROM t WHERE id = 1"
    assert plain.req(sql) == plain.req(sql) == '[{"v":"one"}]'
    # A TEMP table of the same name, seen only by its session, shadows t there.
    s = connected(db)
    assert s.req("CREATE TEMP TABLE t AS SELECT 1 AS id, 'temp' AS v") == "success"
    assert s.req(sql) == '[{"v":"temp"}]'
    assert s.req(sql) == '[{"v":"temp"}]'
    assert plain.req(sql) == '[{"v":"one"}]'
    v = connected(db)
    assert v.req("SET VARIABLE x = 5") == "success"
    assert v.req("SELECT getvariable('x') AS x") == '[{"x":5}]'
    # Connecting again starts a fresh DuckDB connection: the cache is used again.
    assert s.req("connect d") == "success"
    _, cached = served_from_cache(db, s, sql)
    assert cached


def test_cache_off_for_one_session(db):
    c = connected(db, cache=False)
    admin = db.admin()
    before = db_stats(admin)
    for _ in range(3):
        assert c.req("SELECT v FROM t WHERE id = 1") == '[{"v":"one"}]'
    after = db_stats(admin)
    assert after["hits"] == before["hits"] and after["misses"] == before["misses"]
    assert c.req("set cache maybe").startswith("Error: Bad Request")
    assert c.req("set cache on") == "success"
    _, cached = served_from_cache(db, c, "SELECT v FROM t WHERE id = 1")
    assert cached


def test_revoke_between_two_identical_requests(db):
    admin = db.admin()
    assert admin.req("create user r pw") == "success"
    assert admin.req("grant database d r read") == "success"
    assert admin.req("grant table d t r select") == "success"
    r = connected(db, login=("r", "pw"))
    sql = "SELECT v FROM t WHERE id = 1"
    # Put into the cache by the super user; served to r only while r may run it.
    su = connected(db)
    assert su.req(sql) == '[{"v":"one"}]'
    assert r.req(sql) == '[{"v":"one"}]'
    assert admin.req("revoke table d t r select") == "success"
    assert r.req(sql) == 'Error: Access Denied: User "r" does not have access over Tables "t"'
    assert admin.req("grant table d t r select") == "success"
    assert r.req(sql) == '[{"v":"one"}]'
    assert admin.req("revoke database d r") == "success"
    assert r.req(sql) == 'Error: Access Denied: User "r" does not have access over Database "d"'
    # A user who never had the grant never gets the cached answer.
    assert admin.req("create user n pw") == "success"
    assert admin.req("grant database d n read") == "success"
    n = connected(db, login=("n", "pw"))
    assert n.req(sql) == 'Error: Access Denied: User "n" does not have access over Tables "t"'


def test_a_result_larger_than_cache_max_entry_streams_and_is_not_kept(make_server):
    srv = make_server(args=["--cache-max-entry", "100KB"])
    c = srv.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("CREATE TABLE big AS SELECT range AS id, lpad('', 100, 'x') AS pad "
                 "FROM range(5000)") == "success"
    admin = srv.admin()
    big = "SELECT * FROM big ORDER BY id"
    first = c.req_long(big)
    assert len(first) > 100 * 1024
    assert c.req_long(big) == first
    st = db_stats(admin)
    assert st["entries"] == 0 and st["hits"] == 0
    small = "SELECT * FROM big WHERE id < 10 ORDER BY id"
    assert c.req(small) == c.req(small)
    assert db_stats(admin)["hits"] == 1


def test_eviction_is_least_recently_used(make_server):
    srv = make_server(args=["--cache-memory", "64KB", "--cache-max-entry", "16KB"])
    c = srv.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    admin = srv.admin()

    def q(i):
        # About 10 KB each: six fit in 64 KB.
        return "SELECT %d AS k, lpad('', 10000, 'y') AS pad" % i

    for i in range(5):
        c.req(q(i))
    st = db_stats(admin)
    assert st["entries"] == 5 and st["evictions"] == 0
    c.req(q(0))  # 0 becomes the most recent; 1 is now the least recent
    for i in range(5, 7):
        c.req(q(i))
    st = db_stats(admin)
    assert st["evictions"] >= 1
    h = db_stats(admin)["hits"]
    c.req(q(0))
    assert db_stats(admin)["hits"] == h + 1, "the recently used entry was evicted"
    h += 1
    c.req(q(1))
    assert db_stats(admin)["hits"] == h, "the least recently used entry was kept"


def test_memory_stays_bounded_under_a_flood_of_distinct_queries(make_server):
    limit = 256 * 1024
    srv = make_server(args=["--cache-memory", "256KB"])
    c = srv.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    admin = srv.admin()
    for i in range(3000):
        c.req("SELECT %d AS k, lpad('', 200, 'z') AS pad" % i)
    rc = cache_stats(admin)
    assert 0 < rc["bytes"] <= limit
    assert rc["entries"] < 3000
    assert db_stats(admin)["evictions"] > 0


def test_cache_memory_zero_turns_it_off(make_server):
    srv = make_server(args=["--cache-memory", "0"])
    c = srv.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("SELECT 1 AS x") == c.req("SELECT 1 AS x")
    rc = cache_stats(c)
    assert rc["enabled"] is False and rc["entries"] == 0


def test_ttl_expires_entries(make_server):
    srv = make_server(args=["--cache-ttl", "1"])
    c = srv.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    c.req("SELECT 42 AS x")
    assert c.req("SELECT 42 AS x") == '[{"x":42}]'
    h = db_stats(c)["hits"]
    assert h == 1
    # After the TTL a request is a miss again (waits on the condition, not a fixed sleep).
    assert wait_for(lambda: (c.req("SELECT 42 AS x"), db_stats(c)["misses"])[1] >= 2, timeout=30)


def test_readers_always_see_what_writers_committed(db):
    """Writers keep a sequence number; a reader that saw number n (in the writers' own
    acknowledgements) must never be answered an older one afterwards, and every answer equals
    what a fresh execution gives for the same number."""
    a = connected(db)
    assert a.req("CREATE TABLE seq (k INTEGER PRIMARY KEY, n INTEGER)") == "success"
    assert a.req("INSERT INTO seq VALUES (1, 0)") == "1"
    a.close()
    committed = [0]
    lock = threading.Lock()
    stop = threading.Event()
    errors = []
    nreaders = 4
    # Rounds each reader has finished. Every tenth commit the writer waits until each reader
    # has made two whole rounds on that state, so cached answers are served while writers go on
    # (on a slow sanitizer build the readers would otherwise always be one commit behind and
    # the cache never hit, which this test would not notice).
    rounds = [0] * nreaders
    rounds_cv = threading.Condition()
    queries = ["SELECT n FROM seq WHERE k = 1",
               "SELECT n, n * 2 AS d FROM seq",
               'query {"sql": "SELECT n FROM seq WHERE k = $1", "params": [1]}']

    def writer():
        w = connected(db)
        try:
            for i in range(1, 120):
                if i % 3 == 0:
                    assert w.req("start transaction") == "success"
                    assert w.req("UPDATE seq SET n = %d WHERE k = 1" % i) == "1"
                    assert w.req("commit") == "success"
                else:
                    assert w.req("UPDATE seq SET n = %d WHERE k = 1" % i) == "1"
                with lock:
                    committed[0] = i
                if i % 10 == 0:
                    # +3: the round under way may have begun before this commit; the two
                    # after it run wholly on this state, the second from the cache.
                    with rounds_cv:
                        start = list(rounds)
                        ok = rounds_cv.wait_for(
                            lambda: all(rounds[j] >= start[j] + 3 for j in range(nreaders)), 120)
                    assert ok, "readers stalled at commit %d" % i
        except BaseException as e:  # noqa: B902 - reported by the main thread
            errors.append("writer: %r" % e)
        finally:
            stop.set()
            w.close()

    def parse(answer):
        if answer.startswith("{"):
            return json.loads(answer)["rows"][0][0]
        return json.loads(answer)[0]["n"]

    def reader(i):
        r = connected(db)
        try:
            while not stop.is_set():
                with lock:
                    floor = committed[0]
                for q in queries:
                    n = parse(r.req(q))
                    if n < floor:
                        errors.append("%s answered %d after %d committed" % (q, n, floor))
                with rounds_cv:
                    rounds[i] += 1
                    rounds_cv.notify_all()
        finally:
            r.close()

    t = threading.Thread(target=writer)
    t.start()
    run_parallel(nreaders, reader)
    t.join()
    assert not errors, errors[:5]
    admin = db.admin()
    assert db_stats(admin)["hits"] > 0
    # Settled: every cached answer equals a fresh execution.
    r = connected(db)
    for q in queries:
        assert r.req(q) == r.req(q) == fresh(db, q)
    assert parse(r.req(queries[0])) == 119


def test_link_and_migrate_invalidate(make_server):
    pg = PgServer().init().start()
    try:
        pg.psql("CREATE DATABASE src")
        pg.psql("CREATE TABLE k (id int PRIMARY KEY, v text); INSERT INTO k VALUES (1, 'a');",
                db="src")
        srv = make_server(env=KEY)
        a = srv.admin()
        assert a.req("create database m") == "success"
        assert a.req('link m "%s"' % pg.dsn("src")) == "success"
        c = connected(srv, "m")
        sql = "SELECT count(*) AS n, max(v) AS v FROM k"
        _, cached = served_from_cache(srv, c, sql)
        assert cached
        assert c.req(sql) == '[{"n":1,"v":"a"}]'
        pg.psql("INSERT INTO k VALUES (2, 'b')", db="src")
        assert a.req("migrate m") == "success 1"
        assert c.req(sql) == '[{"n":2,"v":"b"}]'
        pg.psql("UPDATE k SET v = 'z' WHERE id = 1", db="src")
        assert a.req("migrate m") == "success 1"
        assert c.req(sql) == '[{"n":2,"v":"z"}]'
        assert c.req(sql) == fresh(srv, sql, "m")
    finally:
        pg.cleanup()


def test_a_database_invalidated_by_duckdb_drops_its_entries(make_server):
    from test_crash import BROKEN_AST
    srv = make_server()
    a = srv.admin()
    assert a.req("create database d") == "success"
    assert a.req("connect d") == "success"
    assert a.req("CREATE TABLE t (i INTEGER)") == "success"
    assert a.req("INSERT INTO t VALUES (1), (2)") == "2"
    assert a.req("CREATE TABLE j AS SELECT '%s' AS s" % BROKEN_AST) == "success"
    sql = "SELECT count(*) AS n FROM t"
    _, cached = served_from_cache(srv, a, sql)
    assert cached
    admin = srv.admin()
    before = db_stats(admin)
    assert before["entries"] >= 1
    answer = a.req("SELECT json_deserialize_sql(s) AS q FROM j")
    assert answer.startswith("Error: Internal Error"), answer
    assert wait_for(lambda: "DuckDB invalidated it" in srv.stderr())
    after = db_stats(admin)
    assert after["entries"] == 0 and after["invalidations"] > before["invalidations"]
    # The broken session is told so, not answered from the cache.
    assert "database has been invalidated" in a.req(sql)
    assert a.req("connect d") == "success"
    assert a.req(sql) == '[{"n":2}]'


def test_cached_answers_equal_fresh_ones_across_query_shapes(db):
    """Differential: each text's cached answer is byte for byte the answer of a session with
    the cache off, in both answer forms."""
    a = connected(db)
    assert a.req("CREATE TABLE u AS SELECT range::INTEGER AS k, range % 7 AS g, "
                 "range * 1.5 AS x, 'n' || range AS s, DATE '2020-01-01' + range::INTEGER AS d "
                 "FROM range(500)") == "success"
    shapes = [
        "SELECT g, count(*) AS n, sum(x) AS sx, min(s) AS ms FROM u GROUP BY g ORDER BY g",
        "SELECT u.k, t.v FROM u JOIN t ON u.k = t.id ORDER BY u.k",
        "WITH c AS (SELECT g, avg(x) AS a FROM u GROUP BY g) SELECT * FROM c WHERE a > 10 "
        "ORDER BY g",
        "SELECT k, CAST(x AS DECIMAL(10, 2)) AS dx, d FROM u WHERE k IN (1, 2, 3) ORDER BY k",
        "SELECT list(k ORDER BY k) AS l FROM u WHERE k < 5",
        "SELECT {'a': k, 'b': s} AS st FROM u WHERE k = 9",
        "SELECT k FROM u WHERE s LIKE 'n1%' ORDER BY k LIMIT 5 OFFSET 2",
        "SELECT * FROM t WHERE v = 'nothing'",
        "VALUES (1, 'a'), (2, 'b')",
        "FROM t ORDER BY id",
    ]
    c = connected(db)
    admin = db.admin()
    for sql in shapes:
        for text in (sql, 'query {"sql": %s}' % json.dumps(sql)):
            first = c.req(text)
            h = hits(admin)
            assert c.req(text) == first == fresh(db, text), text
            assert hits(admin) == h + 1, "not served from the cache: " + text


def test_uncached_reads_keep_the_cache_and_table_functions_drop_it(db_unarchived):
    """A read that is never cached (a volatile function, a built-in macro) is not a write; a
    table function may write (checkpoint()) and drops the database's entries."""
    db = db_unarchived
    c = connected(db)
    sql = "SELECT v FROM t WHERE id = 1"
    admin = db.admin()
    c.req(sql)
    for other in ["SELECT random() AS r", "SELECT now() AS n", "SELECT nullif(1, 0) AS x"]:
        c.req(other)
        h = hits(admin)
        assert c.req(sql) == '[{"v":"one"}]'
        assert hits(admin) == h + 1, other
    inval = db_stats(admin)["invalidations"]
    assert c.req("SELECT * FROM checkpoint()").startswith("[")
    assert db_stats(admin)["invalidations"] == inval + 1
    h = hits(admin)
    assert c.req(sql) == '[{"v":"one"}]'
    assert hits(admin) == h
