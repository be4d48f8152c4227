package tcpduckdb

// Parameters: a typed request `query {"sql": ..., "params": [...]}` binds them to a DuckDB
// prepared statement on the server (docs/protocol.md, "Typed requests").

import (
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// BigInt is a *big.Int that scans exact integers (HUGEINT, UHUGEINT, UBIGINT, BIGNUM) and can
// be a parameter:
//
//	var n tcpduckdb.BigInt
//	err := db.QueryRow("SELECT 170141183460469231731687303715884105727::HUGEINT").Scan(&n)
type BigInt struct{ big.Int }

// Scan reads an integer from its exact text (or an int64).
func (b *BigInt) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		b.SetInt64(v)
		return nil
	case string:
		if _, ok := b.SetString(v, 10); ok {
			return nil
		}
	case []byte:
		if _, ok := b.SetString(string(v), 10); ok {
			return nil
		}
	}
	return fmt.Errorf("tcpduckdb: cannot scan %T %v into a BigInt", src, src)
}

// Value passes the integer on as a parameter (exact, up to 128 bits).
func (b BigInt) Value() (driver.Value, error) { return b.Int.String(), nil }

// exactInt marks an integer parameter sent as a JSON number, not as a string.
type exactInt string

func checkNamedValue(nv *driver.NamedValue) error {
	if nv.Name != "" {
		return fmt.Errorf("tcpduckdb: named parameter %q: parameters are bound by position", nv.Name)
	}
	switch v := nv.Value.(type) {
	case *big.Int:
		if v == nil {
			nv.Value = nil
		} else {
			nv.Value = exactInt(v.String())
		}
		return nil
	case BigInt:
		nv.Value = exactInt(v.Int.String())
		return nil
	case *BigInt:
		if v == nil {
			nv.Value = nil
		} else {
			nv.Value = exactInt(v.Int.String())
		}
		return nil
	case uint64:
		nv.Value = exactInt(strconv.FormatUint(v, 10))
		return nil
	case uint:
		nv.Value = exactInt(strconv.FormatUint(uint64(v), 10))
		return nil
	}
	return driver.ErrSkip // database/sql's default conversion
}

// typedRequest builds `query {"sql":...,"params":[...]}` (without params when there are none,
// so a request without parameters may hold several statements).
func typedRequest(query string, args []driver.NamedValue) ([]byte, error) {
	buf := make([]byte, 0, len(query)+32+16*len(args))
	buf = append(buf, `query {"sql":`...)
	q, err := json.Marshal(query)
	if err != nil {
		return nil, err
	}
	buf = append(buf, q...)
	if len(args) > 0 {
		buf = append(buf, `,"params":[`...)
		for i, a := range args {
			if a.Name != "" {
				return nil, fmt.Errorf("tcpduckdb: named parameter %q: parameters are bound by position", a.Name)
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			buf, err = appendParam(buf, a.Value)
			if err != nil {
				return nil, fmt.Errorf("tcpduckdb: parameter %d: %w", a.Ordinal, err)
			}
		}
		buf = append(buf, ']')
	}
	buf = append(buf, '}')
	return buf, nil
}

// appendParam encodes one parameter value (README.md, "Parameters").
func appendParam(buf []byte, v driver.Value) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		return strconv.AppendBool(buf, v), nil
	case int64:
		return strconv.AppendInt(buf, v, 10), nil
	case exactInt:
		return append(buf, v...), nil
	case float64:
		switch {
		case math.IsNaN(v):
			return append(buf, `"NaN"`...), nil
		case math.IsInf(v, 1):
			return append(buf, `"Infinity"`...), nil
		case math.IsInf(v, -1):
			return append(buf, `"-Infinity"`...), nil
		}
		// A number with a fraction or an exponent is bound as DOUBLE; 'e' keeps 2.0 one.
		return strconv.AppendFloat(buf, v, 'e', -1, 64), nil
	case string:
		return appendJSONString(buf, v)
	case []byte:
		if v == nil { // as Go's other drivers: a nil slice is NULL, an empty one an empty BLOB
			return append(buf, "null"...), nil
		}
		buf = append(buf, `{"blob":"`...)
		buf = append(buf, hex.EncodeToString(v)...)
		return append(buf, `"}`...), nil
	case time.Time:
		return appendJSONString(buf, timeText(v))
	}
	return nil, errors.New("unsupported type " + fmt.Sprintf("%T", v))
}

func appendJSONString(buf []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return append(buf, q...), nil
}

// timeText is the ISO 8601 text DuckDB casts to the placeholder's type: a date alone for a
// UTC midnight (so it also fits a DATE), else the time in UTC with the offset +00:00. DuckDB
// reads the offset for a TIMESTAMPTZ and ignores it for a TIMESTAMP, so both get the UTC
// time, which is how this driver reads them back.
func timeText(t time.Time) string {
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04:05.999999999") + "+00:00"
}
