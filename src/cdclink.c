/*
 * cdclink: link, migrate, unlink and cdc for CDC-linked databases. See
 * cdclink.h and docs/cdc.md.
 *
 * Link in CDC mode, in this order (the order matters):
 *  1. the publication of the schema's tables, listed (never FOR ALL TABLES:
 *     a table without replica identity in it would make its users'
 *     UPDATE and DELETE fail), created first since decoding needs it;
 *  2. the slot, CREATE_REPLICATION_SLOT ... LOGICAL pgoutput (SNAPSHOT
 *     'export') on a replication connection kept idle until the copy ends,
 *     so its snapshot stays importable;
 *  3. the copy of every table in a REPEATABLE READ transaction that imports
 *     that snapshot: it holds exactly the transactions committed before the
 *     slot's consistent point, and the stream starts there;
 *  4. the DuckDB tables, the state row with the consistent point, the sealed
 *     connection string in the catalog, one DuckDB commit; then the stream.
 * A failure after 1 drops what was created in PostgreSQL.
 *
 * `cdc switch` of an audit-linked database makes 1 and 2 the same way and, in
 * place of the copy in 3, applies the audit log rows that the slot's snapshot
 * sees (cdc_switch, below).
 */
#include "cdclink.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalog.h"
#include "cdc.h"
#include "cdcnew.h"
#include "cdcskip.h"
#include "json.h"
#include "linkjob.h"
#include "log.h"
#include "pgjob.h"
#include "pgaudit.h"
#include "pglink.h"
#include "pgoutput.h"
#include "pgschema.h"
#include "reply.h"
#include "secret.h"

#define MIGRATE_TIMEOUT_S 120
#define WAL_PAGE 8192 /* PostgreSQL's XLOG_BLCKSZ, as built by default */
/* How long the creation of a slot may wait for transactions open in PostgreSQL. */
#define SLOT_WAIT_S 300
/* The other way that an error of CDC's requirements names, for link and resync. */
#define LINK_OTHERWISE "or link with mode=audit"

/* ---- link ------------------------------------------------------------- */

typedef enum { MODE_AUTO, MODE_CDC, MODE_AUDIT } LinkMode;

typedef struct LinkRun {
    LinkRequest req; /* its key is wiped at the end */
    PgSchema sc;
    char slot[64]; /* also the publication's name */
    bool pub_made, slot_made;
    uint64_t consistent;
    int64_t rows;
} LinkRun;

/* 1 when PostgreSQL can stream to this role (wal_level logical, REPLICATION or superuser),
 * 0 when not (why ends with `otherwise`, the user's other way), -1 when it cannot be asked (the
 * error recorded). */
static int pg_can_stream(PgJob *pg, const char *otherwise, char *why, size_t whylen)
{
    PGresult *r = pgjob_query(pg,
                              "SELECT current_setting('wal_level'), (SELECT rolreplication OR "
                              "rolsuper FROM pg_roles WHERE rolname = current_user)",
                              0, NULL);
    if (!r)
        return -1;
    int ok = 1;
    if (strcmp(PQgetvalue(r, 0, 0), "logical") != 0) {
        snprintf(why, whylen,
                 "PostgreSQL's wal_level is %s; CDC needs wal_level = logical (ALTER SYSTEM SET "
                 "wal_level = logical, then restart PostgreSQL), %s",
                 PQgetvalue(r, 0, 0), otherwise);
        ok = 0;
    } else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
        snprintf(why, whylen,
                 "the PostgreSQL role has no REPLICATION privilege (ALTER ROLE ... REPLICATION), "
                 "which CDC needs; %s",
                 otherwise);
        ok = 0;
    }
    PQclear(r);
    return ok;
}

/* Refuses the tables (of the schema, or only `table` when not NULL) whose UPDATE and DELETE
 * changes would not identify their rows; the error ends with `otherwise`, the user's other way. */
static int check_identity(LinkJob *j, const char *schema, const char *table, const char *otherwise)
{
    const char *params[2] = {schema, table};
    PGresult *r = pgjob_query(
        &j->pg,
        "SELECT string_agg(quote_ident(c.relname), ', ' ORDER BY c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN "
        "('r', 'p') AND NOT c.relispartition AND ($2::text IS NULL OR c.relname = $2) AND NOT "
        "(c.relreplident = 'f' OR (c.relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_index i "
        "WHERE i.indrelid = c.oid AND i.indisprimary)))",
        2, params);
    if (!r)
        return -1;
    int rc = 0;
    if (!PQgetisnull(r, 0, 0)) {
        pgjob_fail(&j->pg,
                   "Bad Request: CDC needs a primary key (with the default replica identity) or "
                   "REPLICA IDENTITY FULL on every table; not so: %s (ALTER TABLE ... REPLICA "
                   "IDENTITY FULL, %s)",
                   PQgetvalue(r, 0, 0), otherwise);
        rc = -1;
    }
    PQclear(r);
    return rc;
}

/* What a slot's creation waits for, found when it has waited SLOT_WAIT_S. */
typedef struct SlotWait {
    PgJob *pg; /* another connection, to ask */
    int pid;   /* the backend creating the slot */
    char pids[256];
} SlotWait;

/* The backends holding the transaction locks the slot's creation waits for (it waits for
 * every transaction running when it started, to build its snapshot). */
