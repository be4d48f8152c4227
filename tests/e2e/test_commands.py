"""The seed's commands, their answers, and every error a user can provoke with them."""
import json

import pytest

from test_protocol import connected


def test_seed_walkthrough(server):
    c = server.client()
    assert c.req("login duck duck") == "success"
    assert c.req("create database analytics") == "success"
    assert c.req("create user analyst securepassword") == "success"
    assert c.req("connect analytics") == "success"
    assert c.req("CREATE TABLE users (id INTEGER, name VARCHAR);") == "success"
    assert c.req("INSERT INTO users VALUES (1, 'John');") == "1"
    assert c.req("start transaction") == "success"
    assert c.req("UPDATE users SET name = 'Johnny' WHERE id = 1;") == "1"
    assert c.req("commit") == "success"
    assert json.loads(c.req("SELECT * FROM users;")) == [{"id": 1, "name": "Johnny"}]
    assert c.req("update database analytics analytics_prod") == "success"
    assert c.req("update user username analyst data_scientist") == "success"
    assert c.req("update user password data_scientist new_secure_password") == "success"
    assert c.req("quit") == "success"
    assert c.closed()


def test_command_words_are_case_insensitive(server):
    c = server.client()
    assert c.req("LOGIN duck duck") == "success"
    assert c.req("Create DataBase Db1") == "success"
    assert c.req("CONNECT Db1") == "success"
    assert c.req("Start Transaction") == "success"
    assert c.req("COMMIT") == "success"
    # Names are case-sensitive.
    assert c.req("connect db1") == "Error: Database db1 Does Not Exist"


def test_login_errors(server):
    c = server.client()
    assert c.req("login duck wrong") == "Error: Unauthorized"
    assert c.req("login nobody duck") == "Error: Unauthorized"
    assert c.req("login duck") .startswith("Error: Bad Request")
    assert c.req("login a b c") .startswith("Error: Bad Request")
    assert c.req_long('login "a\nINFO 2026/01/01 00:00:00 forged" x') == "Error: Unauthorized"
    assert c.req("login duck duck") == "success"
    assert c.req("login duck duck") == "Error: Bad Request: already logged in as duck"
    # Log lines cannot be forged through a user name.
    assert not any("forged" in line for line in server.log)


def test_commands_before_login_are_unauthorized(server):
    c = server.client()
    for line in ["create database x", "create user x y", "connect x", "SELECT 1",
                 "start transaction", "update database a b", "disconnect"]:
        assert c.req(line) == "Error: Unauthorized", line
    # The connection still works afterwards.
    assert c.req("login duck duck") == "success"


def test_super_user_only_commands(server):
    admin = server.admin()
    assert admin.req("create user bob pw") == "success"
    assert admin.req("create database d") == "success"
    bob = server.client(login=("bob", "pw"))
    for line in ["create database x", "create user x y", "update database d e",
                 "update user username bob robert", "update user password duck x"]:
        assert bob.req(line) == "Error: Unauthorized", line
    assert bob.req("connect d") == 'Error: Access Denied: User "bob" does not have access over Database "d"'
    assert admin.req("connect d") == "success"


def test_wrong_argument_counts(server):
    c = server.admin()
    for line in ["create database", "create database a b", "create user a", "create user a b c",
                 "connect", "connect a b", "update database a", "update database a b c",
                 "update user username a", "update user password a b c", "update user frob a b",
                 "disconnect now"]:
        assert c.req(line).startswith("Error: Bad Request: "), line


@pytest.mark.parametrize("name", ["../etc", "a/b", "a-b", "1abc", "a b", "x" * 64, "ü", "a.b",
                                  "\"\"", "a;DROP"])
def test_invalid_names(server, name):
    c = server.admin()
    quoted = '"%s"' % name.replace('"', '\\"') if " " in name or name == '""' else name
    ans = c.req("create database " + quoted)
    assert ans.startswith("Error: Bad Request: invalid database name"), ans
    assert c.req("create user %s pw" % quoted).startswith("Error: Bad Request: invalid user name")
    assert c.req("connect " + quoted).startswith("Error: Bad Request: invalid database name")


def test_valid_name_limits(server, data_dir):
    import os
    c = server.admin()
    assert c.req("create database " + "x" * 63) == "success"
    assert c.req("create database _under_9") == "success"
    # Nothing was written outside the data directory's own layout.
    # backups/ holds the archive (ArchiveMode, on by default).
    assert sorted(os.listdir(data_dir)) == ["backups", "databases", "db.sqlite3",
                                            "db.sqlite3-shm", "db.sqlite3-wal"]


def test_duplicates(server):
    c = server.admin()
    assert c.req("create database d") == "success"
    assert c.req("create database d") == "Error: Database d Already Exists"
    assert c.req("create user u p") == "success"
    assert c.req("create user u p") == "Error: User u Already Exists"
    assert c.req("create user duck p") == "Error: User duck Already Exists"
    assert c.req("create database e") == "success"
    assert c.req("update database d e") == "Error: Database e Already Exists"
    assert c.req("create user v p") == "success"
    assert c.req("update user username u v") == "Error: User v Already Exists"


