/*
 * pgcopy: PostgreSQL's binary COPY format (COPY ... TO STDOUT (FORMAT
 * binary): a signature and header, then per row a field count and each
 * field's length and bytes, then a -1 trailer) into DuckDB data chunks.
 * Pure: it needs no libpq and no PostgreSQL server, only the bytes, so it is
 * unit-tested (tests/unit/test_pgcopy.c) and fuzzed (tests/fuzz/fuzz_pgcopy.c).
 * Each field's value is decoded by pgvalue.
 *
 * The bytes arrive as the CopyData messages that PostgreSQL sends: the header
 * in the first one, and no row split over two (PostgreSQL ends a message
 * after every row). Rows fill a chunk of duckdb_vector_size() rows, which is
 * handed to the caller's flush function when full and by pgcopy_finish(), so
 * memory is bounded by one chunk whatever the table size.
 *
 * Invariants: malformed input (a bad signature, a length beyond the message
 * or negative other than -1 for NULL, a row with the wrong number of fields,
 * a value that its column cannot hold, bytes after the trailer) fails with one message and never
 * reads out of bounds or aborts. After a failure the decoder only accepts pgcopy_free().
 *
 * Thread: a PgCopy is used by one thread; several may run at once.
 */
#ifndef TCPDUCKDB_PGCOPY_H
#define TCPDUCKDB_PGCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duckdb.h"
#include "pgvalue.h"

/*
 * Receives a full chunk (borrowed for the call; the decoder then starts a
 * new one). Returns 0, or -1 with a message in err.
 */
typedef int (*PgCopyFlushFn)(void *ctx, duckdb_data_chunk chunk, char *err, size_t errlen);

/* The state of one COPY's decoding. The fields are the decoder's own. */
typedef struct PgCopy {
    const char *table; /* for messages */
    int ncols;
    PgValueColumn *cols;
    duckdb_logical_type *types; /* borrowed from the caller */
    duckdb_data_chunk chunk;
    idx_t row;    /* rows in the chunk */
    int64_t rows; /* rows decoded in all */
    bool header_done, trailer, failed;
    PgCopyFlushFn flush;
    void *flush_ctx;
    char err[1024];
} PgCopy;

/*
 * Prepares *d to decode rows of `ncols` fields: field c has the PostgreSQL
 * type types_pg[c] and column name names[c] and goes to a DuckDB column of
 * type types[c] (pgvalue_bind() checks they match). `table`, `names`,
 * `types_pg` with what they point to, and `types` are borrowed until
 * pgcopy_free(). Returns 0, or -1 with the message in d->err; either way the
 * caller ends with pgcopy_free().
 */
int pgcopy_init(PgCopy *d, const char *table, int ncols, const char *const *names,
                const PgValueType *const *types_pg, const duckdb_logical_type *types,
                PgCopyFlushFn flush, void *flush_ctx) __attribute__((warn_unused_result));

/*
 * Decodes one CopyData message of `len` bytes (borrowed for the call).
 * Returns 0, or -1 with the message in d->err.
 */
int pgcopy_feed(PgCopy *d, const void *msg, size_t len) __attribute__((warn_unused_result));

/*
 * After the last message: fails when the trailer was not seen (the data ended
 * early), else hands the last, partly filled chunk to the flush function.
 * Returns 0, or -1 with the message in d->err.
 */
int pgcopy_finish(PgCopy *d) __attribute__((warn_unused_result));

/* Rows decoded so far (all of them after pgcopy_finish()). */
int64_t pgcopy_rows(const PgCopy *d);

/* Frees the decoder's memory. Accepts a decoder whose init failed. */
void pgcopy_free(PgCopy *d);

#endif
