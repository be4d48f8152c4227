/*
 * fuzz_pgwire_copy: the PostgreSQL front end's COPY statements and COPY
 * FROM STDIN lines (src/pgwire_copy.c), which come straight from the
 * client. Any input must be read or refused with a message; never a read
 * out of bounds, an abort or a leak. The VALUES text built from the rows
 * goes into SQL, so every string literal in it must be closed: the number
 * of quote characters is even whatever the data holds.
 *
 * Input layout:
 *   byte 0      bit 0: 0 = parse the rest as a COPY statement,
 *               1 = decode the rest as COPY data; bit 1 CSV, bit 2 HEADER,
 *               bit 3 a ';' delimiter, bit 4 a NULL string 'x', bit 5 the
 *               first two columns bytea
 *   byte 1      (decode) where the first CopyData message ends (0: one message)
 *   the rest    the statement or the data
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgwire_copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const PgWCopySpec *spec, const char *p, size_t n, size_t split)
{
    Buf pending = BUF_INIT, values = BUF_INIT;
    bool skip = spec->header, done = false;
    long rows = 0;
    char err[256];
    size_t parts[2] = {split < n ? split : n, n};
    size_t from = 0;
    for (int k = 0; k < 2; k++) {
        buf_append(&pending, p + from, parts[k] - from);
        from = parts[k];
        long used = pgwcopy_decode(spec, pending.data, pending.len, k == 1, &skip, &values, &rows,
                                   &done, err, sizeof(err));
        if (used < 0)
            break;
        assert((size_t)used <= pending.len);
        buf_consume(&pending, (size_t)used);
    }
    size_t quotes = 0;
    for (size_t i = 0; i < values.len; i++)
        quotes += values.data[i] == '\'';
    assert(quotes % 2 == 0);
    buf_free(&pending);
    buf_free(&values);
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
    bool bytea[2] = {true, true};
    if (mode & 32) {
        spec.bytea = bytea;
        spec.nbytea = 2;
    }
    decode(&spec, (const char *)data + 2, size - 2, data[1]);
    free(spec.null);
    return 0;
}
