/*
 * libtcpduckdb: the C client library of TCP-DuckDB.
 *
 * A tdb_conn is one TCP connection to a TCP-DuckDB server (docs/protocol.md).
 * Every function that can fail returns a status: TDB_OK (0) or one of the
 * negative TDB_E* codes; the connection then keeps a message for people,
 * read with tdb_error(): the server's text after "Error: " when the server
 * refused the request (TDB_ESERVER), a local reason otherwise. The library
 * never prints, never exits and never raises SIGPIPE; it has no global state.
 *
 * Queries go through the protocol's typed request form
 * (`query {"sql": ..., "params": [...]}`): parameters are bound by the
 * server as a DuckDB prepared statement, never pasted into the SQL. A result
 * is either read whole (tdb_query) or row by row (tdb_query_start,
 * tdb_next_row, tdb_query_end); the streaming form holds one row at a time,
 * so a result larger than memory can be read with a bounded buffer.
 *
 * TLS: by default (sslmode "prefer", as libpq) tdb_connect asks the server for TLS with
 * `starttls` and goes on in plain text if the server does not offer it; tdb_set_tls() chooses
 * another mode, a CA file and a client certificate (docs/protocol.md, "TLS"). The library
 * links OpenSSL (-lssl -lcrypto).
 *
 * Thread-safety: a connection and its results belong to one thread at a
 * time (use one connection per thread, or lock around every call). Distinct
 * connections are independent and may be used from different threads at once.
 */
#ifndef TCPDUCKDB_H
#define TCPDUCKDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TDB_MUSTCHECK __attribute__((warn_unused_result))
#else
#define TDB_MUSTCHECK
#endif

/* Status codes. Every failing call also leaves a message in tdb_error(). */
enum {
    TDB_OK = 0,
    TDB_ESERVER = -1,  /* the server answered "Error: ..."; the connection is usable */
    TDB_ECONN = -2,    /* cannot connect, connection lost or closed; the connection is dead */
    TDB_ETIMEOUT = -3, /* connect or I/O timeout; the connection is dead */
    TDB_EPROTO = -4,   /* the server's answer does not follow the protocol; dead */
    TDB_ENOMEM = -5,   /* out of memory */
    TDB_EINVAL = -6,   /* bad argument, or a call in the wrong state (e.g. during a stream) */
    TDB_ETOOBIG = -7,  /* an answer passed tdb_set_max_answer(); it was read and dropped */
    TDB_ENULL = -8,    /* accessor: the value is NULL */
    TDB_ETYPE = -9,    /* accessor: the value has another type */
    TDB_ERANGE = -10,  /* accessor: the value does not fit the C type */
    TDB_ETLS = -11,    /* TLS refused, failed or not verified (the reason in tdb_error()); dead */
};

typedef struct tdb_conn tdb_conn;
typedef struct tdb_result tdb_result;

/* A short English name of a status code ("server error", ...); never NULL. */
const char *tdb_strstatus(int status);

/* ---- connections ---------------------------------------------------------------------- */

/* A new, unconnected handle, or NULL when out of memory. Free with tdb_close(). */
tdb_conn *tdb_conn_new(void);

/*
 * Connects to host:port (names resolved with getaddrinfo, every address tried in turn) and
 * negotiates TLS as tdb_set_tls() says (default: prefer), all within timeout_ms milliseconds
 * (0: the system's own connect timeout, and no limit on the TLS handshake). Returns TDB_OK,
 * TDB_ECONN, TDB_ETIMEOUT or TDB_ETLS. A handle connects once. `host` is also the name sent
 * for SNI and checked by verify-full.
 */
TDB_MUSTCHECK int tdb_connect(tdb_conn *conn, const char *host, int port, int timeout_ms);

