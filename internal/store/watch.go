package store

import (
	"context"
	"database/sql"
	"slices"
	"time"
)

// Watch adds pairs to the chat's watchlist, after the pairs it has, and
// returns how many were new; pairs already watched (or repeated) are
// ignored. When the watchlist would then hold more than limit pairs
// (limit ≤ 0: no limit) nothing is added and the error is a *LimitError.
func (s *Store) Watch(ctx context.Context, chatID int64, pairs []string, limit int) (added int, err error) {
	defer s.m.observe(opWatch, time.Now(), &err)
	err = s.write(ctx, true, false, func(ex execer) error {
		added = 0
		if err := lockChat(ctx, ex, chatID); err != nil {
			return err
		}
		have, err := s.watchlist(ctx, ex, chatID)
		if err != nil {
			return err
		}
		var fresh []string
		for _, p := range pairs {
			if !slices.Contains(have, p) && !slices.Contains(fresh, p) {
				fresh = append(fresh, p)
			}
		}
		if limit > 0 && len(have)+len(fresh) > limit {
			return &LimitError{Limit: LimitWatchlist, Max: limit}
		}
		for _, p := range fresh {
			if err := execCount(ctx, ex, &added, `INSERT INTO watchlist (chat_id, pair, position)
				SELECT $1, $2, COALESCE(MAX(position), 0) + 1 FROM watchlist WHERE chat_id = $1`, chatID, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, s.wrapLimit("watch", err)
	}
	return added, nil
}

// Unwatch removes pairs from the chat's watchlist and returns how many it had.
func (s *Store) Unwatch(ctx context.Context, chatID int64, pairs []string) (removed int, err error) {
	if len(pairs) == 0 {
		return 0, nil
	}
	defer s.m.observe(opWatch, time.Now(), &err)
	args := []any{chatID}
	for _, p := range pairs {
		args = append(args, p)
	}
	err = s.write(ctx, false, false, func(ex execer) error {
		return execCount(ctx, ex, &removed, "DELETE FROM watchlist WHERE chat_id = $1 AND pair IN ("+placeholders(2, len(pairs))+")", args...)
	})
	if err != nil {
		return 0, s.wrap("unwatch", err)
	}
	return removed, nil
}

// Watchlist returns the chat's pairs in the order they were added.
func (s *Store) Watchlist(ctx context.Context, chatID int64) (pairs []string, err error) {
	defer s.m.observe(opWatchlist, time.Now(), &err)
	pairs, err = s.watchlist(ctx, s.r, chatID)
	if err != nil {
		return nil, s.wrap("watchlist", err)
	}
	return pairs, nil
}

func (s *Store) watchlist(ctx context.Context, ex execer, chatID int64) ([]string, error) {
	return queryStrings(ctx, ex, "SELECT pair FROM watchlist WHERE chat_id = $1 ORDER BY position, pair", chatID)
}

// WatchedPairs returns every pair some chat watches, once each, sorted.
func (s *Store) WatchedPairs(ctx context.Context) (pairs []string, err error) {
	defer s.m.observe(opWatchlist, time.Now(), &err)
	pairs, err = queryStrings(ctx, s.r, "SELECT DISTINCT pair FROM watchlist ORDER BY pair")
	if err != nil {
		return nil, s.wrap("watched pairs", err)
	}
	return pairs, nil
}

func queryStrings(ctx context.Context, ex execer, q string, args ...any) ([]string, error) {
	return queryAll(ctx, ex, q, args, func(rows *sql.Rows, v *string) error { return rows.Scan(v) })
}

// DigestRow is a chat's daily digest schedule: at Hour:Minute in Zone (an
// IANA name), last sent at LastSent (zero: never).
type DigestRow struct {
	ChatID       int64
	Hour, Minute int
	Zone         string
	LastSent     time.Time
}

// SetDigest creates or replaces the chat's schedule; LastSent is kept when
// d.LastSent is zero, so changing the time does not resend today's digest.
func (s *Store) SetDigest(ctx context.Context, d DigestRow) (err error) {
	defer s.m.observe(opDigests, time.Now(), &err)
	err = s.write(ctx, false, false, func(ex execer) error {
		_, err := ex.ExecContext(ctx, `INSERT INTO digests (chat_id, hour, minute, zone, last_sent, paused)
			VALUES ($1, $2, $3, $4, $5, COALESCE((SELECT blocked FROM chats WHERE chat_id = $1), FALSE))
			ON CONFLICT (chat_id) DO UPDATE SET hour = excluded.hour, minute = excluded.minute, zone = excluded.zone,
			last_sent = COALESCE(excluded.last_sent, digests.last_sent)`,
			d.ChatID, d.Hour, d.Minute, d.Zone, s.nullTime(d.LastSent))
		return err
	})
	if err != nil {
		return s.wrap("set digest", err)
	}
	return nil
}

// DeleteDigest turns the chat's digest off.
func (s *Store) DeleteDigest(ctx context.Context, chatID int64) (err error) {
	defer s.m.observe(opDigests, time.Now(), &err)
	err = s.write(ctx, false, false, func(ex execer) error {
		_, err := ex.ExecContext(ctx, "DELETE FROM digests WHERE chat_id = $1", chatID)
		return err
	})
	if err != nil {
		return s.wrap("delete digest", err)
	}
	return nil
}

// Digests returns the schedules to run, in chat order: those of chats that
// blocked the bot are paused and left out.
func (s *Store) Digests(ctx context.Context) (ds []DigestRow, err error) {
	defer s.m.observe(opDigests, time.Now(), &err)
	ds, err = queryAll(ctx, s.r, "SELECT chat_id, hour, minute, zone, last_sent FROM digests WHERE NOT paused ORDER BY chat_id", nil,
		func(rows *sql.Rows, d *DigestRow) error {
			return rows.Scan(&d.ChatID, &d.Hour, &d.Minute, &d.Zone, timeScanner{&d.LastSent})
		})
	if err != nil {
		return nil, s.wrap("digests", err)
	}
	return ds, nil
}

// MarkDigestSent records that the chat's digest went out at at.
func (s *Store) MarkDigestSent(ctx context.Context, chatID int64, at time.Time) (err error) {
	defer s.m.observe(opDigests, time.Now(), &err)
	err = s.write(ctx, false, false, func(ex execer) error {
		_, err := ex.ExecContext(ctx, "UPDATE digests SET last_sent = $2 WHERE chat_id = $1", chatID, s.d.time(at))
		return err
	})
	if err != nil {
		return s.wrap("mark digest sent", err)
	}
	return nil
}
