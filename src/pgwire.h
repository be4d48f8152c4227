/*
 * pgwire: PostgreSQL's frontend/backend protocol, version 3.0, as bytes:
 * framing of what a client sends into messages, reading their fields, and
 * writing the server's messages (docs/pgwire.md). Pure functions over
 * buffers, no I/O and no global state; the front end (pgwire_session.h)
 * owns one PgReader per connection and runs the messages.
 *
 * Framing. Before the startup packet is accepted a packet is an Int32
 * length (itself included) and a body whose first Int32 is a protocol
 * version or a request code (SSLRequest, GSSENCRequest, CancelRequest);
 * afterwards a message is a type byte, an Int32 length (itself included)
 * and a body. Every length is checked before anything is read: a length
 * below its minimum is PGWIRE_BAD and one above the caller's `max` is
 * PGWIRE_TOO_LONG, known as soon as the 5 header bytes are in, so the
 * buffer never holds more than `max` plus one read. Both end the connection
 * (PostgreSQL does the same: the stream cannot be resynchronised).
 *
 * Reading fields (PgIn) never reads past a message's end: a field that does
 * not fit, or a string without its NUL, sets `bad` and yields zero or "".
 *
 * Thread: any; a PgReader belongs to the thread that owns its connection.
 */
#ifndef TCPDUCKDB_PGWIRE_H
#define TCPDUCKDB_PGWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "duckdb.h"

#define PGWIRE_PROTOCOL_3_0 196608u     /* 3 << 16 */
#define PGWIRE_CANCEL_REQUEST 80877102u /* 1234 << 16 | 5678 */
#define PGWIRE_SSL_REQUEST 80877103u    /* 1234 << 16 | 5679 */
#define PGWIRE_GSSENC_REQUEST 80877104u /* 1234 << 16 | 5680 */

typedef struct PgReader {
    Buf in;     /* bytes received, from `pos` on not yet consumed */
    size_t pos; /* start of the unconsumed bytes */
} PgReader;

typedef enum {
    PGWIRE_NONE,     /* no complete message yet: read more */
    PGWIRE_MSG,      /* *out holds one message */
    PGWIRE_TOO_LONG, /* its length is over the limit */
    PGWIRE_BAD,      /* its length is below the minimum */
} PgStatus;

typedef struct PgMsg {
    char type;        /* the type byte; 0 for a startup-phase packet */
    const char *body; /* inside the reader's buffer: valid until the next pgwire_* call on it */
    size_t len;       /* of the body, without type and length */
} PgMsg;

/* Room for at least `n` more bytes; then pgwire_commit(r, k) with k <= n read. */
char *pgwire_space(PgReader *r, size_t n);
void pgwire_commit(PgReader *r, size_t n);
/* Bytes received and not yet returned as messages. */
size_t pgwire_pending(const PgReader *r);
/*
 * The next message: a startup-phase packet when `startup`, else a typed
 * message. `max` bounds a message's length field. See the top of the file.
 */
PgStatus pgwire_next(PgReader *r, bool startup, size_t max, PgMsg *out);
/* Frees the buffer; the reader is then empty and reusable. Accepts NULL. */
void pgwire_reader_free(PgReader *r);

/* Fields of one message body. */
typedef struct PgIn {
    const char *p;
    size_t left;
    bool bad; /* a read went past the end (it returned 0 or "") */
} PgIn;

static inline PgIn pgwire_in(const PgMsg *m)
{
    PgIn in = {m->body, m->len, false};
    return in;
}
uint8_t pgwire_get_u8(PgIn *in);
int16_t pgwire_get_i16(PgIn *in);
int32_t pgwire_get_i32(PgIn *in);
/* A NUL-terminated string inside the message; "" (and bad) when it has no NUL. */
const char *pgwire_get_str(PgIn *in);
/* `n` bytes inside the message, or NULL (and bad) when fewer are left. */
const char *pgwire_get_bytes(PgIn *in, size_t n);

/* ---- writing messages ---- */

/* Starts a message of `type`; returns where it starts, for pgwire_end(). */
size_t pgwire_begin(Buf *out, char type);
/* Fills in the length of the message started at `start`. */
void pgwire_end(Buf *out, size_t start);
void pgwire_put_i16(Buf *out, int16_t v);
void pgwire_put_i32(Buf *out, int32_t v);
/* The string and its NUL. */
void pgwire_put_str(Buf *out, const char *s);

/* Authentication request `code` (0 ok, 10 SASL, 11 SASL continue, 12 SASL final) and data. */
void pgwire_auth(Buf *out, int32_t code, const char *data, size_t len);
void pgwire_parameter_status(Buf *out, const char *name, const char *value);
void pgwire_ready(Buf *out, char status);
void pgwire_command_complete(Buf *out, const char *tag);

