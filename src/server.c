/*
 * server: the I/O thread, the worker threads, and the state of each client
 * connection. See server.h for the model; docs/architecture.md has the
 * picture.
 *
 * Threads. The I/O thread accepts connections, reads signals and enforces
 * deadlines (IdleTimeout, the TLS handshake's) and shutdown; it never reads
 * or writes a client socket's data. Client sockets live in a second epoll
 * set, `sess_epoll_fd`, registered with EPOLLONESHOT, on which every
 * worker waits: the worker that takes a socket's event owns the connection
 * (reads, frames and runs its requests, writes the answers, steps a TLS
 * handshake) until it re-arms the socket (release()) or closes the
 * connection. A request therefore costs one thread wake-up in the server,
 * the worker's.
 *
 * Each connection is a Conn, private to this module: the socket, the
 * transport (plain or TLS), the read buffer and the framed request not yet
 * run, the answers the socket did not take, and its state:
 *
 *   accept -> READING <--+--> WORKING --> closed
 *             WRITING <--+      |
 *             HANDSHAKING <-----+
 *   READING, WRITING, HANDSHAKING --(I/O thread: deadline, shutdown)--> EXPIRED --> closed
 *   WORKING --> SILENT --(I/O thread: the silence is over)--> READING
 *
 * READING, WRITING and HANDSHAKING are armed (nobody owns the connection;
 * the state says what its socket waits for); WORKING is owned by a worker
 * (or waiting in the job queue for one); EXPIRED is armed and marked by
 * the I/O thread, and the worker that takes its event closes it with its
 * `close_reason`. The state changes only in set_state(), under
 * `conns_lock`, which also guards the list of all connections (for idle
 * scans, shutdown and the count); the I/O thread never hands a connection
 * to a worker, so no connection has two owners. The protocol state of the
 * client (login, database, transaction) is the Session's (session.h),
 * which the server only passes to session_handle().
 *
 * Drop-in framing (docs/protocol.md): a connection whose framing is not yet
 * lines (request.h) and whose worker found bytes without a line end waits
 * for DropInSilenceMs of silence in SILENT: not armed, on the `silent`
 * list (in deadline order, since every wait is as long), owned by no one.
 * At the deadline the I/O thread arms it in READING for EPOLLOUT too, so a
 * worker takes it at once; that worker reads, and takes the buffered bytes
 * as one request if nothing came meanwhile (else it waits again). Being
 * unarmed, a SILENT connection has no event in flight, so arming it cannot
 * give it two owners; expire() arms it too. No worker sleeps through a
 * silence.
 *
 * Slots (docs/security.md, "Login limits"). Every connection also has a
 * ConnSlot under `conns_lock`: a guest (not logged in, on the guest list
 * in accept order), a user, or doomed (a guest the I/O thread expired).
 * The I/O thread closes guests at their login deadline and, when
 * MaxConnections are taken, the oldest armed guest to make room
 * (admit_accept()); a worker turns its guest into a user when the session
 * asks to log it in (admit_login(), where SuperuserReservedConnections is
 * enforced). Until then a connection's requests are limited to
 * MaxLoginRequestBytes and read one small chunk per event.
 * `addr_buckets` counts connections per address (MaxConnectionsPerAddress),
 * under the same lock. The failed-login throttle is the sessions' business
 * (throttle.h); the server only creates it and hands it to each session.
 *
 * A connection whose requests are already framed but which has had its
 * turn goes to the job queue, which workers check before waiting on epoll;
 * it is pushed only by a worker, which then pops, so the queue never waits
 * for a wake-up.
 *
 * `sessions_active` mirrors the connection count for readers outside this
 * module (server_sessions_active()); it is changed together with
 * `conn_count`, under `conns_lock`, and read without the lock. It is
 * process-wide because the server is: main.c runs one server_run().
 *
 * Transport (docs/protocol.md, "TLS"): a connection reads and writes its
 * socket directly until its first request is `starttls` on a server with
 * TLS on; then the worker answers `success`, attaches a Tls (tls.h) and
 * re-arms the socket in HANDSHAKING, and whichever worker takes each event
 * steps the handshake without blocking, under the deadline the I/O thread
 * keeps. From then on every read and write goes through the Tls, by the
 * thread that owns the connection at the time. The choice is one branch on
 * `c->tls` per read or write call (not per row), so the plain path stays a
 * direct recv()/send().
 *
 * Size (about 1,900 lines): one file because everything here changes a
 * Conn's state or the counts kept with it under `conns_lock` (accept and
 * its slot rules, deadlines, the workers' turn, release, close), and that
 * lock and struct are private to it: the connection states, their locking
 * and the hand-over between the I/O thread and the workers are one
 * invariant (a connection has one owner: see set_state() and release()),
 * best read together. What does not touch a Conn lives elsewhere
 * (workers.c, request.c, tls.c, session.c, pgwire_session.c). The natural
 * cut when it grows further is the accept-time admission (slots,
 * per-address cap, reserved slots) into a module of its own that returns a
 * verdict without touching a Conn.
 */
#include "server.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
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
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pgwire_session.h"
#include "reply.h"
#include "throttle.h"
#include "tls.h"
#include "watchdog.h"
#include "workers.h"
#include "xalloc.h"

/* Bytes read per recv(); also the read buffer an idle client keeps. */
#define READ_CHUNK 16384
/* Per readiness event, so one fast sender cannot starve the others. */
#define READ_BUDGET (256 * 1024)
/* Requests a worker runs for one connection before letting others go first. */
#define REQUESTS_PER_TURN 64
/* A client that accepts no bytes for this long is dropped. */
#define WRITE_TIMEOUT_MS 60000
/* At shutdown, how long a worker may go on writing to a client (a result
 * still streaming, a client that stopped reading) before the I/O thread
 * shuts the socket under it: SIGTERM must end the process within seconds
 * whatever the clients do, not after WRITE_TIMEOUT_MS. */
#define SHUTDOWN_GRACE_MS 3000
/* Output buffers larger than this are freed after each turn. */
#define OUT_KEEP_BYTES (1024 * 1024)
/* From `success` to starttls until the TLS handshake must be complete. */
#define HANDSHAKE_TIMEOUT_MS 10000
/* Guests closed to make room whose worker has not closed them yet, beyond MaxConnections. */
#define DOOMED_MAX 64
/* Buckets of the per-address connection counts. */
#define ADDR_BUCKETS 4096

/* Where a connection is (see the top of this file). Changed only by set_state(). */
typedef enum {
    CONN_READING,     /* armed for requests; nobody owns it */
    CONN_WRITING,     /* armed until the socket takes `unsent`; its requests are not read */
    CONN_HANDSHAKING, /* armed for the next step of the TLS handshake after `starttls` */
    CONN_WORKING,     /* a worker owns it, or it waits in the job queue for one */
    CONN_EXPIRED,     /* armed and marked by the I/O thread: the next worker closes it */
    CONN_SILENT,      /* not armed: on the silent list until its deadline (drop-in framing) */
} ConnState;

/* Appends the error line that gives the reason a connection is closed (reply.h). */
typedef void (*CloseReason)(Buf *out);

/*
 * Which slot a connection takes (docs/security.md, "Login limits"), under
 * `conns_lock`. A guest has not logged in: it is on the guest list, in
 * accept order, and may be closed by the I/O thread at its login deadline
 * or to make room for a new connection; it becomes a user when its login
 * is admitted (admit_login()). A doomed connection is a guest the I/O
 * thread has expired for one of those reasons, and counts as neither.
 */
typedef enum { SLOT_GUEST, SLOT_USER, SLOT_DOOMED } ConnSlot;

/* A client's address for the per-address limit: IPv4 (as ::ffff:a.b.c.d) or an IPv6 /64. */
typedef struct AddrKey {
    uint8_t b[16];
} AddrKey;

/* Connections from one address; in Server's hash table, under conns_lock. */
typedef struct AddrCount AddrCount;
struct AddrCount {
    AddrKey key;
    int count;
    AddrCount *next;
};

/*
 * One client connection. Its owner (see ConnState) uses every field
 * without a lock, except `state` and `close_reason`, which change under
 * `conns_lock` because the I/O thread reads them.
 */
