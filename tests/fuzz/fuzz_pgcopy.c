/*
 * fuzz_pgcopy: PostgreSQL's binary COPY data into DuckDB chunks (src/pgcopy.c
 * and the value decoders of src/pgvalue.c), with no PostgreSQL and no DuckDB
 * database. Any input must be decoded or refused with a one-line message;
 * never a read out of bounds, an abort or a leak.
 *
 * Input layout (so the fuzzer chooses the columns as well as the data):
 *   byte 0         number of columns - 1 (mod 4)
 *   one byte each  a column: bits 0-4 the kind (mod the number of kinds),
 *                  bits 5-6 the DECIMAL of a numeric ((4,1), (9,2), (18,3),
 *                  (38,10): each of DuckDB's storage widths), bit 7 an array
 *   one byte       where the first CopyData message ends (0: one message)
 *   the rest       the COPY data
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "pgcopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_COLS 4

static char *labels[] = {"a", "bb", "ccc"};
static size_t label_len[] = {1, 2, 3};
static const char *label_names[] = {"a", "bb", "ccc"};
static const int decimals[4][2] = {{4, 1}, {9, 2}, {18, 3}, {38, 10}};

static const duckdb_type kind_ids[PGVALUE_NKINDS] = {
    [PGVALUE_BOOL] = DUCKDB_TYPE_BOOLEAN,        [PGVALUE_INT2] = DUCKDB_TYPE_SMALLINT,
    [PGVALUE_INT4] = DUCKDB_TYPE_INTEGER,        [PGVALUE_INT8] = DUCKDB_TYPE_BIGINT,
    [PGVALUE_FLOAT4] = DUCKDB_TYPE_FLOAT,        [PGVALUE_FLOAT8] = DUCKDB_TYPE_DOUBLE,
    [PGVALUE_TEXT] = DUCKDB_TYPE_VARCHAR,        [PGVALUE_BYTEA] = DUCKDB_TYPE_BLOB,
    [PGVALUE_DATE] = DUCKDB_TYPE_DATE,           [PGVALUE_TIME] = DUCKDB_TYPE_TIME,
    [PGVALUE_TIMESTAMP] = DUCKDB_TYPE_TIMESTAMP, [PGVALUE_TIMESTAMPTZ] = DUCKDB_TYPE_TIMESTAMP_TZ,
    [PGVALUE_INTERVAL] = DUCKDB_TYPE_INTERVAL,   [PGVALUE_UUID] = DUCKDB_TYPE_UUID,
    [PGVALUE_JSON] = DUCKDB_TYPE_VARCHAR,        [PGVALUE_JSONB] = DUCKDB_TYPE_VARCHAR,
};

static int64_t flushed;

static int count_chunk(void *ctx, duckdb_data_chunk chunk, char *err, size_t errlen)
{
    (void)ctx;
    (void)err;
    (void)errlen;
    flushed += (int64_t)duckdb_data_chunk_get_size(chunk);
    return 0;
}

static duckdb_logical_type element_type(const PgValueType *t)
{
    if (t->kind == PGVALUE_NUMERIC)
        return duckdb_create_decimal_type((uint8_t)t->precision, (uint8_t)t->scale);
    if (t->kind == PGVALUE_ENUM)
        return duckdb_create_enum_type(label_names, 3);
    return duckdb_create_logical_type(kind_ids[t->kind]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int ncols = 1 + data[0] % MAX_COLS;
    if (size < (size_t)ncols + 2)
        return 0;
    PgValueType types_pg[MAX_COLS];
    const PgValueType *tp[MAX_COLS];
    duckdb_logical_type types[MAX_COLS];
    const char *names[MAX_COLS] = {"c1", "c2", "c3", "c4"};
    for (int c = 0; c < ncols; c++) {
        uint8_t b = data[1 + c];
        const int *dec = decimals[(b >> 5) & 3];
        types_pg[c] = (PgValueType){.kind = (PgValueKind)((b & 0x1f) % PGVALUE_NKINDS),
                                    .is_array = (b & 0x80) != 0,
                                    .precision = dec[0],
                                    .scale = dec[1],
                                    .labels = labels,
                                    .label_len = label_len,
                                    .nlabels = 3};
        tp[c] = &types_pg[c];
        types[c] = element_type(&types_pg[c]);
        if (types_pg[c].is_array) {
            duckdb_logical_type list = duckdb_create_list_type(types[c]);
            duckdb_destroy_logical_type(&types[c]);
            types[c] = list;
        }
    }
    size_t split = data[1 + ncols];
    const uint8_t *copy = data + 2 + ncols;
    size_t len = size - 2 - (size_t)ncols;
    if (split == 0 || split > len)
        split = len;

    PgCopy d;
    flushed = 0;
    int rc = pgcopy_init(&d, "t", ncols, names, tp, types, count_chunk, NULL);
    assert(rc == 0); /* the types above always match */
    if (rc == 0)
        rc = pgcopy_feed(&d, copy, split);
    if (rc == 0)
        rc = pgcopy_feed(&d, copy + split, len - split);
    if (rc == 0)
        rc = pgcopy_finish(&d);
    if (rc == 0) {
        assert(flushed == pgcopy_rows(&d));
    } else {
        assert(d.err[0] != '\0');
        assert(strchr(d.err, '\n') == NULL);
    }
    pgcopy_free(&d);
    for (int c = 0; c < ncols; c++)
        duckdb_destroy_logical_type(&types[c]);
    return 0;
}
