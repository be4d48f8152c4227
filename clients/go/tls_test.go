package tcpduckdb

// sslmode against the real server in each TLSMode (docs/protocol.md, "TLS"), with throw-away
// certificates made here with crypto/x509 (as tests/tls/make-certs.sh makes them for the
// other suites): a CA, a server certificate for localhost and 127.0.0.1, one for another
// name, and a second CA that signed nothing.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newCA writes DIR/NAME.crt and returns the CA.
func newCA(t *testing.T, dir, name, cn string) *certAuthority {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	writePEM(t, filepath.Join(dir, name+".crt"), "CERTIFICATE", der)
	return &certAuthority{cert: cert, key: key}
}

// leaf writes DIR/NAME.crt and DIR/NAME.key, a server certificate signed by ca.
func (ca *certAuthority) leaf(t *testing.T, dir, name string, dns []string, ips []net.IP) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: dns[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: dns, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, name+".crt"), "CERTIFICATE", der)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, name+".key"), "PRIVATE KEY", kder)
}

// connTLS opens one connection with dsn and reports whether it is encrypted.
func connTLS(dsn string) (bool, error) {
	db, err := sql.Open("tcpduckdb", dsn)
	if err != nil {
		return false, err
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if err := conn.PingContext(context.Background()); err != nil {
		return false, err
	}
	encrypted := false
	err = conn.Raw(func(dc any) error {
		st, ok := dc.(interface {
			TLSConnectionState() (tls.ConnectionState, bool)
		}).TLSConnectionState()
		encrypted = ok && st.HandshakeComplete
		return nil
	})
	return encrypted, err
}

func TestTLSModes(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "ca", "TCP-DuckDB Go test CA")
	newCA(t, dir, "other-ca", "Some other CA")
	ca.leaf(t, dir, "server", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	ca.leaf(t, dir, "wronghost", []string{"wrong.example"}, nil)
	tlsArgs := func(mode, cert string) []string {
		return []string{"--tls-mode", mode, "--tls-cert-file", filepath.Join(dir, cert+".crt"),
			"--tls-key-file", filepath.Join(dir, cert+".key")}
	}
	off := startServer(t)
	optional := startServer(t, tlsArgs("optional", "server")...)
	required := startServer(t, tlsArgs("required", "server")...)
	wronghost := startServer(t, tlsArgs("optional", "wronghost")...)
	caFile := "sslrootcert=" + filepath.Join(dir, "ca.crt")
	otherCA := "sslrootcert=" + filepath.Join(dir, "other-ca.crt")

	cases := []struct {
		name    string
		srv     *testServer
		host    string
		query   string
		wantTLS bool
		wantErr string // substring of the error; "" for success
	}{
		{"off/disable", off, "127.0.0.1", "sslmode=disable", false, ""},
		{"off/prefer", off, "127.0.0.1", "sslmode=prefer", false, ""},
		{"off/default is prefer", off, "127.0.0.1", "", false, ""},
		{"off/require", off, "127.0.0.1", "sslmode=require", false, "does not offer TLS"},
		{"off/verify-full", off, "127.0.0.1", "sslmode=verify-full&" + caFile, false, "does not offer TLS"},
		{"optional/disable", optional, "127.0.0.1", "sslmode=disable", false, ""},
		{"optional/prefer", optional, "127.0.0.1", "sslmode=prefer", true, ""},
		{"optional/require", optional, "127.0.0.1", "sslmode=require", true, ""},
		{"optional/verify-ca", optional, "127.0.0.1", "sslmode=verify-ca&" + caFile, true, ""},
		{"optional/verify-full by IP", optional, "127.0.0.1", "sslmode=verify-full&" + caFile, true, ""},
		{"optional/verify-full by name", optional, "localhost", "sslmode=verify-full&" + caFile, true, ""},
		{"optional/verify-ca, other CA", optional, "127.0.0.1", "sslmode=verify-ca&" + otherCA, false, "unknown authority"},
		{"optional/verify-full, other CA", optional, "127.0.0.1", "sslmode=verify-full&" + otherCA, false, "unknown authority"},
		{"optional/verify-full, system CAs", optional, "127.0.0.1", "sslmode=verify-full", false, "unknown authority"},
		{"optional/bad sslrootcert", optional, "127.0.0.1", "sslmode=verify-ca&sslrootcert=" + filepath.Join(dir, "server.key"), false, "no PEM certificate"},
		{"required/disable", required, "127.0.0.1", "sslmode=disable", false, "TLS required"},
		{"required/prefer", required, "127.0.0.1", "sslmode=prefer", true, ""},
		{"required/verify-full", required, "127.0.0.1", "sslmode=verify-full&" + caFile, true, ""},
		{"wronghost/require", wronghost, "127.0.0.1", "sslmode=require", true, ""},
		{"wronghost/verify-ca", wronghost, "127.0.0.1", "sslmode=verify-ca&" + caFile, true, ""},
		{"wronghost/verify-full", wronghost, "localhost", "sslmode=verify-full&" + caFile, false, "wrong.example"},
	}
	for _, c := range cases {
		dsn := strings.Replace(c.srv.dsn("duck", "duck", "", c.query), "127.0.0.1", c.host, 1)
		encrypted, err := connTLS(dsn)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.wantErr)
		case c.wantErr == "" && encrypted != c.wantTLS:
			t.Errorf("%s: encrypted %v, want %v", c.name, encrypted, c.wantTLS)
		}
		if c.wantErr != "" && c.wantErr != "TLS required" {
			var te *TLSError
			if !errors.As(err, &te) {
				t.Errorf("%s: %T is not a *TLSError", c.name, err)
			}
		}
	}
	// A whole session in TLS: queries, a large result, a transaction.
	db, _ := sql.Open("tcpduckdb", optional.dsn("duck", "duck", "", "sslmode=verify-full&"+caFile))
	defer db.Close()
	command(t, db, "create database tlsdb")
	tdb, _ := sql.Open("tcpduckdb", optional.dsn("duck", "duck", "tlsdb", "sslmode=verify-full&"+caFile))
	defer tdb.Close()
	var n, sum int64
	if err := tdb.QueryRow(`SELECT count(*), sum(i) FROM (SELECT i FROM range(?) r(i))`, 100000).Scan(&n, &sum); err != nil || n != 100000 {
		t.Fatalf("%d %v", n, err)
	}
	rows, err := tdb.Query(`SELECT i, 'x' || i FROM range(200000) r(i)`)
	if err != nil {
		t.Fatal(err)
	}
	n = 0
	for rows.Next() {
		n++
	}
	if rows.Err() != nil || n != 200000 {
		t.Errorf("streamed in TLS: %d %v", n, rows.Err())
	}
	// Cancel in TLS.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := tdb.ExecContext(ctx, `SELECT count(*) FROM range(10000000000)`); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancel in TLS: %v", err)
	}
	if err := tdb.Ping(); err != nil {
		t.Error(err)
	}
}
