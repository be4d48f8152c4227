/*
 * pgcopy: binary COPY messages into DuckDB data chunks. See pgcopy.h; the
 * format is PostgreSQL's "Binary Format" of COPY (docs of COPY, copyto.c).
 */
#include "pgcopy.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

/* Signature (11 bytes), flags (4), header extension length (4). */
#define HEADER_LEN 19

static const unsigned char signature[11] = "PGCOPY\n\377\r\n";

static int failf(PgCopy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int failf(PgCopy *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof(d->err), fmt, ap);
    va_end(ap);
    d->failed = true;
    return -1;
}

int pgcopy_init(PgCopy *d, const char *table, int ncols, const char *const *names,
                const PgValueType *const *types_pg, const duckdb_logical_type *types,
                PgCopyFlushFn flush, void *flush_ctx)
{
    *d = (PgCopy){.table = table,
                  .ncols = ncols,
                  .types = (duckdb_logical_type *)types,
                  .flush = flush,
                  .flush_ctx = flush_ctx};
    if (ncols < 1 || ncols > INT16_MAX)
        return failf(d, "table %s: %d columns", table, ncols);
    d->cols = xcalloc((size_t)ncols, sizeof(*d->cols));
    for (int c = 0; c < ncols; c++)
        if (pgvalue_bind(&d->cols[c], table, names[c], types_pg[c], types[c], d->err,
                         sizeof(d->err)) != 0) {
            d->failed = true;
            return -1;
        }
    d->chunk = duckdb_create_data_chunk(d->types, (idx_t)ncols);
    if (!d->chunk)
        log_fatal("out of memory");
    return 0;
}

/* Hands the chunk's rows, if any, to the flush function and starts a new chunk. */
static int flush_chunk(PgCopy *d)
{
    if (d->row == 0)
        return 0;
    duckdb_data_chunk_set_size(d->chunk, d->row);
    if (d->flush(d->flush_ctx, d->chunk, d->err, sizeof(d->err)) != 0) {
        d->failed = true;
        return -1;
    }
    duckdb_destroy_data_chunk(&d->chunk);
    d->chunk = duckdb_create_data_chunk(d->types, (idx_t)d->ncols);
    if (!d->chunk)
        log_fatal("out of memory");
    d->row = 0;
    return 0;
}

int pgcopy_feed(PgCopy *d, const void *msg, size_t len)
{
    const unsigned char *p = msg, *end = p + len;
    if (d->failed)
        return -1;
    if (d->trailer && len > 0)
        goto bad; /* nothing follows the trailer */
    if (!d->header_done) {
        if (len < HEADER_LEN || memcmp(p, signature, sizeof(signature)) != 0)
            goto bad;
        uint32_t ext = pgvalue_rd32(p + 15);
        if ((size_t)(end - p) - HEADER_LEN < (size_t)ext)
            goto bad;
        p += HEADER_LEN + ext;
        d->header_done = true;
    }
    while (p < end) {
        if (end - p < 2)
            goto bad;
        int16_t nf = (int16_t)pgvalue_rd16(p);
        p += 2;
        if (nf == -1) {
            d->trailer = true;
            if (p != end)
                goto bad;
            return 0;
        }
        if (nf != d->ncols)
            goto bad;
        for (int c = 0; c < d->ncols; c++) {
            if (end - p < 4)
                goto bad;
            int32_t flen = (int32_t)pgvalue_rd32(p);
            p += 4;
            duckdb_vector v = duckdb_data_chunk_get_vector(d->chunk, (idx_t)c);
            if (flen == -1) {
                pgvalue_put_null(v, d->row);
                continue;
            }
            if (flen < 0)
                goto bad;
            if (end - p < flen)
                goto bad;
            if (pgvalue_put(&d->cols[c], v, d->row, p, flen, d->err, sizeof(d->err)) != 0) {
                d->failed = true;
                return -1;
            }
            p += flen;
        }
        d->rows++;
        if (++d->row == duckdb_vector_size() && flush_chunk(d) != 0)
            return -1;
    }
    return 0;
bad:
    return failf(d, "table %s: malformed binary COPY data from PostgreSQL", d->table);
}

int pgcopy_finish(PgCopy *d)
{
    if (d->failed)
        return -1;
    if (!d->trailer)
        return failf(d, "table %s: the binary COPY data from PostgreSQL ended early", d->table);
    return flush_chunk(d);
}

int64_t pgcopy_rows(const PgCopy *d)
{
    return d->rows;
}

void pgcopy_free(PgCopy *d)
{
    if (d->chunk)
        duckdb_destroy_data_chunk(&d->chunk);
    free(d->cols);
    d->cols = NULL;
}
