/*
 * server: I/O thread, worker threads and the hand-over between them.
 * See server.h for the model; docs/architecture.md has the picture.
 *
 * Threads. The I/O thread accepts connections, reads signals and enforces
 * deadlines; it never reads a client socket. Client sockets live in a
 * second epoll set, `sess_epoll_fd`, registered with EPOLLONESHOT, on which
 * every worker waits: the worker that takes a socket's event owns the
 * session (reads, frames and runs its requests, writes the answers, steps a
 * TLS handshake) until it re-arms the socket (release()) or closes the
 * session. A request therefore costs one thread wake-up in the server, the
 * worker's, rather than one for an I/O thread that frames it and another
 * for the worker that runs it.
 *
 * `busy` says a worker owns the session. It is read and written only under
 * `sessions_lock`, which also guards the list of all sessions (for idle
 * scans, shutdown and the connection count). The I/O thread never hands a
 * session to a worker: to close an idle one (IdleTimeout, a stalled
 * handshake, shutdown) it marks it `expired` under the lock and shuts the
 * socket (expire()), which makes epoll report it; the worker that takes
 * the event sees the mark and closes the session. A session whose
 * requests are already buffered but which has had its turn goes to the job
 * queue, which workers check before waiting on epoll; it is pushed only by
 * a worker, which then pops, so the queue never waits for a wake-up.
 *
 * `sessions_active` mirrors the session count for readers outside this
 * module (server_sessions_active()); it is changed together with
 * `session_count`, under `sessions_lock`, and read without the lock. It is
 * process-wide because the server is: main.c runs one server_run().
 *
 * Transport (docs/protocol.md, "TLS"): a session reads and writes its socket
 * directly until its first request is `starttls` on a server with TLS on;
 * then the worker answers `success`, attaches a Tls (tls.h) and hands the
 * session back, and the I/O thread runs the handshake without blocking,
 * under a deadline. From then on every read and write of the session goes
 * through the Tls, by the thread that owns the session at the time. The
 * choice is one branch on `s->tls` per read or write call (not per row),
 * so the plain path stays a direct recv()/send().
 */
#include "server.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reply.h"
#include "tls.h"

/* Bytes read per recv(); also the read buffer an idle client keeps. */
#define READ_CHUNK 16384
/* Per readiness event, so one fast sender cannot starve the others. */
#define READ_BUDGET (256 * 1024)
/* Requests a worker runs for one session before letting others go first. */
#define REQUESTS_PER_TURN 64
/* A client that accepts no bytes for this long is dropped. */
#define WRITE_TIMEOUT_MS 60000
/* Output buffers larger than this are freed after each turn. */
#define OUT_KEEP_BYTES (1024 * 1024)
/* From `success` to starttls until the TLS handshake must be complete. */
#define HANDSHAKE_TIMEOUT_MS 10000

typedef struct Server {
    const SessionEnv *env;
    TlsServer *tls; /* NULL when TLSMode=off */
    int listen_fd;
    int epoll_fd;      /* I/O thread: listening socket, signals, wake_fd */
    int sess_epoll_fd; /* workers: client sockets (EPOLLONESHOT) and stop_fd */
    int wake_fd;       /* eventfd: during shutdown, the last session closed */
    int stop_fd;       /* eventfd, level-triggered: workers must exit */
    int signal_fd;     /* SIGINT, SIGTERM */
    int spare_fd;      /* reserved descriptor, released to shed a connection at EMFILE */
    atomic_bool stopping;

    pthread_mutex_t sessions_lock; /* guards the session list and count */
    Session *sessions;
    int session_count;

    pthread_mutex_t jobs_lock; /* guards jobs_head/tail */
    Session *jobs_head, *jobs_tail;
    atomic_int job_count; /* lets an idle worker skip the lock */

    pthread_t *workers;
    int worker_count;
} Server;

