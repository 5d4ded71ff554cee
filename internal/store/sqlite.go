package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

const memoryPath = ":memory:"

// sqlitePragmas apply to every connection. busy_timeout covers a
// checkpoint or a backup holding the lock for a moment. cache_size is
// 128 KiB a connection instead of SQLite's 2 MiB: the journal's hot pages
// are its newest few; 2 MiB cost 3 MiB of peak RSS at 200 updates/s,
// 512 KiB another 0.5–0.9 MiB over 128 KiB, with no latency gained.
const sqlitePragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=cache_size(-128)"

// writerSync is the synchronous pragma the writer connection rests at: the
// level of the journal's Appends, the write it runs most (Store.write
// switches for the others). FULL syncs the WAL on each commit, so the write
// survives a power loss too; NORMAL survives any crash of the process.
func writerSync(relaxed bool) string {
	if relaxed {
		return "&_pragma=synchronous(NORMAL)"
	}
	return "&_pragma=synchronous(FULL)"
}

// sqlite error codes (primary, the low byte of extended codes).
const (
	sqliteCorrupt = 11
	sqliteNotADB  = 26
)

func sqliteDialect() dialect {
	return dialect{
		types: strings.NewReplacer("{{int64}}", "INTEGER", "{{bytes}}", "BLOB", "{{time}}", "INTEGER",
			"{{serial}}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
		time: func(t time.Time) any { return t.UnixMicro() },
		classify: func(err error) error {
			var coded interface{ Code() int }
			if errors.As(err, &coded) {
				if c := coded.Code() & 0xff; c == sqliteCorrupt || c == sqliteNotADB {
					return fmt.Errorf("%w: %w", ErrCorrupt, err)
				}
			}
			return err
		},
		relax:  "PRAGMA synchronous = NORMAL",
		strict: "PRAGMA synchronous = FULL",
	}
}

// openSQLite opens path with one writer connection (BEGIN IMMEDIATE, so a
// transaction never fails half-way on a lock upgrade) and a small reader
// pool that WAL lets run beside the writer. A PATH.lock file held with flock
// keeps a second process off the file.
func openSQLite(ctx context.Context, path string, relaxed bool) (*Store, error) {
	s := &Store{d: sqliteDialect(), info: Info{Driver: "sqlite", Location: path}}
	if path == memoryPath {
		// One connection: each in-memory connection would be its own database.
		db, err := sql.Open("sqlite", memoryPath+"?"+sqlitePragmas+writerSync(relaxed))
		if err != nil {
			return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
		}
		db.SetMaxOpenConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
		s.w, s.r = db, db
		if err := s.ping(ctx); err != nil {
			s.Close()
			return nil, err
		}
		s.group = newCommitter(s)
		return s, nil
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: sqlite path %q: want a file path without ? or #", path)
	}
	// Absolute, so logs and /status say where the file is whatever the
	// working directory.
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite path: %w", err)
	}
	s.info.Location = path
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("%w: create directory for %s: %w", ErrPath, path, err)
	}
	release, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	s.release = release
	// Creating the file here, before SQLite opens it, turns a read-only file
	// into an error at start rather than SQLite's silent read-only fallback.
	// Nothing holds SQLite locks on it yet, so closing this fd is harmless.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		release()
		return nil, fmt.Errorf("%w: open %s for writing: %w", ErrPath, path, err)
	}
	f.Close()

	if s.w, err = sql.Open("sqlite", path+"?"+sqlitePragmas+writerSync(relaxed)+"&_pragma=journal_mode(WAL)&_txlock=immediate"); err == nil {
		s.w.SetMaxOpenConns(1)
		s.r, err = sql.Open("sqlite", path+"?"+sqlitePragmas+"&_pragma=query_only(1)")
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(2)
	if err := s.ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.group = newCommitter(s)
	return s, nil
}

// ping opens the first connections, which runs the pragmas: a file that is
// not a database fails here with ErrCorrupt.
func (s *Store) ping(ctx context.Context) error {
	for _, db := range []*sql.DB{s.w, s.r} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
			return s.wrap("open", err)
		}
	}
	return nil
}
