/*
 * tdb_internal.h: what the files of libtcpduckdb share and nothing else includes (the public API
 * is tcpduckdb.h). The library is three files around one connection object:
 *
 *   tdb_io.c      the connection: its state, byte strings, errors, the socket, connecting, TLS,
 *                 and the read buffer that every answer is parsed from;
 *   tdb_answer.c  the answer parsers: a command answer line, and the typed answer
 *                 `{"columns":[...],"rows":[[...],...]}` read token by token; the result accessors;
 *   tcpduckdb.c   the requests: commands, login, transactions, cancel, parameters, typed
 *                 queries, the non-blocking send/consume/is-busy API, escaping;
 *   tdb_conninfo.c  conninfo strings, URIs and TCPDUCKDB_* environment defaults
 *                 (tdb_connectdb), and tdb_reset.
 *
 * Names: functions shared between the files are `tdb__verb()` (two underscores: internal, as
 * libuv's `uv__`); file-static helpers have no prefix.
 *
 * Connection states: NEW (not connected), READY (the next thing the server sends is the answer to
 * our next request), SENT (tdb_send_query() sent a query whose answer tdb_get_result() has not
 * read), STREAMING (a typed answer is being read by a tdb_result) and DEAD (socket closed: lost,
 * timed out, or out of sync after an answer that broke the protocol). A DEAD connection stays
 * dead: only tdb__die() enters that state.
 *
 * Nothing here is thread-safe: one connection is used by one thread at a time.
 */
#ifndef TCPDUCKDB_TDB_INTERNAL_H
#define TCPDUCKDB_TDB_INTERNAL_H

#include "tcpduckdb.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TDB__READ_BUF_SIZE 65536
#define TDB__DEFAULT_MAX_ANSWER ((size_t)256 << 20)
/* How much of an abandoned result tdb_query_end() reads and drops before it cancels the
 * statement (the Node and Python drivers' limit too). */
#define TDB__ABANDON_DRAIN ((size_t)4 << 20)
/* The answer parsers return a status, or TDB__CUT when a row line ended early (the server's
 * `Error: ...` line follows it). TDB__CUT never reaches the library's caller. */
#define TDB__CUT 1

#define TDB__PRINTF(fmt, args) __attribute__((format(printf, fmt, args), visibility("hidden")))
/* Every tdb__ function: must-check, and not exported from libtcpduckdb.so. */
#define TDB__MUSTCHECK __attribute__((warn_unused_result, visibility("hidden")))
#define TDB__HIDDEN __attribute__((visibility("hidden")))

/* A growable byte string, always NUL-terminated when p != NULL. Free with tdb__str_free(). */
typedef struct {
    char *p;
    size_t len;
    size_t cap;
} Str;

typedef enum { CONN_NEW, CONN_READY, CONN_SENT, CONN_STREAMING, CONN_DEAD } ConnState;

struct tdb_conn {
    int fd;
    ConnState state;
    int timeout_ms;
    int64_t deadline_ms; /* while connecting: no wait may end later (0: none) */
    size_t max_answer;
    tdb_sslmode sslmode;
    char *sslrootcert, *sslcert, *sslkey;
    SSL_CTX *ssl_ctx; /* these three are set once TLS is being negotiated */
    SSL *ssl;
    BIO_METHOD *bio_method;
    char *host; /* as given to tdb_connect, for tdb_get_cancel */
    int port;
    int connect_timeout_ms;
    uint64_t cancel_id;  /* the session's cancel id, 0 until asked for (tdb_get_cancel...) */
    char cancel_key[33]; /* and its key, 32 hex digits */
    bool cancel_asked;   /* tdb_query_start asked for them in this session (maybe refused) */
    Str err;
    int err_status;    /* the status of the last failure (TDB_OK after a success) */
    char err_kind[64]; /* TDB_ESERVER: the message's kind ("Catalog Error"), else "" */
    char err_code[64]; /* its code ("CATALOG_ERROR"), or the local failure's ("CONNECTION") */
    tdb_transaction_status tx;      /* as the library saw it: begin, commit, rollback, errors */
    char *user, *password, *dbname; /* of the last login/connect, for tdb_reset */
    int connectdb_status;           /* of the tdb_connectdb() that made the handle */
    bool nonblocking; /* tdb_set_nonblocking: sends queue in `out` instead of waiting */
    Str out;          /* nonblocking: request bytes not yet sent, from out_pos */
    size_t out_pos;
    Str pin; /* bytes tdb_consume_input read and no parser has taken, from pin_pos */
    size_t pin_pos;
    size_t busy_scan; /* tdb_is_busy: unread bytes already searched for the answer's end */
    Str req;
    size_t rpos; /* the unread bytes of rbuf are rbuf[rpos, rlen) */
    size_t rlen;
    unsigned char rbuf[TDB__READ_BUF_SIZE];
};

