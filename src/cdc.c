/*
 * cdc: the registry of CDC streams and the stream threads. See cdc.h and
 * docs/cdc.md.
 *
 * A stream's thread runs stream_run() until it is stopped or fails; after a
 * failure (PostgreSQL down, a DuckDB conflict) it retries with a backoff,
 * from the stored LSN. Inside stream_run, one Batch is the open DuckDB
 * transaction: the staged changes of whole PostgreSQL transactions, applied
 * and committed together with the new LSN (batch_flush) when the batch is
 * CdcBatchMs old, CdcBatchChanges or CdcBatchBytes long (the settings in
 * force, read at every check), at a transaction boundary, or when the stream
 * falls idle. A PostgreSQL transaction is never split.
 *
 * While a batch applies and commits in DuckDB (which may take longer than
 * PostgreSQL's wal_sender_timeout for one huge transaction), the stream's
 * keeper thread sends the standby status updates on the replication
 * connection, which the stream thread leaves alone meanwhile (Keeper).
 *
 * Streamed in-progress transactions are not requested (no `streaming`
 * option): PostgreSQL spills a large transaction to disk and sends it whole
 * at its commit, so every message between Begin and Commit belongs to it.
 *
 * Size (about 1,980 lines, over the 900 of the house rule): the stream's
 * staging, batch and message handling read and write the CdcStream fields
 * that the registry's mutex guards (progress, state, counters, stop_at), and
 * that struct and lock are private to this file so that no other module can
 * touch them unlocked. Splitting the staging into a module of its own is the
 * next step (it needs only the Run); it was not done within the session that
 * wrote this file, nor in the one that added the keeper and the settings, nor
 * in the one that added resync and added columns (whose parts that need no
 * Run went to cdcskip.c and cdcddl.c; the Relation handling that stayed here
 * splits or commits the open batch), nor in the one that added tables joining
 * after link and type changes (the trigger, the copy and the type comparison
 * went to cdcnew.c and cdcddl.c; rel_join and the type bookkeeping of a Rel
 * stayed, since they apply or forget other Rels of the open batch), nor in
 * the one that made the followed tables read-only (the statement check went
 * to cdcguard.c; the list of followed tables stayed, under the registry's
 * lock, with the stream that fills it).
 */
#include "cdc.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "cdcddl.h"
#include "cdcnew.h"
#include "cdcskip.h"
#include "json.h"
#include "linkjob.h"
#include "log.h"
#include "pgjob.h"
#include "pgload.h"
#include "pgoutput.h"
#include "pgschema.h"
#include "pgvalue.h"
#include "pool.h"
#include "rescache.h"
#include "xalloc.h"

#define CDC_RETRY_MAX_S 10
/* The retained-WAL figure is read from PostgreSQL at most this often. */
#define CDC_WAL_CHECK_MIN_MS 1000
/* PostgreSQL's epoch (2000-01-01) in Unix seconds. */
#define PG_EPOCH_UNIX INT64_C(946684800)

typedef enum CdcState {
    CDC_STOPPED,
    CDC_STARTING,
    CDC_STREAMING,
    CDC_RETRYING,
} CdcState;

static const char *const state_names[] = {"stopped", "starting", "streaming", "retrying"};

typedef struct CdcStream {
    int64_t db_id;
    char name[256];
    pthread_t thread;
    bool thread_live; /* a thread was started and not joined */
    atomic_bool stop;
    /* Under registry.mu: */
    CdcState state;
    uint64_t applied_lsn;  /* stored in DuckDB with the changes */
    uint64_t progress_lsn; /* applied, or a keepalive's WAL end with nothing pending */
    uint64_t received_lsn, server_lsn;
    uint64_t stop_at; /* stop once progress reaches it (a migrate of a stopped stream) */
    uint64_t wanted;  /* a migrate waits for this position: ask PostgreSQL for keepalives */
    int64_t changes, txns;
    int64_t last_apply_ms; /* now_ms() of the last batch applied; 0 when none yet */
    bool pinned;           /* the stream holds its database pinned in the pool */
    int64_t retained_wal;  /* current WAL minus the slot's restart_lsn; -1 = not known */
    bool wal_warned;       /* retained_wal is above CdcRetainedWalWarn (warned once) */
    char wal_status[16];   /* the slot's wal_status, as pg_replication_slots shows it */
    int64_t safe_wal_size; /* -1 = none (max_slot_wal_keep_size = -1) */
    char slot[64];
    char last_error[1024];
    char not_followed[2048]; /* tables of the schema not in the publication, one a line */
    int event_trigger;       /* the event trigger of new tables exists: 1, 0, -1 not known */
    /* The tables the stream follows (cdcguard.h): the publication's, read when the stream
     * connects, and every table a Relation message names; seeded by link. */
    char **follows;
    int nfollows;
    bool guard_held; /* the tables stay read-only while stopped (cdc_hold_guard) */
    struct CdcStream *next;
} CdcStream;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t progress; /* broadcast when a stream's progress or state changes */
    const SessionEnv *env;
    CdcStream *streams;
    int running; /* threads started and not ended */
    int pinned;  /* of those, holding a pool pin */
    /* registry.running as any thread may read it without the lock (cdc_any_running). */
    atomic_int live;
    atomic_int held; /* streams whose guard_held is set */
} registry = {.mu = PTHREAD_MUTEX_INITIALIZER, .progress = PTHREAD_COND_INITIALIZER};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The settings in force (a reload publishes new ones; see config.h). */
static const Config *cfg_now(void)
{
    return atomic_load(&registry.env->cfg);
}

static int64_t now_pg_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - PG_EPOCH_UNIX) * 1000000 + ts.tv_nsec / 1000;
}

/* ---- one relation's staging --------------------------------------------- */

/* A published table as the stream knows it: its columns, and its stage in the open batch. */
typedef struct Rel {
    uint32_t relid;
    PgSchema sc; /* one table: sc.tables[0] */
    char stage[64];
    bool staged;         /* the stage table exists in the open batch */
    bool toast;          /* a staged row has unchanged TOASTed values */
    bool touched;        /* changes of the table were staged in the open batch */
    bool dropped;        /* dropped in PostgreSQL before the stream met it: changes skipped */
    uint64_t skip_below; /* resynced: skip changes of transactions committed below (cdcskip.h) */
    uint32_t *type_oids; /* the column types of the last Relation message accepted */
    int32_t *typmods;
    int ntypes;
    duckdb_appender app;
    duckdb_data_chunk chunk;
    duckdb_logical_type *types;
    PgValueColumn *vcols; /* 2 + 2 * ncols, bound to the stage's columns */
    int nstage;           /* the stage's columns: seq, op, o*, n*, toast */
    idx_t row;
} Rel;

/*
 * The keeper: a thread per stream run that sends standby status updates
 * while the stream thread is busy applying a batch in DuckDB. While armed
 * (between keeper_arm and keeper_disarm, by the stream thread) the keeper
 * alone uses the replication connection, and only under `mu`, so that
 * disarming waits for a send in progress and hands the connection back.
 * The positions reported are those from before the batch: flush never
 * moves past what DuckDB has committed.
 */
typedef struct Keeper {
    pthread_t thread;
    bool live;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Under mu: */
    bool quit, armed, failed;
    PgJob *repl;
    uint64_t write, flush;
    int64_t last_ms; /* the last status update sent, by either thread */
    int64_t sent;    /* status updates the keeper sent */
} Keeper;

static bool follows_locked(const CdcStream *st, const char *table);
static bool follow_locked(CdcStream *st, const char *table);
static void follows_clear(CdcStream *st);

typedef struct Run {
    CdcStream *st;
    const SessionEnv *env;
    PgJob pg, repl;
    PoolDb *db;
    duckdb_connection con;
    char schema[256], slot[64], publication[64];
    uint64_t applied; /* the stored LSN */
    CdcSkips skips;   /* the tables resynced alone, and from where they follow (cdcskip.h) */
    Rel *rels;
    int nrels;
    PgoutputDecoder dec;
    /* The transaction being received. */
    bool in_txn, skip_txn;
    uint64_t txn_lsn;          /* its commit LSN (Begin) */
    int64_t txn_start_changes; /* batch_changes at its Begin */
    int64_t skipped;           /* transactions below the stored LSN, sent again */
    /* The open batch (DuckDB transaction). */
    bool batch_open, cache_bracket;
    int64_t batch_start_ms, batch_changes, batch_txns, seq;
    int64_t batch_bytes; /* bytes of the messages received for the batch */
    uint64_t batch_end;  /* end LSN of the last transaction in the batch */
    uint64_t received, server_end, idle_flush;
    uint64_t idle_after_batch; /* a keepalive's WAL end that came between transactions of the
                                  open batch: flush may move there once the batch commits */
    int64_t last_status_ms;
    int64_t last_wal_check_ms;
    Keeper keeper;
} Run;

static void rel_unstage(Rel *r)
{
    if (r->app)
        duckdb_appender_destroy(&r->app);
    if (r->chunk)
        duckdb_destroy_data_chunk(&r->chunk);
    for (int c = 0; r->types && c < r->nstage; c++)
        duckdb_destroy_logical_type(&r->types[c]);
    free(r->types);
    free(r->vcols);
    r->types = NULL;
    r->vcols = NULL;
    r->staged = r->toast = false;
    r->row = 0;
}

static void rel_free(Rel *r)
{
    rel_unstage(r);
    pgschema_free(&r->sc);
    free(r->type_oids);
    free(r->typmods);
    r->type_oids = NULL;
    r->typmods = NULL;
    r->ntypes = 0;
}

static const PgValueType seq_type = {.kind = PGVALUE_INT8};
static const PgValueType text_type = {.kind = PGVALUE_TEXT};

