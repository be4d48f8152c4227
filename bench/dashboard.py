#!/usr/bin/python3
"""The result cache's bench (docs/cache.md, docs/performance.md): a dashboard mix.

50 distinct queries (25 aggregates over a fact table, 25 key lookups) chosen with a Zipf
distribution (s = 1.1) by 16 client processes for a fixed time, while a writer commits one
INSERT a second, against one release server; once with the result cache on (each client's
session as is) and once off (`set cache off` in every session), alternating, plus a miss-only
mix (every text distinct) for the cache's overhead; then, with --pg, the same dashboard mix on
a PostgreSQL 15 (tests/e2e/pgserver.py's initdb + pg_ctl, the table with a primary key and
ANALYZEd) through pgbench (16 clients, the 50 queries in one script chosen with
random_zipfian(1, 50, 1.1), a second pgbench committing one INSERT a second). Standard library
only.

    python3 bench/dashboard.py [--seconds 10] [--clients 16] [--rows 1000000] [--rounds 2] [--pg]

Prints one Markdown table: queries/s, p50 and p99 latency (ms), hit ratio, per mode
(PostgreSQL: pgbench's tps and average latency). Exits non-zero on any error answer.
"""
import argparse
import json
import multiprocessing as mp
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TCPDUCKDB_BIN", os.path.join(ROOT, "build", "tcp-duckdb"))


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def req(self, text):
        self.s.sendall(text.encode() + b"\n")
        line = self.f.readline().decode().rstrip("\n")
        if line.startswith("Error"):
            raise RuntimeError("%s -> %s" % (text, line))
        return line


def queries():
    q = []
    for i in range(25):
        q.append("SELECT g, count(*) AS n, sum(v) AS s, avg(v) AS a FROM facts "
                 "WHERE g %% %d = %d GROUP BY g ORDER BY g" % (i + 2, i % (i + 2)))
    for i in range(25):
        q.append("SELECT * FROM facts WHERE id = %d" % (i * 7919 + 11))
    return q


def zipf_weights(n, s=1.1):
    return [1.0 / (k ** s) for k in range(1, n + 1)]


def client(port, cache_on, seconds, miss_only, seed, out):
    random.seed(seed)
    c = Conn(port)
    c.req("login duck duck")
    c.req("connect dash")
    if not cache_on:
        c.req("set cache off")
    qs = queries()
    w = zipf_weights(len(qs))
    lat = []
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        if miss_only:
            sql = "SELECT * FROM facts WHERE id = %d AND %d = %d" % (
                random.randrange(1000), seed, n)
        else:
            sql = random.choices(qs, w)[0]
        t0 = time.perf_counter()
        c.req(sql)
        lat.append(time.perf_counter() - t0)
        n += 1
    out.put(lat)


def writer(port, stop):
    c = Conn(port)
    c.req("login duck duck")
    c.req("connect dash")
    i = 0
    while not stop.is_set():
        c.req("INSERT INTO facts VALUES (%d, %d, %f)" % (10_000_000 + i, i % 100, i * 0.5))
        i += 1
        stop.wait(1.0)


def cache_stats(port):
    c = Conn(port)
    c.req("login duck duck")
    st = json.loads(c.req("stats"))["result_cache"]
    hits = sum(d["hits"] for d in st["databases"])
    misses = sum(d["misses"] for d in st["databases"])
    return hits, misses


