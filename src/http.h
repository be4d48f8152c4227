/*
 * http: the admin port's HTTP(S) server, the only module that uses
 * libevent (evhttp, and libevent_openssl for TLS). It binds one listening
 * socket and runs HTTP_THREADS threads, each with its own event base and
 * evhttp instance accepting from that socket, so one slow request (a long
 * query in the console) holds one thread, not the page. Nothing here knows
 * what the pages are: every request goes to one handler (admin.c), which
 * answers it before returning, on the thread that read it.
 *
 * TLS: with a TlsServer (the line protocol's certificate and settings,
 * tls.h) every connection is TLS from its first byte; the SSL objects come
 * from tls.c, which alone calls OpenSSL, so there is one TLS stack.
 *
 * Bounds: request headers 16 KiB, bodies HTTP_BODY_MAX, 30 s timeout per
 * connection, at most HTTP_CONNECTIONS_MAX connections per thread
 * (further ones are closed at accept).
 */
#ifndef TCPDUCKDB_HTTP_H
#define TCPDUCKDB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "tls.h"

#define HTTP_THREADS 4
#define HTTP_BODY_MAX (1024 * 1024)
#define HTTP_ADDR_MAX 64

typedef struct HttpServer HttpServer;
typedef struct HttpRequest HttpRequest;

typedef enum { HTTP_GET, HTTP_POST, HTTP_OTHER } HttpMethod;

/* Answers `r` (exactly one http_reply) before returning. Any admin thread. */
typedef void (*HttpHandler)(HttpRequest *r, void *ctx);

/*
 * Binds addr:port (port 0: any free port), starts the threads and returns
 * 0; -1 with one line in `err` when the address cannot be bound. `tls`
 * (borrowed, outlives the server) makes it HTTPS only; NULL: plain HTTP.
 * Caller stops and frees with http_server_stop().
 */
int http_server_start(const char *addr, int port, TlsServer *tls, HttpHandler fn, void *ctx,
                      HttpServer **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The port bound (useful with port 0). */
int http_server_port(const HttpServer *h);

/* Stops the threads (a request being answered finishes first) and frees. Accepts NULL. */
void http_server_stop(HttpServer *h);

/* ---- one request, valid until http_reply() ---- */

HttpMethod http_method(const HttpRequest *r);
/* The path without the query string, decoded; "/" at least. */
const char *http_path(const HttpRequest *r);
/* A request header, or NULL. */
const char *http_header(const HttpRequest *r, const char *name);
/* The client's address as text ("127.0.0.1", "::1"). */
const char *http_peer(const HttpRequest *r);
/* True when the client connected from a loopback address. */
bool http_peer_loopback(const HttpRequest *r);
/* True when the connection is TLS. */
bool http_is_tls(const HttpRequest *r);
/* The body, NUL-terminated (a body with a NUL byte is cut there). */
const char *http_body(const HttpRequest *r, size_t *out_len);
/*
 * The value of `name` in the query string (GET) or a form-encoded body
 * (POST), decoded; the n-th when it repeats (0 first); NULL when absent.
 */
const char *http_param(const HttpRequest *r, const char *name, int n);
/* Adds a response header (before http_reply). */
void http_header_add(HttpRequest *r, const char *name, const char *value);
/* Sends the answer: status, Content-Type and body (copied). */
void http_reply(HttpRequest *r, int status, const char *type, const void *body, size_t len);

#endif
