"""grant, revoke and list: the super user's access-control commands."""
import json

from conftest import run_parallel
from test_protocol import connected


def make_shop(server):
    a = server.admin()
    for line in ["create database shop", "create user ann pw", "create user bob pw",
                 "connect shop", "CREATE TABLE orders (id INTEGER)",
                 "CREATE TABLE \"Items\" (id INTEGER)", "CREATE VIEW v AS SELECT * FROM orders"]:
        assert a.req(line) == "success", line
    return a


def test_grant_commands_and_answers(server):
    a = make_shop(server)
    assert a.req("grant database shop ann read") == "success"
    assert a.req("grant database shop ann read") == "success"  # idempotent
    assert a.req("grant table shop orders ann select") == "success"
    assert a.req("grant table shop orders ann select") == "success"
    # A read grant caps table grants at select, as the seed's server answers.
    assert a.req("grant table shop orders ann insert") == "Error: Unauthorized"
    assert a.req("grant table shop orders ann select delete") == "Error: Unauthorized"
    # Without any database grant, no table grant either.
    assert a.req("grant table shop orders bob select") == "Error: Unauthorized"
    assert a.req("grant table shop nosuch ann select") == "Error: Tables nosuch Does Not Exist"
    assert a.req("grant database nosuch ann read") == "Error: Database nosuch Does Not Exist"
    assert a.req("grant database shop nobody read") == "Error: User nobody Does Not Exist"
    assert a.req("grant database shop ann admin").startswith("Error: Bad Request")
    assert a.req("grant table shop orders ann").startswith("Error: Bad Request")
    assert a.req("grant table shop orders ann select drop").startswith("Error: Bad Request")
    assert a.req("grant database shop duck read").startswith("Error: Bad Request")
    assert a.req("grant database shop ann write") == "success"
    assert a.req("GRANT TABLE shop ORDERS ann INSERT update") == "success"
    assert a.req("grant table shop items ann select") == "success"
    assert a.req("grant table shop v ann select") == "success"
    grants = json.loads(a.req("list grants ann"))
    assert grants == [
        {"database": "shop", "access": "write", "table": "Items", "privileges": ["select"]},
        {"database": "shop", "access": "write", "table": "orders",
         "privileges": ["select", "insert", "update"]},
        {"database": "shop", "access": "write", "table": "v", "privileges": ["select"]},
    ]


def test_grant_commands_need_the_super_user(server):
    a = make_shop(server)
    assert a.req("grant database shop ann write") == "success"
    ann = server.client(login=("ann", "pw"))
    for line in ["grant database shop bob read", "grant table shop orders bob select",
                 "revoke database shop ann", "revoke table shop orders ann select",
                 "list users", "list grants bob"]:
        assert ann.req(line) == "Error: Unauthorized", line
    assert server.client().req("list databases") == "Error: Unauthorized"
    # A user sees their own grants and the databases they may use.
    assert json.loads(ann.req("list grants")) == [
        {"database": "shop", "access": "write", "table": None, "privileges": []}]
    assert json.loads(ann.req("list grants ann")) == json.loads(ann.req("list grants"))
    assert json.loads(ann.req("list databases")) == [{"name": "shop", "access": "write"}]
    bob = server.client(login=("bob", "pw"))
    assert bob.req("list databases") == "[]"


def test_list_users_and_databases(server):
    a = make_shop(server)
    assert a.req("create database other") == "success"
    assert json.loads(a.req("list users")) == [
        {"name": "ann", "super": False}, {"name": "bob", "super": False},
        {"name": "duck", "super": True}]
    assert json.loads(a.req("list databases")) == [
        {"name": "other", "access": None}, {"name": "shop", "access": None}]
    assert a.req("list things").startswith("Error: Bad Request: usage: list")
    assert a.req("list grants nobody") == "Error: User nobody Does Not Exist"


def test_revoke(server):
    a = make_shop(server)
    assert a.req("grant database shop ann write") == "success"
    assert a.req("grant table shop orders ann select insert delete") == "success"
    assert a.req("revoke table shop orders ann insert") == "success"
    assert json.loads(a.req("list grants ann"))[0]["privileges"] == ["select", "delete"]
    assert a.req("revoke table shop orders ann select delete") == "success"
    assert json.loads(a.req("list grants ann")) == [
        {"database": "shop", "access": "write", "table": None, "privileges": []}]
    assert a.req("revoke table shop orders ann select") == "success"  # idempotent
    assert a.req("grant table shop orders ann select") == "success"
    assert a.req("revoke database shop ann") == "success"
    assert a.req("list grants ann") == "[]"
    assert a.req("revoke database shop ann") == "success"
    ann = server.client(login=("ann", "pw"))
    assert ann.req("connect shop") == 'Error: Access Denied: User "ann" does not have access over Database "shop"'
    assert a.req("revoke database shop").startswith("Error: Bad Request")
    assert a.req("revoke table shop orders ann").startswith("Error: Bad Request")


