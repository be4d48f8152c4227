package tcpduckdb

// Cancellation through the server's cancel request (docs/protocol.md, "Cancel"): a context
// that ends during a request cancels the statement from a second connection, and the same
// connection goes on; the fall-backs close it.

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const longQuery = `SELECT count(*) FROM range(10000000000)`

// pinnedConn returns the driver connection under sc.
func pinnedConn(t *testing.T, sc *sql.Conn) *conn {
	t.Helper()
	var c *conn
	if err := sc.Raw(func(dc any) error { c = dc.(*conn); return nil }); err != nil {
		t.Fatal(err)
	}
	return c
}

// interrupted returns the server's statements.interrupted counter (`stats`, super user).
func interrupted(t *testing.T, admin *sql.DB) int64 {
	t.Helper()
	var st struct {
		Statements struct {
			Interrupted int64 `json:"interrupted"`
		} `json:"statements"`
	}
	if err := json.Unmarshal([]byte(command(t, admin, "stats")), &st); err != nil {
		t.Fatal(err)
	}
	return st.Statements.Interrupted
}

// stillGood checks that sc's driver connection is c, in step, and runs SELECT 1.
func stillGood(t *testing.T, sc *sql.Conn, c *conn, what string) {
	t.Helper()
	if got := pinnedConn(t, sc); got != c || c.isBad() {
		t.Fatalf("%s: the connection was dropped (bad %v)", what, c.isBad())
	}
	var one int
	if err := sc.QueryRowContext(context.Background(), `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("%s: SELECT 1 on the same connection: %d %v", what, one, err)
	}
}

func TestCancelKeepsConnection(t *testing.T) {
	srv, db, _ := newDatabase(t)
	admin := srv.open(t, "")
	ctx := context.Background()
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	c := pinnedConn(t, sc)
	if c.cancelKey == "" {
		t.Fatal("no cancel key after login")
	}
	before := interrupted(t, admin)

	// A timeout.
	tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	var n int64
	if err := sc.QueryRowContext(tctx, longQuery).Scan(&n); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	stillGood(t, sc, c, "after a timeout")
	if after := interrupted(t, admin); after < before+1 {
		t.Errorf("stats: interrupted %d before, %d after the cancel", before, after)
	}

	// An explicit cancel from another goroutine, on ExecContext.
	cctx, cancel2 := context.WithCancel(ctx)
	go func() { time.Sleep(300 * time.Millisecond); cancel2() }()
	if _, err := sc.ExecContext(cctx, longQuery); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	stillGood(t, sc, c, "after a cancel")

	// A context that ends after its request: the next request does not see it.
	octx, cancel3 := context.WithCancel(ctx)
	if err := sc.QueryRowContext(octx, `SELECT 2`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("SELECT 2: %d %v", n, err)
	}
	cancel3()
	stillGood(t, sc, c, "after a context ended between requests")
}

func TestCancelWhileStreaming(t *testing.T) {
	srv, db, _ := newDatabase(t)
	admin := srv.open(t, "")
	ctx := context.Background()
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	c := pinnedConn(t, sc)
	const stream = `SELECT i, 'row ' || i FROM range(100000000) r(i)`

	// Through database/sql (which also closes the rows when the context ends).
	cctx, cancel := context.WithCancel(ctx)
	rows, err := sc.QueryContext(cctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 100 && rows.Next(); k++ {
	}
	cancel()
	for rows.Next() {
	}
	if !errors.Is(rows.Err(), context.Canceled) {
		t.Errorf("rows after cancel: %v", rows.Err())
	}
	rows.Close()
	stillGood(t, sc, c, "after a cancel while streaming")

	// The driver's Next alone: it returns the context's error and reads the rest.
	cctx, cancel = context.WithCancel(ctx)
	defer cancel()
	err = sc.Raw(func(dc any) error {
		r, err := dc.(driver.QueryerContext).QueryContext(cctx, stream, nil)
		if err != nil {
			return err
		}
		defer r.Close()
		dest := make([]driver.Value, 2)
		for k := 0; k < 100; k++ {
			if err := r.Next(dest); err != nil {
				return err
			}
		}
		cancel()
		for {
			if err := r.Next(dest); err != nil {
				return err
			}
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("driver rows after cancel: %v", err)
	}
	stillGood(t, sc, c, "after the driver's rows were cancelled")

	// A large result left early: past drainLimit, Close cancels the statement and reads the
	// short rest, so the connection stays; without a key it closes the connection.
	const large = `SELECT i, repeat('x', 100) FROM range(50000000) r(i)`
	for _, withKey := range []bool{true, false} {
		if !withKey {
			c.cancelKey = ""
		}
		before := interrupted(t, admin)
		start := time.Now()
		rows, err = sc.QueryContext(ctx, large)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 10 && rows.Next(); j++ {
		}
		rows.Close()
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("leaving a large result (key %v) took %v", withKey, d)
		}
		if withKey {
			stillGood(t, sc, c, "after a large result left early")
			if after := interrupted(t, admin); after < before+1 {
				t.Errorf("stats: interrupted %d before, %d after a large result left early", before, after)
			}
		} else if !c.isBad() {
			t.Error("a large result left early without a cancel key: the connection was kept")
		}
	}
}

func TestCancelInTransaction(t *testing.T) {
	_, db, _ := newDatabase(t)
	ctx := context.Background()
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	c := pinnedConn(t, sc)
	if _, err := sc.ExecContext(ctx, `CREATE TABLE t(i INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for _, end := range []string{"rollback", "commit"} {
		tx, err := sc.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO t VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err = tx.ExecContext(tctx, longQuery)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: in a transaction: %v", end, err)
		}
		if !c.inTx || c.isBad() {
			t.Fatalf("%s: after the cancel: inTx %v, bad %v", end, c.inTx, c.isBad())
		}
		// DuckDB aborted the transaction, as after any failed statement.
		var se *Error
		if _, err := tx.Exec(`SELECT 1`); !errors.As(err, &se) || se.Code != "TRANSACTIONCONTEXT_ERROR" {
			t.Errorf("%s: a statement after the cancel: %v", end, err)
		}
		if end == "rollback" {
			if err := tx.Rollback(); err != nil {
				t.Fatalf("rollback: %v", err)
			}
		} else if err := tx.Commit(); !errors.As(err, &se) || se.Code != "TRANSACTION_ABORTED" {
			t.Fatalf("commit: %v", err)
		}
		if c.inTx {
			t.Errorf("%s: still in a transaction", end)
		}
		stillGood(t, sc, c, end)
	}
	var n int
	if err := sc.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows of the cancelled transactions: %d %v", n, err)
	}
}