/*
 * Connects, logs in and enters a database in one call, as libpq's PQconnectdb, from a conninfo
 * string or a URI:
 *
 *   "host=db.example port=4000 user=ann password='s3 cret' dbname=sales sslmode=verify-full
 *    sslrootcert=/etc/ca.pem connect_timeout=10"
 *   "tcpduckdb://ann:s3%20cret@db.example:4000/sales?sslmode=verify-full&sslrootcert=/etc/ca.pem"
 *
 * Keywords: host, port, user, password, dbname, sslmode, sslrootcert, sslcert, sslkey,
 * connect_timeout (seconds; default 30). In a conninfo string a value may be single-quoted,
 * with \' and \\ inside. In a URI, user, password, host, database and query values are
 * percent-decoded; an IPv6 host is written in brackets. Every keyword left out comes from
 * the environment: TCPDUCKDB_HOST, TCPDUCKDB_PORT, TCPDUCKDB_USER, TCPDUCKDB_PASSWORD,
 * TCPDUCKDB_DATABASE, TCPDUCKDB_SSLMODE, TCPDUCKDB_SSLROOTCERT, TCPDUCKDB_SSLCERT,
 * TCPDUCKDB_SSLKEY (the Go, Node and Python clients read the same), then from the defaults
 * 127.0.0.1, 4000, sslmode prefer. Without a user the connection is not logged in; without
 * dbname no database is entered. NULL or "" uses only the environment and defaults.
 *
 * Returns a handle always (NULL only when out of memory): check tdb_is_connected() and
 * tdb_error(); a bad string gives TDB_EINVAL in tdb_connectdb_status(). Free with tdb_close().
 */
tdb_conn *tdb_connectdb(const char *conninfo);
/* The status of the tdb_connectdb() that made conn (TDB_OK when it connected and logged in). */
int tdb_connectdb_status(const tdb_conn *conn);

/*
 * Closes the connection and opens it again with the same host, port, TLS options and timeout,
 * and logs in and enters the database again if the connection had done so (as libpq's
 * PQreset). Results of the old connection must be freed first. An open transaction is lost.
 */
TDB_MUSTCHECK int tdb_reset(tdb_conn *conn);

/* ---- TLS ------------------------------------------------------------------------------ */

/* libpq's sslmode values. TDB_SSL_PREFER is 0, so a zeroed tdb_tls_options is the default. */
typedef enum {
    TDB_SSL_PREFER = 0,  /* try TLS, fall back to plain text if the server has none; no check */
    TDB_SSL_DISABLE,     /* plain text only: starttls is never sent */
    TDB_SSL_REQUIRE,     /* TLS or fail; the certificate is not checked */
    TDB_SSL_VERIFY_CA,   /* TLS, and the certificate chain must verify against sslrootcert */
    TDB_SSL_VERIFY_FULL, /* verify-ca, and the host name or IP address must match the certificate */
} tdb_sslmode;

typedef struct {
    tdb_sslmode sslmode;
    /* PEM file of trusted CA certificates for verify-ca/verify-full; NULL: the system's CAs. */
    const char *sslrootcert;
    /* Client certificate chain and its key (PEM) for servers that ask for one; NULL: none.
     * sslkey NULL with sslcert set: the key is in the sslcert file. */
    const char *sslcert;
    const char *sslkey;
} tdb_tls_options;

/*
 * Sets the TLS options of a handle before tdb_connect (TDB_EINVAL afterwards). The strings are
 * copied. Files are read by tdb_connect, which fails with TDB_ETLS if one is unusable, if the
 * mode needs TLS and the server does not offer it, or if verification fails: the message then
 * names the reason ("certificate has expired", "hostname mismatch"). Never a silent fall-back
 * to plain text except with TDB_SSL_PREFER when the server answers that it has no TLS.
 */
TDB_MUSTCHECK int tdb_set_tls(tdb_conn *conn, const tdb_tls_options *options);

/* "disable", "prefer", "require", "verify-ca", "verify-full" to the mode: 0 or TDB_EINVAL. */
TDB_MUSTCHECK int tdb_sslmode_parse(const char *name, tdb_sslmode *out_mode);
/* The name of a mode ("prefer"); never NULL. */
const char *tdb_sslmode_name(tdb_sslmode mode);

/* The TLS version ("TLSv1.3") and cipher of a connection on TLS, or NULL when it is plain (or
 * not connected). Borrowed until tdb_close. */
const char *tdb_tls_version(const tdb_conn *conn);
const char *tdb_tls_cipher(const tdb_conn *conn);