static atomic_int sessions_active;
static atomic_int sessions_tls; /* sessions past their TLS handshake */

int server_sessions_active(void)
{
    return atomic_load_explicit(&sessions_active, memory_order_relaxed);
}

int server_sessions_tls(void)
{
    return atomic_load_explicit(&sessions_tls, memory_order_relaxed);
}

/* Tags for epoll data that are not sessions. */
static char tag_listen, tag_wake, tag_signal, tag_stop;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake_io(Server *srv)
{
    uint64_t one = 1;
    ssize_t w = write(srv->wake_fd, &one, sizeof(one));
    (void)w; /* a full counter still wakes the loop */
}

/* ---- transport --------------------------------------------------------- */

/* send(2) or its TLS equivalent; never blocks. The caller owns `s`. */
static ssize_t conn_send(Session *s, const char *data, size_t len)
{
    if (!s->tls)
        return send(s->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    return tls_write(s->tls, data, len);
}

/* recv(2) or its TLS equivalent; never blocks. The caller owns `s`. */
static ssize_t conn_recv(Session *s, char *data, size_t len)
{
    if (!s->tls)
        return recv(s->fd, data, len, 0);
    return tls_read(s->tls, data, len);
}

/* What a send that returned EAGAIN waits for: TLS may need to read first. */
static short conn_send_waits_for(const Session *s)
{
    return s->tls ? tls_wait_events(s->tls) : POLLOUT;
}

/* ---- socket output ---------------------------------------------------- */

/* Writes all of data, waiting up to timeout_ms for each bit of progress. */
static int write_all(Session *s, const char *data, size_t len, int timeout_ms)
{
    while (len > 0) {
        ssize_t w = conn_send(s, data, len);
        if (w > 0) {
            data += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = s->fd, .events = conn_send_waits_for(s)};
            int r = poll(&pfd, 1, timeout_ms);
            if (r > 0 && !(pfd.revents & (POLLERR | POLLHUP)))
                continue;
            if (r < 0 && errno == EINTR)
                continue;
        }
        return -1;
    }
    return 0;
}

static int flush_session(void *ctx, Buf *out)
{
    Session *s = ctx;
    int rc = write_all(s, out->data, out->len, WRITE_TIMEOUT_MS);
    out->len = 0;
    return rc;
}

/*
 * Where release() re-arms a socket. The hand-off to the next owner is ordered
 * by the kernel (the event cannot be delivered before the re-arm), and the
 * releasing worker uses only copies (fd, mask) once it has unlocked, so the
 * re-arm may follow the unlock; arming under the lock cost a fifth of the
 * small-query throughput at 4 connections (workers waiting for the lock
 * during the syscall). ThreadSanitizer does not model EPOLL_CTL_MOD as a
 * release, so under it the re-arm happens under the lock, which the next
 * owner takes first (on_event()): the same hand-off, ordered in terms it sees.
 */
#ifdef __SANITIZE_THREAD__
#define ARM_UNDER_LOCK 1
#else
#define ARM_UNDER_LOCK 0
#endif

/* ---- job queue ------------------------------------------------------ */

/* Queues a session the calling worker owns; the caller pops next. */
static void push_job(Server *srv, Session *s)
{
    s->next_job = NULL;
    pthread_mutex_lock(&srv->jobs_lock);
    if (srv->jobs_tail)
        srv->jobs_tail->next_job = s;
    else
        srv->jobs_head = s;
    srv->jobs_tail = s;
    atomic_fetch_add(&srv->job_count, 1);
    pthread_mutex_unlock(&srv->jobs_lock);
}

/* The oldest queued session, or NULL; never waits. */
static Session *pop_job(Server *srv)
{
    if (atomic_load(&srv->job_count) == 0)
        return NULL;
    pthread_mutex_lock(&srv->jobs_lock);
    Session *s = srv->jobs_head;
    if (s) {
        srv->jobs_head = s->next_job;
        if (!srv->jobs_head)
            srv->jobs_tail = NULL;
        atomic_fetch_sub(&srv->job_count, 1);
    }
    pthread_mutex_unlock(&srv->jobs_lock);
    return s;
}

