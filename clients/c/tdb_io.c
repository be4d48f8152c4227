/*
 * tdb_io.c: the connection of libtcpduckdb (docs/protocol.md): its state, its messages, the
 * socket, connecting, TLS, and the read buffer every answer is parsed from (by tdb_answer.c).
 *
 * A connection owns a socket (non-blocking; every wait goes through poll() so the connect and
 * I/O timeouts hold) and a fixed 64 KiB read buffer, which tdb__fill() refills only when it is
 * empty. Any I/O failure kills the connection (tdb__die(): state DEAD, socket closed), because
 * after a lost or partial answer the client cannot know where the next answer starts.
 *
 * TLS (docs/protocol.md, "TLS"): after the TCP connect, unless sslmode is disable, the
 * connection sends `starttls` and reads the one answer line; on `success` it checks that the
 * server sent nothing more (plain text must not leak into the TLS session) and runs the
 * handshake. From then on send_all() and tdb__fill() go through the SSL object, whose BIO writes
 * with MSG_NOSIGNAL so that a closed peer never raises SIGPIPE. OpenSSL's buffered plaintext
 * needs no special care: tdb__fill() calls SSL_read before it ever waits in poll().
 *
 * No global state: everything hangs off the tdb_conn, so connections are independent; one
 * connection is used by one thread at a time.
 */
#include "tdb_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* ---- strings -------------------------------------------------------------------------- */

int tdb__str_reserve(Str *s, size_t more)
{
    if (s->len + more + 1 <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < s->len + more + 1) {
        if (cap > SIZE_MAX / 2)
            return TDB_ENOMEM;
        cap *= 2;
    }
    char *p = realloc(s->p, cap);
    if (!p)
        return TDB_ENOMEM;
    /* Keeps the invariant for a first allocation: an empty Str reserved is "", not garbage
     * (an empty answer line, an empty column name). */
    p[s->len] = '\0';
    s->p = p;
    s->cap = cap;
    return 0;
}

int tdb__str_grow_put(Str *s, const void *bytes, size_t len)
{
    if (tdb__str_reserve(s, len) != 0)
        return TDB_ENOMEM;
    memcpy(s->p + s->len, bytes, len);
    s->len += len;
    s->p[s->len] = '\0';
    return 0;
}

int tdb__str_puts(Str *s, const char *text)
{
    return tdb__str_put(s, text, strlen(text));
}

void tdb__str_free(Str *s)
{
    free(s->p);
    memset(s, 0, sizeof(*s));
}

/* Appends bytes as a JSON string literal. Bytes >= 0x80 pass unchanged (UTF-8). */
int tdb__str_put_json_string(Str *s, const char *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (tdb__str_reserve(s, len + 2) != 0)
        return TDB_ENOMEM;
    int rc = tdb__str_putc(s, '"');
    size_t run = 0; /* bytes before i that need no escape, not yet copied */
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char ch = (unsigned char)bytes[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            run++;
            continue;
        }
        rc = tdb__str_put(s, bytes + i - run, run);
        run = 0;
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (ch) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
        }
        if (rc == 0)
            rc = tdb__str_put(s, esc, n);
    }
    if (rc == 0)
        rc = tdb__str_put(s, bytes + len - run, run);
    if (rc == 0)
        rc = tdb__str_putc(s, '"');
    return rc;
}

/* ---- errors and connection state ------------------------------------------------------ */

const char *tdb_strstatus(int status)
{
    switch (status) {
    case TDB_OK:
        return "ok";
    case TDB_ESERVER:
        return "server error";
    case TDB_ECONN:
        return "connection error";
    case TDB_ETIMEOUT:
        return "timeout";
    case TDB_EPROTO:
        return "protocol error";
    case TDB_ENOMEM:
        return "out of memory";
    case TDB_EINVAL:
        return "invalid argument or state";
    case TDB_ETOOBIG:
        return "answer too large";
    case TDB_ENULL:
        return "value is NULL";
    case TDB_ETYPE:
        return "value has another type";
    case TDB_ERANGE:
        return "value out of range";
    case TDB_ETLS:
        return "TLS error";
    default:
        return "unknown status";
    }
}

/* The code of a local failure (tdb_error_code). */
static const char *local_code(int status)
{
    switch (status) {
    case TDB_OK:
        return "";
    case TDB_ECONN:
        return "CONNECTION";
    case TDB_ETIMEOUT:
        return "TIMEOUT";
    case TDB_ETLS:
        return "TLS";
    case TDB_EPROTO:
        return "PROTOCOL";
    case TDB_ENOMEM:
        return "OUT_OF_MEMORY";
    case TDB_ETOOBIG:
        return "ANSWER_TOO_LARGE";
    default:
        return "INVALID";
    }
}

/* Sets the connection's message; returns status, so callers can `return tdb__set_error(...)`. */
int tdb__set_error(tdb_conn *c, int status, const char *fmt, ...)
{
    c->err_status = status;
    c->err_kind[0] = '\0';
    snprintf(c->err_code, sizeof(c->err_code), "%s", local_code(status));
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    c->err.len = 0;
    if (n >= 0 && tdb__str_reserve(&c->err, (size_t)n) == 0) {
        va_start(ap, fmt);
        vsnprintf(c->err.p, (size_t)n + 1, fmt, ap);
        va_end(ap);
        c->err.len = (size_t)n;
    } else if (c->err.p) {
        c->err.p[0] = '\0';
    }
    return status;
}

