/*
 * fuzz_pgwire: PostgreSQL protocol 3.0 framing and fields (src/pgwire.c), the
 * SQLSTATE table and ErrorResponse encoding, and the server side of SCRAM
 * (src/scram.c, scram_server_first/final).
 *
 * The input is a byte stream a client might send to PgPort. It is fed to one
 * PgReader in chunks whose sizes come from the input's first byte, so
 * messages are cut at every possible place: the first message is framed as a
 * startup packet, the rest as typed messages, each read field by field as
 * the front end reads Parse and Bind (strings, counts, lengths that select
 * byte runs). Checks the contracts of pgwire.h: a message never exceeds the
 * limit, its body lies inside the buffer, and a field read never goes past
 * its end (ASan). Each message body is also given to SCRAM as a client
 * message, to the error-line mapping and to the array text reader
 * (pgwire_array_to_list).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "pgwire.h"
#include "scram.h"

#define MAX_MESSAGE 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads fields as Bind does: names, a count of codes, a count of length-prefixed values. */
static void read_fields(const PgMsg *m)
{
    PgIn in = pgwire_in(m);
    (void)pgwire_get_str(&in);
    (void)pgwire_get_str(&in);
    int n = pgwire_get_i16(&in);
    for (int i = 0; i < n && !in.bad; i++)
        (void)pgwire_get_i16(&in);
    n = pgwire_get_i16(&in);
    for (int i = 0; i < n && !in.bad; i++) {
        int32_t len = pgwire_get_i32(&in);
        if (len > 0) {
            const char *p = pgwire_get_bytes(&in, (size_t)len);
            assert(p == NULL || (size_t)len <= m->len);
        }
    }
    (void)pgwire_get_u8(&in);
    assert(in.left <= m->len);
}

static void scram(const PgMsg *m)
{
    ScramExchange x;
    char out[512];
    if (scram_server_first(&x, NULL, "fuzz", m->body, m->len, out, sizeof(out)) == 0) {
        assert(strlen(out) < sizeof(out));
        /* The same bytes as a final message: malformed or denied, never accepted. */
        assert(scram_server_final(&x, m->body, m->len, out, sizeof(out)) != SCRAM_OK);
    }
    scram_exchange_clear(&x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)(data[0] % 17) + 1;
    data++;
    size--;
    PgReader r = {0};
    Buf out = BUF_INIT;
    bool startup = true;
    size_t off = 0;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        char *space = pgwire_space(&r, n);
        memcpy(space, data + off, n);
        pgwire_commit(&r, n);
        off += n;
        for (;;) {
            PgMsg m;
            PgStatus st = pgwire_next(&r, startup, MAX_MESSAGE, &m);
            if (st == PGWIRE_NONE)
                break;
            if (st != PGWIRE_MSG)
                goto done; /* the connection would be closed */
            assert(m.len + 4 <= MAX_MESSAGE);
            assert(m.body >= r.in.data && m.body + m.len <= r.in.data + r.in.len);
            startup = false;
            read_fields(&m);
            scram(&m);
            pgwire_error_line(&out, "ERROR", m.body, m.len);
            assert(pgwire_sqlstate(m.body, m.len) != NULL);
            buf_reset(&out, 0);
            /* A message body as a Bind's array text: a list literal, or nothing written. */
            if (pgwire_array_to_list(m.body, m.len, &out))
                assert(out.len >= 2 && out.data[0] == '[' && out.data[out.len - 1] == ']');
            else
                assert(out.len == 0);
            buf_reset(&out, 0);
        }
    }
done:
    pgwire_reader_free(&r);
    buf_free(&out);
    return 0;
}
