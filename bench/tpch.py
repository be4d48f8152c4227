"""
The TPC-H-like section of `make bench` (BENCH_ONLY=tpch, or `make bench-tpch`).

The data is made by bench/tpch_gen.sql (TPC-H's schema and value distributions, in SQL, at
scale factor TPCH_SF, default 1) in two DuckDB databases: one inside a TCP-DuckDB server,
through the protocol, and one file opened in process. PostgreSQL 15 gets the same rows (the
in-process database exported to CSV, loaded with COPY) with primary keys, the indexes below
and ANALYZE. The 22 queries of bench/tpch_queries.sql then run on the three:

  in process   bench/tpch_run duckdb: DuckDB's defaults, threads = every core
  server       bench/tpch_run tdb: the C client library, the server's defaults but
               `--cache-memory 0` (a repeated query would otherwise be answered from the result
               cache, docs/cache.md)
  PostgreSQL   bench/tpch_run pg: libpq, initdb defaults plus run.py's settings

Every query runs once untimed (its answer is kept), then TPCH_REPS times timed. In process and
server alternate (A/B/A/B, two rounds each); PostgreSQL runs one round. A query's figure is
the least of its timed runs (the machine's other work only ever adds time) and the summary is
the geometric mean over the 22. The server's answers must equal the in-process answers (cells
compared as text, numbers within 1e-9 relative) or the run fails: a wrong answer is not a fast
one.

Also `bench/tpch.py --check [--sf 0.01]`: the generator and queries on a server and in
process, answers compared, no timing (tests/e2e/test_tpch.py does the same under ASan).
"""
import math
import os
import shlex
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN_SQL = os.path.join(HERE, "tpch_gen.sql")
QUERIES_SQL = os.path.join(HERE, "tpch_queries.sql")
TABLES = ("region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem")

PG_SCHEMA = """
CREATE TABLE region (r_regionkey integer PRIMARY KEY, r_name varchar NOT NULL,
                     r_comment varchar NOT NULL);
CREATE TABLE nation (n_nationkey integer PRIMARY KEY, n_name varchar NOT NULL,
                     n_regionkey integer NOT NULL, n_comment varchar NOT NULL);
CREATE TABLE part (p_partkey integer PRIMARY KEY, p_name varchar NOT NULL,
                   p_mfgr varchar NOT NULL, p_brand varchar NOT NULL, p_type varchar NOT NULL,
                   p_size integer NOT NULL, p_container varchar NOT NULL,
                   p_retailprice numeric(15,2) NOT NULL, p_comment varchar NOT NULL);
CREATE TABLE supplier (s_suppkey integer PRIMARY KEY, s_name varchar NOT NULL,
                       s_address varchar NOT NULL, s_nationkey integer NOT NULL,
                       s_phone varchar NOT NULL, s_acctbal numeric(15,2) NOT NULL,
                       s_comment varchar NOT NULL);
CREATE TABLE partsupp (ps_partkey integer NOT NULL, ps_suppkey integer NOT NULL,
                       ps_availqty integer NOT NULL, ps_supplycost numeric(15,2) NOT NULL,
                       ps_comment varchar NOT NULL);
CREATE TABLE customer (c_custkey integer PRIMARY KEY, c_name varchar NOT NULL,
                       c_address varchar NOT NULL, c_nationkey integer NOT NULL,
                       c_phone varchar NOT NULL, c_acctbal numeric(15,2) NOT NULL,
                       c_mktsegment varchar NOT NULL, c_comment varchar NOT NULL);
CREATE TABLE orders (o_orderkey integer NOT NULL, o_custkey integer NOT NULL,
                     o_orderstatus varchar NOT NULL, o_totalprice numeric(15,2) NOT NULL,
                     o_orderdate date NOT NULL, o_orderpriority varchar NOT NULL,
                     o_clerk varchar NOT NULL, o_shippriority integer NOT NULL,
                     o_comment varchar NOT NULL);
CREATE TABLE lineitem (l_orderkey integer NOT NULL, l_partkey integer NOT NULL,
                       l_suppkey integer NOT NULL, l_linenumber integer NOT NULL,
                       l_quantity numeric(15,2) NOT NULL, l_extendedprice numeric(15,2) NOT NULL,
                       l_discount numeric(15,2) NOT NULL, l_tax numeric(15,2) NOT NULL,
                       l_returnflag varchar NOT NULL, l_linestatus varchar NOT NULL,
                       l_shipdate date NOT NULL, l_commitdate date NOT NULL,
                       l_receiptdate date NOT NULL, l_shipinstruct varchar NOT NULL,
                       l_shipmode varchar NOT NULL, l_comment varchar NOT NULL);
"""

