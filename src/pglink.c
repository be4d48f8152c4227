/*
 * pglink: the commands `link`, `migrate` and `unlink`. See pglink.h and
 * docs/postgres.md.
 *
 * The top of the PostgreSQL link's layers: pgjob (the libpq connection and
 * the command's first error), pgschema (PostgreSQL tables, their DuckDB
 * types and DDL), pgaudit (the change log in PostgreSQL), pgvalue and pgcopy
 * (binary values and COPY data into DuckDB chunks, without libpq). This file
 * adds the audit mode's DuckDB side (the link's state table, the migrate's
 * stage) over linkjob's (the job, the table copy, the catalog record).
 *
 * Data moves as PostgreSQL's binary COPY format (COPY (SELECT ...) TO
 * STDOUT (FORMAT binary)), decoded by pgcopy straight into DuckDB data
 * chunks of 2048 rows that an Appender adds to the table: no temp files, and
 * memory bounded by one chunk plus one libpq row whatever the table size.
 * Every value that DuckDB's column type cannot hold exactly fails the whole
 * command with the column named: nothing is rounded or truncated.
 *
 * Consistency (docs/postgres.md, "Guarantees"): link installs the triggers
 * and commits them, then copies every table inside one REPEATABLE READ
 * transaction whose snapshot (pg_current_snapshot()) it stores. A logged
 * change is in the copy exactly when its transaction is visible in that
 * snapshot. migrate reads, in a new REPEATABLE READ snapshot, the log rows
 * whose transaction was not visible in the stored snapshot, applies them,
 * and stores the new snapshot, in one DuckDB transaction.
 *
 * The three commands and their phases, each short; what they share with
 * the CDC mode's commands (the job, the request, the copy of the tables, the
 * catalog record) is linkjob's, and the layers below hold everything that is
 * not a command.
 */
#include "pglink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "catalog.h"
#include "log.h"
#include "pgaudit.h"
#include "linkjob.h"
#include "pgjob.h"
#include "pgload.h"
#include "pgschema.h"
#include "reply.h"
#include "secret.h"
#include "xalloc.h"

#define STATE_TABLE PGLINK_STATE_TABLE
#define STAGE_TABLE "tcpduckdb_migrate_stage"

/* True when the database of the job holds the link state table. */
static bool state_table_exists(LinkJob *j)
{
    duckdb_result res;
    bool found =
        duckdb_query(j->con, "SELECT 1 FROM " STATE_TABLE " LIMIT 0", &res) == DuckDBSuccess;
    duckdb_destroy_result(&res);
    return found;
}

/* ---- link ------------------------------------------------------------- */

/* What `link` carries from one phase to the next. */
typedef struct LinkRun {
    LinkRequest req;   /* its key is wiped at the end */
    PgSchema sc;       /* the tables copied */
    char consumer[33]; /* the audit consumer registered for this link */
    bool registered;   /* consumer is in PostgreSQL: dropped if link fails */
    bool event_trigger;
    char snapshot[4096]; /* of the copy: where migrate starts */
    int64_t rows;        /* copied */
} LinkRun;

/*
 * Phase 1a, the request: usage, database name, encryption key, the database
 * and its catalog record. Answers the error itself and returns -1, or 0.
 */
static int link_validate_request(const SessionEnv *env, const RequestWords *w, LinkRun *lr,
                                 Buf *out)
{
    if (w->n != 3 && w->n != 4) {
        reply_bad_request(out, "usage: link DATABASE \"CONNECTION STRING\" [SCHEMA]");
        return -1;
    }
    return linkjob_request(env, w, &lr->req, out);
}

/*
 * Phase 1b, the DuckDB database: opens and claims it, and checks that it is
 * not linked already and is empty. Returns 0, or -1 with the error recorded
 * (or, when the database cannot be had, the pool's answer appended to `out`).
 */
static int link_validate_target(LinkJob *j, const SessionEnv *env, const LinkRun *lr, Buf *out)
{
    if (linkjob_open(j, env, lr->req.db_id, out) != 0)
        return -1;
    /* The link is recorded in the catalog before DuckDB commits (link_record),
     * so a record without the state table is a link that never committed. */
    if (lr->req.had_record) {
        if (state_table_exists(j)) {
            pgjob_fail(&j->pg,
                       "Bad Request: database %s is already linked to PostgreSQL (use migrate %s)",
                       lr->req.name, lr->req.name);
            return -1;
        }
        log_info("link of %s: an earlier link did not complete; linking again", lr->req.name);
    }
    return linkjob_require_empty(j, &lr->req);
}