/*
 * Limits every later wait for the server (sending a request, each read of its answer) to
 * timeout_ms milliseconds; 0 (the default) waits forever. A timeout kills the connection,
 * since the answer that is late would desynchronise it.
 */
void tdb_set_timeout(tdb_conn *conn, int timeout_ms);

/*
 * The most bytes the library holds for one answer: a tdb_command answer, a whole tdb_query
 * result (cells plus their text), or one row of a streamed result. Default 256 MiB. A larger
 * answer is read to its end and dropped, and the call fails with TDB_ETOOBIG.
 */
void tdb_set_max_answer(tdb_conn *conn, size_t bytes);

/* The message of the last failure on conn ("" if none). Borrowed until the next call on conn.
 * A server's message has its \n and \r escapes turned back into line breaks. */
const char *tdb_error(const tdb_conn *conn);

/*
 * The class of the last failure, as the other clients of TCP-DuckDB classify errors (Python's
 * DB-API exceptions, the same table in every driver: clients/c/README.md, "Errors").
 */
typedef enum {
    TDB_ERRCLASS_NONE = 0,      /* no failure */
    TDB_ERRCLASS_INTERFACE,     /* misuse of the library, or a server that breaks the protocol */
    TDB_ERRCLASS_DATABASE,      /* a server error of no more specific class */
    TDB_ERRCLASS_DATA,          /* Conversion, Out of Range, Type Error ... */
    TDB_ERRCLASS_OPERATIONAL,   /* connection, TLS, timeouts, Unauthorized, Canceled,
                                 * Transaction Aborted, limits, Out of Memory ... */
    TDB_ERRCLASS_INTEGRITY,     /* Constraint Error */
    TDB_ERRCLASS_INTERNAL,      /* Internal Error, Fatal Error */
    TDB_ERRCLASS_PROGRAMMING,   /* Parser, Catalog, Binder Error, Bad Request, Access Denied,
                                 * Does Not Exist, Already Exists ... */
    TDB_ERRCLASS_NOT_SUPPORTED, /* Not Implemented Error */
} tdb_error_class;

tdb_error_class tdb_error_class_of(const tdb_conn *conn);
/* The class's name as in Python ("ProgrammingError", ...; "" for NONE); never NULL. */
const char *tdb_error_class_name(tdb_error_class cls);
/*
 * For a server error (TDB_ESERVER): its kind, the message's prefix before the first ':'
 * ("Catalog Error", "Bad Request", "Transaction Aborted"), or "Does Not Exist" / "Already Exists"
 * for `Database X Does Not Exist` and the like; "" for a local failure. Never NULL.
 */
const char *tdb_error_kind(const tdb_conn *conn);
/*
 * The kind in upper snake case ("CATALOG_ERROR", "TRANSACTION_ABORTED", "DOES_NOT_EXIST"), the
 * same codes as the Go, Node and Python clients; for a local failure one of "CONNECTION",
 * "TIMEOUT", "TLS", "PROTOCOL", "INVALID", "OUT_OF_MEMORY", "ANSWER_TOO_LARGE"; "" after a
 * success. Never NULL.
 */
const char *tdb_error_code(const tdb_conn *conn);

/* ---- transaction status --------------------------------------------------------------- */

typedef enum {
    TDB_TRANS_IDLE = 0, /* no transaction open (each statement commits on its own) */
    TDB_TRANS_INTRANS,  /* tdb_begin() succeeded; no statement of it has failed */
    TDB_TRANS_INERROR,  /* a statement failed inside it, and DuckDB may have aborted it (it does
                         * for errors raised while executing, not for parse or bind errors):
                         * rollback is safe, commit may answer Transaction Aborted */
    TDB_TRANS_UNKNOWN,  /* not connected */
} tdb_transaction_status;

/*
 * As libpq's PQtransactionStatus, from what the library saw: tdb_begin or a transaction command
 * through tdb_command (`begin`, `commit`, ...), tdb_commit / tdb_rollback (which always end it,
 * also when commit fails), DuckDB's errors, Canceled and Statement Timeout inside it (INERROR),
 * and a typed query that succeeds after such an error (back to INTRANS: DuckDB did not abort).
 */
tdb_transaction_status tdb_transaction_status_of(const tdb_conn *conn);