# After the load: the keys, and an index on every foreign key the queries join or probe by
# (Q2, Q17, Q20 and Q21 are correlated on them), and on the date columns they range over.
PG_INDEXES = """
ALTER TABLE partsupp ADD PRIMARY KEY (ps_partkey, ps_suppkey);
ALTER TABLE orders ADD PRIMARY KEY (o_orderkey);
ALTER TABLE lineitem ADD PRIMARY KEY (l_orderkey, l_linenumber);
CREATE INDEX ON partsupp (ps_suppkey);
CREATE INDEX ON orders (o_custkey);
CREATE INDEX ON orders (o_orderdate);
CREATE INDEX ON lineitem (l_partkey, l_suppkey);
CREATE INDEX ON lineitem (l_suppkey);
CREATE INDEX ON lineitem (l_shipdate);
CREATE INDEX ON customer (c_nationkey);
CREATE INDEX ON supplier (s_nationkey);
VACUUM ANALYZE;
"""


class TpchError(Exception):
    pass


def tpch_run_bin(build):
    return os.path.join(build, "bench", "tpch_run")


def conninfo(port, db="tpch"):
    return "host=127.0.0.1 port=%d user=duck password=duck dbname=%s sslmode=disable" % (port, db)


def parse_lines(out):
    """The JSON lines of tpch_run: {q: {"rows":, "ms": [...], "timeout":}}."""
    import json
    res = {}
    for line in out.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            res[d["q"]] = d
    return res