typedef struct Conn Conn;
struct Conn {
    Session *session; /* the client's protocol state (session.h) */
    int fd;
    struct Tls *tls;       /* the TLS transport after `starttls` (tls.h), or NULL: plain */
    RequestReader reader;  /* bytes read and not yet framed */
    RequestStatus pending; /* the next request, framed, not yet run */
    char *pending_text;
    size_t pending_len;
    Buf unsent;                    /* answers the socket did not take at the end of a turn */
    uint64_t requests;             /* requests seen; `starttls` is accepted only as the first */
    int64_t last_active_ms;        /* for IdleTimeout; for the handshake deadline in HANDSHAKING */
    bool active;                   /* owner: a request ran or answers went out since release() */
    int64_t login_from_ms;         /* LoginTimeout counts from here (accept, or TLS handshake
                                    * done), under conns_lock once the connection is listed */
    AddrKey addr;                  /* the client's address; set before the connection is listed */
    struct Server *srv;            /* for admit_login() */
    ConnState state;               /* under conns_lock */
    ConnSlot slot;                 /* under conns_lock */
    CloseReason close_reason;      /* EXPIRED: the answer sent before closing, or NULL */
    Conn *prev, *next;             /* all connections, under conns_lock */
    Conn *guest_prev, *guest_next; /* SLOT_GUEST connections, oldest first, under conns_lock */
    Conn *next_job;                /* job queue link, under jobs_lock */
    /* `terminate SESSION-ID` asked to end it while a worker owned it (terminate_conn()): set
     * under conns_lock, read by the owner, which closes the connection after its answers. */
    atomic_bool terminate;
    int64_t silent_until_ms;         /* drop-in: end of the silence waited for, 0 if none */
    Conn *silent_prev, *silent_next; /* SILENT connections, by deadline, under conns_lock */
    /* The PostgreSQL front end of a connection accepted on PgPort (pgwire_session.h), or
     * NULL for the line protocol; set at accept. Its reader replaces `reader`. */
    PgSession *pg;
};

typedef struct Server {
    const SessionEnv *env;
    TlsServer *tls; /* NULL when TLSMode=off */
    int listen_fd;
    int pg_listen_fd;  /* PgPort (PostgreSQL protocol), or -1 when PgPort=0 */
    int epoll_fd;      /* I/O thread: listening socket, signals, wake_fd */
    int sess_epoll_fd; /* workers: client sockets (EPOLLONESHOT) and stop_fd */
    int wake_fd;       /* eventfd: the last connection closed (shutdown), a doomed one went,
                        * or a first connection waits for a silence (drop-in) */
    int stop_fd;       /* eventfd, level-triggered: workers must exit */
    int signal_fd;     /* SIGINT, SIGTERM; SIGHUP (reload), SIGUSR1 (reopen the log) */
    int spare_fd;      /* reserved descriptor, released to shed a connection at EMFILE */
    atomic_bool stopping;
    int64_t stopping_since; /* I/O thread only: when begin_shutdown() ran */
    bool sockets_shut;      /* I/O thread only: the grace period is over, sockets were shut */

    pthread_mutex_t conns_lock; /* guards the connection list, the count and every Conn's state */
    Conn *conns;
    int conn_count;                  /* every Conn, doomed ones included */
    Conn *guests_head, *guests_tail; /* SLOT_GUEST connections in accept order */
    Conn *silent_head, *silent_tail; /* SILENT connections, earliest deadline first */
    int guest_count, user_count, doomed_count;
    bool accept_waits;        /* accepting paused until fewer than DOOMED_MAX are doomed */
    bool accept_paused;       /* I/O thread only: the listening socket is disarmed */
    AddrCount **addr_buckets; /* connections per address; NULL when MaxConnectionsPerAddress=0 */
    uint64_t addr_seed;       /* of the bucket hash, random, so clients cannot aim at a bucket */

    Throttle *throttle; /* failed logins (throttle.h); locked inside */

    pthread_mutex_t jobs_lock; /* guards jobs_head/tail */
    Conn *jobs_head, *jobs_tail;
    atomic_int job_count; /* lets an idle worker skip the lock */

    Workers *workers; /* the worker threads (workers.h) */
} Server;

static atomic_int sessions_active;
static atomic_int sessions_tls; /* sessions past their TLS handshake */
static atomic_int sessions_pg;  /* sessions accepted on PgPort */

int server_sessions_active(void)
{
    return atomic_load_explicit(&sessions_active, memory_order_relaxed);
}

int server_sessions_tls(void)
{
    return atomic_load_explicit(&sessions_tls, memory_order_relaxed);
}

int server_sessions_pg(void)
{
    return atomic_load_explicit(&sessions_pg, memory_order_relaxed);
}

/* The running server's workers, for server_workers(); set while requests can run. The admin
 * page's threads read it too, up to the end of server_run(): live_workers_lock keeps them from
 * reading the pool while it is freed. */
static Workers *live_workers;
static pthread_mutex_t live_workers_lock = PTHREAD_MUTEX_INITIALIZER;

void server_workers(int *running, int *peak)
{
    pthread_mutex_lock(&live_workers_lock);
    *running = workers_count(live_workers);
    *peak = workers_peak(live_workers);
    pthread_mutex_unlock(&live_workers_lock);
}

/* Tags for epoll data that are not connections. */
static char tag_listen, tag_pg_listen, tag_wake, tag_signal, tag_stop;

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

/* send(2) or its TLS equivalent; never blocks. The caller owns `c`. */
static ssize_t conn_send(Conn *c, const char *data, size_t len)
{
    if (!c->tls)
        return send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    return tls_write(c->tls, data, len);
}

/* recv(2) or its TLS equivalent; never blocks. The caller owns `c`. */
static ssize_t conn_recv(Conn *c, char *data, size_t len)
{
    if (!c->tls)
        return recv(c->fd, data, len, 0);
    return tls_read(c->tls, data, len);
}

/* What a send that returned EAGAIN waits for: TLS may need to read first. */
static short conn_send_waits_for(const Conn *c)
{
    return c->tls ? tls_wait_events(c->tls) : POLLOUT;
}

/* ---- socket output ---------------------------------------------------- */

