package tcpduckdb

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

func TestParseDSN(t *testing.T) {
	for _, k := range []string{"HOST", "PORT", "USER", "PASSWORD", "DATABASE", "SSLMODE", "SSLROOTCERT", "SSLCERT", "SSLKEY"} {
		t.Setenv("TCPDUCKDB_"+k, "")
	}
	cfg, err := ParseDSN("tcpduckdb://an%20alyst:p%40ss@db.example:4100/analytics?sslmode=verify-full&sslrootcert=/ca.crt&connect_timeout=2.5")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Host: "db.example", Port: 4100, User: "an alyst", Password: "p@ss", Database: "analytics",
		SSLMode: "verify-full", SSLRootCert: "/ca.crt", ConnectTimeout: 2500 * time.Millisecond}
	if *cfg != want {
		t.Fatalf("got %+v, want %+v", *cfg, want)
	}
	if _, err := ParseDSN("tcpduckdb://u:se%zzcret@h/d"); err == nil || strings.Contains(err.Error(), "cret") {
		t.Errorf("a bad URI's error shows its password: %v", err)
	}
	cfg, err = ParseDSN("")
	if err != nil || cfg.Host != "127.0.0.1" || cfg.Port != 4000 || cfg.SSLMode != "prefer" || cfg.User != "" {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	t.Setenv("TCPDUCKDB_HOST", "envhost")
	t.Setenv("TCPDUCKDB_PORT", "4555")
	t.Setenv("TCPDUCKDB_USER", "envuser")
	t.Setenv("TCPDUCKDB_PASSWORD", "envpw")
	t.Setenv("TCPDUCKDB_DATABASE", "envdb")
	t.Setenv("TCPDUCKDB_SSLMODE", "require")
	t.Setenv("TCPDUCKDB_SSLROOTCERT", "/env/ca")
	cfg, err = ParseDSN("tcpduckdb://")
	want = Config{Host: "envhost", Port: 4555, User: "envuser", Password: "envpw", Database: "envdb",
		SSLMode: "require", SSLRootCert: "/env/ca"}
	if err != nil || *cfg != want {
		t.Fatalf("environment: got %+v %v, want %+v", cfg, err, want)
	}
	cfg, err = ParseDSN("tcpduckdb://u@h/d?sslmode=disable")
	if err != nil || cfg.User != "u" || cfg.Password != "envpw" || cfg.Port != 4555 || cfg.SSLMode != "disable" {
		t.Fatalf("URI over environment: %+v %v", cfg, err)
	}
	for _, bad := range []string{"postgres://h/d", "tcpduckdb://h:99999/d", "tcpduckdb://h/d?sslmode=always",
		"tcpduckdb://h/d?bogus=1", "tcpduckdb://u:se%zzcret@h/d", "tcpduckdb://h/d?sslkey=k", "tcpduckdb://h/d?connect_timeout=x"} {
		if _, err := ParseDSN(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestOpenPingClose(t *testing.T) {
	srv, db, _ := newDatabase(t)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	// Login only (no database), and no login at all: Ping uses a command they may send.
	for _, dsn := range []string{srv.dsn("duck", "duck", "", "sslmode=disable"),
		fmt.Sprintf("tcpduckdb://127.0.0.1:%d?sslmode=disable", srv.port)} {
		other, err := sql.Open("tcpduckdb", dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Ping(); err != nil {
			t.Errorf("%s: %v", dsn, err)
		}
		other.Close()
	}
	// Driver.Open directly, and a Connector made in code.
	dc, err := (&Driver{}).Open(srv.dsn("duck", "duck", "", "sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	if err := dc.(driver.Pinger).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := dc.Close(); err != nil {
		t.Fatal(err)
	}
	cdb := sql.OpenDB(NewConnector(Config{Host: "127.0.0.1", Port: srv.port, User: "duck", Password: "duck", SSLMode: "disable"}))
	defer cdb.Close()
	if err := cdb.Ping(); err != nil {
		t.Fatal(err)
	}
	// Wrong password, unknown database: errors from the server, at connect time.
	bad, _ := sql.Open("tcpduckdb", srv.dsn("duck", "wrong", "", "sslmode=disable"))
	defer bad.Close()
	var se *Error
	if err := bad.Ping(); !errors.As(err, &se) || se.Code != "UNAUTHORIZED" {
		t.Errorf("wrong password: %v", err)
	}
	bad2, _ := sql.Open("tcpduckdb", srv.dsn("duck", "duck", "nosuchdb", "sslmode=disable"))
	defer bad2.Close()
	if err := bad2.Ping(); !errors.As(err, &se) || se.Code != "DOES_NOT_EXIST" {
		t.Errorf("unknown database: %v", err)
	}
	// A peer that accepts and never answers: connect_timeout ends the set-up (here in login,
	// with sslmode=disable, and in starttls with prefer).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, mode := range []string{"disable", "prefer"} {
		start := time.Now()
		mute, _ := sql.Open("tcpduckdb", fmt.Sprintf("tcpduckdb://duck:duck@%s/x?sslmode=%s&connect_timeout=0.3", ln.Addr(), mode))
		err := mute.Ping()
		mute.Close()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Errorf("%s: a mute server: %v after %v", mode, err, time.Since(start))
		}
	}
	// Nothing listening.
	none, _ := sql.Open("tcpduckdb", "tcpduckdb://duck:duck@127.0.0.1:1/x?sslmode=disable")
	defer none.Close()
	var ce *ConnError
	if err := none.Ping(); !errors.As(err, &ce) {
		t.Errorf("no server: %v", err)
	}
}

func TestTypesScan(t *testing.T) {
	_, db, _ := newDatabase(t)
	var (
		b     bool
		i8    int64
		i     int64
		u64   uint64
		huge  string
		bigv  BigInt
		dec   string
		decf  float64
		f     float64
		nan   float64
		s     string
		blob  []byte
		date  time.Time
		ts    time.Time
		tstz  time.Time
		tm    string
		iv    string
		list  string
		strct string
		uuid  string
	)
	err := db.QueryRow(`SELECT true, -5::TINYINT, 9223372036854775807::BIGINT, 18446744073709551615::UBIGINT,
		'-170141183460469231731687303715884105728'::HUGEINT, 170141183460469231731687303715884105727::HUGEINT,
		12.50::DECIMAL(10,2), 0.1::DECIMAL(38,20), 0.1::DOUBLE, 'NaN'::DOUBLE, 'héllo "q"\n',
		'\x00\xff'::BLOB, DATE '2024-01-31', TIMESTAMP '2024-01-31 13:45:30.123456',
		TIMESTAMPTZ '2024-01-31 11:45:30Z', TIME '13:45:30.25', INTERVAL 1 DAY, [1, 2, NULL],
		{'a': 1, 'b': 'x'}, '550e8400-e29b-41d4-a716-446655440000'::UUID`).Scan(
		&b, &i8, &i, &u64, &huge, &bigv, &dec, &decf, &f, &nan, &s, &blob, &date, &ts, &tstz, &tm, &iv, &list, &strct, &uuid)
	if err != nil {
		t.Fatal(err)
	}
	maxHuge, _ := new(big.Int).SetString("170141183460469231731687303715884105727", 10)
	checks := []struct {
		name      string
		got, want any
	}{
		{"bool", b, true}, {"tinyint", i8, int64(-5)}, {"bigint", i, int64(math.MaxInt64)},
		{"ubigint", u64, uint64(math.MaxUint64)}, {"hugeint", huge, "-170141183460469231731687303715884105728"},
		{"bigint via BigInt", bigv.String(), maxHuge.String()}, {"decimal", dec, "12.50"}, {"decimal as float", decf, 0.1},
		{"double", f, 0.1}, {"string", s, "héllo \"q\"\\n"}, {"blob", blob, []byte{0, 0xff}},
		{"date", date, time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"timestamp", ts, time.Date(2024, 1, 31, 13, 45, 30, 123456000, time.UTC)},
		{"timestamptz", tstz, time.Date(2024, 1, 31, 11, 45, 30, 0, time.UTC)},
		{"time", tm, "13:45:30.25"}, {"interval", iv, "P1D"}, {"list", list, "[1,2,null]"},
		{"struct", strct, `{"a":1,"b":"x"}`}, {"uuid", uuid, "550e8400-e29b-41d4-a716-446655440000"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if !math.IsNaN(nan) {
		t.Errorf("NaN: got %v", nan)
	}
	// DuckDB's BLOB literal '\x00\xff' is the two bytes; the string literal keeps its backslash.

	// Column metadata: Columns, ColumnTypes (database type name, scan type, precision/scale).
	rows, err := db.Query(`SELECT 1::INTEGER AS i, 'x' AS s, 1.5::DECIMAL(18,3) AS d, DATE '2024-01-01' AS dt, 2::INTEGER AS i`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !reflect.DeepEqual(cols, []string{"i", "s", "d", "dt", "i"}) {
		t.Errorf("columns %v", cols)
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{"INTEGER", "VARCHAR", "DECIMAL(18,3)", "DATE", "INTEGER"}
	wantScan := []reflect.Type{reflect.TypeOf(int64(0)), reflect.TypeOf(""), reflect.TypeOf(""), reflect.TypeOf(time.Time{}), reflect.TypeOf(int64(0))}
	for k, ct := range cts {
		if ct.DatabaseTypeName() != wantTypes[k] || ct.ScanType() != wantScan[k] {
			t.Errorf("column %d: %s %v", k, ct.DatabaseTypeName(), ct.ScanType())
		}
	}
	if p, sc, ok := cts[2].DecimalSize(); !ok || p != 18 || sc != 3 {
		t.Errorf("DecimalSize %d %d %v", p, sc, ok)
	}
	if _, _, ok := cts[0].DecimalSize(); ok {
		t.Error("INTEGER has a DecimalSize")
	}
	// Scanning into any gives the driver's values.
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	vals := make([]any, 5)
	ptrs := make([]any, 5)
	for k := range vals {
		ptrs[k] = &vals[k]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	want := []any{int64(1), "x", "1.500", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), int64(2)}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("values %#v", vals)
	}
}

func TestSpecialValues(t *testing.T) {
	_, db, _ := newDatabase(t)
	var inf, ninf float64
	var dinf, tsinf any
	var ancient, future any
	err := db.QueryRow(`SELECT 'Infinity'::DOUBLE, '-Infinity'::FLOAT, 'infinity'::DATE, '-infinity'::TIMESTAMP,
		DATE '0001-01-01' - INTERVAL 1 DAY, TIMESTAMP '9999-12-31 12:00:00' + INTERVAL 1 DAY`).Scan(&inf, &ninf, &dinf, &tsinf, &ancient, &future)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(inf, 1) || !math.IsInf(ninf, -1) || dinf != "infinity" || tsinf != "-infinity" {
		t.Errorf("got %v %v %#v %#v", inf, ninf, dinf, tsinf)
	}
	// Year 0 (1 BC, astronomical numbering as DuckDB writes it) is a time.Time; a year past
	// 9999 is written "+10000-..." and stays text.
	if ancient != time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) {
		t.Errorf("year 0 timestamp: %#v", ancient)
	}
	if s, ok := future.(string); !ok || !strings.Contains(s, "10000-01-01") {
		t.Errorf("year 10000 timestamp: %#v (want its text)", future)
	}
}

func TestParameters(t *testing.T) {
	_, db, _ := newDatabase(t)
	mustExec(t, db, `CREATE TABLE p (b BOOLEAN, i BIGINT, h HUGEINT, u UBIGINT, f DOUBLE, d DECIMAL(20,5), s VARCHAR,
		bl BLOB, dt DATE, ts TIMESTAMP, tz TIMESTAMPTZ)`)
	hugeN, _ := new(big.Int).SetString("-170141183460469231731687303715884105728", 10)
	berlin := time.FixedZone("CET", 3600)
	local := time.Date(2024, 5, 6, 9, 8, 7, 123456000, berlin)
	res := mustExec(t, db, `INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		true, int64(math.MinInt64), hugeN, uint64(math.MaxUint64), 2.0, "12345.67891", "it's \"quoted\"\n\t€ 名前",
		[]byte{0, 1, 0xfe, 0xff}, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), local, local)
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("RowsAffected %d %v", n, err)
	}
	if _, err := res.LastInsertId(); err == nil {
		t.Error("LastInsertId: no error")
	}
	var (
		b          bool
		i          int64
		h          BigInt
		u          uint64
		f          float64
		d, s       string
		bl         []byte
		dt, ts, tz time.Time
		ftype      string
	)
	err := db.QueryRow(`SELECT *, typeof(?) FROM p WHERE i = $2 AND s = $3`, 2.0, int64(math.MinInt64), "it's \"quoted\"\n\t€ 名前").
		Scan(&b, &i, &h, &u, &f, &d, &s, &bl, &dt, &ts, &tz, &ftype)
	if err != nil {
		t.Fatal(err)
	}
	if !b || i != math.MinInt64 || h.Cmp(hugeN) != 0 || u != math.MaxUint64 || f != 2.0 || d != "12345.67891" ||
		s != "it's \"quoted\"\n\t€ 名前" || !bytes.Equal(bl, []byte{0, 1, 0xfe, 0xff}) || ftype != "DOUBLE" {
		t.Errorf("got %v %v %v %v %v %v %q %v %s", b, i, &h, u, f, d, s, bl, ftype)
	}
	if !dt.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) || !ts.Equal(local) || !tz.Equal(local) {
		t.Errorf("times: %v %v %v (want %v)", dt, ts, tz, local.UTC())
	}
	// NULL parameters and NULL values: sql.Null* types and nil.
	mustExec(t, db, `INSERT INTO p (i, s, f, bl, ts) VALUES (?, ?, ?, ?, ?)`, 7, nil, sql.NullFloat64{}, []byte(nil), nil)
	var ns sql.NullString
	var nf sql.NullFloat64
	var nb []byte
	var nt sql.NullTime
	var ni sql.NullInt64
	if err := db.QueryRow(`SELECT s, f, bl, ts, h FROM p WHERE i = ?`, 7).Scan(&ns, &nf, &nb, &nt, &ni); err != nil {
		t.Fatal(err)
	}
	if ns.Valid || nf.Valid || nb != nil || nt.Valid || ni.Valid {
		t.Errorf("NULLs: %v %v %v %v %v", ns, nf, nb, nt, ni)
	}
	// Other integer and float kinds database/sql converts; special floats.
	var got []any
	rows, err := db.Query(`SELECT ?, ?, ?, ?, ?, ?`, int32(-3), uint8(200), float32(1.5), math.Inf(1), math.NaN(), uint(42))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		vals := make([]any, 6)
		ptrs := make([]any, 6)
		for k := range vals {
			ptrs[k] = &vals[k]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		got = vals
	}
	rows.Close()
	// Untyped placeholders: strings come back as VARCHAR (DuckDB casts them only where a type is needed).
	if got[0] != int64(-3) || got[1] != int64(200) || got[2] != 1.5 || got[3] != "Infinity" || got[4] != "NaN" || got[5] != int64(42) {
		t.Errorf("got %#v", got)
	}
	// Parameters never become SQL.
	var inj string
	if err := db.QueryRow(`SELECT ?`, "'; DROP TABLE p; --").Scan(&inj); err != nil || inj != "'; DROP TABLE p; --" {
		t.Errorf("%q %v", inj, err)
	}
	// Wrong count, named parameters, unsupported types: errors, the connection stays usable.
	var se *Error
	if _, err := db.Exec(`SELECT ?, ?`, 1); !errors.As(err, &se) {
		t.Errorf("wrong count: %v", err)
	}
	if _, err := db.Exec(`SELECT $x`, sql.Named("x", 1)); err == nil || !strings.Contains(err.Error(), "position") {
		t.Errorf("named: %v", err)
	}
	if _, err := db.Exec(`SELECT ?`, struct{}{}); err == nil {
		t.Error("struct parameter: no error")
	}
	if err := db.Ping(); err != nil {
		t.Error(err)
	}
}

func TestExecAndQueryForms(t *testing.T) {
	_, db, _ := newDatabase(t)
	if res := mustExec(t, db, `CREATE TABLE t (id INTEGER, name VARCHAR)`); res == nil {
		t.Fatal("no result")
	}
	res := mustExec(t, db, `INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')`)
	if n, _ := res.RowsAffected(); n != 3 {
		t.Errorf("RowsAffected %d", n)
	}
	// Several statements without parameters in one request: the last answer counts.
	res = mustExec(t, db, "UPDATE t SET name = 'x' WHERE id = 1;\nDELETE FROM t WHERE id >= 2")
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("RowsAffected of a script: %d", n)
	}
	// Exec of a query reads and drops its rows.
	if _, err := db.Exec(`SELECT * FROM range(10000)`); err != nil {
		t.Fatal(err)
	}
	// Query of a statement without rows: no columns, no rows.
	rows, err := db.Query(`INSERT INTO t VALUES (5, 'e')`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("a row from INSERT")
	}
	rows.Close()
	// Prepared statements, used many times and from Query and Exec, plain and in a Tx.
	ins, err := db.Prepare(`INSERT INTO t VALUES ($1, $2)`)
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	for k := 10; k < 20; k++ {
		if _, err := ins.Exec(k, fmt.Sprint("n", k)); err != nil {
			t.Fatal(err)
		}
	}
	sel, err := db.PrepareContext(context.Background(), `SELECT name FROM t WHERE id = ?`)
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	var name string
	if err := sel.QueryRow(15).Scan(&name); err != nil || name != "n15" {
		t.Errorf("%q %v", name, err)
	}
	if err := sel.QueryRow(99).Scan(&name); err != sql.ErrNoRows {
		t.Errorf("no rows: %v", err)
	}
	// The legacy driver.Stmt Exec/Query (no context) through the driver directly.
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		st, err := dc.(driver.Conn).Prepare(`SELECT count(*) FROM t WHERE id > ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		if st.NumInput() != -1 {
			return fmt.Errorf("NumInput %d", st.NumInput())
		}
		r, err := st.Query([]driver.Value{int64(12)}) //nolint:staticcheck // the legacy method is part of the interface
		if err != nil {
			return err
		}
		dest := make([]driver.Value, 1)
		if err := r.Next(dest); err != nil {
			return err
		}
		r.Close()
		if dest[0] != int64(7) {
			return fmt.Errorf("count %v", dest[0])
		}
		if _, err := st.Exec([]driver.Value{int64(1)}); err != nil { //nolint:staticcheck
			return err
		}
		tx, err := dc.(driver.Conn).Begin() //nolint:staticcheck
		if err != nil {
			return err
		}
		return tx.Rollback()
	})
	if err != nil {
		t.Fatal(err)
	}
	// Two result sets open at once on one connection (inside a Tx): the first is read into
	// memory when the second request is sent, and still yields all its rows.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	r1, err := tx.Query(`SELECT i FROM range(5000) r(i) ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	r1.Next()
	var cnt int
	if err := tx.QueryRow(`SELECT count(*) FROM t`).Scan(&cnt); err != nil || cnt != 12 {
		t.Fatalf("count %d %v", cnt, err)
	}
	n := 1
	for r1.Next() {
		n++
	}
	if r1.Err() != nil || n != 5000 {
		t.Errorf("first result after the second query: %d rows, %v", n, r1.Err())
	}
	tx.Commit()
}

func TestTransactions(t *testing.T) {
	_, db, _ := newDatabase(t)
	mustExec(t, db, `CREATE TABLE acc (id INTEGER PRIMARY KEY, v INTEGER)`)
	count := func() int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM acc`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Commit.
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec(`INSERT INTO acc VALUES (1, 10)`)
	tx.Exec(`INSERT INTO acc VALUES (?, ?)`, 2, 20)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if count() != 2 {
		t.Fatal("commit lost rows")
	}
	// Rollback.
	tx, _ = db.Begin()
	tx.Exec(`INSERT INTO acc VALUES (3, 30)`)
	var inside int
	tx.QueryRow(`SELECT count(*) FROM acc`).Scan(&inside)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if inside != 3 || count() != 2 {
		t.Fatalf("rollback: inside %d, after %d", inside, count())
	}
	// An error inside a transaction aborts it: later statements fail, commit answers
	// TRANSACTION_ABORTED and nothing of it stays.
	tx, _ = db.Begin()
	tx.Exec(`INSERT INTO acc VALUES (4, 40)`)
	_, err = tx.Exec(`INSERT INTO acc VALUES (1, 0)`) // duplicate key
	var se *Error
	if !errors.As(err, &se) || se.Kind != "Constraint Error" || se.Code != "CONSTRAINT_ERROR" {
		t.Fatalf("duplicate key: %#v", err)
	}
	_, err = tx.Exec(`SELECT 1`)
	if !errors.As(err, &se) || se.Code != "TRANSACTIONCONTEXT_ERROR" {
		t.Errorf("after the error: %v", err)
	}
	err = tx.Commit()
	if !errors.As(err, &se) || se.Code != "TRANSACTION_ABORTED" {
		t.Errorf("commit: %v", err)
	}
	if count() != 2 {
		t.Error("an aborted transaction left rows")
	}
	// The same, ended by Rollback.
	tx, _ = db.Begin()
	tx.Exec(`INSERT INTO acc VALUES (1, 0)`)
	if err := tx.Rollback(); err != nil {
		t.Errorf("rollback after an error: %v", err)
	}
	// Options: snapshot isolation is DuckDB's; others are refused.
	for _, lvl := range []sql.IsolationLevel{sql.LevelDefault, sql.LevelSnapshot, sql.LevelSerializable} {
		tx, err := db.BeginTx(context.Background(), &sql.TxOptions{Isolation: lvl})
		if err != nil {
			t.Errorf("%v: %v", lvl, err)
			continue
		}
		tx.Rollback()
	}
	if _, err := db.BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelReadUncommitted}); err == nil {
		t.Error("read uncommitted accepted")
	}
	if _, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true}); err == nil {
		t.Error("read-only accepted")
	}
	// A Tx prepared statement.
	tx, _ = db.Begin()
	st, err := tx.Prepare(`INSERT INTO acc VALUES (?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	for k := 10; k < 15; k++ {
		if _, err := st.Exec(k, k); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	if count() != 7 {
		t.Errorf("count %d", count())
	}
}

func TestLargeStreamedResult(t *testing.T) {
	_, db, _ := newDatabase(t)
	const n = 1000000
	start := time.Now()
	rows, err := db.Query(`SELECT i, 'row ' || i AS s FROM range(?) r(i)`, n)
	if err != nil {
		t.Fatal(err)
	}
	var k, sum int64
	var s string
	var maxHeap uint64
	var ms runtime.MemStats
	for rows.Next() {
		var i int64
		if err := rows.Scan(&i, &s); err != nil {
			t.Fatal(err)
		}
		sum += i
		k++
		if k%100000 == 0 {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > maxHeap {
				maxHeap = ms.HeapAlloc
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if k != n || sum != n*(n-1)/2 || s != fmt.Sprint("row ", n-1) {
		t.Fatalf("%d rows, sum %d, last %q", k, sum, s)
	}
	t.Logf("%d rows in %v, heap at most %d KiB", n, time.Since(start), maxHeap>>10)
	// Streamed, not buffered: the million rows would take tens of MB in memory.
	if maxHeap > 16<<20 {
		t.Errorf("the heap reached %d MiB while reading the rows", maxHeap>>20)
	}

	// Leaving a large result early: Close must not read millions of rows, and the pool must
	// still work after it.
	db.SetMaxOpenConns(1)
	start = time.Now()
	rows, err = db.Query(`SELECT i, repeat('x', 100) FROM range(50000000) r(i)`)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 10 && rows.Next(); j++ {
	}
	rows.Close()
	var one int
	if err := db.QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("after an abandoned result: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("leaving a large result took %v", d)
	}
	// A small result left early is drained and its connection kept.
	rows, _ = db.Query(`SELECT * FROM range(1000)`)
	rows.Next()
	rows.Close()
	if err := db.QueryRow(`SELECT 1`).Scan(&one); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats(); st.OpenConnections != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestErrors(t *testing.T) {
	srv, db, name := newDatabase(t)
	if _, err := db.Exec(`CREATE TABLE uniq(i INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ sql, kind, code, class, text string }{
		{"SELEC 1", "Parser Error", "PARSER_ERROR", "ProgrammingError", "syntax error"},
		{"SELECT * FROM nosuch", "Catalog Error", "CATALOG_ERROR", "ProgrammingError", "nosuch"},
		{"SELECT 'a'::INTEGER", "Conversion Error", "CONVERSION_ERROR", "DataError", ""},
		{"SELECT error('boom')", "Invalid Input Error", "INVALID_INPUT_ERROR", "ProgrammingError", "boom"},
		{"INSERT INTO uniq VALUES (1), (1)", "Constraint Error", "CONSTRAINT_ERROR", "IntegrityError", "duplicate key"},
	}
	for _, c := range cases {
		_, err := db.Exec(c.sql)
		var se *Error
		if !errors.As(err, &se) || se.Kind != c.kind || se.Code != c.code || se.Class != c.class ||
			!strings.Contains(se.Message, c.text) {
			t.Errorf("%s: %#v", c.sql, err)
		}
		if strings.Contains(se.Message, `\n`) {
			t.Errorf("escaped newline left in %q", se.Message)
		}
	}
	// An error in the middle of a streamed result: rows first, then the error from Next.
	rows, err := db.Query(`SELECT i, CASE WHEN i = 300000 THEN error('mid') ELSE i END FROM range(400000) r(i)`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	var se *Error
	if !errors.As(rows.Err(), &se) || !strings.Contains(se.Message, "mid") || n == 0 || n > 300000 {
		t.Errorf("mid-result: %d rows, %v", n, rows.Err())
	}
	rows.Close()
	// The same, abandoned before the error: Close reads the error line, the connection stays in step.
	db.SetMaxOpenConns(1)
	rows, err = db.Query(`SELECT i, CASE WHEN i = 300000 THEN error('mid') ELSE i END FROM range(400000) r(i)`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	rows.Close()
	var one int
	if err := db.QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Errorf("after an abandoned failing result: %v", err)
	}
	// Server command errors.
	admin := srv.open(t, "")
	conn, _ := admin.Conn(context.Background())
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		_, err := dc.(Commander).Command(context.Background(), "create database "+name)
		return err
	})
	if !errors.As(err, &se) || se.Code != "ALREADY_EXISTS" || se.Kind != "Already Exists" ||
		se.Class != "ProgrammingError" {
		t.Errorf("duplicate database: %#v", err)
	}
	err = conn.Raw(func(dc any) error {
		_, err := dc.(Commander).Command(context.Background(), "create database bad-name")
		return err
	})
	if !errors.As(err, &se) || se.Code != "BAD_REQUEST" {
		t.Errorf("bad name: %#v", err)
	}
	if !strings.HasPrefix(se.Error(), "tcpduckdb: ") {
		t.Errorf("Error() %q", se.Error())
	}
}

func TestGrants(t *testing.T) {
	srv, db, name := newDatabase(t)
	mustExec(t, db, `CREATE TABLE open_t (x INTEGER); INSERT INTO open_t VALUES (1);
		CREATE TABLE secret_t (x INTEGER); INSERT INTO secret_t VALUES (2)`)
	admin := srv.open(t, "")
	command(t, admin, `create user analyst "pa ss\"word"`)
	command(t, admin, "grant database "+name+" analyst read")
	command(t, admin, "grant table "+name+" open_t analyst select")
	command(t, admin, "update user limit analyst statement_timeout 1")
	udb, err := sql.Open("tcpduckdb", srv.dsn("analyst", "pa%20ss%22word", name, "sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	defer udb.Close()
	var x int
	if err := udb.QueryRow(`SELECT x FROM open_t`).Scan(&x); err != nil || x != 1 {
		t.Fatalf("granted table: %v", err)
	}
	err = udb.QueryRow(`SELECT x FROM secret_t`).Scan(&x)
	var se *Error
	if !errors.As(err, &se) || se.Code != "ACCESS_DENIED" || !strings.Contains(se.Message, "secret_t") {
		t.Errorf("denied table: %#v", err)
	}
	if _, err := udb.Exec(`INSERT INTO open_t VALUES (3)`); !errors.As(err, &se) || se.Code != "ACCESS_DENIED" {
		t.Errorf("insert without the grant: %v", err)
	}
	// The user's own statement_timeout (1 s): STATEMENT_TIMEOUT, and the connection goes on.
	udb.SetMaxOpenConns(1)
	if _, err := udb.Exec(`SELECT count(*) FROM range(10000000000)`); !errors.As(err, &se) || se.Code != "STATEMENT_TIMEOUT" {
		t.Errorf("statement timeout: %v", err)
	}
	if err := udb.QueryRow(`SELECT x FROM open_t`).Scan(&x); err != nil || udb.Stats().OpenConnections != 1 {
		t.Errorf("after a statement timeout: %v, %+v", err, udb.Stats())
	}
	// A database without a grant: refused at connect.
	command(t, admin, "create database "+name+"_other")
	other, _ := sql.Open("tcpduckdb", srv.dsn("analyst", "pa%20ss%22word", name+"_other", "sslmode=disable"))
	defer other.Close()
	if err := other.Ping(); !errors.As(err, &se) || se.Code != "ACCESS_DENIED" {
		t.Errorf("database without a grant: %v", err)
	}
}

func TestPoolManyGoroutines(t *testing.T) {
	_, db, _ := newDatabase(t)
	mustExec(t, db, `CREATE TABLE kv (k INTEGER, v VARCHAR)`)
	db.SetMaxOpenConns(6)
	db.SetMaxIdleConns(3)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 24; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for j := 0; j < 15; j++ {
				k := g*100 + j
				if _, err := db.Exec(`INSERT INTO kv VALUES (?, ?)`, k, fmt.Sprint("v", k)); err != nil {
					errs <- err
					return
				}
				var v string
				if err := db.QueryRow(`SELECT v FROM kv WHERE k = ?`, k).Scan(&v); err != nil || v != fmt.Sprint("v", k) {
					errs <- fmt.Errorf("k=%d: %q %v", k, v, err)
					return
				}
				if j%5 == 0 {
					tx, err := db.Begin()
					if err != nil {
						errs <- err
						return
					}
					tx.Exec(`INSERT INTO kv VALUES (?, 'tx')`, -k)
					if j%10 == 0 {
						err = tx.Commit()
					} else {
						err = tx.Rollback()
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM kv`).Scan(&n)
	if n != 24*15+24*2 {
		t.Errorf("rows %d", n)
	}
	if st := db.Stats(); st.OpenConnections > 6 {
		t.Errorf("stats %+v", st)
	}
}

// The server closes idle connections (IdleTimeout); the pool must not hand one of them out.
func TestPoolDropsConnectionsTheServerClosed(t *testing.T) {
	srv := startServer(t, "--idle-timeout", "1")
	db := srv.open(t, "")
	command(t, db, "create database d")
	db2 := srv.open(t, "d")
	db2.SetMaxIdleConns(4)
	var one int
	if err := db2.QueryRow(`SELECT 1`).Scan(&one); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1600 * time.Millisecond) // the server sends `Error: Idle Timeout` and closes
	if err := db2.QueryRow(`SELECT 1`).Scan(&one); err != nil {
		t.Fatalf("after the server closed an idle connection: %v", err)
	}
}

func TestContextCancel(t *testing.T) {
	_, db, _ := newDatabase(t)
	const long = `SELECT count(*) FROM range(10000000000)`
	// Timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	var n int64
	err := db.QueryRowContext(ctx, long).Scan(&n)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	// Explicit cancel from another goroutine, on ExecContext.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel2() }()
	if _, err := db.ExecContext(ctx2, long); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	// Cancel while rows stream.
	ctx3, cancel3 := context.WithCancel(context.Background())
	rows, err := db.QueryContext(ctx3, `SELECT i FROM range(100000000) r(i)`)
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 100 && rows.Next(); k++ {
	}
	cancel3()
	for rows.Next() {
	}
	if !errors.Is(rows.Err(), context.Canceled) {
		t.Errorf("rows after cancel: %v", rows.Err())
	}
	rows.Close()
	// A context already done: nothing is sent.
	if _, err := db.ExecContext(ctx3, `SELECT 1`); !errors.Is(err, context.Canceled) {
		t.Errorf("done context: %v", err)
	}
	// Inside a transaction: the server aborts it, so commit fails (cancel_test.go has more).
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	ctx4, cancel4 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel4()
	if _, err := tx.ExecContext(ctx4, long); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("in a tx: %v", err)
	}
	if err := tx.Commit(); err == nil {
		t.Error("commit of a cancelled transaction succeeded")
	}
	// The pool goes on with fresh connections.
	if err := db.QueryRow(`SELECT 42`).Scan(&n); err != nil || n != 42 {
		t.Fatalf("after cancellations: %v", err)
	}
}

// Every method of sql.Conn on one connection, and the driver's own entry points.
func TestSQLConnMethods(t *testing.T) {
	srv, db, _ := newDatabase(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE big (h HUGEINT, u UBIGINT)`); err != nil {
		t.Fatal(err)
	}
	st, err := conn.PrepareContext(ctx, `INSERT INTO big VALUES (?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	var b BigInt
	b.SetString("-99999999999999999999999999", 10)
	if _, err := st.ExecContext(ctx, b, uint64(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ExecContext(ctx, &b, new(big.Int).SetUint64(math.MaxUint64)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ExecContext(ctx, (*big.Int)(nil), nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT h, u FROM big ORDER BY u NULLS LAST`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var h BigInt
		var u sql.NullString
		var hv any
		if err := rows.Scan(&hv, &u); err != nil {
			t.Fatal(err)
		}
		if hv != nil {
			if err := h.Scan(hv); err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, fmt.Sprint(h.String(), "/", u.String))
	}
	rows.Close()
	tx.Commit()
	want := []string{"-99999999999999999999999999/1", "-99999999999999999999999999/18446744073709551615", "0/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	if err := b.Scan(1.5); err == nil {
		t.Error("BigInt scanned a float")
	}
	if v, err := b.Value(); err != nil || v != "-99999999999999999999999999" {
		t.Errorf("BigInt.Value %v %v", v, err)
	}
	// Driver and Connector entry points.
	d := db.Driver()
	if _, ok := d.(*Driver); !ok {
		t.Fatalf("driver %T", d)
	}
	cn, err := d.(driver.DriverContext).OpenConnector(srv.dsn("duck", "duck", "", "sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	if cn.Driver() != d {
		t.Error("Connector.Driver is not the driver")
	}
	if NewConnector(Config{}).Driver() == nil {
		t.Error("NewConnector has no driver")
	}
	if _, err := d.Open("http://x"); err == nil {
		t.Error("a bad DSN opened")
	}
	// Connect honours its context.
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := cn.Connect(ctx2); err == nil {
		t.Error("connect with a done context succeeded")
	}
}
