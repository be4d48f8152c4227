"""Drop-in framing (docs/protocol.md, "Drop-in framing"): the original TCP-DuckDB's clients.

The original project's test client (utils/test.go in rag-nar1/tcp-duckdb) writes each request
without a newline, then reads once (up to 4096 bytes) and trims spaces and newlines. With
DropInSilenceMs set, this server must answer such a client as the original does; a client that
starts with a newline-terminated line stays line-framed and is never cut by a pause.
"""
import json
import socket
import time

import pytest

from conftest import Client, wait_for

SILENCE = ["--drop-in-silence-ms", "30"]


class OriginalClient:
    """Behaves like the original's utils/test.go: write without newline, one read, trim."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)

    def req(self, text):
        self.sock.sendall(text.encode())
        data = self.sock.recv(4096)
        if not data:
            raise ConnectionError("server closed the connection")
        return data.decode().strip(" \n\t")

    def close(self):
        self.sock.close()


@pytest.fixture
def srv(make_server):
    return make_server(args=SILENCE)


def test_grant_over_db(srv):
    admin = OriginalClient(srv.port)
    assert admin.req("login duck duck") == "success"
    assert admin.req("create database db1") == "success"
    assert admin.req("create user ragnar ragnar") == "success"
    assert admin.req("grant database db1 ragnar read") == "success"
    user = OriginalClient(srv.port)
    assert user.req("login ragnar ragnar") == "success"
    assert user.req("connect db1") == "success"


def test_grant_errors(srv):
    admin = OriginalClient(srv.port)
    assert admin.req("login duck duck") == "success"
    assert admin.req("create database db3") == "success"
    assert admin.req("create user doe doe") == "success"
    assert admin.req("grant database db3 doe invalid_permission").startswith("Error")
    assert admin.req("grant database non_existent_db doe read").startswith("Error")
    assert admin.req("create database db3").startswith("Error")  # exists already
    bad = OriginalClient(srv.port)
    assert bad.req("login doe wrong").startswith("Error")


def test_grant_over_table_and_queries(srv):
    admin = OriginalClient(srv.port)
    assert admin.req("login duck duck") == "success"
    assert admin.req("create database db4") == "success"
    assert admin.req("create user bob bob") == "success"
    assert admin.req("grant database db4 bob read") == "success"
    assert admin.req("connect db4") == "success"
    assert not admin.req("CREATE TABLE t1(id int, name text);").startswith("Error")
    user = OriginalClient(srv.port)
    assert user.req("login bob bob") == "success"
    assert user.req("connect db4") == "success"
    assert user.req("select * from t1;").startswith("Error")
    assert user.req("insert into t1(id, name) values(1, 'ragnar');").startswith("Error")
    admin2 = OriginalClient(srv.port)
    assert admin2.req("login duck duck") == "success"
    assert admin2.req("grant table db4 t1 bob select") == "success"
    assert user.req("select * from t1;") == "[]"
    assert user.req("insert into t1(id, name) values(1, 'ragnar');").startswith("Error")
    assert admin2.req("grant database db4 bob write") == "success"
    assert admin2.req("grant table db4 t1 bob insert") == "success"
    assert not user.req("insert into t1(id, name) values(1, 'ragnar');").startswith("Error")
    assert user.req("select * from t1;") == '[{"id":1,"name":"ragnar"}]'


def test_update_user(srv):
    admin = OriginalClient(srv.port)
    assert admin.req("login duck duck") == "success"
    assert admin.req("create user alice alice") == "success"
    assert admin.req("update user password alice secret") == "success"
    assert admin.req("update user username alice alicia") == "success"
    old = OriginalClient(srv.port)
    assert old.req("login alice alice").startswith("Error")
    new = OriginalClient(srv.port)
    assert new.req("login alicia secret") == "success"


def test_multi_line_sql_is_one_request(srv):
    """After the silence, a newline is part of the request, as in the original."""
    c = OriginalClient(srv.port)
    assert c.req("login duck duck") == "success"
    assert c.req("create database ml") == "success"
    assert c.req("connect ml") == "success"
    assert c.req("SELECT 1 AS a,\n  2 AS b") == '[{"a":1,"b":2}]'
    assert c.req("SELECT 3 AS c\n") == '[{"c":3}]'  # one trailing newline is dropped


def test_line_client_split_by_a_pause_is_not_cut(srv):
    """A client whose first request ends with a newline is framed by lines for good."""
    with srv.admin() as c:  # its first request, the login, was a whole line
        assert c.req("create database lines") == "success"
        assert c.req("connect lines") == "success"
        c.send_raw(b"SELECT 4")
        time.sleep(0.3)  # ten silences long: a drop-in connection would take "SELECT 4"
        c.send_raw(b"2 AS n\n")
        assert c.line() == '[{"n":42}]'
        c.send_raw(b"SELECT ")
        time.sleep(0.3)
        c.send_raw(b"'a' AS s\n")
        assert c.line() == '[{"s":"a"}]'


def test_line_framing_unchanged_when_off(make_server):
    """With DropInSilenceMs=0 a request without newline waits for its newline, however long."""
    srv = make_server()
    with Client(srv.port) as c:
        c.send_raw(b"login duck duck")
        time.sleep(0.3)
        c.send_raw(b"\n")
        assert c.line() == "success"


def test_request_limit_before_login(make_server):
    """A silence-framed request longer than MaxLoginRequestBytes before login closes."""
    srv = make_server(args=SILENCE + ["--max-login-request-bytes", "2200"])
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    s.sendall(b"x" * 3000)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"Error: Request Too Large"), data


def test_request_limit_after_login(make_server):
    srv = make_server(args=SILENCE + ["--max-request-bytes", "1000"])
    c = OriginalClient(srv.port)
    assert c.req("login duck duck") == "success"
    assert c.req("SELECT '" + "y" * 2000 + "' AS s").startswith("Error: Request Too Large")
    # The next request after a silence is read normally.
    assert c.req("list databases") == "[]"


def test_login_deadline_applies(make_server):
    srv = make_server(args=SILENCE + ["--login-timeout", "1"])
    c = OriginalClient(srv.port)
    assert c.req("list databases").startswith("Error")  # not logged in
    c.sock.settimeout(30)
    data = b""
    while True:
        chunk = c.sock.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data == b"Error: Login Timeout\n"


def test_many_drop_in_clients_at_once(srv):
    """The timers of many waiting connections fire independently (TSan exercises this)."""
    with srv.admin() as a:
        assert a.req("create database many") == "success"
    clients = [OriginalClient(srv.port) for _ in range(8)]
    for step in (b"login duck duck", b"connect many"):
        for c in clients:
            c.sock.sendall(step)
        for c in clients:
            assert c.sock.recv(4096).strip() == b"success"
    for i, c in enumerate(clients):
        c.sock.sendall(b"SELECT %d AS i" % i)
    for i, c in enumerate(clients):
        assert c.sock.recv(4096).decode().strip() == '[{"i":%d}]' % i
    for c in clients:
        c.close()
    with srv.admin() as a:  # every drop-in session ends with its client
        wait_for(lambda: json.loads(a.req("stats"))["sessions"]["active"] == 1)
