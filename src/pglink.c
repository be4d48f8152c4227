/*
 * pglink: the commands `link`, `migrate` and `unlink`. See pglink.h and
 * docs/postgres.md.
 *
 * The top of the PostgreSQL link's layers: pgjob (the libpq connection and
 * the command's first error), pgschema (PostgreSQL tables, their DuckDB
 * types and DDL), pgaudit (the change log in PostgreSQL), pgvalue and pgcopy
 * (binary values and COPY data into DuckDB chunks, without libpq). This file
 * adds the DuckDB side (the pooled database, its transaction, the appender,
 * the link's state table) and the catalog record.
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
 * Size (about 1,000 lines): the three commands and their phases, each
 * short; what they share (the Job, the link state table, the appender run)
 * is private to them. The layers below already hold everything that is not
 * a command.
 */
#include "pglink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "access.h"
#include "catalog.h"
#include "log.h"
#include "pgaudit.h"
#include "pgjob.h"
#include "pgload.h"
#include "pgschema.h"
#include "query.h"
#include "reply.h"
#include "rescache.h"
#include "secret.h"
#include "xalloc.h"

#define STATE_TABLE "tcpduckdb_link_state"
#define STAGE_TABLE "tcpduckdb_migrate_stage"

/* Working state of one command: PostgreSQL's side and DuckDB's. */
typedef struct Job {
    PgJob pg; /* the connection and the command's first error */
    PoolDb *db;
    bool claimed; /* holds the database's link claim (pool_db_claim_link) */
    duckdb_connection con;
    bool duck_tx;
    int64_t cache_db; /* the database whose write bracket (rescache.h) the job holds, or 0 */
} Job;

/* ---- DuckDB helpers --------------------------------------------------- */

static int duck_exec(Job *j, const char *sql)
{
    return pgload_exec(&j->pg, j->con, sql);
}

static const PgCol **table_cols(const PgTable *tb)
{
    const PgCol **cols = xcalloc((size_t)tb->ncols, sizeof(*cols));
    for (int c = 0; c < tb->ncols; c++)
        cols[c] = &tb->cols[c];
    return cols;
}

/* Copies all of `tb` (schema `schema`) into its DuckDB table. */
static int copy_table(Job *j, const char *schema, const PgTable *tb, int64_t *out_rows)
{
    Buf sql = {0};
    pgschema_copy_sql(&sql, schema, tb);
    const PgCol **cols = table_cols(tb);
    int rc =
        pgload_copy(&j->pg, j->con, buf_cstr(&sql), tb->name, cols, tb->ncols, tb->name, out_rows);
    free(cols);
    buf_free(&sql);
    return rc;
}

/* ---- command plumbing ------------------------------------------------- */

static void job_end(Job *j, const SessionEnv *env)
{
    if (j->duck_tx) {
        duckdb_result res;
        (void)duckdb_query(j->con, "ROLLBACK", &res);
        duckdb_destroy_result(&res);
    }
    if (j->claimed)
        pool_db_unclaim_link(j->db);
    if (j->cache_db)
        rescache_write_end(j->cache_db);
    pool_disconnect(env->pool, &j->db, &j->con);
    pgjob_close(&j->pg);
}

/*
 * Opens the DuckDB database `db_id` on a connection of the job's own (from
 * the pool, with its one busy answer appended to `out` on failure), and
 * claims it: link, migrate and unlink of one database run one at a time,
 * since each reads the link's state and then rewrites it (an unlink during
 * a migrate would drop the consumer the migrate is about to move). The
 * second command is refused at once rather than queued: it holds a worker.
 */
static int open_duck(Job *j, const SessionEnv *env, int64_t db_id, Buf *out)
{
    if (pool_connect(env->pool, db_id, &j->db, &j->con, out) != 0)
        return -1; /* answered in out; the job's error stays empty */
    if (!(j->claimed = pool_db_claim_link(j->db))) {
        reply_server_busy(out, "a link, migrate or unlink of this database is running");
        return -1;
    }
    /* Everything the job commits changes the database: no cached answer of
     * it is served or stored until the job ends (docs/cache.md). */
    rescache_write_begin(db_id);
    j->cache_db = db_id;
    return 0;
}