def test_grants_follow_database_rename_and_table_drop(server):
    a = make_shop(server)
    assert a.req("grant database shop ann write") == "success"
    assert a.req("grant table shop orders ann select") == "success"
    assert a.req("grant table shop Items ann select") == "success"
    assert a.req("update database shop store") == "success"
    assert json.loads(a.req("list grants ann"))[0]["database"] == "store"
    assert server.client(login=("ann", "pw")).req("connect store") == "success"
    # Dropping a table drops its grants: a new table of that name starts with none.
    assert a.req("DROP VIEW v") == "success"
    assert a.req("DROP TABLE orders") == "success"
    assert [g["table"] for g in json.loads(a.req("list grants ann"))] == ["Items"]
    # A rename inside a transaction moves the grant at commit.
    assert a.req("start transaction") == "success"
    assert a.req('ALTER TABLE "Items" RENAME TO things') == "success"
    assert [g["table"] for g in json.loads(a.req("list grants ann"))] == ["Items"]
    assert a.req("commit") == "success"
    assert [g["table"] for g in json.loads(a.req("list grants ann"))] == ["things"]
    assert a.req("CREATE TABLE orders (id INTEGER)") == "success"
    assert [g["table"] for g in json.loads(a.req("list grants ann"))] == ["things"]


def test_grants_survive_a_drop_in_another_catalog(server):
    a = connected(server, "shop")
    assert a.req("create user u pw") == "success"
    assert a.req("CREATE TABLE t (i INTEGER)") == "success"
    assert a.req("grant database shop u read") == "success"
    assert a.req("grant table shop t u select") == "success"
    assert a.req("ATTACH ':memory:' AS m") == "success"
    assert a.req("USE m") == "success"
    assert a.req("CREATE TABLE z (i INTEGER)") == "success"
    assert a.req("DROP TABLE z") == "success"
    assert [g["table"] for g in json.loads(a.req("list grants u"))] == ["t"]


def test_grants_survive_restart(server):
    a = make_shop(server)
    assert a.req("grant database shop ann read") == "success"
    assert a.req("grant table shop orders ann select") == "success"
    server.restart()
    a = server.admin()
    assert json.loads(a.req("list grants ann")) == [
        {"database": "shop", "access": "read", "table": "orders", "privileges": ["select"]}]


# Grants belong to the table, not to its name (docs/access-control.md, "Renames and drops").

def denied(user, table):
    return 'Error: Access Denied: User "%s" does not have access over Tables "%s"' % (user, table)


def table_grants(a, user):
    return [(g["table"], g["privileges"]) for g in json.loads(a.req("list grants " + user))]


def vault(server):
    """Database d with granted table g, view gv on it, a hidden table, and user u."""
    a = server.admin()
    for line in ["create database d", "create user u pw", "connect d",
                 "CREATE TABLE g (v VARCHAR)", "INSERT INTO g VALUES ('public')",
                 "CREATE VIEW gv AS SELECT v || '!' AS v FROM g",
                 "CREATE TABLE hidden (v VARCHAR)", "INSERT INTO hidden VALUES ('secret')",
                 "grant database d u read", "grant table d g u select",
                 "grant table d gv u select"]:
        assert a.req(line) in ("success", "1"), line
    c = server.client(login=("u", "pw"))
    assert c.req("connect d") == "success"
    return a, c


def test_rename_keeps_the_grant_under_the_new_name(server):
    a, c = vault(server)
    assert a.req("ALTER TABLE g RENAME TO g_new") == "success"
    assert table_grants(a, "u") == [("g_new", ["select"]), ("gv", ["select"])]
    assert c.req("SELECT v FROM g_new") == '[{"v":"public"}]'
    assert c.req("SELECT v FROM g") == denied("u", "g")
    # A new table under the old name has no grant; the renamed one keeps its own.
    assert a.req("CREATE TABLE g (v VARCHAR)") == "success"
    assert c.req("SELECT v FROM g") == denied("u", "g")
    assert c.req("SELECT v FROM g_new") == '[{"v":"public"}]'
    # A rename that only changes the case keeps the grant too; so does a swap in one request.
    assert a.req("ALTER TABLE g_new RENAME TO G_NEW") == "success"
    assert c.req("SELECT v FROM g_new") == '[{"v":"public"}]'
    assert a.req("ALTER TABLE G_NEW RENAME TO tmp; ALTER TABLE hidden RENAME TO G_NEW; "
                 "ALTER TABLE tmp RENAME TO hidden") == "success"
    assert c.req("SELECT v FROM hidden") == '[{"v":"public"}]'
    assert c.req("SELECT v FROM G_NEW") == denied("u", "G_NEW")
    assert table_grants(a, "u") == [("gv", ["select"]), ("hidden", ["select"])]