/* ---- workers ---------------------------------------------------------- */

/*
 * Sends the reason (best effort; not during a TLS handshake, where a plain
 * line would be garbage), closes and frees the session. Worker only.
 */
static void close_session(Server *srv, Session *s, CloseReason reason)
{
    if (reason && !s->tls_handshaking) {
        Buf line = BUF_INIT;
        reason(&line);
        (void)write_all(s, line.data, line.len, 1000);
        buf_free(&line);
    }
    pthread_mutex_lock(&srv->sessions_lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    int left = --srv->session_count;
    atomic_fetch_sub_explicit(&sessions_active, 1, memory_order_relaxed);
    pthread_mutex_unlock(&srv->sessions_lock);
    if (s->tls && !s->tls_handshaking)
        atomic_fetch_sub_explicit(&sessions_tls, 1, memory_order_relaxed);
    int fd = s->fd;
    tls_close(s->tls);
    s->tls = NULL;
    buf_free(&s->unsent);
    session_free(s, srv->env);
    close(fd);
    if (left == 0 && atomic_load(&srv->stopping))
        wake_io(srv);
}

/*
 * Sends what the socket takes now without waiting. Returns the number of
 * bytes sent (possibly fewer than len), or -1 when the client is gone.
 */
static ssize_t send_now(Session *s, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = conn_send(s, data + sent, len - sent);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        return -1;
    }
    return (ssize_t)sent;
}

/*
 * The events a session waits for: its socket readable, or writable for
 * answers it has parked. A TLS session waits for what OpenSSL asked for
 * while handshaking or flushing, and while reading also for writability
 * if the last read needed to write.
 */
static uint32_t wait_events(const Session *s)
{
    if (!s->tls)
        return s->want_write ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
    uint32_t tls = tls_wait_events(s->tls) == POLLOUT ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
    if (s->want_write || s->tls_handshaking)
        return tls;
    return EPOLLIN | EPOLLRDHUP | (tls & EPOLLOUT);
}

/*
 * Registers (op EPOLL_CTL_ADD) or re-arms (EPOLL_CTL_MOD) a session's socket
 * with `ev`, built by the caller from the session while it still owned it:
 * once the socket is armed, another worker may take the session, so this
 * must not read the session (the fd is passed apart; it stays open, since
 * only the session's owner closes it).
 */
static void arm(Server *srv, int fd, struct epoll_event *ev, int op)
{
    if (epoll_ctl(srv->sess_epoll_fd, op, fd, ev) != 0)
        log_error("epoll_ctl: %s", strerror(errno));
}

static struct epoll_event arm_event(const Session *s)
{
    struct epoll_event ev = {.events = wait_events(s) | EPOLLONESHOT, .data.ptr = (void *)s};
    return ev;
}

/*
 * Gives up the calling worker's ownership of `s`: re-arms its socket, so
 * the next event hands it to whichever worker takes it. `busy` is cleared
 * under the lock before the socket is armed, so scan_idle() and
 * begin_shutdown() see either a session a worker owns or one they may
 * expire; an expiry between the unlock and the arm is safe, since it only
 * marks the session and shuts the socket's read side, which the arm then
 * reports. The caller must not touch `s` afterwards. Decrypted bytes
 * OpenSSL holds are invisible to epoll, so such a session stays owned and
 * goes to the job queue instead.
 */
