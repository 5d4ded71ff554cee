// Package pgtest gives tests a real Postgres: the server named by
// CRYPTOBOT_TEST_POSTGRES_URL, or one started from the Debian package
// (/usr/lib/postgresql/*/bin) in a temporary directory on a free port, run
// as the postgres OS user when the tests run as root. Without binaries the
// tests skip, or fail when CI=true (CI installs them).
//
// A package that calls Main from TestMain shares one server among its tests;
// each Start still gets a database of its own.
package pgtest

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// EnvURL names a server to use instead of starting one: a URL whose user may
// create databases, e.g. postgres://postgres@127.0.0.1:5432/postgres.
const EnvURL = "CRYPTOBOT_TEST_POSTGRES_URL"

// shared is the one server of a test binary that called Main. Test helpers
// are the exception to "no global state": the point is one server per binary.
var shared struct {
	enabled bool
	once    sync.Once
	srv     *Server
	err     error
}

var dbSeq atomic.Int64

// Main runs m with one shared server, started by the first Start that needs
// it and stopped when m is done. Use it as os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	shared.enabled = true
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop shared server:", err)
		}
		os.RemoveAll(shared.srv.dir)
	}
	return code
}

// Start returns the URL of a new, empty database, dropped at cleanup.
func Start(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		var srv *Server
		if shared.enabled {
			shared.once.Do(func() { shared.srv, shared.err = startServer() })
			srv = shared.srv
			if shared.err != nil {
				unavailable(t, shared.err)
			}
		} else {
			srv = NewServer(t)
		}
		admin = srv.URL("postgres")
	}
	return createDB(t, admin)
}

// Server is a Postgres server a test owns, for tests that stop and restart
// it (Postgres going down mid-run). It listens on the same port throughout.
type Server struct {
	bin, dir string
	port     int
	cred     *syscall.Credential // postgres OS user when running as root

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error // the running server's exit
}

// NewServer starts a server for t alone, stopped and removed at cleanup.
func NewServer(t testing.TB) *Server {
	t.Helper()
	srv, err := startServer()
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := srv.stop(); err != nil {
			t.Errorf("pgtest: stop server: %v\n%s", err, srv.log())
		}
		os.RemoveAll(srv.dir)
	})
	return srv
}

// URL is the address of database db on the server, as the postgres user.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Stop shuts the server down (fast shutdown: open sessions are ended).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("pgtest: stop: %v\n%s", err, s.log())
	}
}

// Restart starts the stopped server again on the same port and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.run(); err != nil {
		t.Fatalf("pgtest: restart: %v", err)
	}
}

// errNoBinaries marks the absence of a Postgres installation.
var errNoBinaries = errors.New("no Postgres binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")

func unavailable(t testing.TB, err error) {
	t.Helper()
	// With a server named in EnvURL only a test that must stop its own
	// server gets here: skipping it is the deliberate choice of that setup.
	if errors.Is(err, errNoBinaries) && (os.Getenv("CI") != "true" || os.Getenv(EnvURL) != "") {
		t.Skipf("pgtest: %v; set %s or install Postgres to run this test (CI=true makes it a failure)", err, EnvURL)
		return
	}
	t.Fatalf("pgtest: %v", err)
}

// binDir returns the newest installed version's bin directory.
func binDir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errNoBinaries
	}
	slices.SortFunc(found, func(a, b string) int { return version(a) - version(b) })
	return filepath.Dir(found[len(found)-1]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// startServer runs initdb into a new directory and starts the server.
func startServer() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: its parents are 0700 root, which the postgres user
	// cannot traverse.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err == nil {
			err = os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid))
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root: %w", err)
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", s.data(), "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if s.port, err = freePort(); err == nil {
		err = s.run()
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) logPath() string { return filepath.Join(s.dir, "postgres.log") }

// log returns the server's output so far, for failure messages.
func (s *Server) log() string {
	b, _ := os.ReadFile(s.logPath())
	return string(b)
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("need the postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// readyLine is what the server logs once it accepts connections.
const readyLine = "database system is ready to accept connections"

// run starts the server and waits for its ready line, or its exit.
func (s *Server) run() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", s.data(), "-p", strconv.Itoa(s.port),
		"-h", "127.0.0.1", "-k", "", "-c", "max_connections=50", "-c", "shared_buffers=16MB")
	// Pdeathsig: a test binary that dies takes its server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	logFile, err := os.OpenFile(s.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	ready := make(chan struct{})
	go func() {
		defer logFile.Close()
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if !signalled && strings.Contains(sc.Text(), readyLine) {
				close(ready)
				signalled = true
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-ready:
		s.cmd, s.done = cmd, done
		return nil
	case err := <-done:
		return fmt.Errorf("postgres exited before it was ready: %v\n%s", err, s.log())
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("postgres not ready after a minute\n%s", s.log())
	}
}

// stop ends a running server with a fast shutdown and waits for its exit.
func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	err := <-s.done
	s.cmd, s.done = nil, nil
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 0 {
		err = nil
	}
	return err
}

// createDB creates a database on the server at admin and drops it at cleanup.
func createDB(t testing.TB, admin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close()
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := sql.Open("postgres", admin)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}