static void slot_blockers(void *ctx)
{
    SlotWait *sw = ctx;
    char pid[16];
    snprintf(pid, sizeof(pid), "%d", sw->pid);
    const char *params[1] = {pid};
    PGresult *r = pgjob_query(sw->pg,
                              "SELECT string_agg(DISTINCT h.pid::text, ', ') FROM pg_locks w JOIN "
                              "pg_locks h ON h.locktype = w.locktype AND h.granted AND "
                              "h.virtualxid IS NOT DISTINCT FROM w.virtualxid AND h.transactionid "
                              "IS NOT DISTINCT FROM w.transactionid WHERE w.pid = $1::int AND NOT "
                              "w.granted AND w.locktype IN ('virtualxid', 'transactionid')",
                              1, params);
    if (r && !PQgetisnull(r, 0, 0))
        snprintf(sw->pids, sizeof(sw->pids), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    sw->pg->err[0] = '\0';
}

/*
 * Creates the slot `name` (TEMPORARY when `temporary`: dropped when j->repl closes) on a new
 * replication connection j->repl, which must stay open and idle until the copy ends, and opens
 * a REPEATABLE READ transaction on j->pg that imports the slot's exported snapshot.
 * *consistent gets the slot's consistent point; *made whether the slot exists. 0, or -1 with
 * the error in j->pg.
 */
static int make_slot(LinkJob *j, const char *dsn, const char *name, bool temporary,
                     uint64_t *consistent, bool *made)
{
    Buf sql = {0};
    PGresult *r = NULL;
    int rc = -1;
    if (pgjob_connect_replication(&j->repl, dsn) != 0) {
        pgjob_fail(&j->pg, "%s", j->repl.err);
        goto out;
    }
    buf_printf(&sql, "CREATE_REPLICATION_SLOT \"%s\"%s LOGICAL pgoutput (SNAPSHOT 'export')", name,
               temporary ? " TEMPORARY" : "");
    int wait_s = SLOT_WAIT_S;
#ifdef TCPDUCKDB_TEST_HOOKS
    const char *hook = getenv("TCPDUCKDB_TEST_CDC_SLOT_WAIT_S");
    if (hook)
        wait_s = atoi(hook);
#endif
    SlotWait sw = {.pg = &j->pg, .pid = pgjob_backend_pid(&j->repl)};
    bool timed_out = false;
    r = pgjob_query_timed(&j->repl, buf_cstr(&sql), wait_s * 1000, slot_blockers, &sw, &timed_out);
    if (timed_out) {
        pgjob_fail(&j->pg,
                   "Server Busy: creating the replication slot waited %d s for transactions open "
                   "in PostgreSQL to end (backend pid %s; see pg_stat_activity): commit or end "
                   "them, then try again",
                   wait_s, sw.pids[0] ? sw.pids : "not found");
        goto out;
    }
    if (!r) {
        pgjob_fail(&j->pg, "%s", j->repl.err);
        goto out;
    }
    *made = true;
    if (PQntuples(r) != 1 || PQnfields(r) < 3 ||
        pgoutput_lsn_parse(PQgetvalue(r, 0, 1), consistent) != 0) {
        pgjob_fail(&j->pg, "PostgreSQL: an unexpected answer to CREATE_REPLICATION_SLOT");
        goto out;
    }
    sql.len = 0;
    buf_append_str(&sql, "SET TRANSACTION SNAPSHOT ");
    pgschema_put_literal(&sql, PQgetvalue(r, 0, 2));
    if (pgjob_exec(&j->pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0 ||
        pgjob_exec(&j->pg, buf_cstr(&sql)) != 0)
        goto out;
    rc = 0;
out:
    PQclear(r);
    buf_free(&sql);
    return rc;
}

/* The publication (1), the slot (2) and the snapshot's import (3). */
static int link_pg_side(LinkJob *j, LinkRun *lr)
{
    Buf sql = {0};
    int rc = -1;
    if (linkjob_random_name(j, "tcpduckdb_", 8, lr->slot, sizeof(lr->slot)) != 0)
        goto out;
    buf_printf(&sql, "CREATE PUBLICATION \"%s\"", lr->slot);
    for (int t = 0; t < lr->sc.n; t++) {
        buf_append_str(&sql, t ? ", " : " FOR TABLE ");
        pgschema_put_relation(&sql, lr->req.schema, lr->sc.tables[t].name);
    }
    buf_append_str(&sql, " WITH (publish_via_partition_root = true)");
    if (pgjob_exec(&j->pg, buf_cstr(&sql)) != 0)
        goto out;
    lr->pub_made = true;
    /* Tables created later join by the event trigger (a superuser role only; cdcnew.h). */
    if (cdcnew_install(&j->pg, lr->req.schema, lr->slot) < 0)
        goto out;
    rc = make_slot(j, lr->req.dsn, lr->slot, false, &lr->consistent, &lr->slot_made);
out:
    buf_free(&sql);
    return rc;
}

/* Creates the CDC state table and its row (the stream to start at `lsn`), in the job's open
 * DuckDB transaction: 0, or -1 with the error recorded. */
static int state_create(LinkJob *j, const char *schema, const char *slot, uint64_t lsn)
{
    duckdb_prepared_statement prep = NULL;
    int rc = -1;
    if (linkjob_exec(j,
                     "CREATE TABLE " CDC_STATE_TABLE " (pg_schema VARCHAR NOT NULL, slot VARCHAR "
                     "NOT NULL, publication VARCHAR NOT NULL, lsn BIGINT NOT NULL, running "
                     "BOOLEAN NOT NULL, linked_at TIMESTAMPTZ NOT NULL, applied_at TIMESTAMPTZ, "
                     "changes_applied BIGINT NOT NULL)") != 0)
        goto out;
    if (linkjob_prepare(j,
                        "INSERT INTO " CDC_STATE_TABLE
                        " VALUES (?, ?, ?, ?, true, current_timestamp, NULL, 0)",
                        &prep) != 0)
        goto out;
    duckdb_bind_varchar(prep, 1, schema);
    duckdb_bind_varchar(prep, 2, slot);
    duckdb_bind_varchar(prep, 3, slot);
    duckdb_bind_int64(prep, 4, (int64_t)lsn);
    rc = linkjob_execute(j, prep);
out:
    duckdb_destroy_prepare(&prep);
    return rc;
}

/* The DuckDB tables and state row, the catalog record, the commit (4). */
static int link_duck_side(LinkJob *j, const SessionEnv *env, LinkRun *lr)
{
    if (linkjob_copy_tables(j, lr->req.schema, &lr->sc, &lr->rows) != 0)
        return -1;
    if (pgjob_exec(&j->pg, "COMMIT") != 0)
        return -1;
    if (state_create(j, lr->req.schema, lr->slot, lr->consistent) != 0)
        return -1;
    return linkjob_commit_link(j, env, &lr->req);
}

/* After a failed link: drops the slot and the publication it created. */
static void link_undo_pg(LinkJob *j, const LinkRun *lr)
{
    pgjob_close(&j->repl); /* the slot is active while its connection lives */
    pgjob_rollback(&j->pg);
    const char *params[1] = {lr->slot};
    if (lr->slot_made)
        pgjob_exec_quiet(&j->pg, "SELECT pg_drop_replication_slot($1)", 1, params);
    if (lr->pub_made) {
        char err[sizeof(j->pg.err)]; /* the link's own error, answered already, stays */
        memcpy(err, j->pg.err, sizeof(err));
        if (cdcnew_uninstall(&j->pg, lr->slot) != 0)
            log_warn("link: the event trigger %s was not dropped: %s", lr->slot, j->pg.err);
        memcpy(j->pg.err, err, sizeof(err));
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP PUBLICATION IF EXISTS \"%s\"", lr->slot);
        pgjob_exec_quiet(&j->pg, sql, 0, NULL);
    }
}

static void link_cdc(const SessionEnv *env, const RequestWords *w, LinkRun *lr, Buf *out)
{
    LinkJob j = {0};
    char why[512];
    if (linkjob_request(env, w, &lr->req, out) != 0)
        return;
    if (lr->req.had_record && cdc_is_linked(lr->req.db_id)) {
        reply_bad_request(out, "database %s is already linked to PostgreSQL (use migrate %s)",
                          lr->req.name, lr->req.name);
        return;
    }
    /* Refused before anything is made in PostgreSQL; cdc_register() checks again at the end,
     * when another stream may have started meanwhile (the link then stays stopped). */
    if (cdc_admit(why, sizeof(why)) != 0) {
        reply_server_busy(out, why);
        return;
    }
    if (linkjob_open(&j, env, lr->req.db_id, out) != 0 || linkjob_require_empty(&j, &lr->req) != 0)
        goto out;
    if (pgjob_connect(&j.pg, lr->req.dsn) != 0)
        goto out;
    int can = pg_can_stream(&j.pg, LINK_OTHERWISE, why, sizeof(why));
    if (can == 0)
        pgjob_fail(&j.pg, "Bad Request: %s", why);
    if (can != 1)
        goto out;
    if (pgschema_read(&j.pg, lr->req.schema, NULL, &lr->sc) != 0 ||
        check_identity(&j, lr->req.schema, NULL, LINK_OTHERWISE) != 0)
        goto out;
    if (link_pg_side(&j, lr) != 0 || link_duck_side(&j, env, lr) != 0)
        goto out;
    pgjob_close(&j.repl);
    char err[256] = "";
    if (cdc_register(lr->req.db_id, lr->req.name, true, err, sizeof(err)) != 0)
        log_warn("link of %s: the stream was not started: %s", lr->req.name, err);
    for (int t = 0; t < lr->sc.n; t++) /* read-only from the link's answer on (cdcguard.h) */
        cdc_follow(lr->req.db_id, lr->sc.tables[t].name);
    char masked[1024];
    secret_mask_conninfo(lr->req.dsn, masked, sizeof(masked));
    log_info("database %s linked to %s schema %s in CDC mode (slot %s): %d tables, %" PRId64
             " rows",
             lr->req.name, masked, lr->req.schema, lr->slot, lr->sc.n, lr->rows);
    reply_success(out);
out:
    if (linkjob_reply_error(&j, "link", lr->req.name, out))
        link_undo_pg(&j, lr);
    linkjob_end(&j, env);
}

/* Which mode `auto` means for this PostgreSQL: CDC when it can stream, else audit. */
static LinkMode auto_mode(const char *dsn)
{
    PgJob pg = {0};
    char why[512];
    LinkMode m = MODE_AUDIT;
    if (pgjob_connect(&pg, dsn) == 0 && pg_can_stream(&pg, LINK_OTHERWISE, why, sizeof(why)) == 1)
        m = MODE_CDC;
    pgjob_close(&pg);
    return m;
}

void cdclink_cmd_link(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    RequestWords rest = *w;
    LinkMode mode = MODE_AUTO;
    if (w->n >= 4 && strncasecmp(w->word[w->n - 1], "mode=", 5) == 0) {
        const char *m = w->word[w->n - 1] + 5;
        if (strcasecmp(m, "cdc") == 0)
            mode = MODE_CDC;
        else if (strcasecmp(m, "audit") == 0)
            mode = MODE_AUDIT;
        else if (strcasecmp(m, "auto") != 0) {
            reply_bad_request(out, "mode must be auto, cdc or audit");
            return;
        }
        rest.n--;
    }
    if (rest.n != 3 && rest.n != 4) {
        reply_bad_request(out, "usage: link DATABASE \"CONNECTION STRING\" [SCHEMA] "
                               "[mode=auto|cdc|audit]");
        return;
    }
    if (mode == MODE_AUTO)
        mode = auto_mode(rest.word[2]);
    if (mode == MODE_AUDIT) {
        pglink_cmd_link(s, env, &rest, out);
        return;
    }
    LinkRun lr = {0};
    link_cdc(env, &rest, &lr, out);
    pgschema_free(&lr.sc);
    explicit_bzero(&lr.req.key, sizeof(lr.req.key));
}

/* ---- migrate, unlink, cdc --------------------------------------------- */

/* The CDC-linked database named by a request word: its id, or -1 with the answer in `out`
 * (0 when it exists but is not CDC-linked). */
static int64_t find_cdc_db(const SessionEnv *env, const char *name, Buf *out)
{
    int64_t id = 0;
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return -1;
    }
    CatalogStatus st = catalog_database_find(env->catalog, name, &id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", name);
        return -1;
    }
    return cdc_is_linked(id) ? id : 0;
}

