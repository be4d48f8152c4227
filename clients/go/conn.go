package tcpduckdb

// A connection: one session on the server (login, connected database, transaction). The
// database/sql pool uses a conn from one goroutine at a time; only the context watch runs
// beside it. The watch reads cfg and cancelKey (never changed after connect), sends the cancel
// request on its own second connection, and touches the first one only through the socket's
// Close and the atomic flags.
//
// A context that ends during a request is handled as lib/pq and pgx do: the watch sends the
// server's cancel request (docs/protocol.md, "Cancel") on a second connection, the request
// ends with the server's `Error: Canceled` answer (after any rows already sent, which are read
// and dropped), the call returns the context's error and the connection stays in step and in
// the pool. Only when the cancel cannot be sent (no key: not logged in, or a server without
// cancel requests; the second connection fails) or the request has not ended within
// cancelGrace (a cancel that reaches the server before the statement starts does nothing) is
// the socket closed and the connection marked bad.

import (
	"context"
	"crypto/tls"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
)

type conn struct {
	w      *wire
	cfg    *Config
	active *rows // the result still being read off the socket, if any
	inTx   bool

	// cancelKey is "ID KEY" from `session key`, set by connect and never changed after: ""
	// when the connection did not log in or the server has no cancel requests.
	cancelKey string

	bad atomic.Bool // the socket is closed or out of step: the pool must drop it
	// cancelCtx: the context of the request in flight ended (the watch cancelled it, or
	// closed the socket). Cleared when the next request starts, so it never leaks into it.
	cancelCtx atomic.Bool
	ctxErr    error // that context's error, set before cancelCtx
}

// How long the watch's cancel request may take (its own connection, starttls, the answer),
// and how long the request then has to end before the socket is closed after all.
const (
	cancelTimeout = 5 * time.Second
	cancelGrace   = 2 * time.Second
)

