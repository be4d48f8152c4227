package tcpduckdb

// The wire: one request out, one answer back (docs/protocol.md). A connection starts in plain
// text; unless sslmode is disable its first request is `starttls`, after which the same socket
// carries TLS. Typed answers with rows are one long line read row by row (rows.go).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

const readBufferSize = 64 << 10

// answer kinds
const (
	answerRows    = iota // a typed answer with columns and rows: read them with newRows
	answerChanged        // {"changed":N}
	answerSuccess        // `success` or {"success":true}
	answerText           // any other line (a command's JSON, a number)
)

type wire struct {
	raw net.Conn // the TCP connection, under TLS when nc is a *tls.Conn
	nc  net.Conn
	br  *bufio.Reader
	out []byte // request being built, reused
}

// dialWire connects and runs the starttls upgrade that cfg.SSLMode asks for, within ctx.
func dialWire(ctx context.Context, cfg *Config) (*wire, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", cfg.address())
	if err != nil {
		return nil, &ConnError{Op: "connect to " + cfg.address(), Err: err}
	}
	w := &wire{raw: nc, nc: nc, br: bufio.NewReaderSize(nc, readBufferSize)}
	if cfg.SSLMode != "disable" {
		if err := underContext(ctx, nc, func() error { return w.starttls(cfg) }); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return w, nil
}

// underContext runs f (starttls, the handshake) and ends it when ctx ends, by moving nc's
// deadline to the past (not to ctx's deadline: a read could then time out just before ctx
// reports it is done); a failure then reports ctx's error.
func underContext(ctx context.Context, nc net.Conn, f func() error) error {
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			nc.SetDeadline(time.Unix(1, 0))
		case <-stop:
		}
	}()
	err := f()
	close(stop)
	<-watched
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return &ConnError{Op: "set up the connection", Err: cerr}
		}
		return err
	}
	nc.SetDeadline(time.Time{})
	return nil
}

// TLSError is a failure to set up TLS as sslmode demands; the connection is closed.
type TLSError struct {
	Reason string
	Err    error
}

func (e *TLSError) Error() string { return "tcpduckdb: " + e.Reason }
func (e *TLSError) Unwrap() error { return e.Err }

// ConnError is a connection that could not be made, or was lost or closed.
type ConnError struct {
	Op  string
	Err error
}

func (e *ConnError) Error() string { return fmt.Sprintf("tcpduckdb: %s: %v", e.Op, e.Err) }
func (e *ConnError) Unwrap() error { return e.Err }

// ProtocolError is an answer the driver could not understand; the connection is dropped.
type ProtocolError struct{ Reason string }

func (e *ProtocolError) Error() string { return "tcpduckdb: protocol error: " + e.Reason }

func (w *wire) starttls(cfg *Config) error {
	tcfg, err := tlsConfig(cfg)
	if err != nil {
		return err
	}
	if _, err := w.nc.Write([]byte("starttls\n")); err != nil {
		return &TLSError{Reason: "connection lost during starttls", Err: err}
	}
	line, err := w.readLine()
	if err != nil {
		return &TLSError{Reason: "no answer to starttls", Err: err}
	}
	if line != "success" {
		if strings.HasPrefix(line, "Error: ") && w.br.Buffered() == 0 {
			if cfg.SSLMode == "prefer" {
				return nil // no TLS on this server: plain text on the same connection
			}
			return &TLSError{Reason: fmt.Sprintf("the server does not offer TLS (sslmode=%s): %s",
				cfg.SSLMode, line[7:])}
		}
		return &TLSError{Reason: fmt.Sprintf("unexpected answer to starttls: %.200q", line)}
	}
	// Nothing may follow `success` before our ClientHello: bytes already read belong to
	// no one, and taking them into the TLS session would be the STARTTLS injection flaw.
	if w.br.Buffered() != 0 {
		return &TLSError{Reason: "protocol error: the server sent data after accepting starttls"}
	}
	tc := tls.Client(w.nc, tcfg)
	if err := tc.Handshake(); err != nil {
		return &TLSError{Reason: fmt.Sprintf("TLS handshake with %s failed (sslmode=%s): %v",
			cfg.address(), cfg.SSLMode, err), Err: err}
	}
	w.nc = tc
	w.br.Reset(tc)
	return nil
}