/* The CDC-linked database named by word 1 of `migrate` or `unlink`, or 0 when the request is
 * answered already: an error, or handed to pglink's `audit` (a database not linked by CDC). */
static int64_t cdc_target(Session *s, const SessionEnv *env, const RequestWords *w,
                          SessionCommandFn audit, Buf *out)
{
    int64_t id = find_cdc_db(env, w->word[1], out);
    if (id == 0)
        audit(s, env, w, out);
    return id > 0 ? id : 0;
}

void cdclink_cmd_migrate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    if (w->n != 2) {
        reply_bad_request(out, "usage: migrate DATABASE");
        return;
    }
    int64_t id = cdc_target(s, env, w, pglink_cmd_migrate, out);
    if (id == 0)
        return;
    PgJob pg = {0};
    char err[1024] = "";
    size_t dsn_len = 0;
    char *dsn = cdc_dsn_open(env, id, &dsn_len, err, sizeof(err));
    uint64_t target = 0;
    int64_t changes = 0;
    if (!dsn)
        goto out;
    if (pgjob_connect(&pg, dsn) != 0)
        goto out;
    /* The insert position, not pg_current_wal_lsn() (the write position): with
     * synchronous_commit off, a transaction that has committed may not be written yet. */
    PGresult *r = pgjob_query(&pg, "SELECT pg_current_wal_insert_lsn()::text", 0, NULL);
    if (!r)
        goto out;
    int prc = pgoutput_lsn_parse(PQgetvalue(r, 0, 0), &target);
    PQclear(r);
    if (prc != 0) {
        pgjob_fail(&pg, "PostgreSQL: an unexpected WAL position");
        goto out;
    }
    /* At the start of a WAL page the insert position lies past the page's header (24
     * bytes, 40 on a segment's first page), where no record ends: the end of the last
     * record is the page boundary. */
    if (target % WAL_PAGE > 0 && target % WAL_PAGE <= 40)
        target -= target % WAL_PAGE;
    if (cdc_catch_up(id, target, MIGRATE_TIMEOUT_S, &changes, err, sizeof(err)) != 0)
        goto out;
    log_info("database %s migrated (CDC): %" PRId64 " changes applied", w->word[1], changes);
    buf_printf(out, "success %" PRId64 "\n", changes);
