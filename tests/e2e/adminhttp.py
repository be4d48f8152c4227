"""
Helpers for the admin page's tests (test_admin_http.py, test_admin_browser.py): a server with
AdminPort on a free port, and a small HTTP client that keeps the session cookie and the CSRF
token as a browser would.
"""
import http.client
import json
import re
import socket
import ssl
import urllib.parse

from conftest import wait_for


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_admin(make_server, args=(), env=None, addr="127.0.0.1"):
    """Starts a server with its admin page on a free port; returns (server, admin port)."""
    port = free_port()
    srv = make_server(args=["--admin-port", str(port), "--admin-addr", addr] + list(args), env=env)
    assert wait_for(lambda: any("admin page on" in l for l in srv.log), timeout=30), srv.stderr()
    return srv, port


def form(params):
    """Form encoding with %20 for spaces, as the page's script sends it."""
    return "&".join(urllib.parse.quote(k, safe="") + "=" + urllib.parse.quote(str(v), safe="")
                    for k, v in params)


class Web:
    """An HTTP(S) client of the admin page with a cookie jar of one cookie."""

    def __init__(self, port, host="127.0.0.1", tls=False):
        self.port, self.host, self.tls = port, host, tls
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, headers=None, csrf=True):
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=60, context=ctx)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = dict(headers or {})
        if self.cookie:
            h.setdefault("Cookie", self.cookie)
        if body is not None:
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
            if csrf and self.csrf:
                h.setdefault("X-CSRF-Token", self.csrf)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.headers, data
        finally:
            conn.close()

    def json(self, method, path, params=None, **kw):
        status, headers, data = self.request(method, path,
                                             None if params is None else form(params), **kw)
        return status, json.loads(data)

    def login(self, user, password):
        status, headers, data = self.request("POST", "/api/login",
                                             form([("user", user), ("password", password)]))
        body = json.loads(data)
        if status == 200:
            m = re.match(r"tcpduckdb_admin=([0-9a-f]+)", headers["Set-Cookie"])
            self.cookie = "tcpduckdb_admin=" + m.group(1)
            self.csrf = body["csrf"]
        return status, body, headers

    def command(self, *words, **kw):
        return self.json("POST", "/api/command", [("w", w) for w in words], **kw)

    def query(self, database, sql):
        return self.json("POST", "/api/query", [("database", database), ("sql", sql)])

    def metrics(self, headers=None):
        status, _, data = self.request("GET", "/metrics", headers=headers)
        return status, data.decode()


def metric_value(text, name, labels=""):
    """The value of one sample of the Prometheus text `text`."""
    key = name + ("{" + labels + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    raise KeyError(key)