/* True when the database of the job holds the link state table. */
static bool state_table_exists(Job *j)
{
    duckdb_result res;
    bool found =
        duckdb_query(j->con, "SELECT 1 FROM " STATE_TABLE " LIMIT 0", &res) == DuckDBSuccess;
    duckdb_destroy_result(&res);
    return found;
}

/* A new consumer name for the audit log: 32 random hex digits. */
static int new_consumer(char out[33])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        return -1;
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return 0;
}

static void count_table(void *ctx, const char *name, int64_t oid)
{
    (void)name;
    (void)oid;
    (*(int *)ctx)++;
}

/* See pglink.h. */
int pglink_aad(int64_t db_id, char *buf, size_t len)
{
    return snprintf(buf, len, "tcp-duckdb postgres link of database %lld", (long long)db_id);
}

/* ---- link ------------------------------------------------------------- */

/* What `link` carries from one phase to the next. */
typedef struct LinkRun {
    const char *name, *dsn, *schema; /* of the request */
    int64_t db_id;
    bool had_record;   /* the catalog holds a link of db_id already */
    SecretKey key;     /* seals dsn; wiped at the end */
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
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    if (w->n != 3 && w->n != 4) {
        reply_bad_request(out, "usage: link DATABASE \"CONNECTION STRING\" [SCHEMA]");
        return -1;
    }
    lr->name = w->word[1];
    lr->dsn = w->word[2];
    lr->schema = w->n == 4 ? w->word[3] : "public";
    if (!catalog_name_valid(lr->name)) {
        reply_invalid_name(out, "database", lr->name);
        return -1;
    }
    if (secret_key_init(&lr->key, env->cfg->encryption_key) != 0) {
        reply_bad_request(out, "ENCRYPTION_KEY is not set: link stores the connection string "
                               "encrypted and needs a key (docs/postgres.md)");
        return -1;
    }
    CatalogStatus st = catalog_database_find(env->catalog, lr->name, &lr->db_id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", lr->name);
        return -1;
    }
    st = catalog_pglink_get(env->catalog, lr->db_id, &blob, &blob_len);
    free(blob);
    if (st != CATALOG_OK && st != CATALOG_NOT_FOUND) {
        reply_internal(out);
        return -1;
    }
    lr->had_record = st == CATALOG_OK;
    return 0;
}

/*
 * Phase 1b, the DuckDB database: opens and claims it, and checks that it is
 * not linked already and is empty. Returns 0, or -1 with the error recorded
 * (or, when the database cannot be had, the pool's answer appended to `out`).
 */
static int link_validate_target(Job *j, const SessionEnv *env, const LinkRun *lr, Buf *out)
{
    if (open_duck(j, env, lr->db_id, out) != 0)
        return -1;
    /* The link is recorded in the catalog before DuckDB commits (link_record),
     * so a record without the state table is a link that never committed. */
    if (lr->had_record) {
        if (state_table_exists(j)) {
            pgjob_fail(&j->pg,
                       "Bad Request: database %s is already linked to PostgreSQL (use migrate %s)",
                       lr->name, lr->name);
            return -1;
        }
        log_info("link of %s: an earlier link did not complete; linking again", lr->name);
    }
    int ntables = 0;
    if (query_list_tables(j->con, lr->db_id, count_table, &ntables) != 0) {
        pgjob_fail(&j->pg, "Internal Error");
        return -1;
    }
    if (ntables > 0) {
        pgjob_fail(&j->pg,
                   "Bad Request: database %s is not empty: link copies into an empty database",
                   lr->name);
        return -1;
    }
    return 0;
}

/*
 * Phase 2a, PostgreSQL: connects, reads the schema's tables and installs the
 * audit machinery with a new consumer (committed). Returns 0, or -1 with the
 * error recorded.
 */