/*
 * Phase 2a, PostgreSQL: connects, reads the schema's tables and installs the
 * audit machinery with a new consumer (committed). Returns 0, or -1 with the
 * error recorded.
 */
static int link_install_audit(LinkJob *j, LinkRun *lr)
{
    if (pgjob_connect(&j->pg, lr->req.dsn) != 0)
        return -1;
    if (pgschema_read(&j->pg, lr->req.schema, NULL, &lr->sc) != 0)
        return -1;
    /* A new consumer name for the audit log: 32 random hex digits. */
    if (linkjob_random_name(j, "", 16, lr->consumer, sizeof(lr->consumer)) != 0)
        return -1;
    if (pgaudit_install(&j->pg, lr->req.schema, &lr->sc, lr->consumer, &lr->event_trigger) != 0)
        return -1;
    lr->registered = true;
    return 0;
}

/*
 * Phase 2b, the copy in one snapshot: in a REPEATABLE READ transaction of
 * PostgreSQL, locks the tables, checks that they are still the ones read,
 * takes the snapshot, and creates and fills every table in a DuckDB
 * transaction (left open for link_record). Returns 0, or -1 with the error
 * recorded.
 */
static int link_copy_snapshot(LinkJob *j, LinkRun *lr)
{
    Buf sql = {0};
    PgSchema check = {0};
    int rc = -1;
    /* The copy and the position come from one snapshot. The tables are
     * locked against ALTER and DROP before the snapshot is taken (LOCK takes
     * no snapshot), so the columns read above are the ones copied. */
    buf_append_str(&sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;");
    for (int t = 0; t < lr->sc.n; t++) {
        buf_append_str(&sql, "LOCK TABLE ");
        pgschema_put_relation(&sql, lr->req.schema, lr->sc.tables[t].name);
        buf_append_str(&sql, " IN ACCESS SHARE MODE;");
    }
    if (pgjob_exec(&j->pg, buf_cstr(&sql)) != 0)
        goto out;
    int same = pgschema_read(&j->pg, lr->req.schema, NULL, &check);
    if (same == 0 && check.n != lr->sc.n)
        same = -1;
    if (same != 0) {
        pgjob_fail(&j->pg, "Bad Request: the tables of schema %s changed during link; try again",
                   lr->req.schema);
        goto out;
    }
    PGresult *r = pgjob_query(&j->pg, "SELECT pg_current_snapshot()::text", 0, NULL);
    if (!r)
        goto out;
    snprintf(lr->snapshot, sizeof(lr->snapshot), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);

    if (linkjob_copy_tables(j, lr->req.schema, &lr->sc, &lr->rows) != 0)
        goto out;
    /* Ending the read-only snapshot can still fail (the connection dropped):
     * then the copy is not known to be whole, and the error must become the
     * answer, before anything of the link is recorded or answered. */
    if (pgjob_exec(&j->pg, "COMMIT") != 0)
        goto out;
    rc = 0;
out:
    pgschema_free(&check);
    buf_free(&sql);
    return rc;
}

/*
 * Phase 3, the record: the state table with the snapshot and consumer, the
 * sealed connection string in the catalog, then DuckDB's commit. Returns 0,
 * or -1 with the error recorded.
 */
static int link_record(LinkJob *j, const SessionEnv *env, LinkRun *lr)
{
    duckdb_prepared_statement prep = NULL;
    int rc = -1;
    if (linkjob_exec(
            j, "CREATE TABLE " STATE_TABLE " (pg_schema VARCHAR NOT NULL, snapshot "
               "VARCHAR NOT NULL, linked_at TIMESTAMPTZ NOT NULL, migrated_at "
               "TIMESTAMPTZ, changes_applied BIGINT NOT NULL, consumer VARCHAR NOT NULL)") != 0)
        goto out;
    if (linkjob_prepare(j,
                        "INSERT INTO " STATE_TABLE " VALUES (?, ?, current_timestamp, NULL, 0, ?)",
                        &prep) != 0)
        goto out;
    duckdb_bind_varchar(prep, 1, lr->req.schema);
    duckdb_bind_varchar(prep, 2, lr->snapshot);
    duckdb_bind_varchar(prep, 3, lr->consumer);
    if (linkjob_execute(j, prep) != 0)
        goto out;
    rc = linkjob_commit_link(j, env, &lr->req);
out:
    duckdb_destroy_prepare(&prep);
    return rc;
}

void pglink_cmd_link(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    LinkJob j = {0};
    LinkRun lr = {0};
    if (!access_require_super(s, out))
        return;
    if (link_validate_request(env, w, &lr, out) != 0)
        goto done;
    if (link_validate_target(&j, env, &lr, out) != 0 || link_install_audit(&j, &lr) != 0 ||
        link_copy_snapshot(&j, &lr) != 0 || link_record(&j, env, &lr) != 0)
        goto out;
    char masked[1024];
    secret_mask_conninfo(lr.req.dsn, masked, sizeof(masked));
    log_info("database %s linked to %s schema %s: %d tables, %" PRId64 " rows%s", lr.req.name,
             masked, lr.req.schema, lr.sc.n, lr.rows,
             lr.event_trigger ? "" : " (not a superuser: tables created later are not followed)");
    reply_success(out);
out:
    if (linkjob_reply_error(&j, "link", lr.req.name, out) && lr.registered)
        pgaudit_drop_consumer(&j.pg, lr.consumer);
    pgschema_free(&lr.sc);
    linkjob_end(&j, env);
done:
    explicit_bzero(&lr.req.key, sizeof(lr.req.key));
}

/* ---- migrate ---------------------------------------------------------- */

/* Column names of the DuckDB table `table` (schema main), in order. */
static int duck_columns(LinkJob *j, const char *table, char ***out_names, int *out_n)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool have_res = false;
    int rc = -1;
    if (linkjob_prepare(j,
                        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND "
                        "database_name = current_database() AND table_name = ? "
                        "ORDER BY column_index",
                        &prep) != 0)
        goto out;
    duckdb_bind_varchar(prep, 1, table);
    have_res = true;
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        pgjob_fail(&j->pg, "%s", duckdb_result_error(&res));
        goto out;
    }
    idx_t n = duckdb_row_count(&res);
    char **names = xcalloc((size_t)n + 1, sizeof(char *));
    for (idx_t i = 0; i < n; i++) {
        char *v = duckdb_value_varchar(&res, 0, i);
        names[i] = xstrdup(v ? v : "");
        duckdb_free(v);
    }
    *out_names = names;
    *out_n = (int)n;
    rc = 0;