/*
 * Server error kinds and their classes: the table of the Python client (clients/python,
 * _ERROR_KINDS), which DuckDB's kinds follow from DuckDB's own Python client. Any other kind
 * is TDB_ERRCLASS_DATABASE.
 */
static const struct {
    const char *kind;
    tdb_error_class cls;
} error_kinds[] = {
    {"Constraint Error", TDB_ERRCLASS_INTEGRITY},
    {"Conversion Error", TDB_ERRCLASS_DATA},
    {"Out of Range Error", TDB_ERRCLASS_DATA},
    {"Mismatch Type Error", TDB_ERRCLASS_DATA},
    {"Type Error", TDB_ERRCLASS_DATA},
    {"Parser Error", TDB_ERRCLASS_PROGRAMMING},
    {"Syntax Error", TDB_ERRCLASS_PROGRAMMING},
    {"Catalog Error", TDB_ERRCLASS_PROGRAMMING},
    {"Binder Error", TDB_ERRCLASS_PROGRAMMING},
    {"Invalid Input Error", TDB_ERRCLASS_PROGRAMMING},
    {"Invalid Type Error", TDB_ERRCLASS_PROGRAMMING},
    {"Bad Request", TDB_ERRCLASS_PROGRAMMING},
    {"Access Denied", TDB_ERRCLASS_PROGRAMMING},
    {"Dependency Error", TDB_ERRCLASS_PROGRAMMING},
    {"Permission Error", TDB_ERRCLASS_PROGRAMMING},
    {"Sequence Error", TDB_ERRCLASS_PROGRAMMING},
    {"Does Not Exist", TDB_ERRCLASS_PROGRAMMING},
    {"Already Exists", TDB_ERRCLASS_PROGRAMMING},
    {"Not implemented Error", TDB_ERRCLASS_NOT_SUPPORTED},
    {"Not Implemented Error", TDB_ERRCLASS_NOT_SUPPORTED},
    {"Unauthorized", TDB_ERRCLASS_OPERATIONAL},
    {"TLS required", TDB_ERRCLASS_OPERATIONAL},
    {"TransactionContext Error", TDB_ERRCLASS_OPERATIONAL},
    {"Transaction Error", TDB_ERRCLASS_OPERATIONAL},
    {"Transaction Aborted", TDB_ERRCLASS_OPERATIONAL},
    {"Request Too Large", TDB_ERRCLASS_OPERATIONAL},
    {"Too Many Connections", TDB_ERRCLASS_OPERATIONAL},
    {"Idle Timeout", TDB_ERRCLASS_OPERATIONAL},
    {"Server Shutting Down", TDB_ERRCLASS_OPERATIONAL},
    {"Server Busy", TDB_ERRCLASS_OPERATIONAL},
    {"Canceled", TDB_ERRCLASS_OPERATIONAL},
    {"Statement Timeout", TDB_ERRCLASS_OPERATIONAL},
    {"Out of Memory Error", TDB_ERRCLASS_OPERATIONAL},
    {"IO Error", TDB_ERRCLASS_OPERATIONAL},
    {"Interrupt Error", TDB_ERRCLASS_OPERATIONAL},
    {"Connection Error", TDB_ERRCLASS_OPERATIONAL},
    {"HTTP Error", TDB_ERRCLASS_OPERATIONAL},
    {"Serialization Error", TDB_ERRCLASS_OPERATIONAL},
    {"Internal Error", TDB_ERRCLASS_INTERNAL},
    {"INTERNAL Error", TDB_ERRCLASS_INTERNAL},
    {"Fatal Error", TDB_ERRCLASS_INTERNAL},
};

/* `Database|User|Tables ... Does Not Exist|Already Exists` (one line): its kind, or NULL. */
static const char *exists_kind(const char *first, size_t len)
{
    static const char *const subjects[] = {"Database ", "User ", "Tables "};
    static const char *const kinds[] = {"Does Not Exist", "Already Exists"};
    bool subject = false;
    for (size_t i = 0; i < 3; i++)
        subject |= strncmp(first, subjects[i], strlen(subjects[i])) == 0;
    for (size_t i = 0; subject && i < 2; i++) {
        size_t k = strlen(kinds[i]);
        if (len > k + 1 && memcmp(first + len - k, kinds[i], k) == 0 && first[len - k - 1] == ' ')
            return kinds[i];
    }
    return NULL;
}

/* Whether a server error of this kind aborts an open transaction: DuckDB's errors do
 * (its kinds end in " Error"), and so do a cancel and a statement timeout. */
static bool aborts_transaction(const char *kind)
{
    size_t n = strlen(kind);
    return (n > 6 && strcmp(kind + n - 6, " Error") == 0) || strcmp(kind, "Canceled") == 0 ||
           strcmp(kind, "Statement Timeout") == 0;
}

