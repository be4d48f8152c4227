/*
 * tls: OpenSSL behind the server's transport. See tls.h.
 *
 * Choices, and why:
 *   - the SSL object writes straight to the socket (a socket BIO), so TLS
 *     adds encryption and no extra copy of the answer;
 *   - partial writes and moving write buffers are enabled: the server keeps
 *     unsent answers in a buffer that may be reallocated, and counts only
 *     the bytes OpenSSL reports as sent, as it does with send(2);
 *   - read and write buffers are released while a connection is idle, so an
 *     idle TLS client costs little more than a plain one;
 *   - TLS 1.2 is limited to ECDHE key exchange with AEAD ciphers (forward
 *     secrecy); TLS 1.3 uses OpenSSL's defaults. Renegotiation is off, and
 *     so is session resumption (no cache, no tickets): clients connect
 *     rarely and keep the connection, and it keeps the state simple;
 *   - with TLSCAFile, a client certificate is asked for and verified when
 *     presented, but not required: the password login still works.
 */
#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "xalloc.h"

/*
 * `ctx` is replaced by tls_server_reload() under `lock`, which tls_new()
 * takes to start a connection on it. SSL_new() takes a reference to the
 * context, so a connection keeps the one it started with until it is
 * freed, whatever replaced it meanwhile.
 */
struct TlsServer {
    pthread_mutex_t lock;
    SSL_CTX *ctx;
    TlsMode mode;
};

struct Tls {
    SSL *ssl;
    short want;       /* POLLIN or POLLOUT, for the last would-block */
    bool broken;      /* a fatal error: no close_notify may follow */
    bool established; /* the handshake is complete */
};

/* The first (most specific) OpenSSL error of this thread as text, or
 * `fallback`; empties the thread's error queue. */
static const char *ssl_reason(char *buf, size_t len, const char *fallback)
{
    unsigned long e = ERR_peek_error();
    if (e == 0)
        snprintf(buf, len, "%s", fallback);
    else {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(buf, len, "%s", r);
        else
            ERR_error_string_n(e, buf, len);
    }
    ERR_clear_error();
    return buf;
}

/* Checks that `path` can be opened, so that a missing or unreadable file is
 * reported as such rather than as a PEM error. */
static int check_readable(const char *setting, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s %s: %s", setting, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* Warns when the server's own certificate is not valid now: clients that
 * verify will refuse it, and the reason is easier to find in the log. */
static void warn_if_not_current(SSL_CTX *ctx, const char *path)
{
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    if (!cert)
        return;
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
        log_warn("TLSCertFile %s has expired: verifying clients will refuse it", path);
    else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
        log_warn("TLSCertFile %s is not valid yet: verifying clients will refuse it", path);
}

/*
 * A server context from cfg's certificate, key, CA file and minimum
 * version in *out; -1 with one line in `err` when one of them is unusable.
 */
static int build_ctx(const Config *cfg, SSL_CTX **out, char *err, size_t errlen)
{
    char why[256];
    SSL_CTX *ctx = NULL;
    *out = NULL;
    ERR_clear_error();
    ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create the TLS context: %s",
                 ssl_reason(why, sizeof(why), "unknown error"));
        goto fail;
    }
    int min = strcmp(cfg->tls_min_version, "1.3") == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx, min);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
        snprintf(err, errlen, "cannot set the TLS 1.2 ciphers: %s",
                 ssl_reason(why, sizeof(why), "unknown error"));
        goto fail;
    }

    if (check_readable("TLSCertFile", cfg->tls_cert_file, err, errlen) != 0 ||
        check_readable("TLSKeyFile", cfg->tls_key_file, err, errlen) != 0)
        goto fail;
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1) {
        snprintf(err, errlen, "TLSCertFile %s is not a usable PEM certificate (%s)",
                 cfg->tls_cert_file, ssl_reason(why, sizeof(why), "unknown error"));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1) {
        unsigned long e = ERR_peek_last_error();
        if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            goto mismatch;
        snprintf(err, errlen, "TLSKeyFile %s is not a usable PEM private key (%s)",
                 cfg->tls_key_file, ssl_reason(why, sizeof(why), "unknown error"));
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
    mismatch:
        ERR_clear_error();
        snprintf(err, errlen, "TLSKeyFile %s is not the key of the certificate in TLSCertFile %s",
                 cfg->tls_key_file, cfg->tls_cert_file);
        goto fail;
    }
    warn_if_not_current(ctx, cfg->tls_cert_file);

    if (cfg->tls_ca_file[0]) {
        if (check_readable("TLSCAFile", cfg->tls_ca_file, err, errlen) != 0)
            goto fail;
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_ca_file);
        if (!names || SSL_CTX_load_verify_locations(ctx, cfg->tls_ca_file, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            snprintf(err, errlen, "TLSCAFile %s holds no usable PEM CA certificate (%s)",
                     cfg->tls_ca_file, ssl_reason(why, sizeof(why), "no certificate found"));
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names); /* takes ownership of names */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_verify_depth(ctx, 8);
    }
    *out = ctx;
    return 0;
fail:
    SSL_CTX_free(ctx);
    return -1;
}

