"""The shell's \\copy (files of the client's machine, through the user's grants, atomic) and \\e
(the statement in $VISUAL/$EDITOR; in a real terminal with vi through tmux).

The shell binary is $TCPDUCKDB_CLI, default build/asan/tcp-duckdb-cli.
"""
import os
import shutil
import stat

import pytest

from test_shell import CLI, Tmux, cli_env, run


@pytest.fixture
def db(server, tmp_path):
    rc, out, err = run(server, tmp_path, "-c", "create database cp", "-c", "connect cp", "-c",
                       "CREATE TABLE t (i INTEGER, s VARCHAR, d DATE);")
    assert rc == 0, err
    return server


def sql(server, tmp_path, query, **kw):
    rc, out, err = run(server, tmp_path, "-A", "-t", "-c", query, db="cp", **kw)
    assert rc == 0, err
    return out


CSV_IN = ('i,s,d\n'
          '1,hello,2024-01-02\n'
          '2,"a,b ""q""",\n'
          '3,"",2025-05-05\n'
          '4,"two\nlines",2020-01-01\n'
          '5,Ünïcødé 名前 🦆,\n')


def test_csv_from_and_to_round_trip(db, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(CSV_IN, encoding="utf-8")
    rc, out, err = run(db, tmp_path, "-c", "\\copy t FROM '%s' CSV HEADER;" % src, db="cp")
    assert rc == 0, err
    assert out == "COPY 5\n"
    # An unquoted empty value is NULL, a quoted one the empty string (psql's CSV rule).
    assert sql(db, tmp_path, "SELECT i, s IS NULL, d IS NULL, length(s) FROM t ORDER BY i") == (
        "1|false|false|5\n2|false|true|7\n3|false|false|0\n4|false|false|9\n5|false|true|12\n")
    dst = tmp_path / "out.csv"
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy (SELECT * FROM t ORDER BY i) TO '%s' WITH (FORMAT csv, HEADER)" % dst,
                       db="cp")
    assert rc == 0, err
    assert out == "COPY 5\n"
    assert dst.read_text(encoding="utf-8") == CSV_IN
    # The file written loads back into an equal table.
    rc, out, err = run(db, tmp_path, "-c", "CREATE TABLE u AS SELECT * FROM t LIMIT 0", "-c",
                       "\\copy u FROM '%s' (FORMAT csv, HEADER true)" % dst, db="cp")
    assert rc == 0, err
    assert sql(db, tmp_path, "SELECT count(*) FROM (SELECT * FROM t EXCEPT SELECT * FROM u)") == "0\n"
    assert sql(db, tmp_path, "SELECT count(*) FROM u") == "5\n"


def test_text_format_columns_delimiter_and_null(db, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("1\ttab\\there\n2\t\\N\n3\tback\\\\slash\\nnewline\n", encoding="utf-8")
    rc, out, err = run(db, tmp_path, "-c", "\\copy t (i, s) FROM '%s'" % src, db="cp")
    assert rc == 0, err
    assert sql(db, tmp_path, "SELECT i, s IS NULL, s, d IS NULL FROM t ORDER BY i") == (
        "1|false|tab\there|true\n2|true|NULL|true\n"
        "3|false|back\\slash\nnewline|true\n")
    dst = tmp_path / "out.txt"
    rc, out, err = run(db, tmp_path, "-c", "\\copy t (i, s) TO '%s'" % dst, db="cp")
    assert rc == 0, err
    assert sorted(dst.read_text().splitlines(True)) == sorted(src.read_text().splitlines(True))
    # DELIMITER and NULL, in both option styles.
    semi = tmp_path / "semi.csv"
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy (SELECT i, s FROM t WHERE i < 3 ORDER BY i) TO '%s' "
                       "CSV DELIMITER AS ';' NULL AS 'none'" % semi, db="cp")
    assert rc == 0, err
    assert semi.read_text() == "1;tab\there\n2;none\n"
    rc, out, err = run(db, tmp_path, "-c", "DELETE FROM t", "-c",
                       "\\copy t (i, s) FROM '%s' (FORMAT csv, DELIMITER ';', NULL 'none')" % semi,
                       db="cp")
    assert rc == 0, err
    assert sql(db, tmp_path, "SELECT i, s IS NULL FROM t ORDER BY i") == "1|false\n2|true\n"


