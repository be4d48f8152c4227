/*
 * linkjob: what the commands of the PostgreSQL link have in common, in
 * either mode (pglink: audit triggers; cdclink: logical replication): the
 * working state of one command (its PostgreSQL connections and its DuckDB
 * side: the pooled database, the link claim, a connection of its own, the
 * open DuckDB transaction, the result cache's write bracket), the request
 * of `link`, the copy of a schema's tables, and the link's catalog record
 * (the connection string, sealed with ENCRYPTION_KEY).
 *
 * Callers: pglink and cdclink on the worker thread that runs the command;
 * cdc's stream threads only for the stored connection string
 * (linkjob_dsn_open) and the state row (linkjob_state_text). A LinkJob is
 * used by one thread, zero-initialised, from linkjob_open() (or its first
 * PostgreSQL connection) to linkjob_end().
 */
#ifndef TCPDUCKDB_LINKJOB_H
#define TCPDUCKDB_LINKJOB_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "duckdb.h"
#include "pgjob.h"
#include "pgschema.h"
#include "pool.h"
#include "request.h"
#include "secret.h"
#include "session.h"

/* Working state of one command: PostgreSQL's side and DuckDB's. */
typedef struct LinkJob {
    PgJob pg;   /* the connection and the command's first error */
    PgJob repl; /* CDC link only: the replication connection that holds the slot's snapshot */
    PoolDb *db;
    bool claimed; /* holds the database's link claim (pool_db_claim_link) */
    duckdb_connection con;
    bool duck_tx;     /* a DuckDB transaction is open on con: linkjob_end rolls it back */
    int64_t cache_db; /* the database whose write bracket (rescache.h) the job holds, or 0 */
} LinkJob;

/*
 * Opens the DuckDB database `db_id` on a connection of the job's own (from
 * the pool, with its one busy answer appended to `out` on failure), claims
 * it and opens the result cache's write bracket. Link, migrate and unlink of
 * one database run one at a time, since each reads the link's state and then
 * rewrites it (an unlink during a migrate would drop what the migrate is
 * about to move); the second is refused at once (its answer in `out`) rather
 * than queued, since it holds a worker. Returns 0 or -1; the job's error
 * stays empty on failure.
 */
int linkjob_open(LinkJob *j, const SessionEnv *env, int64_t db_id, Buf *out)
    __attribute__((warn_unused_result));

/* Rolls back an open DuckDB transaction, releases the claim, the write bracket, the connection
 * and both PostgreSQL connections. Safe on a zeroed job and at any stage. */
void linkjob_end(LinkJob *j, const SessionEnv *env);

/* Runs `sql` on the job's DuckDB connection: 0, or -1 with DuckDB's error recorded. */
int linkjob_exec(LinkJob *j, const char *sql) __attribute__((warn_unused_result));

/* Opens the job's DuckDB transaction (rolled back by linkjob_end unless committed). */
int linkjob_begin(LinkJob *j) __attribute__((warn_unused_result));

/*
 * Commits the job's DuckDB transaction (pgload_commit: through the archive
 * gate), then lets the sessions see what it created or dropped (schema bump,
 * table grants). Returns 0, or -1 with the error recorded (the transaction
 * is then gone).
 */
int linkjob_commit(LinkJob *j, const SessionEnv *env) __attribute__((warn_unused_result));

/* Prepares `sql` on the job's DuckDB connection into *out_prep, which the caller destroys
 * (duckdb_destroy_prepare) whatever the outcome: 0, or -1 with DuckDB's error recorded. */
int linkjob_prepare(LinkJob *j, const char *sql, duckdb_prepared_statement *out_prep)
    __attribute__((warn_unused_result));

/* Executes the bound statement `prep` of linkjob_prepare and drops its result: 0, or -1 with
 * DuckDB's error recorded. */
int linkjob_execute(LinkJob *j, duckdb_prepared_statement prep) __attribute__((warn_unused_result));

/*
 * A new name for what a link creates in PostgreSQL (an audit consumer, a
 * slot and publication): `prefix` then 2 * nbytes random hex digits, into
 * out (outlen bytes, room for them all). Fails the job (0 or -1) when the
 * random source fails.
 */
int linkjob_random_name(LinkJob *j, const char *prefix, size_t nbytes, char *out, size_t outlen)
    __attribute__((warn_unused_result));

