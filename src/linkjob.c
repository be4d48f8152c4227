/*
 * linkjob: the working state, request, table copy and catalog record that
 * the link commands of both modes share. See linkjob.h; moved out of
 * pglink.c and cdclink.c, which each had a copy.
 */
#include "linkjob.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "access.h"
#include "catalog.h"
#include "dbmeta.h"
#include "log.h"
#include "pgload.h"
#include "query.h"
#include "reply.h"
#include "rescache.h"
#include "xalloc.h"

/* ---- the job ---------------------------------------------------------- */

int linkjob_open(LinkJob *j, const SessionEnv *env, int64_t db_id, Buf *out)
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

void linkjob_end(LinkJob *j, const SessionEnv *env)
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
    pgjob_close(&j->repl);
    pgjob_close(&j->pg);
}

int linkjob_exec(LinkJob *j, const char *sql)
{
    return pgload_exec(&j->pg, j->con, sql);
}

int linkjob_begin(LinkJob *j)
{
    if (linkjob_exec(j, "BEGIN TRANSACTION") != 0)
        return -1;
    j->duck_tx = true;
    return 0;
}

int linkjob_commit(LinkJob *j, const SessionEnv *env)
{
    j->duck_tx = false;
    if (pgload_commit(&j->pg, j->con, j->cache_db) != 0)
        return -1;
    pool_db_schema_bump(j->db); /* sessions' cached statements predate the new tables */
    access_sync_table_grants(env, j->db, j->cache_db);
    return 0;
}

int linkjob_prepare(LinkJob *j, const char *sql, duckdb_prepared_statement *out_prep)
{
    if (duckdb_prepare(j->con, sql, out_prep) != DuckDBSuccess) {
        pgjob_fail(&j->pg, "%s", duckdb_prepare_error(*out_prep));
        return -1;
    }
    return 0;
}

int linkjob_execute(LinkJob *j, duckdb_prepared_statement prep)
{
    duckdb_result res;
    int rc = 0;
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        pgjob_fail(&j->pg, "%s", duckdb_result_error(&res));
        rc = -1;
    }
    duckdb_destroy_result(&res);
    return rc;
}

bool linkjob_reply_error(const LinkJob *j, const char *what, const char *name, Buf *out)
{
    if (!j->pg.err[0])
        return false;
    log_info("%s of %s failed: %s", what, name, j->pg.err);
    reply_engine_error(out, j->pg.err);
    return true;
}

/* ---- link ------------------------------------------------------------- */

int linkjob_random_name(LinkJob *j, const char *prefix, size_t nbytes, char *out, size_t outlen)
{
    unsigned char r[32];
    assert(nbytes <= sizeof(r) && strlen(prefix) + 2 * nbytes < outlen);
    if (RAND_bytes(r, (int)nbytes) != 1) {
        pgjob_fail(&j->pg, "Internal Error");
        return -1;
    }
    size_t at = (size_t)snprintf(out, outlen, "%s", prefix);
    for (size_t i = 0; i < nbytes; i++)
        at += (size_t)snprintf(out + at, outlen - at, "%02x", r[i]);
    return 0;
}

int linkjob_request(const SessionEnv *env, const RequestWords *w, LinkRequest *out_req, Buf *out)
{
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    LinkRequest *req = out_req;
    req->name = w->word[1];
    req->dsn = w->word[2];
    req->schema = w->n == 4 ? w->word[3] : "public";
    if (!catalog_name_valid(req->name)) {
        reply_invalid_name(out, "database", req->name);
        return -1;
    }
    if (secret_key_init(&req->key, env->cfg->encryption_key) != 0) {
        reply_bad_request(out, "ENCRYPTION_KEY is not set: link stores the connection string "
                               "encrypted and needs a key (docs/postgres.md)");
        return -1;
    }
    CatalogStatus st = catalog_database_find(env->catalog, req->name, &req->db_id);
    if (st != CATALOG_OK) {
        reply_catalog(out, st, "Database", req->name);
        return -1;
    }
    st = catalog_pglink_get(env->catalog, req->db_id, &blob, &blob_len);
    free(blob);
    if (st != CATALOG_OK && st != CATALOG_NOT_FOUND) {
        reply_internal(out);
        return -1;
    }
    req->had_record = st == CATALOG_OK;
    return 0;
}

static void count_table(void *ctx, const char *name, int64_t oid)
{
    (void)name;
    (void)oid;
    (*(int *)ctx)++;
}

int linkjob_require_empty(LinkJob *j, const LinkRequest *req)
{
    int ntables = 0;
    if (dbmeta_list_tables(j->con, req->db_id, count_table, &ntables) != 0) {
        pgjob_fail(&j->pg, "Internal Error");
        return -1;
    }
    if (ntables > 0) {
        pgjob_fail(&j->pg,
                   "Bad Request: database %s is not empty: link copies into an empty database",
                   req->name);
        return -1;
    }
    return 0;
}

/* Copies all of `tb` (schema `schema`) into its DuckDB table. */
static int copy_table(LinkJob *j, const char *schema, const PgTable *tb, int64_t *out_rows)
{
    Buf sql = {0};
    pgschema_copy_sql(&sql, schema, tb);
    const PgCol **cols = xcalloc((size_t)tb->ncols, sizeof(*cols));
    for (int c = 0; c < tb->ncols; c++)
        cols[c] = &tb->cols[c];
    int rc =
        pgload_copy(&j->pg, j->con, buf_cstr(&sql), tb->name, cols, tb->ncols, tb->name, out_rows);
    free(cols);
    buf_free(&sql);
    return rc;
}

