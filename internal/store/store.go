// Package store keeps the bot's durable state: SQLite (a local file, or in
// memory for console mode and tests) or Postgres (shared by replicas), chosen
// by one URL. Migrations are embedded and applied at Open. It holds the
// update journal (intake commits each update before acknowledging it,
// workers settle it once answered, a restart replays what was left
// unanswered) and the alerts' state: alerts, the outbox their firings write,
// watchlists, digest schedules and per-chat state.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Errors Open returns for conditions a restart cannot fix (the caller exits 2)
// or that it may retry (ErrUnavailable). Test with errors.Is.
var (
	// ErrNewerSchema: the database was migrated by a newer binary.
	ErrNewerSchema = errors.New("store: database schema is newer than this binary")
	// ErrLocked: another process has the SQLite file open.
	ErrLocked = errors.New("store: database is in use by another process")
	// ErrCorrupt: the SQLite file is not a database or is damaged. It is never
	// recreated: move it aside (and keep it) to start empty.
	ErrCorrupt = errors.New("store: database file is corrupt")
	// ErrPath: the SQLite file or its directory cannot be created or written
	// (the error names the path).
	ErrPath = errors.New("store: database path not writable")
	// ErrUnavailable: the Postgres server could not be reached; retry later.
	// Every other Open error is one a retry cannot fix (a refused login or
	// a missing database included).
	ErrUnavailable = errors.New("store: database unavailable")
)

// Options configure Open. The zero value is valid.
type Options struct {
	// Registerer receives the store's collectors; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger logs migrations; nil discards.
	Logger *slog.Logger
	// JournalSync is how hard SQLite syncs an intake commit; the zero value
	// is SyncNormal. Postgres commits as its server is configured.
	JournalSync Sync
}

// Sync is the durability of the journal's intake commits on SQLite.
type Sync string

const (
	// SyncNormal commits intake at synchronous=NORMAL: the commit is in the
	// WAL before the update is acknowledged, so a crash of the bot (SIGKILL,
	// the OOM killer, a restart, a clean reboot) loses nothing, but the WAL
	// is synced only at checkpoints and by the next FULL commit, so a power
	// loss or kernel crash can forget the newest updates. Alerts, settings
	// and watchlists always commit at FULL (their commit syncs every earlier
	// one too). Each intake fsync cost the bot about a fifth of its CPU and
	// doubled its p99 at 200 updates/s (README, Figures).
	SyncNormal Sync = "normal"
	// SyncFull syncs the WAL on every intake commit: an acknowledged update
	// survives a power loss as well.
	SyncFull Sync = "full"
)

// Info describes an open store for /status and logs.
type Info struct {
	Driver        string // "sqlite" or "postgres"
	Location      string // file path, ":memory:", or the Postgres URL without its password
	SchemaVersion int
	JournalSync   Sync // SQLite's intake durability; "" on Postgres
}

// Store is an open state store, safe for concurrent use.
type Store struct {
	w, r    *sql.DB // writer and reader pools; the same pool on Postgres and in memory
	d       dialect
	info    Info
	m       *storeMetrics
	release func() error             // drops the SQLite file lock
	group   *committer               // SQLite: commits concurrent journal writes together (group.go)
	claims  atomic.Pointer[claimant] // set by EnableClaims: Append claims for this replica
	ctl     *sql.DB                  // Postgres: the replicas' own small pool (control)
	log     *slog.Logger
	// relaxAppend commits Appends at the dialect's lighter durability
	// (Options.JournalSync); the SQLite writer rests at their level.
	relaxAppend bool
	// settingsRead is ChatSettings' query, prepared once: /price reads the
	// chat's settings on every request, and parsing it each time showed in
	// profiles (5–8 % of the bot's CPU at 200/s).
	settingsRead *sql.Stmt

	closeOnce sync.Once
}

// dialect holds what differs between the drivers; the SQL text itself is
// shared (both take $N placeholders, ON CONFLICT and RETURNING).
type dialect struct {
	// types fills the column type placeholders of the migrations.
	types *strings.Replacer
	// time converts a time to the value stored in a time column.
	time func(time.Time) any
	// classify wraps driver errors that have a sentinel (ErrCorrupt).
	classify func(error) error
	// relax and strict switch a connection to lighter durability and back
	// (see Store.write); empty where it does not apply.
	relax, strict string
	// forUpdate ends a SELECT that claims rows for a drainer (SKIP LOCKED on
	// Postgres; SQLite has one writer, nothing to skip).
	forUpdate string
}

// Open opens the store at url and migrates it:
//
//	sqlite:PATH        a file, relative to the working directory or absolute; its directory is created
//	sqlite::memory:    in memory, gone at Close
//	postgres://…       (or postgresql://) a Postgres database
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if j := opts.JournalSync; j != "" && j != SyncNormal && j != SyncFull {
		return nil, fmt.Errorf("store: journal sync %q: want %q or %q", j, SyncNormal, SyncFull)
	}
	relaxed := opts.JournalSync != SyncFull
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		s, err = openSQLite(ctx, strings.TrimPrefix(url, "sqlite:"), relaxed)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err = openPostgres(ctx, url)
	default:
		return nil, fmt.Errorf("store: url %q: want sqlite:PATH, sqlite::memory: or postgres://…", redactURL(url))
	}
	if err != nil {
		return nil, err
	}
	s.m = newStoreMetrics(s)
	s.log = opts.Logger
	s.relaxAppend = relaxed
	s.info.JournalSync = cmp.Or(opts.JournalSync, SyncNormal)
	if s.d.relax == "" {
		s.info.JournalSync = ""
	}
	version, err := s.migrate(ctx, opts.Logger)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.info.SchemaVersion = version
	if s.settingsRead, err = s.r.PrepareContext(ctx, settingsQuery); err != nil {
		s.Close()
		return nil, s.wrap("prepare", err)
	}
	if opts.Registerer != nil {
		if err := s.m.register(opts.Registerer); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: register metrics: %w", err)
		}
	}
	return s, nil
}

// Info describes the store; it never contains a password.
func (s *Store) Info() Info { return s.info }

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.m.observe(opPing, time.Now(), &err)
	if err := s.w.PingContext(ctx); err != nil {
		return s.wrap("ping", err)
	}
	return nil
}

// Close closes the pools and releases the file lock. Later calls return nil.
func (s *Store) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		if s.group != nil {
			s.group.close() // commits what is queued first
		}
		if s.settingsRead != nil {
			s.settingsRead.Close()
		}
		for _, db := range []*sql.DB{s.w, s.r, s.ctl} {
			if db != nil {
				errs = append(errs, db.Close())
			}
		}
		if s.release != nil {
			errs = append(errs, s.release())
		}
	})
	return errors.Join(errs...)
}

// wrap names the operation and the database once, classifying corruption.
func (s *Store) wrap(op string, err error) error {
	return fmt.Errorf("store %s %s: %s: %w", s.info.Driver, s.info.Location, op, s.d.classify(err))
}