out:
    if (pg.err[0] || err[0]) {
        log_info("migrate of %s failed: %s", w->word[1], pg.err[0] ? pg.err : err);
        reply_engine_error(out, pg.err[0] ? pg.err : err);
    }
    linkjob_dsn_free(dsn, dsn_len);
    pgjob_close(&pg);
}

/* The CDC state row as the commands read it. */
typedef struct StateRow {
    char schema[256], slot[64], pub[64];
    bool running;
} StateRow;

/* Reads the CDC state row (j's DuckDB connection). */
static int read_state(LinkJob *j, StateRow *st)
{
    duckdb_result res;
    int rc = -1;
    if (duckdb_query(j->con, "SELECT slot, publication, pg_schema, running FROM " CDC_STATE_TABLE,
                     &res) == DuckDBSuccess &&
        duckdb_row_count(&res) == 1) {
        linkjob_state_text(&res, 0, st->slot, sizeof(st->slot));
        linkjob_state_text(&res, 1, st->pub, sizeof(st->pub));
        linkjob_state_text(&res, 2, st->schema, sizeof(st->schema));
        st->running = duckdb_value_boolean(&res, 3, 0);
        rc = 0;
    }
    duckdb_destroy_result(&res);
    return rc;
}

/*
 * Drops the slots a crash may have left of the publication `pub` (a resync makes slots named
 * after it, and drops the one it replaces only after its DuckDB commit), except `keep` and
 * those in use. Best effort: a failure is logged.
 */
static void drop_stale_slots(PgJob *pg, const char *pub, const char *keep)
{
    const char *params[2] = {pub, keep};
    PGresult *r = pgjob_query(pg,
                              "SELECT pg_drop_replication_slot(slot_name) FROM "
                              "pg_replication_slots WHERE left(slot_name, length($1)) = $1 AND "
                              "slot_name <> $2 AND NOT active AND database = current_database()",
                              2, params);
    if (!r)
        log_warn("cdc: the slots left of publication %s were not dropped: %s", pub, pg->err);
    PQclear(r);
    pg->err[0] = '\0';
}