/* linkjob_copy_tables, linkjob_recopy_tables: `replace` drops each table first. */
static int copy_tables(LinkJob *j, const char *schema, const PgSchema *sc, bool replace,
                       int64_t *out_rows)
{
    Buf sql = {0};
    int64_t total = 0;
    int rc = -1;
    if (linkjob_begin(j) != 0)
        goto out;
    for (int t = 0; t < sc->n; t++) {
        const PgTable *tb = &sc->tables[t];
        sql.len = 0;
        if (replace) {
            buf_append_str(&sql, "DROP TABLE IF EXISTS ");
            pgschema_put_ident(&sql, tb->name);
            if (linkjob_exec(j, buf_cstr(&sql)) != 0)
                goto out;
            sql.len = 0;
        }
        pgschema_create_table_sql(&sql, tb, false);
        if (linkjob_exec(j, buf_cstr(&sql)) != 0)
            goto out;
        int64_t rows = 0;
        if (copy_table(j, schema, tb, &rows) != 0)
            goto out;
        total += rows;
        sql.len = 0;
        if (pgschema_add_pk_sql(&sql, tb) && linkjob_exec(j, buf_cstr(&sql)) != 0)
            goto out;
    }
    *out_rows = total;
    rc = 0;
out:
    buf_free(&sql);
    return rc;
}

int linkjob_copy_tables(LinkJob *j, const char *schema, const PgSchema *sc, int64_t *out_rows)
{
    return copy_tables(j, schema, sc, false, out_rows);
}

int linkjob_recopy_tables(LinkJob *j, const char *schema, const PgSchema *sc, int64_t *out_rows)
{
    return copy_tables(j, schema, sc, true, out_rows);
}

/* The additional data that binds a link's sealed connection string to its database. */
static int link_aad(int64_t db_id, char *buf, size_t len)
{
    return snprintf(buf, len, "tcp-duckdb postgres link of database %lld", (long long)db_id);
}

int linkjob_commit_link(LinkJob *j, const SessionEnv *env, const LinkRequest *req)
{
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    int rc = -1;
    char aad[96];
    int aad_len = link_aad(req->db_id, aad, sizeof(aad));
    if (secret_seal(&req->key, req->dsn, strlen(req->dsn), aad, (size_t)aad_len, &sealed,
                    &sealed_len) != 0 ||
        catalog_pglink_set(env->catalog, req->db_id, sealed, sealed_len) != CATALOG_OK) {
        pgjob_fail(&j->pg, "Internal Error");
        goto out;
    }
    if (linkjob_commit(j, env) != 0) {
        if (catalog_pglink_delete(env->catalog, req->db_id) != CATALOG_OK)
            log_error("link of %s: DuckDB commit failed and the catalog record could not be "
                      "removed; the next link replaces it",
                      req->name);
        goto out;
    }
    rc = 0;
out:
    free(sealed);
    return rc;
}

/* ---- unlink, and the stored link -------------------------------------- */

int linkjob_forget(LinkJob *j, const SessionEnv *env, int64_t db_id, const char *state_table)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", state_table);
    if (linkjob_exec(j, sql) != 0)
        return -1;
    pool_db_schema_bump(j->db);
    access_sync_table_grants(env, j->db, db_id);
    if (catalog_pglink_delete(env->catalog, db_id) != CATALOG_OK) {
        pgjob_fail(&j->pg, "Internal Error");
        return -1;
    }
    return 0;
}

LinkjobDsn linkjob_dsn_unseal(const SessionEnv *env, int64_t db_id, const void *blob,
                              size_t blob_len, char **out_dsn, size_t *out_len)
{
    SecretKey key;
    LinkjobDsn rc = LINKJOB_DSN_KEY;
    *out_dsn = NULL;
    char aad[96];
    int aad_len = link_aad(db_id, aad, sizeof(aad));
    if (secret_key_init(&key, env->cfg->encryption_key) == 0 &&
        secret_open(&key, blob, blob_len, aad, (size_t)aad_len, out_dsn, out_len) == 0)
        rc = LINKJOB_DSN_OK;
    else
        *out_dsn = NULL;
    explicit_bzero(&key, sizeof(key));
    return rc;
}

LinkjobDsn linkjob_dsn_open(const SessionEnv *env, int64_t db_id, char **out_dsn, size_t *out_len)
{
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    *out_dsn = NULL;
    CatalogStatus st = catalog_pglink_get(env->catalog, db_id, &blob, &blob_len);
    if (st != CATALOG_OK)
        return st == CATALOG_NOT_FOUND ? LINKJOB_DSN_NOT_LINKED : LINKJOB_DSN_CATALOG;
    LinkjobDsn rc = linkjob_dsn_unseal(env, db_id, blob, blob_len, out_dsn, out_len);
    free(blob);
    return rc;
}

void linkjob_dsn_free(char *dsn, size_t len)
{
    if (!dsn)
        return;
    explicit_bzero(dsn, len);
    free(dsn);
}

void linkjob_state_text(duckdb_result *res, idx_t col, char *dst, size_t len)
{
    char *v = duckdb_value_varchar(res, col, 0);
    snprintf(dst, len, "%s", v ? v : "");
    duckdb_free(v);
}
