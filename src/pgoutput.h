/*
 * pgoutput: the messages of PostgreSQL's logical replication, as the
 * built-in `pgoutput` plugin sends them with proto_version '2' and
 * binary 'true' (PostgreSQL's "Logical Replication Message Formats"), and
 * the replication protocol's envelope around them (XLogData, Primary
 * keepalive, Standby status update). Pure: no libpq, no DuckDB, only bytes,
 * so it is unit-tested (tests/unit/test_pgoutput.c) and fuzzed
 * (tests/fuzz/fuzz_pgoutput.c). cdc.c feeds it what pgrepl receives; the
 * values of a tuple stay in their binary send format, for pgvalue.
 *
 * Invariants: every length and count is checked against the bytes of the
 * message before it is read, so malformed input gives -1 with a message,
 * never a read out of bounds, an abort or an allocation out of proportion to
 * the input (a tuple's column count is bounded by its bytes, at least one per
 * column). A decoded message borrows its strings and values from the bytes
 * given to pgoutput_decode() and from the decoder, until the next call.
 *
 * Thread: a PgoutputDecoder is used by one thread (a stream's).
 */
#ifndef TCPDUCKDB_PGOUTPUT_H
#define TCPDUCKDB_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The message kinds, by their tag byte. */
typedef enum PgoutputKind {
    PGOUTPUT_BEGIN = 'B',
    PGOUTPUT_COMMIT = 'C',
    PGOUTPUT_ORIGIN = 'O',
    PGOUTPUT_RELATION = 'R',
    PGOUTPUT_TYPE = 'Y',
    PGOUTPUT_INSERT = 'I',
    PGOUTPUT_UPDATE = 'U',
    PGOUTPUT_DELETE = 'D',
    PGOUTPUT_TRUNCATE = 'T',
    PGOUTPUT_MESSAGE = 'M',
    PGOUTPUT_STREAM_START = 'S',
    PGOUTPUT_STREAM_STOP = 'E',
    PGOUTPUT_STREAM_COMMIT = 'c',
    PGOUTPUT_STREAM_ABORT = 'A',
} PgoutputKind;

/* One column of a tuple: 'n' NULL, 'u' unchanged TOASTed value (no data),
 * 't' text or 'b' binary send format, `len` bytes at `p`. */
typedef struct PgoutputValue {
    char kind;
    int32_t len;
    const unsigned char *p;
} PgoutputValue;

typedef struct PgoutputTuple {
    int ncols;
    PgoutputValue *cols; /* the decoder's, until the next message */
} PgoutputTuple;

/* One column of a Relation message. */
typedef struct PgoutputColumn {
    bool key; /* flagged part of the replica identity */
    const char *name;
    uint32_t type_oid;
    int32_t typmod;
} PgoutputColumn;

/* A decoded message. Only the fields of its kind are set. */
typedef struct PgoutputMsg {
    PgoutputKind kind;
    uint32_t xid; /* Begin, and every message inside a streamed block; Stream*: the xid */
    bool has_xid;
    uint64_t lsn;      /* Begin: the commit's LSN (final_lsn); Commit: its LSN; Message */
    uint64_t end_lsn;  /* Commit, Stream Commit: the end of the commit record */
    int64_t timestamp; /* Begin, Commit: microseconds since 2000-01-01 */
    uint32_t relid;    /* Relation, Insert, Update, Delete */
    const char *nspname, *relname; /* Relation; Type: its schema and name */
    char replident;                /* Relation: d, n, f or i */
    int ncols;                     /* Relation */
    PgoutputColumn *cols;
    char old_kind;           /* Update, Delete: 'K' (key), 'O' (old row) or 0 (Update: none) */
    PgoutputTuple old, new_; /* Update, Delete: old; Insert, Update: new_ */
    int nrelids;             /* Truncate */
    const unsigned char
        *relids;            /* Truncate: nrelids big-endian uint32 (read with pgoutput_relid) */
    uint8_t truncate_flags; /* Truncate: 1 CASCADE, 2 RESTART IDENTITY */
    uint32_t subxid;        /* Stream Abort */
    const unsigned char *content; /* Message: its content (relname holds its prefix) */
    uint32_t content_len;         /* Message */
    bool first_segment;           /* Stream Start */
} PgoutputMsg;

typedef struct PgoutputDecoder {
    bool in_stream; /* between Stream Start and Stream Stop: messages carry an xid */
    PgoutputValue *vals;
    int vals_cap;
    PgoutputColumn *rcols;
    int rcols_cap;
    char err[256];
} PgoutputDecoder;

/*
 * Decodes one pgoutput message of `len` bytes into *out. Returns 0, or -1
 * with the message in d->err. Unknown tags are errors: the stream asks for
 * protocol 2 without two-phase commit, which sends none. Free with
 * pgoutput_free().
 */
int pgoutput_decode(PgoutputDecoder *d, const unsigned char *p, size_t len, PgoutputMsg *out)
    __attribute__((warn_unused_result));

/* Relation id i (0-based, below m->nrelids) of a Truncate message. */
uint32_t pgoutput_relid(const PgoutputMsg *m, int i);

void pgoutput_free(PgoutputDecoder *d);

/* The envelope of a CopyData message of START_REPLICATION. */
typedef struct PgoutputCopyData {
    char kind;                 /* 'w' XLogData, 'k' Primary keepalive */
    uint64_t wal_start;        /* w */
    uint64_t wal_end;          /* w, k: the server's WAL end */
    bool reply;                /* k: the server asks for a status update now */
    const unsigned char *data; /* w: the pgoutput message */
    size_t data_len;
} PgoutputCopyData;

/* Parses a CopyData message of the replication stream. 0, or -1 when malformed. */
int pgoutput_parse_copydata(const unsigned char *p, size_t len, PgoutputCopyData *out)
    __attribute__((warn_unused_result));

/* Writes a Standby status update (34 bytes) into out: received, flushed and
 * applied positions, the time in PostgreSQL's microseconds. */
#define PGOUTPUT_STATUS_LEN 34
void pgoutput_status_update(unsigned char out[PGOUTPUT_STATUS_LEN], uint64_t write_lsn,
                            uint64_t flush_lsn, uint64_t apply_lsn, int64_t now_pg_us, bool reply);

/* Formats an LSN as PostgreSQL does (X/X) into buf (at least 20 bytes). */
void pgoutput_lsn_format(uint64_t lsn, char *buf, size_t len);

/* Parses X/X into *out. 0, or -1 when it is not one. */
int pgoutput_lsn_parse(const char *s, uint64_t *out) __attribute__((warn_unused_result));

#endif