/* Drops the slot (waiting up to 10 s for its WAL sender to let go). */
static int drop_slot(PgJob *pg, const char *slot)
{
    const char *params[1] = {slot};
    for (int tries = 0;; tries++) {
        PGresult *r = pgjob_query(pg,
                                  "SELECT pg_drop_replication_slot(slot_name) FROM "
                                  "pg_replication_slots WHERE slot_name = $1",
                                  1, params);
        if (r) {
            PQclear(r);
            break;
        }
        if (tries >= 100)
            return -1; /* the last error stays recorded */
        pg->err[0] = '\0';
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Drops the slot, the slots a crash may have left, and the publication. */
static int drop_pg_side(PgJob *pg, const char *slot, const char *pub)
{
    if (drop_slot(pg, slot) != 0)
        return -1;
    drop_stale_slots(pg, pub, slot);
    if (cdcnew_uninstall(pg, pub) != 0)
        return -1;
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP PUBLICATION IF EXISTS \"%s\"", pub);
    return pgjob_exec(pg, sql);
}

static void orphan_record(const SessionEnv *env, int64_t id, const char *name, const StateRow *sr,
                          const char *dsn, const char *why);

void cdclink_cmd_unlink(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    bool force = w->n == 3 && request_word_is(w->word[2], "force");
    if (w->n != 2 && !force) {
        reply_bad_request(out, "usage: unlink DATABASE [force]");
        return;
    }
    int64_t id = cdc_target(s, env, w, pglink_cmd_unlink, out);
    if (id == 0)
        return;
    const char *name = w->word[1];
    LinkJob j = {0};
    StateRow sr = {0};
    char *slot = sr.slot, *pub = sr.pub, err[512] = "";
    size_t dsn_len = 0;
    char *dsn = NULL;
    cdc_stop(id);
    if (linkjob_open(&j, env, id, out) != 0)
        goto out;
    bool have_names = read_state(&j, &sr) == 0;
    dsn = cdc_dsn_open(env, id, &dsn_len, err, sizeof(err));
    bool pg_done =
        have_names && dsn && pgjob_connect(&j.pg, dsn) == 0 && drop_pg_side(&j.pg, slot, pub) == 0;
    if (!pg_done && !force) {
        if (!j.pg.err[0])
            pgjob_fail(&j.pg, "%s", err[0] ? err : "no valid " CDC_STATE_TABLE " table");
        char e2[256];
        if (cdc_start(id, e2, sizeof(e2)) != 0)
            log_warn("unlink of %s: the stream was not restarted: %s", name, e2);
        goto out;
    }
    if (!pg_done) {
        log_warn("unlink of %s: forced; slot %s and publication %s were not dropped: %s", name,
                 slot, pub, j.pg.err[0] ? j.pg.err : err);
        if (have_names)
            orphan_record(env, id, name, &sr, dsn, j.pg.err[0] ? j.pg.err : err);
    }
    j.pg.err[0] = '\0';
    if (cdcskip_drop(&j.pg, j.con) != 0 || linkjob_forget(&j, env, id, CDC_STATE_TABLE) != 0)
        goto out;
    cdc_forget(id);
    log_info("database %s unlinked from PostgreSQL (CDC)%s", name,
             pg_done ? "" : " (forced: slot and publication left in PostgreSQL)");
    reply_success(out);
out:
    (void)linkjob_reply_error(&j, "unlink", name, out);
    linkjob_dsn_free(dsn, dsn_len);
    linkjob_end(&j, env);
}

/* Stores whether the stream of `id` runs, so that a restart of the server resumes it or not. */
static int store_running(const SessionEnv *env, int64_t id, bool running, Buf *out)
{
    LinkJob j = {0};
    int rc = -1;
    if (linkjob_open(&j, env, id, out) != 0)
        goto out;
    if (linkjob_exec(&j, running ? "UPDATE " CDC_STATE_TABLE " SET running = true"
                                 : "UPDATE " CDC_STATE_TABLE " SET running = false") != 0) {
        reply_engine_error(out, j.pg.err);
        goto out;
    }
    rc = 0;
out:
    linkjob_end(&j, env);
    return rc;
}

/* ---- cdc resync --------------------------------------------------------- */

/* Puts `table` (all of sc when NULL) in the publication: SET TABLE lists the schema's tables
 * now (new ones join), ADD TABLE adds one when it is not a member yet. */
static int resync_publication(LinkJob *j, const StateRow *sr, const PgSchema *sc, const char *table)
{
    Buf sql = {0};
    int rc = -1;
    if (table) {
        const char *params[3] = {sr->pub, sr->schema, table};
        int n = pgjob_rows(&j->pg,
                           "SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname "
                           "= $2 AND tablename = $3",
                           3, params);
        if (n < 0)
            goto out;
        if (n > 0) {
            rc = 0;
            goto out;
        }
        buf_printf(&sql, "ALTER PUBLICATION \"%s\" ADD TABLE ", sr->pub);
        pgschema_put_relation(&sql, sr->schema, table);
    } else {
        if (sc->n == 0) {
            rc = 0;
            goto out;
        }
        buf_printf(&sql, "ALTER PUBLICATION \"%s\" SET TABLE ", sr->pub);
        for (int t = 0; t < sc->n; t++) {
            if (t)
                buf_append_str(&sql, ", ");
            pgschema_put_relation(&sql, sr->schema, sc->tables[t].name);
        }
    }
    rc = pgjob_exec(&j->pg, buf_cstr(&sql));
out:
    buf_free(&sql);
    return rc;
}

/*
 * `cdc resync DB [TABLE]` (docs/cdc.md, "cdc resync", which argues the design). The stream is
 * stopped meanwhile and started again after when it was running.
 *  - The whole database: a new slot `<publication>_<hex>` with an exported snapshot, every
 *    table of the schema copied again from it, and the state row's slot and LSN set to the new
 *    slot and its consistent point, in one DuckDB commit; the old slot is dropped after that
 *    commit (a crash before it leaves a slot that the next resync or unlink drops).
 *  - One table: a TEMPORARY slot (dropped with its connection) only for its snapshot; the table
 *    copied again from it and (table, consistent point) stored in the same DuckDB commit
 *    (cdcskip.h): the stream, resuming from its own position, skips that table's changes of
 *    the transactions the copy holds.
 */
static void cdc_resync(const SessionEnv *env, int64_t id, const char *name, const char *table,
                       Buf *out)
{
    LinkJob j = {0};
    StateRow sr = {0};
    PgSchema sc = {0};
    char newslot[64] = "", err[512] = "";
    size_t dsn_len = 0;
    char *dsn = NULL;
    bool stopped = false, slot_made = false, done = false;
    uint64_t consistent = 0;
    int64_t rows = 0;
    duckdb_prepared_statement prep = NULL;
    if (linkjob_open(&j, env, id, out) != 0)
        goto out;
    if (read_state(&j, &sr) != 0) {
        pgjob_fail(&j.pg, "database %s has no valid " CDC_STATE_TABLE " table", name);
        goto out;
    }
    if (!(dsn = cdc_dsn_open(env, id, &dsn_len, err, sizeof(err)))) {
        pgjob_fail(&j.pg, "%s", err);
        goto out;
    }
    if (pgjob_connect(&j.pg, dsn) != 0)
        goto out;
    int can = pg_can_stream(&j.pg, LINK_OTHERWISE, err, sizeof(err));
    if (can == 0)
        pgjob_fail(&j.pg, "Bad Request: %s", err);
    if (can != 1)
        goto out;
    if (pgschema_read(&j.pg, sr.schema, table, &sc) != 0)
        goto out;
    if (table && sc.n != 1) {
        pgjob_fail(&j.pg, "Bad Request: PostgreSQL has no table %s in schema %s", table, sr.schema);
        goto out;
    }
    /* The publication before the slot: the slot decodes each change with the publication
     * as of that change, so a table must be a member before the snapshot is taken. */
    if (check_identity(&j, sr.schema, table, LINK_OTHERWISE) != 0 ||
        resync_publication(&j, &sr, &sc, table) != 0)
        goto out;
    /* A link made before the event trigger of new tables existed gets it here (cdcnew.h). */
    if (!table && cdcnew_install(&j.pg, sr.schema, sr.pub) < 0)
        goto out;
    /* Stopped before the slot: for one table, the stream's stored LSN must stay below the
     * consistent point (its changes between the two are skipped, not lost); for all, the
     * copy's commit must not race a batch. A request refused above leaves it running. */
    cdc_stop(id);
    stopped = true;
    if (sr.running) /* read-only while stopped for the copy, as when it runs */
        cdc_hold_guard(id, true);
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "%s_", sr.pub);
    if (linkjob_random_name(&j, prefix, 4, newslot, sizeof(newslot)) != 0 ||
        make_slot(&j, dsn, newslot, table != NULL, &consistent, &slot_made) != 0)
        goto out;
    if (linkjob_recopy_tables(&j, sr.schema, &sc, &rows) != 0 || pgjob_exec(&j.pg, "COMMIT") != 0)
        goto out;
    if (table) {
        if (cdcskip_set(&j.pg, j.con, table, consistent) != 0)
            goto out;
    } else {
        if (cdcskip_prune(&j.pg, j.con, UINT64_MAX) != 0 ||
            linkjob_prepare(&j, "UPDATE " CDC_STATE_TABLE " SET slot = ?, lsn = ?", &prep) != 0)
            goto out;
        duckdb_bind_varchar(prep, 1, newslot);
        duckdb_bind_int64(prep, 2, (int64_t)consistent);
        if (linkjob_execute(&j, prep) != 0)
            goto out;
    }
    if (linkjob_commit(&j, env) != 0)
        goto out;
    done = true;
    pgjob_close(&j.repl); /* a TEMPORARY slot goes with it */
    if (!table && drop_slot(&j.pg, sr.slot) != 0)
        log_warn("cdc resync of %s: the replaced slot %s was not dropped (the next resync or "
                 "unlink drops it): %s",
                 name, sr.slot, j.pg.err);
    j.pg.err[0] = '\0';
    if (!table)
        drop_stale_slots(&j.pg, sr.pub, newslot);
    log_info("cdc resync of %s%s%s: %" PRId64 " rows copied from the snapshot at %s", name,
             table ? " table " : "", table ? table : "", rows, newslot);
    reply_success(out);
out:
    duckdb_destroy_prepare(&prep);
    if (linkjob_reply_error(&j, "cdc resync", name, out) && slot_made && !done && !table) {
        pgjob_close(&j.repl);
        pgjob_rollback(&j.pg);
        const char *params[1] = {newslot};
        pgjob_exec_quiet(&j.pg, "SELECT pg_drop_replication_slot($1)", 1, params);
    }
    linkjob_dsn_free(dsn, dsn_len);
    pgschema_free(&sc);
    linkjob_end(&j, env);
    char e2[256];
    if (stopped && sr.running && cdc_start(id, e2, sizeof(e2)) != 0)
        log_warn("cdc resync of %s: the stream was not restarted: %s", name, e2);
    cdc_hold_guard(id, false);
}

