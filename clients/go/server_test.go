package tcpduckdb

// The test server: the real binary (build/asan/tcp-duckdb, or $TCPDUCKDB_BIN) on an ephemeral
// loopback port with a temporary data directory, as tests/e2e/conftest.py starts it. A test
// run fails if a server did not exit 0 on SIGTERM or its log holds a sanitizer report.

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type testServer struct {
	cmd     *exec.Cmd
	port    int
	dataDir string
	mu      sync.Mutex
	log     []string
	done    chan struct{}
}

// The server's own settings from the environment; tests start from none of them.
var serverEnv = map[string]bool{"ServerPort": true, "ServerAddr": true, "DBdir": true,
	"ServerDbFile": true, "ENCRYPTION_KEY": true, "SuperPassword": true, "MaxConnections": true,
	"MaxRequestBytes": true, "IdleTimeout": true, "QueryWorkers": true, "PoolSize": true,
	"PoolWaitMs": true, "DuckdbThreads": true, "DuckdbMemoryLimit": true, "LogLevel": true,
	"TLSMode": true, "TLSCertFile": true, "TLSKeyFile": true, "TLSCAFile": true,
	"TLSMinVersion": true, "StatementTimeout": true, "LoginTimeout": true,
	"MaxLoginRequestBytes": true, "SuperuserReservedConnections": true,
	"MaxConnectionsPerAddress": true, "LoginFailureLimit": true}

var listenRE = regexp.MustCompile(`listening to .*:(\d+)$`)

func serverBinary() string {
	if b := os.Getenv("TCPDUCKDB_BIN"); b != "" {
		return b
	}
	root, _ := filepath.Abs("../..")
	return filepath.Join(root, "build", "asan", "tcp-duckdb")
}

// launchServer starts the binary in a new temporary data directory and waits for its port.
func launchServer(args ...string) (*testServer, error) {
	dir, err := os.MkdirTemp("", "tcpduckdb-go-")
	if err != nil {
		return nil, err
	}
	s := &testServer{dataDir: dir, done: make(chan struct{})}
	cmd := exec.Command(serverBinary(), append([]string{"--port", "0", "--addr", "127.0.0.1",
		"--data-dir", dir}, args...)...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !serverEnv[k] && !strings.HasPrefix(k, "TCPDUCKDB_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot start %s: %v (run make asan, or set TCPDUCKDB_BIN)", serverBinary(), err)
	}
	s.cmd = cmd
	ready := make(chan int, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log = append(s.log, line)
			s.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				var p int
				fmt.Sscan(m[1], &p)
				select {
				case ready <- p:
				default:
				}
			}
		}
	}()
	select {
	case s.port = <-ready:
		return s, nil
	case <-s.done:
		cmd.Wait()
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-s.done
		cmd.Wait()
	}
	os.RemoveAll(dir)
	return nil, fmt.Errorf("server did not start:\n%s", s.logText())
}

// startServer starts a server for one test; it is stopped and checked when the test ends.
func startServer(t testing.TB, args ...string) *testServer {
	t.Helper()
	s, err := launchServer(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if msg := s.stop(); msg != "" {
			t.Error(msg)
		}
	})
	return s
}

func (s *testServer) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "\n")
}

// stop sends SIGTERM, waits, removes the data directory, and returns what is wrong: an
// exit status other than 0 or a sanitizer report ("" when clean).
func (s *testServer) stop() string {
	if s.cmd == nil {
		return ""
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { <-s.done; exited <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		err = <-exited
	}
	s.cmd = nil
	os.RemoveAll(s.dataDir)
	text := s.logText()
	for _, mark := range []string{"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: ThreadSanitizer"} {
		if strings.Contains(text, mark) {
			return "sanitizer report in the server log:\n" + text
		}
	}
	if err != nil {
		return fmt.Sprintf("server exit: %v; log:\n%s", err, text)
	}
	return ""
}

// dsn is a URI for this server.
func (s *testServer) dsn(user, password, database, query string) string {
	u := fmt.Sprintf("tcpduckdb://%s:%s@127.0.0.1:%d/%s", user, password, s.port, database)
	if query != "" {
		u += "?" + query
	}
	return u
}

// open returns a pool as the super user (duck/duck) connected to database.
func (s *testServer) open(t testing.TB, database string) *sql.DB {
	t.Helper()
	db, err := sql.Open("tcpduckdb", s.dsn("duck", "duck", database, "sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// command runs a server command on a connection of db.
func command(t testing.TB, db *sql.DB, line string) string {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out string
	err = conn.Raw(func(dc any) error {
		var err error
		out, err = dc.(Commander).Command(context.Background(), line)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return out
}

var (
	sharedOnce sync.Once
	shared     *testServer
	sharedErr  error
)

// newDatabase creates a fresh database on the shared server (started once for the package,
// stopped and checked in TestMain) and returns a pool connected to it as the super user.
func newDatabase(t *testing.T) (*testServer, *sql.DB, string) {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = launchServer() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	name := "db_" + regexp.MustCompile(`[^A-Za-z0-9_]`).ReplaceAllString(t.Name(), "_")
	command(t, shared.open(t, ""), "create database "+name)
	return shared, shared.open(t, name), name
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if msg := shared.stop(); msg != "" {
			fmt.Fprintln(os.Stderr, "shared server:", msg)
			code = 1
		}
	}
	os.Exit(code)
}