static void release(Server *srv, Session *s)
{
    if (s->tls && !s->tls_handshaking && !s->want_write && tls_pending(s->tls)) {
        push_job(srv, s);
        return;
    }
    int fd = s->fd;
    struct epoll_event ev = arm_event(s);
    pthread_mutex_lock(&srv->sessions_lock);
    bool stopping = atomic_load(&srv->stopping);
    if (!stopping) {
        if (!s->tls_handshaking) /* the handshake deadline runs from starttls */
            s->last_active_ms = now_ms();
        s->busy = false;
        if (ARM_UNDER_LOCK)
            arm(srv, fd, &ev, EPOLL_CTL_MOD);
    }
    pthread_mutex_unlock(&srv->sessions_lock);
    if (stopping)
        close_session(srv, s, s->tls_handshaking ? NULL : reply_shutting_down);
    else if (!ARM_UNDER_LOCK)
        arm(srv, fd, &ev, EPOLL_CTL_MOD);
}

/*
 * Waits, without a worker, until the socket takes the answers in `unsent`.
 * The session's requests are not read meanwhile, so a client that does not
 * read its answers is held back without holding a worker.
 */
static void park_for_write(Server *srv, Session *s)
{
    s->want_write = true;
    release(srv, s);
}

/* ---- starttls --------------------------------------------------------- */

typedef enum {
    TRANSPORT_PASS,     /* not the transport's business: the session handles it */
    TRANSPORT_ANSWERED, /* answered in `out`; go on */
    TRANSPORT_CLOSE,    /* answered in `out`; close the connection */
    TRANSPORT_UPGRADE,  /* a valid starttls: switch to TLS */
} TransportVerdict;

/*
 * The transport's part of the protocol (docs/protocol.md, "TLS"), applied
 * to every request before the session sees it: `starttls` (only as the
 * first request) and TLSMode=required (the first request must be
 * `starttls`). Costs one flag test and one length test per request.
 */
static TransportVerdict transport_request(Server *srv, Session *s, RequestStatus st,
                                          const char *text, size_t len, Buf *out)
{
    bool first = !s->first_request_seen;
    s->first_request_seen = true;
    bool starttls = st == REQUEST_OK && len == 8 && request_word_is(text, "starttls");
    TlsMode mode = tls_server_mode(srv->tls);
    if (starttls && !first) {
        reply_bad_request(out, "starttls must be the first request");
        return TRANSPORT_ANSWERED;
    }
    if (starttls && mode == TLS_MODE_OFF) {
        reply_tls_not_enabled(out);
        return TRANSPORT_ANSWERED;
    }
    if (starttls)
        return TRANSPORT_UPGRADE;
    if (first && mode == TLS_MODE_REQUIRED) {
        reply_tls_required(out);
        return TRANSPORT_CLOSE;
    }
    return TRANSPORT_PASS;
}

/*
 * Answers a first-request `starttls`, attaches the TLS state and hands the
 * session to the I/O thread for the handshake. A client that sent anything
 * after the starttls line before seeing `success` is closed without an
 * answer: those bytes were sent in plain text and must not be taken for
 * part of the encrypted session (cf. CVE-2011-0411). Worker only.
 */
static void start_tls(Server *srv, Session *s)
{
    int queued = 0;
    if (request_pending(&s->reader) > 0 || s->eof || ioctl(s->fd, FIONREAD, &queued) != 0 ||
        queued > 0) {
        log_info("closing a connection that sent plain text after starttls");
        close_session(srv, s, NULL);
        return;
    }
    Buf ok = BUF_INIT;
    reply_success(&ok);
    int rc = write_all(s, ok.data, ok.len, 1000);
    buf_free(&ok);
    if (rc != 0) {
        close_session(srv, s, NULL);
        return;
    }
    s->tls = tls_new(srv->tls, s->fd);
    s->tls_handshaking = true;
    s->pending = REQUEST_NONE;
    s->last_active_ms = now_ms(); /* the handshake deadline counts from here */
    release(srv, s);
}