int tls_server_new(const Config *cfg, TlsServer **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strcmp(cfg->tls_mode, "off") == 0) {
        if (cfg->tls_cert_file[0])
            log_warn("TLSCertFile is set but TLSMode is off: TLS is not offered to clients");
        return 0;
    }
    SSL_CTX *ctx = NULL;
    if (build_ctx(cfg, &ctx, err, errlen) != 0)
        return -1;
    TlsServer *ts = xcalloc(1, sizeof(*ts));
    pthread_mutex_init(&ts->lock, NULL);
    ts->ctx = ctx;
    ts->mode = strcmp(cfg->tls_mode, "required") == 0 ? TLS_MODE_REQUIRED : TLS_MODE_OPTIONAL;
    *out = ts;
    return 0;
}

int tls_server_reload(TlsServer *ts, const Config *cfg, char *err, size_t errlen)
{
    if (!ts)
        return 0;
    SSL_CTX *ctx = NULL;
    if (build_ctx(cfg, &ctx, err, errlen) != 0)
        return -1;
    pthread_mutex_lock(&ts->lock);
    SSL_CTX *old = ts->ctx;
    ts->ctx = ctx;
    pthread_mutex_unlock(&ts->lock);
    SSL_CTX_free(old); /* connections started on it keep their own reference */
    return 0;
}

void tls_server_free(TlsServer *ts)
{
    if (!ts)
        return;
    SSL_CTX_free(ts->ctx);
    pthread_mutex_destroy(&ts->lock);
    free(ts);
}

TlsMode tls_server_mode(const TlsServer *ts)
{
    return ts ? ts->mode : TLS_MODE_OFF;
}

Tls *tls_new(TlsServer *ts, int fd)
{
    Tls *t = xcalloc(1, sizeof(*t));
    pthread_mutex_lock(&ts->lock);
    t->ssl = SSL_new(ts->ctx);
    pthread_mutex_unlock(&ts->lock);
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1)
        log_fatal("out of memory (SSL_new)");
    SSL_set_accept_state(t->ssl);
    t->want = POLLIN;
    return t;
}

struct ssl_st *tls_ssl_new(TlsServer *ts)
{
    SSL *ssl = SSL_new(ts->ctx);
    if (!ssl)
        log_fatal("out of memory (SSL_new)");
    return ssl;
}

/*
 * Maps the result `rc` of an SSL call to the recv/send convention: -1 with
 * errno EAGAIN for would-block (recording which direction to wait for), 0
 * for the peer's close_notify, -1 with another errno for a broken
 * connection.
 */
static ssize_t io_result(Tls *t, int rc)
{
    int e = SSL_get_error(t->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        t->want = POLLIN;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        t->want = POLLOUT;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        t->broken = true;
        ERR_clear_error();
        if (errno == 0 || errno == EAGAIN)
            errno = ECONNRESET;
        return -1;
    default:
        t->broken = true;
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

ssize_t tls_read(Tls *t, void *buf, size_t len)
{
    if (t->broken) {
        errno = EPIPE;
        return -1;
    }
    size_t n = 0;
    ERR_clear_error();
    int rc = SSL_read_ex(t->ssl, buf, len, &n);
    if (rc == 1)
        return (ssize_t)n;
    return io_result(t, rc);
}

ssize_t tls_write(Tls *t, const void *buf, size_t len)
{
    if (t->broken) {
        errno = EPIPE;
        return -1;
    }
    size_t n = 0;
    ERR_clear_error();
    int rc = SSL_write_ex(t->ssl, buf, len, &n);
    if (rc == 1)
        return (ssize_t)n;
    ssize_t r = io_result(t, rc);
    if (r == 0) { /* the peer sent close_notify: it reads no more */
        errno = EPIPE;
        return -1;
    }
    return r;
}

TlsStep tls_handshake(Tls *t, char *why, size_t whylen)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(t->ssl);
    if (rc == 1) {
        t->want = POLLIN;
        t->established = true;
        return TLS_DONE;
    }
    int e = SSL_get_error(t->ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        t->want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return TLS_AGAIN;
    }
    t->broken = true;
    if (e == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0) {
        snprintf(why, whylen, "%s",
                 errno ? strerror(errno) : "the client closed the connection during the handshake");
        return TLS_FAILED;
    }
    ssl_reason(why, whylen, "protocol error");
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK) {
        size_t used = strlen(why);
        snprintf(why + used, whylen - used, " (client certificate: %s)",
                 X509_verify_cert_error_string(v));
    }
    return TLS_FAILED;
}

short tls_wait_events(const Tls *t)
{
    return t->want;
}

bool tls_established(const Tls *t)
{
    return t->established;
}

bool tls_pending(const Tls *t)
{
    return !t->broken && SSL_has_pending(t->ssl);
}

void tls_describe(const Tls *t, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
    X509 *peer = SSL_get0_peer_certificate(t->ssl);
    if (n < 0 || (size_t)n >= len || !peer || SSL_get_verify_result(t->ssl) != X509_V_OK)
        return;
    char cn[128] = "";
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn)) > 0)
        snprintf(buf + n, len - (size_t)n, ", client certificate CN=%s", cn);
}

void tls_close(Tls *t)
{
    if (!t)
        return;
    if (!t->broken && SSL_is_init_finished(t->ssl)) {
        /* One non-blocking attempt: close_notify goes out if the socket
         * takes it; the peer's answer is not awaited. */
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
    SSL_free(t->ssl);
    free(t);
}