/* True while the connection can be used (connected, not lost, not desynchronised). */
bool tdb_is_connected(const tdb_conn *conn);

/* Closes the connection (sending nothing but TLS's close_notify) and frees the handle. Accepts
 * NULL. End (or free) every result of the connection first: a streamed result refers to it. */
void tdb_close(tdb_conn *conn);

/* ---- commands ------------------------------------------------------------------------- */

/*
 * Sends one request exactly as written (any command of the protocol, or plain SQL) and reads
 * its answer line. Text with a newline is sent as a length-prefixed @N request. On TDB_OK,
 * *out_answer (if out_answer is not NULL) is the answer without its newline ("success", "2",
 * "[...]"), which the caller frees with free(). An "Error: ..." answer returns TDB_ESERVER, with
 * *out_answer NULL and the message in tdb_error().
 */
TDB_MUSTCHECK int tdb_command(tdb_conn *conn, const char *text, char **out_answer);

/* `login USER PASSWORD` (both quoted for the server's word splitter). */
TDB_MUSTCHECK int tdb_login(tdb_conn *conn, const char *user, const char *password);

/* `connect NAME`: later queries run in database NAME. */
TDB_MUSTCHECK int tdb_connect_database(tdb_conn *conn, const char *database);

/* `start transaction`, `commit`, `rollback`. */
TDB_MUSTCHECK int tdb_begin(tdb_conn *conn);
TDB_MUSTCHECK int tdb_commit(tdb_conn *conn);
TDB_MUSTCHECK int tdb_rollback(tdb_conn *conn);

/* ---- cancel --------------------------------------------------------------------------- */

/*
 * Cancelling a running query from another thread, as libpq's PQgetCancel/PQcancel
 * (docs/protocol.md, "Cancel"). The connection that runs the query is busy waiting for its
 * answer, so the cancel goes on a second connection to the same server with the same TLS
 * options, carrying the session's cancel id and secret key.
 *
 * tdb_get_cancel() makes a handle for conn's session: a copy of the host, port, TLS options and
 * timeout and of the session's id and key, which it asks the server for (`session key`, one
 * round trip, the first time only; tdb_query_start may have asked already). Call it on the thread
 * that owns conn, when no request is under way (e.g. right after tdb_login), and keep the handle:
 * it is independent of conn and may outlive it. NULL when conn is not logged in (the message in
 * tdb_error()), or out of memory. Free with tdb_free_cancel().
 */
typedef struct tdb_cancel_handle tdb_cancel_handle;
tdb_cancel_handle *tdb_get_cancel(tdb_conn *conn);

/*
 * Asks the server to cancel the statement the handle's session is running: connects (with the
 * handle's TLS options, within the connection's timeout, or 10 s without one), sends
 * `cancel ID KEY` and reads the answer. Returns TDB_OK when the server took the request, which
 * says nothing about whether a statement was running: if one was, the session's query fails
 * with TDB_ESERVER and the message "Canceled: canceling statement due to user request"; if
 * none was, nothing happens (the next query is not affected). Otherwise a status, with the
 * reason in errbuf (errbuf_size bytes, NUL-terminated; errbuf may be NULL). May be called
 * from any thread, also while the connection's own thread waits in a query, and from several
 * threads at once; not from a signal handler (it connects and allocates).
 */
TDB_MUSTCHECK int tdb_cancel(const tdb_cancel_handle *cancel, char *errbuf, size_t errbuf_size);

/* Frees a handle. Accepts NULL. */
void tdb_free_cancel(tdb_cancel_handle *cancel);

/* ---- parameters ----------------------------------------------------------------------- */

typedef enum {
    TDB_PARAM_NULL,
    TDB_PARAM_BOOL,
    TDB_PARAM_INT64,
    TDB_PARAM_DOUBLE, /* NaN and infinities are sent as the strings "NaN", "Infinity", ... */
    TDB_PARAM_TEXT,   /* UTF-8; bound as VARCHAR, which DuckDB casts (send DECIMALs, DATEs so) */
    TDB_PARAM_BLOB,
} tdb_param_kind;