typedef struct {
    size_t off; /* into tdb_result.data */
    size_t len;
    tdb_value_kind kind;
} Cell;

struct tdb_result {
    tdb_conn *conn; /* set while the answer is still being read from it */
    tdb_result_kind kind;
    int64_t changed;
    size_t ncols;
    char **names;
    char **types;
    bool streaming;  /* one row at a time (tdb_query_start), or all rows (tdb_query) */
    bool first_row;  /* no row read yet */
    bool done;       /* the whole answer has been read */
    int fail_status; /* a failure that ended the stream, not yet returned by tdb_query_end */
    size_t nrows;
    Cell *cells;
    size_t ncells;
    size_t cells_cap;
    Str data;
    Str json;
};

/* ---- byte strings (tdb_io.c); each returns 0 or TDB_ENOMEM, s unchanged on failure -------- */

/* Makes room for `more` bytes and the NUL after s->len. */
TDB__MUSTCHECK int tdb__str_reserve(Str *s, size_t more);
/* tdb__str_put when s must grow first. */
TDB__MUSTCHECK int tdb__str_grow_put(Str *s, const void *bytes, size_t len);
/* Appends len bytes (NUL-terminated afterwards). Inline: the answer parsers append every
 * value of a result (a fifth of a CSV export's CPU went to these calls). */
__attribute__((warn_unused_result)) static inline int tdb__str_put(Str *s, const void *bytes,
                                                                   size_t len)
{
    if (s->len + len + 1 > s->cap)
        return tdb__str_grow_put(s, bytes, len);
    memcpy(s->p + s->len, bytes, len);
    s->len += len;
    s->p[s->len] = '\0';
    return 0;
}
__attribute__((warn_unused_result)) static inline int tdb__str_putc(Str *s, char ch)
{
    if (s->len + 2 > s->cap)
        return tdb__str_grow_put(s, &ch, 1);
    s->p[s->len++] = ch;
    s->p[s->len] = '\0';
    return 0;
}
TDB__MUSTCHECK int tdb__str_puts(Str *s, const char *text);
/* Appends bytes as a JSON string literal; bytes >= 0x80 pass unchanged (UTF-8). */
TDB__MUSTCHECK int tdb__str_put_json_string(Str *s, const char *bytes, size_t len);
/* Frees the bytes and empties s; accepts an empty Str. */
TDB__HIDDEN void tdb__str_free(Str *s);

/* ---- errors and state (tdb_io.c) ---------------------------------------------------------- */

/* Sets the connection's message (tdb_error()); returns status, so callers can
 * `return tdb__set_error(...)`. The connection stays usable. */
TDB__PRINTF(3, 4) int tdb__set_error(tdb_conn *c, int status, const char *fmt, ...);
/* Closes the socket for good (state DEAD: the connection can no longer be trusted to be in
 * sync), sets the message, and returns status. */
TDB__PRINTF(3, 4) int tdb__die(tdb_conn *c, int status, const char *fmt, ...);
/* Sets the message and classification of a server's `Error: TEXT` answer (TEXT with its \n and
 * \r escapes restored) and returns TDB_ESERVER. A transaction open on c is marked failed when
 * the error is DuckDB's or a cancel/timeout (which abort it). */
TDB__HIDDEN int tdb__server_error(tdb_conn *c, const char *text);
/* The bytes tdb_consume_input has taken from the socket and no parser has read yet. */
TDB__HIDDEN size_t tdb__pin_avail(const tdb_conn *c);
/* Closes the socket and forgets the session (state NEW), keeping the options, host, port and
 * login for tdb_reset. */
TDB__HIDDEN void tdb__disconnect(tdb_conn *c);
/* 0 in a state in which a new request may be sent; else TDB_EINVAL or TDB_ECONN with a message. */
TDB__MUSTCHECK int tdb__check_ready(tdb_conn *c);