def test_missing_things(server):
    c = server.admin()
    assert c.req("connect nope") == "Error: Database nope Does Not Exist"
    assert c.req("update database nope x") == "Error: Database nope Does Not Exist"
    assert c.req("update user username nope x") == "Error: User nope Does Not Exist"
    assert c.req("update user password nope x") == "Error: User nope Does Not Exist"


def test_password_change_and_rename_take_effect(server):
    admin = server.admin()
    assert admin.req("create user ann old") == "success"
    assert admin.req("update user password ann new") == "success"
    assert server.client().req("login ann old") == "Error: Unauthorized"
    assert server.client().req("login ann new") == "success"
    assert admin.req("update user username ann anna") == "success"
    assert server.client().req("login ann new") == "Error: Unauthorized"
    assert server.client().req("login anna new") == "success"
    # The super user keeps its name: the server finds it by that name.
    assert admin.req("update user username duck drake").startswith("Error: Bad Request")


def test_quoted_arguments(server):
    c = server.admin()
    assert c.req('create user "q" "pass word \\"quoted\\" \\\\"') == "success"
    assert server.client().req('login q "pass word \\"quoted\\" \\\\"') == "success"
    assert c.req('create user r "unterminated') .startswith("Error: Bad Request")


def test_state_errors(server):
    c = server.admin()
    assert c.req("SELECT 1") == "Error: Bad Request: not connected to a database (use: connect DATABASE)"
    assert c.req("start transaction").startswith("Error: Bad Request: not connected")
    assert c.req("commit").startswith("Error: Bad Request: not connected")
    assert c.req("disconnect") == "Error: Bad Request: not connected to a database"
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("commit") == "Error: Bad Request: no transaction is open"
    assert c.req("rollback") == "Error: Bad Request: no transaction is open"
    assert c.req("start transaction") == "success"
    assert c.req("start transaction") == "Error: Bad Request: a transaction is already open"
    assert c.req("connect d").startswith("Error: Bad Request: a transaction is open")
    assert c.req("disconnect").startswith("Error: Bad Request: a transaction is open")
    assert c.req("rollback") == "success"
    assert c.req("disconnect") == "success"
    assert c.req("SELECT 1").startswith("Error: Bad Request: not connected")


def test_connect_to_another_database_directly(server):
    c = server.admin()
    for db in ("a", "b"):
        assert c.req("create database " + db) == "success"
        assert c.req("connect " + db) == "success"
        assert c.req("CREATE TABLE t AS SELECT '%s' AS v" % db) == "success"
    assert c.req("connect a") == "success"
    assert json.loads(c.req("SELECT v FROM t")) == [{"v": "a"}]
    assert c.req("connect b") == "success"
    assert json.loads(c.req("SELECT v FROM t")) == [{"v": "b"}]


def test_transactions(server):
    c = server.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("CREATE TABLE t (i INTEGER)") == "success"
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO t VALUES (1), (2)") == "2"
    other = server.admin()
    assert other.req("connect d") == "success"
    assert json.loads(other.req("SELECT count(*) AS n FROM t")) == [{"n": 0}]
    assert c.req("rollback") == "success"
    assert json.loads(c.req("SELECT count(*) AS n FROM t")) == [{"n": 0}]
    # SQL spellings of the transaction commands go through the same path.
    assert c.req("BEGIN TRANSACTION;") == "success"
    assert c.req("INSERT INTO t VALUES (3)") == "1"
    assert c.req("COMMIT;") == "success"
    assert json.loads(other.req("SELECT sum(i) AS s FROM t")) == [{"s": 3}]


def test_error_inside_transaction_aborts_it(server):
    c = server.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("CREATE TABLE t (i INTEGER PRIMARY KEY)") == "success"
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO t VALUES (1)") == "1"
    assert c.req("INSERT INTO t VALUES (1)").startswith("Error: Constraint Error")
    ans = c.req("SELECT 1")
    assert ans.startswith("Error: TransactionContext Error") and "ROLLBACK" in ans, ans
    assert c.req("commit").startswith("Error: Transaction Aborted")
    # The commit failed and ended the transaction; nothing was kept.
    assert json.loads(c.req("SELECT count(*) AS n FROM t")) == [{"n": 0}]
    # A syntax error is caught before anything runs: the transaction lives on.
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO t VALUES (5)") == "1"
    assert c.req("SELEC 1").startswith("Error: Parser Error")
    assert c.req("commit") == "success"
    assert json.loads(c.req("SELECT list(i) AS l FROM t")) == [{"l": [5]}]


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


