/*
 * fuzz_pgwire_copy: the PostgreSQL front end's COPY statements and COPY
 * FROM STDIN lines (src/pgwire_copy.c), which come straight from the
 * client. Any input must be read or refused with a message; never a read
 * out of bounds, an abort or a leak. The fields go to DuckDB's appender,
 * so the sink checks what pgwire_copyio.c relies on: fields come in column
 * order from 0, a NULL has no bytes, a value has no zero byte, and a row
 * ends with as many fields as it had.
 *
 * Input layout:
 *   byte 0      bit 0: 0 = parse the rest as a COPY statement,
 *               1 = decode the rest as COPY data; bit 1 CSV, bit 2 HEADER,
 *               bit 3 a ';' delimiter, bit 4 a NULL string 'x', bit 5 the
 *               sink stops at the third field of a row
 *   byte 1      (decode) where the first CopyData message ends (0: one message)
 *   the rest    the statement or the data
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire_copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The sink: checks each field and row, and stops where the input says. */
typedef struct Check {
    int next_col;
    bool stop_third;
} Check;

static int check_field(void *ctx, int col, const char *v, size_t n, bool null)
{
    Check *c = ctx;
    assert(col == c->next_col);
    assert(null ? v == NULL && n == 0 : v != NULL);
    assert(null || memchr(v, '\0', n) == NULL);
    c->next_col++;
    return c->stop_third && col == 2 ? -1 : 0;
}

static int check_row_end(void *ctx, int ncols)
{
    Check *c = ctx;
    assert(ncols == c->next_col && ncols >= 1);
    c->next_col = 0;
    return 0;
}

static void decode(const PgWCopySpec *spec, const char *p, size_t n, size_t split, bool stop_third)
{
    Buf pending = BUF_INIT, scratch = BUF_INIT;
    bool skip = spec->header, done = false;
    long rows = 0;
    char err[256];
    Check check = {0, stop_third};
    PgWCopySink sink = {check_field, check_row_end, &check};
    size_t parts[2] = {split < n ? split : n, n};
    size_t from = 0;
    for (int k = 0; k < 2; k++) {
        buf_append(&pending, p + from, parts[k] - from);
        from = parts[k];
        long used = pgwcopy_decode(spec, pending.data, pending.len, k == 1, &skip, &sink, &scratch,
                                   &rows, &done, err, sizeof(err));
        if (used < 0)
            break;
        assert((size_t)used <= pending.len);
        assert(check.next_col == 0); /* every row handed over ended */
        buf_consume(&pending, (size_t)used);
    }
    buf_free(&pending);
    buf_free(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = data[0];
    if (!(mode & 1)) {
        PgWCopySpec spec = {0};
        char state[6], err[256];
        if (pgwcopy_spec_parse((const char *)data + 1, size - 1, &spec, state, err, sizeof(err)) ==
            0) {
            assert(spec.null && spec.delim);
            assert(spec.query || (spec.table && spec.target));
        }
        pgwcopy_spec_free(&spec);
        return 0;
    }
    PgWCopySpec spec = {0};
    spec.csv = mode & 2;
    spec.header = mode & 4;
    spec.delim = mode & 8 ? ';' : spec.csv ? ',' : '\t';
    spec.quote = '"';
    spec.null = strdup(mode & 16 ? "x" : spec.csv ? "" : "\\N");
    decode(&spec, (const char *)data + 2, size - 2, data[1], mode & 32);
    free(spec.null);
    return 0;
}
