package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"
)

// Migrations live in migrations/NNNN_name.sql, shared by the drivers; the
// number is the schema version it brings the database to. Column types are
// {{placeholders}} each dialect fills in. Files are never edited once
// released: a change is a new file.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the migrations in version order, typed for d.
func migrations(d dialect) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != len(ms)+1 {
			return nil, fmt.Errorf("store: migration %s: want NNNN_name.sql numbered from 1 without gaps", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: d.types.Replace(string(b))})
	}
	return ms, nil
}

// migrationLockID serialises replicas migrating one Postgres database at the
// same start (pg_advisory_xact_lock); any constant works, this is "cryptobt".
const migrationLockID = 0x63727970746f6274

// migrate brings the schema to the newest version this binary knows, in one
// transaction, and returns that version. A database at a newer version is
// refused with ErrNewerSchema: this binary would misread it.
func (s *Store) migrate(ctx context.Context, log *slog.Logger) (version int, err error) {
	defer s.m.observe(opMigrate, time.Now(), &err)
	ms, err := migrations(s.d)
	if err != nil {
		return 0, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap("migrate", err)
	}
	defer tx.Rollback()
	if s.info.Driver == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockID)); err != nil {
			return 0, s.wrap("migrate: lock", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return 0, s.wrap("migrate: schema_version", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&current); err != nil {
		return 0, s.wrap("migrate: read version", err)
	}
	known := len(ms)
	if current > known {
		return 0, fmt.Errorf("%w: %s %s is at schema version %d, this binary knows up to %d: run a newer cryptobot",
			ErrNewerSchema, s.info.Driver, s.info.Location, current, known)
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return 0, s.wrap("migrate "+m.name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
			m.version, m.name, time.Now().Unix()); err != nil {
			return 0, s.wrap("migrate "+m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap("migrate: commit", err)
	}
	if current < known {
		log.Info("store migrated", "driver", s.info.Driver, "location", s.info.Location, "from", current, "to", known)
	}
	return known, nil
}
