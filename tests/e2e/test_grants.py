"""grant, revoke and list: the super user's access-control commands."""
import json

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
    # A rename inside a transaction prunes at commit.
    assert a.req("start transaction") == "success"
    assert a.req('ALTER TABLE "Items" RENAME TO things') == "success"
    assert [g["table"] for g in json.loads(a.req("list grants ann"))] == ["Items"]
    assert a.req("commit") == "success"
    assert [g["table"] for g in json.loads(a.req("list grants ann"))] == [None]
    assert a.req("CREATE TABLE orders (id INTEGER)") == "success"
    assert [g["table"] for g in json.loads(a.req("list grants ann"))] == [None]


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
