/*
 * libtcpduckdb: the client side of docs/protocol.md.
 *
 * A connection owns a socket (non-blocking; every wait goes through poll() so
 * the connect and I/O timeouts hold) and a fixed 64 KiB read buffer. Answers
 * are parsed straight from that buffer by a small pull parser: a command
 * answer is read as one line, a typed query answer
 * `{"columns":[...],"rows":[[...],...]}` is read token by token, one row per
 * tdb_next_row(), so the library never holds a whole result line unless the
 * caller asks for the whole result (tdb_query).
 *
 * Connection states: NEW (not connected), READY (the next thing the server
 * sends is the answer to our next request), STREAMING (a typed answer is
 * being read by a tdb_result) and DEAD (socket closed: lost, timed out, or
 * out of sync after an answer that broke the protocol). Every transition
 * happens in this file; a DEAD connection stays dead.
 *
 * TLS (docs/protocol.md, "TLS"): after the TCP connect, unless sslmode is disable, the
 * connection sends `starttls` and reads the one answer line; on `success` it checks that the
 * server sent nothing more (plain text must not leak into the TLS session) and runs the
 * handshake. From then on send_all() and fill() go through the SSL object, whose BIO writes
 * with MSG_NOSIGNAL so that a closed peer never raises SIGPIPE. OpenSSL's buffered plaintext
 * needs no special care: fill() calls SSL_read before it ever waits in poll().
 *
 * No global state: everything hangs off the tdb_conn, so connections are
 * independent; one connection is used by one thread at a time.
 */
#include "tcpduckdb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
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

#define READ_BUF_SIZE 65536
#define DEFAULT_MAX_ANSWER ((size_t)256 << 20)
/* parse_* return a status, or CUT when a row line ended early (an error line follows). */
#define CUT 1

/* A growable byte string, always NUL-terminated when p != NULL. */
typedef struct {
    char *p;
    size_t len;
    size_t cap;
} Str;

/* CONN_SENT: tdb_send_query() sent a query whose answer tdb_get_result() has not read. */
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
    Str err;
    Str req;
    size_t rpos;
    size_t rlen;
    unsigned char rbuf[READ_BUF_SIZE];
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

/* ---- strings -------------------------------------------------------------------------- */

static int str_reserve(Str *s, size_t more)
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
    s->p = p;
    s->cap = cap;
    return 0;
}

static int str_put(Str *s, const void *bytes, size_t len)
{
    if (str_reserve(s, len) != 0)
        return TDB_ENOMEM;
    memcpy(s->p + s->len, bytes, len);
    s->len += len;
    s->p[s->len] = '\0';
    return 0;
}

static int str_putc(Str *s, char ch)
{
    return str_put(s, &ch, 1);
}

static int str_puts(Str *s, const char *text)
{
    return str_put(s, text, strlen(text));
}

static void str_free(Str *s)
{
    free(s->p);
    memset(s, 0, sizeof(*s));
}

/* Appends bytes as a JSON string literal. Bytes >= 0x80 pass unchanged (UTF-8). */
static int str_put_json_string(Str *s, const char *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (str_reserve(s, len + 2) != 0)
        return TDB_ENOMEM;
    int rc = str_putc(s, '"');
    size_t run = 0; /* bytes before i that need no escape, not yet copied */
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char ch = (unsigned char)bytes[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            run++;
            continue;
        }
        rc = str_put(s, bytes + i - run, run);
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
            rc = str_put(s, esc, n);
    }
    if (rc == 0)
        rc = str_put(s, bytes + len - run, run);
    if (rc == 0)
        rc = str_putc(s, '"');
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

/* Sets the connection's message; returns status, so callers can `return set_error(...)`. */
__attribute__((format(printf, 3, 4))) static int set_error(tdb_conn *c, int status, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    c->err.len = 0;
    if (n >= 0 && str_reserve(&c->err, (size_t)n) == 0) {
        va_start(ap, fmt);
        vsnprintf(c->err.p, (size_t)n + 1, fmt, ap);
        va_end(ap);
        c->err.len = (size_t)n;
    } else if (c->err.p) {
        c->err.p[0] = '\0';
    }
    return status;
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
__attribute__((format(printf, 3, 4))) static int die(tdb_conn *c, int status, const char *fmt, ...)
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
    return set_error(c, status, "%s", msg);
}

tdb_conn *tdb_conn_new(void)
{
    tdb_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = -1;
    c->state = CONN_NEW;
    c->max_answer = DEFAULT_MAX_ANSWER;
    return c;
}

void tdb_set_timeout(tdb_conn *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

void tdb_set_max_answer(tdb_conn *c, size_t bytes)
{
    c->max_answer = bytes ? bytes : DEFAULT_MAX_ANSWER;
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
    str_free(&c->err);
    str_free(&c->req);
    free(c);
}

/* A state in which a new request may be sent; else TDB_EINVAL/TDB_ECONN with a message. */
static int check_ready(tdb_conn *c)
{
    switch (c->state) {
    case CONN_READY:
        return 0;
    case CONN_STREAMING:
        return set_error(c, TDB_EINVAL, "a streamed result is still open (tdb_query_end)");
    case CONN_SENT:
        return set_error(c, TDB_EINVAL, "the answer of a sent query is unread (tdb_get_result)");
    case CONN_NEW:
        return set_error(c, TDB_ECONN, "not connected");
    case CONN_DEAD:
    default:
        return set_error(c, TDB_ECONN, "the connection is closed");
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
            return die(c, TDB_ETIMEOUT, "connect timed out (TLS negotiation)");
        if (n == 0)
            return die(c, TDB_ETIMEOUT, "no answer from the server within %d ms", c->timeout_ms);
        if (errno != EINTR)
            return die(c, TDB_ECONN, "poll: %s", strerror(errno));
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
        return die(c, TDB_ECONN, "the server closed the connection");
    }
    char why[256];
    return die(c, TDB_ECONN, "%s: %s", what, ssl_reason(why, sizeof(why), "TLS error"));
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
            return die(c, TDB_ECONN, "cannot send to the server: %s",
                       n < 0 ? strerror(errno) : "nothing sent");
        }
    }
    return 0;
}

