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
#include "sessions.h"
#include "stmtcache.h"
#include "throttle.h"

typedef enum { SESSION_NEW, SESSION_AUTHED, SESSION_CONNECTED } SessionState;

/* What the server needs; shared by every session, read-only but for `cfg`. */
/* The access checks' copy of a user's grants (access.h). */
typedef struct AccessGrants AccessGrants;

typedef struct SessionEnv {
    /*
     * The settings in force: an atomic pointer that `reload` replaces
     * (reload.h); each use loads it (acquire) and reads a Config that is
     * never changed, so a caller that needs two settings to agree loads it
     * once into a local.
     */
    const Config *_Atomic cfg;
    Catalog *catalog;
    Pool *pool;
    /* Clients connected now, for `stats`: main.c sets server_sessions_active,
     * so that session.c does not depend on the server module. */
    int (*sessions_active)(void);
    int (*sessions_tls)(void); /* of which over TLS (server_sessions_tls) */
    int (*sessions_pg)(void);  /* of which on PgPort (server_sessions_pg); NULL: none */
    /* Worker threads running now and at most so far (server_workers), for `stats`. */
    void (*workers)(int *running, int *peak);
    Quota *quota; /* MaxUserStatements (quota.h); NULL: no limit */
    /*
     * `reload` (super user): re-reads the settings and answers one line in
     * `out` (reload.h); NULL: the command answers that reload is not
     * available here.
     */
    void (*reload)(Buf *out);
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
    /* For `show sessions` (sessions.h): the client's address and port as text ("" when
     * unknown), whether the connection is over TLS, and how to end the session
     * (`terminate`, called with `ctx`; NULL: it cannot be terminated). Set before login. */
    char client[SESSIONS_CLIENT_MAX];
    bool tls;
    SessionsTerminateFn terminate;
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
    /* PgPort's statement_timeout setting in ms (pgwire_settings.h), 0: none. It only
     * lowers the user's limit (session_statement_timeout_ms). */
    int64_t client_timeout_ms;
    char database[CATALOG_NAME_MAX + 1];
    int64_t db_id;           /* catalog id of `database` */
    bool prune_pending;      /* the open transaction ran DDL: its COMMIT syncs the table
                              * grants (access_prune_table_grants) */
    bool tx_catalog_changed; /* the open transaction ran DDL, SET or the like: its end
                              * must bump the database's schema generation */
    /* Result cache (rescache.h, docs/cache.md). */
    bool cache_off;     /* `set cache off`: this session neither reads nor fills the cache */
    bool cache_tainted; /* the connection ran SET, USE, a TEMP object...: its answers may
                         * differ from other connections', so it does not use the cache
                         * until it connects again */
    bool tx_wrote;      /* the open transaction ran a statement that may write: its COMMIT
                         * moves the database's write generation */
    PoolDb *db;
    StmtCache *stmts;         /* prepared statements of `con` (SESSION_CONNECTED only) */
    AccessGrants *grants;     /* the access checks' copy of the user's grants (access.h) */
    pthread_mutex_t con_lock; /* guards con against the shutdown interrupt */
    duckdb_connection con;
    /* The cancel id and key (cancel.h), registered at login, unregistered
     * by session_free(); id 0 before login. */
    CancelKey cancel;
    /* Its row in `show sessions` (sessions.h), registered with the cancel key. */
    SessionsEntry reg;
    time_t connected_at; /* when session_new() ran (wall clock) */
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
 * The transaction command (start transaction, begin, commit, end, rollback,
 * abort, ...) that the whole of `text` spells, case-insensitive, with an
 * optional trailing ';'; NULL for anything else.
 */
const SessionCommand *session_transaction_command(const char *text, size_t len);

/*
 * For a front end of another protocol (pgwire_session.c), so that its users
 * run under the same rules as the line protocol's.
 *
 * Login in three steps, for a front end that checks the password itself
 * (SCRAM): session_login_throttled() before anything (returns -1 with the
 * answer in `out` when the address or user is blocked),
 * session_login_failed() after a wrong password or unknown user, and
 * session_login_finish() for the user whose proof was right: the login
 * slot, the user's limits and the cancel key, as `login` (returns 0, or -1
 * with the answer in `out`; `s->quit` is then set when the connection must
 * close).
 */
int session_login_throttled(Session *s, const char *name, Buf *out)
    __attribute__((warn_unused_result));
void session_login_failed(Session *s, const char *name);
int session_login_finish(Session *s, const SessionEnv *env, const CatalogUser *user, Buf *out)
    __attribute__((warn_unused_result));

/*
 * Runs one request of SQL text as the line protocol runs SQL (quota, access
 * check, statement cache, watchdog), with `params` bound when not NULL
 * (their `sql` is ignored) and the answer encoded by `fmt` (query.h); error
 * answers go to io->errors as lines.
 */
void session_run_sql(Session *s, const SessionEnv *env, const char *sql, const TypedRequest *params,
                     const QueryFormat *fmt, QueryIo *io, SessionAction *action);

/*
 * Prepares `sql` without running it, after the same access check as a
 * request, and calls `fn` with the prepared statement (borrowed for the
 * call) to read its parameter and column types. Returns 0, or -1 with an
 * error line in `errors`.
 */
int session_describe_sql(Session *s, const SessionEnv *env, const char *sql,
                         void (*fn)(void *ctx, duckdb_prepared_statement prep), void *ctx,
                         Buf *errors) __attribute__((warn_unused_result));

/*
 * The seconds the session may stay idle now: its idle_in_transaction_timeout
 * (userlimits.h) while it has a transaction open, else 0 (no such limit). For
 * the server's idle scan: read by the I/O thread only while no worker owns
 * the connection, after the owner's release.
 */
int session_idle_in_transaction_limit(const Session *s);

/*
 * The milliseconds each statement may run now (0: no limit): the user's
 * statement_timeout limit (userlimits.h), or the client's own
 * (client_timeout_ms) where that is lower and not 0.
 */
int64_t session_statement_timeout_ms(const Session *s);

/*
 * Admits one more statement of the user of `s` under their MaxUserStatements
 * (quota.h; the super user is not held to it): true, or false with the Too
 * Many Statements line (reply.h) appended to `out`. Every admitted statement
 * is given back with session_statement_release(), whatever its end: SQL
 * (sqlrun.c), a PgPort catalog query, a COPY FROM until its last message.
 */
bool session_statement_admit(const Session *s, const SessionEnv *env, Buf *out)
    __attribute__((warn_unused_result));
void session_statement_release(const Session *s, const SessionEnv *env);

/* Interrupts the query the session is running, if any. Any thread. */
void session_interrupt(Session *s);

/*
 * Leaves the database (rolling back an open transaction) and frees the
 * session. Accepts NULL.
 */
void session_free(Session *s, const SessionEnv *env);

#endif
