"""The shell tcp-duckdb-cli: -c, -f, stdin, output modes, exit codes, and the interactive mode
driven through a pseudo-terminal.

The shell binary is $TCPDUCKDB_CLI, default build/asan/tcp-duckdb-cli. A test fails if the shell
printed a sanitizer report.
"""
import json
import os
import pty
import re
import select
import shlex
import signal
import subprocess
import time

import pytest

from conftest import ROOT, SANITIZER_MARKS

CLI = os.environ.get("TCPDUCKDB_CLI", os.path.join(ROOT, "build", "asan", "tcp-duckdb-cli"))


def cli_env(tmp_path, password="duck", extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCPDUCKDB_")}
    env["HOME"] = str(tmp_path)
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1:halt_on_error=1")
    if password is not None:
        env["TCPDUCKDB_PASSWORD"] = password
    env.update(extra or {})
    return env


def check_clean(stderr):
    for mark in SANITIZER_MARKS:
        assert mark not in stderr, stderr


def run(server, tmp_path, *args, user="duck", db=None, stdin=None, password="duck", env=None):
    cmd = [CLI, "-h", "127.0.0.1", "-p", str(server.port)]
    if user:
        cmd += ["-U", user]
    if db:
        cmd += ["-d", db]
    p = subprocess.run(cmd + list(args), input=(stdin or "").encode(), capture_output=True,
                       env=cli_env(tmp_path, password, env), timeout=120)
    out, err = p.stdout.decode(), p.stderr.decode()
    check_clean(err)
    return p.returncode, out, err


@pytest.fixture
def shop(server, tmp_path):
    rc, out, err = run(server, tmp_path, "-c", "create database shop", "-c", "connect shop", "-c",
                       "CREATE TABLE users (id INTEGER, name VARCHAR); "
                       "INSERT INTO users VALUES (1, 'John'), (2, 'Jané'), (3, NULL);")
    assert rc == 0, err
    return server


def test_command_and_table_output(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-c", "SELECT * FROM users ORDER BY id", db="shop")
    assert rc == 0, err
    assert out == (" id | name\n"
                   "----+------\n"
                   "  1 | John\n"
                   "  2 | Jané\n"
                   "  3 | NULL\n"
                   "(3 rows)\n")
    rc, out, _ = run(shop, tmp_path, "-c", "SELECT 1 AS x WHERE false", db="shop")
    assert out.endswith("(0 rows)\n")


def test_server_commands_need_no_semicolon(server, tmp_path):
    rc, out, err = run(server, tmp_path, "-c", "create database a1\ncreate user bob pw\n"
                       "grant database a1 bob write\nlist databases")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[:3] == ["success"] * 3
    assert json.loads(lines[3]) == [{"name": "a1", "access": None}]
    # The PostgreSQL commands too: a line each, not joined to the next as SQL would be.
    for cmd in ("migrate", "unlink"):
        rc, out, err = run(server, tmp_path, "-c", "%s a1\nlist users" % cmd)
        assert rc != 0 and "Error: Bad Request: database a1 is not linked to PostgreSQL" in err, err


@pytest.mark.parametrize("mode,expected", [
    ("--csv", 'id,name,tags\n1,John,"[1,2]"\n3,,"[1,2]"\n'),
    ("--json", '[{"id":1,"name":"John","tags":[1,2]},\n{"id":3,"name":null,"tags":[1,2]}]\n'),
    ("--line", "  id = 1\nname = John\ntags = [1,2]\n\n  id = 3\nname = NULL\ntags = [1,2]\n"),
    ("--table", " id | name | tags\n----+------+-------\n  1 | John | [1,2]\n  3 | NULL | [1,2]\n"
                "(2 rows)\n"),
])
def test_output_modes(shop, tmp_path, mode, expected):
    rc, out, err = run(shop, tmp_path, mode, "-c",
                       "SELECT *, [1, 2] AS tags FROM users WHERE id <> 2 ORDER BY id", db="shop")
    assert rc == 0, err
    assert out == expected


def test_csv_quoting_and_json_escapes(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "--csv", "-c",
                       "SELECT 'a,\"b\"' AS \"x,y\", E'l1\\nl2' AS n", db="shop")
    assert rc == 0, err
    assert out == '"x,y",n\n"a,""b""","l1\nl2"\n'
    rc, out, err = run(shop, tmp_path, "--json", "-c", "SELECT 'q\"\\' AS s", db="shop")
    assert json.loads(out) == [{"s": 'q"\\'}]


def test_file_and_multiline_statements(shop, tmp_path):
    script = tmp_path / "s.sql"
    script.write_text("-- a comment; not a statement end\n"
                      "begin;\n"
                      "INSERT INTO users\n  VALUES (4, 'semi;colon'), (5, $$dollar;quoted$$);\n"
                      "commit\n"
                      "SELECT name\n  FROM users\n  WHERE id >= 4\n  ORDER BY id;\n"
                      "SELECT count(*) AS n FROM users  /* trailing; comment */\n")
    rc, out, err = run(shop, tmp_path, "--csv", "-f", str(script), db="shop")
    assert rc == 0, err
    assert out == "name\nsemi;colon\ndollar;quoted\nn\n5\n"


def test_stdin_script(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "--csv", db="shop",
                       stdin="SELECT 1 AS a;\nSELECT 2 AS b; SELECT 3 AS c;\n")
    assert rc == 0, err
    assert out == "a\n1\nb\n2\nc\n3\n"


def test_errors_exit_nonzero_and_continue_unless_on_error_stop(shop, tmp_path):
    script = "SELECT 1 AS a;\nSELECT * FROM nope;\nSELECT 2 AS b;\n"
    # As psql: a script goes on after an error; the exit status says one failed.
    rc, out, err = run(shop, tmp_path, "--csv", db="shop", stdin=script)
    assert rc == 1
    assert out == "a\n1\nb\n2\n"
    assert "Catalog Error" in err
    # ON_ERROR_STOP=1: it stops there, with psql's status 3.
    rc, out, err = run(shop, tmp_path, "--csv", "-v", "ON_ERROR_STOP=1", db="shop", stdin=script)
    assert rc == 3
    assert out == "a\n1\n"
    assert "Catalog Error" in err
    # \set in the script does the same.
    rc, out, err = run(shop, tmp_path, "--csv", db="shop",
                       stdin="\\set ON_ERROR_STOP on\n" + script)
    assert rc == 3 and out == "a\n1\n"
    rc, _, err = run(shop, tmp_path, "-c", "create database shop")
    assert rc == 1 and "Error: Database shop Already Exists" in err
    rc, _, err = run(shop, tmp_path, "-c", "SELECT 1", db="nosuch")
    assert rc == 2 and "nosuch" in err
    rc, _, err = run(shop, tmp_path, "-c", "SELECT 1", password="wrong")
    assert rc == 2 and "Unauthorized" in err
    rc, _, err = run(shop, tmp_path, "-f", str(tmp_path / "missing.sql"))
    assert rc == 2
    # An error in the middle of a streamed result.
    rc, out, err = run(shop, tmp_path, "--csv", "-c",
                       "SELECT CASE WHEN i < 300000 THEN i ELSE error('boom') END AS v "
                       "FROM range(400000) t(i)", db="shop")
    assert rc == 1 and "Error: " in err
    assert out.startswith("v\n0\n1\n")


def test_connection_refused(tmp_path):
    p = subprocess.run([CLI, "-p", "1", "-c", "SELECT 1"], capture_output=True,
                       env=cli_env(tmp_path), timeout=60)
    assert p.returncode == 2
    assert b"cannot connect" in p.stderr


def test_password_from_env_never_a_flag(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-c", "list users", password="duck")
    assert rc == 0 and json.loads(out)[0]["name"] == "duck"
    # Without the variable and without a terminal there is no way to get a password.
    p = subprocess.run([CLI, "-p", str(shop.port), "-U", "duck", "-c", "list users"],
                       capture_output=True, env=cli_env(tmp_path, password=None), timeout=60,
                       start_new_session=True)
    assert p.returncode == 2
    assert b"TCPDUCKDB_PASSWORD" in p.stderr


def test_timing_and_mode_backslash_commands(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, db="shop",
                       stdin="\\timing\n\\mode csv\nSELECT 7 AS x;\n\\c shop\n\\?\n")
    assert rc == 0, err
    assert "Timing is on." in out
    assert "x\n7\nTime: " in out
    assert "list grants" in out  # the help lists the server commands


class Pty:
    """The shell on a pseudo-terminal, as a person would use it."""

    def __init__(self, args, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(args[0], args, env)
        self.out = b""

    def send(self, text):
        os.write(self.fd, text.encode())

    def expect(self, text, timeout=30, since=0):
        """Waits for text in the output (from byte `since` on); returns all the output."""
        deadline = time.time() + timeout
        while text.encode() not in self.out[since:]:
            left = deadline - time.time()
            assert left > 0, "timed out waiting for %r in %r" % (text, self.out[-2000:])
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                assert chunk, "the shell exited; output %r" % self.out[-2000:]
                self.out += chunk
        return self.out.decode("utf-8", "replace")

    def wait(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    self.out += os.read(self.fd, 65536)
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        raise AssertionError("the shell did not exit: %r" % self.out[-2000:])


def test_interactive_multiline_and_history(shop, tmp_path):
    env = cli_env(tmp_path, password=None, extra={"TERM": "dumb"})
    sh = Pty([CLI, "-h", "127.0.0.1", "-p", str(shop.port), "-U", "duck"], env)
    sh.expect("Password for user duck: ")
    sh.send("duck\n")
    sh.expect("tcpduckdb=> ")
    sh.send("connect shop\n")  # a server command: no ';' needed
    sh.expect("shop=> ")
    sh.send("SELECT id,\n")
    sh.expect("shop-> ")
    sh.send("  name FROM users\n")
    sh.send("  WHERE id = 1;\n")
    out = sh.expect("(1 row)")
    assert " id | name\n" in out.replace("\r\n", "\n")
    assert "  1 | John\n" in out.replace("\r\n", "\n")
    assert "duck\n" not in out.split("Password for user duck: ")[1][:10]  # not echoed
    sh.send("SELECT * FROM nope;\n")
    sh.expect("Catalog Error")
    sh.expect("shop=> ")
    sh.send("\\q\n")
    assert sh.wait() == 0
    check_clean(sh.out.decode("utf-8", "replace"))
    # libedit writes its history with vis(3) escapes (\040 for a space).
    entries = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line)
               for line in (tmp_path / ".tcpduckdb_history").read_text().splitlines()]
    assert "connect shop" in entries
    # The statement typed over three lines is one entry, with its line breaks.
    assert "SELECT id,\n  name FROM users\n  WHERE id = 1;" in entries, entries
    assert not [e for e in entries if e.startswith("  name FROM")], entries


def test_interactive_utf8_input_round_trips(shop, tmp_path):
    """Issue 21: with a UTF-8 locale, typed non-ASCII text reaches the server byte for byte
    (libedit in the C locale dropped every byte above 127)."""
    text = "Ünïcødé 名前 🦆"
    env = cli_env(tmp_path, extra={"TERM": "dumb", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    sh = Pty([CLI, "-h", "127.0.0.1", "-p", str(shop.port), "-U", "duck", "-d", "shop"], env)
    sh.expect("shop=> ")
    sh.send("CREATE TABLE typed AS SELECT '%s' AS s;\n" % text)
    sh.expect("shop=> ", since=len(sh.out))
    sh.send("\\q\n")
    assert sh.wait() == 0
    with shop.admin() as a:
        assert a.req("connect shop") == "success"
        got = json.loads(a.req("SELECT s, strlen(s) AS n FROM typed"))
    assert got == [{"s": text, "n": len(text.encode())}]


# ---- Ctrl-C (issue 21: psql's behaviour) ----------------------------------------------------

LONG = "SELECT count(*) FROM range(10000000000);"
CANCELED = "Canceled: canceling statement due to user request"


def interactive(server, tmp_path, db="shop"):
    env = cli_env(tmp_path, extra={"TERM": "dumb"})
    sh = Pty([CLI, "-h", "127.0.0.1", "-p", str(server.port), "-U", "duck", "-d", db], env)
    sh.expect("%s=> " % db)
    return sh


def test_ctrl_c_cancels_the_running_query_and_keeps_the_shell(shop, tmp_path):
    sh = interactive(shop, tmp_path)
    for _ in range(2):
        mark = len(sh.out)
        sh.send(LONG + "\n")
        time.sleep(1.5)  # the query has started (a cancel before it would rightly do nothing)
        sh.send("\x03")
        sh.expect(CANCELED, timeout=30, since=mark)
        sh.expect("shop=> ", since=mark)
        assert sh.out[mark:].count(CANCELED.encode()) == 1
    sh.send("SELECT 42 AS x;\n")
    sh.expect("(1 row)")
    sh.expect("shop=> ", since=len(sh.out) - 7)
    # The cancel thread says so, in its own time (before or after the error line).
    sh.expect("Cancel request sent")
    first = sh.out.find(b"Cancel request sent")
    sh.expect("Cancel request sent", since=first + 1)
    sh.send("\\q\n")
    assert sh.wait() == 0
    check_clean(sh.out.decode("utf-8", "replace"))


def test_ctrl_c_at_the_prompt_clears_the_line_and_the_statement(shop, tmp_path):
    sh = interactive(shop, tmp_path)
    sh.send("SELECT 1 AS a,\n")
    sh.expect("shop-> ")
    sh.send("2 AS b")  # typed, not sent
    time.sleep(0.3)
    mark = len(sh.out)
    sh.send("\x03")
    sh.expect("shop=> ", since=mark)  # a fresh statement, not a continuation
    time.sleep(0.3)
    mark2 = len(sh.out)
    sh.send("\x03")  # twice: still there
    sh.expect("shop=> ", since=mark2)
    sh.send("SELECT 5 AS y;\n")
    out = sh.expect("(1 row)", since=mark)[mark:]
    assert "Error" not in out, out
    assert " y\n" in out.replace("\r\n", "\n")
    sh.send("\\q\n")
    assert sh.wait() == 0
    check_clean(sh.out.decode("utf-8", "replace"))


def test_sigint_cancels_the_query_of_a_script(shop, tmp_path):
    cmd = [CLI, "-h", "127.0.0.1", "-p", str(shop.port), "-U", "duck", "-d", "shop",
           "-c", LONG, "-c", "SELECT 1"]
    p = subprocess.Popen(cmd, env=cli_env(tmp_path), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    err = err.decode()
    check_clean(err)
    # The query failed, so the script stopped there, as at any error.
    assert p.returncode == 1, (out, err)
    assert CANCELED in err


# ---- psql habits (issue 21) -----------------------------------------------------------------

def test_backslash_command_after_an_unfinished_statement_runs_at_once(shop, tmp_path):
    sh = interactive(shop, tmp_path)
    sh.send("SELECT 7 AS b\n")
    sh.expect("shop-> ")
    mark = len(sh.out)
    sh.send("\\p\n")  # the buffer, not appended to it
    sh.expect("SELECT 7 AS b", since=mark)
    sh.send("\\g\n")  # sends the statement collected so far
    out = sh.expect("(1 row)", since=mark)[mark:]
    assert "Error" not in out, out
    sh.expect("shop=> ", since=mark)
    sh.send("\\g\n")  # nothing collected: the last statement again
    sh.expect("(1 row)", since=len(sh.out))
    sh.send("SELECT 1 AS a,\n")
    sh.expect("shop-> ")
    sh.send("\\q\n")  # quits at once, as psql
    assert sh.wait() == 0
    check_clean(sh.out.decode("utf-8", "replace"))
    assert b"\\q" not in sh.out.split(b"SELECT 1 AS a,")[-1].replace(b"\\q\r\n", b"")


def test_default_user_is_the_login_name(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-c", "list users", user=None, env={"USER": "duck"})
    assert rc == 0, err
    assert "duck" in out
    rc, out, err = run(shop, tmp_path, "-c", "list users", user=None, env={"USER": "nobody_here"})
    assert rc == 2 and "Error" in err
    # -U "" connects without logging in.
    rc, out, err = run(shop, tmp_path, "-U", "", "-c", "login duck duck", user=None,
                       env={"USER": "nobody_here"})
    assert rc == 0 and out == "success\n", err


def test_database_from_the_environment(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-c", "SELECT count(*) AS n FROM users",
                       env={"TCPDUCKDB_DATABASE": "shop"})
    assert rc == 0, err
    assert "3" in out


def test_password_file(shop, tmp_path):
    pw = tmp_path / ".tcpduckdbpass"
    pw.write_text("# comment\nother:1:*:duck:wrong\n127.0.0.1:%d:*:duck:duck\n" % shop.port)
    pw.chmod(0o600)
    rc, out, err = run(shop, tmp_path, "-c", "list users", password=None)
    assert rc == 0, err
    assert "duck" in out
    # The database field must match -d; \: escapes a colon.
    pw.write_text("127.0.0.1:%d:shop:duck:duck\n" % shop.port)
    rc, out, err = run(shop, tmp_path, "-c", "SELECT 1 AS x", password=None, db="shop")
    assert rc == 0, err
    rc, out, err = run(shop, tmp_path, "-c", "list users", password=None)
    assert rc == 2 and "no password" in err
    # Readable by others: ignored, with psql's warning.
    pw.write_text("*:*:*:*:duck\n")
    pw.chmod(0o644)
    rc, out, err = run(shop, tmp_path, "-c", "list users", password=None)
    assert rc == 2
    assert "has group or world access" in err and "no password" in err
    # $TCPDUCKDB_PASSFILE names another file.
    other = tmp_path / "pass2"
    other.write_text("*:*:*:duck:duck\n")
    other.chmod(0o600)
    rc, out, err = run(shop, tmp_path, "-c", "list users", password=None,
                       env={"TCPDUCKDB_PASSFILE": str(other)})
    assert rc == 0, err


def test_expanded_tuples_only_unaligned_and_pset(shop, tmp_path):
    q = "SELECT * FROM users ORDER BY id"
    rc, out, err = run(shop, tmp_path, "-x", "-c", q + " LIMIT 2", db="shop")
    assert rc == 0, err
    assert out == ("-[ RECORD 1 ]+-----\n"
                   "id   | 1\n"
                   "name | John\n"
                   "-[ RECORD 2 ]+-----\n"
                   "id   | 2\n"
                   "name | Jané\n")
    rc, out, err = run(shop, tmp_path, "-t", "-A", "-F", ";", "-c", q, db="shop")
    assert rc == 0, err
    assert out == "1;John\n2;Jané\n3;NULL\n"
    rc, out, err = run(shop, tmp_path, "-A", "-c", q + " LIMIT 1", db="shop")
    assert out == "id|name\n1|John\n(1 row)\n"
    rc, out, err = run(shop, tmp_path, "-q", "-c", "\\pset border 2", "-c", "\\pset null (none)",
                       "-c", "SELECT * FROM users WHERE id = 3", db="shop")
    assert rc == 0, err
    assert out == ("+----+--------+\n"
                   "| id |  name  |\n"
                   "+----+--------+\n"
                   "|  3 | (none) |\n"
                   "+----+--------+\n"
                   "(1 row)\n")
    rc, out, err = run(shop, tmp_path, "-c", "\\pset format csv", "-c", "\\pset tuples_only on",
                       "-c", q, db="shop")
    assert out == "Output format is csv.\nTuples only is on.\n1,John\n2,Jané\n3,\n"
    rc, out, err = run(shop, tmp_path, "-c", "\\pset format nonsense", db="shop")
    assert rc == 1 and "allowed formats" in err
    # -q: no "success" for statements.
    rc, out, err = run(shop, tmp_path, "-q", "-c", "CREATE TEMP TABLE q1 (i INT)", db="shop")
    assert rc == 0 and out == "", (out, err)


def test_variables_are_interpolated(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-A", "-t", "-v", "n=2", "-v", "who=Jané",
                       "-v", "col=name", "-c",
                       "SELECT :n::INTEGER + 1, :'who', :\"col\", ':n' FROM users WHERE id = :n",
                       db="shop")
    assert rc == 0, err
    assert out == "3|Jané|Jané|:n\n"
    # \set joins its words; a quote in the value is escaped by :'var'; \unset forgets.
    rc, out, err = run(shop, tmp_path, "-A", "-t", db="shop", stdin=(
        "\\set v O'Brien\n"
        "SELECT :'v';\n"
        "\\set\n"
        "\\unset v\n"
        "\\echo :v\n"))
    assert rc == 0, err
    assert out == "O'Brien\nv = 'O'Brien'\n:v\n"


def test_output_file_include_and_echo(shop, tmp_path):
    inc = tmp_path / "inc.sql"
    inc.write_text("SELECT 40 + 2 AS answer;\n\\echo included\n")
    dest = tmp_path / "out.txt"
    rc, out, err = run(shop, tmp_path, "-A", db="shop", stdin=(
        "\\o %s\n"
        "SELECT 'to file' AS w;\n"
        "\\qecho also to file\n"
        "\\echo to the terminal\n"
        "\\o\n"
        "SELECT 'back' AS w;\n"
        "\\i %s\n" % (dest, inc)))
    assert rc == 0, err
    assert dest.read_text() == "w\nto file\n(1 row)\nalso to file\n"
    assert out == "to the terminal\nw\nback\n(1 row)\nanswer\n42\n(1 row)\nincluded\n"
    # -o writes every result to the file.
    rc, out, err = run(shop, tmp_path, "-A", "-t", "-o", str(dest), "-c", "SELECT 7", db="shop")
    assert rc == 0 and out == "" and dest.read_text() == "7\n"
    rc, out, err = run(shop, tmp_path, "-c", "\\i %s" % (tmp_path / "none.sql"), db="shop")
    assert rc == 1 and "No such file" in err


def test_single_transaction(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-1", "-c", "CREATE TABLE one_a (i INT)",
                       "-c", "INSERT INTO one_a VALUES (1)", db="shop")
    assert rc == 0, err
    rc, out, err = run(shop, tmp_path, "-1", "-c", "CREATE TABLE one_b (i INT)",
                       "-c", "SELECT * FROM nope", db="shop")
    assert rc == 1 and "nope" in err
    rc, out, err = run(shop, tmp_path, "-A", "-t", "-c",
                       "SELECT table_name FROM information_schema.tables "
                       "WHERE table_name LIKE 'one_%' ORDER BY 1", db="shop")
    assert out == "one_a\n", out  # one_b was rolled back


def test_wide_characters_align_and_table_streams_in_batches(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-c",
                       "SELECT * FROM (VALUES ('名前', 1), ('ab', 22)) t(s, n)", db="shop")
    assert rc == 0, err
    # 名前 takes four columns, as wcwidth says: the bars line up on the screen.
    assert out == ("  s   | n\n"
                   "------+----\n"
                   " 名前 |  1\n"
                   " ab   | 22\n"
                   "(2 rows)\n")
    # FETCH_COUNT: widths from the first batch of rows, a later wider row overflows its line.
    rc, out, err = run(shop, tmp_path, "-v", "FETCH_COUNT=2", "-c",
                       "SELECT i FROM range(3) t(i) UNION ALL SELECT 12345 ORDER BY 1", db="shop")
    assert rc == 0, err
    assert out == " i\n---\n 0\n 1\n 2\n 12345\n(4 rows)\n"


def test_describe_commands(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-c", "CREATE TABLE items (sku VARCHAR NOT NULL, "
                       "qty INTEGER DEFAULT 0)", "-c", "CREATE SCHEMA extra",
                       "-c", "CREATE VIEW extra.big AS SELECT * FROM items WHERE qty > 10",
                       db="shop")
    assert rc == 0, err
    rc, out, err = run(shop, tmp_path, "-c", "\\d items", db="shop")
    assert rc == 0, err
    assert out.startswith('Table "main.items"\n Column |  Type   | Nullable | Default\n')
    lines = out.splitlines()
    assert lines[3].split("|")[0].strip() == "sku" and "not null" in lines[3]
    assert lines[4].split("|")[0].strip() == "qty" and lines[4].rstrip().endswith("0")
    rc, out, err = run(shop, tmp_path, "-c", "\\dt", db="shop")
    assert out == (" Schema | Name  | Type\n"
                   "--------+-------+-------\n"
                   " main   | items | table\n"
                   " main   | users | table\n"
                   "(2 rows)\n"), out
    rc, out, err = run(shop, tmp_path, "-A", "-t", "-c", "\\d", db="shop")
    assert out == "extra|big|view\nmain|items|table\nmain|users|table\n"
    rc, out, err = run(shop, tmp_path, "-A", "-t", "-c", "\\dn", db="shop")
    assert out == "extra\nmain\n"
    rc, out, err = run(shop, tmp_path, "-c", "\\d extra.big", db="shop")
    assert out.startswith('View "extra.big"\n')
    rc, out, err = run(shop, tmp_path, "-c", "\\d nope", db="shop")
    assert rc == 1 and 'Did not find any relation named "nope".' in err


def test_list_commands_are_tables_and_follow_grants(shop, tmp_path):
    rc, out, err = run(shop, tmp_path, "-c", "create user bob pw", "-c", "create database other",
                       "-c", "grant database shop bob read", "-c", "\\l", "-c", "\\du")
    assert rc == 0, err
    assert (" name  | access\n"
            "-------+--------\n") in out
    assert " other | NULL\n" in out and " shop  | NULL\n" in out
    assert " name | super\n------+-------\n bob  | false\n duck | true\n(2 rows)\n" in out
    # bob sees only his database, and may not list users.
    rc, out, err = run(shop, tmp_path, "-c", "\\l", password="pw", user="bob")
    assert rc == 0, err
    assert out == " name | access\n------+--------\n shop | read\n(1 row)\n"
    rc, out, err = run(shop, tmp_path, "-c", "\\du", password="pw", user="bob")
    assert rc == 1 and "Error" in err
    # The server refuses the catalog to bob: \dt shows his grants, \d NAME the columns he may
    # select.
    rc, out, err = run(shop, tmp_path, "-c", "\\dt", password="pw", user="bob", db="shop")
    assert rc == 0, err
    assert out == (" Name | Type\n------+------\n(0 rows)\n"
                   "(a grant on the whole database \"shop\": its tables are not listed to a "
                   "user without access to the catalog)\n")
    rc, out, err = run(shop, tmp_path, "-c", "grant table shop users bob select")
    assert rc == 0, err
    rc, out, err = run(shop, tmp_path, "-A", "-t", "-c", "\\dt", password="pw", user="bob",
                       db="shop")
    assert rc == 0, err
    assert out == "users|table\n"
    rc, out, err = run(shop, tmp_path, "-c", "\\d users", password="pw", user="bob", db="shop")
    assert rc == 0, err
    assert out == ('Table "users"\n Column |  Type\n--------+---------\n id     | INTEGER\n'
                   ' name   | VARCHAR\n(2 rows)\n')
    rc, out, err = run(shop, tmp_path, "-c", "\\dp bob")
    assert rc == 0, err
    assert " database | access | table | privileges\n" in out and " shop     | read " in out


# ---- in tmux: a terminal of a known size -----------------------------------------------------

class Tmux:
    """The shell in a detached tmux session of 100x20: send-keys and capture-pane."""

    def __init__(self, args, env, tmp_path):
        self.name = "tdbsh%d_%d" % (os.getpid(), int(time.time() * 1000) % 100000)
        self.sock = str(tmp_path / "tmux.sock")
        envs = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in env.items())
        cmd = "env -i %s %s" % (envs, " ".join(shlex.quote(a) for a in args))
        subprocess.run(["tmux", "-S", self.sock, "new-session", "-d", "-s", self.name,
                        "-x", "100", "-y", "20", cmd + "; echo EXITED $?; sleep 30"],
                       check=True, timeout=30)

    def keys(self, *keys):
        """Each argument typed literally, except the key names Enter, Tab, Escape."""
        for k in keys:
            literal = [] if k in ("Enter", "Tab", "Escape") else ["-l"]
            if k.endswith(";"):
                k = k[:-1] + "\\;"  # a final ';' separates tmux commands
            subprocess.run(["tmux", "-S", self.sock, "send-keys", "-t", self.name] + literal + [k],
                           check=True, timeout=30)

    def screen(self):
        return subprocess.run(["tmux", "-S", self.sock, "capture-pane", "-p", "-t", self.name],
                              capture_output=True, timeout=30).stdout.decode("utf-8", "replace")

    def expect(self, pred, what, timeout=60):
        deadline = time.time() + timeout
        while True:
            s = self.screen()
            if pred(s):
                return s
            assert time.time() < deadline, "timed out waiting for %s; screen:\n%s" % (what, s)
            time.sleep(0.2)

    def close(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def tmux_shell(shop, tmp_path):
    env = cli_env(tmp_path, extra={"TERM": "xterm", "LANG": "C.UTF-8"})
    env.pop("PAGER", None)
    env = {k: v for k, v in env.items() if k in ("HOME", "PATH", "TERM", "LANG", "ASAN_OPTIONS",
                                                   "UBSAN_OPTIONS", "TCPDUCKDB_PASSWORD")}
    t = Tmux([CLI, "-h", "127.0.0.1", "-p", str(shop.port), "-U", "duck", "-d", "shop"], env,
             tmp_path)
    t.expect(lambda s: "shop=>" in s, "the prompt")
    yield t
    t.close()


def test_pager_engaged_on_a_long_result(tmux_shell):
    t = tmux_shell
    t.keys("SELECT 1 AS short;", "Enter")
    s = t.expect(lambda s: "(1 row)" in s, "a short result, not paged")
    t.keys("SELECT i AS n FROM range(200) t(i);", "Enter")
    # less -S shows the first screen and waits: the end of the result is not on the screen.
    s = t.expect(lambda s: s.rstrip().splitlines()[-1] == ":" and
                 "16" in [line.strip() for line in s.splitlines()],
                 "the first rows in the pager, its ':' prompt at the bottom")
    time.sleep(0.5)
    s = t.screen()
    assert "(200 rows)" not in s and "shop=>" not in s.split("(1 row)")[-1], s
    t.keys("G")  # to the end, inside the pager
    t.expect(lambda s: "(200 rows)" in s, "the end of the result in the pager")
    t.keys("q")
    t.expect(lambda s: s.rstrip().endswith("shop=>"), "the prompt after the pager")
    # \pset pager off: no pager.
    t.keys("\\pset pager off", "Enter")
    t.keys("SELECT i AS n FROM range(200) t(i);", "Enter")
    t.expect(lambda s: "(200 rows)" in s and s.rstrip().endswith("shop=>"), "unpaged output")
    t.keys("\\q", "Enter")
    s = t.expect(lambda s: "EXITED" in s, "exit")
    assert "EXITED 0" in s


def test_tab_completion_of_keywords_tables_and_columns(tmux_shell):
    t = tmux_shell
    t.keys("sel", "Tab")
    t.expect(lambda s: "shop=> select" in s, "the keyword completed")
    t.keys("na", "Tab")  # a completion ends with a space
    t.expect(lambda s: "shop=> select name" in s, "the column name completed")
    t.keys("FROM use", "Tab")  # "us" would be ambiguous with USING
    t.expect(lambda s: "shop=> select name FROM users" in s, "the table name completed")
    t.keys("WHERE id = 1;", "Enter")
    t.expect(lambda s: "(1 row)" in s and "John" in s, "the completed query ran")
    # A table created in the session completes too.
    t.keys("CREATE TABLE zebra_stripes (i INTEGER);", "Enter")
    t.expect(lambda s: s.rstrip().endswith("shop=>") and "success" in s, "created")
    t.keys("SELECT * FROM zebra_s", "Tab")
    t.expect(lambda s: "FROM zebra_stripes" in s, "the new table completed")
    t.keys(";", "Enter")
    t.expect(lambda s: "(0 rows)" in s, "ran")
    t.keys("\\q", "Enter")
    s = t.expect(lambda s: "EXITED" in s, "exit")
    assert "EXITED 0" in s
