#!/usr/bin/env python3
"""
`make bench-threads`: what DuckdbThreads costs small statements and gives analytical ones
(docs/performance.md, "Threads: small statements and analytical ones").

For each CPU set (taskset; default "0" and "0,1", BENCH_THREADS_CPUS="0 0,1,2,3" for others)
and each server (this build with --duckdb-threads 1, this build with its default, and, when
THREADS_BASELINE_BIN names a build from before parallel.c, that build with --duckdb-threads 0,
DuckDB's own threads), the server runs pinned to the set and tdb_bench (pinned to the same set,
as on a machine whose cores the clients share) measures:

  - SELECT 1 and the primary-key lookup on the 100k-row `kv`, literal, 1 and 16 connections:
    queries/s and the server's CPU per query;
  - `SELECT g, avg(x), count(*) FROM big GROUP BY g` over 10M rows (THREADS_BIG_ROWS): the
    least of 3 runs after a warm-up, through bench/tpch_run (C client library), and the
    server's CPU over the 4 runs divided by 4 x that time (the cores it kept busy, roughly);

and in-process DuckDB (tpch_run duckdb, DuckDB's defaults: threads = the cores of the set) runs
the same aggregate. Prints a markdown table; standard library only, reusing bench/run.py.
"""
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402

SECS = float(os.environ.get("THREADS_SECS", "3"))
ROWS = int(os.environ.get("THREADS_BIG_ROWS", "10000000"))
CPUS = os.environ.get("BENCH_THREADS_CPUS", "0 0,1").split()
BASELINE = os.environ.get("THREADS_BASELINE_BIN", "")
TPCH_RUN = os.path.join(R.BENCH_BIN, "tpch_run")
AGG = "SELECT g, avg(x), count(*) FROM big GROUP BY g"


def taskset(cpus, cmd):
    return ["taskset", "-c", cpus] + [str(c) for c in cmd]


def agg_ms(cmd_prefix, tmp):
    qfile = os.path.join(tmp, "agg.sql")
    with open(qfile, "w") as f:
        f.write("\n-- Q1\n%s;\n" % AGG)
    out, _, _ = R.run(cmd_prefix + ["--queries", qfile, "--reps", "3"], timeout=1800)
    import json
    line = [x for x in out.splitlines() if x.startswith("{")][0]
    return min(json.loads(line)["ms"])


def setup_sql(tmp):
    path = os.path.join(tmp, "setup.sql")
    with open(path, "w") as f:
        f.write("CREATE TABLE kv (id INTEGER PRIMARY KEY, val VARCHAR);\n"
                "INSERT INTO kv SELECT i, 'value ' || i FROM range(1, 100001) t(i);\n"
                "CREATE TABLE big AS SELECT (i %% 100000)::INTEGER AS g, "
                "(hash(i) %% 1000000)::DOUBLE AS x FROM range(%d) t(i);\n" % ROWS)
    return path


def main():
    cleanup = R.Cleanup()
    tmp = tempfile.mkdtemp(prefix="tcpduckdb-threads-")
    cleanup.push(lambda: __import__("shutil").rmtree(tmp, ignore_errors=True))
    rows = []
    servers = [("DuckdbThreads=1", R.SERVER_BIN, ["--duckdb-threads", "1"]),
               ("default (all cores, parallel.c)", R.SERVER_BIN, [])]
    if BASELINE:
        servers.append(("before: DuckDB's own threads (--duckdb-threads 0)", BASELINE,
                        ["--supervise", "off", "--duckdb-threads", "0"]))
    setup = setup_sql(tmp)
    try:
        for cpus in CPUS:
            inproc_db = os.path.join(tmp, "inproc-%s.duckdb" % cpus.replace(",", "_"))
            R.run(taskset(cpus, [TPCH_RUN, "duckdb", inproc_db, "0", "--script", setup]),
                  timeout=1800)
            rows.append((cpus, "in-process DuckDB (threads = cores)", None, None,
                         agg_ms(taskset(cpus, [TPCH_RUN, "duckdb", inproc_db, "0"]), tmp)))
            for name, binary, args in servers:
                srv = R.TdbServer(cleanup, tmp, "tdb-%s-%d" % (cpus, len(rows)),
                                  args=["--cache-memory", "0"] + args, binary=binary)
                srv.args = taskset(cpus, srv.args)
                srv.start()
                a = srv.admin()
                a.req("create database bench", ok="success")
                a.close()
                ci = ("host=127.0.0.1 port=%d user=duck password=duck dbname=bench "
                      "sslmode=disable" % srv.port)
                R.run([TPCH_RUN, "tdb", ci, "--script", setup], timeout=1800)
                small = {}
                for mode in ("select1", "point"):
                    for conns in (1, 16):
                        cmd = taskset(cpus, [os.path.join(R.BENCH_BIN, "tdb_bench"), "load",
                                             "--port", srv.port, "--database", "bench",
                                             "--conns", conns, "--seconds", SECS, "--mode",
                                             mode, "--form", "literal"])
                        pid = srv.proc.pid
                        c0 = R.proc_cpu(pid)
                        out, _, _ = R.run(cmd, timeout=SECS + 120)
                        c1 = R.proc_cpu(pid)
                        r = R.json_line(out, cmd)
                        small[(mode, conns)] = (r["qps"], 1e6 * (c1 - c0) / r["ops"])
                c0 = R.proc_cpu(srv.proc.pid)
                ms = agg_ms([TPCH_RUN, "tdb", ci], tmp)
                # CPU over the 4 runs (warm-up included) against 4 x the least wall time: the
                # cores the aggregate kept busy, roughly.
                cores = (R.proc_cpu(srv.proc.pid) - c0) * 1e3 / (4 * ms)
                rows.append((cpus, name, small, cores, ms))
                srv.stop()
                R.log("threads: %s %s done" % (cpus, name))
    finally:
        cleanup.run()
    print("| CPUs (taskset -c) | server | SELECT 1 q/s, 1 conn (µs CPU/q) | SELECT 1 q/s, 16 "
          "(µs/q) | point q/s, 1 (µs/q) | point q/s, 16 (µs/q) | GROUP BY ms (cores busy) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for cpus, name, small, cores, ms in rows:
        cells = []
        for key in (("select1", 1), ("select1", 16), ("point", 1), ("point", 16)):
            if small:
                q, us = small[key]
                cells.append("%.0f (%.0f)" % (q, us))
            else:
                cells.append("")
        print("| %s | %s | %s | %.0f%s |" % (cpus, name, " | ".join(cells), ms,
                                           " (%.1f)" % cores if cores is not None else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except R.BenchError as e:
        print("bench-threads: FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
