package tcpduckdb

// Rows of a typed answer: `{"columns":[...],"rows":[[...],...]}` on one line, read row by row
// with a json.Decoder over a reader that stops at the line's end (lineReader). Memory stays
// bounded by the decoder's buffer and one row, whatever the result size. A query that fails
// after rows were sent ends the line without `]}` and an `Error: ...` line follows
// (docs/protocol.md, "Errors in the middle of a result").

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// A column of a typed answer.
type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
	conv func(raw []byte) (driver.Value, error)
}

type rows struct {
	c        *conn
	lr       lineReader
	dec      *json.Decoder
	cols     []column
	names    []string
	raw      []json.RawMessage
	buffered [][]driver.Value // rows read ahead because the connection was needed elsewhere
	done     bool             // the answer is consumed: nothing more on the wire
	err      error            // what Next returns once the buffered rows are gone
	release  func() error     // stops the context watch of the query; called once
	ctx      context.Context  // the query's context, watched until release
}

// newRows reads the header of a typed row answer (the wire is at `{"columns":`).
func newRows(c *conn) (*rows, error) {
	r := &rows{c: c}
	r.lr.br = c.w.br
	r.dec = json.NewDecoder(&r.lr)
	if err := r.expectDelim('{'); err != nil {
		return nil, err
	}
	if err := r.expectKey("columns"); err != nil {
		return nil, err
	}
	if err := r.dec.Decode(&r.cols); err != nil {
		return nil, r.malformed(err)
	}
	if err := r.expectKey("rows"); err != nil {
		return nil, err
	}
	if err := r.expectDelim('['); err != nil {
		return nil, err
	}
	r.names = make([]string, len(r.cols))
	for i := range r.cols {
		r.names[i] = r.cols[i].Name
		r.cols[i].conv = converter(r.cols[i].Type)
	}
	return r, nil
}

func (r *rows) malformed(err error) error {
	r.c.markBad()
	if r.c.cancelled() {
		return r.c.ctxErr
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF || isNetErr(err) {
		return &ConnError{Op: "read the answer", Err: err}
	}
	return &ProtocolError{Reason: "malformed row answer: " + err.Error()}
}

func isNetErr(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne)
}

func (r *rows) expectDelim(d json.Delim) error {
	t, err := r.dec.Token()
	if err != nil {
		return r.malformed(err)
	}
	if t != d {
		return r.malformed(errors.New("expected " + d.String()))
	}
	return nil
}

func (r *rows) expectKey(k string) error {
	t, err := r.dec.Token()
	if err != nil {
		return r.malformed(err)
	}
	if s, ok := t.(string); !ok || s != k {
		return r.malformed(errors.New("expected key " + k))
	}
	return nil
}

// Columns returns the column names (duplicates kept as the server sends them).
func (r *rows) Columns() []string { return r.names }

// Next reads the next row off the wire into dest.
func (r *rows) Next(dest []driver.Value) error {
	if len(r.buffered) > 0 {
		copy(dest, r.buffered[0])
		r.buffered[0] = nil
		r.buffered = r.buffered[1:]
		return nil
	}
	if r.err != nil {
		return r.err
	}
	err := r.next(dest)
	if err != nil {
		r.err = err
		r.finish()
	}
	return err
}

// next decodes one row; io.EOF at the end of the answer.
func (r *rows) next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	if r.c.cancelled() {
		// The watch has sent the cancel request: the rest of the answer, up to the server's
		// error line (or the end, if the statement had finished), is read and dropped so
		// the connection stays in step.
		if r.drain(-1) != nil {
			r.c.markBad()
		}
		return r.c.ctxErr
	}
	if !r.dec.More() {
		// `]}` and the line's end, or a line cut by an error in the middle of the result.
		if t, err := r.dec.Token(); err == nil && t == json.Delim(']') {
			if t, err = r.dec.Token(); err == nil && t == json.Delim('}') {
				if ended, err := r.lr.skipLine(16); err != nil || !ended {
					return r.malformed(errors.New("trailing data after the rows"))
				}
				r.done = true
				return io.EOF
			}
		}
		return r.cut()
	}
	r.raw = r.raw[:0]
	if err := r.dec.Decode(&r.raw); err != nil {
		if r.lr.done { // the line ended inside a row: an error line follows
			return r.cut()
		}
		return r.malformed(err)
	}
	if len(r.raw) != len(r.cols) {
		return r.malformed(errors.New("a row with the wrong number of values"))
	}
	for i, raw := range r.raw {
		v, err := r.cols[i].conv(raw)
		if err != nil {
			return r.malformed(err)
		}
		dest[i] = v
	}
	return nil
}

