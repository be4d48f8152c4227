/*
 * http: libevent's evhttp behind a small interface. See http.h.
 *
 * Each thread owns one event base and one evhttp instance; they all accept
 * from the same listening socket (an evconnlistener per base without
 * LEV_OPT_CLOSE_ON_FREE, so the socket is closed once, here). A request is
 * answered on the thread that read it, inside the evhttp callback.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "log.h"
#include "xalloc.h"

typedef struct HttpThread {
    HttpServer *h;
    struct event_base *base;
    struct evhttp *http;
    pthread_t tid;
    bool started;
} HttpThread;

struct HttpServer {
    int fd;
    int port;
    TlsServer *tls; /* borrowed; NULL: plain HTTP */
    HttpHandler fn;
    void *ctx;
    HttpThread threads[HTTP_THREADS];
};

struct HttpRequest {
    struct evhttp_request *req;
    HttpServer *h;
    char *path; /* decoded, malloc'd by libevent */
    struct evkeyvalq params;
    bool params_parsed;
    char *body; /* NUL-terminated copy */
    size_t body_len;
    char peer[HTTP_ADDR_MAX];
    bool loopback;
    bool replied;
};

/* libevent could not allocate: out of memory ends the process (xalloc.h). */
static void oom(void)
{
    log_fatal("out of memory (libevent)");
}

/* ---- request accessors ---- */

HttpMethod http_method(const HttpRequest *r)
{
    switch (evhttp_request_get_command(r->req)) {
    case EVHTTP_REQ_GET:
        return HTTP_GET;
    case EVHTTP_REQ_POST:
        return HTTP_POST;
    default:
        return HTTP_OTHER;
    }
}

const char *http_path(const HttpRequest *r)
{
    return r->path;
}

const char *http_header(const HttpRequest *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

const char *http_peer(const HttpRequest *r)
{
    return r->peer;
}

bool http_peer_loopback(const HttpRequest *r)
{
    return r->loopback;
}

bool http_is_tls(const HttpRequest *r)
{
    return r->h->tls != NULL;
}

const char *http_body(const HttpRequest *r, size_t *out_len)
{
    *out_len = r->body_len;
    return r->body;
}

const char *http_param(const HttpRequest *r, const char *name, int n)
{
    HttpRequest *m = (HttpRequest *)r;
    if (!m->params_parsed) {
        m->params_parsed = true;
        const char *q = NULL;
        if (http_method(r) == HTTP_POST) {
            const char *type = http_header(r, "Content-Type");
            if (type && strncmp(type, "application/x-www-form-urlencoded", 33) == 0)
                q = m->body;
        } else {
            q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->req));
        }
        /* A malformed string leaves what was parsed before the error: clear it. */
        if (q && evhttp_parse_query_str(q, &m->params) != 0)
            evhttp_clear_headers(&m->params);
    }
    struct evkeyval *kv;
    TAILQ_FOREACH(kv, &m->params, next)
    {
        if (strcmp(kv->key, name) == 0 && n-- == 0)
            return kv->value;
    }
    return NULL;
}

void http_header_add(HttpRequest *r, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

void http_reply(HttpRequest *r, int status, const char *type, const void *body, size_t len)
{
    if (r->replied)
        return;
    r->replied = true;
    struct evbuffer *b = evbuffer_new();
    if (!b)
        oom();
    if (len && evbuffer_add(b, body, len) != 0)
        oom();
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type", type);
    evhttp_send_reply(r->req, status, reason(status), b);
    evbuffer_free(b);
}

/* ---- serving ---- */

static void peer_of(struct evhttp_request *req, HttpRequest *r)
{
    struct evhttp_connection *c = evhttp_request_get_connection(req);
    const struct sockaddr *sa = c ? evhttp_connection_get_addr(c) : NULL;
    snprintf(r->peer, sizeof(r->peer), "unknown");
    if (!sa)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, r->peer, sizeof(r->peer));
        r->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, r->peer, sizeof(r->peer));
        r->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                      (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    HttpServer *h = arg;
    HttpRequest r = {.req = req, .h = h};
    TAILQ_INIT(&r.params);
    peer_of(req, &r);
    const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    r.path = evhttp_uridecode(raw && *raw ? raw : "/", 0, NULL);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    r.body = xmalloc(n + 1);
    evbuffer_copyout(in, r.body, n);
    r.body[n] = '\0';
    r.body_len = strlen(r.body);
    if (!r.path)
        http_reply(&r, 400, "text/plain", "bad path\n", 9);
    else
        h->fn(&r, h->ctx);
    if (!r.replied)
        http_reply(&r, 500, "text/plain", "no answer\n", 10);
    evhttp_clear_headers(&r.params);
    free(r.body);
    free(r.path);
}