/* Creates the stage table of `r` in the open batch and its appender. */
static int rel_stage_open(Run *run, Rel *r)
{
    const PgTable *tb = &r->sc.tables[0];
    Buf sql = {0};
    int rc = -1;
    pgload_stage_sql(&sql, r->stage, tb);
    buf_printf(&sql, "; ALTER TABLE %s ADD COLUMN toast VARCHAR", r->stage);
    if (pgload_exec(&run->pg, run->con, buf_cstr(&sql)) != 0)
        goto out;
    r->staged = r->touched = true;
    if (duckdb_appender_create(run->con, NULL, r->stage, &r->app) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(r->app);
        pgjob_fail(&run->pg, "%s", e ? e : "cannot create a DuckDB appender");
        goto out;
    }
    r->nstage = (int)duckdb_appender_column_count(r->app);
    if (r->nstage != 3 + 2 * tb->ncols) {
        pgjob_fail(&run->pg, "table %s: unexpected stage columns", tb->name);
        goto out;
    }
    r->types = xcalloc((size_t)r->nstage, sizeof(*r->types));
    r->vcols = xcalloc((size_t)r->nstage, sizeof(*r->vcols));
    for (int c = 0; c < r->nstage; c++) {
        r->types[c] = duckdb_appender_column_type(r->app, (idx_t)c);
        const PgValueType *t = c == 0                         ? &seq_type
                               : c == 1 || c == r->nstage - 1 ? &text_type
                                                              : &tb->cols[(c - 2) % tb->ncols].type;
        const char *name =
            c < 2 || c == r->nstage - 1 ? "(stage)" : tb->cols[(c - 2) % tb->ncols].name;
        if (pgvalue_bind(&r->vcols[c], tb->name, name, t, r->types[c], run->pg.err,
                         sizeof(run->pg.err)) != 0)
            goto out;
    }
    r->chunk = duckdb_create_data_chunk(r->types, (idx_t)r->nstage);
    if (!r->chunk)
        log_fatal("out of memory");
    rc = 0;
out:
    buf_free(&sql);
    return rc;
}

static int rel_flush_chunk(Run *run, Rel *r)
{
    if (r->row == 0)
        return 0;
    duckdb_data_chunk_set_size(r->chunk, r->row);
    if (duckdb_append_data_chunk(r->app, r->chunk) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(r->app);
        pgjob_fail(&run->pg, "%s", e ? e : "DuckDB's appender failed");
        return -1;
    }
    duckdb_destroy_data_chunk(&r->chunk);
    r->chunk = duckdb_create_data_chunk(r->types, (idx_t)r->nstage);
    if (!r->chunk)
        log_fatal("out of memory");
    r->row = 0;
    return 0;
}

/* Writes one value of a tuple (or NULL when absent) into stage column c. */
static int put_value(Run *run, Rel *r, int c, const PgoutputValue *v)
{
    duckdb_vector vec = duckdb_data_chunk_get_vector(r->chunk, (idx_t)c);
    if (!v || v->kind == 'n' || v->kind == 'u') {
        pgvalue_put_null(vec, r->row);
        return 0;
    }
    if (v->kind != 'b') {
        pgjob_fail(&run->pg, "table %s: a value in text format from PostgreSQL (binary expected)",
                   r->sc.tables[0].name);
        return -1;
    }
    return pgvalue_put(&r->vcols[c], vec, r->row, v->p, v->len, run->pg.err, sizeof(run->pg.err));
}

/*
 * Stages one change: op I, U, D or T with the old and new tuples (NULL when
 * the change has none). An Update without an old tuple kept its key, so the
 * new row stands in for the old. An unchanged TOASTed value ('u') is taken
 * from the old row when PostgreSQL sent it whole (REPLICA IDENTITY FULL),
 * else marked in the toast column for batch_fill_toast().
 */
static int stage_change(Run *run, Rel *r, char op, const PgoutputTuple *old,
                        const PgoutputTuple *new_)
{
    const PgTable *tb = &r->sc.tables[0];
    int n = tb->ncols;
    if ((old && old->ncols != n) || (new_ && new_->ncols != n)) {
        pgjob_fail(&run->pg,
                   "table %s: a change with %d columns, the table has %d: its columns changed; "
                   "unlink and link it again (docs/cdc.md)",
                   tb->name, old ? old->ncols : new_->ncols, n);
        return -1;
    }
    if (!r->staged && rel_stage_open(run, r) != 0)
        return -1;
    ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(r->chunk, 0)))[r->row] =
        ++run->seq;
    char opstr[2] = {op, 0};
    duckdb_vector_assign_string_element(duckdb_data_chunk_get_vector(r->chunk, 1), r->row, opstr);
    const PgoutputTuple *o = old ? old : (op == 'U' ? new_ : NULL);
    Buf toast = {0};
    for (int c = 0; c < n; c++) {
        const PgoutputValue *nv = new_ ? &new_->cols[c] : NULL;
        if (nv && nv->kind == 'u') {
            if (old && old->cols[c].kind == 'b') /* FULL: the old row carries the value */
                nv = &old->cols[c];
            else
                buf_printf(&toast, ",%d,", c + 1);
        }
        if (put_value(run, r, 2 + c, o ? &o->cols[c] : NULL) != 0 ||
            put_value(run, r, 2 + n + c, nv) != 0) {
            buf_free(&toast);
            return -1;
        }
    }
    duckdb_vector tv = duckdb_data_chunk_get_vector(r->chunk, (idx_t)(2 + 2 * n));
    if (toast.len) {
        duckdb_vector_assign_string_element_len(tv, r->row, buf_cstr(&toast), toast.len);
        r->toast = true;
    } else {
        pgvalue_put_null(tv, r->row);
    }
    buf_free(&toast);
    run->batch_changes++;
    if (++r->row == duckdb_vector_size())
        return rel_flush_chunk(run, r);
    return 0;
}

/*
 * Fills the unchanged TOASTed values of staged updates: each from the
 * newest earlier staged version of the row that carried the column, else
 * from the DuckDB table. Only tables with a key get here (without one,
 * link requires REPLICA IDENTITY FULL, whose old rows carry the values).
 */
static int batch_fill_toast(Run *run, Rel *r)
{
    const PgTable *tb = &r->sc.tables[0];
    Buf sql = {0}, tname = {0};
    int rc = -1;
    pgschema_put_ident(&tname, tb->name);
    for (int c = 0; c < tb->ncols; c++) {
        if (tb->cols[c].pk_pos)
            continue;
        sql.len = 0;
        buf_printf(&sql,
                   "UPDATE %s AS s SET \"n%d\" = coalesce((SELECT p.\"n%d\" FROM %s AS p WHERE "
                   "p.op IN ('I', 'U') AND p.seq < s.seq AND (p.toast IS NULL OR NOT "
                   "contains(p.toast, ',%d,'))",
                   r->stage, c + 1, c + 1, r->stage, c + 1);
        for (int k = 0; k < tb->ncols; k++)
            if (tb->cols[k].pk_pos)
                buf_printf(&sql, " AND p.\"n%d\" = s.\"o%d\"", k + 1, k + 1);
        buf_printf(&sql, " ORDER BY p.seq DESC LIMIT 1), (SELECT t.");
        pgschema_put_ident(&sql, tb->cols[c].name);
        buf_printf(&sql, " FROM %s AS t WHERE true", buf_cstr(&tname));
        for (int k = 0; k < tb->ncols; k++)
            if (tb->cols[k].pk_pos) {
                buf_append_str(&sql, " AND t.");
                pgschema_put_ident(&sql, tb->cols[k].name);
                buf_printf(&sql, " = s.\"o%d\"", k + 1);
            }
        buf_printf(&sql, ")) WHERE contains(s.toast, ',%d,')", c + 1);
        if (pgload_exec(&run->pg, run->con, buf_cstr(&sql)) != 0)
            goto out;
    }
    rc = 0;
out:
    buf_free(&sql);
    buf_free(&tname);
    return rc;
}

/* ---- the batch ---------------------------------------------------------- */

static void publish(Run *run)
{
    CdcStream *st = run->st;
    pthread_mutex_lock(&registry.mu);
    st->applied_lsn = run->applied;
    uint64_t prog = run->applied > run->idle_flush ? run->applied : run->idle_flush;
    st->progress_lsn = prog;
    st->received_lsn = run->received;
    st->server_lsn = run->server_end;
    pthread_cond_broadcast(&registry.progress);
    pthread_mutex_unlock(&registry.mu);
}

static int send_status(Run *run, bool reply)
{
    unsigned char msg[PGOUTPUT_STATUS_LEN];
    uint64_t flush = run->applied > run->idle_flush ? run->applied : run->idle_flush;
    pgoutput_status_update(msg, run->received > flush ? run->received : flush, flush, flush,
                           now_pg_us(), reply);
    run->last_status_ms = now_ms();
    return pgjob_stream_send(&run->repl, msg, sizeof(msg));
}

/* ---- the keeper ---------------------------------------------------------- */