/* One parameter value. TEXT and BLOB bytes are borrowed for the duration of the call. */
typedef struct {
    tdb_param_kind kind;
    union {
        bool b;
        int64_t i;
        double d;
        struct {
            const void *ptr;
            size_t len;
        } bytes;
    } v;
} tdb_param;

static inline tdb_param tdb_param_null(void)
{
    tdb_param p = {.kind = TDB_PARAM_NULL};
    return p;
}
static inline tdb_param tdb_param_bool(bool b)
{
    tdb_param p = {.kind = TDB_PARAM_BOOL, .v.b = b};
    return p;
}
static inline tdb_param tdb_param_int64(int64_t i)
{
    tdb_param p = {.kind = TDB_PARAM_INT64, .v.i = i};
    return p;
}
static inline tdb_param tdb_param_double(double d)
{
    tdb_param p = {.kind = TDB_PARAM_DOUBLE, .v.d = d};
    return p;
}
/* text is NUL-terminated; use tdb_param_text_len for a length. */
tdb_param tdb_param_text(const char *text);
static inline tdb_param tdb_param_text_len(const char *text, size_t len)
{
    tdb_param p = {.kind = TDB_PARAM_TEXT, .v.bytes = {text, len}};
    return p;
}
static inline tdb_param tdb_param_blob(const void *bytes, size_t len)
{
    tdb_param p = {.kind = TDB_PARAM_BLOB, .v.bytes = {bytes, len}};
    return p;
}

/* ---- queries -------------------------------------------------------------------------- */

/*
 * Runs sql with nparams parameters (params may be NULL when nparams is 0) and reads the whole
 * result into *out_result, which the caller frees with tdb_result_free(). Without parameters sql
 * may hold several statements; the result is the last one's. A transaction statement (BEGIN,
 * COMMIT, ...) must go through tdb_begin()/tdb_commit()/tdb_rollback() instead.
 */
TDB_MUSTCHECK int tdb_query(tdb_conn *conn, const char *sql, const tdb_param *params,
                            size_t nparams, tdb_result **out_result);

/*
 * Sends the query and reads the answer up to its first row: columns are known, no row is. Then
 * tdb_next_row() reads one row at a time; the current row is row 0 of the result (its rows
 * counter is 1 while a row is current). Until tdb_query_end(), the connection accepts no other
 * request (TDB_EINVAL).
 */
TDB_MUSTCHECK int tdb_query_start(tdb_conn *conn, const char *sql, const tdb_param *params,
                                  size_t nparams, tdb_result **out_result);

/*
 * Reads the next row of a streamed result: returns 1 (a row is current), 0 (no more rows; also
 * at once for a result without rows), or a negative status. An error the server reports after
 * some rows (docs/protocol.md, "Errors in the middle of a result") returns TDB_ESERVER.
 */
TDB_MUSTCHECK int tdb_next_row(tdb_result *res);

/* How tdb_next_row_csv() writes a row. A zeroed struct (or NULL) is RFC 4180 with ','. */
typedef struct {
    char sep;              /* the field separator; 0: ',' */
    bool quote_empty;      /* an empty string as "" (so that it differs from NULL, as COPY) */
    const char *null_text; /* NULL's text; NULL: empty (a string equal to it is quoted) */
} tdb_csv_options;

/*
 * Reads the next row of a streamed result as one CSV line ending in '\n': *out_line and
 * *out_len, owned by the result until the next call. Numbers and nested values (LIST,
 * STRUCT: their JSON text) appear as the server sent them, booleans as true/false, strings
 * decoded; a field holding the separator, a quote, CR or LF is quoted, its quotes doubled.
 * Returns as tdb_next_row() (1, 0 or a status); the row's cells are not kept (the cell
 * accessors see no row). A faster path than tdb_next_row() and the accessors for exports: the
 * JSON row is turned into CSV in one pass, without a cell table. TDB_EINVAL for a result read
 * whole (tdb_query).
 */
TDB_MUSTCHECK int tdb_next_row_csv(tdb_result *res, const tdb_csv_options *options,
                                   const char **out_line, size_t *out_len);