def run_mode(port, cache_on, seconds, clients, miss_only):
    h0, m0 = cache_stats(port)
    out = mp.Queue()
    stop = threading.Event()
    wt = threading.Thread(target=writer, args=(port, stop))
    wt.start()
    procs = [mp.Process(target=client, args=(port, cache_on, seconds, miss_only, i, out))
             for i in range(clients)]
    for p in procs:
        p.start()
    lat = []
    for _ in procs:
        lat.extend(out.get())
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError("a client failed")
    stop.set()
    wt.join()
    h1, m1 = cache_stats(port)
    lat.sort()
    hits, misses = h1 - h0, m1 - m0
    return {"qps": len(lat) / seconds,
            "p50": lat[len(lat) // 2] * 1000, "p99": lat[int(len(lat) * 0.99)] * 1000,
            "hit_ratio": hits / (hits + misses) if hits + misses else 0.0}


def pg_mix(seconds, clients, rows):
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    from pgserver import PG_BIN, PgServer
    pg = PgServer().init().start()
    try:
        pg.psql("CREATE DATABASE dash")
        pg.psql("CREATE TABLE facts AS SELECT i::int AS id, (i %% 100)::int AS g, "
                "(i * 0.37)::float8 AS v FROM generate_series(0, %d) i; "
                "ALTER TABLE facts ADD PRIMARY KEY (id); ANALYZE facts;" % (rows - 1), db="dash")
        qs = queries()
        script = ["\\set r random_zipfian(1, %d, 1.1)" % len(qs)]
        for i, q in enumerate(qs):
            script.append(("\\if :r = %d" if i == 0 else "\\elif :r = %d") % (i + 1))
            script.append(q + ";")
        script.append("\\endif")
        mix = os.path.join(pg.dir, "mix.sql")
        ins = os.path.join(pg.dir, "writer.sql")
        with open(mix, "w") as f:
            f.write("\n".join(script) + "\n")
        with open(ins, "w") as f:
            f.write("\\set i random(20000000, 30000000)\n"
                    "INSERT INTO facts VALUES (:i, :i % 100, :i * 0.5);\n\\sleep 1 s\n")
        for path in (mix, ins):
            os.chmod(path, 0o644)
        base = [os.path.join(PG_BIN, "pgbench"), "-n", "-h", pg.dir, "-p", str(pg.port),
                "-U", "postgres", "-T", str(int(seconds))]
        if pg.as_root:
            base = ["runuser", "-u", "postgres", "--"] + base
        w = subprocess.Popen(base + ["-c", "1", "-f", ins, "dash"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        out = subprocess.run(base + ["-c", str(clients), "-j", "2", "-f", mix, "dash"],
                             capture_output=True, check=True).stdout.decode()
        w.wait()
        tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
        lat = float(re.search(r"latency average = ([0-9.]+) ms", out).group(1))
        return tps, lat
    finally:
        pg.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pg", action="store_true", help="also run the mix on PostgreSQL 15")
    ap.add_argument("--miss-only", action="store_true",
                    help="only the miss-only mix, cache on and off alternating (the overhead)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tdb-dash-") as d:
        proc = subprocess.Popen([BIN, "--port", "0", "--data-dir", d, "--supervise", "off",
                                 "--max-user-statements", "1000", "--idle-timeout", "0"],
                                stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        port = None
        for raw in proc.stderr:
            m = re.search(r"listening to .*:(\d+)$", raw.decode().rstrip())
            if m:
                port = int(m.group(1))
                break
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        try:
            c = Conn(port)
            c.req("login duck duck")
            c.req("create database dash")
            c.req("connect dash")
            c.req("CREATE TABLE facts AS SELECT range::INTEGER AS id, (range %% 100)::INTEGER AS g,"
                  " (range * 0.37)::DOUBLE AS v FROM range(%d)" % a.rows)
            res = {}
            for r in range(a.rounds):
                modes = (("dashboard, cache on", True, False),
                         ("dashboard, cache off", False, False),
                         ("miss-only, cache on", True, True),
                         ("miss-only, cache off", False, True))
                for mode, on, miss in modes[2:] if a.miss_only else modes:
                    res.setdefault(mode, []).append(
                        run_mode(port, on, a.seconds, a.clients, miss))
            print("| mix | queries/s | p50 ms | p99 ms | hit ratio |")
            print("|---|---|---|---|---|")
            for mode, runs in res.items():
                runs.sort(key=lambda x: x["qps"])
                m = runs[len(runs) // 2]
                print("| %s | %.0f | %.2f | %.2f | %.3f |" % (mode, m["qps"], m["p50"], m["p99"],
                                                             m["hit_ratio"]))
        finally:
            proc.terminate()
            proc.wait(60)
    if a.pg:
        tps, lat = pg_mix(a.seconds, a.clients, a.rows)
        print("| dashboard, PostgreSQL 15 (pgbench) | %.0f | avg %.2f | | |" % (tps, lat))


if __name__ == "__main__":
    sys.exit(main())
