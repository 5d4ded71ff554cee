package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Update is one Telegram update as the journal keeps it.
type Update struct {
	ID       int64     // Telegram update_id (the journal's primary key)
	ChatID   int64     // 0 when the update has no chat
	Body     []byte    // the raw update JSON as received
	Received time.Time // when intake accepted it
}

// Outcome is the settled state of a journal entry.
type Outcome string

// Outcomes of a journal entry; an entry without one is unanswered.
const (
	Answered Outcome = "answered" // reply accepted by Telegram, or nothing to send
	Failed   Outcome = "failed"   // failed for good (400/403, or gave up)
	Expired  Outcome = "expired"  // older than journal.max_age at replay: not answered
	Skipped  Outcome = "skipped"  // body no longer decodes
)

// Outcomes lists every Outcome, the values of the settled metric's label.
func Outcomes() []string {
	return []string{string(Answered), string(Failed), string(Expired), string(Skipped)}
}

// batchRows bounds the rows of one statement: SQLite allows 32766 bound
// parameters, and Append binds four per update.
const batchRows = 500

// Append journals us and commits before it returns, all or nothing.
// fresh[i] is false when us[i].ID was already journaled (a redelivery, or a
// repeat within us): the caller must not handle it again.
func (s *Store) Append(ctx context.Context, us []Update) (fresh []bool, err error) {
	if len(us) == 0 {
		return nil, nil
	}
	defer s.m.observe(opAppend, time.Now(), &err)
	inserted := make(map[int64]bool, len(us))
	err = s.grouped(ctx, len(us) > batchRows, s.relaxAppend, func(ex execer) error {
		clear(inserted) // a retry starts afresh
		for chunk := range slices.Chunk(us, batchRows) {
			if err := s.appendChunk(ctx, ex, chunk, inserted); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap("append", err)
	}
	fresh = make([]bool, len(us))
	var dups int
	for i, u := range us {
		// The first occurrence of an inserted id is the fresh one.
		fresh[i] = inserted[u.ID]
		delete(inserted, u.ID)
		if !fresh[i] {
			dups++
		}
	}
	s.m.appended.WithLabelValues("fresh").Add(float64(len(us) - dups))
	s.m.appended.WithLabelValues("duplicate").Add(float64(dups))
	return fresh, nil
}

// appendChunk inserts us in one statement; RETURNING yields only the rows
// actually inserted (both SQLite ≥ 3.35 and Postgres), marked in inserted.
func (s *Store) appendChunk(ctx context.Context, ex execer, us []Update, inserted map[int64]bool) error {
	var q strings.Builder
	args := make([]any, 0, 4*len(us)+2)
	claim := "" // with replicas, each row is claimed for this one: ", $1, <until>"
	if c := s.claimer(); c != nil {
		args = append(args, c.by)
		claim = ", $1, " + s.nowPlus(&args, c.lease)
		q.WriteString("INSERT INTO journal (update_id, chat_id, body, received_at, claimed_by, claimed_until) VALUES ")
	} else {
		q.WriteString("INSERT INTO journal (update_id, chat_id, body, received_at) VALUES ")
	}
	for i, u := range us {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(" + placeholders(len(args)+1, 4) + claim + ")")
		received := u.Received
		if received.IsZero() {
			received = time.Now()
		}
		body := u.Body
		if body == nil {
			body = []byte{}
		}
		args = append(args, u.ID, u.ChatID, body, s.d.time(received))
	}
	q.WriteString(" ON CONFLICT (update_id) DO NOTHING RETURNING update_id")
	rows, err := ex.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		inserted[id] = true
	}
	return rows.Err()
}

// Settle records outcome o for the unanswered entries among ids; entries
// already settled keep their first outcome, unknown ids are ignored. On
// SQLite it returns once the write is queued, and the group committer
// commits it within milliseconds (group.go: a crash before then answers
// the update again, counted as a replay); a failure is then logged and
// counted in the store's errors. The next Unanswered or JournalStats sees it.
func (s *Store) Settle(ctx context.Context, o Outcome, ids ...int64) error {
	if !slices.Contains(Outcomes(), string(o)) {
		return fmt.Errorf("store: settle: unknown outcome %q", o)
	}
	if len(ids) == 0 {
		return nil
	}
	ids = slices.Clone(ids) // written after Settle returns
	start := time.Now()
	var settled int64
	return s.deferred(ctx, len(ids) > batchRows, true, func(ex execer) error {
		settled = 0 // a retry starts afresh
		for chunk := range slices.Chunk(ids, batchRows) {
			args := []any{string(o), s.d.time(time.Now())}
			for _, id := range chunk {
				args = append(args, id)
			}
			res, err := ex.ExecContext(ctx, "UPDATE journal SET outcome = $1, settled_at = $2 WHERE outcome IS NULL AND update_id IN ("+
				placeholders(3, len(chunk))+")", args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			settled += n
		}
		return nil
	}, func(err error) error {
		defer s.m.observe(opSettle, start, &err)
		if err != nil {
			err = s.wrap("settle", err)
			if s.group != nil { // nobody else hears of it
				s.log.Error("journal settle failed; the updates may be answered again after a restart",
					"outcome", string(o), "count", len(ids), "err", err)
			}
			return err
		}
		s.m.settled.WithLabelValues(string(o)).Add(float64(settled))
		return nil
	})
}

// Unanswered returns up to limit unanswered entries (all when limit ≤ 0),
// oldest received first, ties in update_id order.
func (s *Store) Unanswered(ctx context.Context, limit int) (us []Update, err error) {
	defer s.m.observe(opUnanswered, time.Now(), &err)
	if err := s.flush(ctx); err != nil { // settles queued before
		return nil, s.wrap("unanswered", err)
	}
	q := "SELECT update_id, chat_id, body, received_at FROM journal WHERE outcome IS NULL ORDER BY received_at, update_id"
	var args []any
	if limit > 0 {
		q += " LIMIT $1"
		args = append(args, limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap("unanswered", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u Update
		if err := rows.Scan(&u.ID, &u.ChatID, &u.Body, timeScanner{&u.Received}); err != nil {
			return nil, s.wrap("unanswered", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("unanswered", err)
	}
	return us, nil
}

// Prune deletes entries settled before before, batch rows per transaction
// so the writer is never held for long, and returns how many it deleted.
func (s *Store) Prune(ctx context.Context, before time.Time, batch int) (deleted int, err error) {
	return s.pruneBatches(ctx, "prune", `DELETE FROM journal WHERE update_id IN (
		SELECT update_id FROM journal WHERE outcome IS NOT NULL AND settled_at < $1 LIMIT $2)`, before, batch)
}

// pruneBatches runs the DELETE q ($1 the cut-off, $2 the batch) until it
// deletes fewer than batch rows.
func (s *Store) pruneBatches(ctx context.Context, op, q string, before time.Time, batch int) (deleted int, err error) {
	if batch <= 0 {
		return 0, fmt.Errorf("store: %s: batch %d, want > 0", op, batch)
	}
	defer s.m.observe(opPrune, time.Now(), &err)
	if err := s.flush(ctx); err != nil { // settles queued before
		return 0, s.wrap(op, err)
	}
	for {
		var n int
		err := s.write(ctx, false, true, func(ex execer) error {
			return execCount(ctx, ex, &n, q, s.d.time(before), batch)
		})
		if err != nil {
			return deleted, s.wrap(op, err)
		}
		deleted += n
		if n < batch {
			return deleted, nil
		}
		if err := ctx.Err(); err != nil {
			return deleted, s.wrap(op, err)
		}
	}
}

// JournalStats returns the number of unanswered entries and the time the
// oldest was received (zero when there are none).
func (s *Store) JournalStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	defer s.m.observe(opStats, time.Now(), &err)
	if err := s.flush(ctx); err != nil { // settles queued before
		return 0, time.Time{}, s.wrap("journal stats", err)
	}
	err = s.r.QueryRowContext(ctx, "SELECT COUNT(*), MIN(received_at) FROM journal WHERE outcome IS NULL").
		Scan(&depth, timeScanner{&oldest})
	if err != nil {
		return 0, time.Time{}, s.wrap("journal stats", err)
	}
	return depth, oldest, nil
}

// execer is what journal statements need from a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// write runs fn on the writer connection, inside a transaction when tx is
// set (a single statement is atomic already, and skipping BEGIN/COMMIT saves
// two round trips per intake on Postgres). The writer rests at the level of
// the journal's Appends, and a write at the other level switches it for its
// own transaction and back. relaxed runs it at the dialect's
// lighter durability: SQLite's synchronous=NORMAL skips the WAL sync, so a
// power loss may forget such a write (a settle: the update is answered twice;
// an Append unless Options.JournalSync is SyncFull), but a crash of the
// process never does. A FULL commit syncs the earlier writes too.
func (s *Store) write(ctx context.Context, tx, relaxed bool, fn func(execer) error) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if relaxed != s.relaxAppend && s.d.relax != "" {
		set, back := s.d.strict, s.d.relax
		if relaxed {
			set, back = back, set
		}
		if _, err := conn.ExecContext(ctx, set); err != nil {
			return err
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), back); err != nil {
				// Never hand the next write a connection at the wrong level.
				conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	if !tx {
		return fn(conn)
	}
	t, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := fn(t); err != nil {
		return err
	}
	return t.Commit()
}

// placeholders returns "$first, $first+1, …", n parameters long.
func placeholders(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i))
	}
	return b.String()
}

// timeScanner reads a time column: unix microseconds on SQLite, timestamptz
// on Postgres; NULL leaves the zero time.
type timeScanner struct{ t *time.Time }

func (ts timeScanner) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*ts.t = time.Time{}
	case int64:
		*ts.t = time.UnixMicro(x)
	case time.Time:
		*ts.t = x
	default:
		return fmt.Errorf("store: time column holds %T", v)
	}
	return nil
}
