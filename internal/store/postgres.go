package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
)

func postgresDialect() dialect {
	return dialect{
		types:    strings.NewReplacer("{{int64}}", "BIGINT", "{{bytes}}", "BYTEA", "{{time}}", "TIMESTAMPTZ"),
		time:     func(t time.Time) any { return t.UTC() },
		classify: func(err error) error { return err },
	}
}

// openPostgres opens a database/sql pool over pgx's stdlib driver, so the
// journal's SQL is shared with SQLite. Open fails with ErrUnavailable when
// the server does not answer; the caller retries with backoff.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	loc := redactURL(dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres %s: %w", loc, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		// A server that answered with an error (login refused, no such
		// database) will answer the same on a retry.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return nil, fmt.Errorf("store: postgres %s: %w", loc, err)
		}
		return nil, fmt.Errorf("%w: postgres %s: %w", ErrUnavailable, loc, err)
	}
	return &Store{w: db, r: db, d: postgresDialect(), info: Info{Driver: "postgres", Location: loc}}, nil
}

// redactURL drops the password from a URL, for logs, errors and /status.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