def test_from_stdin_in_a_script_and_with_c(db, tmp_path):
    script = "\\copy t (i, s) FROM stdin\n7\tseven\n8\t\\N\n\\.\nSELECT count(*) FROM t;\n"
    rc, out, err = run(db, tmp_path, "-A", "-t", db="cp", stdin=script)
    assert rc == 0, err
    assert out == "COPY 2\n2\n"
    # With -c, stdin is the shell's standard input (psql's rule); pstdin always is.
    rc, out, err = run(db, tmp_path, "-c", "\\copy t (i, s) FROM stdin CSV", db="cp",
                       stdin="9,nine\n")
    assert rc == 0 and out == "COPY 1\n", err
    rc, out, err = run(db, tmp_path, "-c", "\\copy t (i) FROM pstdin", db="cp", stdin="10\n")
    assert rc == 0 and out == "COPY 1\n", err
    rc, out, err = run(db, tmp_path, "-c", "\\copy (SELECT i FROM t ORDER BY i) TO stdout CSV",
                       db="cp")
    assert rc == 0, err
    assert out == "7\n8\n9\n10\nCOPY 4\n"


def test_from_is_atomic_across_batches(db, tmp_path):
    """Thousands of rows go in several INSERT batches; a bad row at the end leaves the table as
    it was, and the error names the problem."""
    src = tmp_path / "big.csv"
    with open(src, "w") as f:
        for i in range(5000):
            f.write("%d,row %d,2024-01-01\n" % (i, i))
        f.write("x,bad,2024-01-01\n")
    rc, out, err = run(db, tmp_path, "-c", "\\copy t FROM '%s' CSV" % src, db="cp")
    assert rc == 1
    assert "Conversion Error" in err and "'x'" in err, err
    assert sql(db, tmp_path, "SELECT count(*) FROM t") == "0\n"
    # A row with a wrong number of values: the same, and the line is named.
    lines = ["%d,row %d,2024-01-01\n" % (i, i) for i in range(3000)] + ["1,2\n"]
    src.write_text("".join(lines))
    rc, out, err = run(db, tmp_path, "-c", "\\copy t FROM '%s' CSV" % src, db="cp")
    assert rc == 1 and "line 3001: 2 values where the first row has 3" in err, err
    assert sql(db, tmp_path, "SELECT count(*) FROM t") == "0\n"
    # Without the bad rows, all of them.
    src.write_text("".join(lines[:-1]))
    rc, out, err = run(db, tmp_path, "-c", "\\copy t FROM '%s' CSV" % src, db="cp")
    assert rc == 0 and out == "COPY 3000\n", err
    assert sql(db, tmp_path, "SELECT count(*), sum(i) FROM t") == "3000|%d\n" % sum(range(3000))


