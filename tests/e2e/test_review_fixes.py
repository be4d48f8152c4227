"""Defects found in review, each with the input that used to trigger it."""
import json
import socket
import threading

from conftest import Client
from test_protocol import connected


def test_clients_that_never_read_do_not_hold_workers(server):
    """Pipelined requests whose answers are never read must not stall other clients."""
    flooders = []
    stop = threading.Event()

    def flood():
        s = socket.create_connection(("127.0.0.1", server.port))
        flooders.append(s)
        s.settimeout(1)
        chunk = b"x\n" * 50000
        try:
            while not stop.is_set():
                s.sendall(chunk)
        except OSError:
            pass  # the socket buffers filled up: the server stopped reading us

    threads = [threading.Thread(target=flood) for _ in range(6)]  # more than QueryWorkers
    for t in threads:
        t.start()
    try:
        c = Client(server.port, timeout=30)
        assert c.req("login duck duck") == "success"
        assert c.req("create database d") == "success"
    finally:
        stop.set()
        for t in threads:
            t.join()
        for s in flooders:
            s.close()


def test_profiles_do_not_reach_the_log(server):
    c = connected(server)
    assert c.req("PRAGMA enable_profiling").startswith("Error: Bad Request: query profiling")
    assert c.req("SET enable_progress_bar = true").startswith("Error: Bad Request")
    assert c.req("PRAGMA Enable_Profiling = 'json'").startswith("Error: Bad Request")
    assert c.req("SELECT 'INFO 2026/01/01 forged' AS x").startswith("[")
    assert not any("forged" in line for line in server.log)


def test_grants_survive_a_drop_in_another_catalog(server):
    a = connected(server, "shop")
    assert a.req("create user u pw") == "success"
    assert a.req("CREATE TABLE t (i INTEGER)") == "success"
    assert a.req("grant database shop u read") == "success"
    assert a.req("grant table shop t u select") == "success"
    assert a.req("ATTACH ':memory:' AS m") == "success"
    assert a.req("USE m") == "success"
    assert a.req("CREATE TABLE z (i INTEGER)") == "success"
    assert a.req("DROP TABLE z") == "success"
    assert [g["table"] for g in json.loads(a.req("list grants u"))] == ["t"]


def test_half_run_request_in_a_transaction_cannot_be_committed(server):
    c = connected(server)
    assert c.req("CREATE TABLE t (i INTEGER)") == "success"
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO t VALUES (1); SELECT * FROM nosuch").startswith("Error: Catalog Error")
    assert c.req("commit").startswith("Error: Transaction Aborted")
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO t VALUES (2); COMMIT").startswith("Error: Bad Request")
    assert c.req("commit").startswith("Error: Transaction Aborted")
    assert c.req("SELECT count(*) AS n FROM t") == '[{"n":0}]'


def test_every_request_gets_one_line(server):
    c = server.admin()
    assert c.req_long("list grants a\nb").startswith("Error: Bad Request: invalid user name")
    assert c.req("SELECT 1").startswith("Error: Bad Request: not connected")


def test_transaction_commands_with_blanks_and_line_ends(server):
    c = connected(server)
    assert c.req("begin; ") == "success"
    assert c.req("commit ;  ") == "success"
    assert c.req_long("BEGIN\n") == "success"
    assert c.req_long("ROLLBACK;\n") == "success"