static int link_install_audit(Job *j, LinkRun *lr)
{
    if (pgjob_connect(&j->pg, lr->dsn) != 0)
        return -1;
    if (pgschema_read(&j->pg, lr->schema, NULL, &lr->sc) != 0)
        return -1;
    if (new_consumer(lr->consumer) != 0) {
        pgjob_fail(&j->pg, "Internal Error");
        return -1;
    }
    if (pgaudit_install(&j->pg, lr->schema, &lr->sc, lr->consumer, &lr->event_trigger) != 0)
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
static int link_copy_snapshot(Job *j, LinkRun *lr)
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
        pgschema_put_relation(&sql, lr->schema, lr->sc.tables[t].name);
        buf_append_str(&sql, " IN ACCESS SHARE MODE;");
    }
    if (pgjob_exec(&j->pg, buf_cstr(&sql)) != 0)
        goto out;
    int same = pgschema_read(&j->pg, lr->schema, NULL, &check);
    if (same == 0 && check.n != lr->sc.n)
        same = -1;
    if (same != 0) {
        pgjob_fail(&j->pg, "Bad Request: the tables of schema %s changed during link; try again",
                   lr->schema);
        goto out;
    }
    PGresult *r = pgjob_query(&j->pg, "SELECT pg_current_snapshot()::text", 0, NULL);
    if (!r)
        goto out;
    snprintf(lr->snapshot, sizeof(lr->snapshot), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);

    if (duck_exec(j, "BEGIN TRANSACTION") != 0)
        goto out;
    j->duck_tx = true;
    for (int t = 0; t < lr->sc.n; t++) {
        const PgTable *tb = &lr->sc.tables[t];
        sql.len = 0;
        pgschema_create_table_sql(&sql, tb, false);
        if (duck_exec(j, buf_cstr(&sql)) != 0)
            goto out;
        int64_t rows = 0;
        if (copy_table(j, lr->schema, tb, &rows) != 0)
            goto out;
        lr->rows += rows;
        sql.len = 0;
        if (pgschema_add_pk_sql(&sql, tb) && duck_exec(j, buf_cstr(&sql)) != 0)
            goto out;
    }
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
static int link_record(Job *j, const SessionEnv *env, LinkRun *lr)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    int rc = -1;
    if (duck_exec(j,
                  "CREATE TABLE " STATE_TABLE " (pg_schema VARCHAR NOT NULL, snapshot "
                  "VARCHAR NOT NULL, linked_at TIMESTAMPTZ NOT NULL, migrated_at "
                  "TIMESTAMPTZ, changes_applied BIGINT NOT NULL, consumer VARCHAR NOT NULL)") != 0)
        goto out;
    if (duckdb_prepare(j->con,
                       "INSERT INTO " STATE_TABLE " VALUES (?, ?, current_timestamp, NULL, 0, ?)",
                       &prep) != DuckDBSuccess) {
        pgjob_fail(&j->pg, "%s", duckdb_prepare_error(prep));
        goto out;
    }
    duckdb_bind_varchar(prep, 1, lr->schema);
    duckdb_bind_varchar(prep, 2, lr->snapshot);
    duckdb_bind_varchar(prep, 3, lr->consumer);
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        pgjob_fail(&j->pg, "%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto out;
    }
    duckdb_destroy_result(&res);

    char aad[96];
    int aad_len = pglink_aad(lr->db_id, aad, sizeof(aad));
    if (secret_seal(&lr->key, lr->dsn, strlen(lr->dsn), aad, (size_t)aad_len, &sealed,
                    &sealed_len) != 0) {
        pgjob_fail(&j->pg, "Internal Error");
        goto out;
    }
    /* Catalog first, then DuckDB: a crash in between leaves a record without
     * a state table, which the next link detects and replaces (the other
     * order would leave a copied database that neither link nor migrate
     * accepts). */
    if (catalog_pglink_set(env->catalog, lr->db_id, sealed, sealed_len) != CATALOG_OK) {
        pgjob_fail(&j->pg, "Internal Error");
        goto out;
    }
    j->duck_tx = false;
    if (pgload_commit(&j->pg, j->con, j->cache_db) != 0) {
        if (catalog_pglink_delete(env->catalog, lr->db_id) != CATALOG_OK)
            log_error("link of %s: DuckDB commit failed and the catalog record could not be "
                      "removed; the next link replaces it",
                      lr->name);
        goto out;
    }
    pool_db_schema_bump(j->db); /* sessions' cached statements predate the tables */
    access_sync_table_grants(env, j->db, lr->db_id);
    rc = 0;
out:
    duckdb_destroy_prepare(&prep);
    free(sealed);
    return rc;
}