def test_drop_then_create_has_no_grant(server):
    a, c = vault(server)
    assert a.req("DROP VIEW gv; DROP TABLE g; CREATE TABLE g AS SELECT * FROM hidden") == "success"
    assert c.req("SELECT v FROM g") == denied("u", "g")
    assert table_grants(a, "u") == [(None, [])]
    assert a.req("grant table d g u select") == "success"
    assert c.req("SELECT v FROM g") == '[{"v":"secret"}]'
    # CREATE OR REPLACE makes a new table: the grant goes with the old one.
    assert a.req("CREATE OR REPLACE TABLE g AS SELECT 'other' AS v") == "success"
    assert c.req("SELECT v FROM g") == denied("u", "g")
    # The same inside a transaction, synced at commit.
    assert a.req("grant table d g u select") == "success"
    assert a.req("start transaction") == "success"
    assert a.req("DROP TABLE g") == "success"
    assert a.req("CREATE TABLE g AS SELECT * FROM hidden") == "success"
    assert a.req("commit") == "success"
    assert c.req("SELECT v FROM g") == denied("u", "g")
    # A rolled back drop keeps the grant.
    assert a.req("grant table d g u select") == "success"
    assert a.req("start transaction") == "success"
    assert a.req("DROP TABLE g") == "success"
    assert a.req("rollback") == "success"
    assert c.req("SELECT v FROM g") == '[{"v":"secret"}]'


def test_view_rename(server):
    a, c = vault(server)
    assert a.req("ALTER VIEW gv RENAME TO gv2") == "success"
    assert c.req("SELECT v FROM gv2") == '[{"v":"public!"}]'
    assert c.req("SELECT v FROM gv") == denied("u", "gv")
    # A view renamed onto a dropped view's name does not inherit its grant.
    assert a.req("CREATE VIEW hv AS SELECT * FROM hidden") == "success"
    assert a.req("DROP VIEW gv2; ALTER VIEW hv RENAME TO gv2") == "success"
    assert c.req("SELECT v FROM gv2") == denied("u", "gv2")
    assert table_grants(a, "u") == [("g", ["select"])]


def test_grants_stay_consistent_across_a_restart(server):
    a, c = vault(server)
    assert a.req("ALTER TABLE g RENAME TO g2") == "success"
    c.close()
    server.restart()
    # The identities are taken again when the database is opened.
    a = server.admin()
    assert a.req("connect d") == "success"
    c = server.client(login=("u", "pw"))
    assert c.req("connect d") == "success"
    assert c.req("SELECT v FROM g2") == '[{"v":"public"}]'
    assert a.req("ALTER TABLE g2 RENAME TO g3") == "success"
    assert c.req("SELECT v FROM g3") == '[{"v":"public"}]'
    assert a.req("DROP TABLE g3; ALTER TABLE hidden RENAME TO g3") == "success"
    assert c.req("SELECT v FROM g3") == denied("u", "g3")
    assert table_grants(a, "u") == [("gv", ["select"])]
    c.close()
    server.restart()
    a = server.admin()
    assert table_grants(a, "u") == [("gv", ["select"])]
    assert a.req("connect d") == "success"
    assert a.req("DROP VIEW gv; CREATE VIEW gv AS SELECT * FROM g3") == "success"
    assert table_grants(a, "u") == [(None, [])]


def test_two_sessions_doing_ddl_at_once(server):
    """Two super-user sessions rename their tables back and forth and drop and
    recreate decoys under a granted name, while the user reads: each granted
    table keeps its grant under the name it has, and no read ever sees a
    decoy's rows."""
    a = server.admin()
    for line in ["create database d", "create user u pw", "connect d",
                 "grant database d u read"]:
        assert a.req(line) == "success", line
    for i in range(2):
        assert a.req("CREATE TABLE t%d AS SELECT 'mine' AS v" % i) == "success"
        assert a.req("grant table d t%d u select" % i) == "success"
    rounds = 15
    seen = []

    def ddl(i):
        s = server.admin()
        assert s.req("connect d") == "success"
        for r in range(rounds):
            # A decoy takes the granted name in the same request as the rename.
            assert s.req("ALTER TABLE t%d RENAME TO t%d_away; "
                         "CREATE TABLE t%d AS SELECT 'decoy' AS v" % (i, i, i)) == "success"
            if r % 2:
                assert s.req("start transaction") == "success"
                assert s.req("DROP TABLE t%d" % i) == "success"
                assert s.req("ALTER TABLE t%d_away RENAME TO t%d" % (i, i)) == "success"
                assert s.req("commit") == "success"
            else:
                assert s.req("DROP TABLE t%d; ALTER TABLE t%d_away RENAME TO t%d"
                             % (i, i, i)) == "success"
        s.close()

    def read(_):
        c = server.client(login=("u", "pw"))
        assert c.req("connect d") == "success"
        for _r in range(rounds * 4):
            for i in range(2):
                for name in ("t%d" % i, "t%d_away" % i):
                    seen.append(c.req("SELECT v FROM " + name))
        c.close()

    def work(k):
        if k < 2:
            ddl(k)
        else:
            read(k)

    run_parallel(3, work)
    assert not [x for x in seen if "decoy" in x], seen
    assert table_grants(a, "u") == [("t0", ["select"]), ("t1", ["select"])]
    c = server.client(login=("u", "pw"))
    assert c.req("connect d") == "success"
    assert c.req("SELECT v FROM t0 UNION ALL SELECT v FROM t1") == '[{"v":"mine"},{"v":"mine"}]'
