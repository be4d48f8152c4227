/*
 * session: one client's protocol state (who is logged in, which database,
 * which transaction) and the commands it can send, through a table that
 * any front end can use (SessionCommand).
 *
 * A Session knows nothing of sockets: the server module creates one for
 * each accepted connection and passes it the framed requests. It is used
 * by one thread at a time, the worker that owns the connection (server.c:
 * workers take client sockets from an EPOLLONESHOT epoll set, so a
 * connection has one owner until its socket is re-armed). So its fields
 * need no lock, except `con`, which the I/O thread reads at shutdown to
 * interrupt a running query, and which is therefore changed only under
 * `con_lock`.
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

#include "cancel.h"
#include "catalog.h"
#include "config.h"
#include "duckdb.h"
#include "userlimits.h"
#include "pool.h"
#include "query.h"
#include "quota.h"
#include "request.h"
#include "stmtcache.h"
#include "throttle.h"

typedef enum { SESSION_NEW, SESSION_AUTHED, SESSION_CONNECTED } SessionState;

/* What the server needs; shared by every session, read-only. */
typedef struct SessionEnv {
    const Config *cfg;
    Catalog *catalog;
    Pool *pool;
    /* Clients connected now, for `stats`: main.c sets server_sessions_active,
     * so that session.c does not depend on the server module. */
    int (*sessions_active)(void);
    int (*sessions_tls)(void); /* of which over TLS (server_sessions_tls) */
    /* Worker threads running now and at most so far (server_workers), for `stats`. */
    void (*workers)(int *running, int *peak);
    Quota *quota; /* MaxUserStatements (quota.h); NULL: no limit */
    /* Failed logins of every front end (throttle.h; locked inside); NULL: the server makes one. */
    Throttle *throttle;
} SessionEnv;

/*
 * What the front end that owns a session gives its `login` for the login
 * limits (docs/security.md, "Login limits"). All zero (as session_new()
 * leaves it) means no limits. Set once, before the first request.
 */
typedef struct SessionLogin {
    char addr[THROTTLE_KEY_MAX + 1]; /* the client's address as text; "" when unknown */
    Throttle *throttle;              /* borrowed; outlives the session; NULL: no throttling */
    /*
     * Takes a logged-in slot for a user who has given the right password
     * (`super`: the super user); false when no slot is free for them, and
     * the login is then refused with Too Many Connections and the
     * connection closed. Called on the session's thread. NULL: always true.
     */
    bool (*admit)(void *ctx, bool super);
    void *ctx;
} SessionLogin;

typedef struct Session Session;
struct Session {
    SessionLogin login; /* set by the front end after session_new() */
    SessionState state; /* changed only in session.c */
    bool quit;          /* the client sent quit: the connection ends after the answer */
    bool in_tx;
    bool tx_error;  /* a statement failed inside the open transaction */
    bool tx_doomed; /* a request failed after part of it ran: commit must roll back */
    CatalogUser user;
    UserLimits limits; /* the user's limits as of login (userlimits.h) */
    char database[CATALOG_NAME_MAX + 1];
    int64_t db_id;           /* catalog id of `database` */
    bool prune_pending;      /* the open transaction ran DDL: its COMMIT syncs the table
                              * grants (access_prune_table_grants) */
    bool tx_catalog_changed; /* the open transaction ran DDL, SET or the like: its end
                              * must bump the database's schema generation */
    PoolDb *db;
    StmtCache *stmts;         /* prepared statements of `con` (SESSION_CONNECTED only) */
    pthread_mutex_t con_lock; /* guards con against the shutdown interrupt */
    duckdb_connection con;
    /* The cancel id and key (cancel.h), registered at login, unregistered
     * by session_free(); id 0 before login. */
    CancelKey cancel;
};

typedef enum { SESSION_CONTINUE, SESSION_CLOSE } SessionAction;

/* A client that has not logged in yet. Caller frees with session_free(). */
Session *session_new(void);

/* Who may run a command; checked before its handler runs. */
typedef enum {
    SESSION_WHO_ANYONE,    /* any client */
    SESSION_WHO_GUEST,     /* a client not logged in yet (else Bad Request: already logged in) */
    SESSION_WHO_USER,      /* a logged-in user (else Unauthorized) */
    SESSION_WHO_SUPER,     /* the super user (else Unauthorized) */
    SESSION_WHO_CONNECTED, /* a user connected to a database (else Unauthorized or Bad Request) */
} SessionWho;

/* How a request is recognised as a command rather than SQL. */
typedef enum {
    SESSION_MATCH_WORDS, /* its first word (and `sub`) match; a word count outside
                          * min_words..max_words is answered with the usage */
    SESSION_MATCH_ARGS,  /* the same, with at least one more word (alone the word is SQL) */
    SESSION_MATCH_ALONE, /* the word is the whole request */
    SESSION_MATCH_TEXT,  /* the transaction commands, matched on the whole text with their SQL
                          * spellings (BEGIN TRANSACTION, END, ...) and an optional ';' */
} SessionMatch;

/*
 * A command's handler: runs it for `s` with the request's words and appends
 * exactly one answer line to `out`. Called on the worker that owns `s`,
 * only after the table's checks (who, word count).
 */
typedef void (*SessionCommandFn)(Session *s, const SessionEnv *env, const RequestWords *w,
                                 Buf *out);

/* One row of the command table (session.c), which also generates `help`. */
typedef struct SessionCommand {
    const char *name;      /* first word */
    const char *sub;       /* second word, or NULL */
    SessionMatch match;    /* how the request is recognised */
    const char *not_third; /* a third word that makes it SQL (`update t set`), or NULL */
    int min_words;         /* word counts, name included, the command accepts */
    int max_words;
    SessionWho who;       /* who may run it */
    SessionCommandFn run; /* the handler */
    const char *usage;    /* for `help` and the usage answer */
} SessionCommand;

/*
 * The command the words of a request are, or NULL when the request is SQL
 * (or a transaction command, which is recognised on the whole text).
 */
const SessionCommand *session_command_find(const RequestWords *w);

/*
 * Runs a command from the table: answers Unauthorized (or the like) when
 * the session may not run it, the usage when the word count is wrong, and
 * otherwise calls its handler.
 */
void session_command_run(const SessionCommand *c, Session *s, const SessionEnv *env,
                         const RequestWords *w, Buf *out);

/*
 * Handles one request (as returned by request_next) and appends its answer
 * to io->out, streaming large answers through io->flush. Returns
 * SESSION_CLOSE after `quit` or when the client is gone.
 */
SessionAction session_handle(Session *s, const SessionEnv *env, RequestStatus status, char *text,
                             size_t len, QueryIo *io);

/*
 * The seconds the session may stay idle now: its idle_in_transaction_timeout
 * (userlimits.h) while it has a transaction open, else 0 (no such limit). For
 * the server's idle scan: read by the I/O thread only while no worker owns
 * the connection, after the owner's release.
 */
int session_idle_in_transaction_limit(const Session *s);

/* Interrupts the query the session is running, if any. Any thread. */
void session_interrupt(Session *s);

/*
 * Leaves the database (rolling back an open transaction) and frees the
 * session. Accepts NULL.
 */
void session_free(Session *s, const SessionEnv *env);

#endif
