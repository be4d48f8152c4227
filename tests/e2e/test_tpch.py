"""The TPC-H-like bench's generator and queries (bench/tpch_gen.sql, bench/tpch_queries.sql) at
a tiny scale factor: every query runs through the server and gives the answers in-process
DuckDB gives on the same generated data. No timing here (that is `make bench-tpch`)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import tpch  # noqa: E402

TPCH_RUN = os.environ.get("TPCH_RUN", os.path.join(ROOT, "build", "bench", "tpch_run"))
SF = "0.01"


def tpch_run(args, timeout=300):
    p = subprocess.run([TPCH_RUN] + args, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, "tpch_run %s failed:\n%s" % (args[:2], p.stderr[-5000:])
    return tpch.parse_lines(p.stdout)


def test_tpch_answers_equal_in_process(make_server, tmp_path):
    srv = make_server(args=["--cache-memory", "0"])
    a = srv.admin()
    assert a.req("create database tpch") == "success"
    d_in, d_srv = tmp_path / "in", tmp_path / "srv"
    d_in.mkdir()
    d_srv.mkdir()
    common = ["--script", tpch.GEN_SQL, "--sf", SF, "--queries", tpch.QUERIES_SQL, "--reps", "0"]
    got_in = tpch_run(["duckdb", str(tmp_path / "in.duckdb"), "0"] + common + ["--dump", str(d_in)])
    got_srv = tpch_run(["tdb", tpch.conninfo(srv.port)] + common + ["--dump", str(d_srv)])
    assert sorted(got_in) == list(range(1, 23))
    assert sorted(got_srv) == list(range(1, 23))
    # The data is not degenerate: most queries have answers (Q11 and Q20 may be empty at SF 0.01).
    assert sum(1 for q in got_in.values() if q["rows"] > 0) >= 19
    assert tpch.compare_dumps(str(d_in), str(d_srv), range(1, 23)) == []
    # The server holds the generated tables with TPC-H's row counts for SF 0.01.
    assert a.req("connect tpch") == "success"
    assert a.req("SELECT count(*) FROM orders") == '[{"count_star()":15000}]'
    assert a.req("SELECT count(*) FROM partsupp") == '[{"count_star()":8000}]'


def test_compare_dumps_sees_a_difference(tmp_path):
    """The comparison the bench and the test rely on reports a changed cell and a missing row."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "q1.tsv").write_text("x\t1.5\ny\t2\n")
    (b / "q1.tsv").write_text("x\t1.5000000000001\ny\t3\n")
    (a / "q2.tsv").write_text("x\n")
    (b / "q2.tsv").write_text("")
    diffs = tpch.compare_dumps(str(a), str(b), [1, 2])
    assert len(diffs) == 2 and diffs[0].startswith("Q1 row 2") and diffs[1].startswith("Q2: 1 rows")