/*
 * Ends a streamed result and frees it; the connection stays usable. Rows not read yet are
 * dropped: up to 4 MiB of them are read; a longer rest is stopped by cancelling the statement
 * (tdb_cancel on a second connection, with the key tdb_query_start asked for before the
 * session's first streamed query) and reading the short
 * rest, so abandoning a huge result costs milliseconds, not the whole transfer (as the Node
 * and Python drivers). Inside a transaction (tdb_transaction_status_of not IDLE) the rest is
 * read whatever its size, since a cancel would abort the transaction. A statement that changes
 * data and returns rows (INSERT ... RETURNING) outside a transaction is rolled back if it is
 * cancelled so: read such a result to its end. Returns TDB_OK, or the status of a failure met
 * while dropping the rows (or of the failure that ended the stream before, if the caller did
 * not see it). Accepts NULL.
 */
int tdb_query_end(tdb_result *res);

/* Frees a result (a streamed one as tdb_query_end). Accepts NULL. */
void tdb_result_free(tdb_result *res);

/*
 * The two halves of tdb_query(), for a program that drives many connections from one thread
 * (as libpq's PQsendQuery/PQgetResult with PQsocket): tdb_send_query() sends the query and
 * returns without waiting for the answer; the connection then accepts nothing but
 * tdb_get_result() (TDB_EINVAL), which reads the whole answer as tdb_query() does, waiting for
 * it (up to the timeout) if it has not arrived. To wait for several connections at once, poll
 * tdb_socket() for reading, but first call tdb_get_result() on every connection for which
 * tdb_input_buffered() is true: the library may already hold the answer (read with an earlier
 * answer, or decrypted by TLS), and then the socket will not become readable for it.
 */
TDB_MUSTCHECK int tdb_send_query(tdb_conn *conn, const char *sql, const tdb_param *params,
                                 size_t nparams);
TDB_MUSTCHECK int tdb_get_result(tdb_conn *conn, tdb_result **out_result);

/* The connection's socket, to poll for reading; -1 when not connected. */
int tdb_socket(const tdb_conn *conn);

/* True when the library holds received bytes not yet read (see tdb_send_query). */
bool tdb_input_buffered(const tdb_conn *conn);

/*
 * The non-blocking API, as libpq's PQsetnonblocking / PQflush / PQconsumeInput / PQisBusy:
 *
 *   tdb_set_nonblocking(c, true);
 *   tdb_send_query(c, sql, params, n);        // queues and sends what the socket takes
 *   for (;;) {
 *       int f = tdb_flush(c);                 // 0: all sent, 1: more to send, < 0: failure
 *       poll tdb_socket(c) for POLLIN (and POLLOUT while f == 1);
 *       tdb_consume_input(c);                 // reads what has arrived, never waits
 *       if (!tdb_is_busy(c)) break;           // the whole answer is here
 *   }
 *   tdb_get_result(c, &res);                  // parses it without waiting
 *
 * In non-blocking mode tdb_send_query() never waits for the socket; the other calls
 * (tdb_command, tdb_query, streaming) still wait as they always do. tdb_consume_input() holds
 * the arriving answer in memory (up to tdb_set_max_answer() and a read buffer more; past that,
 * tdb_is_busy() says false and tdb_get_result() reads the rest itself, failing with
 * TDB_ETOOBIG). Check tdb_is_busy() before polling: the answer may be complete already.
 */
TDB_MUSTCHECK int tdb_set_nonblocking(tdb_conn *conn, bool on);
bool tdb_is_nonblocking(const tdb_conn *conn);
/* Sends queued request bytes without waiting: 0 when none are left, 1 when some are, or a
 * negative status (the connection is dead). */
TDB_MUSTCHECK int tdb_flush(tdb_conn *conn);
/* Reads whatever the server has sent, without waiting (also flushes queued bytes). TDB_OK, or
 * a status when the connection failed or the server closed it. */
TDB_MUSTCHECK int tdb_consume_input(tdb_conn *conn);
/* True while the answer of a sent query has not fully arrived (or its request is not fully
 * sent); false when tdb_get_result() would not wait, and when no query is outstanding. */
bool tdb_is_busy(tdb_conn *conn);

/* ---- results -------------------------------------------------------------------------- */

typedef enum {
    TDB_RESULT_ROWS,    /* a statement returning rows (possibly none) */
    TDB_RESULT_CHANGED, /* INSERT/UPDATE/DELETE: tdb_result_changed() rows changed */
    TDB_RESULT_SUCCESS, /* anything else (DDL, ...) */
} tdb_result_kind;