int tdb__server_error(tdb_conn *c, const char *text)
{
    tdb__set_error(c, TDB_ESERVER, "%s", text);
    /* Restore the line breaks the server escaped; the message only gets shorter. */
    char *w = c->err.p;
    for (const char *r = c->err.p; r && *r; r++) {
        if (r[0] == '\\' && (r[1] == 'n' || r[1] == 'r')) {
            *w++ = r[1] == 'n' ? '\n' : '\r';
            r++;
        } else {
            *w++ = *r;
        }
    }
    if (w) {
        *w = '\0';
        c->err.len = (size_t)(w - c->err.p);
    }
    const char *msg = c->err.p ? c->err.p : "";
    size_t first = strcspn(msg, "\n");
    const char *colon = strchr(msg, ':');
    size_t kind_len = colon ? (size_t)(colon - msg) : first;
    const char *exists = exists_kind(msg, first);
    if (exists)
        snprintf(c->err_kind, sizeof(c->err_kind), "%s", exists);
    else
        snprintf(c->err_kind, sizeof(c->err_kind), "%.*s", (int)kind_len, msg);
    /* The code: the kind upper-cased, runs of other characters as one '_', none at the ends. */
    size_t n = 0;
    bool gap = false;
    for (const char *k = c->err_kind; *k && n + 2 < sizeof(c->err_code); k++) {
        char ch = *k;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        bool word = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!word) {
            gap = n > 0;
            continue;
        }
        if (gap)
            c->err_code[n++] = '_';
        gap = false;
        c->err_code[n++] = ch;
    }
    c->err_code[n] = '\0';
    if (c->tx == TDB_TRANS_INTRANS && aborts_transaction(c->err_kind))
        c->tx = TDB_TRANS_INERROR;
    return TDB_ESERVER;
}

tdb_error_class tdb_error_class_of(const tdb_conn *c)
{
    if (!c)
        return TDB_ERRCLASS_INTERFACE;
    switch (c->err_status) {
    case TDB_OK:
        return TDB_ERRCLASS_NONE;
    case TDB_ESERVER:
        for (size_t i = 0; i < sizeof(error_kinds) / sizeof(error_kinds[0]); i++)
            if (strcmp(c->err_kind, error_kinds[i].kind) == 0)
                return error_kinds[i].cls;
        return TDB_ERRCLASS_DATABASE;
    case TDB_ECONN:
    case TDB_ETIMEOUT:
    case TDB_ETLS:
    case TDB_ENOMEM:
    case TDB_ETOOBIG:
        return TDB_ERRCLASS_OPERATIONAL;
    default:
        return TDB_ERRCLASS_INTERFACE;
    }
}

const char *tdb_error_class_name(tdb_error_class cls)
{
    static const char *const names[] = {"",
                                        "InterfaceError",
                                        "DatabaseError",
                                        "DataError",
                                        "OperationalError",
                                        "IntegrityError",
                                        "InternalError",
                                        "ProgrammingError",
                                        "NotSupportedError"};
    return (unsigned)cls < sizeof(names) / sizeof(names[0]) ? names[cls] : "";
}

const char *tdb_error_kind(const tdb_conn *c)
{
    return c ? c->err_kind : "";
}

const char *tdb_error_code(const tdb_conn *c)
{
    return c ? c->err_code : "";
}

tdb_transaction_status tdb_transaction_status_of(const tdb_conn *c)
{
    if (!tdb_is_connected(c))
        return TDB_TRANS_UNKNOWN;
    return c->tx;
}

/* Frees the TLS state; sends close_notify first (one attempt, no wait) if `notify`. */
static void tls_free(tdb_conn *c, bool notify)
{
    if (c->ssl && notify && SSL_is_init_finished(c->ssl))
        (void)SSL_shutdown(c->ssl);
    SSL_free(c->ssl); /* frees the BIO too */
    SSL_CTX_free(c->ssl_ctx);
    BIO_meth_free(c->bio_method);
    c->ssl = NULL;
    c->ssl_ctx = NULL;
    c->bio_method = NULL;
    ERR_clear_error();
}

/* Closes the socket for good: the connection can no longer be trusted to be in sync. */
int tdb__die(tdb_conn *c, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tls_free(c, false);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = CONN_DEAD;
    return tdb__set_error(c, status, "%s", msg);
}

tdb_conn *tdb_conn_new(void)
{
    tdb_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = -1;
    c->state = CONN_NEW;
    c->max_answer = TDB__DEFAULT_MAX_ANSWER;
    return c;
}