/* Sends one request: a plain line, or `@N` and the payload when text holds a newline. */
static int send_request(tdb_conn *c, const char *text, size_t len)
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
            if (str_put(&c->req, text, len) != 0)
                return set_error(c, TDB_ENOMEM, "out of memory");
        }
        if (str_putc(&c->req, '\n') != 0)
            return set_error(c, TDB_ENOMEM, "out of memory");
        rc = send_all(c, c->req.p, c->req.len);
    }
    return rc;
}

/* Refills the read buffer (which must be empty); 0 or a status (connection killed). */
static int fill(tdb_conn *c)
{
    c->rpos = c->rlen = 0;
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
            return die(c, TDB_ECONN, "the server closed the connection");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(c, POLLIN);
            if (rc != 0)
                return rc;
            continue;
        }
        return die(c, TDB_ECONN, "cannot read from the server: %s", strerror(errno));
    }
}

/* The next byte, consumed; -1 when the connection failed (status in *rc). */
static inline int next_byte(tdb_conn *c, int *rc)
{
    if (c->rpos == c->rlen && (*rc = fill(c)) != 0)
        return -1;
    return c->rbuf[c->rpos++];
}

/* Like next_byte, but skips blanks (JSON whitespace other than a newline). */
static inline int next_token(tdb_conn *c, int *rc)
{
    int b;
    do {
        b = next_byte(c, rc);
    } while (b == ' ' || b == '\t' || b == '\r');
    return b;
}

/*
 * Reads the rest of a line (the newline consumed, not stored). Keeps at most `max` bytes in out
 * (if out is not NULL); *out_over tells whether more were dropped. tail receives the line's last
 * two bytes (0 when shorter), so a caller can see how a dropped line ended.
 */
static int read_line(tdb_conn *c, Str *out, size_t max, bool *out_over, char tail[2])
{
    size_t total = 0;
    if (out_over)
        *out_over = false;
    for (;;) {
        if (c->rpos == c->rlen) {
            int rc = fill(c);
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
        if (out) {
            size_t keep = total < max ? max - total : 0;
            if (keep > n)
                keep = n;
            if (keep < n && out_over)
                *out_over = true;
            if (keep && str_put(out, start, keep) != 0)
                return set_error(c, TDB_ENOMEM, "out of memory");
        }
        total += n;
        c->rpos += n + (nl ? 1 : 0);
        if (nl)
            break;
    }
    if (out && str_reserve(out, 0) != 0) /* an empty line is "" rather than NULL */
        return set_error(c, TDB_ENOMEM, "out of memory");
    return 0;
}

/* Reads the `Error: ...` line that follows a row line cut short; returns its status. */
static int read_error_line(tdb_conn *c)
{
    Str line = {0};
    char tail[2] = {0, 0};
    bool over = false;
    int rc = read_line(c, &line, 65536, &over, tail);
    if (rc == 0) {
        if (strncmp(line.p, "Error: ", 7) == 0)
            rc = set_error(c, TDB_ESERVER, "%s", line.p + 7);
        else
            rc = die(c, TDB_EPROTO, "a result line ended early without an error line");
    }
    str_free(&line);
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
        return set_error(c, TDB_EINVAL, "TLS options must be set before tdb_connect");
    if (!o || o->sslmode < TDB_SSL_PREFER || o->sslmode > TDB_SSL_VERIFY_FULL)
        return set_error(c, TDB_EINVAL, "bad TLS options");
    if (copy_opt(&c->sslrootcert, o->sslrootcert) || copy_opt(&c->sslcert, o->sslcert) ||
        copy_opt(&c->sslkey, o->sslkey))
        return set_error(c, TDB_ENOMEM, "out of memory");
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
        return die(c, TDB_ETLS, "cannot read %s %s: %s", option, path, strerror(errno));
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
        return die(c, TDB_ETLS, "cannot create a TLS context: %s",
                   ssl_reason(why, sizeof(why), "out of memory"));
    SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(c->ssl_ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    bool verify = c->sslmode == TDB_SSL_VERIFY_CA || c->sslmode == TDB_SSL_VERIFY_FULL;
    if (verify) {
        if (c->sslrootcert) {
            if (check_file(c, "sslrootcert", c->sslrootcert) != 0)
                return TDB_ETLS;
            if (SSL_CTX_load_verify_locations(c->ssl_ctx, c->sslrootcert, NULL) != 1)
                return die(c, TDB_ETLS, "sslrootcert %s holds no usable PEM certificate (%s)",
                           c->sslrootcert, ssl_reason(why, sizeof(why), "unknown error"));
        } else if (SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1) {
            return die(c, TDB_ETLS, "cannot load the system's CA certificates (%s)",
                       ssl_reason(why, sizeof(why), "unknown error"));
        }
        SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
    }
    if (c->sslcert) {
        const char *key = c->sslkey ? c->sslkey : c->sslcert;
        if (check_file(c, "sslcert", c->sslcert) != 0 || check_file(c, "sslkey", key) != 0)
            return TDB_ETLS;
        if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, c->sslcert) != 1)
            return die(c, TDB_ETLS, "sslcert %s is not a usable PEM certificate (%s)", c->sslcert,
                       ssl_reason(why, sizeof(why), "unknown error"));
        if (SSL_CTX_use_PrivateKey_file(c->ssl_ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(c->ssl_ctx) != 1)
            return die(c, TDB_ETLS, "sslkey %s is not the PEM key of sslcert %s (%s)", key,
                       c->sslcert, ssl_reason(why, sizeof(why), "unknown error"));
    }
    c->bio_method = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "tcpduckdb socket");
    c->ssl = SSL_new(c->ssl_ctx);
    BIO *bio = c->bio_method ? BIO_new(c->bio_method) : NULL;
    if (!c->bio_method || !c->ssl || !bio || !BIO_meth_set_write(c->bio_method, bio_write) ||
        !BIO_meth_set_read(c->bio_method, bio_read) ||
        !BIO_meth_set_ctrl(c->bio_method, bio_ctrl)) {
        BIO_free(bio);
        return die(c, TDB_ENOMEM, "out of memory");
    }
    BIO_set_data(bio, c);
    BIO_set_init(bio, 1);
    SSL_set_bio(c->ssl, bio, bio); /* the SSL object owns the BIO now */
    SSL_set_connect_state(c->ssl);

    unsigned char addr[sizeof(struct in6_addr)];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    if (!is_ip && SSL_set_tlsext_host_name(c->ssl, host) != 1) /* SNI: names only (RFC 6066) */
        return die(c, TDB_ETLS, "bad host name for TLS: %s", host);
    if (c->sslmode == TDB_SSL_VERIFY_FULL) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host)
                       : X509_VERIFY_PARAM_set1_host(vp, host, 0);
        if (ok != 1)
            return die(c, TDB_ETLS, "cannot check the certificate against host %s", host);
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
            return die(c, TDB_ETLS, "server certificate verification failed: %s",
                       X509_verify_cert_error_string(v));
        }
        char why[256];
        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
            snprintf(why, sizeof(why), "%s",
                     errno ? strerror(errno) : "the server closed the connection");
        else
            ssl_reason(why, sizeof(why), "protocol error");
        return die(c, TDB_ETLS, "TLS handshake failed: %s", why);
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
    rc = read_line(c, &line, 4096, &over, tail);
    if (rc != 0)
        goto out;
    if (strcmp(line.p, "success") == 0) {
        /* The server must not have said more: those bytes would be plain text taken for
         * part of the TLS session. */
        if (c->rpos != c->rlen) {
            rc = die(c, TDB_ETLS, "the server sent data after accepting starttls");
            goto out;
        }
        rc = tls_setup(c, host);
        if (rc == 0)
            rc = tls_handshake(c);
    } else if (strncmp(line.p, "Error: ", 7) == 0) {
        if (c->sslmode != TDB_SSL_PREFER)
            rc = die(c, TDB_ETLS, "the server does not offer TLS (sslmode=%s): %s",
                     tdb_sslmode_name(c->sslmode), line.p + 7);
    } else {
        rc = die(c, TDB_EPROTO, "unexpected answer to starttls: %.100s", line.p);
    }
