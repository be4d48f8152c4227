"""The sandbox every database is opened in holds for the super user too:
no host file is read or written, no database file attached, no extension
fetched, no setting changed."""
import os

import pytest

from test_protocol import connected


@pytest.mark.parametrize("sql,error", [
    ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
    ("SELECT * FROM read_text('/etc/hostname')", "Permission Error"),
    ("SELECT * FROM read_blob('/etc/hostname')", "Permission Error"),
    ("SELECT * FROM glob('/etc/*')", "Permission Error"),
    ("SELECT * FROM '/etc/passwd'", "Catalog Error"),
    ("COPY t TO '{tmp}/out.csv'", "Permission Error"),
    ("COPY t FROM '/etc/passwd'", "Permission Error"),
    ("EXPORT DATABASE '{tmp}/export'", "Permission Error"),
    ("IMPORT DATABASE '{tmp}'", "Permission Error"),
    ("ATTACH '{tmp}/other.duckdb' AS o", "Permission Error"),
    ("INSTALL httpfs", "Permission Error"),
    ("LOAD httpfs", "Permission Error"),
    ("SET enable_external_access = true", "the configuration has been locked"),
    ("SET memory_limit = '100GB'", "the configuration has been locked"),
    ("RESET threads", "the configuration has been locked"),
    ("SET temp_directory = '{tmp}'", "the configuration has been locked"),
    ("SET lock_configuration = false", "the configuration has been locked"),
    ("CREATE SECRET (TYPE s3, KEY_ID 'k', SECRET 's')", "Permission Error"),
])
def test_super_user_cannot_leave_the_sandbox(server, tmp_path, sql, error):
    c = connected(server)
    assert c.req("CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS i") == "success"
    ans = c.req(sql.format(tmp=tmp_path))
    assert ans.startswith("Error: ") and error in ans, ans
    assert os.listdir(tmp_path) == []  # nothing was written on the host


def test_super_user_may_run_harmless_admin_sql(server):
    c = connected(server)
    assert c.req("CREATE TABLE t AS SELECT 1 AS i") == "success"
    assert c.req("CHECKPOINT") == "[]"
    assert c.req("PRAGMA table_info('t')").startswith('[{"cid":0,"name":"i"')
    assert c.req("CALL pragma_version()").startswith('[{"library_version":"v1.5')
    assert c.req("SELECT current_setting('enable_external_access') AS v") == '[{"v":false}]'


def test_profiles_do_not_reach_the_log(server):
    c = connected(server)
    assert c.req("PRAGMA enable_profiling").startswith("Error: Bad Request: query profiling")
    assert c.req("SET enable_progress_bar = true").startswith("Error: Bad Request")
    assert c.req("PRAGMA Enable_Profiling = 'json'").startswith("Error: Bad Request")
    assert c.req("SELECT 'INFO 2026/01/01 forged' AS x").startswith("[")
    assert not any("forged" in line for line in server.log)