void tdb_set_timeout(tdb_conn *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

void tdb_set_max_answer(tdb_conn *c, size_t bytes)
{
    c->max_answer = bytes ? bytes : TDB__DEFAULT_MAX_ANSWER;
}

const char *tdb_error(const tdb_conn *c)
{
    return c && c->err.p ? c->err.p : "";
}

bool tdb_is_connected(const tdb_conn *c)
{
    return c && (c->state == CONN_READY || c->state == CONN_SENT || c->state == CONN_STREAMING);
}

void tdb_close(tdb_conn *c)
{
    if (!c)
        return;
    tls_free(c, c->state == CONN_READY);
    if (c->fd >= 0)
        close(c->fd);
    free(c->sslrootcert);
    free(c->sslcert);
    free(c->sslkey);
    free(c->host);
    free(c->user);
    if (c->password)
        OPENSSL_cleanse(c->password, strlen(c->password));
    free(c->password);
    free(c->dbname);
    tdb__str_free(&c->err);
    tdb__str_free(&c->req);
    tdb__str_free(&c->out);
    tdb__str_free(&c->pin);
    free(c);
}

void tdb__disconnect(tdb_conn *c)
{
    tls_free(c, c->state == CONN_READY);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = CONN_NEW;
    c->tx = TDB_TRANS_IDLE;
    c->rpos = c->rlen = 0;
    c->pin_pos = c->pin.len = 0;
    c->out_pos = c->out.len = 0;
    c->busy_scan = 0;
    c->cancel_id = 0;
    c->cancel_asked = false;
    c->cancel_key[0] = '\0';
}

/* A state in which a new request may be sent; else TDB_EINVAL/TDB_ECONN with a message. */
int tdb__check_ready(tdb_conn *c)
{
    switch (c->state) {
    case CONN_READY:
        return 0;
    case CONN_STREAMING:
        return tdb__set_error(c, TDB_EINVAL, "a streamed result is still open (tdb_query_end)");
    case CONN_SENT:
        return tdb__set_error(c, TDB_EINVAL,
                              "the answer of a sent query is unread (tdb_get_result)");
    case CONN_NEW:
        return tdb__set_error(c, TDB_ECONN, "not connected");
    case CONN_DEAD:
    default:
        return tdb__set_error(c, TDB_ECONN, "the connection is closed");
    }
}

/* ---- socket I/O ----------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events; 0, or TDB_ETIMEOUT/TDB_ECONN (connection killed). */
static int wait_fd(tdb_conn *c, short events)
{
    struct pollfd pfd = {.fd = c->fd, .events = events};
    int64_t deadline = c->timeout_ms ? now_ms() + c->timeout_ms : 0;
    if (c->deadline_ms && (!deadline || c->deadline_ms < deadline))
        deadline = c->deadline_ms;
    for (;;) {
        int wait = -1;
        if (deadline) {
            int64_t left = deadline - now_ms();
            wait = left > 0 ? (int)left : 0;
        }
        int n = poll(&pfd, 1, wait);
        if (n > 0)
            return 0;
        if (n == 0 && deadline == c->deadline_ms)
            return tdb__die(c, TDB_ETIMEOUT, "connect timed out (TLS negotiation)");
        if (n == 0)
            return tdb__die(c, TDB_ETIMEOUT, "no answer from the server within %d ms",
                            c->timeout_ms);
        if (errno != EINTR)
            return tdb__die(c, TDB_ECONN, "poll: %s", strerror(errno));
    }
}

/* The first OpenSSL error of this thread as text (or `fallback`); empties the queue. */
static const char *ssl_reason(char *buf, size_t len, const char *fallback)
{
    unsigned long e = ERR_peek_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (r)
        snprintf(buf, len, "%s", r);
    else if (e)
        ERR_error_string_n(e, buf, len);
    else
        snprintf(buf, len, "%s", fallback);
    ERR_clear_error();
    return buf;
}

/* After an SSL call failed with SSL_get_error() `e`: waits if OpenSSL asks to (0), or kills
 * the connection with a message built from `what` (a status). */
static int tls_io_failed(tdb_conn *c, int e, const char *what)
{
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
        ERR_clear_error();
        return tdb__die(c, TDB_ECONN, "the server closed the connection");
    }
    char why[256];
    return tdb__die(c, TDB_ECONN, "%s: %s", what, ssl_reason(why, sizeof(why), "TLS error"));
}

static int send_all(tdb_conn *c, const char *data, size_t len)
{
    while (len > 0 && c->ssl) {
        size_t n = 0;
        ERR_clear_error();
        if (SSL_write_ex(c->ssl, data, len, &n) == 1) {
            data += n;
            len -= n;
            continue;
        }
        int rc = tls_io_failed(c, SSL_get_error(c->ssl, 0), "cannot send to the server");
        if (rc != 0)
            return rc;
    }
    while (len > 0) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(c, POLLOUT);
            if (rc != 0)
                return rc;
        } else {
            return tdb__die(c, TDB_ECONN, "cannot send to the server: %s",
                            n < 0 ? strerror(errno) : "nothing sent");
        }
    }
    return 0;
}

/* Sends one request: a plain line, or `@N` and the payload when text holds a newline. */
int tdb__send_request(tdb_conn *c, const char *text, size_t len)
{
    int rc = 0;
    if (memchr(text, '\n', len)) {
        char head[32];
        int n = snprintf(head, sizeof(head), "@%zu\n", len);
        rc = send_all(c, head, (size_t)n);
        if (rc == 0)
            rc = send_all(c, text, len);
    } else {
        /* One send for the common case: copy into the request buffer with its newline. */
        if (text != c->req.p) {
            c->req.len = 0;
            if (tdb__str_put(&c->req, text, len) != 0)
                return tdb__set_error(c, TDB_ENOMEM, "out of memory");
        }
        if (tdb__str_putc(&c->req, '\n') != 0)
            return tdb__set_error(c, TDB_ENOMEM, "out of memory");
        rc = send_all(c, c->req.p, c->req.len);
    }
    return rc;
}