/* ---- cdc switch: an audit link to CDC, without a copy -------------------- */

/* The other way that an error of CDC's requirements names, for cdc switch. */
#define SWITCH_OTHERWISE "or keep the audit link"

/* 1 when the job's DuckDB database has table `table` (schema main), 0 when not, -1 with the
 * error recorded. */
static int duck_has_table(LinkJob *j, const char *table)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    int rc = -1;
    if (linkjob_prepare(j,
                        "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                        "AND schema_name = 'main' AND table_name = ?",
                        &prep) != 0)
        goto out;
    duckdb_bind_varchar(prep, 1, table);
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess)
        pgjob_fail(&j->pg, "%s", duckdb_result_error(&res));
    else
        rc = duckdb_row_count(&res) > 0 ? 1 : 0;
    duckdb_destroy_result(&res);
out:
    duckdb_destroy_prepare(&prep);
    return rc;
}

/*
 * `cdc switch DB` (docs/cdc.md, "cdc switch"): the audit-linked database `name` follows
 * PostgreSQL by CDC from now on, without copying its tables again.
 *  1. CDC's requirements, as link checks them, and the audit consumer still registered;
 *  2. the publication of the schema's tables, the event trigger of new tables (a superuser
 *     role), the slot with its exported snapshot, imported by a REPEATABLE READ transaction
 *     (link_pg_side, as link makes them);
 *  3. in that snapshot, the audit rows the link's stored position did not see (migrate's
 *     reading, pglink_audit_apply), and a copy of each table of the schema the DuckDB database
 *     lacks (created after link while no audit event trigger added it); then the audit state
 *     table dropped and the CDC one created at the slot's consistent point; one DuckDB commit.
 *     The exported snapshot sees exactly the transactions committed before the consistent
 *     point: those reach DuckDB through the audit log, all later ones through the slot, so a
 *     writer during the switch is neither lost nor doubled;
 *  4. after the commit, the audit consumer removed (with the triggers and the log when no
 *     other link follows the schema), then the stream started.
 * A failure before the commit drops what 2 made: the link stays in audit mode, whole. A
 * failure in 4 is logged: CDC runs, and the audit objects left behind only fill the log.
 */