// A large result left early inside a transaction is read to its end, not cancelled: a cancel
// would abort the transaction, and its commit would fail.
func TestAbandonInTransactionReadsTheRest(t *testing.T) {
	srv, db, _ := newDatabase(t)
	admin := srv.open(t, "")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept(i INTEGER)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO kept VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	before := interrupted(t, admin)
	// About 40 MB of rows, ten times drainLimit.
	rows, err := tx.Query(`SELECT i, 'row ' || i FROM range(2000000) r(i)`)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO kept VALUES (2)`); err != nil {
		t.Fatalf("the transaction after a result left early: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM kept`).Scan(&n); err != nil || n != 2 {
		t.Errorf("rows committed: %d %v", n, err)
	}
	if after := interrupted(t, admin); after != before {
		t.Errorf("stats: interrupted %d before, %d after: the statement was cancelled", before, after)
	}
}

func TestCancelTLSRequired(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "ca", "TCP-DuckDB Go cancel test CA")
	ca.leaf(t, dir, "server", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	srv := startServer(t, "--tls-mode", "required", "--tls-cert-file", filepath.Join(dir, "server.crt"),
		"--tls-key-file", filepath.Join(dir, "server.key"))
	q := "sslmode=verify-full&sslrootcert=" + filepath.Join(dir, "ca.crt")
	admin, _ := sql.Open("tcpduckdb", srv.dsn("duck", "duck", "", q))
	defer admin.Close()
	command(t, admin, "create database tlsdb")
	db, _ := sql.Open("tcpduckdb", srv.dsn("duck", "duck", "tlsdb", q))
	defer db.Close()
	ctx := context.Background()
	sc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	c := pinnedConn(t, sc)
	if _, ok := c.TLSConnectionState(); !ok {
		t.Fatal("not in TLS")
	}
	before := interrupted(t, admin)
	tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if _, err := sc.ExecContext(tctx, longQuery); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancel in TLS: %v", err)
	}
	stillGood(t, sc, c, "TLS")
	if after := interrupted(t, admin); after < before+1 {
		t.Errorf("stats: interrupted %d before, %d after the cancel", before, after)
	}
}