/* Runs the session's pending request and any others already buffered. */
static void run_session(Server *srv, Session *s, Buf *out)
{
    const SessionEnv *env = srv->env;
    if (s->pending == REQUEST_NONE && s->eof && s->unsent.len == 0) {
        close_session(srv, s, NULL);
        return;
    }
    if (s->unsent.len > 0) {
        ssize_t n = send_now(s, s->unsent.data, s->unsent.len);
        if (n < 0) {
            close_session(srv, s, NULL);
            return;
        }
        buf_consume(&s->unsent, (size_t)n);
        if (s->unsent.len > 0) {
            park_for_write(srv, s);
            return;
        }
        buf_reset(&s->unsent, 0);
        if (s->pending == REQUEST_NONE && s->eof) {
            close_session(srv, s, NULL);
            return;
        }
    }
    QueryIo io = {.out = out, .flush = flush_session, .ctx = s};
    RequestStatus st = s->pending;
    char *text = s->pending_text;
    size_t len = s->pending_len;
    SessionAction action = SESSION_CONTINUE;
    for (int turn = 0; st != REQUEST_NONE; turn++) {
        if (turn == REQUESTS_PER_TURN || atomic_load(&srv->stopping))
            break;
        switch (transport_request(srv, s, st, text, len, out)) {
        case TRANSPORT_PASS:
            action = session_handle(s, env, st, text, len, &io);
            break;
        case TRANSPORT_ANSWERED:
            break;
        case TRANSPORT_CLOSE:
            action = SESSION_CLOSE;
            break;
        case TRANSPORT_UPGRADE:
            assert(out->len == 0 && s->unsent.len == 0); /* it was the first request */
            start_tls(srv, s);
            return;
        }
        if (action == SESSION_CLOSE)
            break;
        st = request_next(&s->reader, (size_t)env->cfg->max_request_bytes, &text, &len);
    }
    /* The answers of the turn go out without waiting: what the socket does
     * not take now is kept, and the session waits for the socket, not a
     * worker (a client that pipelines requests and reads nothing must not
     * be able to hold workers). `quit` and shutdown still wait a little,
     * so their last answers are delivered. */
    bool last = action == SESSION_CLOSE || atomic_load(&srv->stopping);
    ssize_t sent = 0;
    if (last)
        sent = out->len && write_all(s, out->data, out->len, 1000) != 0 ? -1 : 0;
    else if (out->len)
        sent = send_now(s, out->data, out->len);
    if (!last && sent >= 0 && (size_t)sent < out->len)
        buf_append(&s->unsent, out->data + sent, out->len - (size_t)sent);
    buf_reset(out, OUT_KEEP_BYTES);
    if (action == SESSION_CLOSE || sent < 0) {
        close_session(srv, s, NULL);
        return;
    }
    if (atomic_load(&srv->stopping)) {
        close_session(srv, s, reply_shutting_down);
        return;
    }
    s->pending = st;
    s->pending_text = text;
    s->pending_len = len;
    if (s->unsent.len > 0) {
        park_for_write(srv, s);
        return;
    }
    if (st != REQUEST_NONE) {
        push_job(srv, s); /* more work: back of the line */
        return;
    }
    if (s->eof) {
        close_session(srv, s, NULL);
        return;
    }
    release(srv, s);
}

/*
 * Reads what the socket has (up to a budget) and frames the next request
 * into `pending`. Decrypted bytes that OpenSSL holds are invisible to
 * epoll, so a TLS session is read until they are drained, even past the
 * budget (they are at most one record).
 */