out:
    if (have_res)
        duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&prep);
    return rc;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/*
 * Brings DuckDB table `tb` up to date with the log rows of `schema`.`tb`
 * that `snapshot` (the stored position) did not see. Creates the table
 * when it was created in PostgreSQL since link. *out_changes gets the
 * number of log rows applied.
 */
static int migrate_table(LinkJob *j, const char *schema, const char *snapshot, const PgTable *tb,
                         int64_t *out_changes)
{
    Buf sql = {0};
    char **names = NULL;
    int nnames = 0, rc = -1, n = tb->ncols;
    const PgCol **cols = NULL;
    if (duck_columns(j, tb->name, &names, &nnames) != 0)
        goto out;
    if (nnames == 0) {
        pgschema_create_table_sql(&sql, tb, true);
        if (linkjob_exec(j, buf_cstr(&sql)) != 0)
            goto out;
    } else {
        bool same = nnames == n;
        for (int c = 0; same && c < n; c++)
            same = strcmp(names[c], tb->cols[c].name) == 0;
        if (!same) {
            pgjob_fail(&j->pg,
                       "Bad Request: the columns of table %s changed in PostgreSQL since link; "
                       "migrate does not follow ALTER TABLE (docs/postgres.md)",
                       tb->name);
            goto out;
        }
    }
    sql.len = 0;
    pgload_stage_sql(&sql, STAGE_TABLE, tb);
    if (linkjob_exec(j, buf_cstr(&sql)) != 0)
        goto out;

    sql.len = 0;
    pgaudit_changes_copy_sql(&sql, schema, tb, snapshot);

    static const PgCol seq_col = {.name = "id", .type = {.kind = PGVALUE_INT8}};
    static const PgCol op_col = {.name = "op", .type = {.kind = PGVALUE_TEXT}};
    cols = xcalloc((size_t)(2 + 2 * n), sizeof(*cols));
    cols[0] = &seq_col;
    cols[1] = &op_col;
    for (int c = 0; c < n; c++)
        cols[2 + c] = cols[2 + n + c] = &tb->cols[c];
    int64_t rows = 0;
    if (pgload_copy(&j->pg, j->con, buf_cstr(&sql), STAGE_TABLE, cols, 2 + 2 * n, tb->name,
                    &rows) != 0)
        goto out;
    if (pgload_apply_stage(&j->pg, j->con, STAGE_TABLE, tb) != 0)
        goto out;
    if (linkjob_exec(j, "DROP TABLE " STAGE_TABLE) != 0)
        goto out;
    *out_changes = rows;
    rc = 0;
out:
    free(cols);
    free_names(names, nnames);
    buf_free(&sql);
    return rc;
}