// The fall-backs: the connection is closed and dropped, the call still returns the context's
// error within a bound.
func TestCancelFallbackCloses(t *testing.T) {
	srv := startServer(t)
	admin := srv.open(t, "")
	command(t, admin, "create database d")
	db := srv.open(t, "d")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	cases := []struct {
		name  string
		setup func(c *conn)
	}{
		// The second connection cannot be made.
		{"no second connection", func(c *conn) { cfg := *c.cfg; cfg.Port = deadPort; c.cfg = &cfg }},
		// No key: a connection that did not log in, or an older server.
		{"no key", func(c *conn) { c.cancelKey = "" }},
		// The cancel is sent but does nothing (here a wrong key): the grace ends.
		{"cancel without effect", func(c *conn) { c.cancelKey = "1 00000000000000000000000000000000" }},
	}
	for _, tc := range cases {
		ctx := context.Background()
		sc, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c := pinnedConn(t, sc)
		tc.setup(c)
		tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		start := time.Now()
		_, err = sc.ExecContext(tctx, longQuery)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v", tc.name, err)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%s: took %v", tc.name, d)
		}
		if !c.isBad() || c.IsValid() {
			t.Errorf("%s: the connection was kept", tc.name)
		}
		if _, err := sc.ExecContext(ctx, `SELECT 1`); !errors.Is(err, driver.ErrBadConn) {
			t.Errorf("%s: the same connection afterwards: %v", tc.name, err)
		}
		sc.Close()
	}
	var n int
	if err := db.QueryRow(`SELECT 42`).Scan(&n); err != nil || n != 42 {
		t.Fatalf("the pool after the fall-backs: %v", err)
	}
}

// fakeServer answers each request line with answer(line); it serves one connection.
func fakeServer(t *testing.T, answer func(line string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			nc.Write([]byte(answer(strings.TrimSpace(line)) + "\n"))
		}
	}()
	return ln.Addr().String()
}

// An older server answers `session key` with an error: the connection works, without a key
// (so a context falls back to closing it); an answer that is not the protocol's fails.
func TestSessionKeyAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, answer, wantKey, wantErr string
	}{
		{"key", `{"session":17,"key":"6b1f0c3a9d2e47b58c11f0e9a4d7b3c2"}`, "17 6b1f0c3a9d2e47b58c11f0e9a4d7b3c2", ""},
		{"older server", `Error: Bad Request: unknown command`, "", ""},
		{"garbage", `{"session":17,"key":"short"}`, "", "unexpected answer to session key"},
	} {
		addr := fakeServer(t, func(line string) string {
			if line == "session key" {
				return tc.answer
			}
			return "success"
		})
		dc, err := (&Driver{}).Open("tcpduckdb://u:p@" + addr + "/db?sslmode=disable")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := dc.(*conn).cancelKey; got != tc.wantKey {
			t.Errorf("%s: key %q, want %q", tc.name, got, tc.wantKey)
		}
		dc.Close()
	}
}
