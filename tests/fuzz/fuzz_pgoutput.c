/*
 * fuzz_pgoutput: logical replication messages (src/pgoutput.c), with no
 * PostgreSQL. The input is a sequence of messages, each a 2-byte big-endian
 * length and its bytes, decoded by one decoder (so the streamed-block state
 * carries from one to the next), each also parsed as a replication
 * envelope. Any input must be decoded or refused with a message; never a
 * read out of bounds, an abort or a leak. Decoded tuples are walked to the
 * end so that a wrong pointer or length shows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned sink;

static void walk(const PgoutputTuple *t)
{
    for (int i = 0; i < t->ncols; i++)
        for (int32_t b = 0; t->cols[i].p && b < t->cols[i].len; b++)
            sink += t->cols[i].p[b];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    PgoutputDecoder d = {0};
    PgoutputMsg m;
    PgoutputCopyData cd;
    while (size >= 2) {
        size_t n = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        /* An exact-size copy, so that ASan sees a read past the message. */
        unsigned char *msg = malloc(n ? n : 1);
        memcpy(msg, data, n);
        if (pgoutput_decode(&d, msg, n, &m) == 0) {
            walk(&m.old);
            walk(&m.new_);
            for (int i = 0; i < m.ncols; i++)
                sink += (unsigned)strlen(m.cols[i].name);
            for (int i = 0; i < m.nrelids; i++)
                sink += pgoutput_relid(&m, i);
        }
        if (pgoutput_parse_copydata(msg, n, &cd) == 0 && cd.kind == 'w')
            for (size_t b = 0; b < cd.data_len; b++)
                sink += cd.data[b];
        free(msg);
        data += n;
        size -= n;
    }
    pgoutput_free(&d);
    return 0;
}