/* Refills the read buffer (which must be empty); 0 or a status (connection killed). */
int tdb__fill(tdb_conn *c)
{
    c->rpos = c->rlen = 0;
    size_t held = tdb__pin_avail(c);
    if (held > 0) { /* what tdb_consume_input() read comes first */
        size_t n = held < sizeof(c->rbuf) ? held : sizeof(c->rbuf);
        memcpy(c->rbuf, c->pin.p + c->pin_pos, n);
        c->pin_pos += n;
        c->rlen = n;
        if (c->pin_pos == c->pin.len)
            c->pin_pos = c->pin.len = 0;
        return 0;
    }
    while (c->ssl) {
        size_t n = 0;
        ERR_clear_error();
        if (SSL_read_ex(c->ssl, c->rbuf, sizeof(c->rbuf), &n) == 1) {
            c->rlen = n;
            return 0;
        }
        int rc = tls_io_failed(c, SSL_get_error(c->ssl, 0), "cannot read from the server");
        if (rc != 0)
            return rc;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
        if (n > 0) {
            c->rlen = (size_t)n;
            return 0;
        }
        if (n == 0)
            return tdb__die(c, TDB_ECONN, "the server closed the connection");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(c, POLLIN);
            if (rc != 0)
                return rc;
            continue;
        }
        return tdb__die(c, TDB_ECONN, "cannot read from the server: %s", strerror(errno));
    }
}

/* The contract is in tdb_internal.h. */
int tdb__scan_line(tdb_conn *c, const unsigned char **out_start, size_t *out_n, bool *out_ended,
                   char tail[2])
{
    if (c->rpos == c->rlen) {
        int rc = tdb__fill(c);
        if (rc != 0)
            return rc;
    }
    const unsigned char *start = c->rbuf + c->rpos;
    size_t avail = c->rlen - c->rpos;
    const unsigned char *nl = memchr(start, '\n', avail);
    size_t n = nl ? (size_t)(nl - start) : avail;
    if (n >= 2) {
        tail[0] = (char)start[n - 2];
        tail[1] = (char)start[n - 1];
    } else if (n == 1) {
        tail[0] = tail[1];
        tail[1] = (char)start[0];
    }
    c->rpos += n + (nl ? 1 : 0);
    *out_start = start;
    *out_n = n;
    *out_ended = nl != NULL;
    return 0;
}

/* The contract is in tdb_internal.h: at most max bytes kept, the rest of the line dropped. */
int tdb__read_line(tdb_conn *c, Str *out, size_t max, bool *out_over, char tail[2])
{
    size_t total = 0;
    bool ended = false;
    if (out_over)
        *out_over = false;
    while (!ended) {
        const unsigned char *start;
        size_t n;
        int rc = tdb__scan_line(c, &start, &n, &ended, tail);
        if (rc != 0)
            return rc;
        if (out) {
            size_t keep = total < max ? max - total : 0;
            if (keep > n)
                keep = n;
            if (keep < n && out_over)
                *out_over = true;
            if (keep && tdb__str_put(out, start, keep) != 0)
                return tdb__set_error(c, TDB_ENOMEM, "out of memory");
        }
        total += n;
    }
    if (out && tdb__str_reserve(out, 0) != 0) /* an empty line is "" rather than NULL */
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    return 0;
}

/* Reads the `Error: ...` line that follows a row line cut short; returns its status. */
int tdb__read_error_line(tdb_conn *c)
{
    Str line = {0};
    char tail[2] = {0, 0};
    bool over = false;
    int rc = tdb__read_line(c, &line, 65536, &over, tail);
    if (rc == 0) {
        if (strncmp(line.p, "Error: ", 7) == 0)
            rc = tdb__server_error(c, line.p + 7);
        else
            rc = tdb__die(c, TDB_EPROTO, "a result line ended early without an error line");
    }
    tdb__str_free(&line);
    return rc;
}

/* ---- connecting ----------------------------------------------------------------------- */