/* A RowDescription of `n` text columns (type 25, text format) named `names`. */
void pgwire_text_row_description(Buf *out, const char *const *names, int n);
/* A message with no body ('1' ParseComplete, '2' BindComplete, 'n' NoData, ...). */
void pgwire_empty(Buf *out, char type);

/*
 * An ErrorResponse (or, with severity "FATAL", the last message before the
 * server closes the connection): S and V `severity`, C `sqlstate`, M
 * `message` (bytes up to `len`; a NUL inside ends it).
 */
void pgwire_error(Buf *out, const char *severity, const char *sqlstate, const char *message,
                  size_t len);
/* An ErrorResponse of severity ERROR whose message is printf's `fmt` (cut at 511 bytes). */
void pgwire_errorf(Buf *out, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A NoticeResponse: the same fields as pgwire_error's (severity WARNING, NOTICE, ...); the
 * client shows it and goes on. */
void pgwire_notice(Buf *out, const char *severity, const char *sqlstate, const char *message);

/*
 * The SQLSTATE for an error answer of the line protocol (reply.h: "Error:
 * Access Denied: ...", "Error: Catalog Error: Table with name ...", ...),
 * so that both protocols give every error from the same place. `line` may
 * end in "\n". Never NULL: XX000 when nothing more precise fits.
 */
const char *pgwire_sqlstate(const char *line, size_t len);

/*
 * An ErrorResponse for the error line `line` of the line protocol: the
 * "Error: " prefix and line end dropped, the SQLSTATE from
 * pgwire_sqlstate().
 */
void pgwire_error_line(Buf *out, const char *severity, const char *line, size_t len);

/* ---- types and values ---- */

/* The value of hex digit `c` (either case), or -1. */
int pgwire_hex_digit(char c);
/* True when `p` (n bytes) is PostgreSQL's bytea hex format: \x and pairs of hex digits. */
bool pgwire_bytea_hex(const char *p, size_t n);
/*
 * PostgreSQL's text form of a one-dimensional array (`{1,2}`, `{"a b",NULL}`,
 * `{}`; quotes and backslash escapes as array_in reads them, unquoted NULL
 * is SQL NULL) rewritten as DuckDB's list literal, which its VARCHAR to LIST
 * cast reads (`["1", "2"]`, `["a b", NULL]`), appended to `out`. False, with
 * `out` as it was, when `p` (n bytes) is not such an array (nested arrays,
 * dimension decorations, unbalanced quotes, text after the closing brace).
 */
bool pgwire_array_to_list(const char *p, size_t n, Buf *out);

/* How a DuckDB column is sent: its PostgreSQL type. */
typedef struct PgType {
    uint32_t oid;   /* 0 when the type has no encoding here (the statement is refused) */
    int16_t len;    /* typlen: the binary size, -1 variable */
    int32_t typmod; /* -1, or numeric's ((precision << 16) | scale) + 4 */
} PgType;

/* The PostgreSQL type a DuckDB type is sent as (docs/pgwire.md has the table); a LIST of a
 * scalar type is that type's array (int4[] 1007, text[] 1009, ...), in text format only. */
PgType pgwire_type(duckdb_logical_type t);

/* A column's encoder for one result, made by pgwire_column_init(). */
typedef struct PgColumn {
    duckdb_type id;              /* the DuckDB type */
    duckdb_type internal;        /* DECIMAL's storage, ENUM's index type */
    uint8_t scale;               /* DECIMAL */
    duckdb_logical_type logical; /* ENUM (its dictionary); owned */
    PgType pg;
    bool binary;            /* the client asked for the binary format */
    struct PgColumn *child; /* LIST: its elements' encoder (a 1-D array); owned */
    /* Text floats: rounded as PostgreSQL with extra_float_digits <= 0 (to 15 + `float_extra`
     * significant digits for float8, 6 + it for float4); else the shortest exact text. */
    bool float_rounded;
    int8_t float_extra;
} PgColumn;

/*
 * Prepares the encoder of a column of type `t` (borrowed). Returns 0, or -1
 * when the type (or its binary format, with `binary`) is not supported yet.
 */
int pgwire_column_init(PgColumn *col, duckdb_logical_type t, bool binary);
void pgwire_column_free(PgColumn *col);
/* PostgreSQL's extra_float_digits (-15..3) for the column's text floats (and its array's
 * elements): 1 and more, the default, give the shortest exact text. */
void pgwire_column_float_digits(PgColumn *col, int extra_float_digits);

/*
 * Appends the value of row `row` of vector `v` (of `col`'s type, valid) as
 * its length and bytes in a DataRow: text in PostgreSQL's output format
 * (booleans t/f, bytea as \x hex, dates ISO, ...) or, for a binary column,
 * the type's send format.
 */
void pgwire_put_value(Buf *out, const PgColumn *col, duckdb_vector v, idx_t row);

#endif