def cells_equal(a, b):
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def compare_dumps(dir_a, dir_b, queries):
    """The differences between two tpch_run --dump directories, as text lines (none: equal)."""
    diffs = []
    for q in queries:
        with open(os.path.join(dir_a, "q%d.tsv" % q)) as f:
            ra = f.read().splitlines()
        with open(os.path.join(dir_b, "q%d.tsv" % q)) as f:
            rb = f.read().splitlines()
        if len(ra) != len(rb):
            diffs.append("Q%d: %d rows against %d" % (q, len(ra), len(rb)))
            continue
        for i, (la, lb) in enumerate(zip(ra, rb)):
            ca, cb = la.split("\t"), lb.split("\t")
            if len(ca) != len(cb) or not all(cells_equal(x, y) for x, y in zip(ca, cb)):
                diffs.append("Q%d row %d: %r against %r" % (q, i + 1, la[:300], lb[:300]))
                break
    return diffs


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def run_section(b, R):
    """Runs the section inside bench/run.py's Bench `b` (its tmp dir, cleanup, figures, notes,
    PostgreSQL); R is bench/run.py's module (run, log, BenchError, TdbServer)."""
    run, log, BenchError, TdbServer = R.run, R.log, R.BenchError, R.TdbServer
    sf = os.environ.get("TPCH_SF", "0.1" if b.quick else "1")
    reps = int(os.environ.get("TPCH_REPS", "1" if b.quick else "3"))
    pg_timeout = int(os.environ.get("TPCH_PG_TIMEOUT", "600"))
    tr = tpch_run_bin(R.BUILD)
    tmp = os.path.join(b.tmp, "tpch")
    os.makedirs(tmp)
    queries = list(range(1, 23))

    log("tpch: generating SF %s in process and in a TCP-DuckDB server" % sf)
    inproc_db = os.path.join(tmp, "inproc.duckdb")
    gen_in = [tr, "duckdb", inproc_db, "0", "--script", GEN_SQL, "--sf", sf]
    _, w_in, _ = run(gen_in, timeout=7200)
    srv = TdbServer(b.cleanup, b.tmp, "tdb-tpch", args=["--cache-memory", "0"]).start()
    a = srv.admin()
    a.req("create database tpch", ok="success")
    a.close()
    ci = conninfo(srv.port)
    gen_srv = [tr, "tdb", ci, "--script", GEN_SQL, "--sf", sf]
    _, w_srv, _ = run(gen_srv, timeout=7200)
    b.notes.append("tpch: generating SF %s took %.0f s in process, %.0f s through the server"
                   % (sf, w_in, w_srv))

    pg_ci = None
    if not os.environ.get("TPCH_NO_PG"):
        log("tpch: loading PostgreSQL")
        pg = b.pg
        csv_dir = os.path.join(pg.dir, "tpch-csv")
        os.makedirs(csv_dir)
        export = os.path.join(tmp, "export.sql")
        with open(export, "w") as f:
            for t in TABLES:
                f.write("COPY %s TO '%s/%s.csv' (DELIMITER '|', HEADER false);\n"
                        % (t, csv_dir, t))
        run([tr, "duckdb", inproc_db, "0", "--script", export], timeout=3600)
        for t in TABLES:
            os.chmod(os.path.join(csv_dir, "%s.csv" % t), 0o644)
        t0 = time.monotonic()
        pg.psql("CREATE DATABASE tpch")
        # work_mem: room for the hash joins and sorts of an analytical query (4MB by default).
        pg.psql("ALTER DATABASE tpch SET work_mem = '64MB'")
        load = PG_SCHEMA + "".join("COPY %s FROM '%s/%s.csv' (DELIMITER '|');\n"
                                   % (t, csv_dir, t) for t in TABLES) + PG_INDEXES
        pg.psql(load, db="tpch")
        b.notes.append("tpch: PostgreSQL's load (COPY, indexes, VACUUM ANALYZE) took %.0f s"
                       % (time.monotonic() - t0))
        pg_ci = "host=%s port=%d user=postgres dbname=tpch" % (pg.dir, pg.port)

    rounds = 2
    runs = {"inproc": [], "server": [], "pg": []}
    cmds = {}
    for r in range(rounds):
        for name in ("inproc", "server"):
            dump = os.path.join(tmp, "dump-%s-%d" % (name, r))
            os.makedirs(dump)
            if name == "inproc":
                cmd = [tr, "duckdb", inproc_db, "0"]
            else:
                cmd = [tr, "tdb", ci]
            cmd += ["--queries", QUERIES_SQL, "--sf", sf, "--reps", str(reps), "--dump", dump]
            log("tpch: round %d, %s" % (r + 1, name))
            out, _, _ = run(cmd, timeout=7200)
            runs[name].append((parse_lines(out), dump))
            cmds[name] = cmd
    diffs = compare_dumps(runs["inproc"][0][1], runs["server"][0][1], queries)
    if diffs:
        raise BenchError("tpch: the server's answers differ from in-process DuckDB's:\n"
                         + "\n".join(diffs[:20]))
    if pg_ci:
        dump = os.path.join(tmp, "dump-pg")
        os.makedirs(dump)
        cmd = [tr, "pg", pg_ci, "--queries", QUERIES_SQL, "--sf", sf, "--reps",
               str(min(reps, 2)), "--timeout", str(pg_timeout), "--dump", dump]
        log("tpch: PostgreSQL")
        out, _, _ = run(cmd, timeout=22 * pg_timeout * 4)
        runs["pg"].append((parse_lines(out), dump))
        cmds["pg"] = cmd

    table = {}
    for name, rs in runs.items():
        for q in queries:
            ms = [m for (res, _) in rs for m in res[q]["ms"]] if rs else []
            timeout = any(res[q].get("timeout") for (res, _) in rs)
            if rs and not ms and not timeout:
                raise BenchError("tpch: no time for Q%d on %s" % (q, name))
            table.setdefault(q, {})[name] = dict(best=min(ms) if ms else None, runs=ms,
                                                 timeout=timeout, rows=rs[0][0][q]["rows"]
                                                 if rs else None)
    b.tpch = dict(sf=sf, reps=reps, rounds=rounds, table=table, pg_timeout=pg_timeout,
                  commands={k: shlex.join(v) for k, v in cmds.items()},
                  nproc=os.cpu_count())
    for q in queries:
        for name in ("inproc", "server", "pg"):
            cell = table[q][name]
            if cell["best"] is not None:
                b.figs.add("tpch.q%d.%s" % (q, name), dict(section="tpch", q=q, system=name),
                           b.tpch["commands"][name], dict(ms=cell["best"]), 0.0)
    srv.stop()