/* The JSON kind of one value, as the server sent it. */
typedef enum {
    TDB_VALUE_NULL,
    TDB_VALUE_BOOL,
    TDB_VALUE_INT,    /* a JSON number without fraction or exponent (any size: HUGEINT too) */
    TDB_VALUE_FLOAT,  /* a JSON number with a fraction or exponent (DECIMAL, DOUBLE) */
    TDB_VALUE_STRING, /* VARCHAR, DATE, TIMESTAMP, UUID, BLOB ("\x00ff"), "NaN", ... */
    TDB_VALUE_NESTED, /* a JSON array or object (LIST, ARRAY, STRUCT, MAP) */
} tdb_value_kind;

tdb_result_kind tdb_result_kind_of(const tdb_result *res);
/* Rows changed by an INSERT/UPDATE/DELETE; -1 for other results. */
int64_t tdb_result_changed(const tdb_result *res);
size_t tdb_result_ncols(const tdb_result *res);
/* Rows held: all of them for tdb_query, 1 or 0 for a streamed result. */
size_t tdb_result_nrows(const tdb_result *res);
/* Column name and DuckDB type name ("INTEGER", "DECIMAL(18,3)", "VARCHAR[]"); NULL if col is
 * out of range. Borrowed until the result is freed. */
const char *tdb_result_column_name(const tdb_result *res, size_t col);
const char *tdb_result_column_type(const tdb_result *res, size_t col);
/* The index of the first column named `name` (exact match first, as libpq's PQfnumber with a
 * quoted name; then ASCII case-insensitive), or -1. */
int tdb_result_column_index(const tdb_result *res, const char *name);

/*
 * Cell accessors. Pointers returned are borrowed until the result is freed or, for a streamed
 * result, until the next tdb_next_row(). row/col out of range: TDB_EINVAL (or NULL/true).
 */
tdb_value_kind tdb_result_value_kind(const tdb_result *res, size_t row, size_t col);
bool tdb_result_is_null(const tdb_result *res, size_t row, size_t col);
/* Integers only (TDB_ETYPE for 1.5, TDB_ERANGE beyond 64 bits). */
TDB_MUSTCHECK int tdb_result_int64(const tdb_result *res, size_t row, size_t col,
                                   int64_t *out_value);
/* Numbers, and the strings "NaN", "Infinity", "-Infinity" of FLOAT/DOUBLE columns. */
TDB_MUSTCHECK int tdb_result_double(const tdb_result *res, size_t row, size_t col,
                                    double *out_value);
TDB_MUSTCHECK int tdb_result_bool(const tdb_result *res, size_t row, size_t col, bool *out_value);
/*
 * The value as text, NUL-terminated: a string decoded, a number exactly as sent ("12.50",
 * "170141183460469231731687303715884105727"), "true"/"false", nested values as JSON text;
 * NULL for a NULL value. out_len (may be NULL) receives the length (strings may hold NULs).
 */
const char *tdb_result_text(const tdb_result *res, size_t row, size_t col, size_t *out_len);
/*
 * The value as JSON text ("null", "1", "\"a\"", "[1,2]"). Borrowed until the next call of
 * tdb_result_json on res, or as tdb_result_text. NULL when out of memory or out of range.
 */
const char *tdb_result_json(tdb_result *res, size_t row, size_t col);

/* ---- escaping ------------------------------------------------------------------------- */

/*
 * For SQL text built by hand (parameters are the better way for values): `str` as a SQL string
 * literal ('it''s' for it's), or as a quoted identifier ("a""b" for a"b), as libpq's
 * PQescapeLiteral and PQescapeIdentifier. Reads `len` bytes of str, or up to its NUL if
 * earlier. Returns a new NUL-terminated string that the caller frees with free(), or NULL when
 * out of memory or str is not valid UTF-8. Backslashes need no escaping in DuckDB's strings.
 */
char *tdb_escape_literal(const char *str, size_t len);
char *tdb_escape_identifier(const char *str, size_t len);

#ifdef __cplusplus
}
#endif
#endif