def test_transaction_commands_with_blanks_and_line_ends(server):
    c = connected(server)
    assert c.req("begin; ") == "success"
    assert c.req("commit ;  ") == "success"
    assert c.req_long("BEGIN\n") == "success"
    assert c.req_long("ROLLBACK;\n") == "success"


def test_transaction_rolled_back_when_client_vanishes(server):
    c = server.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("CREATE TABLE t (i INTEGER)") == "success"
    assert c.req("start transaction") == "success"
    assert c.req("INSERT INTO t VALUES (1)") == "1"
    c.close()  # no commit
    other = server.admin()
    assert other.req("connect d") == "success"
    from conftest import wait_for
    assert wait_for(lambda: json.loads(other.req("SELECT count(*) AS n FROM t")) == [{"n": 0}])
    # The table is not locked by a dangling transaction.
    assert other.req("INSERT INTO t VALUES (2)") == "1"


def test_sql_answers(server):
    c = server.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("CREATE TABLE t (i INTEGER, s VARCHAR)") == "success"
    assert c.req("SELECT * FROM t") == "[]"
    assert c.req("INSERT INTO t SELECT range, 'x' FROM range(10)") == "10"
    assert c.req("UPDATE t SET s = 'y' WHERE i < 3") == "3"
    assert c.req("DELETE FROM t WHERE i >= 8") == "2"
    assert c.req("UPDATE t SET s = 'z' WHERE false") == "0"
    assert json.loads(c.req("SELECT i, s FROM t WHERE i IN (0, 5) ORDER BY i")) == [
        {"i": 0, "s": "y"}, {"i": 5, "s": "x"}]
    assert c.req("SELEC 1").startswith("Error: Parser Error: syntax error")
    err = c.req("SELECT * FROM missing")
    assert err.startswith("Error: Catalog Error") and "\n" not in err
    assert c.req("") .startswith("Error: ")


def test_several_statements_in_one_request(server):
    c = server.admin()
    assert c.req("create database d") == "success"
    assert c.req("connect d") == "success"
    assert c.req("CREATE TABLE t (i INTEGER PRIMARY KEY); INSERT INTO t VALUES (1); "
                 "SELECT count(*) AS n FROM t") == '[{"n":1}]'
    # One implicit transaction: a failure keeps none of the statements.
    assert c.req("INSERT INTO t VALUES (2); INSERT INTO t VALUES (1)").startswith(
        "Error: Constraint Error")
    assert c.req("SELECT count(*) AS n FROM t") == '[{"n":1}]'
    assert c.req("INSERT INTO t VALUES (2); INSERT INTO t VALUES (3)") == "1"
    assert c.req("SELECT 1; COMMIT").startswith("Error: Bad Request")


def test_rename_database_with_open_connections(server, data_dir):
    import os
    a = server.admin()
    assert a.req("create database old") == "success"
    assert a.req("connect old") == "success"
    assert a.req("CREATE TABLE t (i INTEGER)") == "success"
    assert a.req("INSERT INTO t VALUES (1)") == "1"
    assert a.req("start transaction") == "success"
    assert a.req("INSERT INTO t VALUES (2)") == "1"
    b = server.admin()
    assert b.req("update database old new") == "success"
    # The connected session follows the rename and loses nothing.
    assert a.req("INSERT INTO t VALUES (3)") == "1"
    assert a.req("commit") == "success"
    assert b.req("connect old") == "Error: Database old Does Not Exist"
    assert b.req("connect new") == "success"
    assert json.loads(b.req("SELECT list(i ORDER BY i) AS l FROM t")) == [{"l": [1, 2, 3]}]
    server.restart()
    c = server.admin()
    assert c.req("connect new") == "success"
    assert json.loads(c.req("SELECT count(*) AS n FROM t")) == [{"n": 3}]
    assert not any("old" in f for f in os.listdir(os.path.join(data_dir, "databases")))


def test_quit_and_exit(server):
    c = server.client()
    assert c.req("exit") == "success"
    assert c.closed()


def test_help_lists_the_command_table(server):
    c = server.client()
    # Anyone may ask, before logging in; the answer is one line of JSON, a row per command.
    rows = json.loads(c.req("help"))
    commands = [r["command"] for r in rows]
    for word in ("login", "create database", "create user", "connect", "disconnect",
                 "start transaction", "commit", "rollback", "update database", "update user",
                 "grant database", "grant table", "revoke database", "revoke table", "list",
                 "link", "migrate", "unlink", "stats", "help", "quit", "exit",
                 "session key", "cancel", "set cache"):
        assert any(cmd.startswith(word) for cmd in commands), word
    assert {"command": "stats", "who": "super user"} in rows
    assert {"command": "login USER PASSWORD", "who": "anyone not logged in"} in rows
    # `help` is a command only alone; with more words it is SQL like any other text.
    assert c.req("help me") == "Error: Unauthorized"
    assert c.req("login duck duck") == "success"
    assert c.req("HELP") == c.req("help")