static void read_requests(Server *srv, Session *s)
{
    size_t budget = READ_BUDGET;
    size_t max = (size_t)srv->env->cfg->max_request_bytes;
    while (budget > 0 || (s->tls && tls_pending(s->tls))) {
        char *p = request_space(&s->reader, READ_CHUNK);
        ssize_t r = conn_recv(s, p, READ_CHUNK);
        if (r > 0) {
            request_commit(&s->reader, (size_t)r);
            budget -= (size_t)r < budget ? (size_t)r : budget;
            /* A short read drained the socket: another recv() would only say EAGAIN
             * (a syscall per request) and make the buffer grow for nothing. Bytes that
             * arrive later make the re-armed socket ready again. */
            if ((size_t)r < READ_CHUNK && !(s->tls && tls_pending(s->tls)))
                break;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        s->eof = true; /* orderly close, or a reset */
        break;
    }
    s->pending = request_next(&s->reader, max, &s->pending_text, &s->pending_len);
}

/* One non-blocking step of the TLS handshake; true when it is complete. */
static bool step_handshake(Server *srv, Session *s)
{
    char why[256] = "";
    switch (tls_handshake(s->tls, why, sizeof(why))) {
    case TLS_AGAIN:
        release(srv, s);
        return false;
    case TLS_FAILED:
        log_info("TLS handshake failed: %s", why);
        close_session(srv, s, NULL);
        return false;
    case TLS_DONE:
        break;
    }
    s->tls_handshaking = false;
    atomic_fetch_add_explicit(&sessions_tls, 1, memory_order_relaxed);
    tls_describe(s->tls, why, sizeof(why));
    log_debug("TLS connection: %s", why);
    return true;
}

/*
 * Serves a session the calling worker owns, whatever it was waiting for:
 * a handshake step, a socket that takes parked answers, requests to read,
 * or requests already framed (a session back from the job queue).
 */
static void serve(Server *srv, Session *s, Buf *out)
{
    if (s->tls_handshaking) {
        if (!step_handshake(srv, s))
            return;
        /* the first record may already be buffered: read it */
    } else if (s->want_write) {
        s->want_write = false;
        run_session(srv, s, out);
        return;
    }
    if (s->pending == REQUEST_NONE)
        read_requests(srv, s);
    if (s->pending != REQUEST_NONE || s->eof)
        run_session(srv, s, out);
    else
        release(srv, s);
}

/* Takes ownership of a session whose socket event this worker received. */
static void on_event(Server *srv, Session *s, Buf *out)
{
    pthread_mutex_lock(&srv->sessions_lock);
    s->busy = true;
    bool expired = s->expired;
    pthread_mutex_unlock(&srv->sessions_lock);
    if (expired) {
        close_session(srv, s, s->close_reason);
        return;
    }
    serve(srv, s, out);
}

static void *worker_main(void *arg)
{
    Server *srv = arg;
    Buf out = BUF_INIT;
    for (;;) {
        Session *s = pop_job(srv);
        if (s) {
            serve(srv, s, &out);
            continue;
        }
        struct epoll_event ev;
        int n = epoll_wait(srv->sess_epoll_fd, &ev, 1, -1);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            break;
        }
        if (n <= 0)
            continue;
        if (ev.data.ptr == &tag_stop)
            break;
        on_event(srv, ev.data.ptr, &out);
    }
    buf_free(&out);
    return NULL;
}

/* ---- I/O thread ------------------------------------------------------- */

/*
 * Has an idle session closed by the next worker that takes its socket's
 * event, with `reason` (NULL: without a word). The session must not be
 * busy; the caller holds `sessions_lock`, so it cannot be freed. Shutting
 * the socket makes epoll report it now, armed or not yet re-armed: the read
 * side alone for a session armed for reading (EPOLLRDHUP), which leaves the
 * write side for the reason; both sides for one armed only for writing
 * (answers its client does not read, or a TLS handshake step that writes),
 * since only EPOLLHUP is reported whatever the mask, and that client would
 * not read the reason anyway.
 */
static void expire(Session *s, CloseReason reason)
{
    s->expired = true;
    s->close_reason = reason;
    shutdown(s->fd, (wait_events(s) & EPOLLRDHUP) ? SHUT_RD : SHUT_RDWR);
}

