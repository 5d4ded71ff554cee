package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"time"
)

// OutMessage is a message in the outbox.
type OutMessage struct {
	ID       int64
	ChatID   int64
	Text     string // HTML
	Silent   bool   // disable_notification
	Created  time.Time
	Attempts int // failed sends so far
}

// Outbox retry policy: a message is given up after MaxAttempts failed sends;
// a drainer's claim on the messages PendingOutbox returned lasts
// OutboxLease, after which another drainer (replica) may take them.
const (
	MaxAttempts = 10
	OutboxLease = time.Minute
)

// Enqueue puts a message that no alert decided (a digest) into the outbox,
// unless trigger was enqueued before (e.g. "digest:<chat>:<yyyy-mm-dd>"); it
// reports whether it did. m.ID and m.Attempts are ignored.
func (s *Store) Enqueue(ctx context.Context, m OutMessage, trigger string) (added bool, err error) {
	defer s.m.observe(opEnqueue, time.Now(), &err)
	if m.Created.IsZero() {
		m.Created = time.Now()
	}
	var n int
	err = s.write(ctx, false, false, func(ex execer) error {
		return execCount(ctx, ex, &n, `INSERT INTO outbox (trigger_key, chat_id, text, silent, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trigger_key) DO NOTHING`,
			trigger, m.ChatID, m.Text, m.Silent, s.d.time(m.Created))
	})
	if err != nil {
		return false, s.wrap("enqueue", err)
	}
	return n == 1, nil
}

// pendingOutbox is the condition of a message still to send.
func pendingOutbox() string {
	return "sent_at IS NULL AND failed_at IS NULL AND attempts < " + strconv.Itoa(MaxAttempts)
}

// PendingOutbox claims up to limit (≤ 0: 100) messages to send, oldest
// first, for OutboxLease: messages sent, failed for good, tried MaxAttempts
// times or claimed by another drainer are skipped. On Postgres the claim
// selects FOR UPDATE SKIP LOCKED, so concurrent drainers never take one
// message twice; the caller reports each with MarkSent or MarkOutboxFailed.
func (s *Store) PendingOutbox(ctx context.Context, limit int) (ms []OutMessage, err error) {
	defer s.m.observe(opPendingOutbox, time.Now(), &err)
	if limit <= 0 {
		limit = 100
	}
	now := time.Now()
	// Relaxed: a claim lost to a power cut only lets the message go out
	// sooner, and the send is what Telegram sees, not the claim.
	err = s.write(ctx, false, true, func(ex execer) error {
		var err error
		ms, err = queryAll(ctx, ex, `UPDATE outbox SET claimed_until = $1 WHERE id IN (
			SELECT id FROM outbox WHERE `+pendingOutbox()+` AND (claimed_until IS NULL OR claimed_until <= $2)
			ORDER BY created_at, id LIMIT $3`+s.d.forUpdate+`)
			RETURNING id, chat_id, text, silent, created_at, attempts`,
			[]any{s.d.time(now.Add(OutboxLease)), s.d.time(now), limit},
			func(rows *sql.Rows, m *OutMessage) error {
				return rows.Scan(&m.ID, &m.ChatID, &m.Text, &m.Silent, timeScanner{&m.Created}, &m.Attempts)
			})
		return err
	})
	if err != nil {
		return nil, s.wrap("pending outbox", err)
	}
	// RETURNING keeps no order.
	slices.SortFunc(ms, func(a, b OutMessage) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return ms, nil
}

// MarkSent records that the messages were accepted by Telegram.
func (s *Store) MarkSent(ctx context.Context, ids ...int64) (err error) {
	if len(ids) == 0 {
		return nil
	}
	defer s.m.observe(opMarkOutbox, time.Now(), &err)
	now := s.d.time(time.Now())
	err = s.write(ctx, len(ids) > batchRows, true, func(ex execer) error {
		for chunk := range slices.Chunk(ids, batchRows) {
			args := append([]any{now}, int64Args(chunk)...)
			if _, err := ex.ExecContext(ctx, "UPDATE outbox SET sent_at = $1, claimed_until = NULL WHERE sent_at IS NULL AND id IN ("+
				placeholders(2, len(chunk))+")", args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap("mark sent", err)
	}
	return nil
}

// MarkOutboxFailed records a failed send: permanent (the chat blocked the
// bot, the message is refused) is never retried; otherwise Attempts grows
// and the claim is released, so the next PendingOutbox retries it.
func (s *Store) MarkOutboxFailed(ctx context.Context, id int64, permanent bool) (err error) {
	defer s.m.observe(opMarkOutbox, time.Now(), &err)
	q := "UPDATE outbox SET attempts = attempts + 1, claimed_until = NULL WHERE id = $1 AND sent_at IS NULL"
	args := []any{id}
	if permanent {
		q = "UPDATE outbox SET attempts = attempts + 1, failed_at = $2, claimed_until = NULL WHERE id = $1 AND sent_at IS NULL"
		args = append(args, s.d.time(time.Now()))
	}
	err = s.write(ctx, false, false, func(ex execer) error {
		_, err := ex.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return s.wrap("mark outbox failed", err)
	}
	return nil
}

// PruneOutbox deletes messages done before before (sent, failed for good,
// or given up after MaxAttempts and created before it), batch rows per
// transaction, and returns how many. A pruned trigger can be enqueued
// again, so keep at least a day: triggers are replayed within seconds
// (restarts, a second evaluator), digest triggers name their day.
func (s *Store) PruneOutbox(ctx context.Context, before time.Time, batch int) (deleted int, err error) {
	return s.pruneBatches(ctx, "prune outbox", `DELETE FROM outbox WHERE id IN (
		SELECT id FROM outbox WHERE sent_at < $1 OR failed_at < $1 OR (attempts >= `+strconv.Itoa(MaxAttempts)+` AND created_at < $1) LIMIT $2)`,
		before, batch)
}

// OutboxStats returns the number of messages waiting to be sent and when
// the oldest was created (zero when none).
func (s *Store) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	defer s.m.observe(opOutboxStats, time.Now(), &err)
	err = s.r.QueryRowContext(ctx, "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE "+pendingOutbox()).
		Scan(&depth, timeScanner{&oldest})
	if err != nil {
		return 0, time.Time{}, s.wrap("outbox stats", err)
	}
	return depth, oldest, nil
}

// errNoRows is what queryRow returns when the query yields no row.
var errNoRows = errors.New("store: no rows")

// queryRow scans the first row of q into dest, on a *sql.Tx or a *sql.Conn.
func queryRow(ctx context.Context, ex execer, q string, args []any, dest ...any) error {
	rows, err := ex.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return errNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// queryAll runs q and scans each row into a T with scan.
func queryAll[T any](ctx context.Context, ex execer, q string, args []any, scan func(*sql.Rows, *T) error) ([]T, error) {
	rows, err := ex.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// execCount runs q and adds the rows it affected to n.
func execCount(ctx context.Context, ex execer, n *int, q string, args ...any) error {
	res, err := ex.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	k, err := res.RowsAffected()
	*n += int(k)
	return err
}

func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

// nonNil stores a nil byte slice as empty: the columns are NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// orNull binds a nil byte slice as NULL (for COALESCE with the stored value).
func orNull(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// nullTime stores the zero time as NULL.
func (s *Store) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.d.time(t)
}

// wrapLimit returns a *LimitError as it is (a refusal, not a store
// failure) and wraps any other error.
func (s *Store) wrapLimit(op string, err error) error {
	if errors.Is(err, ErrLimit) {
		return err
	}
	return s.wrap(op, err)
}