/* One non-blocking connect to ai within the deadline; a connected socket or -1 (errno). */
static int connect_one(const struct addrinfo *ai, int64_t deadline, bool *out_timed_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS)
        goto fail;
    for (;;) {
        int wait = -1;
        if (deadline) {
            int64_t left = deadline - now_ms();
            wait = left > 0 ? (int)left : 0;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int n = poll(&pfd, 1, wait);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            *out_timed_out = true;
            errno = ETIMEDOUT;
            goto fail;
        }
        if (n < 0)
            goto fail;
        break;
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        goto fail;
    if (soerr == 0)
        return fd;
    errno = soerr;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* ---- TLS ------------------------------------------------------------------------------ */

static const char *const sslmode_names[] = {
    [TDB_SSL_PREFER] = "prefer",           [TDB_SSL_DISABLE] = "disable",
    [TDB_SSL_REQUIRE] = "require",         [TDB_SSL_VERIFY_CA] = "verify-ca",
    [TDB_SSL_VERIFY_FULL] = "verify-full",
};

int tdb_sslmode_parse(const char *name, tdb_sslmode *out_mode)
{
    for (int m = TDB_SSL_PREFER; m <= TDB_SSL_VERIFY_FULL; m++) {
        if (name && strcmp(name, sslmode_names[m]) == 0) {
            *out_mode = (tdb_sslmode)m;
            return TDB_OK;
        }
    }
    return TDB_EINVAL;
}

const char *tdb_sslmode_name(tdb_sslmode mode)
{
    return mode >= TDB_SSL_PREFER && mode <= TDB_SSL_VERIFY_FULL ? sslmode_names[mode] : "?";
}

static int copy_opt(char **dst, const char *src)
{
    free(*dst);
    *dst = NULL;
    if (src && !(*dst = strdup(src)))
        return -1;
    return 0;
}

int tdb_set_tls(tdb_conn *c, const tdb_tls_options *o)
{
    if (c->state != CONN_NEW)
        return tdb__set_error(c, TDB_EINVAL, "TLS options must be set before tdb_connect");
    if (!o || o->sslmode < TDB_SSL_PREFER || o->sslmode > TDB_SSL_VERIFY_FULL)
        return tdb__set_error(c, TDB_EINVAL, "bad TLS options");
    if (copy_opt(&c->sslrootcert, o->sslrootcert) || copy_opt(&c->sslcert, o->sslcert) ||
        copy_opt(&c->sslkey, o->sslkey))
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    c->sslmode = o->sslmode;
    return TDB_OK;
}

const char *tdb_tls_version(const tdb_conn *c)
{
    return c && c->ssl && c->state != CONN_DEAD ? SSL_get_version(c->ssl) : NULL;
}

const char *tdb_tls_cipher(const tdb_conn *c)
{
    return c && c->ssl && c->state != CONN_DEAD ? SSL_get_cipher_name(c->ssl) : NULL;
}

/* The socket BIO of OpenSSL writes with write(2), which raises SIGPIPE on a closed peer;
 * this one sends with MSG_NOSIGNAL (the library promises never to raise SIGPIPE). */
static int bio_write(BIO *b, const char *data, int len)
{
    tdb_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = send(c->fd, data, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)n;
}

static int bio_read(BIO *b, char *data, int len)
{
    tdb_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n = recv(c->fd, data, (size_t)len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

/* A file the caller named must be readable, so its error says so rather than "PEM lib". */
static int check_file(tdb_conn *c, const char *option, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return tdb__die(c, TDB_ETLS, "cannot read %s %s: %s", option, path, strerror(errno));
    fclose(f);
    return 0;
}

/* Builds the SSL_CTX and SSL object for c->sslmode (files are loaded here). */
static int tls_setup(tdb_conn *c, const char *host)
{
    char why[256];
    ERR_clear_error();
    c->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ssl_ctx)
        return tdb__die(c, TDB_ETLS, "cannot create a TLS context: %s",
                        ssl_reason(why, sizeof(why), "out of memory"));
    SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    bool verify = c->sslmode == TDB_SSL_VERIFY_CA || c->sslmode == TDB_SSL_VERIFY_FULL;
    if (verify) {
        if (c->sslrootcert) {
            if (check_file(c, "sslrootcert", c->sslrootcert) != 0)
                return TDB_ETLS;
            if (SSL_CTX_load_verify_locations(c->ssl_ctx, c->sslrootcert, NULL) != 1)
                return tdb__die(c, TDB_ETLS, "sslrootcert %s holds no usable PEM certificate (%s)",
                                c->sslrootcert, ssl_reason(why, sizeof(why), "unknown error"));
        } else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
            return tdb__die(c, TDB_ETLS, "cannot load the system's CA certificates (%s)",
                            ssl_reason(why, sizeof(why), "unknown error"));
        }
        SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
    }
    if (c->sslcert) {
        const char *key = c->sslkey ? c->sslkey : c->sslcert;
        if (check_file(c, "sslcert", c->sslcert) != 0 || check_file(c, "sslkey", key) != 0)
            return TDB_ETLS;
        if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, c->sslcert) != 1)
            return tdb__die(c, TDB_ETLS, "sslcert %s is not a usable PEM certificate (%s)",
                            c->sslcert, ssl_reason(why, sizeof(why), "unknown error"));
        if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(c->ssl_ctx) != 1)
            return tdb__die(c, TDB_ETLS, "sslkey %s is not the PEM key of sslcert %s (%s)", key,
                            c->sslcert, ssl_reason(why, sizeof(why), "unknown error"));
    }
    c->bio_method = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "tcpduckdb socket");
    c->ssl = SSL_new(c->ssl_ctx);
    BIO *bio = c->bio_method ? BIO_new(c->bio_method) : NULL;
    if (!c->bio_method || !c->ssl || !bio || !BIO_meth_set_write(c->bio_method, bio_write) ||
        !BIO_meth_set_read(c->bio_method, bio_read) ||
        !BIO_meth_set_ctrl(c->bio_method, bio_ctrl)) {
        BIO_free(bio);
        return tdb__die(c, TDB_ENOMEM, "out of memory");
    }
    BIO_set_data(bio, c);
    BIO_set_init(bio, 1);
    SSL_set_bio(c->ssl, bio, bio); /* the SSL object owns the BIO now */
    SSL_set_connect_state(c->ssl);

    unsigned char addr[sizeof(struct in6_addr)];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    if (!is_ip && SSL_set_tlsext_host_name(c->ssl, host) != 1) /* SNI: names only (RFC 6066) */
        return tdb__die(c, TDB_ETLS, "bad host name for TLS: %s", host);
    if (c->sslmode == TDB_SSL_VERIFY_FULL) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host)
                       : X509_VERIFY_PARAM_set1_host(vp, host, 0);
        if (ok != 1)
            return tdb__die(c, TDB_ETLS, "cannot check the certificate against host %s", host);
    }
    return 0;
}

