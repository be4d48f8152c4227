/*
 * session: one client's protocol state and the commands it can send.
 *
 * A Session is created by the server module for each accepted socket and
 * is owned by exactly one thread at a time: the I/O thread while it waits
 * for a request, or one worker while its requests run (server.c hands it
 * over through queues). So its fields need no lock, except `con`, which the
 * server's shutdown path reads from another thread to interrupt a running
 * query, and which is therefore changed only under `con_lock`.
 *
 * States (changed only in session.c):
 *
 *   SESSION_NEW --login--> SESSION_AUTHED --connect--> SESSION_CONNECTED
 *                                  ^                        |
 *                                  +------disconnect--------+
 *
 * `in_tx` is true in SESSION_CONNECTED between start transaction and
 * commit/rollback. Closing a session rolls back an open transaction (by
 * disconnecting from DuckDB) and unpins its database.
 */
#ifndef TCPDUCKDB_SESSION_H
#define TCPDUCKDB_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "duckdb.h"
#include "pool.h"
#include "query.h"
#include "request.h"
#include "stmtcache.h"

typedef enum { SESSION_NEW, SESSION_AUTHED, SESSION_CONNECTED } SessionState;

/* Appends the error line that gives the reason a connection is closed (reply.h). */
typedef void (*CloseReason)(Buf *out);

/* What the server needs; shared by every session, read-only. */
typedef struct SessionEnv {
    const Config *cfg;
    Catalog *catalog;
    Pool *pool;
    /* Clients connected now, for `stats`: main.c sets server_sessions_active,
     * so that session.c does not depend on the server module. */
    int (*sessions_active)(void);
    int (*sessions_tls)(void); /* of which over TLS (server_sessions_tls) */
} SessionEnv;

typedef struct Session Session;
struct Session {
    int fd;
    RequestReader reader;

    /* Protocol state, session.c only. */
    SessionState state;
    bool in_tx;
    bool tx_error;  /* a statement failed inside the open transaction */
    bool tx_doomed; /* a request failed after part of it ran: commit must roll back */
    CatalogUser user;
    char database[CATALOG_NAME_MAX + 1];
    int64_t db_id;           /* catalog id of `database` */
    bool prune_pending;      /* tables were dropped or altered in the open transaction */
    bool tx_catalog_changed; /* the open transaction ran DDL, SET or the like: its end
                              * must bump the database's schema generation */
    PoolDb *db;
    StmtCache *stmts;         /* prepared statements of `con` (SESSION_CONNECTED only) */
    pthread_mutex_t con_lock; /* guards con against the shutdown interrupt */
    duckdb_connection con;

    /* Server bookkeeping, server.c only. */
    Session *prev, *next;     /* all sessions */
    Session *next_job;        /* job queue link */
    bool busy;                /* a worker owns the session (under sessions_lock) */
    bool expired;             /* to be closed with close_reason (under sessions_lock) */
    bool want_write;          /* waiting for the socket to take `unsent` (armed for EPOLLOUT) */
    Buf unsent;               /* answers the socket did not take at the end of a turn */
    bool eof;                 /* the client closed its side */
    CloseReason close_reason; /* the answer sent before closing (reply.h), or NULL */
    int64_t last_active_ms;
    struct Tls *tls;         /* the TLS transport after `starttls` (tls.h), or NULL: plain */
    bool tls_handshaking;    /* `starttls` answered, handshake not finished */
    bool first_request_seen; /* `starttls` is accepted only as the first request */
    RequestStatus pending;   /* the next request, framed, not yet run */
    char *pending_text;
    size_t pending_len;
};

typedef enum { SESSION_CONTINUE, SESSION_CLOSE } SessionAction;

Session *session_new(int fd);

/*
 * Handles one request (as returned by request_next) and appends its answer
 * to io->out, streaming large answers through io->flush. Returns
 * SESSION_CLOSE after `quit` or when the client is gone.
 */
SessionAction session_handle(Session *s, const SessionEnv *env, RequestStatus status, char *text,
                             size_t len, QueryIo *io);

/* Interrupts the query the session is running, if any. Any thread. */
void session_interrupt(Session *s);

/*
 * Leaves the database (rolling back an open transaction) and frees the
 * session. The socket is the caller's to close, after this returns, so that
 * its descriptor number cannot be reused while the session still exists.
 * Accepts NULL.
 */
void session_free(Session *s, const SessionEnv *env);

#endif