def report(L, b):
    t = b.tpch
    tab = t["table"]
    queries = sorted(tab)
    L.append("## 10. TPC-H-like queries\n")
    L.append("The 22 queries of TPC-H (bench/tpch_queries.sql) at scale factor %s over data made "
             "by bench/tpch_gen.sql, the same rows in each system: in-process DuckDB (defaults, "
             "threads = %d cores), TCP-DuckDB (its defaults, `--cache-memory 0`) through the C "
             "client library, PostgreSQL 15 (keys, foreign-key and date indexes, ANALYZE). "
             "Milliseconds, the least of %d timed runs (in process and server: %d rounds, "
             "alternating), each after an untimed run. The server's answers equal the "
             "in-process answers (checked).\n" % (t["sf"], t["nproc"], t["reps"], t["rounds"]))
    have_pg = any(tab[q]["pg"]["best"] is not None or tab[q]["pg"]["timeout"] for q in queries)
    L.append("| query | rows | in process ms | server ms | server / in process | PostgreSQL ms |"
             " PostgreSQL / server |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for q in queries:
        c = tab[q]
        i, s, p = c["inproc"]["best"], c["server"]["best"], c["pg"]["best"]
        pg_txt = ("> %d s (timeout)" % t["pg_timeout"] if c["pg"]["timeout"] else
                  "%.1f" % p if p is not None else "-")
        L.append("| Q%d | %d | %.1f | %.1f | %.2f | %s | %s |" % (
            q, c["inproc"]["rows"], i, s, i / s, pg_txt,
            "%.1f" % (p / s) if p is not None else "-"))
    gi = geomean([tab[q]["inproc"]["best"] for q in queries])
    gs = geomean([tab[q]["server"]["best"] for q in queries])
    L.append("| **geomean** | | **%.1f** | **%.1f** | **%.2f** | %s | %s |" % (
        gi, gs, gi / gs, "", ""))
    if have_pg:
        pgs = [tab[q]["pg"]["best"] if not tab[q]["pg"]["timeout"] else t["pg_timeout"] * 1000.0
               for q in queries]
        gp = geomean(pgs)
        timeouts = sum(1 for q in queries if tab[q]["pg"]["timeout"])
        L.append("")
        L.append("Geometric means: in process %.1f ms, server %.1f ms (server speed / in-process "
                 "speed %.2f; target 0.9), PostgreSQL %.1f ms%s (PostgreSQL / server %.1f; "
                 "target 10)." % (gi, gs, gi / gs, gp,
                                  " counting %d timeouts as %d s" % (timeouts, t["pg_timeout"])
                                  if timeouts else "", gp / gs))
    L.append("")
    for name, cmd in t["commands"].items():
        L.append("- %s: `%s`" % (name, cmd))
    L.append("")


def check(sf, server_bin, build, keep=False):
    """--check: generator and queries on a fresh server and in process; answers compared."""
    import subprocess
    import tempfile
    sys.path.insert(0, HERE)
    import run as R
    cleanup = R.Cleanup()
    tmp = tempfile.mkdtemp(prefix="tcpduckdb-tpch-")
    try:
        tr = tpch_run_bin(build)
        srv = R.TdbServer(cleanup, tmp, "tdb", args=["--cache-memory", "0"],
                          binary=server_bin).start()
        a = srv.admin()
        a.req("create database tpch", ok="success")
        a.close()
        d_in, d_srv = os.path.join(tmp, "in"), os.path.join(tmp, "srv")
        os.makedirs(d_in)
        os.makedirs(d_srv)
        for cmd in ([tr, "duckdb", os.path.join(tmp, "in.duckdb"), "0", "--script", GEN_SQL,
                     "--sf", sf, "--queries", QUERIES_SQL, "--reps", "0", "--dump", d_in],
                    [tr, "tdb", conninfo(srv.port), "--script", GEN_SQL, "--sf", sf,
                     "--queries", QUERIES_SQL, "--reps", "0", "--dump", d_srv]):
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise TpchError("%s failed:\n%s" % (shlex.join(cmd), p.stderr[-3000:]))
        diffs = compare_dumps(d_in, d_srv, range(1, 23))
        if diffs:
            raise TpchError("answers differ:\n" + "\n".join(diffs))
        print("tpch --check: SF %s, 22 queries, the server's answers equal in-process DuckDB's"
              % sf)
    finally:
        cleanup.run()
        if not keep:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="bench/tpch.py --check")
    ap.add_argument("--check", action="store_true", required=True)
    ap.add_argument("--sf", default="0.01")
    root = os.path.dirname(HERE)
    ap.add_argument("--server", default=os.path.join(root, "build", "tcp-duckdb"))
    args = ap.parse_args()
    try:
        check(args.sf, args.server, os.path.join(root, "build"))
    except TpchError as e:
        print("tpch --check: FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
