/*
 * fuzz_client_answer: the C client's answer parsers (clients/c/tdb_answer.c) on bytes from a
 * hostile server. A client must never crash, read outside its buffers or leak on whatever the
 * server sends; every answer must end in a result, a server error (the connection still in
 * sync) or a dead connection, and the parser's internal "row line cut" status must never reach
 * the caller.
 *
 * Input: byte 0 picks what the client reads (command answers, whole typed answers, streamed
 * typed answers read to the end or ended early); byte 1 how the bytes are cut into reads; byte
 * 2 the answer limit (tdb_set_max_answer); the rest is what the server sent. The bytes reach
 * the parser through the library's real read path: they are written into one end of an
 * AF_UNIX SOCK_SEQPACKET pair, one message per read the client will see (so values, escapes and
 * lines are split across reads of the 64 KiB buffer), and the other end becomes the
 * connection's socket. Closing the writing end makes the rest of the input "the server closed
 * the connection".
 */
#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tdb_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { READ_COMMANDS, READ_WHOLE, READ_STREAMED, READ_STREAMED_END_EARLY, READ_CSV, READ_MODES };

/* Up to this many answers are read from one input (each answer needs at least one byte). */
#define MAX_ANSWERS 8
/* The first reads are short (1..16 bytes, from the cut pattern); the rest go in reads of this
 * size, so that the messages fit the socket's send buffer. */
#define SHORT_READS 48
#define LONG_READ 4096

/* A status the library may return from a read of an answer. */
static void check_status(const tdb_conn *c, int rc)
{
    assert(rc <= 0 && rc >= TDB_ETLS);
    assert(tdb_error(c) != NULL);
    if (rc == TDB_ESERVER || rc == TDB_ETOOBIG)
        assert(tdb_is_connected(c)); /* the answer was consumed: in sync */
}

/* Calls every accessor on every value of the result's current rows. */
static void read_values(tdb_result *res)
{
    size_t ncols = tdb_result_ncols(res), nrows = tdb_result_nrows(res);
    (void)tdb_result_kind_of(res);
    (void)tdb_result_changed(res);
    for (size_t col = 0; col <= ncols; col++) {
        (void)tdb_result_column_name(res, col);
        (void)tdb_result_column_type(res, col);
    }
    for (size_t row = 0; row <= nrows; row++) {
        for (size_t col = 0; col <= ncols; col++) {
            int64_t i = 0;
            double d = 0;
            bool b = false;
            size_t len = 0;
            (void)tdb_result_value_kind(res, row, col);
            (void)tdb_result_is_null(res, row, col);
            (void)tdb_result_int64(res, row, col, &i);
            (void)tdb_result_double(res, row, col, &d);
            (void)tdb_result_bool(res, row, col, &b);
            const char *text = tdb_result_text(res, row, col, &len);
            if (text)
                assert(text[len] == '\0');
            const char *json = tdb_result_json(res, row, col);
            if (json)
                (void)strlen(json);
        }
    }
}

/* Reads one answer in the given way; false when the connection is dead. */
static bool read_one(tdb_conn *c, int mode)
{
    tdb_result *res = NULL;
    int rc;
    switch (mode) {
    case READ_COMMANDS: {
        char *answer = NULL;
        rc = tdb__read_answer(c, &answer);
        check_status(c, rc);
        assert((rc == 0) == (answer != NULL));
        if (answer)
            (void)strlen(answer);
        free(answer);
        break;
    }
    case READ_WHOLE:
        rc = tdb__read_result(c, &res);
        check_status(c, rc);
        assert((rc == 0) == (res != NULL));
        if (res)
            read_values(res);
        tdb_result_free(res);
        break;
    default:
        rc = tdb__read_header(c, true, &res);
        check_status(c, rc);
        if (rc != 0)
            break;
        int rows = 0;
        if (mode == READ_CSV) { /* tdb_next_row_csv: every line ends in '\n', NUL after it */
            static const tdb_csv_options csv[2] = {{0}, {'\t', true, "\\N"}};
            const char *line = NULL;
            size_t len = 0;
            while ((rc = tdb_next_row_csv(res, &csv[rows++ & 1], &line, &len)) == 1)
                assert(len > 0 && line[len - 1] == '\n' && line[len] == '\0');
        }
        while (mode != READ_CSV && !(mode == READ_STREAMED_END_EARLY && rows == 1) &&
               (rc = tdb_next_row(res)) == 1) {
            read_values(res);
            rows++;
        }
        if (rc != 1)
            check_status(c, rc);
        rc = tdb_query_end(res);
        check_status(c, rc);
        break;
    }
    return tdb_is_connected(c);
}

/* Writes the server's bytes as messages of the sizes the cut pattern gives; drops what does not
 * fit the socket's buffer (a shorter input is as good a test). */
static void serve(int fd, const uint8_t *bytes, size_t size, unsigned pattern)
{
    for (size_t i = 0, sent = 0; sent < size; i++) {
        size_t n = i < SHORT_READS ? 1 + (pattern * (i + 7)) % 16 : LONG_READ;
        if (pattern == 0)
            n = LONG_READ;
        if (n > size - sent)
            n = size - sent;
        ssize_t w = send(fd, bytes + sent, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int mode = data[0] % READ_MODES;
    unsigned pattern = data[1];
    size_t limit = data[2] < 128 ? 0 : (size_t)(data[2] - 127) * 8; /* 0: the default */
    data += 3;
    size -= 3;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    serve(sv[1], data, size, pattern);
    close(sv[1]);

    tdb_conn *c = tdb_conn_new();
    if (!c)
        abort();
    tdb_set_max_answer(c, limit);
    /* What tdb_connect() leaves behind on a plain-text connection. */
    c->fd = sv[0];
    c->state = CONN_READY;
    for (int i = 0; i < MAX_ANSWERS && read_one(c, mode); i++)
        ;
    tdb_close(c);
    return 0;
}