static void cdc_switch(const SessionEnv *env, const char *name, Buf *out)
{
    LinkJob j = {0};
    LinkRun lr = {0};
    PglinkState as = {0};
    char why[512] = "";
    char *dsn = NULL;
    size_t dsn_len = 0;
    int64_t id = 0, changes = 0, copied = 0;
    bool committed = false;
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return;
    }
    CatalogStatus st = catalog_database_find(env->catalog, name, &id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", name);
        return;
    }
    if (cdc_is_linked(id)) {
        reply_bad_request(out, "database %s is linked in CDC mode already", name);
        return;
    }
    switch (linkjob_dsn_open(env, id, &dsn, &dsn_len)) {
    case LINKJOB_DSN_OK:
        break;
    case LINKJOB_DSN_NOT_LINKED:
        reply_bad_request(out,
                          "database %s is not linked to PostgreSQL (cdc switch needs a link in "
                          "audit mode; link it with mode=cdc)",
                          name);
        return;
    case LINKJOB_DSN_CATALOG:
        reply_internal(out);
        return;
    case LINKJOB_DSN_KEY:
        pgjob_fail(&j.pg,
                   "cannot decrypt the stored connection string of %s: ENCRYPTION_KEY is not the "
                   "key it was linked with",
                   name);
        goto out;
    }
    if (cdc_admit(why, sizeof(why)) != 0) {
        reply_server_busy(out, why);
        goto out;
    }
    if (linkjob_open(&j, env, id, out) != 0)
        goto out;
    if (pglink_state_read(&j, &as) != 0) {
        pgjob_fail(&j.pg,
                   "Bad Request: database %s has no valid " PGLINK_STATE_TABLE
                   " table, so it is not linked in audit mode",
                   name);
        goto out;
    }
    lr.req.name = name;
    lr.req.dsn = dsn;
    lr.req.schema = as.schema;
    lr.req.db_id = id;
    /* 1 */
    if (pgjob_connect(&j.pg, dsn) != 0)
        goto out;
    int can = pg_can_stream(&j.pg, SWITCH_OTHERWISE, why, sizeof(why));
    if (can == 0)
        pgjob_fail(&j.pg, "Bad Request: %s", why);
    if (can != 1)
        goto out;
    if (pgschema_read(&j.pg, as.schema, NULL, &lr.sc) != 0 ||
        check_identity(&j, as.schema, NULL, SWITCH_OTHERWISE) != 0)
        goto out;
    if (pgaudit_require_consumer(&j.pg, as.consumer, name) != 0)
        goto out;
    /* 2, 3 */
    if (link_pg_side(&j, &lr) != 0 ||
        pglink_audit_apply(&j, name, as.schema, as.snapshot, &changes) != 0)
        goto out;
    for (int t = 0; t < lr.sc.n; t++) {
        int has = duck_has_table(&j, lr.sc.tables[t].name);
        int64_t rows = 0;
        if (has < 0)
            goto out;
        if (has == 0) {
            if (cdcnew_copy_table(&j.pg, j.con, as.schema, &lr.sc.tables[t], &rows) != 0)
                goto out;
            copied++;
        }
    }
    if (linkjob_exec(&j, "DROP TABLE " PGLINK_STATE_TABLE) != 0 ||
        state_create(&j, as.schema, lr.slot, lr.consistent) != 0 || linkjob_commit(&j, env) != 0)
        goto out;
    committed = true;
    /* 4 */
    pgjob_rollback(&j.pg); /* the snapshot's read-only transaction */
    pgjob_close(&j.repl);
    if (pgaudit_remove(&j.pg, as.schema, as.consumer) != 0) {
        log_warn("cdc switch of %s: switched, but the audit consumer %s was not removed from "
                 "PostgreSQL (its triggers keep filling tcpduckdb_audit.log): %s",
                 name, as.consumer, j.pg.err);
        j.pg.err[0] = '\0';
    }
    char err[256] = "";
    if (cdc_register(id, name, true, err, sizeof(err)) != 0)
        log_warn("cdc switch of %s: the stream was not started: %s", name, err);
    for (int t = 0; t < lr.sc.n; t++) /* read-only from the answer on (cdcguard.h) */
        cdc_follow(id, lr.sc.tables[t].name);
    log_info("database %s switched from audit mode to CDC (slot %s): %" PRId64
             " logged changes applied, %" PRId64 " tables copied",
             name, lr.slot, changes, copied);
    reply_success(out);
out:
    if (linkjob_reply_error(&j, "cdc switch", name, out) && !committed)
        link_undo_pg(&j, &lr);
    linkjob_dsn_free(dsn, dsn_len);
    pgschema_free(&lr.sc);
    linkjob_end(&j, env);
}

/* ---- orphans: what a forced unlink left in PostgreSQL --------------------- */

/*
 * Records the slot and publication of `sr` that a forced unlink of `name` (database `id`)
 * could not drop, with the link's sealed connection string (read before the link record goes)
 * so that `cdc drop-orphans` can drop them later. Best effort: a failure is logged.
 */
static void orphan_record(const SessionEnv *env, int64_t id, const char *name, const StateRow *sr,
                          const char *dsn, const char *why)
{
    CatalogCdcOrphan o = {.database_id = id};
    unsigned char *blob = NULL;
    size_t len = 0;
    if (catalog_pglink_get(env->catalog, id, &blob, &len) != CATALOG_OK) {
        log_warn("unlink of %s: the link's connection string is gone; slot %s and publication "
                 "%s are not recorded (drop them by hand)",
                 name, sr->slot, sr->pub);
        return;
    }
    snprintf(o.database, sizeof(o.database), "%s", name);
    snprintf(o.slot, sizeof(o.slot), "%s", sr->slot);
    snprintf(o.publication, sizeof(o.publication), "%s", sr->pub);
    if (dsn)
        secret_mask_conninfo(dsn, o.target, sizeof(o.target));
    else
        snprintf(o.target, sizeof(o.target), "(not readable: ENCRYPTION_KEY)");
    snprintf(o.last_error, sizeof(o.last_error), "%s", why);
    o.dsn_sealed = blob;
    o.dsn_len = len;
    if (catalog_cdc_orphan_add(env->catalog, &o) != CATALOG_OK)
        log_warn("unlink of %s: slot %s and publication %s could not be recorded (drop them by "
                 "hand)",
                 name, sr->slot, sr->pub);
    free(blob);
}