/* A linked database as migrate and unlink find it. */
typedef struct Link {
    int64_t db_id;
    char *dsn; /* in clear: explicit_bzero before free (link_close) */
    size_t dsn_len;
    bool have_state; /* STATE_TABLE was read */
    char schema[256], snapshot[4096], consumer[64];
} Link;

static void link_close(Link *lk)
{
    linkjob_dsn_free(lk->dsn, lk->dsn_len);
    lk->dsn = NULL;
}

/*
 * Finds the linked database `name`, decrypts its connection string, opens it
 * on the job's DuckDB connection and reads its state table. Returns 0; or -1
 * with the answer in `out` (lookup errors) or in j->pg.err. A missing or
 * unreadable state table is an error only when need_state.
 */
static int link_open(LinkJob *j, const SessionEnv *env, const char *name, bool need_state, Link *lk,
                     Buf *out)
{
    duckdb_result res;
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return -1;
    }
    CatalogStatus st = catalog_database_find(env->catalog, name, &lk->db_id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", name);
        return -1;
    }
    switch (linkjob_dsn_open(env, lk->db_id, &lk->dsn, &lk->dsn_len)) {
    case LINKJOB_DSN_OK:
        break;
    case LINKJOB_DSN_NOT_LINKED:
        reply_bad_request(out, "database %s is not linked to PostgreSQL (use link)", name);
        return -1;
    case LINKJOB_DSN_CATALOG:
        reply_internal(out);
        return -1;
    case LINKJOB_DSN_KEY:
        pgjob_fail(&j->pg,
                   "cannot decrypt the stored connection string of %s: ENCRYPTION_KEY is not the "
                   "key it was linked with",
                   name);
        return -1;
    }
    if (linkjob_open(j, env, lk->db_id, out) != 0)
        return -1;
    if (duckdb_query(j->con, "SELECT pg_schema, snapshot, consumer FROM " STATE_TABLE, &res) ==
            DuckDBSuccess &&
        duckdb_row_count(&res) == 1) {
        linkjob_state_text(&res, 0, lk->schema, sizeof(lk->schema));
        linkjob_state_text(&res, 1, lk->snapshot, sizeof(lk->snapshot));
        linkjob_state_text(&res, 2, lk->consumer, sizeof(lk->consumer));
        lk->have_state = true;
    }
    duckdb_destroy_result(&res);
    if (need_state && !lk->have_state) {
        pgjob_fail(&j->pg,
                   "Bad Request: database %s has no valid " STATE_TABLE " table: link it again",
                   name);
        return -1;
    }
    return 0;
}

/*
 * After a migrate has committed up to snapshot `now`: moves the consumer's
 * position there and prunes the audit log (pgaudit_prune). Failure here
 * loses nothing (the rows stay for the next migrate) and is only logged.
 */
static void prune_log(LinkJob *j, const char *name, const Link *lk, const char *now)
{
    int64_t pruned = 0;
    if (pgaudit_prune(&j->pg, lk->consumer, now, &pruned) == 0 && pruned > 0)
        log_info("migrate of %s: %" PRId64 " audit log rows pruned", name, pruned);
    if (j->pg.err[0]) {
        log_warn("migrate of %s: changes applied, but the audit log was not pruned: %s", name,
                 j->pg.err);
        j->pg.err[0] = '\0';
        pgjob_rollback(&j->pg);
    }
}

int pglink_audit_apply(LinkJob *j, const char *name, const char *schema, const char *snapshot,
                       int64_t *out_changes)
{
    int64_t total = 0;
    int rc = -1;
    PGresult *tables = pgaudit_changed_tables(&j->pg, schema, snapshot);
    if (!tables)
        goto out;
    if (linkjob_begin(j) != 0)
        goto out;
    for (int t = 0; t < PQntuples(tables); t++) {
        const char *tname = PQgetvalue(tables, t, 0);
        PgSchema sc = {0};
        if (pgschema_read(&j->pg, schema, tname, &sc) != 0) {
            pgschema_free(&sc);
            goto out;
        }
        if (sc.n == 0) {
            /* Dropped in PostgreSQL: its remaining changes have nowhere to go. */
            log_info("migrate of %s: table %s no longer exists in PostgreSQL; skipped", name,
                     tname);
            continue;
        }
        int64_t changes = 0;
        int trc = migrate_table(j, schema, snapshot, &sc.tables[0], &changes);
        pgschema_free(&sc);
        if (trc != 0)
            goto out;
        total += changes;
    }
    *out_changes = total;
    rc = 0;
out:
    PQclear(tables);
    return rc;
}

