/*
 * pgvalue: one PostgreSQL value in its binary wire format (the type's *send
 * function: int2send, numeric_send, array_send, ...) into one row of a DuckDB
 * vector. Pure: no libpq, no PostgreSQL server, no DuckDB database, so it is
 * unit-tested and fuzzed on bytes alone (tests/unit/test_pgcopy.c,
 * tests/fuzz/fuzz_pgcopy.c). pgcopy decodes COPY's binary format with it; a
 * decoder of logical replication (pgoutput, binary mode) would share it, since
 * both carry each field in the same send format.
 *
 * Invariants: a value is stored exactly or refused with a message naming the
 * column; nothing is rounded or truncated (a numeric with more decimals than
 * the column's scale, NaN, a multidimensional array, a timestamp beyond
 * DuckDB's range, an enum label not in the column's type). Every length is
 * checked against the bytes given before they are read, and an array's element
 * count against its bytes before DuckDB reserves room for the elements:
 * malformed input gives an error, never a read out of bounds, an allocation
 * out of proportion to the input, or an abort. A vector is written only
 * as the type it was checked to be by pgvalue_bind().
 *
 * Thread: any; a PgValueColumn is read-only after pgvalue_bind(), and the
 * vectors written are the caller's.
 */
#ifndef TCPDUCKDB_PGVALUE_H
#define TCPDUCKDB_PGVALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <endian.h>
#include <string.h>

#include "duckdb.h"

/* Big-endian (network order) integers of PostgreSQL's binary formats, read
 * from any alignment. The caller has checked that the bytes are there. */
static inline uint16_t pgvalue_rd16(const unsigned char *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return be16toh(v);
}

static inline uint32_t pgvalue_rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return be32toh(v);
}

static inline uint64_t pgvalue_rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

/* The PostgreSQL types link copies, by their send format. */
typedef enum PgValueKind {
    PGVALUE_BOOL,
    PGVALUE_INT2,
    PGVALUE_INT4,
    PGVALUE_INT8,
    PGVALUE_FLOAT4,
    PGVALUE_FLOAT8,
    PGVALUE_NUMERIC,
    PGVALUE_TEXT, /* text, varchar, bpchar, name */
    PGVALUE_BYTEA,
    PGVALUE_DATE,
    PGVALUE_TIME,
    PGVALUE_TIMESTAMP,
    PGVALUE_TIMESTAMPTZ,
    PGVALUE_INTERVAL,
    PGVALUE_UUID,
    PGVALUE_JSON,
    PGVALUE_JSONB,
    PGVALUE_ENUM,
} PgValueKind;

#define PGVALUE_NKINDS (PGVALUE_ENUM + 1)

/* A column's PostgreSQL type as the decoder needs it. */
typedef struct PgValueType {
    PgValueKind kind;
    bool is_array;        /* a one-dimensional array of `kind` (DuckDB LIST) */
    int precision, scale; /* PGVALUE_NUMERIC: the DECIMAL(precision, scale) it goes to */
    char **labels;        /* PGVALUE_ENUM: the labels in sort order, `nlabels` of them */
    size_t *label_len;
    int nlabels;
} PgValueType;

/* A column bound to its DuckDB type by pgvalue_bind(). */
typedef struct PgValueColumn {
    const char *table, *name; /* for messages */
    const PgValueType *type;
    duckdb_type storage; /* the physical type of the (element) vector: DECIMAL's and ENUM's
                            internal integer type, else the type itself */
} PgValueColumn;

/*
 * Binds `type` to the DuckDB column type `column`: checks that DuckDB's type
 * is the one the values decode into (LIST of it for an array; for numeric
 * DECIMAL with the same precision and scale, for enum an ENUM with as many
 * labels) and fills *out. `table`, `name` and `type` are borrowed until the
 * last use of *out; `column` only for the call. Returns 0, or -1 with a
 * message in err.
 */
int pgvalue_bind(PgValueColumn *out, const char *table, const char *name, const PgValueType *type,
                 duckdb_logical_type column, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Writes the non-NULL value `p`, `len` bytes in its binary send format (an
 * array when col->type->is_array), into row `row` of `v`, a vector of the
 * column's bound type with room for the row. An array's elements are appended
 * to the LIST's child vector. Returns 0, or -1 with a message in err (the row
 * is then partly written; the caller discards the chunk).
 */
int pgvalue_put(const PgValueColumn *col, duckdb_vector v, idx_t row, const unsigned char *p,
                int32_t len, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Marks row `row` of `v` NULL. */
void pgvalue_put_null(duckdb_vector v, idx_t row);

#endif