/* Runs the client side of the handshake; 0, or TDB_ETLS/TDB_ETIMEOUT with the reason. */
static int tls_handshake(tdb_conn *c)
{
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_connect(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int rc = wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
            if (rc != 0)
                return rc;
            continue;
        }
        long v = SSL_get_verify_result(c->ssl);
        if (v != X509_V_OK && c->sslmode >= TDB_SSL_VERIFY_CA) {
            ERR_clear_error();
            return tdb__die(c, TDB_ETLS, "server certificate verification failed: %s",
                            X509_verify_cert_error_string(v));
        }
        char why[256];
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            snprintf(why, sizeof(why), "%s",
                     errno ? strerror(errno) : "the server closed the connection");
        else
            ssl_reason(why, sizeof(why), "protocol error");
        return tdb__die(c, TDB_ETLS, "TLS handshake failed: %s", why);
    }
}

/*
 * Asks for TLS with `starttls` (docs/protocol.md, "TLS") and runs the handshake. With prefer,
 * an error answer leaves the connection in plain text; other modes fail with TDB_ETLS.
 */
static int negotiate_tls(tdb_conn *c, const char *host)
{
    static const char request[] = "starttls\n";
    int rc = send_all(c, request, sizeof(request) - 1);
    if (rc != 0)
        return rc;
    Str line = {0};
    char tail[2] = {0, 0};
    bool over = false;
    rc = tdb__read_line(c, &line, 4096, &over, tail);
    if (rc != 0)
        goto out;
    if (strcmp(line.p, "success") == 0) {
        /* The server must not have said more: those bytes would be plain text taken for
         * part of the TLS session. */
        if (c->rpos != c->rlen) {
            rc = tdb__die(c, TDB_ETLS, "the server sent data after accepting starttls");
            goto out;
        }
        rc = tls_setup(c, host);
        if (rc == 0)
            rc = tls_handshake(c);
    } else if (strncmp(line.p, "Error: ", 7) == 0) {
        if (c->sslmode != TDB_SSL_PREFER)
            rc = tdb__die(c, TDB_ETLS, "the server does not offer TLS (sslmode=%s): %s",
                          tdb_sslmode_name(c->sslmode), line.p + 7);
    } else {
        rc = tdb__die(c, TDB_EPROTO, "unexpected answer to starttls: %.100s", line.p);
    }
out:
    tdb__str_free(&line);
    return rc;
}

int tdb_connect(tdb_conn *c, const char *host, int port, int timeout_ms)
{
    if (c->state != CONN_NEW)
        return tdb__set_error(c, TDB_EINVAL, "the handle is already connected (or was)");
    if (!host || port <= 0 || port > 65535)
        return tdb__set_error(c, TDB_EINVAL, "bad host or port");
    free(c->host);
    c->host = strdup(host);
    if (!c->host)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    c->port = port;
    c->connect_timeout_ms = timeout_ms;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    int gai = getaddrinfo(host, service, &hints, &list);
    if (gai != 0)
        return tdb__set_error(c, TDB_ECONN, "cannot resolve %s: %s", host, gai_strerror(gai));
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    bool timed_out = false;
    int fd = -1, last_errno = 0;
    for (struct addrinfo *ai = list; ai && fd < 0 && !timed_out; ai = ai->ai_next) {
        fd = connect_one(ai, deadline, &timed_out);
        if (fd < 0)
            last_errno = errno;
    }
    freeaddrinfo(list);
    if (fd < 0) {
        return tdb__set_error(c, timed_out ? TDB_ETIMEOUT : TDB_ECONN,
                              "cannot connect to %s:%d: %s", host, port,
                              timed_out ? "timed out" : strerror(last_errno));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->state = CONN_READY;
    if (c->sslmode != TDB_SSL_DISABLE) {
        c->deadline_ms = deadline;
        int rc = negotiate_tls(c, host);
        c->deadline_ms = 0;
        if (rc != 0)
            return rc;
    }
    tdb__set_error(c, TDB_OK, "%s", "");
    return TDB_OK;
}

int tdb_socket(const tdb_conn *c)
{
    return c && c->state != CONN_NEW && c->state != CONN_DEAD ? c->fd : -1;
}

bool tdb_input_buffered(const tdb_conn *c)
{
    return c && (c->rpos < c->rlen || tdb__pin_avail(c) > 0 || (c->ssl && SSL_pending(c->ssl) > 0));
}

/* ---- the non-blocking API ------------------------------------------------------------- */

size_t tdb__pin_avail(const tdb_conn *c)
{
    return c->pin.len - c->pin_pos;
}

int tdb_set_nonblocking(tdb_conn *c, bool on)
{
    if (!on && c->out.len > c->out_pos)
        return tdb__set_error(c, TDB_EINVAL, "queued request bytes are not sent yet (tdb_flush)");
    c->nonblocking = on;
    return TDB_OK;
}

bool tdb_is_nonblocking(const tdb_conn *c)
{
    return c && c->nonblocking;
}

int tdb_flush(tdb_conn *c)
{
    if (c->state == CONN_NEW || c->state == CONN_DEAD)
        return tdb__check_ready(c);
    while (c->out_pos < c->out.len) {
        const char *data = c->out.p + c->out_pos;
        size_t len = c->out.len - c->out_pos;
        if (c->ssl) {
            size_t n = 0;
            ERR_clear_error();
            if (SSL_write_ex(c->ssl, data, len, &n) == 1) {
                c->out_pos += n;
                continue;
            }
            int e = SSL_get_error(c->ssl, 0);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
                return 1;
            return tls_io_failed(c, e, "cannot send to the server");
        }
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->out_pos += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 1;
        } else {
            return tdb__die(c, TDB_ECONN, "cannot send to the server: %s",
                            n < 0 ? strerror(errno) : "nothing sent");
        }
    }
    c->out_pos = c->out.len = 0;
    return 0;
}

