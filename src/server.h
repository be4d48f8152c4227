/*
 * server: the listening socket, the I/O thread, the worker threads, and
 * the state of every client connection (private to server.c).
 *
 * Concurrency model (docs/architecture.md): one I/O thread accepts
 * connections, handles signals, enforces idle and TLS handshake deadlines
 * and runs the shutdown; it never reads or writes a client's data, nor
 * touches DuckDB or SQLite. A pool of QueryWorkers worker threads owns the
 * client sockets: they wait on one epoll set (EPOLLONESHOT), and the worker
 * that takes a socket's event owns that connection until it re-arms the
 * socket: it steps a TLS handshake, reads and frames the requests, runs
 * them through the session (session.h), writes the answers (a large result
 * with blocking semantics, so a slow reader holds back its own query, never
 * the others). An idle client therefore costs a connection, a Session and
 * a small read buffer, and the number of requests executing at once is
 * exactly QueryWorkers.
 *
 * The I/O thread also enforces the login limits (docs/security.md, "Login
 * limits"): the login deadline, MaxConnectionsPerAddress, and room for new
 * connections made by closing the oldest client that has not logged in;
 * SuperuserReservedConnections is checked when a session logs in.
 */
#ifndef TCPDUCKDB_SERVER_H
#define TCPDUCKDB_SERVER_H

#include "session.h"
#include "tls.h"

/*
 * Binds, logs "listening to ADDR:PORT", and serves until SIGINT or SIGTERM;
 * `tls` (borrowed; NULL when TLSMode=off) offers `starttls` to clients;
 * then stops accepting, closes every session (rolling back open
 * transactions and interrupting running queries) and returns 0. Returns -1
 * with a message in `err` if the server cannot start.
 */
int server_run(const SessionEnv *env, TlsServer *tls, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Clients connected to this process right now (the `stats` command's
 * active sessions). Any thread; a relaxed snapshot that may be a moment
 * out of date. The count is owned by server.c, which alone changes it.
 */
int server_sessions_active(void);

/* Of those, the clients whose TLS handshake is complete. Same terms. */
int server_sessions_tls(void);

/* Of those, the clients accepted on PgPort (the PostgreSQL protocol). Same terms. */
int server_sessions_pg(void);

/*
 * The worker threads running now and the most there have been (workers.h),
 * for `stats` and /metrics; zeros when no server runs. Any thread.
 */
void server_workers(int *running, int *peak);

#endif