/* Appends the orphans to the JSON array of `cdc status` in `out` (which ends in "]\n"). */
static void orphans_json(const SessionEnv *env, Buf *out)
{
    CatalogCdcOrphan *v = NULL;
    size_t n = 0;
    if (catalog_cdc_orphan_list(env->catalog, &v, &n) != CATALOG_OK || n == 0) {
        catalog_cdc_orphans_free(v, n);
        return;
    }
    assert(out->len >= 2 && out->data[out->len - 1] == '\n');
    out->len -= 2; /* the closing "]\n" */
    bool first = out->data[out->len - 1] == '[';
    for (size_t i = 0; i < n; i++) {
        const CatalogCdcOrphan *o = &v[i];
        buf_append_str(out, first && i == 0 ? "{\"database\":" : ",{\"database\":");
        json_append_string(out, o->database, strlen(o->database));
        buf_append_str(out, ",\"state\":\"orphaned\",\"slot\":");
        json_append_string(out, o->slot, strlen(o->slot));
        buf_append_str(out, ",\"publication\":");
        json_append_string(out, o->publication, strlen(o->publication));
        buf_append_str(out, ",\"target\":");
        json_append_string(out, o->target, strlen(o->target));
        buf_append_str(out, ",\"left_at\":");
        json_append_string(out, o->left_at, strlen(o->left_at));
        buf_append_str(out, ",\"last_error\":");
        json_append_string(out, o->last_error, strlen(o->last_error));
        buf_putc(out, '}');
    }
    buf_append_str(out, "]\n");
    catalog_cdc_orphans_free(v, n);
}

/*
 * `cdc drop-orphans`: tries each recorded orphan once, dropping its slot and publication
 * (drop_pg_side, as unlink does) and forgetting the record when that worked. Answers
 * `success N` (N dropped) when none is left, else an error naming the first left and why.
 */
static void orphans_drop(const SessionEnv *env, Buf *out)
{
    CatalogCdcOrphan *v = NULL;
    size_t n = 0;
    int dropped = 0, left = 0;
    char first_left[1024] = "";
    if (catalog_cdc_orphan_list(env->catalog, &v, &n) != CATALOG_OK) {
        reply_internal(out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        CatalogCdcOrphan *o = &v[i];
        PgJob pg = {0};
        char *dsn = NULL;
        size_t dsn_len = 0;
        if (linkjob_dsn_unseal(env, o->database_id, o->dsn_sealed, o->dsn_len, &dsn, &dsn_len) !=
            LINKJOB_DSN_OK)
            pgjob_fail(&pg, "the connection string cannot be opened: ENCRYPTION_KEY is not the "
                            "key it was sealed with");
        else if (pgjob_connect(&pg, dsn) == 0 && drop_pg_side(&pg, o->slot, o->publication) == 0)
            pg.err[0] = '\0';
        else if (!pg.err[0])
            pgjob_fail(&pg, "PostgreSQL failed");
        if (!pg.err[0] && catalog_cdc_orphan_delete(env->catalog, o->id) == CATALOG_OK) {
            dropped++;
            log_info("cdc: orphaned slot %s and publication %s of %s dropped", o->slot,
                     o->publication, o->database);
        } else {
            if (!pg.err[0])
                pgjob_fail(&pg, "the catalog record could not be removed");
            if (catalog_cdc_orphan_set_error(env->catalog, o->id, pg.err) != CATALOG_OK)
                log_warn("cdc: the error of orphan %s was not recorded", o->slot);
            if (left++ == 0)
                snprintf(first_left, sizeof(first_left),
                         "slot %s and publication %s of %s at %s: %s", o->slot, o->publication,
                         o->database, o->target, pg.err);
        }
        linkjob_dsn_free(dsn, dsn_len);
        pgjob_close(&pg);
    }
    catalog_cdc_orphans_free(v, n);
    if (left == 0) {
        buf_printf(out, "success %d\n", dropped);
        return;
    }
    char msg[1400];
    snprintf(msg, sizeof(msg), "%d dropped, %d left (see cdc status); first left: %s", dropped,
             left, first_left);
    log_warn("cdc drop-orphans: %s", msg);
    reply_engine_error(out, msg);
}

void cdclink_cmd_cdc(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    (void)s;
    const char *usage = "usage: cdc start DATABASE | cdc stop DATABASE | cdc status [DATABASE] | "
                        "cdc resync DATABASE [TABLE] | cdc drop-orphans | cdc switch DATABASE";
    if (w->n == 2 && request_word_is(w->word[1], "drop-orphans")) {
        orphans_drop(env, out);
        return;
    }
    if (w->n == 3 && request_word_is(w->word[1], "switch")) {
        cdc_switch(env, w->word[2], out);
        return;
    }
    bool resync = w->n >= 2 && request_word_is(w->word[1], "resync");
    if (w->n < 2 || w->n > (resync ? 4 : 3)) {
        reply_bad_request(out, "%s", usage);
        return;
    }
    bool status = request_word_is(w->word[1], "status");
    if (!status && w->n < 3) {
        reply_bad_request(out, "%s", usage);
        return;
    }
    int64_t id = 0;
    if (w->n >= 3) {
        id = find_cdc_db(env, w->word[2], out);
        if (id < 0)
            return;
        if (id == 0) {
            reply_bad_request(out, "database %s is not linked in CDC mode", w->word[2]);
            return;
        }
    }
    if (status) {
        cdc_status_json(out, id);
        if (id == 0)
            orphans_json(env, out);
    } else if (resync) {
        cdc_resync(env, id, w->word[2], w->n == 4 ? w->word[3] : NULL, out);
    } else if (request_word_is(w->word[1], "stop")) {
        cdc_stop(id);
        if (store_running(env, id, false, out) == 0)
            reply_success(out);
    } else if (request_word_is(w->word[1], "start")) {
        char err[256];
        if (store_running(env, id, true, out) != 0)
            return;
        if (cdc_start(id, err, sizeof(err)) != 0)
            reply_server_busy(out, err);
        else
            reply_success(out);
    } else {
        reply_bad_request(out, "%s", usage);
    }
}