/* Queues one request's bytes (nonblocking mode) and sends what the socket takes. */
int tdb__queue_request(tdb_conn *c, const char *text, size_t len)
{
    char head[32];
    bool prefixed = memchr(text, '\n', len) != NULL;
    int n = prefixed ? snprintf(head, sizeof(head), "@%zu\n", len) : 0;
    if (tdb__str_reserve(&c->out, (size_t)n + len + 1) != 0)
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    if (tdb__str_put(&c->out, head, (size_t)n) != 0 || tdb__str_put(&c->out, text, len) != 0 ||
        (!prefixed && tdb__str_putc(&c->out, '\n') != 0))
        return tdb__set_error(c, TDB_ENOMEM, "out of memory");
    int rc = tdb_flush(c);
    return rc < 0 ? rc : 0;
}

int tdb__send_queued(tdb_conn *c)
{
    if (c->out_pos >= c->out.len)
        return 0;
    int rc = send_all(c, c->out.p + c->out_pos, c->out.len - c->out_pos);
    c->out_pos = c->out.len = 0;
    return rc;
}

int tdb_consume_input(tdb_conn *c)
{
    if (c->state == CONN_NEW || c->state == CONN_DEAD)
        return tdb__check_ready(c);
    int rc = tdb_flush(c);
    if (rc < 0)
        return rc;
    /* Past the answer limit and a read buffer more, tdb_get_result reads the rest itself. */
    while (tdb__pin_avail(c) <= c->max_answer + TDB__READ_BUF_SIZE) {
        if (c->pin_pos > 0 && c->pin_pos == c->pin.len)
            c->pin_pos = c->pin.len = 0;
        if (tdb__str_reserve(&c->pin, TDB__READ_BUF_SIZE) != 0)
            return tdb__set_error(c, TDB_ENOMEM, "out of memory");
        char *into = c->pin.p + c->pin.len;
        size_t got = 0;
        if (c->ssl) {
            ERR_clear_error();
            if (SSL_read_ex(c->ssl, into, TDB__READ_BUF_SIZE, &got) != 1) {
                int e = SSL_get_error(c->ssl, 0);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    break;
                return tls_io_failed(c, e, "cannot read from the server");
            }
        } else {
            ssize_t n = recv(c->fd, into, TDB__READ_BUF_SIZE, MSG_DONTWAIT);
            if (n == 0)
                return tdb__die(c, TDB_ECONN, "the server closed the connection");
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (n < 0)
                return tdb__die(c, TDB_ECONN, "cannot read from the server: %s", strerror(errno));
            got = (size_t)n;
        }
        c->pin.len += got;
        c->pin.p[c->pin.len] = '\0';
    }
    return TDB_OK;
}

/* The i-th unread byte: the read buffer's, then what tdb_consume_input holds. */
static unsigned char unread_at(const tdb_conn *c, size_t i)
{
    size_t in_rbuf = c->rlen - c->rpos;
    return i < in_rbuf ? c->rbuf[c->rpos + i] : (unsigned char)c->pin.p[c->pin_pos + i - in_rbuf];
}

/* The offset of the first '\n' in the unread bytes at or after `from`, or -1. */
static ptrdiff_t unread_newline(const tdb_conn *c, size_t from)
{
    size_t in_rbuf = c->rlen - c->rpos;
    if (from < in_rbuf) {
        const unsigned char *nl = memchr(c->rbuf + c->rpos + from, '\n', in_rbuf - from);
        if (nl)
            return nl - (c->rbuf + c->rpos);
        from = in_rbuf;
    }
    size_t held = tdb__pin_avail(c);
    if (from - in_rbuf >= held)
        return -1;
    const char *start = c->pin.p + c->pin_pos;
    const char *nl = memchr(start + (from - in_rbuf), '\n', held - (from - in_rbuf));
    return nl ? (ptrdiff_t)(in_rbuf + (size_t)(nl - start)) : -1;
}

bool tdb_is_busy(tdb_conn *c)
{
    if (!c || c->state != CONN_SENT)
        return false;
    if (c->out_pos < c->out.len)
        return true;
    size_t total = (c->rlen - c->rpos) + tdb__pin_avail(c);
    if (tdb__pin_avail(c) > c->max_answer + TDB__READ_BUF_SIZE)
        return false; /* too large to hold: tdb_get_result reads and drops the rest */
    ptrdiff_t nl = unread_newline(c, c->busy_scan < total ? c->busy_scan : 0);
    if (nl < 0) {
        c->busy_scan = total;
        return true;
    }
    /* One line, unless it is a result line cut short by an error: then the error line too. */
    size_t len = (size_t)nl;
    bool rows = len >= 10 && unread_at(c, 0) == '{' && unread_at(c, 1) == '"' &&
                unread_at(c, 2) == 'c' && unread_at(c, 3) == 'o';
    bool cut = rows && !(unread_at(c, len - 2) == ']' && unread_at(c, len - 1) == '}');
    if (!cut)
        return false;
    return unread_newline(c, (size_t)nl + 1) < 0;
}