/* Writes all of data, waiting up to timeout_ms for each bit of progress. */
static int write_all(Conn *c, const char *data, size_t len, int timeout_ms)
{
    while (len > 0) {
        ssize_t w = conn_send(c, data, len);
        if (w > 0) {
            data += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = c->fd, .events = conn_send_waits_for(c)};
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

static int flush_conn(void *ctx, Buf *out)
{
    Conn *c = ctx;
    int rc = write_all(c, out->data, out->len, WRITE_TIMEOUT_MS);
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

/* Queues a connection the calling worker owns (WORKING); the caller pops next. */
static void push_job(Server *srv, Conn *c)
{
    c->next_job = NULL;
    pthread_mutex_lock(&srv->jobs_lock);
    if (srv->jobs_tail)
        srv->jobs_tail->next_job = c;
    else
        srv->jobs_head = c;
    srv->jobs_tail = c;
    atomic_fetch_add(&srv->job_count, 1);
    pthread_mutex_unlock(&srv->jobs_lock);
}

/* The oldest queued connection, or NULL; never waits. */
static Conn *pop_job(Server *srv)
{
    if (atomic_load(&srv->job_count) == 0)
        return NULL;
    pthread_mutex_lock(&srv->jobs_lock);
    Conn *c = srv->jobs_head;
    if (c) {
        srv->jobs_head = c->next_job;
        if (!srv->jobs_head)
            srv->jobs_tail = NULL;
        atomic_fetch_sub(&srv->job_count, 1);
    }
    pthread_mutex_unlock(&srv->jobs_lock);
    return c;
}

/* ---- connection state ------------------------------------------------ */

/*
 * The one place a connection's state changes; the caller holds
 * `conns_lock`. An armed connection (READING, WRITING, HANDSHAKING) is
 * taken by a worker (WORKING) or expired by the I/O thread (EXPIRED); a
 * WORKING one is armed again by its worker. A new connection starts
 * WORKING, owned by the accepting thread until it is armed.
 */
static void set_state(Conn *c, ConnState next)
{
    bool armed =
        c->state == CONN_READING || c->state == CONN_WRITING || c->state == CONN_HANDSHAKING;
    switch (next) {
    case CONN_WORKING:
        assert(armed);
        break;
    case CONN_EXPIRED:
        assert(armed || c->state == CONN_SILENT);
        break;
    case CONN_READING:
        assert(c->state == CONN_WORKING || c->state == CONN_SILENT);
        break;
    case CONN_WRITING:
    case CONN_HANDSHAKING:
    case CONN_SILENT:
        assert(c->state == CONN_WORKING);
        break;
    }
    (void)armed;
    c->state = next;
}

/* ---- slots: guests, users, addresses (docs/security.md, "Login limits") ---- */

/* The key of a peer address: IPv4 as ::ffff:a.b.c.d, IPv6 cut to its /64. */
static AddrKey addr_key(const struct sockaddr_storage *ss)
{
    AddrKey k = {{0}};
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        k.b[10] = k.b[11] = 0xff;
        memcpy(&k.b[12], &in->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        memcpy(k.b, &in6->sin6_addr, 16);
        if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            memset(&k.b[8], 0, 8); /* one host usually has a whole /64 */
    }
    return k;
}

/* The key as text for the throttle and the log: "10.0.0.1", "2001:db8::/64". */
static void addr_text(const AddrKey *k, char *out, size_t len)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(k->b, v4mapped, 12) == 0) {
        if (!inet_ntop(AF_INET, &k->b[12], out, (socklen_t)len))
            snprintf(out, len, "?");
        return;
    }
    char text[INET6_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET6, k->b, text, sizeof(text));
    snprintf(out, len, "%s/64", text);
}

static AddrCount **addr_bucket(Server *srv, const AddrKey *k)
{
    uint64_t h = 1469598103934665603ULL ^ srv->addr_seed; /* FNV-1a, seeded */
    for (size_t i = 0; i < sizeof(k->b); i++)
        h = (h ^ k->b[i]) * 1099511628211ULL;
    return &srv->addr_buckets[h % ADDR_BUCKETS];
}

/* Connections from `k` now. Caller holds conns_lock. */
static int addr_count(Server *srv, const AddrKey *k)
{
    for (AddrCount *a = *addr_bucket(srv, k); a; a = a->next)
        if (memcmp(&a->key, k, sizeof(*k)) == 0)
            return a->count;
    return 0;
}

/* Counts a connection from `k` (delta +1) or its end (-1); an address at 0 is freed. Caller
 * holds conns_lock. */
static void addr_add(Server *srv, const AddrKey *k, int delta)
{
    if (!srv->addr_buckets)
        return;
    AddrCount **p = addr_bucket(srv, k);
    for (; *p; p = &(*p)->next)
        if (memcmp(&(*p)->key, k, sizeof(*k)) == 0)
            break;
    if (!*p) {
        assert(delta > 0);
        *p = xcalloc(1, sizeof(**p));
        (*p)->key = *k;
    }
    (*p)->count += delta;
    if ((*p)->count == 0) {
        AddrCount *gone = *p;
        *p = gone->next;
        free(gone);
    }
}

/* Takes `c` off the guest list. Caller holds conns_lock. */
static void guest_remove(Server *srv, Conn *c)
{
    assert(c->slot == SLOT_GUEST);
    if (c->guest_prev)
        c->guest_prev->guest_next = c->guest_next;
    else
        srv->guests_head = c->guest_next;
    if (c->guest_next)
        c->guest_next->guest_prev = c->guest_prev;
    else
        srv->guests_tail = c->guest_prev;
    c->guest_prev = c->guest_next = NULL;
    srv->guest_count--;
}

/*
 * SessionLogin.admit: a user gave the right password on `ctx`'s connection,
 * which the calling worker owns. The super user is always admitted; any
 * other user only while fewer than MaxConnections -
 * SuperuserReservedConnections users are logged in. Admitted, the
 * connection leaves the guests: it is no longer closed to make room, nor
 * at the login deadline.
 */
static bool admit_login(void *ctx, bool super)
{
    Conn *c = ctx;
    Server *srv = c->srv;
    const Config *cfg = srv->env->cfg;
    pthread_mutex_lock(&srv->conns_lock);
    bool ok = super || srv->user_count < cfg->max_connections - cfg->superuser_reserved;
    if (ok) {
        guest_remove(srv, c);
        c->slot = SLOT_USER;
        srv->user_count++;
    }
    pthread_mutex_unlock(&srv->conns_lock);
    return ok;
}

static void terminate_conn(void *ctx);

/* "10.0.0.1:5000" or "[::1]:5000" for `show sessions`. */
static void peer_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
    socklen_t sl =
        ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    getnameinfo((const struct sockaddr *)ss, sl, host, sizeof(host), serv, sizeof(serv),
                NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(out, len, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* A new connection on socket `fd` from `addr`, WORKING for the caller, which arms it. */
/* `pg`: accepted on PgPort. */
static Conn *conn_new(Server *srv, int fd, const AddrKey *addr, const struct sockaddr_storage *peer,
                      bool pg)
{
    Conn *c = xcalloc(1, sizeof(*c));
    c->session = session_new();
    c->pg = pg ? pgwire_session_new() : NULL;
    c->fd = fd;
    c->srv = srv;
    c->addr = *addr;
    c->state = CONN_WORKING;
    c->slot = SLOT_GUEST;
    c->last_active_ms = c->login_from_ms = now_ms();
    SessionLogin *l = &c->session->login;
    addr_text(addr, l->addr, sizeof(l->addr));
    l->throttle = srv->throttle;
    l->admit = admit_login;
    l->ctx = c;
    l->terminate = terminate_conn;
    peer_text(peer, l->client, sizeof(l->client));
    atomic_init(&c->terminate, false);
    return c;
}

/* The request size limit of `c` now: MaxLoginRequestBytes until it has logged in. Owner only. */
static size_t request_limit(const Server *srv, const Conn *c)
{
    const Config *cfg = srv->env->cfg;
    return c->session->state == SESSION_NEW ? (size_t)cfg->max_login_request_bytes
                                            : (size_t)cfg->max_request_bytes;
}

/* ---- workers ---------------------------------------------------------- */

/*
 * Sends the reason (best effort; never in plain text into a TLS handshake,
 * where it would be garbage), closes the connection and frees it with its
 * session. The calling worker owns `c` (or took it EXPIRED).
 */
static void close_conn(Server *srv, Conn *c, CloseReason reason)
{
    bool tls_open = c->tls && tls_established(c->tls);
    if (reason && (!c->tls || tls_open)) {
        Buf line = BUF_INIT, msg = BUF_INIT;
        reason(&line);
        if (c->pg) /* the same reason as a FATAL ErrorResponse */
            pgwire_session_fatal_line(&msg, line.data, line.len);
        Buf *b = c->pg ? &msg : &line;
        (void)write_all(c, b->data, b->len, 1000);
        buf_free(&line);
        buf_free(&msg);
    }
    pthread_mutex_lock(&srv->conns_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->slot == SLOT_GUEST)
        guest_remove(srv, c);
    else if (c->slot == SLOT_USER)
        srv->user_count--;
    else
        srv->doomed_count--;
    bool resume = srv->accept_waits && srv->doomed_count < DOOMED_MAX;
    if (resume)
        srv->accept_waits = false;
    addr_add(srv, &c->addr, -1);
    int left = --srv->conn_count;
    atomic_fetch_sub_explicit(&sessions_active, 1, memory_order_relaxed);
    if (c->pg)
        atomic_fetch_sub_explicit(&sessions_pg, 1, memory_order_relaxed);
    pthread_mutex_unlock(&srv->conns_lock);
    if (tls_open)
        atomic_fetch_sub_explicit(&sessions_tls, 1, memory_order_relaxed);
    /* The session goes before the socket is closed, so that the descriptor
     * number cannot be reused while the session still exists. The PgPort
     * state goes first: a COPY FROM in progress holds a DuckDB appender on
     * the session's connection, which must go while the connection and its
     * database are still the pool's (pgwire_copyio.h). */
    pgwire_session_free(c->pg);
    session_free(c->session, srv->env);
    tls_close(c->tls);
    request_reader_free(&c->reader);
    buf_free(&c->unsent);
    close(c->fd);
    free(c);
    if (resume || (left == 0 && atomic_load(&srv->stopping)))
        wake_io(srv);
}

/*
 * Sends what the socket takes now without waiting. Returns the number of
 * bytes sent (possibly fewer than len), or -1 when the client is gone.
 */
static ssize_t send_now(Conn *c, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = conn_send(c, data + sent, len - sent);
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
 * The events a connection armed in `state` waits for: its socket readable
 * (READING), or writable for the answers it has parked (WRITING). A TLS
 * connection waits for what OpenSSL asked for while handshaking or
 * flushing, and while reading also for writability if the last read needed
 * to write.
 */
static uint32_t wait_events(const Conn *c, ConnState state)
{
    if (!c->tls)
        return state == CONN_WRITING ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
    uint32_t tls = tls_wait_events(c->tls) == POLLOUT ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
    if (state == CONN_WRITING || state == CONN_HANDSHAKING)
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

static struct epoll_event arm_event(const Conn *c, ConnState state)
{
    struct epoll_event ev = {.events = wait_events(c, state) | EPOLLONESHOT, .data.ptr = (void *)c};
    return ev;
}

/*
 * Gives up the calling worker's ownership of `c`: arms its socket in state
 * `next` (READING, WRITING or HANDSHAKING), so the next event hands it to
 * whichever worker takes it. The state changes under the lock before the
 * socket is armed, so scan_idle() and begin_shutdown() see either a
 * connection a worker owns or one they may expire; an expiry between the
 * unlock and the arm is safe, since it only marks the connection and shuts
 * the socket, which the arm then reports. The caller must not touch `c`
 * afterwards. Decrypted bytes OpenSSL holds are invisible to epoll, so a
 * connection that would wait for requests with such bytes stays WORKING
 * and goes to the job queue instead. In WRITING the requests of the
 * connection are not read, so a client that does not read its answers is
 * held back without holding a worker.
 */
static void release(Server *srv, Conn *c, ConnState next)
{
    if (next == CONN_READING && c->tls && tls_pending(c->tls)) {
        push_job(srv, c);
        return;
    }
    int fd = c->fd;
    struct epoll_event ev = arm_event(c, next);
    pthread_mutex_lock(&srv->conns_lock);
    bool stopping = atomic_load(&srv->stopping);
    bool terminate = atomic_load(&c->terminate);
    if (!stopping && !terminate) {
        /* IdleTimeout runs from the last request or answer, not the last byte: a client
         * trickling a request it never ends is idle. The handshake deadline runs from
         * starttls. */
        if (next != CONN_HANDSHAKING && c->active)
            c->last_active_ms = now_ms();
        c->active = false;
        set_state(c, next);
        if (ARM_UNDER_LOCK)
            arm(srv, fd, &ev, EPOLL_CTL_MOD);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    if (terminate)
        close_conn(srv, c, reply_session_terminated);
    else if (stopping)
        close_conn(srv, c, next == CONN_HANDSHAKING ? NULL : reply_shutting_down);
    else if (!ARM_UNDER_LOCK)
        arm(srv, fd, &ev, EPOLL_CTL_MOD);
}

/* ---- drop-in framing: waiting for a silence ------------------------------ */

/* Takes a SILENT connection off the silent list. Caller holds conns_lock. */
static void silent_remove(Server *srv, Conn *c)
{
    if (c->silent_prev)
        c->silent_prev->silent_next = c->silent_next;
    else
        srv->silent_head = c->silent_next;
    if (c->silent_next)
        c->silent_next->silent_prev = c->silent_prev;
    else
        srv->silent_tail = c->silent_prev;
    c->silent_prev = c->silent_next = NULL;
}

/*
 * Gives up the calling worker's ownership of `c`, whose buffered bytes a
 * silence would end (request_awaits_silence()): it waits, unarmed, until
 * the I/O thread arms it after DropInSilenceMs (wake_silent()). Like
 * release(), the caller must not touch `c` afterwards.
 */
static void park_silent(Server *srv, Conn *c)
{
    bool first = false; /* the list was empty: the I/O thread waits for no deadline */
    pthread_mutex_lock(&srv->conns_lock);
    bool stopping = atomic_load(&srv->stopping);
    bool terminate = atomic_load(&c->terminate); /* set under conns_lock: see release() */
    if (!stopping && !terminate) {
        if (c->active)
            c->last_active_ms = now_ms();
        c->active = false;
        c->silent_until_ms = now_ms() + srv->env->cfg->drop_in_silence_ms;
        c->silent_prev = srv->silent_tail;
        c->silent_next = NULL;
        first = !srv->silent_tail;
        if (srv->silent_tail)
            srv->silent_tail->silent_next = c;
        else
            srv->silent_head = c;
        srv->silent_tail = c;
        set_state(c, CONN_SILENT);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    if (terminate)
        close_conn(srv, c, reply_session_terminated);
    else if (stopping)
        close_conn(srv, c, reply_shutting_down);
    else if (first)
        wake_io(srv); /* its epoll_wait() may be set for a second: make it see the deadline */
}

/*
 * I/O thread: arms, for reading and writing (so a worker takes it at once),
 * each SILENT connection whose silence is over. Returns the ms until the
 * next deadline, or -1 when none waits.
 */
static int wake_silent(Server *srv)
{
    int64_t now = now_ms();
    int next = -1;
    pthread_mutex_lock(&srv->conns_lock);
    while (srv->silent_head) {
        Conn *c = srv->silent_head;
        if (c->silent_until_ms > now) {
            next = (int)(c->silent_until_ms - now);
            break;
        }
        silent_remove(srv, c);
        set_state(c, CONN_READING);
        struct epoll_event ev = {.events = wait_events(c, CONN_READING) | EPOLLOUT | EPOLLONESHOT,
                                 .data.ptr = c};
        arm(srv, c->fd, &ev, EPOLL_CTL_MOD);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    return next;
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
static TransportVerdict transport_request(Server *srv, Conn *c, RequestStatus st, const char *text,
                                          size_t len, Buf *out)
{
    bool first = c->requests++ == 0;
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
 * Answers a first-request `starttls` (or PgPort's SSLRequest) with `ack`, attaches the TLS
 * state and arms the
 * socket for the handshake, which the workers then step as its events
 * come. A client that sent anything after the starttls line before seeing
 * `success` is closed without an answer: those bytes were sent in plain
 * text and must not be taken for part of the encrypted session (cf.
 * CVE-2011-0411). `eof`: the client has closed its side. Worker only.
 */
static void start_tls(Server *srv, Conn *c, bool eof, Buf *ack)
{
    int queued = 0;
    size_t pending =
        c->pg ? pgwire_pending(pgwire_session_reader(c->pg)) : request_pending(&c->reader);
    bool plain_after = pending > 0 || eof || ioctl(c->fd, FIONREAD, &queued) != 0 || queued > 0;
    /* `ack` is the worker's output buffer, which its next connection reuses: emptied on
     * every path. */
    int rc = plain_after ? -1 : write_all(c, ack->data, ack->len, 1000);
    buf_reset(ack, OUT_KEEP_BYTES);
    if (plain_after) {
        /* For PgPort the same rule: CVE-2021-23214. */
        log_info("closing a connection that sent plain text after asking for TLS");
        close_conn(srv, c, NULL);
        return;
    }
    if (rc != 0) {
        close_conn(srv, c, NULL);
        return;
    }
    c->tls = tls_new(srv->tls, c->fd);
    c->pending = REQUEST_NONE;
    c->last_active_ms = now_ms(); /* the handshake deadline counts from here */
    release(srv, c, CONN_HANDSHAKING);
}

static void end_turn(Server *srv, Conn *c, Buf *out, bool close, bool more, bool eof);

/*
 * Sends what `unsent` holds, without waiting. Returns true when all of it is
 * out and the turn goes on; false when the connection was closed (a send
 * error) or released to wait for the socket (CONN_WRITING): the caller must
 * not touch `c` any more.
 */
static bool flush_unsent(Server *srv, Conn *c)
{
    ssize_t n = send_now(c, c->unsent.data, c->unsent.len);
    if (n < 0) {
        close_conn(srv, c, NULL);
        return false;
    }
    buf_consume(&c->unsent, (size_t)n);
    if (n > 0)
        c->active = true;
    if (c->unsent.len > 0) {
        release(srv, c, CONN_WRITING);
        return false;
    }
    buf_reset(&c->unsent, 0);
    return true;
}

/*
 * Sends the answers parked in `unsent`, then runs the pending request and
 * any others already buffered, up to a turn's worth, and sends their
 * answers; then closes the connection, or arms it (WRITING when answers
 * are left over, READING otherwise), or queues it when requests are left.
 * `eof`: this turn's read found the client's side closed, so the
 * connection ends once what it sent is answered. (A connection that is
 * armed or queued instead forgets it: the next read finds the end again.)
 */
static void run_conn(Server *srv, Conn *c, Buf *out, bool eof)
{
    const SessionEnv *env = srv->env;
    if (c->pending == REQUEST_NONE && eof && c->unsent.len == 0) {
        close_conn(srv, c, NULL);
        return;
    }
    if (c->unsent.len > 0) {
        if (!flush_unsent(srv, c))
            return;
        if (c->pending == REQUEST_NONE && eof) {
            close_conn(srv, c, NULL);
            return;
        }
    }
    QueryIo io = {.out = out, .flush = flush_conn, .ctx = c, .client_fd = -1};
    RequestStatus st = c->pending;
    char *text = c->pending_text;
    size_t len = c->pending_len;
    SessionAction action = SESSION_CONTINUE;
    for (int turn = 0; st != REQUEST_NONE; turn++) {
        if (turn == REQUESTS_PER_TURN || atomic_load(&srv->stopping) || atomic_load(&c->terminate))
            break;
        c->active = true;
        if (st == REQUEST_TOO_LONG && c->session->state == SESSION_NEW) {
            /* Before login only a short request is read, and a longer one ends the
             * connection: a client that has not logged in may not make the server
             * buffer, nor read and drop, a large request. */
            reply_request_too_large(out, env->cfg->max_login_request_bytes);
            action = SESSION_CLOSE;
            break;
        }
        switch (transport_request(srv, c, st, text, len, out)) {
        case TRANSPORT_PASS:
            /* A client with further requests already sent waits for their
             * answers even if it has closed its side (query.h, client_fd). */
            io.client_fd =
                request_pending(&c->reader) > 0 || (c->tls && tls_pending(c->tls)) ? -1 : c->fd;
            action = session_handle(c->session, env, st, text, len, &io);
            break;
        case TRANSPORT_ANSWERED:
            break;
        case TRANSPORT_CLOSE:
            action = SESSION_CLOSE;
            break;
        case TRANSPORT_UPGRADE:
            assert(out->len == 0 && c->unsent.len == 0); /* it was the first request */
            reply_success(out);
            start_tls(srv, c, eof, out);
            return;
        }
        if (action == SESSION_CLOSE)
            break;
        st = request_next(&c->reader, request_limit(srv, c), &text, &len);
    }
    c->pending = st;
    c->pending_text = text;
    c->pending_len = len;
    end_turn(srv, c, out, action == SESSION_CLOSE, st != REQUEST_NONE, eof);
}

/*
 * The end of a worker's turn on `c` (either protocol): the answers of the
 * turn go out without waiting: what the socket does not take now is kept,
 * and the connection waits for the socket, not a worker (a client that
 * pipelines requests and reads nothing must not be able to hold workers).
 * `close` (quit, Terminate, a fatal error) and shutdown still wait a little,
 * so their last answers are delivered. `more`: framed requests are left.
 */
static void end_turn(Server *srv, Conn *c, Buf *out, bool close, bool more, bool eof)
{
    bool terminate = atomic_load(&c->terminate); /* `terminate SESSION-ID` */
    bool last = close || atomic_load(&srv->stopping) || terminate;
    ssize_t sent = 0;
    if (last)
        sent = out->len && write_all(c, out->data, out->len, 1000) != 0 ? -1 : 0;
    else if (out->len)
        sent = send_now(c, out->data, out->len);
    if (!last && sent >= 0 && (size_t)sent < out->len)
        buf_append(&c->unsent, out->data + sent, out->len - (size_t)sent);
    buf_reset(out, OUT_KEEP_BYTES);
    if (close || sent < 0) {
        close_conn(srv, c, NULL);
        return;
    }
    if (terminate) {
        close_conn(srv, c, reply_session_terminated);
        return;
    }
    if (atomic_load(&srv->stopping)) {
        close_conn(srv, c, reply_shutting_down);
        return;
    }
    if (c->unsent.len > 0) {
        release(srv, c, CONN_WRITING);
        return;
    }
    if (more) {
        push_job(srv, c); /* more work: back of the line */
        return;
    }
    if (eof) {
        close_conn(srv, c, NULL);
        return;
    }
    if (srv->env->cfg->drop_in_silence_ms > 0 && request_awaits_silence(&c->reader))
        park_silent(srv, c); /* the end of a request over the limit, being dropped */
    else
        release(srv, c, CONN_READING);
}

/*
 * Reads what the socket has (up to a budget) and frames the next request
 * into `pending`. Decrypted bytes that OpenSSL holds are invisible to
 * epoll, so a TLS connection is read until they are drained, even past the
 * budget (they are at most one record). Returns true when the client has
 * closed its side (or the connection was reset). `got`: the bytes read.
 */
static bool read_requests(Server *srv, Conn *c, size_t *got)
{
    *got = 0;
    /* A client that has not logged in gets one small read per event, so its
     * buffer never holds much more than MaxLoginRequestBytes. */
    bool guest = c->session->state == SESSION_NEW;
    size_t chunk = guest && srv->env->cfg->max_login_request_bytes < READ_CHUNK
                       ? (size_t)srv->env->cfg->max_login_request_bytes
                       : READ_CHUNK;
    size_t budget = guest ? chunk : READ_BUDGET;
    size_t max = request_limit(srv, c);
    bool eof = false;
    while (budget > 0 || (c->tls && tls_pending(c->tls))) {
        char *p = request_space(&c->reader, chunk);
        ssize_t r = conn_recv(c, p, chunk);
        if (r > 0) {
            request_commit(&c->reader, (size_t)r);
            *got += (size_t)r;
            budget -= (size_t)r < budget ? (size_t)r : budget;
            /* A short read drained the socket: another recv() would only say EAGAIN
             * (a syscall per request) and make the buffer grow for nothing. Bytes that
             * arrive later make the re-armed socket ready again. */
            if ((size_t)r < chunk && !(c->tls && tls_pending(c->tls)))
                break;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        eof = true; /* orderly close, or a reset */
        break;
    }
    c->pending = request_next(&c->reader, max, &c->pending_text, &c->pending_len);
    return eof;
}

/* One non-blocking step of the TLS handshake; true when it is complete. */
static bool step_handshake(Server *srv, Conn *c)
{
    char why[256] = "";
    switch (tls_handshake(c->tls, why, sizeof(why))) {
    case TLS_AGAIN:
        release(srv, c, CONN_HANDSHAKING);
        return false;
    case TLS_FAILED:
        log_info("TLS handshake failed: %s", why);
        close_conn(srv, c, NULL);
        return false;
    case TLS_DONE:
        break;
    }
    atomic_fetch_add_explicit(&sessions_tls, 1, memory_order_relaxed);
    c->active = true;
    c->session->login.tls = true;
    /* The handshake had its own deadline; the login deadline starts again after it. */
    pthread_mutex_lock(&srv->conns_lock);
    c->login_from_ms = now_ms();
    pthread_mutex_unlock(&srv->conns_lock);
    tls_describe(c->tls, why, sizeof(why));
    log_debug("TLS connection: %s", why);
    return true;
}

/* ---- PgPort: the PostgreSQL front end (pgwire_session.h) ---- */

/*
 * Sends the answers parked in `unsent`, runs up to a turn's worth of the
 * messages buffered, and ends the turn as run_conn() does.
 */
static void run_pg(Server *srv, Conn *c, Buf *out, bool eof)
{
    if (c->unsent.len > 0) {
        if (!flush_unsent(srv, c))
            return;
    }
    TlsMode mode = tls_server_mode(srv->tls);
    PgTransport tr = {.tls_offered = mode != TLS_MODE_OFF,
                      .tls_required = mode == TLS_MODE_REQUIRED,
                      .tls_active = c->tls != NULL};
    /* The watchdog may look for the client's end while a statement runs: PostgreSQL's
     * clients do not half-close a connection while they wait for answers. */
    QueryIo io = {.out = out, .flush = flush_conn, .ctx = c, .client_fd = c->fd};
    bool more = false;
    size_t before = pgwire_pending(pgwire_session_reader(c->pg));
    PgAction a = atomic_load(&srv->stopping) ? PGWIRE_CONTINUE
                                             : pgwire_session_run(c->pg, c->session, srv->env, &tr,
                                                                  &io, REQUESTS_PER_TURN, &more);
    if (pgwire_pending(pgwire_session_reader(c->pg)) != before)
        c->active = true;
    if (a == PGWIRE_START_TLS) {
        start_tls(srv, c, eof, out);
        return;
    }
    end_turn(srv, c, out, a == PGWIRE_CLOSE || (eof && !more), more, eof);
}

/* Reads what the socket has (as read_requests() does) into the front end's reader. */
static bool read_pg(Server *srv, Conn *c)
{
    PgReader *r = pgwire_session_reader(c->pg);
    bool guest = c->session->state == SESSION_NEW;
    size_t chunk = guest && srv->env->cfg->max_login_request_bytes < READ_CHUNK
                       ? (size_t)srv->env->cfg->max_login_request_bytes
                       : READ_CHUNK;
    size_t budget = guest ? chunk : READ_BUDGET;
    bool eof = false;
    while (budget > 0 || (c->tls && tls_pending(c->tls))) {
        char *p = pgwire_space(r, chunk);
        ssize_t n = conn_recv(c, p, chunk);
        if (n > 0) {
            pgwire_commit(r, (size_t)n);
            budget -= (size_t)n < budget ? (size_t)n : budget;
            if ((size_t)n < chunk && !(c->tls && tls_pending(c->tls)))
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        eof = true;
        break;
    }
    return eof;
}

static void serve_pg(Server *srv, Conn *c, Buf *out)
{
    bool eof = read_pg(srv, c);
    if (pgwire_pending(pgwire_session_reader(c->pg)) > 0 || eof)
        run_pg(srv, c, out, eof);
    else
        release(srv, c, CONN_READING);
}

/*
 * Serves a connection the calling worker owns, by what it was waiting for
 * (`was`): a handshake step, a socket that takes parked answers, requests
 * to read, or (WORKING: back from the job queue) requests already framed.
 */
static void serve(Server *srv, Conn *c, ConnState was, Buf *out)
{
    switch (was) {
    case CONN_HANDSHAKING:
        if (!step_handshake(srv, c))
            return;
        break; /* the first record may already be buffered: read it */
    case CONN_WRITING:
        if (c->pg)
            run_pg(srv, c, out, false);
        else
            run_conn(srv, c, out, false);
        return;
    case CONN_READING:
    case CONN_WORKING:
        break;
    case CONN_EXPIRED:
    case CONN_SILENT:
        assert(!"an expired or silent connection is not served");
        return;
    }
    if (c->pg) {
        serve_pg(srv, c, out);
        return;
    }
    bool eof = false;
    bool drop_in = srv->env->cfg->drop_in_silence_ms > 0;
    if (c->pending == REQUEST_NONE) {
        size_t got = 0;
        eof = read_requests(srv, c, &got);
        /* Drop-in framing: back from a silence with nothing new (or the client's
         * side closed), the buffered bytes are a request. */
        if (c->pending == REQUEST_NONE && drop_in && ((c->silent_until_ms && got == 0) || eof))
            c->pending = request_silence(&c->reader, request_limit(srv, c), &c->pending_text,
                                         &c->pending_len);
        c->silent_until_ms = 0;
    }
    if (c->pending != REQUEST_NONE || eof)
        run_conn(srv, c, out, eof);
    else if (drop_in && request_awaits_silence(&c->reader))
        park_silent(srv, c);
    else
        release(srv, c, CONN_READING);
}

/* Takes ownership of a connection whose socket event this worker received. */
static void on_event(Server *srv, Conn *c, Buf *out)
{
    pthread_mutex_lock(&srv->conns_lock);
    ConnState was = c->state;
    if (was != CONN_EXPIRED)
        set_state(c, CONN_WORKING);
    pthread_mutex_unlock(&srv->conns_lock);
    if (was == CONN_EXPIRED)
        close_conn(srv, c, c->close_reason);
    else
        serve(srv, c, was, out);
}

/*
 * A worker thread (workers.h): takes a queued connection or waits for a
 * socket's event, and serves it, marked busy meanwhile so that the pool
 * grows while every worker is stuck on long work.
 */
static void worker_loop(void *arg, Worker *self)
{
    Server *srv = arg;
    Buf out = BUF_INIT;
    for (;;) {
        Conn *c = pop_job(srv);
        if (c) {
            workers_busy(self);
            serve(srv, c, CONN_WORKING, &out);
            workers_idle(self);
            if (workers_retire(self))
                break;
            continue;
        }
        struct epoll_event ev;
        int n = epoll_wait(srv->sess_epoll_fd, &ev, 1, workers_wait_ms(self));
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            break;
        }
        if (n == 0 && workers_retire(self))
            break;
        if (n <= 0)
            continue;
        if (ev.data.ptr == &tag_stop)
            break;
        workers_busy(self);
        on_event(srv, ev.data.ptr, &out);
        workers_idle(self);
        if (workers_retire(self))
            break;
    }
    buf_free(&out);
}

/*
 * Work no worker has taken: a queued connection, or a socket event ready in
 * the workers' epoll set (an epoll descriptor polls readable while it has
 * ready events). For workers_tick(), on the I/O thread.
 */
static bool work_waiting(void *arg)
{
    Server *srv = arg;
    if (atomic_load(&srv->job_count) > 0)
        return true;
    struct pollfd p = {.fd = srv->sess_epoll_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* ---- I/O thread ------------------------------------------------------- */

/*
 * Has an armed connection closed by the next worker that takes its
 * socket's event, with `reason` (NULL: without a word). The caller, the
 * I/O thread, holds `conns_lock`, so it cannot be taken or freed meanwhile.
 * Shutting the socket makes epoll report it now, armed or not yet re-armed:
 * the read side alone for a connection armed for reading (EPOLLRDHUP),
 * which leaves the write side for the reason; both sides for one armed
 * only for writing (answers its client does not read, or a TLS handshake
 * step that writes), since only EPOLLHUP is reported whatever the mask,
 * and that client would not read the reason anyway.
 */
static void expire(Conn *c, CloseReason reason)
{
    uint32_t events = wait_events(c, c->state);
    bool silent = c->state == CONN_SILENT;
    if (silent)
        silent_remove(c->srv, c);
    c->close_reason = reason;
    set_state(c, CONN_EXPIRED);
    shutdown(c->fd, (events & EPOLLRDHUP) ? SHUT_RD : SHUT_RDWR);
    if (silent) { /* not armed: no event is in flight, so this one is the only one */
        struct epoll_event ev = {.events = events | EPOLLONESHOT, .data.ptr = c};
        arm(c->srv, c->fd, &ev, EPOLL_CTL_MOD);
    }
}

/*
 * Expires a guest (armed) for `reason` and takes it off the guests: it is
 * doomed, counting neither as a guest nor as a user until its worker has
 * closed it. Caller (the I/O thread) holds conns_lock.
 */
static void doom_guest(Server *srv, Conn *c, CloseReason reason)
{
    guest_remove(srv, c);
    c->slot = SLOT_DOOMED;
    srv->doomed_count++;
    expire(c, c->state == CONN_HANDSHAKING ? NULL : reason);
}

/*
 * SessionLogin.terminate (`terminate SESSION-ID`, sessions.h), on any
 * thread, with the registry's lock held, so `ctx`'s connection exists. An
 * armed connection is expired, and the next worker closes it with the
 * reason; one a worker owns is marked, and its worker closes it after the
 * answers of the request it runs (whose statement the registry interrupts).
 */
static void terminate_conn(void *ctx)
{
    Conn *c = ctx;
    Server *srv = c->srv;
    pthread_mutex_lock(&srv->conns_lock);
    if (c->state == CONN_WORKING)
        atomic_store(&c->terminate, true);
    else if (c->state != CONN_EXPIRED)
        expire(c, reply_session_terminated);
    pthread_mutex_unlock(&srv->conns_lock);
}

typedef enum { ACCEPT_OK, ACCEPT_FULL, ACCEPT_ADDRESS_FULL } AcceptVerdict;

/*
 * Whether a new connection from `addr` may take a slot (docs/security.md,
 * "Login limits"): not past MaxConnectionsPerAddress; and when
 * MaxConnections are taken (doomed ones not counted), the oldest guest that
 * no worker holds is closed to make room, so clients that do not log in
 * can never keep anyone out, least of all the super user. Without such a
 * guest, or with DOOMED_MAX guests already on their way out, the new
 * connection is refused. Caller holds conns_lock.
 */
static AcceptVerdict admit_accept(Server *srv, const AddrKey *addr)
{
    const Config *cfg = srv->env->cfg;
    if (atomic_load(&srv->stopping))
        return ACCEPT_FULL;
    if (srv->addr_buckets && addr_count(srv, addr) >= cfg->max_connections_per_address)
        return ACCEPT_ADDRESS_FULL;
    if (srv->conn_count - srv->doomed_count < cfg->max_connections)
        return ACCEPT_OK;
    if (srv->doomed_count >= DOOMED_MAX)
        return ACCEPT_FULL;
    for (Conn *g = srv->guests_head; g; g = g->guest_next) {
        if (g->state == CONN_WORKING || g->state == CONN_EXPIRED)
            continue;
        doom_guest(srv, g, reply_too_many_connections);
        return ACCEPT_OK;
    }
    return ACCEPT_FULL;
}

/* Answers a refused connection (best effort, without waiting) and closes it. */
static void refuse(int fd, AcceptVerdict why, int per_address)
{
    Buf line = BUF_INIT;
    if (why == ACCEPT_ADDRESS_FULL)
        reply_too_many_connections_from_address(&line, per_address);
    else
        reply_too_many_connections(&line);
    ssize_t w = send(fd, line.data, line.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    buf_free(&line);
    close(fd);
}

/*
 * Every slot is taken and DOOMED_MAX guests are already on their way out:
 * rather than refuse, leave new connections in the listen backlog until a
 * worker has closed some (close_conn() wakes the I/O thread), so the
 * newest, which may be the super user's, still gets in. Caller holds
 * conns_lock.
 */
static bool accept_must_wait(Server *srv)
{
    const Config *cfg = srv->env->cfg;
    return srv->doomed_count >= DOOMED_MAX &&
           srv->conn_count - srv->doomed_count >= cfg->max_connections;
}

/* Stops (listen_events 0) or resumes (EPOLLIN) reporting the listening socket. I/O thread. */
static void listen_events(Server *srv, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = &tag_listen};
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, srv->listen_fd, &ev) != 0)
        log_error("epoll_ctl: %s", strerror(errno));
    struct epoll_event pev = {.events = events, .data.ptr = &tag_pg_listen};
    if (srv->pg_listen_fd >= 0 && epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, srv->pg_listen_fd, &pev))
        log_error("epoll_ctl: %s", strerror(errno));
    srv->accept_paused = events == 0;
}

/* Accepts on the line protocol's port, or on PgPort when `pg`. I/O thread. */
static void on_accept(Server *srv, bool pg)
{
    int listen_fd = pg ? srv->pg_listen_fd : srv->listen_fd;
    for (;;) {
        pthread_mutex_lock(&srv->conns_lock);
        bool wait = accept_must_wait(srv);
        srv->accept_waits = wait;
        pthread_mutex_unlock(&srv->conns_lock);
        if (wait) {
            listen_events(srv, 0);
            return;
        }
        struct sockaddr_storage peer = {0};
        socklen_t peer_len = sizeof(peer);
        int fd =
            accept4(listen_fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && srv->spare_fd >= 0) {
                /* Out of descriptors: accept and drop one so the listening
                 * socket does not stay readable forever. */
                close(srv->spare_fd);
                fd = accept(listen_fd, NULL, NULL);
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
        AddrKey addr = addr_key(&peer);
        pthread_mutex_lock(&srv->conns_lock);
        AcceptVerdict verdict = admit_accept(srv, &addr);
        pthread_mutex_unlock(&srv->conns_lock);
        if (verdict != ACCEPT_OK) {
            refuse(fd, verdict, srv->env->cfg->max_connections_per_address);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        Conn *c = conn_new(srv, fd, &addr, &peer, pg);
        struct epoll_event ev = arm_event(c, CONN_READING);
        pthread_mutex_lock(&srv->conns_lock);
        set_state(c, CONN_READING);
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        srv->conn_count++;
        c->guest_prev = srv->guests_tail;
        if (srv->guests_tail)
            srv->guests_tail->guest_next = c;
        else
            srv->guests_head = c;
        srv->guests_tail = c;
        srv->guest_count++;
        addr_add(srv, &addr, 1);
        atomic_fetch_add_explicit(&sessions_active, 1, memory_order_relaxed);
        if (pg)
            atomic_fetch_add_explicit(&sessions_pg, 1, memory_order_relaxed);
        pthread_mutex_unlock(&srv->conns_lock);
        arm(srv, fd, &ev, EPOLL_CTL_ADD);
    }
}

/*
 * Closes clients that have not logged in within LoginTimeout (bytes do not
 * extend it), idle connections (IdleTimeout), connections idle with a
 * transaction open (IdleInTransactionTimeout: an open transaction pins its
 * database in the pool and holds back DuckDB's cleanup of old versions),
 * and stalled TLS handshakes. A connection armed for reading has no owner,
 * and its worker's release (under conns_lock) ordered its session's
 * writes before this read.
 */
static void scan_idle(Server *srv)
{
    int timeout = srv->env->cfg->idle_timeout_sec;
    int64_t now = now_ms();
    int64_t cutoff = now - (int64_t)timeout * 1000;
    int64_t handshake_cutoff = now - HANDSHAKE_TIMEOUT_MS;
    int64_t login_cutoff = now - (int64_t)srv->env->cfg->login_timeout_sec * 1000;
    int tx_limit = 0;
    int late = 0;
    pthread_mutex_lock(&srv->conns_lock);
    /* A guest a worker holds is closed at the next scan after its worker lets it go; one
     * in a TLS handshake is left to the handshake's deadline. */
    Conn *next = NULL;
    for (Conn *g = srv->guests_head; g; g = next) {
        next = g->guest_next;
        if (g->login_from_ms >= login_cutoff || g->state == CONN_WORKING ||
            g->state == CONN_EXPIRED || g->state == CONN_HANDSHAKING)
            continue;
        doom_guest(srv, g, reply_login_timeout);
        late++;
    }
    for (Conn *c = srv->conns; c; c = c->next) {
        if (c->state == CONN_WORKING || c->state == CONN_EXPIRED)
            continue;
        if (c->state == CONN_HANDSHAKING && c->last_active_ms < handshake_cutoff) {
            log_info("TLS handshake timed out after %d s", HANDSHAKE_TIMEOUT_MS / 1000);
            expire(c, NULL);
        } else if (c->state == CONN_READING &&
                   (tx_limit = session_idle_in_transaction_limit(c->session)) > 0 &&
                   c->last_active_ms < now - (int64_t)tx_limit * 1000) {
            log_info("closing a connection idle in a transaction for %d s "
                     "(IdleInTransactionTimeout)",
                     tx_limit);
            expire(c, reply_idle_in_transaction_timeout);
        } else if (timeout > 0 && c->last_active_ms < cutoff) {
            expire(c, reply_idle_timeout);
        }
    }
    pthread_mutex_unlock(&srv->conns_lock);
    if (late > 0) /* one line per scan at most, however many there were */
        log_debug("closing %d connections that did not log in within %d s", late,
                  srv->env->cfg->login_timeout_sec);
}

static void begin_shutdown(Server *srv)
{
    atomic_store(&srv->stopping, true);
    srv->stopping_since = now_ms();
    epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
    close(srv->listen_fd);
    srv->listen_fd = -1;
    if (srv->pg_listen_fd >= 0) {
        epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, srv->pg_listen_fd, NULL);
        close(srv->pg_listen_fd);
        srv->pg_listen_fd = -1;
    }
    pthread_mutex_lock(&srv->conns_lock);
    log_info("shutting down: closing %d sessions", srv->conn_count);
    for (Conn *c = srv->conns; c; c = c->next) {
        if (c->state == CONN_WORKING)
            session_interrupt(c->session); /* its worker closes it after the query */
        else if (c->state != CONN_EXPIRED)
            expire(c, c->state == CONN_HANDSHAKING ? NULL : reply_shutting_down);
    }
    pthread_mutex_unlock(&srv->conns_lock);
    /* session_interrupt() is lost on a statement that had not started yet
     * (DuckDB clears the flag when a query starts): the watchdog repeats it. */
    watchdog_interrupt_all();
}

/*
 * Once the shutdown's grace period is over, shuts both sides of the socket of
 * every connection a worker still holds (a result streaming to a client that
 * does not read, a statement between two interrupt checks): the worker's next
 * write or read fails, it takes the client for gone and closes. shutdown(2)
 * does not close the descriptor, so the worker's copy stays valid.
 */
static void shut_remaining_sockets(Server *srv)
{
    int shut = 0;
    pthread_mutex_lock(&srv->conns_lock);
    for (Conn *c = srv->conns; c; c = c->next) {
        shutdown(c->fd, SHUT_RDWR);
        shut++;
    }
    pthread_mutex_unlock(&srv->conns_lock);
    watchdog_interrupt_all();
    if (shut > 0)
        log_info("shutting down: %d sessions still busy after %d ms, their sockets are shut", shut,
                 SHUTDOWN_GRACE_MS);
}

static void io_loop(Server *srv)
{
    struct epoll_event events[128];
    int64_t last_scan = now_ms();
    for (;;) {
        if (atomic_load(&srv->stopping)) {
            pthread_mutex_lock(&srv->conns_lock);
            int left = srv->conn_count;
            pthread_mutex_unlock(&srv->conns_lock);
            if (left == 0)
                return;
        }
        /* While every worker is busy, tick often enough to add one in time. */
        int tick = atomic_load(&srv->stopping) ? -1 : workers_tick(srv->workers);
        int wait = tick >= 0 && tick < 1000 ? tick : 1000;
        int silence = wake_silent(srv); /* drop-in framing: silences that are over */
        if (silence >= 0 && silence < wait)
            wait = silence;
        int n = epoll_wait(srv->epoll_fd, events, 128, wait);
        if (n < 0 && errno != EINTR) {
            log_error("epoll_wait: %s", strerror(errno));
            return;
        }
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            if (tag == &tag_listen || tag == &tag_pg_listen) {
                on_accept(srv, tag == &tag_pg_listen);
            } else if (tag == &tag_wake) {
                uint64_t count;
                ssize_t r = read(srv->wake_fd, &count, sizeof(count));
                (void)r;
                if (srv->accept_paused && !atomic_load(&srv->stopping))
                    listen_events(srv, EPOLLIN); /* level-triggered: reported again if due */
            } else if (tag == &tag_signal) {
                struct signalfd_siginfo si;
                ssize_t r = read(srv->signal_fd, &si, sizeof(si));
                if (r != (ssize_t)sizeof(si))
                    continue;
                if (si.ssi_signo == SIGUSR1) {
                    log_reopen();
                    continue;
                }
                if (si.ssi_signo == SIGHUP) {
                    /* Takes a few milliseconds (.env, PEM files); the answer line is only
                     * for `reload`, the outcome is logged. */
                    Buf ignored = BUF_INIT;
                    if (srv->env->reload)
                        srv->env->reload(&ignored);
                    buf_free(&ignored);
                    continue;
                }
                if (atomic_load(&srv->stopping)) {
                    /* A second signal: the operator will not wait. Committed
                     * transactions are in each database's WAL already. */
                    log_warn("second signal %u during shutdown: exiting at once", si.ssi_signo);
                    _exit(1);
                }
                begin_shutdown(srv);
                break; /* the listening socket may be closed now */
            }
        }
        int64_t now = now_ms();
        if (atomic_load(&srv->stopping) && !srv->sockets_shut &&
            now - srv->stopping_since >= SHUTDOWN_GRACE_MS) {
            srv->sockets_shut = true;
            shut_remaining_sockets(srv);
        }
        if (now - last_scan >= 1000) {
            last_scan = now;
            scan_idle(srv);
        }
    }
}

/* ---- start-up --------------------------------------------------------- */

static int listen_on(const Config *cfg, int port_number, const char *what, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", port_number < 0 ? 0 : port_number); /* -1: any */
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
        snprintf(err, errlen, "cannot listen on %s:%d (%s): %s", cfg->addr, port_number, what,
                 strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void log_listening(int fd, const char *what)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV);
    log_info("listening to %s:%s%s", host, serv, what);
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
        .pg_listen_fd = -1,
        .epoll_fd = -1,
        .sess_epoll_fd = -1,
        .wake_fd = -1,
        .stop_fd = -1,
        .signal_fd = -1,
    };
    int rc = -1;
    atomic_init(&srv.stopping, false);
    pthread_mutex_init(&srv.conns_lock, NULL);
    pthread_mutex_init(&srv.jobs_lock, NULL);
    atomic_init(&srv.job_count, 0);
    /* The admin page shares main's throttle (env->throttle), so failures count on both. */
    srv.throttle = env->throttle ? env->throttle
                                 : throttle_new(env->cfg->login_failure_limit, THROTTLE_CAPACITY);
    if (env->cfg->max_connections_per_address > 0) {
        srv.addr_buckets = xcalloc(ADDR_BUCKETS, sizeof(*srv.addr_buckets));
        if (getrandom(&srv.addr_seed, sizeof(srv.addr_seed), GRND_NONBLOCK) !=
            sizeof(srv.addr_seed))
            srv.addr_seed = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ULL;
    }

    /* Block the signals in every thread (DuckDB's included, which inherit
     * the mask); they are read from a signalfd by the I/O thread. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);  /* reload (reload.h) */
    sigaddset(&mask, SIGUSR1); /* reopen LogFile (log.h) */
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv.listen_fd = listen_on(env->cfg, env->cfg->port, "ServerPort", err, errlen);
    if (srv.listen_fd < 0)
        goto out;
    if (env->cfg->pg_port != 0) {
        /* As the admin page: a PgPort in use (another server, a PostgreSQL on 5433, the
         * default) does not stop the server; the line protocol serves, the log says why. */
        srv.pg_listen_fd = listen_on(env->cfg, env->cfg->pg_port, "PgPort", err, errlen);
        if (srv.pg_listen_fd < 0) {
            log_error("PostgreSQL front end not started: %s", err);
            err[0] = '\0';
        }
    }
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
    if (srv.pg_listen_fd >= 0)
        add_fd(srv.epoll_fd, srv.pg_listen_fd, &tag_pg_listen);
    add_fd(srv.epoll_fd, srv.wake_fd, &tag_wake);
    add_fd(srv.epoll_fd, srv.signal_fd, &tag_signal);
    add_fd(srv.sess_epoll_fd, srv.stop_fd, &tag_stop);

    srv.workers = workers_start(env->cfg->query_workers, env->cfg->max_workers, worker_loop,
                                work_waiting, &srv);
    if (!srv.workers)
        log_fatal("cannot start worker threads");
    pthread_mutex_lock(&live_workers_lock);
    live_workers = srv.workers;
    pthread_mutex_unlock(&live_workers_lock);
    log_listening(srv.listen_fd, "");
    if (srv.pg_listen_fd >= 0)
        log_listening(srv.pg_listen_fd, " (PostgreSQL protocol)");
    io_loop(&srv);

    /* Every connection is closed: no worker owns one or can be given one.
     * stop_fd is never read, so it stays ready and wakes every worker. */
    uint64_t one = 1;
    ssize_t wr = write(srv.stop_fd, &one, sizeof(one));
    (void)wr;
    pthread_mutex_lock(&live_workers_lock);
    live_workers = NULL;
    pthread_mutex_unlock(&live_workers_lock);
    workers_join(srv.workers);
    rc = 0;
out:
    if (srv.listen_fd >= 0)
        close(srv.listen_fd);
    if (srv.pg_listen_fd >= 0)
        close(srv.pg_listen_fd);
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
    /* Every connection is closed, so every address count is back at 0 and freed. */
    free(srv.addr_buckets);
    if (srv.throttle != env->throttle)
        throttle_free(srv.throttle);
    pthread_mutex_destroy(&srv.conns_lock);
    pthread_mutex_destroy(&srv.jobs_lock);
    return rc;
}