// cut handles a row line that ended without `]}`: the next line must be an error (the
// server's Canceled answer when the watch cancelled the query: the context's error is returned).
func (r *rows) cut() error {
	if ended, err := r.lr.skipLine(1 << 30); err != nil || !ended {
		return r.malformed(io.ErrUnexpectedEOF)
	}
	r.done = true
	line, err := r.c.w.readLine()
	if err != nil {
		return r.malformed(err)
	}
	if strings.HasPrefix(line, "Error: ") {
		if r.c.cancelled() {
			return r.c.ctxErr
		}
		return serverError(line[7:])
	}
	r.c.markBad()
	return &ProtocolError{Reason: "a cut row answer was not followed by an error"}
}

// finish stops the query's context watch and frees the connection for its next request.
func (r *rows) finish() {
	if r.c.active == r {
		r.c.active = nil
	}
	if r.release != nil {
		rel := r.release
		r.release = nil
		if err := rel(); err != nil && r.err == io.EOF {
			r.err = err
		}
	}
}

// drainLimit is how much of an abandoned result Close reads and drops before it cancels the
// statement (or, without a cancel key, closes the connection).
const drainLimit = 4 << 20

var errDrainLimit = errors.New("the rest of the result is longer than the limit")

// drain reads and drops the rest of the answer without decoding it: the rest of the row line,
// at most limit bytes of it (-1: no limit; after a cancel the watch bounds it by time), and
// the error line that follows a cut one. nil: the answer ended and the connection is in
// step; errDrainLimit: the limit was reached; else the read failed.
func (r *rows) drain(limit int) error {
	if limit < 0 {
		limit = int(^uint(0) >> 1)
	}
	ended, err := r.lr.skipLine(limit)
	if err != nil {
		return err
	}
	if !ended {
		return errDrainLimit
	}
	r.done = true
	if !r.lr.complete() {
		// A line cut by an error in the middle of the result: its error line follows.
		if _, err := r.c.w.readLine(); err != nil {
			return err
		}
	}
	return nil
}

// cancelRest ends a result left with more than drainLimit unread: the statement is cancelled
// from a second connection and the rest, short once the server has stopped it, is read
// within cancelGrace. It reports whether the connection is in step again.
func (r *rows) cancelRest() bool {
	c := r.c
	if c.cancelKey == "" || c.isBad() || sendCancel(c.cfg, c.cancelKey) != nil {
		return false
	}
	c.w.nc.SetReadDeadline(time.Now().Add(cancelGrace))
	err := r.drain(-1)
	c.w.nc.SetReadDeadline(time.Time{})
	return err == nil
}

// Close drops the rest of the result: up to drainLimit bytes are read and discarded
// (without decoding; inside a transaction the whole rest); a longer rest is ended by
// cancelling the statement, or when that cannot
// be done by closing the connection (the server interrupts the statement of a client that is
// gone within about 0.1 s; the pool opens another). When the query's context has ended
// (database/sql closes the rows then) the watch cancels the query and the whole rest is read.
func (r *rows) Close() error {
	r.buffered = nil
	if r.err == nil {
		r.err = io.EOF
		if !r.done && !r.c.isBad() {
			limit := drainLimit
			// Inside a transaction the whole rest is read: a cancel would abort the
			// transaction (as the C, Node and Python clients do).
			if r.c.cancelled() || (r.ctx != nil && r.ctx.Err() != nil) || r.c.inTx {
				limit = -1
			}
			err := r.drain(limit)
			if err == errDrainLimit && r.cancelRest() {
				err = nil
			}
			if err != nil {
				r.c.markBad()
				r.c.w.nc.Close()
			}
		}
		r.finish()
	}
	return nil
}

// bufferRest reads the remaining rows into memory so the connection can take another
// request while this result is still open (database/sql allows it inside a Tx).
func (r *rows) bufferRest() {
	for r.err == nil {
		dest := make([]driver.Value, len(r.cols))
		if err := r.next(dest); err != nil {
			r.err = err
			break
		}
		r.buffered = append(r.buffered, dest)
	}
	r.finish()
}

// ColumnTypeDatabaseTypeName returns DuckDB's spelling of the column type ("DECIMAL(18,3)").
func (r *rows) ColumnTypeDatabaseTypeName(i int) string { return r.cols[i].Type }

// ColumnTypeScanType returns the Go type Next stores for a non-NULL value of the column.
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	switch baseType(r.cols[i].Type) {
	case "BOOLEAN":
		return reflect.TypeOf(false)
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER":
		return reflect.TypeOf(int64(0))
	case "FLOAT", "DOUBLE":
		return reflect.TypeOf(float64(0))
	case "BLOB":
		return reflect.TypeOf([]byte(nil))
	case "DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE":
		return reflect.TypeOf(time.Time{})
	}
	return reflect.TypeOf("")
}

