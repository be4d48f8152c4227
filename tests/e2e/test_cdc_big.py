"""Native CDC (docs/cdc.md, "Apply"): one PostgreSQL transaction that updates a million rows is
applied as one DuckDB transaction, with the server's memory bounded whatever the transaction's
size: its changes are staged in DuckDB (which spills them under its memory limit), never held
in the server's own memory. Its own PostgreSQL 15 (wal_level=logical, logical_decoding_work_mem
64kB, so PostgreSQL spills the transaction too)."""
import json
import threading

import pytest

from conftest import wait_for
from pgserver import PgServer

KEY = {"ENCRYPTION_KEY": "an encryption key for the tests, 48 bytes long.."}
ROWS = 1000000
WIDTH = 100  # bytes of text per row: the transaction's old and new rows are about 200 MB


@pytest.fixture(scope="module")
def pg():
    srv = PgServer().init()
    with open(srv.data + "/postgresql.conf", "a") as f:
        f.write("wal_level = logical\nlogical_decoding_work_mem = 64kB\n"
                "max_replication_slots = 10\nmax_wal_senders = 10\nmax_wal_size = 4GB\n")
    srv.start()
    yield srv
    srv.cleanup()


def memory(c):
    """The server's allocated bytes, its own and DuckDB's (`stats`: what RSS holds but for the
    allocators' cached pages and, under ASan, its quarantine of freed memory)."""
    m = json.loads(c.req("stats"))["memory"]
    return m["process"], m["duckdb"]


def test_a_million_row_update_applies_with_memory_bounded(pg, make_server):
    db = pg.createdb("big1")
    pg.psql("CREATE TABLE t (id int PRIMARY KEY, v text, n bigint);"
            "INSERT INTO t SELECT g, repeat('x', %d), g FROM generate_series(1, %d) g;"
            % (WIDTH, ROWS), db=db)
    # DuckDB's buffer manager may hold 256 MB of this database; everything above spills.
    srv = make_server(["--duckdb-memory-limit", "256MB"], env=KEY)
    a = srv.admin()
    assert a.req("create database big") == "success"
    assert a.req('link big "%s" mode=cdc' % pg.dsn(db)) == "success"
    assert wait_for(lambda: json.loads(a.req("cdc status big"))[0]["state"] == "streaming",
                    timeout=120)
    watcher = srv.admin()
    before = memory(watcher)
    peak = list(before)
    done = threading.Event()

    def sample():
        while not done.is_set():
            now = memory(watcher)
            peak[0], peak[1] = max(peak[0], now[0]), max(peak[1], now[1])
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        pg.psql("UPDATE t SET v = repeat('y', %d), n = n + 1" % WIDTH, db=db)
        out = a.req("migrate big")
        assert out.startswith("success "), out
    finally:
        done.set()
        sampler.join()
    assert a.req("connect big") == "success"
    assert json.loads(a.req("SELECT count(*) AS c, sum(n) AS s, min(v) = max(v) AS same, "
                            "min(length(v)) AS w FROM t")) == [
        {"c": ROWS, "s": ROWS * (ROWS + 1) // 2 + ROWS, "same": True, "w": WIDTH}]
    assert json.loads(a.req("SELECT count(*) AS c FROM t WHERE v <> repeat('y', %d)" % WIDTH)
                      ) == [{"c": 0}]
    assert a.req("disconnect") == "success"
    own, duck = peak[0] - before[0], peak[1]
    print("server memory: own %d MB -> peak %d MB, DuckDB's peak %d MB" % (
        before[0] >> 20, peak[0] >> 20, duck >> 20))
    # The transaction's changes are about 200 MB of row data, more once decoded: had the server
    # held them, its own memory would have grown by that much. DuckDB's stays near its limit.
    assert own < 48 * 1024 * 1024, "the server's own memory grew by %d MB" % (own >> 20)
    assert duck < 256 * 1024 * 1024 + 128 * 1024 * 1024, "DuckDB held %d MB" % (duck >> 20)
    watcher.close()
    assert a.req("unlink big") == "success"
    a.close()
