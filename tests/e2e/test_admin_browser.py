"""
The web admin page in a real browser: headless Chromium driven by Selenium (Debian's
chromium, chromium-driver, python3-selenium). The super user logs in, creates a database and
a user, fills a table through the console and pages through its 10,000 rows, downloads them
as CSV, grants the user one table; the user then logs in and sees only that. Hostile values in
results are shown as text. Screenshots of each page are saved under build/admin-screenshots/.
"""
import csv
import json
import os
import re
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from adminhttp import start_admin
from conftest import ROOT, wait_for

SHOTS = os.path.join(ROOT, "build", "admin-screenshots")
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def browser():
    downloads = tempfile.mkdtemp(prefix="tcpduckdb-downloads-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=1360,900", "--disable-extensions"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(60)
    driver.downloads = downloads
    os.makedirs(SHOTS, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(downloads, ignore_errors=True)


def wait(driver, cond, timeout=60):
    return WebDriverWait(driver, timeout).until(cond)


def visible(driver, css):
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def text_is(driver, css, pred):
    return wait(driver, lambda d: pred(d.find_element(By.CSS_SELECTOR, css).text))


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def login(driver, port, user, password):
    driver.get("http://127.0.0.1:%d/" % port)
    visible(driver, "#login-user").send_keys(user)
    driver.find_element(By.ID, "login-password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    visible(driver, "#nav")


def goto(driver, page):
    driver.find_element(By.CSS_SELECTOR, 'nav a[data-page="%s"]' % page).click()
    visible(driver, "#page-" + page)


def run_sql(driver, database, sql):
    Select(driver.find_element(By.ID, "q-db")).select_by_visible_text(database)
    box = driver.find_element(By.ID, "q-sql")
    box.clear()
    box.send_keys(sql)
    before = driver.find_element(By.ID, "q-status").text
    driver.find_element(By.ID, "q-run").click()
    wait(driver, lambda d: d.find_element(By.ID, "q-status").text not in ("running...", "")
         and d.find_element(By.ID, "q-run").is_enabled())
    return before


def no_alert(driver):
    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def test_admin_page_end_to_end(make_server, browser):
    d = browser
    srv, port = start_admin(make_server)
    login(d, port, "duck", "duck")
    assert d.find_element(By.ID, "who-name").text == "duck (super user)"
    # Overview: the cards fill from the JSON endpoint; the charts need two polls.
    wait(d, lambda x: len(x.find_elements(By.CSS_SELECTOR, "#overview-cards .stat")) >= 8)

    # Databases: create one.
    goto(d, "databases")
    d.find_element(By.ID, "db-create-name").send_keys("shop")
    d.find_element(By.CSS_SELECTOR, "#db-create button").click()
    visible(d, '#db-list tr[data-db="shop"]')

    # Users: create one.
    goto(d, "users")
    d.find_element(By.ID, "user-create-name").send_keys("alice")
    d.find_element(By.ID, "user-create-password").send_keys("alice-pw")
    d.find_element(By.CSS_SELECTOR, "#user-create button").click()
    visible(d, '#user-list tr[data-user="alice"]')
    # Rename a user in place.
    d.find_element(By.ID, "user-create-name").send_keys("tmp")
    d.find_element(By.ID, "user-create-password").send_keys("tmp-pw")
    d.find_element(By.CSS_SELECTOR, "#user-create button").click()
    row = visible(d, '#user-list tr[data-user="tmp"]')
    row.find_element(By.CSS_SELECTOR, 'input[placeholder="new name"]').send_keys("bob")
    row.find_element(By.XPATH, ".//button[text()='Rename']").click()
    visible(d, '#user-list tr[data-user="bob"]')
    assert d.find_elements(By.CSS_SELECTOR, '#user-list tr[data-user="tmp"]') == []
    shot(d, "users")

    # Console: 10,000 rows, paged by 100.
    goto(d, "console")
    wait(d, lambda x: "shop" in [o.text for o in Select(x.find_element(By.ID, "q-db")).options])
    run_sql(d, "shop", "CREATE TABLE items AS SELECT range AS id, 'item ' || range AS name "
                       "FROM range(10000); CREATE TABLE hidden(x INT); "
                       'CREATE TABLE "%s"(v VARCHAR)' % XSS)
    assert not d.find_element(By.ID, "q-error").is_displayed(), d.find_element(By.ID, "q-error").text
    run_sql(d, "shop", "SELECT * FROM items ORDER BY id")
    text_is(d, "#q-status", lambda t: t.startswith("10000 rows in "))
    assert d.find_element(By.ID, "q-page").text == "page 1 of 100 (rows 1-100)"
    cells = lambda: [td.text for td in d.find_elements(By.CSS_SELECTOR, "#q-table tbody tr:first-child td")]
    assert cells() == ["0", "item 0"]
    assert len(d.find_elements(By.CSS_SELECTOR, "#q-table tbody tr")) == 100
    d.find_element(By.ID, "q-next").click()
    assert cells() == ["100", "item 100"]
    shot(d, "console")
    d.find_element(By.ID, "q-last").click()
    assert d.find_element(By.ID, "q-page").text == "page 100 of 100 (rows 9901-10000)"
    assert cells() == ["9900", "item 9900"]
    d.find_element(By.ID, "q-prev").click()
    assert cells() == ["9800", "item 9800"]
    # CSV download of the whole result.
    d.find_element(By.ID, "q-csv").click()
    path = os.path.join(d.downloads, "result.csv")
    assert wait_for(lambda: os.path.exists(path) and os.path.getsize(path) > 0, timeout=60)
    assert wait_for(lambda: sum(1 for _ in open(path)) == 10001, timeout=30)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", "name"] and rows[1] == ["0", "item 0"] and rows[-1] == ["9999", "item 9999"]

    # Hostile values and column names are shown as text: no element, no script.
    run_sql(d, "shop", "SELECT '%s' AS \"<b>bold</b>\", '</script><script>alert(3)</script>' AS s" % XSS)
    assert cells() == [XSS, "</script><script>alert(3)</script>"]
    assert d.find_element(By.CSS_SELECTOR, "#q-table th").text == "<b>bold</b>"
    assert d.find_elements(By.CSS_SELECTOR, "#q-table img, #q-table b, #q-table script") == []
    # An error is shown with the time it took.
    run_sql(d, "shop", "SELECT * FROM no_such_table")
    err = visible(d, "#q-error").text
    assert "no_such_table" in err and d.find_element(By.ID, "q-status").text.startswith("failed after ")
    assert no_alert(d)

    # Grants: alice gets read on shop and select on items, toggled in place.
    goto(d, "grants")
    wait(d, lambda x: "alice" in [o.text for o in Select(x.find_element(By.ID, "grant-user")).options])
    Select(d.find_element(By.ID, "grant-db")).select_by_visible_text("shop")
    Select(d.find_element(By.ID, "grant-user")).select_by_visible_text("alice")
    visible(d, '#grant-tables tr[data-table="items"]')
    # The hostile table name is a row like any other, shown as text.
    row = visible(d, '#grant-tables tr[data-table="%s"]' % XSS.replace('"', '\\"'))
    assert row.find_element(By.CSS_SELECTOR, "td").text == XSS
    Select(d.find_element(By.ID, "grant-access")).select_by_value("read")
    d.find_element(By.ID, "grant-access-save").click()
    text_is(d, "#toast", lambda t: "Access of alice on shop: read" in t)
    d.find_element(By.CSS_SELECTOR, '#grant-tables tr[data-table="items"] input[data-priv="select"]').click()
    text_is(d, "#toast", lambda t: "Granted select on items" in t)
    shot(d, "grants")
    with srv.admin() as c:
        grants = c.req("list grants alice")
    assert '"table":"items","privileges":["select"]' in grants and "hidden" not in grants

    goto(d, "databases")
    visible(d, '#db-list tr[data-db="shop"]')
    goto(d, "overview")
    wait(d, lambda x: len(x.find_elements(By.CSS_SELECTOR, "#overview-cards .stat")) >= 8)
    text_is(d, "#overview-cards", lambda t: "queries per second" in t)
    # PgPort is off in this server; the result cache (on by default) has its card.
    text_is(d, "#overview-cards", lambda t: "off\nPostgreSQL port" in t and "result cache hits (" in t)
    import time
    time.sleep(5)  # two polls more, so that the charts have lines (a screenshot, not an assertion)
    shot(d, "overview")
    goto(d, "databases")
    shot(d, "databases")

    # Log out; alice sees only what she was granted.
    d.find_element(By.ID, "logout").click()
    visible(d, "#login-user")
    login(d, port, "alice", "alice-pw")
    assert not d.find_element(By.CSS_SELECTOR, 'nav a[data-page="users"]').is_displayed()
    assert not d.find_element(By.CSS_SELECTOR, 'nav a[data-page="grants"]').is_displayed()
    text_is(d, "#overview-note", lambda t: "super user" in t)
    goto(d, "databases")
    visible(d, '#db-list tr[data-db="shop"]')
    assert [r.get_attribute("data-db") for r in d.find_elements(By.CSS_SELECTOR, "#db-list tr")] == ["shop"]
    assert d.find_element(By.CSS_SELECTOR, '#db-list tr[data-db="shop"] td:nth-child(2)').text == "read"
    goto(d, "console")
    wait(d, lambda x: [o.text for o in Select(x.find_element(By.ID, "q-db")).options] == ["shop"])
    run_sql(d, "shop", "SELECT * FROM items WHERE id < 3 ORDER BY id")
    text_is(d, "#q-status", lambda t: t.startswith("3 rows in "))
    run_sql(d, "shop", "SELECT * FROM hidden")
    assert "Access Denied" in visible(d, "#q-error").text
    run_sql(d, "shop", "DELETE FROM items")
    assert "Access Denied" in visible(d, "#q-error").text
    shot(d, "console-user")
    with srv.admin() as c:
        assert c.req("connect shop") == "success"
        assert c.req("SELECT count(*) AS n FROM items") == '[{"n":10000}]'


LONG = "SELECT count(*) FROM range(10000000000)"
CANCELED = "Error: Canceled: canceling statement due to user request"


def session_row(driver, sid):
    return visible(driver, '#session-list tr[data-session="%d"]' % sid)


def in_row(driver, sid, fn):
    """fn(row) on session `sid`'s row, found again when the page's 2 s refresh replaced it."""
    return WebDriverWait(driver, 60, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda x: fn(session_row(x, sid)))


def click_in_row(driver, sid, xpath):
    def go(row):
        row.find_element(By.XPATH, xpath).click()
        return True
    in_row(driver, sid, go)


def test_sessions_page_sees_and_cancels_a_long_statement(make_server, browser):
    d = browser
    srv, port = start_admin(make_server)
    with srv.admin() as a:
        assert a.req("create database t") == "success"
        assert a.req("create user bob pw") == "success"
        assert a.req("grant database t bob read") == "success"
    bob = srv.client(login=("bob", "pw"))
    idle = srv.client(login=("bob", "pw"))
    try:
        assert bob.req("connect t") == "success"
        bob_id = json.loads(bob.req("session key"))["session"]
        idle_id = json.loads(idle.req("session key"))["session"]
        bob.send_raw(LONG.encode() + b"\n")

        login(d, port, "duck", "duck")
        goto(d, "sessions")
        # The page polls: the long statement shows up as active, with its text and time.
        in_row(d, bob_id, lambda row: row.get_attribute("data-state") == "active")
        cells = in_row(d, bob_id, lambda row: [td.text for td in row.find_elements(By.CSS_SELECTOR, "td")])
        assert cells[1] == "bob" and cells[2] == "t" and cells[3].startswith("127.0.0.1:")
        assert cells[4] == "no" and cells[5] == "active" and cells[6] == LONG
        in_row(d, bob_id, lambda row: row.find_elements(By.CSS_SELECTOR, "td")[7].text.endswith("s"))
        # The page's own session is marked and cannot be ended from itself.
        me = d.execute_script("return state.me.session")
        assert "this page" in in_row(d, me, lambda row: row.text)
        assert in_row(d, me, lambda row: [b.is_enabled() for b in row.find_elements(By.TAG_NAME, "button")]) \
            == [False, False]
        shot(d, "sessions")

        click_in_row(d, bob_id, ".//button[text()='Cancel statement']")
        text_is(d, "#toast", lambda t: "Statement of session %d canceled" % bob_id in t)
        bob.sock.settimeout(60)
        assert bob.line() == CANCELED
        # The session goes on, and the page shows it idle again.
        assert bob.req("SELECT 42 AS x") == '[{"x":42}]'
        in_row(d, bob_id, lambda row: row.get_attribute("data-state") == "idle")
        assert wait_for(lambda: any("admin: user duck from 127.0.0.1: cancel %d -> success" % bob_id in l
                                    for l in list(srv.log)), timeout=30)

        # End session: a first click arms the button, the second ends the session.
        # The armed state survives the page's refresh of the rows.
        click_in_row(d, idle_id, ".//button[text()='End session']")
        click_in_row(d, idle_id, ".//button[text()='Confirm end']")
        text_is(d, "#toast", lambda t: "Session %d ended" % idle_id in t)
        assert idle.closed(timeout=60)
        wait(d, lambda x: x.find_elements(By.CSS_SELECTOR, '#session-list tr[data-session="%d"]' % idle_id) == [])
        assert wait_for(lambda: any("admin: user duck from 127.0.0.1: terminate %d -> success" % idle_id
                                    in l for l in list(srv.log)), timeout=30)
    finally:
        bob.close()
        idle.close()


def test_databases_page_backup_restore_and_drop(make_server, browser):
    d = browser
    srv, port = start_admin(make_server)
    with srv.admin() as a:
        assert a.req("create database shop") == "success"
        assert a.req("connect shop") == "success"
        assert a.req("CREATE TABLE items AS SELECT range AS id FROM range(1000)") == "success"
        assert a.req("disconnect") == "success"
    login(d, port, "duck", "duck")
    goto(d, "databases")
    # No base backup yet, but ArchiveMode is on: shop's continuous archive is listed, and a
    # restore from it without a time gives its latest committed state.
    visible(d, "#backup-none")
    arow = visible(d, '#backup-list tr[data-archive="shop"]')
    assert arow.find_elements(By.CSS_SELECTOR, "td")[0].text == "continuous archive"
    arow.find_element(By.CSS_SELECTOR, "input:not(.at)").send_keys("shop_pit")
    arow.find_element(By.XPATH, ".//button[text()='Restore']").click()
    visible(d, '#db-list tr[data-db="shop_pit"]')
    with srv.admin() as a:
        assert a.req("connect shop_pit") == "success"
        assert a.req("SELECT count(*) AS n FROM items") == '[{"n":1000}]'
    # Backup: the backup appears in the list.
    row = visible(d, '#db-list tr[data-db="shop"]')
    row.find_element(By.XPATH, ".//button[text()='Backup']").click()
    text_is(d, "#toast", lambda t: "Backup of shop taken" in t)
    brow = visible(d, "#backup-list tr[data-backup]")
    assert brow.get_attribute("data-backup").startswith("shop-")
    assert brow.find_elements(By.CSS_SELECTOR, "td")[1].text == "shop"
    # Restore it under a new name: a new database with the same rows.
    brow.find_element(By.CSS_SELECTOR, "input").send_keys("shop_copy")
    brow.find_element(By.XPATH, ".//button[text()='Restore']").click()
    visible(d, '#db-list tr[data-db="shop_copy"]')
    with srv.admin() as a:
        assert a.req("connect shop_copy") == "success"
        assert a.req("SELECT count(*) AS n FROM items") == '[{"n":1000}]'
        # Drop is refused while a session is connected, and the page shows why.
        drop = d.find_element(By.CSS_SELECTOR, '#db-list tr[data-db="shop_copy"] button.danger')
        drop.click()
        assert drop.text == "Confirm drop"
        drop.click()
        text_is(d, "#toast", lambda t: "Database shop_copy Is In Use" in t)
        assert d.find_element(By.ID, "toast").get_attribute("class") == "bad"
        shot(d, "databases-backups")
    # Once nobody is connected, the drop goes through.
    drop = d.find_element(By.CSS_SELECTOR, '#db-list tr[data-db="shop_copy"] button.danger')
    drop.click()
    drop.click()
    text_is(d, "#toast", lambda t: "Database shop_copy dropped" in t)
    wait(d, lambda x: x.find_elements(By.CSS_SELECTOR, '#db-list tr[data-db="shop_copy"]') == [])
    with srv.admin() as a:
        assert "shop_copy" not in a.req("list databases")
    assert wait_for(lambda: any("admin: user duck from 127.0.0.1: drop database shop_copy -> success"
                                in l for l in list(srv.log)), timeout=30)


def test_databases_page_shows_pool_sessions_link_and_verifies_backups(make_server, browser):
    """Each database's pool state (open, pins), its connected sessions and its PostgreSQL
    link (audit, or CDC with the stream's state and lag); `verify backup` from its row (a good backup and a corrupted one); the console's
    Explain shows DuckDB's plan as text."""
    from pgserver import PgServer
    d = browser
    pg = PgServer().init()
    with open(pg.data + "/postgresql.conf", "a") as f:
        f.write("wal_level = logical\n")
    pg.start()
    try:
        for pgdb in ("src", "feedsrc"):
            pg.psql("CREATE DATABASE " + pgdb)
            pg.psql("CREATE TABLE k (id int PRIMARY KEY); INSERT INTO k VALUES (1);", db=pgdb)
        srv, port = start_admin(make_server, env={
            "ENCRYPTION_KEY": "an encryption key for the tests, 48 bytes long.."})
        with srv.admin() as a:
            for req in ["create database shop", "create database quiet", "create database mirror",
                        'link mirror "%s" mode=audit' % pg.dsn("src"), "create database feed",
                        'link feed "%s" mode=cdc' % pg.dsn("feedsrc"), "connect shop",
                        "CREATE TABLE items AS SELECT range AS id FROM range(1000)",
                        "disconnect", "backup shop", "backup quiet"]:
                got = a.req(req)
                assert got == "success" or got.startswith("[{"), (req, got)
            assert wait_for(lambda: '"state":"streaming"' in a.req("cdc status feed"), timeout=60)
        # Two line-protocol sessions on shop: it is open, pinned twice, two sessions.
        users = [srv.client(login=("duck", "duck")) for _ in range(2)]
        for u in users:
            assert u.req("connect shop") == "success"
        login(d, port, "duck", "duck")
        goto(d, "databases")
        row = visible(d, '#db-list tr[data-db="shop"]')
        cells = lambda name, attr: d.find_element(  # noqa: E731
            By.CSS_SELECTOR, '#db-list tr[data-db="%s"] td[%s]' % (name, attr))
        assert cells("shop", "data-pool").get_attribute("data-pool") == "open"
        assert cells("shop", "data-pool").text == "open, 2 pins"
        assert cells("shop", "data-sessions").text == "2"
        assert cells("shop", "data-link").text == "not linked"
        assert cells("quiet", "data-sessions").text == "0"
        assert cells("quiet", "data-pool").text in ("closed", "open, 0 pins")
        assert cells("mirror", "data-link").get_attribute("data-link") == "linked"
        assert cells("mirror", "data-link").get_attribute("data-link-mode") == "audit"
        assert cells("mirror", "data-link").text == "linked (audit)"
        feed = cells("feed", "data-link")
        assert feed.get_attribute("data-link-mode") == "cdc"
        assert feed.get_attribute("data-cdc-state") == "streaming"
        assert int(feed.get_attribute("data-cdc-lag")) >= 0
        assert re.fullmatch(r"CDC streaming, lag [0-9.]+ (B|KiB|MiB|GiB)", feed.text), feed.text
        # One session leaves: the page shows it at the next load.
        users[1].close()
        goto(d, "overview")
        goto(d, "databases")
        wait(d, lambda x: cells("shop", "data-sessions").text == "1")
        assert cells("shop", "data-pool").text == "open, 1 pin"
        # Verify: both backups are whole; then one file of quiet's is damaged.
        brows = d.find_elements(By.CSS_SELECTOR, "#backup-list tr[data-backup]")
        ids = [b.get_attribute("data-backup") for b in brows]
        shop_id = next(i for i in ids if i.startswith("shop-"))
        quiet_id = next(i for i in ids if i.startswith("quiet-"))
        with open(os.path.join(srv.data_dir, "backups", quiet_id, "db"), "r+b") as f:
            f.seek(4096)
            byte = f.read(1)
            f.seek(4096)
            f.write(bytes([byte[0] ^ 0xFF]))
        for bid, expect in [(shop_id, "ok: "), (quiet_id, "Backup Corrupt")]:
            brow = d.find_element(By.CSS_SELECTOR, '#backup-list tr[data-backup="%s"]' % bid)
            brow.find_element(By.XPATH, ".//button[text()='Verify']").click()
            wait(d, lambda x: expect in x.find_element(
                By.CSS_SELECTOR, '#backup-list tr[data-backup="%s"] .verify-result' % bid).text)
        shot(d, "databases-state")
        assert wait_for(lambda: any("admin: user duck from 127.0.0.1: verify backup %s -> success"
                                    % shop_id in l or "verify backup %s -> [" % shop_id in l
                                    for l in list(srv.log)), timeout=30)
        users[0].close()
        # Explain: the plan as text, no result table.
        goto(d, "console")
        Select(d.find_element(By.ID, "q-db")).select_by_visible_text("shop")
        box = d.find_element(By.ID, "q-sql")
        box.clear()
        box.send_keys("SELECT count(*) FROM items WHERE id > 10")
        d.find_element(By.ID, "q-explain").click()
        plan = visible(d, "#q-plan")
        wait(d, lambda x: "items" in plan.text.lower() or "scan" in plan.text.lower())
        assert "┌" in plan.text
        assert d.find_elements(By.CSS_SELECTOR, "#q-table tr") == []
        shot(d, "console-explain")
        # Run again: the plan goes away, the result is a table.
        d.find_element(By.ID, "q-run").click()
        wait(d, lambda x: not x.find_element(By.ID, "q-plan").is_displayed() and
             x.find_elements(By.CSS_SELECTOR, "#q-table td"))
        assert d.find_element(By.CSS_SELECTOR, "#q-table td").text == "989"
    finally:
        pg.cleanup()