static void on_accept(Server *srv)
{
    for (;;) {
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && srv->spare_fd >= 0) {
                /* Out of descriptors: accept and drop one so the listening
                 * socket does not stay readable forever. */
                close(srv->spare_fd);
                fd = accept(srv->listen_fd, NULL, NULL);
                if (fd >= 0)
                    close(fd);
                srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                log_warn("out of file descriptors: a connection was refused");
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                log_error("accept: %s", strerror(errno));
            return;
        }
        pthread_mutex_lock(&srv->sessions_lock);
        bool full = srv->session_count >= srv->env->cfg->max_connections;
        pthread_mutex_unlock(&srv->sessions_lock);
        if (full || atomic_load(&srv->stopping)) {
            Buf line = BUF_INIT;
            reply_too_many_connections(&line);
            ssize_t w = send(fd, line.data, line.len, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)w;
            buf_free(&line);
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        Session *s = session_new(fd);
        s->last_active_ms = now_ms();
        struct epoll_event ev = arm_event(s);
        pthread_mutex_lock(&srv->sessions_lock);
        s->next = srv->sessions;
        if (srv->sessions)
            srv->sessions->prev = s;
        srv->sessions = s;
        srv->session_count++;
        atomic_fetch_add_explicit(&sessions_active, 1, memory_order_relaxed);
        pthread_mutex_unlock(&srv->sessions_lock);
        arm(srv, fd, &ev, EPOLL_CTL_ADD);
    }
}

/* Closes idle sessions (IdleTimeout) and stalled TLS handshakes. */
static void scan_idle(Server *srv)
{
    int timeout = srv->env->cfg->idle_timeout_sec;
    int64_t now = now_ms();
    int64_t cutoff = now - (int64_t)timeout * 1000;
    int64_t handshake_cutoff = now - HANDSHAKE_TIMEOUT_MS;
    pthread_mutex_lock(&srv->sessions_lock);
    for (Session *s = srv->sessions; s; s = s->next) {
        if (s->busy || s->expired)
            continue;
        if (s->tls_handshaking && s->last_active_ms < handshake_cutoff) {
            log_info("TLS handshake timed out after %d s", HANDSHAKE_TIMEOUT_MS / 1000);
            expire(s, NULL);
        } else if (timeout > 0 && s->last_active_ms < cutoff) {
            expire(s, reply_idle_timeout);
        }
    }
    pthread_mutex_unlock(&srv->sessions_lock);
}

static void begin_shutdown(Server *srv)
{
    atomic_store(&srv->stopping, true);
    epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
    close(srv->listen_fd);
    srv->listen_fd = -1;
    pthread_mutex_lock(&srv->sessions_lock);
    log_info("shutting down: closing %d sessions", srv->session_count);
    for (Session *s = srv->sessions; s; s = s->next) {
        if (s->busy)
            session_interrupt(s); /* its worker closes it after the query */
        else if (!s->expired)
            expire(s, s->tls_handshaking ? NULL : reply_shutting_down);
    }
    pthread_mutex_unlock(&srv->sessions_lock);
}

static void io_loop(Server *srv)
{
    struct epoll_event events[128];
    int64_t last_scan = now_ms();
    for (;;) {
        if (atomic_load(&srv->stopping)) {
            pthread_mutex_lock(&srv->sessions_lock);
            int left = srv->session_count;
            pthread_mutex_unlock(&srv->sessions_lock);
            if (left == 0)
                return;
        }
        int n = epoll_wait(srv->epoll_fd, events, 128, 1000);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            return;
        }
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &tag_listen) {
                on_accept(srv);
            } else if (tag == &tag_wake) {
                uint64_t count;
                ssize_t r = read(srv->wake_fd, &count, sizeof(count));
                (void)r;
            } else if (tag == &tag_signal) {
                struct signalfd_siginfo si;
                ssize_t r = read(srv->signal_fd, &si, sizeof(si));
                (void)r;
                if (!atomic_load(&srv->stopping))
                    begin_shutdown(srv);
                break; /* the listening socket may be closed now */
            }
        }
        int64_t now = now_ms();
        if (now - last_scan >= 1000) {
            last_scan = now;
            scan_idle(srv);
        }
    }
}