def test_from_inside_an_open_transaction_uses_it(db, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("1,a,\n2,b,\n")
    rc, out, err = run(db, tmp_path, "-c", "begin", "-c", "\\copy t FROM '%s' CSV" % src,
                       "-c", "SELECT count(*) FROM t", "-c", "rollback", "-A", "-t", db="cp")
    assert rc == 0, err
    assert "COPY 2\n2\n" in out
    assert sql(db, tmp_path, "SELECT count(*) FROM t") == "0\n"


def test_to_is_atomic(db, tmp_path):
    """A result that fails after many rows leaves the file as it was and no temporary file."""
    dst = tmp_path / "keep" / "out.csv"
    dst.parent.mkdir()
    dst.write_text("old\n")
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy (SELECT CASE WHEN i < 200000 THEN i ELSE error('boom') END "
                       "FROM range(300000) r(i)) TO '%s' CSV" % dst, db="cp")
    assert rc == 1 and "boom" in err, err
    assert dst.read_text() == "old\n"
    assert os.listdir(dst.parent) == ["out.csv"]
    # A directory that cannot be written: a clear error, nothing sent.
    rc, out, err = run(db, tmp_path, "-c", "\\copy t TO '/nonexistent/dir/x.csv'", db="cp")
    assert rc == 1 and "\\copy: /nonexistent/dir/x.csv: No such file or directory" in err, err
    # A new file gets the mode of a file the user creates (umask), not mkstemp's 0600.
    new = tmp_path / "new.csv"
    rc, out, err = run(db, tmp_path, "-c", "\\copy t TO '%s'" % new, db="cp")
    assert rc == 0, err
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o666 & ~mask


def test_grants_apply(db, tmp_path):
    """A user with only INSERT on the table loads it (no SELECT needed) but cannot export it; a
    user without INSERT cannot load it."""
    rc, out, err = run(db, tmp_path, "-c", "create user ina pw", "-c", "create user reader pw",
                       "-c", "grant database cp ina write", "-c", "grant database cp reader read",
                       "-c", "grant table cp t ina insert", "-c", "grant table cp t reader select")
    assert rc == 0, err
    src = tmp_path / "in.csv"
    src.write_text("1,a,\n2,b,\n")
    rc, out, err = run(db, tmp_path, "-c", "\\copy t FROM '%s' CSV" % src, db="cp", user="ina",
                       password="pw")
    assert rc == 0 and out == "COPY 2\n", err
    rc, out, err = run(db, tmp_path, "-c", "\\copy t TO '%s'" % (tmp_path / "x.csv"), db="cp",
                       user="ina", password="pw")
    assert rc == 1 and 'Access Denied: User "ina"' in err, err
    assert not (tmp_path / "x.csv").exists()
    assert [p for p in os.listdir(tmp_path) if p.startswith("x.csv")] == []
    rc, out, err = run(db, tmp_path, "-c", "\\copy t FROM '%s' CSV" % src, db="cp",
                       user="reader", password="pw")
    assert rc == 1 and 'Access Denied: User "reader"' in err, err
    rc, out, err = run(db, tmp_path, "-c", "\\copy t TO stdout CSV", db="cp", user="reader",
                       password="pw")
    assert rc == 0, err
    assert sorted(out.splitlines()) == ["1,a,", "2,b,", "COPY 2"]
    assert sql(db, tmp_path, "SELECT count(*) FROM t") == "2\n"


def test_from_and_to_program(db, tmp_path):
    """PROGRAM runs the command on the client's machine through /bin/sh, as psql: TO writes the
    result to its input (here gzip), FROM reads its output back (gunzip)."""
    import gzip
    gz = tmp_path / "in.csv.gz"
    with gzip.open(gz, "wb") as f:
        f.write(CSV_IN.encode("utf-8"))
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy t FROM PROGRAM 'gzip -dc %s' CSV HEADER" % gz, db="cp")
    assert rc == 0, err
    assert out == "COPY 5\n"
    assert sql(db, tmp_path, "SELECT count(*), sum(i) FROM t") == "5|15\n"
    dst = tmp_path / "out.csv.gz"
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy (SELECT * FROM t ORDER BY i) TO PROGRAM 'gzip > \"%s\"' "
                       "(FORMAT csv, HEADER)" % dst, db="cp")
    assert rc == 0, err
    assert out == "COPY 5\n"
    with gzip.open(dst, "rb") as f:
        assert f.read().decode("utf-8") == CSV_IN
    # A quote inside the command is doubled, as in SQL; the program's output comes before the
    # shell's own "COPY" line.
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy (SELECT i FROM t WHERE i < 3 ORDER BY i) TO PROGRAM "
                       "'sed ''s/^/n=/'''", db="cp")
    assert rc == 0, err
    assert out == "n=1\nn=2\nCOPY 2\n"


def test_program_failures_are_reported_and_atomic(db, tmp_path):
    """A program that exits with a status other than 0 fails the \\copy with its exit code
    (psql's rule); FROM then commits nothing of what it read; a program that stops reading
    early fails TO without killing the shell (SIGPIPE)."""
    src = tmp_path / "in.csv"
    src.write_text("".join("%d,r%d,\n" % (i, i) for i in range(3000)))
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy t FROM PROGRAM 'cat %s; exit 3' CSV" % src, db="cp")
    assert rc == 1, err
    assert 'program "cat %s; exit 3" failed: exit code 3' % src in err, err
    assert sql(db, tmp_path, "SELECT count(*) FROM t") == "0\n"
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy t FROM PROGRAM 'no-such-command-here' CSV", db="cp")
    assert rc == 1 and 'program "no-such-command-here" failed: exit code 127' in err, err
    rc, out, err = run(db, tmp_path, "-c", "\\copy t FROM PROGRAM 'kill -9 $$' CSV", db="cp")
    assert rc == 1 and 'program "kill -9 $$" failed: terminated by signal 9' in err, err
    assert sql(db, tmp_path, "SELECT count(*) FROM t") == "0\n"
    # TO: the whole result was written, but the program failed.
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy (SELECT 1) TO PROGRAM 'cat > /dev/null; exit 4'", db="cp")
    assert rc == 1 and 'program "cat > /dev/null; exit 4" failed: exit code 4' in err, err
    assert "COPY" not in out
    # TO a program that reads one line and exits: the shell gets a broken pipe, reports it and
    # goes on (the next command runs).
    first = tmp_path / "first.txt"
    rc, out, err = run(db, tmp_path, "-c",
                       "\\copy (SELECT i FROM range(300000) r(i)) TO PROGRAM 'head -n 1 > %s'"
                       % first, "-c", "SELECT 42 AS x", "-A", "-t", db="cp")
    assert rc == 1, (rc, err)
    assert "Broken pipe" in err, err
    assert out == "42\n"
    assert first.read_text() == "0\n"