/* What `link DB CONNSTRING [SCHEMA]` names, checked against the catalog. */
typedef struct LinkRequest {
    const char *name, *dsn, *schema; /* borrowed from the request's words */
    int64_t db_id;
    bool had_record; /* the catalog holds a link record of db_id already */
    SecretKey key;   /* seals dsn; the caller wipes it (explicit_bzero) */
} LinkRequest;

/*
 * Reads words 1 to 3 of a `link` whose word count the caller has checked
 * (3 or 4): the database name (valid, existing), the connection string and
 * the schema (public by default); initialises the key from ENCRYPTION_KEY
 * and looks up an earlier link record. Returns 0, or -1 with the answer
 * appended to `out`.
 */
int linkjob_request(const SessionEnv *env, const RequestWords *w, LinkRequest *out_req, Buf *out)
    __attribute__((warn_unused_result));

/* Fails the job (0 or -1) unless the job's database, `req`'s, holds no table: link copies into an
 * empty database only. */
int linkjob_require_empty(LinkJob *j, const LinkRequest *req) __attribute__((warn_unused_result));

/*
 * Opens the job's DuckDB transaction (left open) and creates, fills (one
 * binary COPY each, on j->pg, inside whatever snapshot the caller opened
 * there) and keys every table of `sc` (PostgreSQL schema `schema`).
 * *out_rows gets the number of rows copied. Returns 0, or -1 with the error
 * recorded.
 */
int linkjob_copy_tables(LinkJob *j, const char *schema, const PgSchema *sc, int64_t *out_rows)
    __attribute__((warn_unused_result));

/* As linkjob_copy_tables, each DuckDB table dropped first when it exists (`cdc resync`: the
 * PostgreSQL table may have other columns now). */
int linkjob_recopy_tables(LinkJob *j, const char *schema, const PgSchema *sc, int64_t *out_rows)
    __attribute__((warn_unused_result));

/*
 * Ends a link whose tables and state row are written in the job's open
 * DuckDB transaction: stores the sealed connection string in the catalog,
 * then commits (pgload_commit), then lets the sessions see the new tables
 * (schema bump, table grants). Catalog first: a crash in between leaves a
 * record without a state table, which the next link detects and replaces
 * (the other order would leave a copied database that neither link nor
 * migrate accepts); a failed commit removes the record. Returns 0, or -1
 * with the error recorded.
 */
int linkjob_commit_link(LinkJob *j, const SessionEnv *env, const LinkRequest *req)
    __attribute__((warn_unused_result));

/*
 * Ends an unlink: drops the link's state table `state_table` (DuckDB
 * autocommit), lets the sessions see it gone, and removes the catalog
 * record. Returns 0, or -1 with the error recorded.
 */
int linkjob_forget(LinkJob *j, const SessionEnv *env, int64_t db_id, const char *state_table)
    __attribute__((warn_unused_result));

/* Why linkjob_dsn_open found no connection string. */
typedef enum LinkjobDsn {
    LINKJOB_DSN_OK,
    LINKJOB_DSN_NOT_LINKED, /* the catalog has no link record of the database */
    LINKJOB_DSN_CATALOG,    /* the catalog could not be read */
    LINKJOB_DSN_KEY,        /* ENCRYPTION_KEY unset or not the key the link was sealed with */
} LinkjobDsn;

/*
 * The connection string stored for database `db_id`, decrypted, in
 * *out_dsn (length *out_len; the caller frees it with linkjob_dsn_free),
 * or NULL with the reason returned.
 */
LinkjobDsn linkjob_dsn_open(const SessionEnv *env, int64_t db_id, char **out_dsn, size_t *out_len)
    __attribute__((warn_unused_result));

/* linkjob_dsn_open() of a sealed string `blob` read already (sealed for database `db_id`). */
LinkjobDsn linkjob_dsn_unseal(const SessionEnv *env, int64_t db_id, const void *blob,
                              size_t blob_len, char **out_dsn, size_t *out_len)
    __attribute__((warn_unused_result));

/* Wipes and frees a connection string of linkjob_dsn_open. Accepts NULL. */
void linkjob_dsn_free(char *dsn, size_t len);

/* Column `col` of the first row of `res` (a link's one-row state table) as text into dst (of
 * `len` bytes), "" for NULL, cut to fit. */
void linkjob_state_text(duckdb_result *res, idx_t col, char *dst, size_t len);

/*
 * When the job has failed: logs "<what> of <name> failed: ..." and answers
 * the error (reply_engine_error). Returns whether it had failed.
 */
bool linkjob_reply_error(const LinkJob *j, const char *what, const char *name, Buf *out);

#endif