out:
    str_free(&line);
    return rc;
}

int tdb_connect(tdb_conn *c, const char *host, int port, int timeout_ms)
{
    if (c->state != CONN_NEW)
        return set_error(c, TDB_EINVAL, "the handle is already connected (or was)");
    if (!host || port <= 0 || port > 65535)
        return set_error(c, TDB_EINVAL, "bad host or port");
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    int gai = getaddrinfo(host, service, &hints, &list);
    if (gai != 0)
        return set_error(c, TDB_ECONN, "cannot resolve %s: %s", host, gai_strerror(gai));
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
        return set_error(c, timed_out ? TDB_ETIMEOUT : TDB_ECONN, "cannot connect to %s:%d: %s",
                         host, port, timed_out ? "timed out" : strerror(last_errno));
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
    set_error(c, TDB_OK, "%s", "");
    return TDB_OK;
}

/* ---- commands ------------------------------------------------------------------------- */

/* Reads a command answer line into *out_answer (caller frees) or returns its error. */
static int read_answer(tdb_conn *c, char **out_answer)
{
    Str line = {0};
    char tail[2] = {0, 0};
    bool over = false;
    int rc = read_line(c, &line, c->max_answer, &over, tail);
    if (rc != 0)
        goto out;
    if (strncmp(line.p, "Error: ", 7) == 0) {
        rc = set_error(c, TDB_ESERVER, "%s", line.p + 7);
        goto out;
    }
    /* A result line that was cut short by an error is followed by the error line. */
    bool cut = (line.p[0] == '[' && tail[1] != ']') ||
               (strncmp(line.p, "{\"columns\"", 10) == 0 && (tail[0] != ']' || tail[1] != '}'));
    if (cut) {
        rc = read_error_line(c);
        goto out;
    }
    if (over) {
        rc = set_error(c, TDB_ETOOBIG, "the answer is larger than the limit of %zu bytes",
                       c->max_answer);
        goto out;
    }
    if (out_answer) {
        *out_answer = line.p;
        line.p = NULL;
    }
out:
    str_free(&line);
    return rc;
}

int tdb_command(tdb_conn *c, const char *text, char **out_answer)
{
    if (out_answer)
        *out_answer = NULL;
    int rc = check_ready(c);
    if (rc != 0)
        return rc;
    if (!text)
        return set_error(c, TDB_EINVAL, "no request text");
    rc = send_request(c, text, strlen(text));
    if (rc == 0)
        rc = read_answer(c, out_answer);
    if (rc == 0)
        set_error(c, TDB_OK, "%s", "");
    return rc;
}

/* Sends text and expects the answer `success`. */
static int command_success(tdb_conn *c, const char *text)
{
    char *answer = NULL;
    int rc = tdb_command(c, text, &answer);
    if (rc == 0 && strcmp(answer, "success") != 0)
        rc = set_error(c, TDB_EPROTO, "unexpected answer: %.200s", answer);
    free(answer);
    return rc;
}

/* Appends a word quoted for the server's splitter: "..." with \" and \\. */
static int put_quoted_word(Str *s, const char *word)
{
    int rc = str_putc(s, '"');
    for (const char *p = word; *p && rc == 0; p++) {
        if (*p == '"' || *p == '\\')
            rc = str_putc(s, '\\');
        if (rc == 0)
            rc = str_putc(s, *p);
    }
    if (rc == 0)
        rc = str_putc(s, '"');
    return rc;
}

int tdb_login(tdb_conn *c, const char *user, const char *password)
{
    if (!user || !password)
        return set_error(c, TDB_EINVAL, "no user or password");
    Str s = {0};
    int rc = str_puts(&s, "login ");
    if (rc == 0)
        rc = put_quoted_word(&s, user);
    if (rc == 0)
        rc = str_putc(&s, ' ');
    if (rc == 0)
        rc = put_quoted_word(&s, password);
    rc = rc != 0 ? set_error(c, TDB_ENOMEM, "out of memory") : command_success(c, s.p);
    /* The request held the password: do not leave it in freed memory. */
    if (s.p)
        memset(s.p, 0, s.cap);
    if (c->req.p)
        memset(c->req.p, 0, c->req.cap);
    str_free(&s);
    return rc;
}

int tdb_connect_database(tdb_conn *c, const char *database)
{
    if (!database)
        return set_error(c, TDB_EINVAL, "no database name");
    Str s = {0};
    int rc = str_puts(&s, "connect ");
    if (rc == 0)
        rc = put_quoted_word(&s, database);
    rc = rc != 0 ? set_error(c, TDB_ENOMEM, "out of memory") : command_success(c, s.p);
    str_free(&s);
    return rc;
}