static void *keeper_main(void *arg)
{
    Keeper *k = arg;
    pthread_mutex_lock(&k->mu);
    while (!k->quit) {
        if (!k->armed || k->failed) {
            pthread_cond_wait(&k->cv, &k->mu);
            continue;
        }
        int interval = cfg_now()->cdc_status_interval_ms;
        int64_t due = k->last_ms + interval - now_ms();
        if (due <= 0) {
            unsigned char msg[PGOUTPUT_STATUS_LEN];
            pgoutput_status_update(msg, k->write, k->flush, k->flush, now_pg_us(), false);
            if (pgjob_stream_send(k->repl, msg, sizeof(msg)) != 0)
                k->failed = true; /* the stream thread reports it at disarm */
            else
                k->sent++;
            k->last_ms = now_ms();
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += due / 1000;
        ts.tv_nsec += (due % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

/* Starts the keeper of `run` (the stream thread, whose blocked signals it inherits). */
static int keeper_start(Run *run)
{
    Keeper *k = &run->keeper;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    k->repl = &run->repl;
    if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->mu);
        pgjob_fail(&run->pg, "cannot start a thread");
        return -1;
    }
    k->live = true;
    return 0;
}

static void keeper_stop(Run *run)
{
    Keeper *k = &run->keeper;
    if (!k->live)
        return;
    pthread_mutex_lock(&k->mu);
    k->quit = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    k->live = false;
}

/* Hands the replication connection to the keeper until keeper_disarm(). */
static void keeper_arm(Run *run)
{
    Keeper *k = &run->keeper;
    uint64_t flush = run->applied > run->idle_flush ? run->applied : run->idle_flush;
    pthread_mutex_lock(&k->mu);
    k->write = run->received > flush ? run->received : flush;
    k->flush = flush;
    k->last_ms = run->last_status_ms;
    k->armed = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

/* Takes the replication connection back (waiting for a send in progress). 0, or -1 when a
 * status update of the keeper failed (then, when `report`, the error is recorded in
 * run->pg; an apply failing already keeps its own). */
static int keeper_disarm(Run *run, bool report)
{
    Keeper *k = &run->keeper;
    pthread_mutex_lock(&k->mu);
    k->armed = false;
    bool failed = k->failed;
    if (k->last_ms > run->last_status_ms)
        run->last_status_ms = k->last_ms;
    pthread_mutex_unlock(&k->mu);
    if (failed && report)
        pgjob_fail(&run->pg, "%s", run->repl.err);
    return failed ? -1 : 0;
}

static int batch_begin(Run *run)
{
    if (run->batch_open)
        return 0;
    rescache_write_begin(run->st->db_id);
    run->cache_bracket = true;
    if (pgload_exec(&run->pg, run->con, "BEGIN TRANSACTION") != 0)
        return -1;
    run->batch_open = true;
    for (int i = 0; i < run->nrels; i++)
        run->rels[i].touched = false;
    run->batch_start_ms = now_ms();
    run->batch_changes = run->batch_txns = run->batch_bytes = 0;
    return 0;
}

static void batch_abort(Run *run)
{
    for (int i = 0; i < run->nrels; i++)
        rel_unstage(&run->rels[i]);
    if (run->batch_open) {
        duckdb_result res;
        (void)duckdb_query(run->con, "ROLLBACK", &res);
        duckdb_destroy_result(&res);
        run->batch_open = false;
    }
    if (run->cache_bracket) {
        rescache_write_end(run->st->db_id);
        run->cache_bracket = false;
    }
}

/* Applies the staged changes of `r` to its table in the open batch and drops its stage. */
static int rel_apply(Run *run, Rel *r)
{
    if (rel_flush_chunk(run, r) != 0)
        return -1;
    if (duckdb_appender_close(r->app) != DuckDBSuccess) {
        const char *e = duckdb_appender_error(r->app);
        pgjob_fail(&run->pg, "%s", e ? e : "DuckDB's appender failed");
        return -1;
    }
    if (r->toast && batch_fill_toast(run, r) != 0)
        return -1;
    if (pgload_apply_stage(&run->pg, run->con, r->stage, &r->sc.tables[0]) != 0)
        return -1;
    char drop[96];
    snprintf(drop, sizeof(drop), "DROP TABLE %s", r->stage);
    if (pgload_exec(&run->pg, run->con, drop) != 0)
        return -1;
    rel_unstage(r);
    return 0;
}

/* Applies and commits the open batch with its end LSN, then tells PostgreSQL. */
static int batch_flush(Run *run)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    int rc = -1;
    bool armed = false;
    if (!run->batch_open || run->in_txn)
        return 0;
    /* From here to the commit, the stream thread does not serve the replication
     * connection: the keeper sends the status updates. */
    if (run->keeper.live) {
        keeper_arm(run);
        armed = true;
    }
    for (int i = 0; i < run->nrels; i++)
        if (run->rels[i].staged && rel_apply(run, &run->rels[i]) != 0)
            goto out;
    if (duckdb_prepare(run->con,
                       "UPDATE " CDC_STATE_TABLE " SET lsn = ?, changes_applied = "
                       "changes_applied + ?, applied_at = current_timestamp",
                       &prep) != DuckDBSuccess) {
        pgjob_fail(&run->pg, "%s", duckdb_prepare_error(prep));
        goto out;
    }
    duckdb_bind_int64(prep, 1, (int64_t)run->batch_end);
    duckdb_bind_int64(prep, 2, run->batch_changes);
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        pgjob_fail(&run->pg, "%s", duckdb_result_error(&res));
        duckdb_destroy_result(&res);
        goto out;
    }
    duckdb_destroy_result(&res);
    if (run->skips.n && cdcskip_prune(&run->pg, run->con, run->batch_end) != 0)
        goto out;
#ifdef TCPDUCKDB_TEST_HOOKS
    /* A DuckDB apply slower than PostgreSQL's wal_sender_timeout (tests/e2e/test_cdc.py). */
    const char *slow = getenv("TCPDUCKDB_TEST_CDC_APPLY_SLEEP_MS");
    if (slow && run->batch_changes > 0) {
        int64_t ms = atoll(slow);
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
#endif
    run->batch_open = false;
    if (pgload_commit(&run->pg, run->con, run->st->db_id) != 0)
        goto out;
    armed = false;
    if (keeper_disarm(run, true) != 0)
        goto out;
    rescache_write_end(run->st->db_id);
    run->cache_bracket = false;
#ifdef TCPDUCKDB_TEST_HOOKS
    /* The crash between DuckDB's commit and the status update (tests/e2e/test_cdc.py). */
    if (getenv("TCPDUCKDB_TEST_CDC_CRASH_AFTER_COMMIT"))
        _exit(9);
#endif
    run->applied = run->batch_end;
    if (run->idle_after_batch > run->idle_flush)
        run->idle_flush = run->idle_after_batch;
    run->idle_after_batch = 0;
    pthread_mutex_lock(&registry.mu);
    run->st->changes += run->batch_changes;
    run->st->txns += run->batch_txns;
    run->st->last_apply_ms = now_ms();
    pthread_mutex_unlock(&registry.mu);
    publish(run);
    if (send_status(run, false) != 0)
        goto out;
    rc = 0;
out:
    duckdb_destroy_prepare(&prep);
    if (armed)
        (void)keeper_disarm(run, false); /* failing already: its own error stays */
    if (rc != 0)
        batch_abort(run);
    return rc;
}

/* ---- messages ----------------------------------------------------------- */

static Rel *rel_find(Run *run, uint32_t relid)
{
    for (int i = 0; i < run->nrels; i++)
        if (run->rels[i].relid == relid)
            return &run->rels[i];
    return NULL;
}

/* True when the columns of a Relation message are those of `tb`, by name and order. */
static bool same_columns(const PgTable *tb, const PgoutputMsg *m)
{
    bool same = tb->ncols == m->ncols;
    for (int c = 0; same && c < tb->ncols; c++)
        same = strcmp(tb->cols[c].name, m->cols[c].name) == 0;
    return same;
}

/*
 * Fails the stream on a Relation message whose columns are not those of `tb`: names the table
 * and the first column that differs, and the way out (a resync of the table copies it again
 * with its new columns).
 */
static void fail_columns(Run *run, const PgTable *tb, const PgoutputMsg *m)
{
    int c = 0;
    while (c < tb->ncols && c < m->ncols && strcmp(tb->cols[c].name, m->cols[c].name) == 0)
        c++;
    char what[600];
    if (c < tb->ncols && c < m->ncols)
        snprintf(what, sizeof(what), "column %s is now %s (renamed, dropped or reordered)",
                 tb->cols[c].name, m->cols[c].name);
    else if (c < tb->ncols)
        snprintf(what, sizeof(what), "column %s was dropped", tb->cols[c].name);
    else if (c < m->ncols)
        snprintf(what, sizeof(what), "column %s was added", m->cols[c].name);
    else
        snprintf(what, sizeof(what), "a column changed");
    pgjob_fail(&run->pg,
               "table %s changed in PostgreSQL: %s; the stream does not follow this change: `cdc "
               "resync %s %s` copies the table again (docs/cdc.md)",
               tb->name, what, run->st->name, tb->name);
}

#define NO_DUCK_TABLE (-2)

/*
 * Fails (-1) unless the DuckDB table of the Relation message `m` has its columns, by name and
 * order (0), or their first n only (returns n: columns added since); NO_DUCK_TABLE (no error
 * recorded) when the DuckDB database has no such table. The table the changes go
 * to is the reference: PostgreSQL's catalog is already past a rename when a stream starts
 * after it.
 */
static int check_duck_columns(Run *run, const PgoutputMsg *m)
{
    duckdb_prepared_statement prep = NULL;
    duckdb_result res;
    int rc = -1;
    if (duckdb_prepare(run->con,
                       "SELECT column_name FROM duckdb_columns() WHERE schema_name = "
                       "current_schema() AND table_name = $1 ORDER BY column_index",
                       &prep) != DuckDBSuccess) {
        pgjob_fail(&run->pg, "%s", duckdb_prepare_error(prep));
        duckdb_destroy_prepare(&prep);
        return -1;
    }
    duckdb_bind_varchar(prep, 1, m->relname);
    if (duckdb_execute_prepared(prep, &res) != DuckDBSuccess) {
        pgjob_fail(&run->pg, "%s", duckdb_result_error(&res));
        goto out;
    }
    idx_t n = duckdb_row_count(&res);
    if (n == 0) {
        rc = NO_DUCK_TABLE;
        goto out;
    }
    PgTable tb = {.name = (char *)m->relname, .ncols = (int)n};
    tb.cols = xcalloc(n, sizeof(*tb.cols));
    for (idx_t i = 0; i < n; i++)
        tb.cols[i].name = duckdb_value_varchar(&res, 0, i);
    int prefix = 0;
    while (prefix < tb.ncols && prefix < m->ncols &&
           strcmp(tb.cols[prefix].name, m->cols[prefix].name) == 0)
        prefix++;
    if (same_columns(&tb, m))
        rc = 0;
    else if (prefix == tb.ncols)
        rc = prefix;
    else
        fail_columns(run, &tb, m);
    for (idx_t i = 0; i < n; i++)
        duckdb_free(tb.cols[i].name);
    free(tb.cols);
out:
    duckdb_destroy_result(&res);
    duckdb_destroy_prepare(&prep);
    return rc;
}

/* When the columns of the Relation message `m` are the first of `tb` (PostgreSQL's catalog
 * now, with columns added after the changes at hand), drops the others from `tb`: they are
 * added when a Relation message carries them. */
static void cut_to_message(PgTable *tb, const PgoutputMsg *m)
{
    if (tb->ncols <= m->ncols)
        return;
    for (int c = 0; c < m->ncols; c++)
        if (strcmp(tb->cols[c].name, m->cols[c].name) != 0)
            return;
    pgschema_cut_columns(tb, m->ncols);
}

/*
 * Gives `r` and its DuckDB table the columns `from`.. of the Relation message `m`, read anew
 * from PostgreSQL's catalog (cdcddl.h); nothing of `r` is staged.
 */
static int rel_add_columns(Run *run, Rel *r, const PgoutputMsg *m, int from)
{
    PgSchema sc = {0};
    if (pgschema_read(&run->pg, run->schema, m->relname, &sc) != 0)
        return -1;
    if (sc.n == 1)
        cut_to_message(&sc.tables[0], m);
    if (sc.n != 1 || !same_columns(&sc.tables[0], m)) {
        if (r->sc.n == 1)
            fail_columns(run, &r->sc.tables[0], m);
        else
            pgjob_fail(&run->pg, "table %s changed again in PostgreSQL; `cdc resync %s %s`",
                       m->relname, run->st->name, m->relname);
        pgschema_free(&sc);
        return -1;
    }
    if (cdcddl_add_columns(&run->pg, run->con, m->relid, &sc.tables[0], from, run->st->name) != 0) {
        pgschema_free(&sc);
        return -1;
    }
    log_info("cdc of %s: table %s: %d column(s) added", run->st->name, m->relname, m->ncols - from);
    pgschema_free(&r->sc);
    r->sc = sc;
    return 0;
}

/* Remembers the column types of the Relation message `m`, accepted for `r`. */
static void rel_keep_types(Rel *r, const PgoutputMsg *m)
{
    size_t n = m->ncols > 0 ? (size_t)m->ncols : 1;
    r->type_oids = xrealloc(r->type_oids, n * sizeof(*r->type_oids));
    r->typmods = xrealloc(r->typmods, n * sizeof(*r->typmods));
    for (int c = 0; c < m->ncols; c++) {
        r->type_oids[c] = m->cols[c].type_oid;
        r->typmods[c] = m->cols[c].typmod;
    }
    r->ntypes = m->ncols;
}

/* True when the column types of `m` are not those last accepted for `r`. */
static bool types_changed(const Rel *r, const PgoutputMsg *m)
{
    if (r->ntypes != m->ncols)
        return true;
    for (int c = 0; c < m->ncols; c++)
        if (r->type_oids[c] != m->cols[c].type_oid || r->typmods[c] != m->cols[c].typmod)
            return true;
    return false;
}

/*
 * A Relation message of `r` with the known columns and other types (ALTER COLUMN ... TYPE):
 * fails naming table, column and both types unless each maps to the DuckDB type it had
 * (cdcddl.h). `r` keeps its definition: the values decode as before.
 */
static int rel_check_types(Run *run, Rel *r, const PgoutputMsg *m)
{
    PgSchema sc = {0};
    int rc = -1;
    if (pgschema_read(&run->pg, run->schema, m->relname, &sc) != 0)
        goto out;
    if (sc.n == 1)
        cut_to_message(&sc.tables[0], m);
    if (sc.n != 1 || !same_columns(&sc.tables[0], m)) {
        pgjob_fail(&run->pg,
                   "table %s changed again in PostgreSQL; `cdc resync %s %s` copies the table "
                   "again (docs/cdc.md)",
                   m->relname, run->st->name, m->relname);
        goto out;
    }
    if (cdcddl_check_types(&run->pg, run->con, &sc.tables[0], &r->sc.tables[0], run->st->name) != 0)
        goto out;
    rel_keep_types(r, m);
    rc = 0;
out:
    pgschema_free(&sc);
    return rc;
}

/*
 * Creates the DuckDB table of PostgreSQL's table `name`, which joined the publication after
 * link, and copies its rows as they are now (cdcnew.h argues why the replay of its later
 * changes converges: it has a primary key). `keep`, when not NULL, is the Rel met by the
 * Relation message at hand, with its definition cut to that message. Every other Rel of that
 * name is forgotten, its staged changes applied first: a table dropped and created again has
 * another relid, and PostgreSQL sends a Relation message before a relid's first change.
 */
static int rel_join(Run *run, Rel *keep, const char *name)
{
    PgSchema sc = {0};
    int64_t rows = 0;
    int rc = -1;
    for (int i = 0; i < run->nrels; i++) {
        Rel *r = &run->rels[i];
        if (r == keep || r->sc.n != 1 || strcmp(r->sc.tables[0].name, name) != 0)
            continue;
        if (r->staged && rel_apply(run, r) != 0)
            goto out;
        rel_free(r);
    }
    if (pgschema_read(&run->pg, run->schema, name, &sc) != 0)
        goto out;
    if (sc.n != 1 && !keep) {
        /* Dropped or renamed since: nothing to copy now. Renamed, it is met again by the
         * Relation message of its next change, under its new name. */
        log_info("cdc of %s: table %s, created in PostgreSQL after link, is gone already",
                 run->st->name, name);
        rc = 0;
        goto out;
    }
    const char *why = NULL;
    if (sc.n != 1)
        why = "it is no longer in PostgreSQL";
    else if (sc.tables[0].npk == 0)
        why = "it has no primary key";
    else if (keep && keep->sc.tables[0].ncols != sc.tables[0].ncols)
        why = "columns were added to it since";
    if (why) {
        pgjob_fail(&run->pg,
                   "table %s joined the publication after link and %s, so the stream cannot "
                   "copy it: `cdc resync %s %s` copies it (docs/cdc.md)",
                   name, why, run->st->name, name);
        goto out;
    }
    /* The copy may outlast PostgreSQL's wal_sender_timeout: the keeper sends the status
     * updates meanwhile, as during a batch's commit. */
    bool armed = run->keeper.live;
    if (armed)
        keeper_arm(run);
    int crc = cdcnew_copy_table(&run->pg, run->con, run->schema, &sc.tables[0], &rows);
    if (armed && keeper_disarm(run, crc == 0) != 0)
        crc = -1;
    if (crc != 0)
        goto out;
    log_info("cdc of %s: table %s, created in PostgreSQL after link, joins the stream: %" PRId64
             " rows copied",
             run->st->name, name, rows);
    rc = 0;
out:
    pgschema_free(&sc);
    return rc;
}

/* A logical message of the event trigger (cdcnew.h): table `content` joined the publication. */
static int on_join_message(Run *run, const PgoutputMsg *m)
{
    char name[256];
    if (m->content_len == 0 || m->content_len >= sizeof(name) ||
        memchr(m->content, 0, m->content_len)) {
        pgjob_fail(&run->pg, "logical replication: a malformed message of the event trigger");
        return -1;
    }
    memcpy(name, m->content, m->content_len);
    name[m->content_len] = '\0';
    /* A `cdc resync DB TABLE` copied the table after this transaction already. */
    if (run->txn_lsn < cdcskip_below(&run->skips, name))
        return 0;
    return rel_join(run, NULL, name);
}

/*
 * A Relation message: PostgreSQL sends one before a table's first change in
 * a session and again after any invalidation of the table's cache entry (an
 * ANALYZE is enough), so most repeat what is known. A table met first is
 * read from the catalog and checked against its DuckDB table. Columns added
 * at the end are added to the DuckDB table (cdcddl.h); any other difference
 * (renamed, dropped, reordered) stops the stream naming table and column
 * and pointing to `cdc resync DB TABLE`.
 */
static int on_relation(Run *run, const PgoutputMsg *m)
{
    Rel *r = rel_find(run, m->relid);
    /* Inside the copy of a `cdc resync DB TABLE` (the table's changes are skipped): its DuckDB
     * table is PostgreSQL's at the copy, already past what this message describes. */
    uint64_t below = r ? r->skip_below : cdcskip_below(&run->skips, m->relname);
    bool in_copy = run->txn_lsn < below;
    if (r && r->sc.n == 1 && !in_copy) {
        const PgTable *tb = &r->sc.tables[0];
        if (same_columns(tb, m))
            return types_changed(r, m) ? rel_check_types(run, r, m) : 0;
        int c = 0;
        while (c < tb->ncols && c < m->ncols && strcmp(tb->cols[c].name, m->cols[c].name) == 0)
            c++;
        if (c < tb->ncols) {
            fail_columns(run, tb, m);
            return -1;
        }
        /* Columns added. DuckDB's ALTER must come before any change of the table in its
         * transaction (after one, a DELETE and INSERT of a key fails its unique check at
         * COMMIT): the batch so far is committed first, which the transaction at hand
         * allows only when it has changed nothing yet. */
        if (r->touched) {
            if (run->batch_changes > run->txn_start_changes) {
                pgjob_fail(&run->pg,
                           "table %s changed in PostgreSQL: column %s was added inside a "
                           "transaction that changed tables before the ALTER; `cdc resync %s %s` "
                           "copies the table again (docs/cdc.md)",
                           tb->name, m->cols[tb->ncols].name, run->st->name, tb->name);
                return -1;
            }
            run->in_txn = false;
            int frc = batch_flush(run);
            run->in_txn = true;
            if (frc != 0 || batch_begin(run) != 0)
                return -1;
        }
        if (rel_add_columns(run, r, m, tb->ncols) != 0 ||
            cdcddl_check_types(&run->pg, run->con, &r->sc.tables[0], NULL, run->st->name) != 0)
            return -1;
        rel_keep_types(r, m);
        return 0;
    }
    if (!r) {
        run->rels = xrealloc(run->rels, (size_t)(run->nrels + 1) * sizeof(*run->rels));
        r = &run->rels[run->nrels++];
        *r = (Rel){.relid = m->relid};
        snprintf(r->stage, sizeof(r->stage), "tcpduckdb_cdc_stage_%" PRIu32, m->relid);
    }
    pgschema_free(&r->sc);
    if (strcmp(m->nspname, run->schema) != 0) {
        pgjob_fail(&run->pg, "table %s.%s is published but not in the linked schema %s", m->nspname,
                   m->relname, run->schema);
        return -1;
    }
    if (pgschema_read(&run->pg, run->schema, m->relname, &r->sc) != 0)
        return -1;
    r->dropped = false;
    cdc_follow(run->st->db_id, m->relname);
    if (r->sc.n != 1) {
        /* Dropped since (a table created after link and dropped soon is common): its
         * definition is gone with it, so are its changes; the DuckDB table, if any, stays as
         * it is. A relation that still exists (renamed) stops the stream. */
        char oid[16];
        snprintf(oid, sizeof(oid), "%" PRIu32, m->relid);
        const char *params[1] = {oid};
        int n = pgjob_rows(&run->pg, "SELECT 1 FROM pg_class WHERE oid = $1::oid", 1, params);
        if (n < 0)
            return -1;
        if (n == 0) {
            log_info("cdc of %s: table %s was dropped in PostgreSQL before the stream met its "
                     "changes: they are skipped",
                     run->st->name, m->relname);
            r->dropped = true;
            return 0;
        }
        pgjob_fail(&run->pg,
                   "table %s no longer exists in PostgreSQL under that name: `cdc resync %s` "
                   "copies the tables again (docs/cdc.md)",
                   m->relname, run->st->name);
        return -1;
    }
    r->skip_below = below;
    cut_to_message(&r->sc.tables[0], m);
    if (in_copy)
        return 0;
    if (!same_columns(&r->sc.tables[0], m)) {
        fail_columns(run, &r->sc.tables[0], m);
        pgschema_free(&r->sc);
        return -1;
    }
    int have = check_duck_columns(run, m);
    if (have == NO_DUCK_TABLE) {
        /* A table added to the publication after link without the event trigger's message
         * (by hand): with a primary key it is copied now, as the message would have. */
        if (m->replident != 'd' || r->sc.tables[0].npk == 0) {
            pgjob_fail(&run->pg,
                       "table %s is published but has no DuckDB table: `cdc resync %s %s` copies "
                       "it (docs/cdc.md)",
                       m->relname, run->st->name, m->relname);
            have = -1;
        } else {
            have = rel_join(run, r, m->relname);
        }
    } else if (have >= 0 &&
               cdcddl_check_types(&run->pg, run->con, &r->sc.tables[0], NULL, run->st->name) != 0) {
        have = -1;
    }
    if (have > 0 && rel_add_columns(run, r, m, have) != 0)
        have = -1;
    if (have < 0) {
        pgschema_free(&r->sc);
        return -1;
    }
    rel_keep_types(r, m);
    return 0;
}

static int on_message(Run *run, const unsigned char *p, size_t len)
{
    PgoutputMsg m;
    if (pgoutput_decode(&run->dec, p, len, &m) != 0) {
        pgjob_fail(&run->pg, "%s", run->dec.err);
        return -1;
    }
    switch (m.kind) {
    case PGOUTPUT_BEGIN:
        run->in_txn = true;
        run->txn_lsn = m.lsn;
        run->txn_start_changes = run->batch_changes;
        /* Applied already (its commit lies below the stored end LSN): PostgreSQL resends
         * from its last checkpointed slot position. */
        run->skip_txn = m.lsn < run->applied;
        if (run->skip_txn && run->skipped++ == 0)
            log_info("cdc of %s: PostgreSQL sends again transactions applied already; skipped",
                     run->st->name);
        return run->skip_txn ? 0 : batch_begin(run);
    case PGOUTPUT_COMMIT:
        run->in_txn = false;
        if (!run->skip_txn) {
            run->batch_end = m.end_lsn;
            run->batch_txns++;
        }
        run->skip_txn = false;
        return 0;
    case PGOUTPUT_RELATION:
        return on_relation(run, &m);
    case PGOUTPUT_INSERT:
    case PGOUTPUT_UPDATE:
    case PGOUTPUT_DELETE: {
        if (run->skip_txn)
            return 0;
        Rel *r = rel_find(run, m.relid);
        if (r && r->dropped)
            return 0;
        if (!r || !r->sc.n) {
            pgjob_fail(&run->pg, "a change of relation %" PRIu32 " before its Relation message",
                       m.relid);
            return -1;
        }
        if (run->txn_lsn < r->skip_below) /* in the copy of a `cdc resync DB TABLE` */
            return 0;
        return stage_change(run, r, (char)m.kind, m.old_kind ? &m.old : NULL,
                            m.kind == PGOUTPUT_DELETE ? NULL : &m.new_);
    }
    case PGOUTPUT_TRUNCATE:
        if (run->skip_txn)
            return 0;
        for (int i = 0; i < m.nrelids; i++) {
            Rel *r = rel_find(run, pgoutput_relid(&m, i));
            if (r && r->sc.n && run->txn_lsn >= r->skip_below &&
                stage_change(run, r, 'T', NULL, NULL) != 0)
                return -1;
        }
        return 0;
    case PGOUTPUT_MESSAGE:
        /* Only the event trigger's, in a transaction (cdcnew.h); other prefixes are others'. */
        if (!run->in_txn || run->skip_txn || !m.relname || strcmp(m.relname, run->publication) != 0)
            return 0;
        return on_join_message(run, &m);
    case PGOUTPUT_ORIGIN:
    case PGOUTPUT_TYPE:
        return 0;
    default:
        pgjob_fail(&run->pg,
                   "logical replication: unexpected message '%c' (streaming was not "
                   "requested)",
                   (char)m.kind);
        return -1;
    }
}

/* ---- a stream's run ------------------------------------------------------ */

/* Reads the state row: schema, slot, publication and the applied LSN. */
static int read_state(Run *run)
{
    duckdb_result res;
    int rc = -1;
    if (duckdb_query(run->con, "SELECT pg_schema, slot, publication, lsn FROM " CDC_STATE_TABLE,
                     &res) != DuckDBSuccess ||
        duckdb_row_count(&res) != 1) {
        pgjob_fail(&run->pg, "database %s has no valid " CDC_STATE_TABLE " table", run->st->name);
        goto out;
    }
    linkjob_state_text(&res, 0, run->schema, sizeof(run->schema));
    linkjob_state_text(&res, 1, run->slot, sizeof(run->slot));
    linkjob_state_text(&res, 2, run->publication, sizeof(run->publication));
    run->applied = (uint64_t)duckdb_value_int64(&res, 3, 0);
    rc = 0;
out:
    duckdb_destroy_result(&res);
    return rc;
}

char *cdc_dsn_open(const SessionEnv *env, int64_t db_id, size_t *out_len, char *err, size_t errlen)
{
    char *dsn = NULL;
    switch (linkjob_dsn_open(env, db_id, &dsn, out_len)) {
    case LINKJOB_DSN_OK:
        break;
    case LINKJOB_DSN_NOT_LINKED:
    case LINKJOB_DSN_CATALOG:
        snprintf(err, errlen, "the database is not linked");
        break;
    case LINKJOB_DSN_KEY:
        snprintf(err, errlen,
                 "cannot decrypt the stored connection string: ENCRYPTION_KEY is "
                 "not the key it was linked with");
        break;
    }
    return dsn;
}

static void set_state(CdcStream *st, CdcState s, const char *err)
{
    pthread_mutex_lock(&registry.mu);
    st->state = s;
    if (err)
        snprintf(st->last_error, sizeof(st->last_error), "%s", err);
    pthread_cond_broadcast(&registry.progress);
    pthread_mutex_unlock(&registry.mu);
}

/*
 * Reads how much WAL the slot retains in PostgreSQL (current WAL position
 * minus its restart_lsn), its wal_status and safe_wal_size, for `cdc
 * status`, and logs a warning each time the figure rises past
 * CdcRetainedWalWarn. Best effort: a failed read leaves the last figures
 * and does not stop the stream.
 */
static void check_retained_wal(Run *run)
{
    CdcStream *st = run->st;
    const char *params[1] = {run->slot};
    run->last_wal_check_ms = now_ms();
    PGresult *r = pgjob_query(&run->pg,
                              "SELECT (pg_current_wal_lsn() - restart_lsn)::bigint, wal_status, "
                              "safe_wal_size FROM pg_replication_slots WHERE slot_name = $1",
                              1, params);
    if (!r || PQntuples(r) != 1) {
        log_debug("cdc of %s: cannot read the slot's retained WAL: %s", st->name,
                  r ? "no such slot" : run->pg.err);
        run->pg.err[0] = '\0';
        if (r)
            PQclear(r);
        return;
    }
    int64_t retained = PQgetisnull(r, 0, 0) ? -1 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    int64_t safe = PQgetisnull(r, 0, 2) ? -1 : strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    int64_t limit = cfg_now()->cdc_retained_wal_warn;
    bool over = limit > 0 && retained > limit;
    pthread_mutex_lock(&registry.mu);
    bool crossed = over && !st->wal_warned;
    st->wal_warned = over;
    st->retained_wal = retained;
    st->safe_wal_size = safe;
    snprintf(st->wal_status, sizeof(st->wal_status), "%s",
             PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1));
    pthread_mutex_unlock(&registry.mu);
    PQclear(r);
    if (crossed)
        log_warn("cdc of %s: slot %s retains %" PRId64 " bytes of WAL in PostgreSQL, above "
                 "CdcRetainedWalWarn (%" PRId64 "); a stopped or slow stream makes PostgreSQL keep "
                 "WAL without limit unless max_slot_wal_keep_size is set",
                 st->name, run->slot, retained, limit);
}

/*
 * Reads which tables of the schema are not in the publication, and whether the event trigger
 * that adds new ones exists, for `cdc status`; logs the list when it changes. Best effort, as
 * check_retained_wal.
 */
static void check_new_tables(Run *run)
{
    CdcStream *st = run->st;
    Buf names = {0};
    bool trigger = false;
    if (cdcnew_check(&run->pg, run->schema, run->publication, &names, &trigger) != 0) {
        log_debug("cdc of %s: cannot read the tables not followed: %s", st->name, run->pg.err);
        run->pg.err[0] = '\0';
        buf_free(&names);
        return;
    }
    /* Cut to whole names when too long for the status. */
    if (names.len >= sizeof(st->not_followed)) {
        names.len = sizeof(st->not_followed) - 1;
        while (names.len > 0 && names.data[names.len] != '\n')
            names.len--;
    }
    const char *list = buf_cstr(&names);
    pthread_mutex_lock(&registry.mu);
    bool changed = strcmp(st->not_followed, list) != 0;
    snprintf(st->not_followed, sizeof(st->not_followed), "%s", list);
    st->event_trigger = trigger;
    pthread_mutex_unlock(&registry.mu);
    if (changed && names.len) {
        for (size_t i = 0; i < names.len; i++)
            if (names.data[i] == '\n')
                names.data[i] = ',';
        log_warn("cdc of %s: table(s) %s of schema %s are not followed (not in the publication): "
                 "`cdc resync %s TABLE` adds one with a primary key or REPLICA IDENTITY FULL%s",
                 st->name, buf_cstr(&names), run->schema, st->name,
                 trigger ? "; ALTER TABLE ... ADD PRIMARY KEY adds it by itself" : "");
    }
    buf_free(&names);
}

/* Returns 1 when stopped (asked to, or at stop_at), -1 on an error (recorded in run->pg). */
/* The tables of the publication become the ones the stream follows (cdcguard.h). */
static int read_follows(Run *run)
{
    const char *params[1] = {run->publication};
    PGresult *r = pgjob_query(
        &run->pg, "SELECT tablename::text FROM pg_publication_tables WHERE pubname = $1", 1,
        params);
    if (!r)
        return -1;
    int n = PQntuples(r);
    const char **names = xcalloc((size_t)n + 1, sizeof(*names));
    pthread_mutex_lock(&registry.mu);
    bool changed = n != run->st->nfollows;
    for (int i = 0; i < n; i++) {
        names[i] = PQgetvalue(r, i, 0);
        changed = changed || !follows_locked(run->st, names[i]);
    }
    follows_clear(run->st);
    for (int i = 0; i < n; i++)
        follow_locked(run->st, names[i]);
    pthread_mutex_unlock(&registry.mu);
    if (changed &&
        catalog_cdc_followed_set(run->env->catalog, run->st->db_id, names, n) != CATALOG_OK)
        log_warn("cdc of %s: the followed tables were not recorded in the catalog", run->st->name);
    free(names);
    PQclear(r);
    return 0;
}

static int stream_run(Run *run)
{
    CdcStream *st = run->st;
    Buf out = {0};
    size_t dsn_len = 0;
    char err[512];
    char *dsn = cdc_dsn_open(run->env, st->db_id, &dsn_len, err, sizeof(err));
    if (!dsn) {
        pgjob_fail(&run->pg, "%s", err);
        return -1;
    }
    int rc = -1;
    if (pool_connect(run->env->pool, st->db_id, &run->db, &run->con, &out) != 0) {
        pgjob_fail(&run->pg, "%.*s", (int)out.len, out.data);
        goto out;
    }
    pthread_mutex_lock(&registry.mu);
    st->pinned = true;
    registry.pinned++;
    pthread_mutex_unlock(&registry.mu);
    if (read_state(run) != 0 || cdcskip_read(&run->pg, run->con, &run->skips) != 0 ||
        pgjob_connect(&run->pg, dsn) != 0 || pgjob_connect_replication(&run->repl, dsn) != 0) {
        if (run->repl.err[0])
            pgjob_fail(&run->pg, "%s", run->repl.err);
        goto out;
    }
    if (read_follows(run) != 0)
        goto out;
    pthread_mutex_lock(&registry.mu);
    snprintf(st->slot, sizeof(st->slot), "%s", run->slot);
    pthread_mutex_unlock(&registry.mu);
    char lsn[32], cmd[512];
    pgoutput_lsn_format(run->applied, lsn, sizeof(lsn));
    snprintf(cmd, sizeof(cmd),
             "START_REPLICATION SLOT \"%s\" LOGICAL %s (proto_version '2', publication_names "
             "'\"%s\"', binary 'true', messages 'true')",
             run->slot, lsn, run->publication);
    if (pgjob_stream_start(&run->repl, cmd) != 0) {
        /* A slot gone (dropped, or a crash inside a resync) or invalidated (`lost`: WAL it
         * needed was removed): only a new slot and a new copy get out of it. */
        if (strstr(run->repl.err, "replication slot"))
            pgjob_fail(&run->pg,
                       "%s; `cdc resync %s` copies the tables again with a new slot (docs/cdc.md)",
                       run->repl.err, st->name);
        else
            pgjob_fail(&run->pg, "%s", run->repl.err);
        goto out;
    }
    if (keeper_start(run) != 0)
        goto out;
    run->received = run->applied;
    publish(run);
    set_state(st, CDC_STREAMING, "");
    for (;;) {
        const Config *cfg = cfg_now();
        bool stop = atomic_load(&st->stop);
        pthread_mutex_lock(&registry.mu);
        uint64_t stop_at = st->stop_at, wanted = st->wanted > stop_at ? st->wanted : stop_at;
        pthread_mutex_unlock(&registry.mu);
        uint64_t prog = run->applied > run->idle_flush ? run->applied : run->idle_flush;
        /* A migrate waits: ask for a keepalive, whose WAL end tells how far PostgreSQL has
         * decoded (it sends none by itself while our flush position equals its own). */
        if (wanted > prog && !run->batch_open && now_ms() - run->last_status_ms >= 200 &&
            send_status(run, true) != 0)
            goto out;
        if (!run->in_txn && (stop || (stop_at && prog >= stop_at))) {
            if (batch_flush(run) != 0)
                goto out;
            rc = 1;
            goto out;
        }
        unsigned char *msg = NULL;
        int n = pgjob_stream_read(&run->repl, &msg, 100);
        if (n < 0) {
            pgjob_fail(&run->pg, "%s", run->repl.err);
            goto out;
        }
        if (n > 0) {
            PgoutputCopyData cd;
            int mrc = 0;
            if (pgoutput_parse_copydata(msg, (size_t)n, &cd) != 0) {
                pgjob_fail(&run->pg, "logical replication: a malformed message");
                mrc = -1;
            } else if (cd.kind == 'k') {
                run->server_end = cd.wal_end;
                /* Everything sent before the keepalive is handled: with nothing pending, the
                 * slot may move on to its WAL end (else an idle slot pins WAL). */
                if (!run->in_txn && !run->batch_open && cd.wal_end > run->idle_flush)
                    run->idle_flush = cd.wal_end;
                else if (!run->in_txn)
                    run->idle_after_batch = cd.wal_end;
                if (cd.wal_end > run->received)
                    run->received = cd.wal_end;
                publish(run);
                if (cd.reply)
                    mrc = send_status(run, false);
            } else {
                if (cd.wal_end > run->server_end)
                    run->server_end = cd.wal_end;
                if (cd.wal_start > run->received)
                    run->received = cd.wal_start;
                mrc = on_message(run, cd.data, cd.data_len);
                if (run->batch_open)
                    run->batch_bytes += (int64_t)cd.data_len;
            }
            pgjob_stream_free(msg);
            if (mrc != 0)
                goto out;
        }
        if (run->batch_open && !run->in_txn &&
            (n == 0 || run->batch_changes >= cfg->cdc_batch_changes ||
             run->batch_bytes >= cfg->cdc_batch_bytes ||
             now_ms() - run->batch_start_ms >= cfg->cdc_batch_ms) &&
            batch_flush(run) != 0)
            goto out;
        if (now_ms() - run->last_status_ms >= cfg->cdc_status_interval_ms &&
            send_status(run, false) != 0)
            goto out;
        int check_ms = cfg->cdc_status_interval_ms > CDC_WAL_CHECK_MIN_MS
                           ? cfg->cdc_status_interval_ms
                           : CDC_WAL_CHECK_MIN_MS;
        if (!run->in_txn && now_ms() - run->last_wal_check_ms >= check_ms) {
            check_retained_wal(run);
            check_new_tables(run);
        }
    }
out:
    batch_abort(run);
    linkjob_dsn_free(dsn, dsn_len);
    buf_free(&out);
    return rc;
}

static void run_end(Run *run)
{
    keeper_stop(run);
    pthread_mutex_lock(&registry.mu);
    if (run->st->pinned) {
        run->st->pinned = false;
        registry.pinned--;
    }
    pthread_mutex_unlock(&registry.mu);
    for (int i = 0; i < run->nrels; i++)
        rel_free(&run->rels[i]);
    free(run->rels);
    cdcskip_free(&run->skips);
    run->rels = NULL;
    run->nrels = 0;
    pgoutput_free(&run->dec);
    pool_disconnect(run->env->pool, &run->db, &run->con);
    pgjob_close(&run->repl);
    pgjob_close(&run->pg);
}

static void *stream_main(void *arg)
{
    CdcStream *st = arg;
    int backoff = 1;
    for (;;) {
        Run run = {.st = st, .env = registry.env};
        int rc = stream_run(&run);
        char err[sizeof(run.pg.err)];
        snprintf(err, sizeof(err), "%s", run.pg.err);
        run_end(&run);
        if (rc == 1 || atomic_load(&st->stop))
            break;
        log_warn("cdc of %s: %s; retrying in %d s", st->name, err, backoff);
        set_state(st, CDC_RETRYING, err);
        for (int i = 0; i < backoff * 10 && !atomic_load(&st->stop); i++) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (atomic_load(&st->stop))
            break;
        backoff = backoff * 2 > CDC_RETRY_MAX_S ? CDC_RETRY_MAX_S : backoff * 2;
    }
    pthread_mutex_lock(&registry.mu);
    st->state = CDC_STOPPED;
    st->stop_at = 0;
    registry.running--;
    atomic_fetch_sub(&registry.live, 1);
    pthread_cond_broadcast(&registry.progress);
    pthread_mutex_unlock(&registry.mu);
    return NULL;
}

/* ---- the registry ------------------------------------------------------- */

static CdcStream *find(int64_t db_id)
{
    for (CdcStream *st = registry.streams; st; st = st->next)
        if (st->db_id == db_id)
            return st;
    return NULL;
}

/* 0 when one more stream may run (registry.mu held), else -1 with err. */
static int admit_locked(char *err, size_t errlen)
{
    int max = cfg_now()->cdc_max_streams;
    if (registry.running < max)
        return 0;
    snprintf(err, errlen,
             "%d CDC streams run already, the most CdcMaxStreams allows; `cdc stop` one or raise "
             "CdcMaxStreams (docs/cdc.md)",
             registry.running);
    return -1;
}

int cdc_admit(char *err, size_t errlen)
{
    pthread_mutex_lock(&registry.mu);
    int rc = admit_locked(err, errlen);
    pthread_mutex_unlock(&registry.mu);
    return rc;
}

void cdc_stream_counts(CdcStreamCounts *out)
{
    *out = (CdcStreamCounts){0};
    pthread_mutex_lock(&registry.mu);
    for (CdcStream *st = registry.streams; st; st = st->next)
        out->linked++;
    out->running = registry.running;
    out->pool_pins = registry.pinned;
    out->max_streams = registry.env ? cfg_now()->cdc_max_streams : 0;
    pthread_mutex_unlock(&registry.mu);
}

/* Starts the thread of `st` (registry.mu held). 0, or -1 with err. */
static int start_locked(CdcStream *st, char *err, size_t errlen)
{
    if (st->thread_live && st->state != CDC_STOPPED)
        return 0;
    if (st->thread_live) {
        /* Ended by itself (stop_at): reap it before starting anew. */
        pthread_mutex_unlock(&registry.mu);
        pthread_join(st->thread, NULL);
        pthread_mutex_lock(&registry.mu);
        st->thread_live = false;
    }
    if (admit_locked(err, errlen) != 0)
        return -1;
    atomic_store(&st->stop, false);
    st->state = CDC_STARTING;
    /* Signals are the server's event loop's (signalfd): the thread blocks them all, also
     * when it starts before the loop has blocked them in the main thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int prc = pthread_create(&st->thread, NULL, stream_main, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        st->state = CDC_STOPPED;
        snprintf(err, errlen, "cannot start a thread");
        return -1;
    }
    st->thread_live = true;
    registry.running++;
    atomic_fetch_add(&registry.live, 1);
    return 0;
}

/* Whether `st` follows `table` (registry.mu held). */
static bool follows_locked(const CdcStream *st, const char *table)
{
    for (int i = 0; i < st->nfollows; i++)
        if (strcasecmp(st->follows[i], table) == 0)
            return true;
    return false;
}

/* Adds `table` to the tables `st` follows, once (registry.mu held). True when it was new. */
static bool follow_locked(CdcStream *st, const char *table)
{
    if (follows_locked(st, table))
        return false;
    st->follows = xrealloc(st->follows, (size_t)(st->nfollows + 1) * sizeof(*st->follows));
    st->follows[st->nfollows++] = xstrdup(table);
    return true;
}

/* Forgets the tables `st` follows (registry.mu held, or `st` no longer registered). */
static void follows_clear(CdcStream *st)
{
    for (int i = 0; i < st->nfollows; i++)
        free(st->follows[i]);
    free(st->follows);
    st->follows = NULL;
    st->nfollows = 0;
}

void cdc_follow(int64_t db_id, const char *table)
{
    pthread_mutex_lock(&registry.mu);
    CdcStream *st = find(db_id);
    bool added = st && follow_locked(st, table);
    pthread_mutex_unlock(&registry.mu);
    /* Kept in the catalog too, so that a restart knows it before reaching PostgreSQL. */
    if (added && catalog_cdc_followed_add(registry.env->catalog, db_id, table) != CATALOG_OK)
        log_warn("cdc: table %s was not recorded as followed in the catalog", table);
}

bool cdc_any_running(void)
{
    return atomic_load(&registry.live) > 0 || atomic_load(&registry.held) > 0;
}

void cdc_hold_guard(int64_t db_id, bool on)
{
    pthread_mutex_lock(&registry.mu);
    CdcStream *st = find(db_id);
    if (st && st->guard_held != on) {
        st->guard_held = on;
        atomic_fetch_add(&registry.held, on ? 1 : -1);
    }
    pthread_mutex_unlock(&registry.mu);
}

bool cdc_follows(int64_t db_id, const char *table, char *out_name, size_t len)
{
    bool yes = false;
    pthread_mutex_lock(&registry.mu);
    CdcStream *st = find(db_id);
    /* A stream that ended by itself (a migrate's stop_at) is stopped, though not joined. */
    if (st && ((st->thread_live && st->state != CDC_STOPPED) || st->guard_held))
        for (int i = 0; i < st->nfollows && !yes; i++)
            yes = strcasecmp(st->follows[i], table) == 0;
    if (yes)
        snprintf(out_name, len, "%s", st->name);
    pthread_mutex_unlock(&registry.mu);
    return yes;
}

int cdc_register(int64_t db_id, const char *name, bool start, char *err, size_t errlen)
{
    int rc = 0;
    /* The tables followed as last known, read-only from now on (before the stream has
     * reached PostgreSQL, which may be down). Read before taking the registry's lock. */
    char **known = NULL;
    int nknown = 0;
    if (catalog_cdc_followed_list(registry.env->catalog, db_id, &known, &nknown) != CATALOG_OK)
        log_warn("cdc of %s: the followed tables could not be read from the catalog", name);
    pthread_mutex_lock(&registry.mu);
    CdcStream *st = find(db_id);
    if (!st) {
        st = xcalloc(1, sizeof(*st));
        for (int i = 0; i < nknown; i++)
            follow_locked(st, known[i]);
        st->db_id = db_id;
        st->retained_wal = st->safe_wal_size = -1;
        st->event_trigger = -1;
        snprintf(st->name, sizeof(st->name), "%s", name);
        st->next = registry.streams;
        registry.streams = st;
    }
    if (start) {
        rc = start_locked(st, err, errlen);
        if (rc != 0) /* shown by `cdc status` */
            snprintf(st->last_error, sizeof(st->last_error), "not started: %s", err);
    }
    pthread_mutex_unlock(&registry.mu);
    catalog_names_free(known, nknown);
    return rc;
}

bool cdc_is_linked(int64_t db_id)
{
    pthread_mutex_lock(&registry.mu);
    bool found = find(db_id) != NULL;
    pthread_mutex_unlock(&registry.mu);
    return found;
}

/* Stops and joins the thread of `st`; registry.mu held on entry and exit. */
static void stop_locked(CdcStream *st)
{
    if (!st->thread_live)
        return;
    atomic_store(&st->stop, true);
    pthread_t t = st->thread;
    st->thread_live = false;
    pthread_mutex_unlock(&registry.mu);
    pthread_join(t, NULL);
    pthread_mutex_lock(&registry.mu);
}

void cdc_stop(int64_t db_id)
{
    pthread_mutex_lock(&registry.mu);
    CdcStream *st = find(db_id);
    if (st)
        stop_locked(st);
    pthread_mutex_unlock(&registry.mu);
}

int cdc_start(int64_t db_id, char *err, size_t errlen)
{
    pthread_mutex_lock(&registry.mu);
    CdcStream *st = find(db_id);
    int rc = st ? start_locked(st, err, errlen) : -1;
    if (!st)
        snprintf(err, errlen, "not linked in CDC mode");
    pthread_mutex_unlock(&registry.mu);
    return rc;
}

void cdc_forget(int64_t db_id)
{
    pthread_mutex_lock(&registry.mu);
    for (CdcStream **pp = &registry.streams; *pp; pp = &(*pp)->next) {
        CdcStream *st = *pp;
        if (st->db_id != db_id)
            continue;
        stop_locked(st);
        /* stop_locked let go of the lock: find the entry again. */
        for (pp = &registry.streams; *pp && *pp != st; pp = &(*pp)->next)
            ;
        if (*pp)
            *pp = st->next;
        if (st->guard_held)
            atomic_fetch_sub(&registry.held, 1);
        follows_clear(st);
        free(st);
        break;
    }
    pthread_mutex_unlock(&registry.mu);
    if (catalog_cdc_followed_set(registry.env->catalog, db_id, NULL, 0) != CATALOG_OK)
        log_warn("cdc: the followed tables of database %" PRId64 " stay in the catalog", db_id);
}

int cdc_catch_up(int64_t db_id, uint64_t target, int timeout_s, int64_t *out_changes, char *err,
                 size_t errlen)
{
    int rc = -1;
    pthread_mutex_lock(&registry.mu);
    CdcStream *st = find(db_id);
    if (!st) {
        snprintf(err, errlen, "not linked in CDC mode");
        goto out;
    }
    int64_t before = st->changes;
    if (target > st->wanted)
        st->wanted = target;
    bool was_running = st->thread_live && st->state != CDC_STOPPED;
    if (!was_running) {
        st->stop_at = target ? target : 1;
        if (start_locked(st, err, errlen) != 0)
            goto out;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_s;
    while (st->progress_lsn < target || st->state == CDC_STARTING) {
        if (!was_running && st->state == CDC_STOPPED)
            break; /* ended: reached stop_at, or was stopped */
        if (st->state == CDC_RETRYING)
            break; /* failing: answer its error rather than hold the worker */
        if (pthread_cond_timedwait(&registry.progress, &registry.mu, &deadline) == ETIMEDOUT)
            break;
    }
    if (st->progress_lsn < target) {
        if (st->state == CDC_RETRYING)
            snprintf(err, errlen, "the stream is failing and retrying: %s", st->last_error);
        else
            snprintf(err, errlen, "the stream did not reach PostgreSQL's WAL position in %d s%s%s",
                     timeout_s, st->last_error[0] ? ": " : "", st->last_error);
        goto out;
    }
    *out_changes = st->changes - before;
    rc = 0;
out:
    pthread_mutex_unlock(&registry.mu);
    return rc;
}

static void put_lsn(Buf *out, const char *key, uint64_t lsn)
{
    char t[32];
    pgoutput_lsn_format(lsn, t, sizeof(t));
    buf_printf(out, ",\"%s\":\"%s\"", key, t);
}

/* How far `st` is behind the WAL end PostgreSQL last reported (under registry.mu). */
static uint64_t stream_lag(const CdcStream *st)
{
    return st->server_lsn > st->progress_lsn ? st->server_lsn - st->progress_lsn : 0;
}

/* `event_trigger` and `tables_not_followed` of a stream's status (registry.mu held). */
static void put_new_tables(Buf *out, const CdcStream *st)
{
    buf_printf(out, ",\"event_trigger\":%s,\"tables_not_followed\":[",
               st->event_trigger < 0 ? "null"
               : st->event_trigger   ? "true"
                                     : "false");
    for (const char *p = st->not_followed; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (p != st->not_followed)
            buf_putc(out, ',');
        json_append_string(out, p, n);
        p += n + (nl ? 1 : 0);
    }
    buf_putc(out, ']');
}

void cdc_status_json(Buf *out, int64_t db_id)
{
    bool first = true;
    buf_putc(out, '[');
    pthread_mutex_lock(&registry.mu);
    for (CdcStream *st = registry.streams; st; st = st->next) {
        if (db_id && st->db_id != db_id)
            continue;
        buf_append_str(out, first ? "{\"database\":" : ",{\"database\":");
        first = false;
        json_append_string(out, st->name, strlen(st->name));
        buf_printf(out, ",\"state\":\"%s\",\"slot\":", state_names[st->state]);
        json_append_string(out, st->slot, strlen(st->slot));
        put_lsn(out, "applied_lsn", st->applied_lsn);
        put_lsn(out, "received_lsn", st->received_lsn);
        put_lsn(out, "server_wal_end", st->server_lsn);
        uint64_t lag = stream_lag(st);
        buf_printf(out,
                   ",\"lag_bytes\":%" PRIu64 ",\"changes\":%" PRId64 ",\"transactions\":%" PRId64,
                   lag, st->changes, st->txns);
        if (st->retained_wal >= 0)
            buf_printf(out, ",\"retained_wal_bytes\":%" PRId64, st->retained_wal);
        else
            buf_append_str(out, ",\"retained_wal_bytes\":null");
        buf_printf(
            out, ",\"retained_wal_warning\":%s,\"wal_status\":", st->wal_warned ? "true" : "false");
        json_append_string(out, st->wal_status, strlen(st->wal_status));
        if (st->safe_wal_size >= 0)
            buf_printf(out, ",\"safe_wal_size\":%" PRId64, st->safe_wal_size);
        else
            buf_append_str(out, ",\"safe_wal_size\":null");
        put_new_tables(out, st);
        buf_append_str(out, ",\"last_error\":");
        json_append_string(out, st->last_error, strlen(st->last_error));
        buf_putc(out, '}');
    }
    pthread_mutex_unlock(&registry.mu);
    buf_append_str(out, "]\n");
}

CdcStreamInfo *cdc_snapshot(size_t *out_n)
{
    *out_n = 0;
    pthread_mutex_lock(&registry.mu);
    size_t n = 0;
    for (CdcStream *st = registry.streams; st; st = st->next)
        n++;
    CdcStreamInfo *v = n ? calloc(n, sizeof(*v)) : NULL;
    if (v) {
        int64_t now = now_ms();
        size_t i = 0;
        for (CdcStream *st = registry.streams; st; st = st->next, i++) {
            v[i].db_id = st->db_id;
            snprintf(v[i].name, sizeof(v[i].name), "%s", st->name);
            v[i].state = state_names[st->state];
            v[i].lag_bytes = stream_lag(st);
            v[i].changes = st->changes;
            v[i].txns = st->txns;
            v[i].since_apply_s =
                st->last_apply_ms ? (double)(now - st->last_apply_ms) / 1000.0 : -1;
        }
        *out_n = n;
    }
    pthread_mutex_unlock(&registry.mu);
    return v;
}

/* ---- server start and stop ---------------------------------------------- */

typedef struct Names {
    char **v;
    int n;
} Names;

static void collect_name(void *ctx, const char *const *cols, int ncols)
{
    Names *ns = ctx;
    if (ncols < 1 || !cols[0])
        return;
    ns->v = xrealloc(ns->v, (size_t)(ns->n + 1) * sizeof(char *));
    ns->v[ns->n++] = xstrdup(cols[0]);
}

/* 1 when database `db_id` holds a CDC state row saying its stream runs, 0 when stopped,
 * -1 when it is not CDC-linked. */
static int stored_running(const SessionEnv *env, int64_t db_id)
{
    PoolDb *db = NULL;
    duckdb_connection con = NULL;
    Buf out = {0};
    duckdb_result res;
    int rc = -1;
    if (pool_connect(env->pool, db_id, &db, &con, &out) != 0)
        goto out;
    if (duckdb_query(con, "SELECT running FROM " CDC_STATE_TABLE, &res) == DuckDBSuccess &&
        duckdb_row_count(&res) == 1)
        rc = duckdb_value_boolean(&res, 0, 0) ? 1 : 0;
    duckdb_destroy_result(&res);
out:
    pool_disconnect(env->pool, &db, &con);
    buf_free(&out);
    return rc;
}

void cdc_init(const SessionEnv *env)
{
    Names ns = {0};
    registry.env = env;
    if (catalog_list(env->catalog, CATALOG_LIST_DATABASES, 0, collect_name, &ns) != CATALOG_OK)
        log_error("cdc: cannot list the databases; no stream resumed");
    for (int i = 0; i < ns.n; i++) {
        int64_t id = 0;
        unsigned char *blob = NULL;
        size_t len = 0;
        if (catalog_database_find(env->catalog, ns.v[i], &id) == CATALOG_OK &&
            catalog_pglink_get(env->catalog, id, &blob, &len) == CATALOG_OK) {
            int running = stored_running(env, id);
            char err[256];
            if (running >= 0 && cdc_register(id, ns.v[i], running == 1, err, sizeof(err)) != 0)
                log_error("cdc of %s: not resumed: %s", ns.v[i], err);
            else if (running == 1)
                log_info("cdc of %s: resumed", ns.v[i]);
        }
        free(blob);
        free(ns.v[i]);
    }
    free(ns.v);
}

void cdc_shutdown(void)
{
    pthread_mutex_lock(&registry.mu);
    while (registry.streams) {
        CdcStream *st = registry.streams;
        stop_locked(st);
        if (st->thread_live) /* started again meanwhile: cannot happen at shutdown */
            continue;
        registry.streams = st->next;
        follows_clear(st);
        free(st);
    }
    pthread_mutex_unlock(&registry.mu);
}
