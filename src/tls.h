/*
 * tls: the server's TLS transport (OpenSSL), the only module that uses
 * libssl. The protocol (docs/protocol.md, "TLS") upgrades a plain
 * connection when its first request is `starttls`; server.c decides when,
 * and this module does the rest: the context built once from the settings,
 * the per-connection state, a non-blocking handshake, and read and write
 * wrappers that report "would block" the way recv(2) and send(2) do, so the
 * server's loops treat both transports alike. A plain connection never
 * enters this module.
 *
 * Threads: the TlsServer context is built before the threads start;
 * tls_server_reload() may replace it later (under a mutex inside the
 * TlsServer), and each connection keeps the context it started with
 * (OpenSSL's SSL_CTX is reference-counted and safe to share). A Tls belongs
 * to the thread that owns its session (the I/O thread while the session is
 * idle or handshaking, one worker while its requests run); it is never used
 * by two threads at once, and needs no lock because the session hand-over
 * between threads already goes through a mutex.
 *
 * Nothing here logs or returns key material; error texts are OpenSSL's
 * reason strings and file names.
 */
#ifndef TCPDUCKDB_TLS_H
#define TCPDUCKDB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

typedef enum { TLS_MODE_OFF, TLS_MODE_OPTIONAL, TLS_MODE_REQUIRED } TlsMode;

typedef struct TlsServer TlsServer;
typedef struct Tls Tls;

/*
 * Builds the server context from cfg's TLS settings. With TLSMode=off sets
 * *out to NULL and returns 0 (no certificate is read). Otherwise loads and
 * checks the certificate chain, the key (which must match) and the
 * optional client CA file; returns -1 with one line in `err` naming the
 * setting, the file and the reason when any of them is unusable. Caller
 * frees with tls_server_free().
 */
int tls_server_new(const Config *cfg, TlsServer **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void tls_server_free(TlsServer *ts);

/*
 * `reload` (reload.h): builds a new context from cfg's certificate, key,
 * CA file and minimum version, as tls_server_new() checks them, and makes
 * it the one new handshakes use; connections already started keep theirs.
 * On error (-1, `err` says why) the context in use stays. TLSMode is not
 * changed (a restart changes it). No-op returning 0 for NULL. Any thread.
 */
int tls_server_reload(TlsServer *ts, const Config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* TLS_MODE_OFF for NULL. */
TlsMode tls_server_mode(const TlsServer *ts);

/* Starts the server side of a connection on the non-blocking socket `fd`
 * (which stays owned by the caller). Caller frees with tls_close(). */
Tls *tls_new(TlsServer *ts, int fd);

/*
 * A new server-side OpenSSL connection object on the server's context, for
 * a transport that drives OpenSSL itself (the admin port's libevent, http.c);
 * that transport takes ownership. Never NULL (out of memory ends the process).
 */
struct ssl_st *tls_ssl_new(TlsServer *ts);

typedef enum { TLS_DONE, TLS_AGAIN, TLS_FAILED } TlsStep;

/*
 * Advances the handshake without blocking. TLS_AGAIN: wait for the events
 * of tls_wait_events() and call again. TLS_FAILED: `why` says why (for the
 * log); the connection must be closed.
 */
TlsStep tls_handshake(Tls *t, char *why, size_t whylen);

/*
 * As recv(2) and send(2) on a non-blocking socket: bytes moved (> 0); 0 on
 * the peer's close (read only); -1 with errno EAGAIN when the socket is not
 * ready (wait for tls_wait_events()), or another errno when the connection
 * is broken. A write that returned EAGAIN must be retried with the same
 * bytes (they may start at another address) before anything else is
 * written: part of them may already be encrypted.
 */
ssize_t tls_read(Tls *t, void *buf, size_t len);
ssize_t tls_write(Tls *t, const void *buf, size_t len);

/* True once tls_handshake() has returned TLS_DONE: from then on the
 * connection carries the protocol, encrypted. */
bool tls_established(const Tls *t);

/* POLLIN or POLLOUT: what the last EAGAIN (or TLS_AGAIN) waits for. */
short tls_wait_events(const Tls *t);

/* True when decrypted bytes are buffered inside OpenSSL: epoll cannot see
 * them, so the reader must call tls_read() again before waiting. */
bool tls_pending(const Tls *t);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" plus the client certificate's subject
 * CN when one was verified, for the log. */
void tls_describe(const Tls *t, char *buf, size_t len);

/* Sends close_notify if the connection is healthy (without waiting for the
 * socket or for the peer's answer) and frees. Does not close the socket.
 * Accepts NULL. */
void tls_close(Tls *t);

#endif