// connect opens a session; cfg.ConnectTimeout (default 30 s) bounds all of it, as libpq's
// connect_timeout: TCP, starttls, TLS handshake, login and connect (which may wait for one of
// the server's database slots).
func connect(ctx context.Context, cfg *Config) (*conn, error) {
	timeout := cfg.ConnectTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w, err := dialWire(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c := &conn{w: w, cfg: cfg}
	fail := func(err error) (*conn, error) {
		c.w.nc.Close()
		return nil, err
	}
	if cfg.User != "" {
		if _, err := c.command(ctx, "login "+quoteWord(cfg.User)+" "+quoteWord(cfg.Password)); err != nil {
			return fail(err)
		}
		// Fetched once here, not when a context ends: by then the socket is busy with the
		// request to cancel. One round trip per connection, which the pool keeps.
		key, err := c.sessionKey(ctx)
		if err != nil {
			return fail(err)
		}
		c.cancelKey = key
	}
	if cfg.Database != "" {
		if _, err := c.command(ctx, "connect "+quoteWord(cfg.Database)); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// sessionKey asks for the session's cancel id and key and returns them as `cancel` takes them
// ("ID KEY"), or "" from a server that answers an error (one without cancel requests).
func (c *conn) sessionKey(ctx context.Context) (string, error) {
	text, err := c.command(ctx, "session key")
	var se *Error
	if errors.As(err, &se) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var k struct {
		Session uint64 `json:"session"`
		Key     string `json:"key"`
	}
	if json.Unmarshal([]byte(text), &k) != nil || k.Session == 0 || !isHex32(k.Key) {
		c.markBad()
		return "", &ProtocolError{Reason: fmt.Sprintf("unexpected answer to session key: %.200q", text)}
	}
	return fmt.Sprintf("%d %s", k.Session, k.Key), nil
}

func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, ch := range s {
		if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F') {
			return false
		}
	}
	return true
}

// sendCancel opens a second connection with cfg (the same host, port and TLS options as the
// session's: starttls first unless sslmode is disable) and sends `cancel ID KEY`; the server
// answers `success` whatever happened and closes it. cancelTimeout bounds all of it.
func sendCancel(cfg *Config, key string) error {
	timeout := cancelTimeout
	if cfg.ConnectTimeout > 0 && cfg.ConnectTimeout < timeout {
		timeout = cfg.ConnectTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	w, err := dialWire(ctx, cfg)
	if err != nil {
		return err
	}
	defer w.nc.Close()
	deadline, _ := ctx.Deadline()
	w.nc.SetDeadline(deadline)
	if err := w.send([]byte("cancel " + key)); err != nil {
		return &ConnError{Op: "send the cancel request", Err: err}
	}
	line, err := w.readLine()
	if err != nil {
		return &ConnError{Op: "read the answer to cancel", Err: err}
	}
	if line != "success" {
		return &ProtocolError{Reason: fmt.Sprintf("unexpected answer to cancel: %.200q", line)}
	}
	return nil
}

// quoteWord double-quotes a command argument the way the server's word splitter reads it.
func quoteWord(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (c *conn) markBad()        { c.bad.Store(true) }
func (c *conn) isBad() bool     { return c.bad.Load() }
func (c *conn) cancelled() bool { return c.cancelCtx.Load() }

// watch ends the request in flight when ctx ends. It sends the cancel request on a second
// connection and gives the request cancelGrace to end with the server's answer; when there is
// no cancel key, the cancel cannot be sent, or the request goes on past the grace, it closes
// the socket (the server then interrupts the statement of a client that is gone within about
// 0.1 s) and marks the connection bad. The returned stop ends the watch; it returns ctx's
// error if the watch fired. stop waits for a cancel request being sent to be answered: the
// server interrupts the statement (or finds none running) before it answers `success`, so a
// cancel never reaches the connection's next request.
func (c *conn) watch(ctx context.Context) func() error {
	c.cancelCtx.Store(false) // the previous request's watch has stopped: its flag goes
	if ctx.Done() == nil {
		return func() error { return nil }
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		c.ctxErr = ctx.Err()
		c.cancelCtx.Store(true)
		if c.cancelKey != "" && sendCancel(c.cfg, c.cancelKey) == nil {
			grace := time.NewTimer(cancelGrace)
			defer grace.Stop()
			select {
			case <-done:
				return
			case <-grace.C:
			}
		}
		c.markBad()
		// The TCP socket, not a *tls.Conn: its Close sends close_notify under the TLS write
		// lock, which a send blocked on a server that does not read would hold.
		c.w.raw.Close()
	}()
	return func() error {
		close(done)
		<-finished
		if c.cancelled() {
			return c.ctxErr
		}
		return nil
	}
}

// ioError maps a failed read or write: the context's error when the request's context ended
// (the watch closed the socket), else a ConnError. Either way the connection is bad.
func (c *conn) ioError(op string, err error) error {
	c.markBad()
	if c.cancelled() {
		return c.ctxErr
	}
	c.w.nc.Close()
	return &ConnError{Op: op, Err: err}
}

// settle makes the socket free for a new request: an open result is read into memory.
func (c *conn) settle() {
	if c.active != nil {
		r := c.active
		c.active = nil
		r.bufferRest()
	}
}

// roundtrip sends one request and reads the start of its answer. For answerRows the caller
// reads the rows and calls the returned stop when they are done; otherwise stop was called.
func (c *conn) roundtrip(ctx context.Context, req []byte) (kind int, changed int64, text string, stop func() error, err error) {
	if c.isBad() {
		return 0, 0, "", nil, driver.ErrBadConn
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, "", nil, err
	}
	c.settle()
	stop = c.watch(ctx)
	if err := c.w.send(req); err != nil {
		stop()
		return 0, 0, "", nil, c.ioError("send a request", err)
	}
	kind, changed, text, err = c.w.answer()
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			if cerr := stop(); cerr != nil {
				return 0, 0, "", nil, cerr
			}
			return 0, 0, "", nil, se
		}
		stop()
		return 0, 0, "", nil, c.ioError("read the answer", err)
	}
	if kind != answerRows {
		if err := stop(); err != nil {
			return 0, 0, "", nil, err
		}
		return kind, changed, text, nil, nil
	}
	return kind, changed, text, stop, nil
}

// query runs a typed request and returns its rows (nil for an answer without rows).
func (c *conn) query(ctx context.Context, req []byte) (*rows, int64, error) {
	kind, changed, _, stop, err := c.roundtrip(ctx, req)
	if err != nil {
		return nil, 0, err
	}
	switch kind {
	case answerRows:
		r, err := newRows(c)
		if err != nil {
			stop()
			return nil, 0, err
		}
		r.release = stop
		r.ctx = ctx
		c.active = r
		return r, 0, nil
	case answerChanged:
		return nil, changed, nil
	case answerSuccess:
		return nil, 0, nil
	}
	c.markBad()
	return nil, 0, &ProtocolError{Reason: "unexpected answer to a typed request"}
}

// command sends a plain command (login, begin, grant ...) and returns its answer text
// ("" for success). A command answered with rows cannot happen; it is drained regardless.
func (c *conn) command(ctx context.Context, line string) (string, error) {
	if strings.ContainsAny(line, "\r\n") {
		return "", errors.New("tcpduckdb: a command is one line")
	}
	kind, _, text, stop, err := c.roundtrip(ctx, []byte(line))
	if err != nil {
		return "", err
	}
	if kind == answerRows {
		r, err := newRows(c)
		if err != nil {
			stop()
			return "", err
		}
		r.release = stop
		r.ctx = ctx
		r.Close()
	}
	return text, nil
}

// Command sends a server command (`create database x`, `grant ...`, `list users`) on the
// connection and returns its answer: "" for `success`, else the answer's text (JSON for
// `list`). Use it through sql.Conn.Raw:
//
//	conn.Raw(func(dc any) error { out, err = dc.(tcpduckdb.Commander).Command(ctx, "list users"); return err })
func (c *conn) Command(ctx context.Context, line string) (string, error) {
	return c.command(ctx, line)
}

// Commander is implemented by the driver's connections (see sql.Conn.Raw).
type Commander interface {
	Command(ctx context.Context, line string) (string, error)
}

// Prepare returns a statement; parameters are bound by the server when it runs.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext returns a statement for query. The server prepares each SQL text once per
// session and keeps it in its statement cache, so nothing is sent here.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if c.isBad() {
		return nil, driver.ErrBadConn
	}
	return &stmt{c: c, query: query}, nil
}

