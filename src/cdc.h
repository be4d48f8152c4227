/*
 * cdc: the streams of native change data capture (docs/cdc.md). A database
 * linked with `mode=cdc` follows PostgreSQL through logical replication: a
 * publication of the linked tables and a `pgoutput` slot, both named in its
 * state table (CDC_STATE_TABLE, inside the DuckDB database). One thread per
 * database (a stream) receives the changes (pgjob's replication connection),
 * decodes them (pgoutput, pgvalue), stages them with DuckDB's appender and
 * applies each batch of whole PostgreSQL transactions set-based (pgload) in
 * one DuckDB transaction that also stores the end LSN of the last commit
 * applied.
 *
 * Exactly once: the stored LSN moves only with the changes it covers, in the
 * same DuckDB commit; PostgreSQL is told flush = that LSN, never more (or,
 * when nothing is received and not applied, the WAL end of a keepalive). On
 * (re)start a stream asks for the changes from the stored LSN and skips every
 * transaction whose commit LSN is below it, since PostgreSQL may resend what
 * it sent before a crash.
 *
 * The registry of streams (one entry per CDC-linked database, running or
 * stopped) is this module's, under its mutex; the commands (cdclink.c) use
 * the functions below from worker threads. A running stream pins its
 * database in the pool.
 */
#ifndef TCPDUCKDB_CDC_H
#define TCPDUCKDB_CDC_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "session.h"

/* The link state of a CDC-linked database, inside it (one row). */
#define CDC_STATE_TABLE "tcpduckdb_cdc_state"

/*
 * At server start, once the pool and the catalog are open: remembers `env`
 * (borrowed until cdc_shutdown()), finds the CDC-linked databases and starts
 * the streams that were running.
 */
void cdc_init(const SessionEnv *env);

/* At server stop: stops every stream (each ends its batch) and forgets them. */
void cdc_shutdown(void);

/* True when database `db_id` is linked in CDC mode (registered). */
bool cdc_is_linked(int64_t db_id);

/*
 * Registers the CDC-linked database `db_id` called `name` and, when `start`,
 * starts its stream. Returns 0, or -1 with a message in err (too many
 * streams: the link stays, stopped).
 */
int cdc_register(int64_t db_id, const char *name, bool start, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * The tables a stream follows are read-only to users while it runs
 * (cdcguard.h). cdc_follow() adds `table` to those of `db_id` (link, before
 * its stream has read its publication). cdc_follows() is true when the
 * stream of `db_id` runs (starting, streaming or retrying), or is held
 * (cdc_hold_guard), and follows `table` (compared case-insensitively), then
 * copies the database's name to out_name. cdc_any_running() is true
 * while any stream runs or is held, without a lock. Any thread.
 */
void cdc_follow(int64_t db_id, const char *table);
/* Keeps the tables of `db_id` read-only while its stream is stopped (`on`), for `cdc resync`,
 * which stops the stream while it copies; `false` ends that. */
void cdc_hold_guard(int64_t db_id, bool on);
bool cdc_follows(int64_t db_id, const char *table, char *out_name, size_t len);
bool cdc_any_running(void);

/* Stops the stream of `db_id` (waiting for its thread) and keeps it registered. */
void cdc_stop(int64_t db_id);

/* Starts the stream of `db_id` again. 0, or -1 with a message in err. */
int cdc_start(int64_t db_id, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Stops the stream of `db_id` and forgets it (unlink). */
void cdc_forget(int64_t db_id);

/*
 * `migrate` of a CDC database: makes its stream apply everything up to
 * `target` (the server's WAL position at the call), starting it for that
 * long when it was stopped, and waits up to timeout_s. *out_changes gets the
 * number of changes applied meanwhile. 0, or -1 with a message in err.
 */
int cdc_catch_up(int64_t db_id, uint64_t target, int timeout_s, int64_t *out_changes, char *err,
                 size_t errlen) __attribute__((warn_unused_result));

/*
 * The connection string of the linked database `db_id`, decrypted
 * (linkjob_dsn_open): the caller wipes and frees it with linkjob_dsn_free.
 * NULL with a message in err.
 */
char *cdc_dsn_open(const SessionEnv *env, int64_t db_id, size_t *out_len, char *err, size_t errlen);

/* Appends the status of the stream of `db_id` (every stream when 0) as a JSON array. */
void cdc_status_json(Buf *out, int64_t db_id);

/* One stream's state as cdc_snapshot() copies it (for /metrics and the admin page). */
typedef struct CdcStreamInfo {
    int64_t db_id;
    char name[256];
    const char *state;    /* "stopped", "starting", "streaming" or "retrying" (static) */
    uint64_t lag_bytes;   /* the WAL end PostgreSQL last reported minus the position applied (or
                             confirmed with nothing pending); 0 when not behind */
    int64_t changes;      /* row changes applied since the server started */
    int64_t txns;         /* PostgreSQL transactions applied since the server started */
    double since_apply_s; /* seconds since this process last applied a batch; -1 when none */
} CdcStreamInfo;

/*
 * A copy of every registered stream's state, taken under the registry's
 * lock. Returns a malloc'd array of *out_n entries (NULL when none or out
 * of memory; *out_n is then 0); the caller frees it.
 */
CdcStreamInfo *cdc_snapshot(size_t *out_n);

/* The streams as `stats` shows them (docs/cdc.md, "Settings"). */
typedef struct CdcStreamCounts {
    int linked;      /* CDC-linked databases registered (running or stopped) */
    int running;     /* stream threads started and not ended (capped by CdcMaxStreams) */
    int pool_pins;   /* running streams holding their database pinned in the pool */
    int max_streams; /* CdcMaxStreams in force */
} CdcStreamCounts;

/* Fills *out with the current counts (a consistent snapshot; any thread). */
void cdc_stream_counts(CdcStreamCounts *out);

/*
 * 0 when one more stream may start now (fewer than CdcMaxStreams run), else
 * -1 with the message in err. For `link`, to refuse before it creates a
 * slot; `cdc start` and cdc_register() check the same cap themselves.
 */
int cdc_admit(char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
