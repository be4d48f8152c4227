"""
The web admin page at the HTTP level (docs/admin.md): security headers, cookie flags, CSRF,
the same authorisation as the line protocol (a forged request for another database is
refused), hostile names and values, the shared login throttle, and /metrics (its access
rule, `promtool check metrics` on the live output, counters that move under load).
"""
import os
import subprocess
import time

from adminhttp import Web, metric_value, start_admin
from conftest import wait_for


def test_headers_cookie_flags_and_static_page(make_server):
    srv, port = start_admin(make_server)
    web = Web(port)
    status, headers, body = web.request("GET", "/")
    assert status == 200 and b"<script src=\"/app.js\"" in body
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = web.request("GET", "/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert b"innerHTML" not in body  # the page builds its DOM with textContent only
    assert web.request("GET", "/nope")[0] == 404
    # Not logged in: the API refuses.
    assert web.json("GET", "/api/me")[0] == 401
    status, me, headers = web.login("duck", "duck")
    assert status == 200 and me["user"] == "duck" and me["super"] is True
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never be sent back
    assert web.json("GET", "/api/me")[1]["user"] == "duck"
    # Logging out ends the session on the server, not only in the browser.
    assert web.json("POST", "/api/logout", [])[0] == 200
    assert web.json("GET", "/api/me")[0] == 401
    assert wait_for(lambda: any("admin: user duck logged in from 127.0.0.1" in l for l in list(srv.log)), timeout=30)


def test_https_when_tls_is_on(make_server, tls_certs):
    args = ["--tls-mode", "optional", "--tls-cert-file", os.path.join(tls_certs, "server.crt"),
            "--tls-key-file", os.path.join(tls_certs, "server.key")]
    srv, port = start_admin(make_server, args=args)
    assert wait_for(lambda: any("admin page on https://" in l for l in list(srv.log)), timeout=30)
    web = Web(port, tls=True)
    status, me, headers = web.login("duck", "duck")
    assert status == 200
    assert "Secure" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
    assert web.json("GET", "/api/databases")[0] == 200
    # Plain HTTP on the same port gets no answer: the page is HTTPS only.
    plain = Web(port)
    try:
        status = plain.request("GET", "/")[0]
    except Exception:
        status = None
    assert status is None


def test_csrf_token_required_on_state_changes(make_server):
    srv, port = start_admin(make_server)
    web = Web(port)
    web.login("duck", "duck")
    assert web.command("create", "database", "nocsrf", csrf=False)[0] == 403
    status, body = web.command("create", "database", "wrongcsrf",
                               headers={"X-CSRF-Token": "0" * 64})
    assert status == 403 and "CSRF" in body["error"]
    # A cookie of another session with this session's token is no better.
    other = Web(port)
    other.login("duck", "duck")
    assert web.command("create", "database", "crossed",
                       headers={"X-CSRF-Token": other.csrf})[0] == 403
    # A request from a page of another origin is refused even with the token.
    status, body = web.command("create", "database", "evil",
                               headers={"Origin": "http://evil.example"})
    assert status == 403
    assert web.command("create", "database", "withcsrf") == (200, {"ok": True})
    with srv.admin() as c:
        names = c.req("list databases")
    assert "withcsrf" in names
    for name in ("nocsrf", "wrongcsrf", "crossed", "evil"):
        assert name not in names
    assert wait_for(lambda: any("refused: missing or wrong CSRF token" in l for l in list(srv.log)), timeout=30)


def test_same_authorisation_as_the_line_protocol(make_server):
    srv, port = start_admin(make_server)
    with srv.admin() as c:
        for r in ("create database mine", "create database theirs", "create user bob pw1",
                  "grant database mine bob read"):
            assert c.req(r) == "success"
        assert c.req("connect theirs") == "success"
        assert c.req("create table secret(x int)") == "success"
        assert c.req("insert into secret values (42)") == "1"
        assert c.req("disconnect") == "success"
        assert c.req("connect mine") == "success"
        assert c.req("create table t(x int)") == "success"
        assert c.req("grant table mine t bob select") == "success"
    bob = Web(port)
    assert bob.login("bob", "pw1")[0] == 200
    status, dbs = bob.json("GET", "/api/databases")
    assert status == 200 and [d["name"] for d in dbs["databases"]] == ["mine"]
    assert dbs["state"] == {}  # sizes, pool state, sessions and links are the super user's
    # Forged requests for the database bob has no grant on.
    status, body = bob.query("theirs", "SELECT * FROM secret")
    assert status == 403 and "Access Denied" in body["error"] and "42" not in str(body)
    status, body = bob.command("grant", "database", "theirs", "bob", "write")
    assert status == 403 and body["error"] == "Unauthorized"
    assert bob.command("create", "database", "x")[0] == 403
    assert bob.command("list", "users")[0] == 403
    assert bob.command("list", "grants", "duck")[0] == 403
    assert bob.json("GET", "/api/overview")[0] == 403
    # The operations the page offers the super user are refused to bob by their handlers.
    assert bob.command("show", "sessions")[0] == 403
    assert bob.command("cancel", "1")[0] == 403
    assert bob.command("terminate", "1")[0] == 403
    assert bob.command("drop", "database", "theirs")[0] == 403
    assert bob.command("backup", "theirs")[0] == 403
    assert bob.command("list", "backups")[0] == 403
    assert bob.command("restore", "theirs", "as", "stolen")[0] == 403
    # The keyed cancel is the line protocol's form for clients not logged in, not the page's.
    assert bob.command("cancel", "1", "00")[0] == 400
    # Commands the page does not offer are refused whoever asks.
    assert bob.command("login", "duck", "duck")[0] == 400
    # What bob may do works: read the granted database, but not write to it.
    status, body = bob.query("mine", "SELECT count(*) AS n FROM t")
    assert status == 200 and body["result"]["rows"] == [[0]]
    status, body = bob.query("mine", "INSERT INTO t VALUES (1)")
    assert status == 403 and "Access Denied" in body["error"]
    with srv.admin() as c:
        assert c.req("grant database theirs bob write") == "success"
    with srv.admin() as c:
        assert "\"theirs\"" in c.req("list grants bob")
    assert wait_for(lambda: any("admin: user bob from 127.0.0.1: grant database theirs bob write -> "
                                "Error: Unauthorized" in l for l in list(srv.log)), timeout=30)


XSS = "<img src=x onerror=alert(1)>"


def test_hostile_names_and_values_stay_data(make_server):
    srv, port = start_admin(make_server)
    web = Web(port)
    web.login("duck", "duck")
    # Database and user names are validated by the same handlers: markup is no name.
    status, body = web.command("create", "database", XSS)
    assert status == 400 and "Bad Request" in body["error"]
    status, body = web.command("create", "user", "<script>", "pw")
    assert status == 400
    assert web.command("create", "database", "x1") == (200, {"ok": True})
    # Table names and values may hold anything: they come back as JSON strings, never HTML.
    status, body = web.query("x1", 'CREATE TABLE "%s"(v VARCHAR); INSERT INTO "%s" VALUES '
                                   "('</script><script>alert(2)</script>')" % (XSS, XSS))
    assert status == 200, body
    status, headers, raw = web.request(
        "POST", "/api/query", "database=x1&sql=" + "SELECT%20*%2C%20%27%22%3E%27%20AS%20%22%3Cb%3E%22%20FROM%20%22%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    import json
    body = json.loads(raw)
    assert body["result"]["rows"] == [["</script><script>alert(2)</script>", '">']]
    assert body["result"]["columns"][1]["name"] == "<b>"


def test_login_throttled_like_the_line_protocol(make_server):
    srv, port = start_admin(make_server, args=["--login-failure-limit", "2"])
    web = Web(port)
    statuses = [web.login("duck", "wrong")[0] for _ in range(3)]
    assert statuses[:2] == [401, 401]
    status, body, _ = web.login("duck", "duck")  # even the right password waits now
    assert status == 429 and body["error"].startswith("Too Many Failed Logins")
    # One throttle for both front ends: the line protocol from the same address waits too.
    with srv.client() as c:
        assert c.req("login duck duck").startswith("Error: Too Many Failed Logins")
    assert wait_for(lambda: Web(port).login("duck", "duck")[0] == 200, timeout=30, step=0.5)


def promtool(text):
    return subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                          capture_output=True, timeout=60)


def non_loopback_ipv4():
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


def test_metrics_format_and_counters_move(make_server):
    srv, port = start_admin(make_server)
    web = Web(port)
    status, before = web.metrics()
    assert status == 200
    r = promtool(before)
    assert r.returncode == 0, r.stdout + r.stderr
    with srv.admin() as c:
        assert c.req("create database m") == "success"
        assert c.req("connect m") == "success"
        for i in range(50):
            assert c.req("SELECT %d" % i) == '[{"%d":%d}]' % (i, i)
        assert c.req("SELECT * FROM nothing_here").startswith("Error: ")
        status, after = web.metrics()
    r = promtool(after)
    assert r.returncode == 0, r.stdout + r.stderr
    assert metric_value(after, "tcpduckdb_requests_total", 'kind="sql"') - \
        metric_value(before, "tcpduckdb_requests_total", 'kind="sql"') == 51
    assert metric_value(after, "tcpduckdb_request_errors_total", 'kind="sql"') - \
        metric_value(before, "tcpduckdb_request_errors_total", 'kind="sql"') == 1
    assert metric_value(after, "tcpduckdb_requests_total", 'kind="login"') >= 1
    assert metric_value(after, "tcpduckdb_query_duration_seconds_count") - \
        metric_value(before, "tcpduckdb_query_duration_seconds_count") == 51
    assert metric_value(after, "tcpduckdb_query_duration_seconds_bucket", 'le="+Inf"') == \
        metric_value(after, "tcpduckdb_query_duration_seconds_count")
    assert metric_value(after, "tcpduckdb_pool_misses_total") >= 1
    assert metric_value(after, "tcpduckdb_connections", 'state="logged_in"') == 1
    assert metric_value(after, "tcpduckdb_pool_open") == 1
    assert metric_value(after, "tcpduckdb_process_resident_memory_bytes") > 1e6
    assert metric_value(after, "tcpduckdb_process_cpu_seconds_total") > 0
    assert metric_value(after, "tcpduckdb_workers_threads") >= 1


def test_metrics_result_cache_protocols_and_backups(make_server):
    import psycopg2
    from test_pgwire import pg_port
    srv, port = start_admin(make_server, args=["--pg-port", "-1"])
    pgp = pg_port(srv)
    web = Web(port)
    status, before = web.metrics()
    assert status == 200 and promtool(before).returncode == 0
    assert metric_value(before, "tcpduckdb_result_cache_enabled") == 1
    assert metric_value(before, "tcpduckdb_result_cache_limit_bytes") == 64 * 1024 * 1024
    assert metric_value(before, "tcpduckdb_backups") == 0
    with srv.admin() as c:
        assert c.req("create database rc") == "success"
        assert c.req("connect rc") == "success"
        assert c.req("CREATE TABLE t AS SELECT range AS x FROM range(100)") == "success"
        for _ in range(5):
            assert c.req("SELECT sum(x) AS s FROM t") == '[{"s":4950}]'
        assert c.req("disconnect") == "success"
        assert c.req("backup rc").startswith('[{"id":"rc-')
        conn = psycopg2.connect(host="127.0.0.1", port=pgp, user="duck", password="duck",
                                dbname="rc", connect_timeout=30)
        try:
            status, after = web.metrics()
        finally:
            conn.close()
    r = promtool(after)
    assert r.returncode == 0, r.stdout + r.stderr
    # One line-protocol client (the admin) and one PostgreSQL client were connected.
    assert metric_value(after, "tcpduckdb_connections_by_protocol", 'protocol="line"') == 1
    assert metric_value(after, "tcpduckdb_connections_by_protocol", 'protocol="pg"') == 1
    # The result cache of database rc: one miss that stored the answer, then four hits.
    line = [l for l in after.splitlines()
            if l.startswith('tcpduckdb_result_cache_hits_total{database="rc"')]
    assert len(line) == 1, after
    labels = line[0][line[0].index("{"):line[0].index("}") + 1]
    db_id = labels.split('database_id="')[1].rstrip('"}')
    assert int(db_id) >= 1
    lab = 'database="rc",database_id="%s"' % db_id
    assert metric_value(after, "tcpduckdb_result_cache_hits_total", lab) == 4
    assert metric_value(after, "tcpduckdb_result_cache_misses_total", lab) == 1
    assert metric_value(after, "tcpduckdb_result_cache_entries", lab) == 1
    assert metric_value(after, "tcpduckdb_result_cache_bytes", lab) > 0
    assert metric_value(after, "tcpduckdb_backups") == 1
    assert metric_value(after, "tcpduckdb_backups_bytes") > 0


def test_metrics_token_off_loopback(make_server):
    addr = non_loopback_ipv4()
    assert addr, "this test needs a non-loopback IPv4 address on the machine (hostname -I)"
    srv, port = start_admin(make_server, addr="0.0.0.0", env={"MetricsToken": "s3cret-token"})
    assert Web(port).metrics()[0] == 200  # loopback: no token needed
    remote = Web(port, host=addr)
    status, text = remote.metrics()
    assert status == 401 and "tcpduckdb_" not in text
    assert remote.metrics({"Authorization": "Bearer wrong"})[0] == 401
    status, text = remote.metrics({"Authorization": "Bearer s3cret-token"})
    assert status == 200 and promtool(text).returncode == 0


def test_metrics_off_loopback_refused_without_a_token(make_server):
    addr = non_loopback_ipv4()
    assert addr, "this test needs a non-loopback IPv4 address on the machine (hostname -I)"
    srv, port = start_admin(make_server, addr="0.0.0.0")
    # No MetricsToken set: an empty bearer token must not open it.
    assert Web(port, host=addr).metrics({"Authorization": "Bearer "})[0] == 401


def test_log_lines_cannot_be_forged(make_server):
    srv, port = start_admin(make_server)
    web = Web(port)
    web.login("duck", "duck")
    forged = "x\nINFO 2026/01/01 00:00:00 forged line"
    assert web.command("update", "database", forged, "y")[0] == 400
    assert web.query(forged, "SELECT 1")[0] == 400
    assert web.request("POST", "/api/x%0aINFO%20forged", "a=b", csrf=False)[0] == 403
    with srv.admin() as c:
        c.req("stats")  # something after, so the log above is complete
    assert wait_for(lambda: any("update database x y -> Error: Bad Request" in l for l in srv.log))
    assert not any(l.startswith("INFO 2026/01/01") or l.startswith("INFO forged") for l in srv.log)


def test_idle_session_expires(make_server):
    srv, port = start_admin(make_server, args=["--admin-session-timeout", "2"])
    web = Web(port)
    assert web.login("duck", "duck")[0] == 200
    assert web.json("GET", "/api/me")[0] == 200  # used: the idle time starts again
    # Each request restarts the idle time, so this waits without asking: at least 3 s unused.
    time.sleep(3)
    assert web.json("GET", "/api/me")[0] == 401
    assert wait_for(lambda: any("admin: session of user duck from 127.0.0.1 expired" in l for l in list(srv.log)), timeout=30)
    # Its session is gone from the server, not only refused: a new login works as before.
    assert web.login("duck", "duck")[0] == 200
    assert web.json("GET", "/api/me")[0] == 200


def test_console_result_bound(make_server):
    srv, port = start_admin(make_server)
    web = Web(port)
    web.login("duck", "duck")
    assert web.command("create", "database", "big") == (200, {"ok": True})
    # About 40 MiB of JSON: more than the console keeps (ADMIN_RESULT_MAX, 32 MiB).
    status, body = web.query("big", "SELECT repeat('x', 1000) AS v FROM range(40000)")
    assert status == 400 and "result" not in body
    assert body["error"].startswith("the result is larger than 32 MiB")
    # The session goes on.
    status, body = web.query("big", "SELECT 1 AS one")
    assert status == 200 and body["result"]["rows"] == [[1]]


def test_cdc_link_in_metrics_and_on_the_databases_page(make_server):
    """A database linked in CDC mode to a real PostgreSQL (wal_level=logical) shows in
    /metrics (through promtool) as streaming with its lag, which is 0 once a change made in
    PostgreSQL is applied, and its applied changes; /api/databases gives each database's link
    mode (cdc, audit or none) and the stream's state and lag; a stopped stream reads 0."""
    import json
    from pgserver import PgServer
    pg = PgServer().init()
    with open(pg.data + "/postgresql.conf", "a") as f:
        f.write("wal_level = logical\nmax_replication_slots = 10\nmax_wal_senders = 10\n")
    pg.start()
    try:
        pg.psql("CREATE DATABASE src")
        pg.psql("CREATE DATABASE arch")
        pg.psql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');",
                db="src")
        pg.psql("CREATE TABLE k (id int PRIMARY KEY); INSERT INTO k VALUES (1);", db="arch")
        srv, port = start_admin(make_server, env={
            "ENCRYPTION_KEY": "an encryption key for the tests, 48 bytes long.."})
        web = Web(port)
        with srv.admin() as a:
            for req in ["create database feed", "create database plain",
                        "create database alone",
                        'link feed "%s" mode=cdc' % pg.dsn("src"),
                        'link plain "%s" mode=audit' % pg.dsn("arch")]:
                assert a.req(req) == "success", req

            def cdc_state():
                return json.loads(a.req("cdc status feed"))[0]["state"]
            assert wait_for(lambda: cdc_state() == "streaming", timeout=60)

            lab = 'database="feed"'
            status, text = web.metrics()
            assert status == 200
            r = promtool(text)
            assert r.returncode == 0, r.stdout + r.stderr
            assert metric_value(text, "tcpduckdb_cdc_streaming", lab) == 1
            assert metric_value(text, "tcpduckdb_cdc_lag_bytes", lab) >= 0
            assert metric_value(text, "tcpduckdb_cdc_applied_changes_total", lab) == 0
            # Nothing applied yet: no age sample; the audit link has no stream.
            assert "tcpduckdb_cdc_seconds_since_last_apply{" not in text
            assert 'database="plain"' not in text.split("tcpduckdb_cdc_streaming", 1)[1]

            # Two PostgreSQL transactions (psql commits each statement), 51 row changes.
            pg.psql("INSERT INTO t SELECT g, 'v' || g FROM generate_series(2, 51) g; "
                    "UPDATE t SET v = 'b' WHERE id = 1;", db="src")

            seen = {}

            def applied():
                seen["text"] = web.metrics()[1]
                return (metric_value(seen["text"], "tcpduckdb_cdc_applied_changes_total",
                                     lab) == 51 and
                        metric_value(seen["text"], "tcpduckdb_cdc_lag_bytes", lab) == 0)
            assert wait_for(applied, timeout=60, step=0.2), seen["text"]
            text = seen["text"]
            r = promtool(text)
            assert r.returncode == 0, r.stdout + r.stderr
            assert metric_value(text, "tcpduckdb_cdc_applied_transactions_total", lab) == 2
            assert metric_value(text, "tcpduckdb_cdc_seconds_since_last_apply", lab) >= 0
            assert a.req("connect feed") == "success"
            assert a.req("SELECT count(*) AS n FROM t WHERE v <> 'a'") == '[{"n":51}]'
            assert a.req("disconnect") == "success"

            assert web.login("duck", "duck")[0] == 200
            status, body = web.json("GET", "/api/databases")
            assert status == 200
            st = body["state"]
            assert st["feed"]["linked"] is True and st["feed"]["link_mode"] == "cdc"
            assert st["feed"]["cdc"] == {"state": "streaming", "lag_bytes": 0, "changes": 51}
            assert st["plain"]["linked"] is True and st["plain"]["link_mode"] == "audit"
            assert st["plain"]["cdc"] is None
            assert st["alone"]["linked"] is False and st["alone"]["link_mode"] is None
            assert st["alone"]["cdc"] is None

            assert a.req("cdc stop feed") == "success"
            status, text = web.metrics()
            assert promtool(text).returncode == 0
            assert metric_value(text, "tcpduckdb_cdc_streaming", lab) == 0
            assert metric_value(text, "tcpduckdb_cdc_applied_changes_total", lab) == 51
            status, body = web.json("GET", "/api/databases")
            assert body["state"]["feed"]["cdc"]["state"] == "stopped"
    finally:
        pg.cleanup()