// Close ends the session; the server rolls back an open transaction.
func (c *conn) Close() error {
	if !c.isBad() && c.active == nil {
		c.w.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.w.send([]byte("quit"))
	}
	c.markBad()
	return c.w.nc.Close()
}

// Begin starts a transaction.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx sends `begin`. DuckDB's transactions are snapshot isolated: the default, Snapshot
// and Serializable levels are accepted (DuckDB aborts a transaction on a write conflict);
// read-only transactions and the weaker levels are refused.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	switch opts.Isolation {
	case driver.IsolationLevel(0), driver.IsolationLevel(5), driver.IsolationLevel(6): // Default, Snapshot, Serializable
	default:
		return nil, errors.New("tcpduckdb: unsupported isolation level (DuckDB's transactions are snapshot isolated)")
	}
	if opts.ReadOnly {
		return nil, errors.New("tcpduckdb: read-only transactions are not supported")
	}
	if _, err := c.command(ctx, "begin"); err != nil {
		if c.cancelled() {
			// The context ended while `begin` ran (a command the cancel does not stop): the
			// server may be in a transaction nobody will end, so the pool must drop it.
			c.markBad()
		}
		return nil, err
	}
	c.inTx = true
	return &tx{c: c}, nil
}

type tx struct{ c *conn }

// Commit sends `commit`. If a statement failed inside the transaction the server rolls it
// back and answers an *Error with Code TRANSACTION_ABORTED; the transaction is over either way.
func (t *tx) Commit() error {
	t.c.inTx = false
	_, err := t.c.command(context.Background(), "commit")
	return err
}