/* ---- socket I/O (tdb_io.c); a failure other than TDB_ENOMEM has killed the connection ----- */

/* Sends one request: a plain line, or `@N` and the payload when text holds a newline. text may
 * be c->req.p (then c->req is reused for the line). 0 or a status. */
TDB__MUSTCHECK int tdb__send_request(tdb_conn *c, const char *text, size_t len);
/* Nonblocking mode: queues one request (as tdb__send_request frames it) and sends what the
 * socket takes now. 0 or a status. */
TDB__MUSTCHECK int tdb__queue_request(tdb_conn *c, const char *text, size_t len);
/* Sends, waiting as tdb__send_request does, what tdb__queue_request queued and tdb_flush has
 * not sent yet. 0 or a status. */
TDB__MUSTCHECK int tdb__send_queued(tdb_conn *c);
/* Refills the read buffer, which must be empty (rpos == rlen), with at least one byte, waiting
 * at most the connection's timeout. 0, or a status. */
TDB__MUSTCHECK int tdb__fill(tdb_conn *c);
/*
 * One step of reading a line: points *out_start at the next *out_n buffered bytes of the current
 * line (waiting for at least one when the buffer is empty) and consumes them, with the newline
 * if it is among them (*out_ended then true; the newline is not counted in *out_n). tail keeps
 * the line's last two bytes across steps, as tdb__read_line documents. 0, or a status. The one
 * scanner under tdb__read_line and the readers that drop a line without keeping it.
 */
TDB__MUSTCHECK int tdb__scan_line(tdb_conn *c, const unsigned char **out_start, size_t *out_n,
                                  bool *out_ended, char tail[2]);
/*
 * Reads the rest of a line (the newline consumed, not stored). Keeps at most `max` bytes in out
 * (if out is not NULL; then out->p is not NULL on success, "" for an empty line); *out_over
 * (if not NULL) tells whether more were dropped. tail receives the line's last two bytes (left
 * as they were when the line is shorter), so a caller can see how a dropped line ended.
 */
TDB__MUSTCHECK int tdb__read_line(tdb_conn *c, Str *out, size_t max, bool *out_over, char tail[2]);
/* Reads the `Error: ...` line that follows a row line cut short and returns TDB_ESERVER with
 * its text as the message; any other line is a protocol error (TDB_EPROTO, connection dead). */
TDB__MUSTCHECK int tdb__read_error_line(tdb_conn *c);

/* The next byte, consumed; -1 when the connection failed (status in *rc). The parsers' hot path,
 * hence inline. */
static inline int tdb__next_byte(tdb_conn *c, int *rc)
{
    if (c->rpos == c->rlen && (*rc = tdb__fill(c)) != 0)
        return -1;
    return c->rbuf[c->rpos++];
}

/* Like tdb__next_byte, but skips blanks (JSON whitespace other than a newline). */
static inline int tdb__next_token(tdb_conn *c, int *rc)
{
    int b;
    do {
        b = tdb__next_byte(c, rc);
    } while (b == ' ' || b == '\t' || b == '\r');
    return b;
}

/* ---- answers (tdb_answer.c) --------------------------------------------------------------- */

/* Reads a command answer line into *out_answer (caller frees with free(); NULL: dropped), or
 * returns its error: TDB_ESERVER for `Error: ...` (also after a result line cut short),
 * TDB_ETOOBIG over c->max_answer (the line is consumed: the connection stays in sync). */
TDB__MUSTCHECK int tdb__read_answer(tdb_conn *c, char **out_answer);
/* Reads the header of a typed answer (docs/protocol.md) into a new result, which the caller
 * frees with tdb_query_end()/tdb_result_free(). With rows, the connection is left STREAMING
 * and the rows are read by tdb_next_row(); streaming keeps one row at a time. On failure
 * *out_result is unchanged and the status is TDB_ESERVER (in sync) or a dead connection's. */
TDB__MUSTCHECK int tdb__read_header(tdb_conn *c, bool streaming, tdb_result **out_result);
/* Reads a whole typed answer into *out_result (NULL on failure; caller frees with
 * tdb_result_free()). The result no longer refers to c. */
TDB__MUSTCHECK int tdb__read_result(tdb_conn *c, tdb_result **out_result);

#endif
