// Package tcpduckdb is a database/sql driver for TCP-DuckDB, standard library only.
//
//	db, err := sql.Open("tcpduckdb", "tcpduckdb://analyst:secret@127.0.0.1:4000/analytics?sslmode=verify-full&sslrootcert=ca.crt")
//
// Statements go to the server as typed requests (`query {"sql": ..., "params": [...]}`,
// docs/protocol.md): parameters are bound by the server to a DuckDB prepared statement and
// never become SQL text. Results are read row by row as the server streams them. See
// clients/go/README.md for the URI, the environment defaults, the type mapping and errors.
package tcpduckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

func init() {
	sql.Register("tcpduckdb", &Driver{})
}

// Driver is the database/sql driver registered as "tcpduckdb".
type Driver struct{}

// Open opens one connection for the data source name (a tcpduckdb:// URI).
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses the data source name once; database/sql then opens every connection
// of its pool with the Connector.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return &Connector{Config: *cfg, driver: d}, nil
}

// SSL modes, with libpq's names and meaning (docs/protocol.md, "TLS").
var sslModes = []string{"disable", "prefer", "require", "verify-ca", "verify-full"}

// Config is what a connection needs; ParseDSN fills it from a URI and the environment.
type Config struct {
	Host     string
	Port     int
	User     string // empty: do not log in
	Password string
	Database string // empty: log in only, no `connect`
	// SSLMode is one of disable, prefer (the default), require, verify-ca, verify-full.
	SSLMode     string
	SSLRootCert string // PEM CA file for verify-ca / verify-full; empty: the system's CAs
	SSLCert     string // PEM client certificate, for servers that ask for one
	SSLKey      string // its key; empty: the key is in SSLCert
	// ConnectTimeout bounds opening a connection: TCP connect, starttls, the TLS handshake,
	// login and connect (0: 30 s).
	ConnectTimeout time.Duration
}

// ParseDSN reads `tcpduckdb://user:password@host:port/database?sslmode=...&sslrootcert=...`.
// Every part may be left out; a missing part comes from the environment (TCPDUCKDB_HOST,
// TCPDUCKDB_PORT, TCPDUCKDB_USER, TCPDUCKDB_PASSWORD, TCPDUCKDB_DATABASE, TCPDUCKDB_SSLMODE,
// TCPDUCKDB_SSLROOTCERT, TCPDUCKDB_SSLCERT, TCPDUCKDB_SSLKEY), then from the defaults
// 127.0.0.1, 4000, no login, no database, sslmode prefer. An empty DSN uses only those.
func ParseDSN(dsn string) (*Config, error) {
	cfg := &Config{
		Host:        env("TCPDUCKDB_HOST", "127.0.0.1"),
		User:        os.Getenv("TCPDUCKDB_USER"),
		Password:    os.Getenv("TCPDUCKDB_PASSWORD"),
		Database:    os.Getenv("TCPDUCKDB_DATABASE"),
		SSLMode:     env("TCPDUCKDB_SSLMODE", "prefer"),
		SSLRootCert: os.Getenv("TCPDUCKDB_SSLROOTCERT"),
		SSLCert:     os.Getenv("TCPDUCKDB_SSLCERT"),
		SSLKey:      os.Getenv("TCPDUCKDB_SSLKEY"),
	}
	port := env("TCPDUCKDB_PORT", "4000")
	if dsn != "" {
		u, err := url.Parse(dsn)
		if err != nil {
			// Not err itself: a *url.Error quotes the whole URI, password included.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("tcpduckdb: bad DSN: %v", err)
		}
		if u.Scheme != "tcpduckdb" {
			return nil, fmt.Errorf("tcpduckdb: bad DSN: the scheme must be tcpduckdb://, not %q", u.Scheme)
		}
		if u.User != nil {
			cfg.User = u.User.Username()
			if p, ok := u.User.Password(); ok {
				cfg.Password = p
			}
		}
		if h := u.Hostname(); h != "" {
			cfg.Host = h
		}
		if p := u.Port(); p != "" {
			port = p
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != "" {
			cfg.Database = db
		}
		q := u.Query()
		for key, vals := range q {
			v := vals[len(vals)-1]
			switch key {
			case "sslmode":
				cfg.SSLMode = v
			case "sslrootcert":
				cfg.SSLRootCert = v
			case "sslcert":
				cfg.SSLCert = v
			case "sslkey":
				cfg.SSLKey = v
			case "connect_timeout":
				secs, err := strconv.ParseFloat(v, 64)
				if err != nil || secs < 0 {
					return nil, fmt.Errorf("tcpduckdb: bad DSN: connect_timeout must be seconds, not %q", v)
				}
				cfg.ConnectTimeout = time.Duration(secs * float64(time.Second))
			default:
				return nil, fmt.Errorf("tcpduckdb: bad DSN: unknown parameter %q", key)
			}
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return nil, fmt.Errorf("tcpduckdb: bad port %q", port)
	}
	cfg.Port = n
	ok := false
	for _, m := range sslModes {
		ok = ok || m == cfg.SSLMode
	}
	if !ok {
		return nil, fmt.Errorf("tcpduckdb: sslmode must be one of %s, not %q",
			strings.Join(sslModes, ", "), cfg.SSLMode)
	}
	if cfg.SSLKey != "" && cfg.SSLCert == "" {
		return nil, fmt.Errorf("tcpduckdb: sslkey is given without sslcert")
	}
	return cfg, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Connector opens connections with one Config; use sql.OpenDB(connector) to build a pool
// from a Config made in code rather than from a URI.
type Connector struct {
	Config
	driver *Driver
}

// NewConnector returns a Connector for cfg (ParseDSN's checks apply when it connects).
func NewConnector(cfg Config) *Connector { return &Connector{Config: cfg} }

// Connect opens a connection: TCP, starttls as SSLMode asks, login, connect DATABASE.
// ctx bounds the whole set-up.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	cfg := c.Config
	if cfg.Port == 0 {
		cfg.Port = 4000
	}
	if cfg.SSLMode == "" {
		cfg.SSLMode = "prefer"
	}
	return connect(ctx, &cfg)
}

// Driver returns the Driver.
func (c *Connector) Driver() driver.Driver {
	if c.driver == nil {
		return &Driver{}
	}
	return c.driver
}

func (cfg *Config) address() string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
}

var (
	_ driver.Driver        = (*Driver)(nil)
	_ driver.DriverContext = (*Driver)(nil)
	_ driver.Connector     = (*Connector)(nil)
)