// Rollback sends `rollback`.
func (t *tx) Rollback() error {
	t.c.inTx = false
	_, err := t.c.command(context.Background(), "rollback")
	return err
}

// ExecContext runs query with args bound by the server and returns the rows it changed.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	req, err := typedRequest(query, args)
	if err != nil {
		return nil, err
	}
	r, changed, err := c.query(ctx, req)
	if err != nil {
		return nil, err
	}
	if r != nil { // Exec of a statement that returns rows: read them and drop them
		dest := make([]driver.Value, len(r.cols))
		for {
			if err := r.Next(dest); err != nil {
				if err == io.EOF {
					break
				}
				return nil, err
			}
		}
	}
	return result(changed), nil
}

// QueryContext runs query with args bound by the server; its rows are read as they arrive.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	req, err := typedRequest(query, args)
	if err != nil {
		return nil, err
	}
	r, changed, err := c.query(ctx, req)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return &noRows{changed: changed}, nil
	}
	return r, nil
}

// Ping checks the server answers: `SELECT 1` when connected to a database, else a command
// any logged-in user (or anyone) may send.
func (c *conn) Ping(ctx context.Context) error {
	var err error
	switch {
	case c.cfg.Database != "":
		var req []byte
		req, err = typedRequest("SELECT 1", nil)
		if err == nil {
			var r *rows
			r, _, err = c.query(ctx, req)
			if r != nil {
				r.Close()
			}
		}
	case c.cfg.User != "":
		_, err = c.command(ctx, "list limits")
	default:
		_, err = c.command(ctx, "help")
	}
	if err != nil && c.isBad() {
		return driver.ErrBadConn
	}
	return err
}

// ResetSession runs before database/sql hands a pooled connection out again: a connection
// that is bad, was left in a transaction, or that the server closed or wrote to while it sat
// idle (an `Error: Idle Timeout` line, a shutdown) is reported with driver.ErrBadConn.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.isBad() || c.active != nil || c.inTx {
		return driver.ErrBadConn
	}
	if c.w.br.Buffered() > 0 {
		c.markBad()
		return driver.ErrBadConn
	}
	if !socketQuiet(c.w.raw) {
		c.markBad()
		return driver.ErrBadConn
	}
	return nil
}

// IsValid reports whether the pool may keep the connection.
func (c *conn) IsValid() bool { return !c.isBad() && !c.inTx }

// CheckNamedValue accepts, besides database/sql's usual values, *big.Int and BigInt (sent as
// exact integers, up to 128 bits), uint64 and the other unsigned integers, and rejects named
// parameters (the protocol binds by position).
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	return checkNamedValue(nv)
}

type result int64

func (r result) LastInsertId() (int64, error) {
	return 0, errors.New("tcpduckdb: LastInsertId is not supported (use INSERT ... RETURNING)")
}
func (r result) RowsAffected() (int64, error) { return int64(r), nil }

// noRows is what QueryContext returns for a statement without rows (DDL, INSERT without
// RETURNING): no columns, no rows.
type noRows struct{ changed int64 }

func (n *noRows) Columns() []string              { return nil }
func (n *noRows) Close() error                   { return nil }
func (n *noRows) Next(dest []driver.Value) error { return io.EOF }

type stmt struct {
	c     *conn
	query string
}

func (s *stmt) Close() error { return nil }

// NumInput is -1: the server checks the number of parameters against the placeholders.
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), valuesToNamed(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), valuesToNamed(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error { return checkNamedValue(nv) }

func valuesToNamed(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, v := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
	_ driver.StmtExecContext    = (*stmt)(nil)
	_ driver.StmtQueryContext   = (*stmt)(nil)
	_ driver.NamedValueChecker  = (*stmt)(nil)
	_ driver.Tx                 = (*tx)(nil)
)

// TLSConnectionState returns the TLS state of the connection, and false when it is plain text
// (sslmode disable, or prefer against a server without TLS). Reach it through sql.Conn.Raw.
func (c *conn) TLSConnectionState() (tls.ConnectionState, bool) {
	if tc, ok := c.w.nc.(*tls.Conn); ok {
		return tc.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}