@pytest.mark.parametrize("args,message", [
    ("t FROM PROGRAM", "PROGRAM needs a command"),
    ("t FROM PROGRAM ''", "an empty command"),
    ("t FROM '/nonexistent.csv'", "/nonexistent.csv: No such file or directory"),
    ("(SELECT 1) FROM 'x'", "can only go TO a file"),
    ("t FROM 'x' (FORMAT binary)", "FORMAT binary is not supported"),
    ("t FROM 'x' (DELIMITER 'ab')", "DELIMITER must be one character"),
    ("t", "usage: \\copy"),
    ("t TO stdin", "usage: \\copy"),
    ("t FROM 'x' CSV bogus", "unknown option bogus"),
])
def test_usage_errors(db, tmp_path, args, message):
    rc, out, err = run(db, tmp_path, "-c", "\\copy " + args, db="cp")
    assert rc == 1 and message in err, err
    assert out == ""


def test_edit_with_editor_variable(db, tmp_path):
    """\\e writes the statement to a private temporary file, runs $EDITOR (or $VISUAL, which wins)
    on it, and feeds back what was saved: with a ';' it runs, without it stays collected."""
    editor = tmp_path / "ed.sh"
    log = tmp_path / "ed.log"
    editor.write_text("#!/bin/sh\nls -l \"$1\" > %s\nsed -i 's/40/41/' \"$1\"\n" % log)
    editor.chmod(0o755)
    script = "SELECT 40 + 1 AS x\n\\e\n\\p\n\\r\nSELECT 40 AS y;\n\\e\n"
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    rc, out, err = run(db, tmp_path, "-A", "-t", db="cp", stdin=script,
                       env={"EDITOR": str(editor), "VISUAL": "", "TMPDIR": str(tmp)})
    assert rc == 0, err
    # The unfinished statement came back edited and stayed collected (\p shows it); the last
    # statement run came back as "SELECT 41 AS y" without ';', collected, run at the end.
    assert out == "SELECT 41 + 1 AS x\n40\n41\n", out
    assert log.read_text().startswith("-rw-------"), log.read_text()  # private
    assert os.listdir(tmp) == []  # and removed
    # An editor that fails leaves the statement as it was.
    rc, out, err = run(db, tmp_path, "-A", "-t", db="cp", stdin="SELECT 5 AS z\n\\e\n\\p\n",
                       env={"VISUAL": "false", "TMPDIR": str(tmp)})
    assert rc == 1 and "the editor \"false\" exited with status 1" in err, err
    assert out == "SELECT 5 AS z\n5\n", out
    assert os.listdir(tmp) == []


@pytest.mark.skipif(shutil.which("vi") is None, reason="no vi on this machine")
def test_edit_in_vi_in_a_terminal(db, tmp_path):
    """In a real terminal (tmux): \\e opens vi on the statement typed so far; the edit saved
    with :wq ends in ';', so it runs at once."""
    env = cli_env(tmp_path, extra={"TERM": "xterm", "LANG": "C.UTF-8", "EDITOR": "vi"})
    env = {k: v for k, v in env.items() if k in ("HOME", "PATH", "TERM", "LANG", "ASAN_OPTIONS",
                                                   "UBSAN_OPTIONS", "TCPDUCKDB_PASSWORD",
                                                   "EDITOR")}
    t = Tmux([CLI, "-h", "127.0.0.1", "-p", str(db.port), "-U", "duck", "-d", "cp"], env,
             tmp_path)
    try:
        t.expect(lambda s: "cp=>" in s, "the prompt")
        t.keys("SELECT 40 + 1 AS answer", "Enter")
        t.expect(lambda s: "cp->" in s, "the continuation prompt")
        t.keys("\\e", "Enter")
        t.expect(lambda s: "SELECT 40 + 1 AS answer" in s and "cp->" not in s.split("\\e")[-1],
                 "vi showing the statement")
        t.keys(":s/40/41/", "Enter")
        t.keys("A;", "Escape")
        t.keys(":wq", "Enter")
        s = t.expect(lambda s: "(1 row)" in s, "the edited statement's result")
        assert " 42" in s, s
        t.expect(lambda s: s.rstrip().endswith("cp=>"), "the prompt again")
        t.keys("\\q", "Enter")
        s = t.expect(lambda s: "EXITED" in s, "exit")
        assert "EXITED 0" in s
    finally:
        t.close()