int pglink_state_read(LinkJob *j, PglinkState *out)
{
    duckdb_result res;
    int rc = -1;
    if (duckdb_query(j->con, "SELECT pg_schema, snapshot, consumer FROM " STATE_TABLE, &res) ==
            DuckDBSuccess &&
        duckdb_row_count(&res) == 1) {
        linkjob_state_text(&res, 0, out->schema, sizeof(out->schema));
        linkjob_state_text(&res, 1, out->snapshot, sizeof(out->snapshot));
        linkjob_state_text(&res, 2, out->consumer, sizeof(out->consumer));
        rc = 0;
    }
    duckdb_destroy_result(&res);
    return rc;
}

void pglink_cmd_migrate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    LinkJob j = {0};
    Link lk = {0};
    duckdb_prepared_statement prep = NULL;
    char now[4096] = "";
    int64_t total = 0;
    if (!access_require_super(s, out))
        return;
    if (w->n != 2) {
        reply_bad_request(out, "usage: migrate DATABASE");
        return;
    }
    const char *name = w->word[1];
    if (link_open(&j, env, name, true, &lk, out) != 0)
        goto out;
    const char *schema = lk.schema, *snapshot = lk.snapshot;
    if (pgjob_connect(&j.pg, lk.dsn) != 0)
        goto out;
    if (pgjob_exec(&j.pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0)
        goto out;
    PGresult *r = pgjob_query(&j.pg, "SELECT pg_current_snapshot()::text", 0, NULL);
    if (!r)
        goto out;
    snprintf(now, sizeof(now), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    /* Without its consumer row the link was undone in PostgreSQL (an unlink
     * that did not finish here): the triggers may be gone, so the log can no
     * longer be trusted to hold every change. */
    if (pgaudit_require_consumer(&j.pg, lk.consumer, name) != 0)
        goto out;
    if (pglink_audit_apply(&j, name, schema, snapshot, &total) != 0)
        goto out;
    if (linkjob_prepare(&j,
                        "UPDATE " STATE_TABLE " SET snapshot = ?, migrated_at = current_timestamp, "
                        "changes_applied = changes_applied + ?",
                        &prep) != 0)
        goto out;
    duckdb_bind_varchar(prep, 1, now);
    duckdb_bind_int64(prep, 2, total);
    if (linkjob_execute(&j, prep) != 0)
        goto out;
    if (linkjob_commit(&j, env) != 0) /* migrate may have created tables */
        goto out;
    (void)pgjob_exec(&j.pg, "COMMIT");
    log_info("database %s migrated: %" PRId64 " changes applied", name, total);
    buf_printf(out, "success %" PRId64 "\n", total);
    prune_log(&j, name, &lk, now);
out:
    (void)linkjob_reply_error(&j, "migrate", name, out);
    duckdb_destroy_prepare(&prep);
    link_close(&lk);
    linkjob_end(&j, env);
}

/* ---- unlink ----------------------------------------------------------- */

void pglink_cmd_unlink(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    LinkJob j = {0};
    Link lk = {0};
    if (!access_require_super(s, out))
        return;
    bool force = w->n == 3 && request_word_is(w->word[2], "force");
    if (w->n != 2 && !force) {
        reply_bad_request(out, "usage: unlink DATABASE [force]");
        return;
    }
    const char *name = w->word[1];
    if (link_open(&j, env, name, false, &lk, out) != 0)
        goto out;
    /* PostgreSQL first: if it fails, the link stays whole and unlink can be
     * retried. `force` forgets the link here even so (a PostgreSQL that is
     * gone for good); its audit objects are then left behind. */
    bool pg_done = lk.have_state && pgjob_connect(&j.pg, lk.dsn) == 0 &&
                   pgaudit_remove(&j.pg, lk.schema, lk.consumer) == 0;
    if (!pg_done && !force) {
        if (!lk.have_state)
            pgjob_fail(&j.pg,
                       "Bad Request: database %s has no valid " STATE_TABLE
                       " table, so its PostgreSQL side is unknown: use unlink %s force",
                       name, name);
        goto out;
    }
    if (!pg_done)
        log_warn("unlink of %s: forced; PostgreSQL's audit objects were not removed: %s", name,
                 j.pg.err[0] ? j.pg.err : "no link state");
    j.pg.err[0] = '\0';
    if (linkjob_forget(&j, env, lk.db_id, STATE_TABLE) != 0)
        goto out;
    log_info("database %s unlinked from PostgreSQL%s", name,
             pg_done ? "" : " (forced: audit objects left in PostgreSQL)");
    reply_success(out);
out:
    (void)linkjob_reply_error(&j, "unlink", name, out);
    link_close(&lk);
    linkjob_end(&j, env);
}