void pglink_cmd_link(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    Job j = {0};
    LinkRun lr = {0};
    if (!access_require_super(s, out))
        return;
    if (link_validate_request(env, w, &lr, out) != 0)
        goto done;
    if (link_validate_target(&j, env, &lr, out) != 0 || link_install_audit(&j, &lr) != 0 ||
        link_copy_snapshot(&j, &lr) != 0 || link_record(&j, env, &lr) != 0)
        goto out;
    char masked[1024];
    secret_mask_conninfo(lr.dsn, masked, sizeof(masked));
    log_info("database %s linked to %s schema %s: %d tables, %" PRId64 " rows%s", lr.name, masked,
             lr.schema, lr.sc.n, lr.rows,
             lr.event_trigger ? "" : " (not a superuser: tables created later are not followed)");
    reply_success(out);
out:
    if (j.pg.err[0]) {
        log_info("link of %s failed: %s", lr.name, j.pg.err);
        reply_engine_error(out, j.pg.err);
        if (lr.registered)
            pgaudit_drop_consumer(&j.pg, lr.consumer);
    }
    pgschema_free(&lr.sc);
    job_end(&j, env);
done:
    explicit_bzero(&lr.key, sizeof(lr.key));
}

/* ---- migrate ---------------------------------------------------------- */

/* Column names of the DuckDB table `table` (schema main), in order. */
static int duck_columns(Job *j, const char *table, char ***out_names, int *out_n)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool have_res = false;
    int rc = -1;
    if (duckdb_prepare(j->con,
                       "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND "
                       "database_name = current_database() AND table_name = ? "
                       "ORDER BY column_index",
                       &prep) != DuckDBSuccess) {
        pgjob_fail(&j->pg, "%s", duckdb_prepare_error(prep));
        goto out;
    }
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
static int migrate_table(Job *j, const char *schema, const char *snapshot, const PgTable *tb,
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
        if (duck_exec(j, buf_cstr(&sql)) != 0)
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
    if (duck_exec(j, buf_cstr(&sql)) != 0)
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
    if (duck_exec(j, "DROP TABLE " STAGE_TABLE) != 0)
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
    if (lk->dsn) {
        explicit_bzero(lk->dsn, lk->dsn_len);
        free(lk->dsn);
        lk->dsn = NULL;
    }
}

/*
 * Finds the linked database `name`, decrypts its connection string, opens it
 * on the job's DuckDB connection and reads its state table. Returns 0; or -1
 * with the answer in `out` (lookup errors) or in j->pg.err. A missing or
 * unreadable state table is an error only when need_state.
 */
static int link_open(Job *j, const SessionEnv *env, const char *name, bool need_state, Link *lk,
                     Buf *out)
{
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    SecretKey key;
    duckdb_result res;
    int rc = -1;
    if (!catalog_name_valid(name)) {
        reply_invalid_name(out, "database", name);
        return -1;
    }
    CatalogStatus st = catalog_database_find(env->catalog, name, &lk->db_id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", name);
        return -1;
    }
    st = catalog_pglink_get(env->catalog, lk->db_id, &blob, &blob_len);
    if (st == CATALOG_NOT_FOUND) {
        reply_bad_request(out, "database %s is not linked to PostgreSQL (use link)", name);
        return -1;
    }
    if (st != CATALOG_OK) {
        reply_internal(out);
        return -1;
    }
    char aad[96];
    int aad_len = pglink_aad(lk->db_id, aad, sizeof(aad));
    if (secret_key_init(&key, env->cfg->encryption_key) != 0 ||
        secret_open(&key, blob, blob_len, aad, (size_t)aad_len, &lk->dsn, &lk->dsn_len) != 0) {
        pgjob_fail(&j->pg,
                   "cannot decrypt the stored connection string of %s: ENCRYPTION_KEY is not the "
                   "key it was linked with",
                   name);
        goto out;
    }
    if (open_duck(j, env, lk->db_id, out) != 0)
        goto out;
    if (duckdb_query(j->con, "SELECT pg_schema, snapshot, consumer FROM " STATE_TABLE, &res) ==
            DuckDBSuccess &&
        duckdb_row_count(&res) == 1) {
        char *v[3];
        for (idx_t c = 0; c < 3; c++)
            v[c] = duckdb_value_varchar(&res, c, 0);
        snprintf(lk->schema, sizeof(lk->schema), "%s", v[0] ? v[0] : "");
        snprintf(lk->snapshot, sizeof(lk->snapshot), "%s", v[1] ? v[1] : "");
        snprintf(lk->consumer, sizeof(lk->consumer), "%s", v[2] ? v[2] : "");
        for (int c = 0; c < 3; c++)
            duckdb_free(v[c]);
        lk->have_state = true;
    }
    duckdb_destroy_result(&res);
    if (need_state && !lk->have_state) {
        pgjob_fail(&j->pg,
                   "Bad Request: database %s has no valid " STATE_TABLE " table: link it again",
                   name);
        goto out;
    }
    rc = 0;
out:
    free(blob);
    explicit_bzero(&key, sizeof(key));
    return rc;
}

