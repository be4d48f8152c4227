"""Typed requests: `query {"sql": ..., "params": [...]}` for client libraries."""
import json

import pytest

from test_protocol import connected


def q(c, sql, params=None):
    body = {"sql": sql}
    if params is not None:
        body["params"] = params
    return c.req("query " + json.dumps(body))


def test_typed_rows_carry_columns_and_types(server):
    c = connected(server)
    ans = json.loads(q(c, "SELECT 1 AS a, 'x' AS a, 12.50::DECIMAL(10,2) AS d, [1,2] AS l, "
                          "{'k': DATE '2024-01-02'} AS s, MAP {'a': 1} AS m, NULL AS n"))
    assert ans == {
        "columns": [{"name": "a", "type": "INTEGER"}, {"name": "a", "type": "VARCHAR"},
                    {"name": "d", "type": "DECIMAL(10,2)"}, {"name": "l", "type": "INTEGER[]"},
                    {"name": "s", "type": 'STRUCT("k" DATE)'},
                    {"name": "m", "type": "MAP(VARCHAR, INTEGER)"}, {"name": "n", "type": "INTEGER"}],  # DuckDB types a bare NULL as INTEGER
        "rows": [[1, "x", 12.5, [1, 2], {"k": "2024-01-02"}, {"a": 1}, None]]}
    assert json.loads(q(c, "SELECT * FROM range(0)")) == {
        "columns": [{"name": "range", "type": "BIGINT"}], "rows": []}


def test_typed_changes_and_statements(server):
    c = connected(server)
    assert json.loads(q(c, "CREATE TABLE t (i INTEGER, s VARCHAR, b BLOB)")) == {"success": True}
    assert json.loads(q(c, "INSERT INTO t VALUES (1, 'a', NULL), (2, 'b', NULL)")) == {"changed": 2}


def test_parameters_are_bound_not_pasted(server):
    c = connected(server)
    assert q(c, "CREATE TABLE t (i BIGINT, s VARCHAR, f DOUBLE, ok BOOLEAN, b BLOB, h HUGEINT)") \
        == '{"success":true}'
    evil = "x'); DROP TABLE t; --"
    assert json.loads(q(c, "INSERT INTO t VALUES ($1, $2, $3, $4, $5, $6)",
                        [-9007199254740993, evil, 0.25, True, {"blob": "00ff"},
                         170141183460469231731687303715884105727])) == {"changed": 1}
    assert json.loads(q(c, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
                        [None, "é\u2603\U0001F600", -1e300, False, None, None])) == {"changed": 1}
    rows = json.loads(q(c, "SELECT * FROM t WHERE s = $1 OR i IS NULL ORDER BY i NULLS LAST",
                        [evil]))["rows"]
    assert rows == [[-9007199254740993, evil, 0.25, True, "\\x00ff",
                     170141183460469231731687303715884105727],
                    [None, "é\u2603\U0001F600", -1e300, False, None, None]]
    assert json.loads(q(c, "SELECT count(*) AS n FROM t", []))["rows"] == [[2]]


@pytest.mark.parametrize("body,error", [
    ('query {"sql": "SELECT $1"}', "Error: "),  # missing parameter: DuckDB's error
    ('query {"sql": "SELECT $1", "params": []}', "Error: Bad Request: the statement has 1 parameters, 0 were given"),
    ('query {"sql": "SELECT 1", "params": [1]}', "Error: Bad Request: the statement has 0 parameters, 1 were given"),
    ('query {"sql": "SELECT 1; SELECT 2", "params": []}', "Error: Bad Request: a query with parameters holds exactly one statement"),
    ('query {"sql": "SELECT $1", "params": [[1]]}', "Error: Bad Request: malformed typed request: parameters are scalars"),
    ('query {"sql": "SELECT $1", "params": [{"x": 1}]}', "Error: Bad Request: malformed typed request"),
    ('query {"sql": "SELECT $1", "params": [{"blob": "abc"}]}', "Error: Bad Request: malformed typed request"),
    ('query {"sql": "SELECT $1::INTEGER", "params": [1e999]}', "Error: "),
    ('query {"sql": "SELECT $1", "params": [1' + '0' * 40 + ']}', "Error: Bad Request: malformed typed request: integer parameter out of the 128-bit range"),
    ('query {"sql": 1}', "Error: Bad Request: malformed typed request"),
    ('query {"sql": "SELECT 1", "sql": "SELECT 2"}', "Error: Bad Request: malformed typed request"),
    ('query {"sql": "SELECT 1"} trailing', "Error: Bad Request: malformed typed request"),
    ('query {"params": []}', 'Error: Bad Request: malformed typed request: "sql" is missing'),
    ('query {"sql": "SELECT \\u0000"}', "Error: Bad Request: malformed typed request: strings may not contain NUL"),
    ('query {"sql": "SELECT \\ud800"}', "Error: Bad Request: malformed typed request: bad string"),
    ('query {"sql": "SELECT 1"', "Error: Bad Request: malformed typed request"),
    ('query {"sql": "SELECT $1::INTEGER", "params": ["abc"]}', "Error: Conversion Error"),
])
def test_typed_request_errors(server, body, error):
    c = connected(server)
    ans = c.req(body)
    assert ans.startswith(error), ans
    assert c.req('query {"sql": "SELECT 42 AS x"}') == '{"columns":[{"name":"x","type":"INTEGER"}],"rows":[[42]]}'


def test_typed_request_needs_a_connection(server):
    c = server.client()
    assert c.req('query {"sql": "SELECT 1"}') == "Error: Unauthorized"
    assert c.req("login duck duck") == "success"
    assert c.req('query {"sql": "SELECT 1"}').startswith("Error: Bad Request: not connected")