func tlsConfig(cfg *Config) (*tls.Config, error) {
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.Host}
	if cfg.SSLCert != "" {
		key := cfg.SSLKey
		if key == "" {
			key = cfg.SSLCert
		}
		cert, err := tls.LoadX509KeyPair(cfg.SSLCert, key)
		if err != nil {
			return nil, &TLSError{Reason: fmt.Sprintf("cannot load the client certificate %s / key %s: %v",
				cfg.SSLCert, key, err), Err: err}
		}
		t.Certificates = []tls.Certificate{cert}
	}
	switch cfg.SSLMode {
	case "prefer", "require":
		// Encryption without authentication, as libpq's prefer/require: no chain, no name.
		t.InsecureSkipVerify = true
		return t, nil
	}
	var roots *x509.CertPool
	if cfg.SSLRootCert != "" {
		pem, err := os.ReadFile(cfg.SSLRootCert)
		if err != nil {
			return nil, &TLSError{Reason: fmt.Sprintf("cannot load sslrootcert %s: %v", cfg.SSLRootCert, err), Err: err}
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, &TLSError{Reason: fmt.Sprintf("cannot load sslrootcert %s: no PEM certificate in it", cfg.SSLRootCert)}
		}
	}
	t.RootCAs = roots
	if cfg.SSLMode == "verify-full" {
		return t, nil // Go checks the chain and the host name (or IP address SAN)
	}
	// verify-ca: the chain, not the name. crypto/tls can only skip both, so the chain is
	// checked here by hand.
	t.InsecureSkipVerify = true
	t.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the server sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
	return t, nil
}

// send writes one request; text holding a newline goes as an @N length-prefixed request.
func (w *wire) send(text []byte) error {
	w.out = w.out[:0]
	if bytes.ContainsAny(text, "\r\n") {
		w.out = append(w.out, '@')
		w.out = strconv.AppendInt(w.out, int64(len(text)), 10)
		w.out = append(w.out, '\n')
		w.out = append(w.out, text...)
	} else {
		w.out = append(w.out, text...)
		w.out = append(w.out, '\n')
	}
	_, err := w.nc.Write(w.out)
	if cap(w.out) > 1<<20 {
		w.out = nil
	}
	return err
}

// readLine returns the next line without its "\n" (and "\r").
func (w *wire) readLine() (string, error) {
	line, err := w.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = w.br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return string(line), nil
}

var columnsPrefix = []byte(`{"columns":`)

// answer reads the start of the next answer. For answerRows nothing past the prefix check is
// consumed: the caller reads the rows with newRows. An `Error: ...` line is returned as *Error.
func (w *wire) answer() (kind int, changed int64, text string, err error) {
	// Peek(n) waits for n bytes, so look at one first: `success\n` is shorter than the
	// prefix, while every answer that starts with '{' is longer.
	if first, perr := w.br.Peek(1); perr == nil && first[0] == '{' {
		head, perr := w.br.Peek(len(columnsPrefix))
		if perr == nil && bytes.Equal(head, columnsPrefix) {
			return answerRows, 0, "", nil
		}
	}
	line, err := w.readLine()
	if err != nil {
		return 0, 0, "", err
	}
	if strings.HasPrefix(line, "Error: ") {
		return 0, 0, "", serverError(line[7:])
	}
	if line == "success" {
		return answerSuccess, 0, "", nil
	}
	if strings.HasPrefix(line, "{") {
		var obj struct {
			Changed *int64 `json:"changed"`
			Success bool   `json:"success"`
		}
		if json.Unmarshal([]byte(line), &obj) == nil {
			if obj.Changed != nil {
				return answerChanged, *obj.Changed, "", nil
			}
			if obj.Success {
				return answerSuccess, 0, "", nil
			}
		}
	}
	return answerText, 0, line, nil
}

// lineReader yields the bytes of the current answer line, through its "\n", then io.EOF; it
// never reads past the line, so the next answer stays in the bufio.Reader.
type lineReader struct {
	br   *bufio.Reader
	done bool    // the "\n" was handed out
	tail [3]byte // the last bytes handed out or skipped: "]}\n" ends a complete row answer
}

func (r *lineReader) keep(b []byte) {
	for _, c := range b[max0(len(b)-3):] {
		r.tail[0], r.tail[1], r.tail[2] = r.tail[1], r.tail[2], c
	}
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

// complete reports whether the line ended with "]}": a typed answer not cut by an error.
func (r *lineReader) complete() bool {
	return r.done && r.tail[0] == ']' && r.tail[1] == '}' && r.tail[2] == '\n'
}

func (r *lineReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	if r.br.Buffered() == 0 {
		if _, err := r.br.Peek(1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
	n := r.br.Buffered()
	if n > len(p) {
		n = len(p)
	}
	buf, _ := r.br.Peek(n)
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		n = i + 1
		r.done = true
	}
	copy(p, buf[:n])
	r.keep(buf[:n])
	r.br.Discard(n)
	return n, nil
}

// skipLine discards the rest of the current line (for lineReader r), at most limit bytes.
// It reports whether the line ended within the limit.
func (r *lineReader) skipLine(limit int) (bool, error) {
	for !r.done && limit > 0 {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				return false, err
			}
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		n := len(buf)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			n = i + 1
			r.done = true
		}
		r.keep(buf[:n])
		r.br.Discard(n)
		limit -= n
	}
	return r.done, nil
}