int tdb_begin(tdb_conn *c)
{
    return command_success(c, "start transaction");
}

int tdb_commit(tdb_conn *c)
{
    return command_success(c, "commit");
}

int tdb_rollback(tdb_conn *c)
{
    return command_success(c, "rollback");
}

/* ---- parameters ----------------------------------------------------------------------- */

tdb_param tdb_param_text(const char *text)
{
    return tdb_param_text_len(text, text ? strlen(text) : 0);
}

/* A double as the shortest JSON number that reads back the same, always with a '.' or 'e'. */
static int put_double(Str *s, double d)
{
    if (isnan(d))
        return str_puts(s, "\"NaN\"");
    if (isinf(d))
        return str_puts(s, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    char num[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(num, sizeof(num), "%.*g", prec, d);
        if (strtod(num, NULL) == d)
            break;
    }
    if (!strpbrk(num, ".eE"))
        strcat(num, ".0");
    return str_puts(s, num);
}

static int put_param(Str *s, const tdb_param *p)
{
    static const char hex[] = "0123456789abcdef";
    char num[32];
    switch (p->kind) {
    case TDB_PARAM_NULL:
        return str_puts(s, "null");
    case TDB_PARAM_BOOL:
        return str_puts(s, p->v.b ? "true" : "false");
    case TDB_PARAM_INT64:
        snprintf(num, sizeof(num), "%" PRId64, p->v.i);
        return str_puts(s, num);
    case TDB_PARAM_DOUBLE:
        return put_double(s, p->v.d);
    case TDB_PARAM_TEXT:
        if (!p->v.bytes.ptr && p->v.bytes.len)
            return TDB_EINVAL;
        return str_put_json_string(s, p->v.bytes.ptr ? p->v.bytes.ptr : "", p->v.bytes.len);
    case TDB_PARAM_BLOB: {
        const unsigned char *b = p->v.bytes.ptr;
        if (!b && p->v.bytes.len)
            return TDB_EINVAL;
        if (str_puts(s, "{\"blob\":\"") != 0 || str_reserve(s, 2 * p->v.bytes.len + 2) != 0)
            return TDB_ENOMEM;
        for (size_t i = 0; i < p->v.bytes.len; i++) {
            s->p[s->len++] = hex[b[i] >> 4];
            s->p[s->len++] = hex[b[i] & 15];
        }
        s->p[s->len] = '\0';
        return str_puts(s, "\"}");
    }
    }
    return TDB_EINVAL;
}

/* Builds `query {"sql":...,"params":[...]}` in c->req. */
static int build_query(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams)
{
    Str *s = &c->req;
    s->len = 0;
    int rc = str_puts(s, "query {\"sql\":");
    if (rc == 0)
        rc = str_put_json_string(s, sql, strlen(sql));
    if (rc == 0 && nparams > 0) {
        rc = str_puts(s, ",\"params\":[");
        for (size_t i = 0; i < nparams && rc == 0; i++) {
            if (i)
                rc = str_putc(s, ',');
            if (rc == 0)
                rc = put_param(s, &params[i]);
            if (rc == TDB_EINVAL)
                return set_error(c, TDB_EINVAL, "parameter %zu has no bytes or a bad kind", i + 1);
        }
        if (rc == 0)
            rc = str_putc(s, ']');
    }
    if (rc == 0)
        rc = str_putc(s, '}');
    return rc == 0 ? 0 : set_error(c, TDB_ENOMEM, "out of memory");
}

/* ---- the typed answer parser ---------------------------------------------------------- */

/* Room for one more cell in res; TDB_ETOOBIG over the connection's answer limit. */
static int check_size(tdb_result *res)
{
    size_t held = res->data.len + res->ncells * sizeof(Cell);
    if (held > res->conn->max_answer)
        return set_error(res->conn, TDB_ETOOBIG,
                         res->streaming ? "a row is larger than the limit of %zu bytes"
                                        : "the result is larger than the limit of %zu bytes",
                         res->conn->max_answer);
    return 0;
}

static void put_utf8(char *out, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int read_hex4(tdb_conn *c, uint32_t *out)
{
    int rc = 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int b = next_byte(c, &rc);
        if (b < 0)
            return rc;
        if (b == '\n')
            return CUT;
        int d = b >= '0' && b <= '9'   ? b - '0'
                : b >= 'a' && b <= 'f' ? b - 'a' + 10
                : b >= 'A' && b <= 'F' ? b - 'A' + 10
                                       : -1;
        if (d < 0)
            return die(c, TDB_EPROTO, "bad \\u escape in the answer");
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

/*
 * Decodes a JSON string whose opening quote was consumed, appending its bytes to out. limit
 * bounds out->len (0: no limit beyond memory; TDB_ETOOBIG set by the caller's check).
 */
static int parse_string(tdb_conn *c, Str *out, size_t limit)
{
    int rc = 0;
    for (;;) {
        if (c->rpos == c->rlen && (rc = fill(c)) != 0)
            return rc;
        /* Copy the run of plain bytes at once. */
        const unsigned char *start = c->rbuf + c->rpos, *end = c->rbuf + c->rlen, *p = start;
        while (p < end && *p != '"' && *p != '\\' && *p != '\n')
            p++;
        if (p > start && str_put(out, start, (size_t)(p - start)) != 0)
            return set_error(c, TDB_ENOMEM, "out of memory");
        c->rpos += (size_t)(p - start);
        if (limit && out->len > limit)
            return TDB_ETOOBIG;
        if (p == end)
            continue;
        c->rpos++;
        if (*p == '"')
            return 0;
        if (*p == '\n')
            return CUT;
        int e = next_byte(c, &rc);
        if (e < 0)
            return rc;
        char ch;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            ch = (char)e;
            break;
        case 'n':
            ch = '\n';
            break;
        case 'r':
            ch = '\r';
            break;
        case 't':
            ch = '\t';
            break;
        case 'b':
            ch = '\b';
            break;
        case 'f':
            ch = '\f';
            break;
        case 'u': {
            uint32_t cp;
            if ((rc = read_hex4(c, &cp)) != 0)
                return rc;
            if (cp >= 0xD800 && cp < 0xDC00) {
                /* A high surrogate: the low one must follow as another \u escape. */
                int b1 = next_byte(c, &rc), b2 = b1 < 0 ? -1 : next_byte(c, &rc);
                if (b1 < 0 || b2 < 0)
                    return rc;
                if (b1 == '\n' || b2 == '\n')
                    return CUT;
                uint32_t lo = 0;
                if (b1 != '\\' || b2 != 'u')
                    return die(c, TDB_EPROTO, "unpaired surrogate in the answer");
                if ((rc = read_hex4(c, &lo)) != 0)
                    return rc;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return die(c, TDB_EPROTO, "unpaired surrogate in the answer");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return die(c, TDB_EPROTO, "unpaired surrogate in the answer");
            }
            char u[4];
            size_t n = 0;
            put_utf8(u, &n, cp);
            if (str_put(out, u, n) != 0)
                return set_error(c, TDB_ENOMEM, "out of memory");
            continue;
        }
        case '\n':
            return CUT;
        default:
            return die(c, TDB_EPROTO, "bad escape in the answer");
        }
        if (str_putc(out, ch) != 0)
            return set_error(c, TDB_ENOMEM, "out of memory");
    }
}

/* Copies a nested value (first byte `open` consumed) as raw JSON text into out. */
static int parse_nested(tdb_conn *c, Str *out, int open, size_t limit)
{
    int rc = 0, depth = 1;
    bool in_string = false, escaped = false;
    if (str_putc(out, (char)open) != 0)
        return set_error(c, TDB_ENOMEM, "out of memory");
    while (depth > 0) {
        if (c->rpos == c->rlen && (rc = fill(c)) != 0)
            return rc;
        const unsigned char *start = c->rbuf + c->rpos, *end = c->rbuf + c->rlen, *p = start;
        for (; p < end && depth > 0; p++) {
            unsigned char b = *p;
            if (b == '\n') {
                c->rpos += (size_t)(p - start) + 1;
                return CUT;
            }
            if (in_string) {
                if (escaped)
                    escaped = false;
                else if (b == '\\')
                    escaped = true;
                else if (b == '"')
                    in_string = false;
            } else if (b == '"') {
                in_string = true;
            } else if (b == '[' || b == '{') {
                depth++;
            } else if (b == ']' || b == '}') {
                depth--;
            }
        }
        if (str_put(out, start, (size_t)(p - start)) != 0)
            return set_error(c, TDB_ENOMEM, "out of memory");
        c->rpos += (size_t)(p - start);
        if (limit && out->len > limit)
            return TDB_ETOOBIG;
    }
    return 0;
}

/* Expects the rest of a literal (its first byte consumed). */
static int parse_literal(tdb_conn *c, const char *rest)
{
    int rc = 0;
    for (const char *p = rest; *p; p++) {
        int b = next_byte(c, &rc);
        if (b < 0)
            return rc;
        if (b == '\n')
            return CUT;
        if (b != *p)
            return die(c, TDB_EPROTO, "bad literal in the answer");
    }
    return 0;
}

/*
 * Appends a number (first byte consumed) to out; *out_int tells whether it is an integer.
 * limit bounds out->len as in parse_string (BIGNUM values can have any number of digits).
 */
static bool number_byte(int b)
{
    return (b >= '0' && b <= '9') || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E';
}

/* Reads a JSON number whose first byte (already consumed) is `first`; copies
 * it to out a run of the read buffer at a time, not byte by byte (large
 * results are mostly numbers). */
static int parse_number(tdb_conn *c, Str *out, int first, bool *out_int, size_t limit)
{
    int rc = 0;
    char ch = (char)first;
    *out_int = first != '.' && first != 'e' && first != 'E';
    if (str_put(out, &ch, 1) != 0)
        return set_error(c, TDB_ENOMEM, "out of memory");
    for (;;) {
        if (c->rpos == c->rlen && (rc = fill(c)) != 0)
            return rc;
        const unsigned char *start = c->rbuf + c->rpos, *end = c->rbuf + c->rlen, *p = start;
        while (p < end && number_byte(*p)) {
            if (*p == '.' || *p == 'e' || *p == 'E')
                *out_int = false;
            p++;
        }
        if (p > start && str_put(out, start, (size_t)(p - start)) != 0)
            return set_error(c, TDB_ENOMEM, "out of memory");
        c->rpos += (size_t)(p - start);
        if (out->len > limit)
            return TDB_ETOOBIG;
        if (p < end)
            return 0;
    }
}

/* Appends one cell read from the stream to res. */
static int parse_cell(tdb_result *res, int first)
{
    tdb_conn *c = res->conn;
    if (res->ncells == res->cells_cap) {
        size_t cap = res->cells_cap ? res->cells_cap * 2 : 16;
        Cell *cells = realloc(res->cells, cap * sizeof(Cell));
        if (!cells)
            return set_error(c, TDB_ENOMEM, "out of memory");
        res->cells = cells;
        res->cells_cap = cap;
    }
    Cell *cell = &res->cells[res->ncells];
    Str *d = &res->data;
    size_t limit = c->max_answer;
    cell->off = d->len;
    int rc = 0;
    bool is_int = false;
    switch (first) {
    case '"':
        cell->kind = TDB_VALUE_STRING;
        rc = parse_string(c, d, limit);
        break;
    case '[':
    case '{':
        cell->kind = TDB_VALUE_NESTED;
        rc = parse_nested(c, d, first, limit);
        break;
    case 't':
        cell->kind = TDB_VALUE_BOOL;
        rc = parse_literal(c, "rue");
        if (rc == 0 && str_puts(d, "true") != 0)
            rc = set_error(c, TDB_ENOMEM, "out of memory");
        break;
    case 'f':
        cell->kind = TDB_VALUE_BOOL;
        rc = parse_literal(c, "alse");
        if (rc == 0 && str_puts(d, "false") != 0)
            rc = set_error(c, TDB_ENOMEM, "out of memory");
        break;
    case 'n':
        cell->kind = TDB_VALUE_NULL;
        rc = parse_literal(c, "ull");
        break;
    case '\n':
        return CUT;
    default:
        if (first == '-' || (first >= '0' && first <= '9')) {
            rc = parse_number(c, d, first, &is_int, limit);
            cell->kind = is_int ? TDB_VALUE_INT : TDB_VALUE_FLOAT;
        } else {
            return die(c, TDB_EPROTO, "unexpected byte 0x%02x in a row", (unsigned)first);
        }
    }
    if (rc == TDB_ETOOBIG)
        return set_error(c, TDB_ETOOBIG, "a value is larger than the limit of %zu bytes", limit);
    if (rc != 0)
        return rc;
    cell->len = d->len - cell->off;
    if (str_putc(d, '\0') != 0)
        return set_error(c, TDB_ENOMEM, "out of memory");
    res->ncells++;
    return check_size(res);
}

/* Reads a JSON string (opening quote expected next) into a new C string. */
static int parse_owned_string(tdb_conn *c, char **out)
{
    int rc = 0;
    int b = next_token(c, &rc);
    if (b < 0)
        return rc;
    if (b != '"')
        return die(c, TDB_EPROTO, "expected a string in the answer header");
    Str s = {0};
    rc = parse_string(c, &s, 1 << 20);
    if (rc == CUT || rc == TDB_ETOOBIG)
        rc = die(c, TDB_EPROTO, "bad string in the answer header");
    if (rc == 0 && str_reserve(&s, 0) != 0)
        rc = set_error(c, TDB_ENOMEM, "out of memory");
    if (rc != 0) {
        str_free(&s);
        return rc;
    }
    *out = s.p;
    return 0;
}

static int expect(tdb_conn *c, int want)
{
    int rc = 0;
    int b = next_token(c, &rc);
    if (b < 0)
        return rc;
    if (b != want)
        return die(c, TDB_EPROTO, "expected '%c' in the answer header", want);
    return 0;
}

/* Parses `[{"name":...,"type":...},...]` into res->names/types. */
static int parse_columns(tdb_result *res)
{
    tdb_conn *c = res->conn;
    int rc = expect(c, '[');
    if (rc != 0)
        return rc;
    size_t cap = 0;
    for (;;) {
        int b = next_token(c, &rc);
        if (b < 0)
            return rc;
        if (b == ']' && res->ncols == 0)
            return 0;
        if (res->ncols > 0) {
            if (b == ']')
                return 0;
            if (b != ',')
                return die(c, TDB_EPROTO, "expected ',' between columns");
            b = next_token(c, &rc);
            if (b < 0)
                return rc;
        }
        if (b != '{')
            return die(c, TDB_EPROTO, "expected a column object");
        if (res->ncols == cap) {
            cap = cap ? cap * 2 : 8;
            char **names = realloc(res->names, cap * sizeof(char *));
            if (names)
                res->names = names;
            char **types = names ? realloc(res->types, cap * sizeof(char *)) : NULL;
            if (!types)
                return set_error(c, TDB_ENOMEM, "out of memory");
            res->types = types;
        }
        res->names[res->ncols] = res->types[res->ncols] = NULL;
        res->ncols++;
        for (int field = 0; field < 2; field++) {
            char *key = NULL, *value = NULL;
            if (field == 1 && (rc = expect(c, ',')) != 0)
                return rc;
            if ((rc = parse_owned_string(c, &key)) != 0)
                return rc;
            rc = expect(c, ':');
            if (rc == 0)
                rc = parse_owned_string(c, &value);
            if (rc == 0 && strcmp(key, "name") == 0 && !res->names[res->ncols - 1]) {
                res->names[res->ncols - 1] = value;
            } else if (rc == 0 && strcmp(key, "type") == 0 && !res->types[res->ncols - 1]) {
                res->types[res->ncols - 1] = value;
            } else {
                free(value);
                if (rc == 0)
                    rc = die(c, TDB_EPROTO, "unexpected key in a column object");
            }
            free(key);
            if (rc != 0)
                return rc;
        }
        if ((rc = expect(c, '}')) != 0)
            return rc;
    }
}

/* Reads the answer up to its first row (or whole, when it has no rows). */
static int parse_header(tdb_result *res)
{
    tdb_conn *c = res->conn;
    int rc = 0;
    int b = next_byte(c, &rc);
    if (b < 0)
        return rc;
    if (b == 'E') {
        Str line = {0};
        char tail[2] = {0, 0};
        rc = read_line(c, &line, 65536, NULL, tail);
        if (rc == 0 && strncmp(line.p, "rror: ", 6) == 0)
            rc = set_error(c, TDB_ESERVER, "%s", line.p + 6);
        else if (rc == 0)
            rc = die(c, TDB_EPROTO, "unexpected answer: E%.200s", line.p);
        str_free(&line);
        return rc;
    }
    if (b != '{')
        return die(c, TDB_EPROTO, "unexpected answer to a query (byte 0x%02x)", (unsigned)b);
    res->kind = TDB_RESULT_SUCCESS;
    for (;;) {
        char *key = NULL;
        if ((rc = parse_owned_string(c, &key)) != 0)
            return rc;
        rc = expect(c, ':');
        if (rc == 0 && strcmp(key, "columns") == 0) {
            rc = parse_columns(res);
        } else if (rc == 0 && strcmp(key, "rows") == 0) {
            free(key);
            if ((rc = expect(c, '[')) != 0)
                return rc;
            res->kind = TDB_RESULT_ROWS;
            res->first_row = true;
            c->state = CONN_STREAMING;
            return 0; /* the rows follow, read by tdb_next_row */
        } else if (rc == 0 && strcmp(key, "changed") == 0) {
            Str num = {0};
            bool is_int = false;
            b = next_token(c, &rc);
            if (b >= 0)
                rc = parse_number(c, &num, b, &is_int, 64);
            if (rc == TDB_ETOOBIG)
                rc = die(c, TDB_EPROTO, "bad row count");
            if (rc == 0 && !is_int)
                rc = die(c, TDB_EPROTO, "bad row count");
            if (rc == 0) {
                res->kind = TDB_RESULT_CHANGED;
                res->changed = strtoll(num.p, NULL, 10);
            }
            str_free(&num);
        } else if (rc == 0 && strcmp(key, "success") == 0) {
            b = next_token(c, &rc);
            if (b >= 0 && (b != 't' || (rc = parse_literal(c, "rue")) != 0))
                rc = rc ? rc : die(c, TDB_EPROTO, "bad success answer");
        } else if (rc == 0) {
            rc = die(c, TDB_EPROTO, "unexpected key \"%.100s\" in the answer", key);
        }
        free(key);
        if (rc != 0)
            return rc;
        b = next_token(c, &rc);
        if (b < 0)
            return rc;
        if (b == ',')
            continue;
        if (b != '}')
            return die(c, TDB_EPROTO, "expected '}' in the answer");
        if ((rc = expect(c, '\n')) != 0)
            return rc;
        res->done = true;
        return 0;
    }
}

/*
 * Reads and drops the rest of the current answer, so the connection is in sync again. When the
 * row line was cut short by an error, the error line is read too and its status returned.
 */
static int stream_drain(tdb_result *res)
{
    tdb_conn *c = res->conn;
    char tail[2] = {0, 0};
    int rc = read_line(c, NULL, 0, NULL, tail);
    if (rc == 0 && (tail[0] != ']' || tail[1] != '}'))
        rc = read_error_line(c);
    return rc;
}

/* Ends the stream at the server's error line; the connection is in sync again. */
static int stream_fail(tdb_result *res, int rc)
{
    tdb_conn *c = res->conn;
    if (rc == CUT)
        rc = read_error_line(c);
    else if (rc == TDB_ETOOBIG) {
        int drained = stream_drain(res);
        if (drained != 0 && drained != TDB_ESERVER)
            rc = drained; /* the connection died: report that */
        else
            set_error(c, TDB_ETOOBIG, "the answer is larger than the limit of %zu bytes",
                      c->max_answer);
    }
    if (c->state == CONN_STREAMING)
        c->state = CONN_READY;
    res->done = true;
    res->fail_status = rc;
    return rc;
}

int tdb_next_row(tdb_result *res)
{
    if (!res)
        return TDB_EINVAL;
    if (res->done) {
        if (res->streaming)
            res->nrows = 0;
        return res->fail_status ? res->fail_status : 0;
    }
    tdb_conn *c = res->conn;
    if (res->streaming) {
        res->nrows = 0;
        res->ncells = 0;
        res->data.len = 0;
    }
    int rc = 0;
    int b = next_token(c, &rc);
    if (b < 0)
        return stream_fail(res, rc);
    if (b == ']') {
        if ((rc = expect(c, '}')) == 0)
            rc = expect(c, '\n');
        if (rc != 0)
            return stream_fail(res, rc);
        res->done = true;
        c->state = CONN_READY;
        return 0;
    }
    if (!res->first_row) {
        if (b == '\n')
            return stream_fail(res, CUT);
        if (b != ',')
            return stream_fail(res, die(c, TDB_EPROTO, "expected ',' between rows"));
        b = next_token(c, &rc);
        if (b < 0)
            return stream_fail(res, rc);
    }
    res->first_row = false;
    if (b == '\n')
        return stream_fail(res, CUT);
    if (b != '[')
        return stream_fail(res, die(c, TDB_EPROTO, "expected a row array"));
    size_t before = res->ncells;
    for (;;) {
        b = next_token(c, &rc);
        if (b < 0)
            return stream_fail(res, rc);
        if (b == ']' && res->ncells == before)
            break;
        if (res->ncells > before) {
            if (b == ']')
                break;
            if (b == '\n')
                return stream_fail(res, CUT);
            if (b != ',')
                return stream_fail(res, die(c, TDB_EPROTO, "expected ',' between values"));
            b = next_token(c, &rc);
            if (b < 0)
                return stream_fail(res, rc);
        }
        if ((rc = parse_cell(res, b)) != 0)
            return stream_fail(res, rc);
    }
    if (res->ncells - before != res->ncols)
        return stream_fail(res, die(c, TDB_EPROTO, "a row has %zu values for %zu columns",
                                    res->ncells - before, res->ncols));
    res->nrows++;
    return 1;
}

/* Sends a typed query; its answer is next on the connection. */
static int send_query(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams)
{
    int rc = check_ready(c);
    if (rc != 0)
        return rc;
    if (!sql || (nparams && !params))
        return set_error(c, TDB_EINVAL, "no SQL text or no parameters");
    if ((rc = build_query(c, sql, params, nparams)) != 0)
        return rc;
    return send_request(c, c->req.p, c->req.len);
}

/* Reads the header of the answer to a query just sent into a new result. */
static int read_header(tdb_conn *c, bool streaming, tdb_result **out_result)
{
    int rc;
    tdb_result *res = calloc(1, sizeof(*res));
    if (!res) {
        /* The answer is coming and nobody would read it: the connection is out of sync. */
        return die(c, TDB_ENOMEM, "out of memory");
    }
    res->conn = c;
    res->streaming = streaming;
    res->changed = -1;
    rc = parse_header(res);
    if (rc != 0) {
        if (c->state == CONN_STREAMING)
            c->state = CONN_READY;
        res->conn = NULL;
        tdb_result_free(res);
        return rc;
    }
    set_error(c, TDB_OK, "%s", "");
    *out_result = res;
    return 0;
}

int tdb_query_start(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams,
                    tdb_result **out_result)
{
    *out_result = NULL;
    int rc = send_query(c, sql, params, nparams);
    return rc != 0 ? rc : read_header(c, true, out_result);
}

/* Reads the whole answer to a query just sent. */
static int read_result(tdb_conn *c, tdb_result **out_result)
{
    tdb_result *res = NULL;
    int rc = read_header(c, false, &res);
    if (rc != 0) {
        *out_result = NULL;
        return rc;
    }
    while ((rc = tdb_next_row(res)) == 1)
        ;
    if (rc != 0) {
        tdb_result_free(res);
        *out_result = NULL;
        return rc;
    }
    res->conn = NULL;
    *out_result = res;
    return 0;
}

int tdb_query(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams,
              tdb_result **out_result)
{
    *out_result = NULL;
    int rc = send_query(c, sql, params, nparams);
    return rc != 0 ? rc : read_result(c, out_result);
}

int tdb_send_query(tdb_conn *c, const char *sql, const tdb_param *params, size_t nparams)
{
    int rc = send_query(c, sql, params, nparams);
    if (rc == 0)
        c->state = CONN_SENT;
    return rc;
}

int tdb_get_result(tdb_conn *c, tdb_result **out_result)
{
    *out_result = NULL;
    if (c->state != CONN_SENT)
        return c->state == CONN_READY
                   ? set_error(c, TDB_EINVAL, "no query was sent (tdb_send_query)")
                   : check_ready(c);
    c->state = CONN_READY;
    return read_result(c, out_result);
}

int tdb_socket(const tdb_conn *c)
{
    return c && c->state != CONN_NEW && c->state != CONN_DEAD ? c->fd : -1;
}

bool tdb_input_buffered(const tdb_conn *c)
{
    return c && (c->rpos < c->rlen || (c->ssl && SSL_pending(c->ssl) > 0));
}

int tdb_query_end(tdb_result *res)
{
    if (!res)
        return 0;
    int rc = 0;
    tdb_conn *c = res->conn;
    if (c && !res->done) {
        rc = stream_drain(res);
        if (c->state == CONN_STREAMING)
            c->state = CONN_READY;
    } else if (res->fail_status) {
        rc = res->fail_status;
    }
    str_free(&res->data);
    str_free(&res->json);
    for (size_t i = 0; i < res->ncols; i++) {
        free(res->names[i]);
        free(res->types[i]);
    }
    free(res->names);
    free(res->types);
    free(res->cells);
    free(res);
    return rc;
}

void tdb_result_free(tdb_result *res)
{
    (void)tdb_query_end(res);
}

/* ---- accessors ------------------------------------------------------------------------ */

tdb_result_kind tdb_result_kind_of(const tdb_result *res)
{
    return res->kind;
}

int64_t tdb_result_changed(const tdb_result *res)
{
    return res->kind == TDB_RESULT_CHANGED ? res->changed : -1;
}

size_t tdb_result_ncols(const tdb_result *res)
{
    return res->ncols;
}

size_t tdb_result_nrows(const tdb_result *res)
{
    return res->nrows;
}

const char *tdb_result_column_name(const tdb_result *res, size_t col)
{
    return col < res->ncols ? res->names[col] : NULL;
}

const char *tdb_result_column_type(const tdb_result *res, size_t col)
{
    return col < res->ncols ? res->types[col] : NULL;
}

static const Cell *cell_at(const tdb_result *res, size_t row, size_t col)
{
    if (!res || row >= res->nrows || col >= res->ncols)
        return NULL;
    return &res->cells[row * res->ncols + col];
}

tdb_value_kind tdb_result_value_kind(const tdb_result *res, size_t row, size_t col)
{
    const Cell *cell = cell_at(res, row, col);
    return cell ? cell->kind : TDB_VALUE_NULL;
}

bool tdb_result_is_null(const tdb_result *res, size_t row, size_t col)
{
    const Cell *cell = cell_at(res, row, col);
    return !cell || cell->kind == TDB_VALUE_NULL;
}

/* The cell, or a status for NULL/out of range; *out_text is its NUL-terminated text. */
static int cell_text(const tdb_result *res, size_t row, size_t col, const Cell **out_cell,
                     const char **out_text)
{
    const Cell *cell = cell_at(res, row, col);
    if (!cell)
        return TDB_EINVAL;
    if (cell->kind == TDB_VALUE_NULL)
        return TDB_ENULL;
    *out_cell = cell;
    *out_text = res->data.p + cell->off;
    return 0;
}

int tdb_result_int64(const tdb_result *res, size_t row, size_t col, int64_t *out_value)
{
    const Cell *cell = NULL;
    const char *text = NULL;
    int rc = cell_text(res, row, col, &cell, &text);
    if (rc != 0)
        return rc;
    if (cell->kind != TDB_VALUE_INT)
        return TDB_ETYPE;
    /* Up to 18 digits cannot overflow: convert them here, a large part of
     * reading a big result; longer ones (and anything odd) go to strtoll. */
    const char *d = text + (text[0] == '-');
    size_t nd = 0;
    int64_t acc = 0;
    while (nd < 18 && d[nd] >= '0' && d[nd] <= '9')
        acc = acc * 10 + (d[nd++] - '0');
    if (nd > 0 && d[nd] == '\0') {
        *out_value = text[0] == '-' ? -acc : acc;
        return 0;
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE)
        return TDB_ERANGE;
    if (*end != '\0')
        return TDB_ETYPE;
    *out_value = (int64_t)v;
    return 0;
}

int tdb_result_double(const tdb_result *res, size_t row, size_t col, double *out_value)
{
    const Cell *cell = NULL;
    const char *text = NULL;
    int rc = cell_text(res, row, col, &cell, &text);
    if (rc != 0)
        return rc;
    if (cell->kind == TDB_VALUE_STRING) {
        if (strcmp(text, "NaN") == 0)
            *out_value = NAN;
        else if (strcmp(text, "Infinity") == 0)
            *out_value = INFINITY;
        else if (strcmp(text, "-Infinity") == 0)
            *out_value = -INFINITY;
        else
            return TDB_ETYPE;
        return 0;
    }
    if (cell->kind != TDB_VALUE_INT && cell->kind != TDB_VALUE_FLOAT)
        return TDB_ETYPE;
    *out_value = strtod(text, NULL);
    return 0;
}

int tdb_result_bool(const tdb_result *res, size_t row, size_t col, bool *out_value)
{
    const Cell *cell = NULL;
    const char *text = NULL;
    int rc = cell_text(res, row, col, &cell, &text);
    if (rc != 0)
        return rc;
    if (cell->kind != TDB_VALUE_BOOL)
        return TDB_ETYPE;
    *out_value = text[0] == 't';
    return 0;
}

const char *tdb_result_text(const tdb_result *res, size_t row, size_t col, size_t *out_len)
{
    const Cell *cell = NULL;
    const char *text = NULL;
    if (cell_text(res, row, col, &cell, &text) != 0) {
        if (out_len)
            *out_len = 0;
        return NULL;
    }
    if (out_len)
        *out_len = cell->len;
    return text;
}

const char *tdb_result_json(tdb_result *res, size_t row, size_t col)
{
    const Cell *cell = cell_at(res, row, col);
    if (!cell)
        return NULL;
    if (cell->kind == TDB_VALUE_NULL)
        return "null";
    const char *text = res->data.p + cell->off;
    if (cell->kind != TDB_VALUE_STRING)
        return text;
    res->json.len = 0;
    if (str_put_json_string(&res->json, text, cell->len) != 0)
        return NULL;
    return res->json.p;
}