/* A TLS bufferevent for each new connection (evhttp_set_bevcb). */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
    HttpServer *h = arg;
    return bufferevent_openssl_socket_new(base, -1, tls_ssl_new(h->tls), BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static void *thread_main(void *arg)
{
    HttpThread *t = arg;
    event_base_dispatch(t->base);
    return NULL;
}

static int bind_socket(const char *addr, int port, int *out_port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(addr, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "AdminAddr %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        snprintf(err, errlen, "cannot listen on admin address %s port %d: %s", addr, port,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *out_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                              : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

int http_server_start(const char *addr, int port, TlsServer *tls, HttpHandler fn, void *ctx,
                      HttpServer **out, char *err, size_t errlen)
{
    *out = NULL;
    /* Lets http_server_stop() end another thread's loop. */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, (void (*)(void))evthread_use_pthreads);
    HttpServer *h = xcalloc(1, sizeof(*h));
    h->tls = tls;
    h->fn = fn;
    h->ctx = ctx;
    h->fd = bind_socket(addr, port, &h->port, err, errlen);
    if (h->fd < 0) {
        free(h);
        return -1;
    }
    for (int i = 0; i < HTTP_THREADS; i++) {
        HttpThread *t = &h->threads[i];
        t->h = h;
        t->base = event_base_new();
        t->http = t->base ? evhttp_new(t->base) : NULL;
        struct evconnlistener *l =
            t->http ? evconnlistener_new(t->base, NULL, NULL, LEV_OPT_REUSEABLE, 0, h->fd) : NULL;
        if (!l || !evhttp_bind_listener(t->http, l)) {
            if (l)
                evconnlistener_free(l);
            snprintf(err, errlen, "cannot start the admin HTTP server (libevent)");
            goto fail;
        }
        evhttp_set_timeout(t->http, 30);
        evhttp_set_max_headers_size(t->http, 16384);
        evhttp_set_max_body_size(t->http, HTTP_BODY_MAX);
        evhttp_set_allowed_methods(t->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
        evhttp_set_gencb(t->http, on_request, h);
        if (tls)
            evhttp_set_bevcb(t->http, tls_bev, h);
    }
    /* The threads start with every signal blocked: SIGTERM and the like are
     * the server's I/O thread's (signalfd), never a default action here. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 0; i < HTTP_THREADS; i++) {
        HttpThread *t = &h->threads[i];
        if (pthread_create(&t->tid, NULL, thread_main, t) != 0)
            break;
        t->started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->threads[HTTP_THREADS - 1].started) {
        snprintf(err, errlen, "cannot start the admin HTTP threads");
        goto fail;
    }
    *out = h;
    return 0;
fail:
    http_server_stop(h);
    return -1;
}

int http_server_port(const HttpServer *h)
{
    return h->port;
}

void http_server_stop(HttpServer *h)
{
    if (!h)
        return;
    for (int i = 0; i < HTTP_THREADS; i++)
        if (h->threads[i].started)
            event_base_loopbreak(h->threads[i].base);
    for (int i = 0; i < HTTP_THREADS; i++) {
        HttpThread *t = &h->threads[i];
        if (t->started)
            pthread_join(t->tid, NULL);
        if (t->http)
            evhttp_free(t->http);
        if (t->base)
            event_base_free(t->base);
    }
    close(h->fd);
    free(h);
}