/* ---- start-up --------------------------------------------------------- */

static int listen_on(const Config *cfg, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", cfg->port);
    int rc = getaddrinfo(cfg->addr, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve ServerAddr %s: %s", cfg->addr, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 511) == 0)
            break;
        snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->addr, cfg->port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void log_listening(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV);
    log_info("listening to %s:%s", host, serv);
}

/* Level-triggered, so stop_fd, never read, wakes every worker in turn. */
static void add_fd(int epoll_fd, int fd, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int server_run(const SessionEnv *env, TlsServer *tls, char *err, size_t errlen)
{
    Server srv = {
        .env = env,
        .tls = tls,
        .listen_fd = -1,
        .epoll_fd = -1,
        .sess_epoll_fd = -1,
        .wake_fd = -1,
        .stop_fd = -1,
        .signal_fd = -1,
    };
    int rc = -1;
    atomic_init(&srv.stopping, false);
    pthread_mutex_init(&srv.sessions_lock, NULL);
    pthread_mutex_init(&srv.jobs_lock, NULL);
    atomic_init(&srv.job_count, 0);

    /* Block the signals in every thread (DuckDB's included, which inherit
     * the mask); they are read from a signalfd by the I/O thread. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv.listen_fd = listen_on(env->cfg, err, errlen);
    if (srv.listen_fd < 0)
        goto out;
    srv.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    srv.sess_epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    srv.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    srv.stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    srv.signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    srv.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (srv.epoll_fd < 0 || srv.sess_epoll_fd < 0 || srv.wake_fd < 0 || srv.stop_fd < 0 ||
        srv.signal_fd < 0) {
        snprintf(err, errlen, "cannot create the event loop: %s", strerror(errno));
        goto out;
    }
    add_fd(srv.epoll_fd, srv.listen_fd, &tag_listen);
    add_fd(srv.epoll_fd, srv.wake_fd, &tag_wake);
    add_fd(srv.epoll_fd, srv.signal_fd, &tag_signal);
    add_fd(srv.sess_epoll_fd, srv.stop_fd, &tag_stop);

    srv.worker_count = env->cfg->query_workers;
    srv.workers = calloc((size_t)srv.worker_count, sizeof(pthread_t));
    if (!srv.workers)
        log_fatal("out of memory");
    for (int i = 0; i < srv.worker_count; i++) {
        if (pthread_create(&srv.workers[i], NULL, worker_main, &srv) != 0)
            log_fatal("cannot start worker threads");
    }
    log_listening(srv.listen_fd);
    io_loop(&srv);

    /* Every session is closed: no worker owns one or can be given one. */
    for (int i = 0; i < srv.worker_count; i++) {
        uint64_t one = 1;
        ssize_t w = write(srv.stop_fd, &one, sizeof(one));
        (void)w;
    }
    for (int i = 0; i < srv.worker_count; i++)
        pthread_join(srv.workers[i], NULL);
    rc = 0;
out:
    free(srv.workers);
    if (srv.listen_fd >= 0)
        close(srv.listen_fd);
    if (srv.epoll_fd >= 0)
        close(srv.epoll_fd);
    if (srv.sess_epoll_fd >= 0)
        close(srv.sess_epoll_fd);
    if (srv.wake_fd >= 0)
        close(srv.wake_fd);
    if (srv.stop_fd >= 0)
        close(srv.stop_fd);
    if (srv.signal_fd >= 0)
        close(srv.signal_fd);
    if (srv.spare_fd >= 0)
        close(srv.spare_fd);
    pthread_mutex_destroy(&srv.sessions_lock);
    pthread_mutex_destroy(&srv.jobs_lock);
    return rc;
}