// ColumnTypePrecisionScale returns a DECIMAL column's precision and scale.
func (r *rows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	t := r.cols[i].Type
	if !strings.HasPrefix(t, "DECIMAL(") || !strings.HasSuffix(t, ")") {
		return 0, 0, false
	}
	parts := strings.Split(t[8:len(t)-1], ",")
	if len(parts) != 2 {
		return 0, 0, false
	}
	p, err1 := strconv.ParseInt(strings.TrimSpace(parts[0]), 10, 64)
	s, err2 := strconv.ParseInt(strings.TrimSpace(parts[1]), 10, 64)
	return p, s, err1 == nil && err2 == nil
}

// baseType is the type name without its parameters: "DECIMAL" for "DECIMAL(18,3)"; nested
// types (LIST, ARRAY, STRUCT, MAP, UNION) return "" (they are passed on as JSON text).
func baseType(t string) string {
	if strings.HasSuffix(t, "]") {
		return ""
	}
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
		if t == "DECIMAL" {
			return t
		}
		return ""
	}
	return t
}

// converter returns the function turning a JSON value of a column of type t into the
// driver.Value Next stores (README.md, "Types").
func converter(t string) func([]byte) (driver.Value, error) {
	switch baseType(t) {
	case "BOOLEAN":
		return withNull(func(b []byte) (driver.Value, error) {
			switch string(b) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, errors.New("bad BOOLEAN " + string(b))
		})
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER":
		return withNull(func(b []byte) (driver.Value, error) {
			return strconv.ParseInt(string(b), 10, 64)
		})
	case "UBIGINT", "HUGEINT", "UHUGEINT", "BIGNUM", "VARINT", "DECIMAL":
		// Exact digits as text: database/sql scans them into *int64, *uint64, *float64 or
		// *string; BigInt scans them into a *big.Int.
		return withNull(func(b []byte) (driver.Value, error) {
			if len(b) > 0 && b[0] == '"' {
				return jsonString(b)
			}
			return string(b), nil
		})
	case "FLOAT", "DOUBLE":
		return withNull(func(b []byte) (driver.Value, error) {
			if len(b) > 0 && b[0] == '"' {
				switch string(b) {
				case `"NaN"`:
					return math.NaN(), nil
				case `"Infinity"`:
					return math.Inf(1), nil
				case `"-Infinity"`:
					return math.Inf(-1), nil
				}
			}
			return strconv.ParseFloat(string(b), 64)
		})
	case "BLOB":
		return withNull(func(b []byte) (driver.Value, error) {
			s, err := jsonString(b)
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(s, `\x`) {
				return nil, errors.New("bad BLOB text")
			}
			return hex.DecodeString(s[2:])
		})
	case "DATE":
		return withNull(timeConv("2006-01-02"))
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
		return withNull(timeConv("2006-01-02T15:04:05.999999999"))
	case "TIMESTAMP WITH TIME ZONE":
		return withNull(timeConv(time.RFC3339Nano))
	case "":
		// LIST, ARRAY, STRUCT, MAP, UNION: the JSON text.
		return withNull(func(b []byte) (driver.Value, error) { return string(b), nil })
	}
	// VARCHAR, ENUM, UUID, BIT, JSON, TIME..., INTERVAL, and types this driver does not
	// know: a JSON string as its text, any other JSON value as its JSON text.
	return withNull(func(b []byte) (driver.Value, error) {
		if len(b) > 0 && b[0] == '"' {
			return jsonString(b)
		}
		return string(b), nil
	})
}

func withNull(f func([]byte) (driver.Value, error)) func([]byte) (driver.Value, error) {
	return func(b []byte) (driver.Value, error) {
		if string(b) == "null" {
			return nil, nil
		}
		return f(b)
	}
}

// jsonString decodes a JSON string; without escapes it is a plain copy.
func jsonString(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		plain := true
		for _, c := range inner {
			if c == '\\' || c < 0x20 {
				plain = false
				break
			}
		}
		if plain {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// timeConv parses DuckDB's ISO 8601 text in UTC; "infinity", "-infinity" and years outside
// 1..9999 (which Go's layouts cannot read) stay strings.
func timeConv(layout string) func([]byte) (driver.Value, error) {
	return func(b []byte) (driver.Value, error) {
		s, err := jsonString(b)
		if err != nil {
			return nil, err
		}
		t, err := time.ParseInLocation(layout, s, time.UTC)
		if err != nil {
			return s, nil
		}
		return t.UTC(), nil
	}
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
)