/*
 * After a migrate has committed up to snapshot `now`: moves the consumer's
 * position there and prunes the audit log (pgaudit_prune). Failure here
 * loses nothing (the rows stay for the next migrate) and is only logged.
 */
static void prune_log(Job *j, const char *name, const Link *lk, const char *now)
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

void pglink_cmd_migrate(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    Job j = {0};
    Link lk = {0};
    PGresult *tables = NULL;
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    bool have_res = false;
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
    int registered = pgaudit_consumer_exists(&j.pg, lk.consumer);
    if (registered < 0)
        goto out;
    if (registered == 0) {
        pgjob_fail(&j.pg,
                   "Bad Request: the link of %s was removed in PostgreSQL (no audit consumer %s): "
                   "unlink %s, then link a new database",
                   name, lk.consumer, name);
        goto out;
    }
    tables = pgaudit_changed_tables(&j.pg, schema, snapshot);
    if (!tables)
        goto out;
    if (duck_exec(&j, "BEGIN TRANSACTION") != 0)
        goto out;
    j.duck_tx = true;
    for (int t = 0; t < PQntuples(tables); t++) {
        const char *tname = PQgetvalue(tables, t, 0);
        PgSchema sc = {0};
        if (pgschema_read(&j.pg, schema, tname, &sc) != 0) {
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
        int rc = migrate_table(&j, schema, snapshot, &sc.tables[0], &changes);
        pgschema_free(&sc);
        if (rc != 0)
            goto out;
        total += changes;
    }
    if (duckdb_prepare(j.con,
                       "UPDATE " STATE_TABLE " SET snapshot = ?, migrated_at = current_timestamp, "
                       "changes_applied = changes_applied + ?",
                       &prep) != DuckDBSuccess) {
        pgjob_fail(&j.pg, "%s", duckdb_prepare_error(prep));
        goto out;
    }
    duckdb_bind_varchar(prep, 1, now);
    duckdb_bind_int64(prep, 2, total);
    have_res = true;
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        pgjob_fail(&j.pg, "%s", duckdb_result_error(&res));
        goto out;
    }
    j.duck_tx = false;
    if (pgload_commit(&j.pg, j.con, j.cache_db) != 0)
        goto out;
    pool_db_schema_bump(j.db); /* migrate may have created tables */
    access_sync_table_grants(env, j.db, lk.db_id);
    (void)pgjob_exec(&j.pg, "COMMIT");
    log_info("database %s migrated: %" PRId64 " changes applied", name, total);
    buf_printf(out, "success %" PRId64 "\n", total);
    prune_log(&j, name, &lk, now);
out:
    if (j.pg.err[0]) {
        log_info("migrate of %s failed: %s", name, j.pg.err);
        reply_engine_error(out, j.pg.err);
    }
    if (have_res)
        duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&prep);
    PQclear(tables);
    link_close(&lk);
    job_end(&j, env);
}

/* ---- unlink ----------------------------------------------------------- */

void pglink_cmd_unlink(Session *s, const SessionEnv *env, const RequestWords *w, Buf *out)
{
    Job j = {0};
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
    if (duck_exec(&j, "DROP TABLE IF EXISTS " STATE_TABLE) != 0)
        goto out;
    pool_db_schema_bump(j.db);
    access_sync_table_grants(env, j.db, lk.db_id);
    if (catalog_pglink_delete(env->catalog, lk.db_id) != CATALOG_OK) {
        pgjob_fail(&j.pg, "Internal Error");
        goto out;
    }
    log_info("database %s unlinked from PostgreSQL%s", name,
             pg_done ? "" : " (forced: audit objects left in PostgreSQL)");
    reply_success(out);
out:
    if (j.pg.err[0]) {
        log_info("unlink of %s failed: %s", name, j.pg.err);
        reply_engine_error(out, j.pg.err);
    }
    link_close(&lk);
    job_end(&j, env);
}
