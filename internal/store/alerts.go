package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// AlertRow is an alert as the store keeps it. Rule and Status are the
// alerts module's JSON, opaque here; State is the authoritative state (the
// store changes it on its own when a chat blocks the bot).
type AlertRow struct {
	ID, ChatID int64
	Pair       string    // "BTC-USDT" (market.Pair.String())
	Kind       string    // rule.Kind.String()
	State      string    // rule.State.String(): armed, cooling, fired, paused, expired
	Rule       []byte    // JSON of rule.Rule
	Status     []byte    // JSON of rule.Status
	Created    time.Time // zero: now
	Expires    time.Time // zero: never
}

// Alert states the store acts on (rule.State's String forms).
const (
	stateArmed   = "armed"
	stateCooling = "cooling"
	statePaused  = "paused"
)

// ErrLimit is the sentinel of a *LimitError: test with errors.Is.
var ErrLimit = errors.New("store: limit reached")

// LimitError says which limit refused a CreateAlert or Watch.
type LimitError struct {
	Limit string // LimitPerChat, LimitGlobal or LimitWatchlist
	Max   int
}

// The limits a LimitError names.
const (
	LimitPerChat   = "per chat"
	LimitGlobal    = "global"
	LimitWatchlist = "watchlist per chat"
)

func (e *LimitError) Error() string { return fmt.Sprintf("%v: %s (%d)", ErrLimit, e.Limit, e.Max) }
func (e *LimitError) Unwrap() error { return ErrLimit }

// isLive reports whether alerts in state count against the limits.
func isLive(state string) bool {
	return state == stateArmed || state == stateCooling || state == statePaused
}

// CreateAlert stores a (zero State: armed) and returns its id, unless the
// chat already has perChat live alerts (armed, cooling or paused) or all
// chats together global ones; a limit ≤ 0 is no limit. The counts are the
// counters of chats.live_alerts and alert_totals, read and raised in the
// insert's transaction: on Postgres the chat's row is locked by the upsert
// and the totals row by the UPDATE, so concurrent creations (other replicas
// included) count in turn and none slips past a limit.
func (s *Store) CreateAlert(ctx context.Context, a AlertRow, perChat, global int) (id int64, err error) {
	defer s.m.observe(opCreateAlert, time.Now(), &err)
	if a.State == "" {
		a.State = stateArmed
	}
	if a.Created.IsZero() {
		a.Created = time.Now()
	}
	err = s.write(ctx, true, false, func(ex execer) error {
		if err := lockChat(ctx, ex, a.ChatID); err != nil {
			return err
		}
		if isLive(a.State) {
			var chat, all int
			if err := queryRow(ctx, ex, "SELECT live_alerts FROM chats WHERE chat_id = $1", []any{a.ChatID}, &chat); err != nil {
				return err
			}
			if perChat > 0 && chat >= perChat {
				return &LimitError{Limit: LimitPerChat, Max: perChat}
			}
			if err := queryRow(ctx, ex, "UPDATE alert_totals SET live = live + 1 WHERE id = 1 RETURNING live", nil, &all); err != nil {
				return err
			}
			if global > 0 && all > global {
				return &LimitError{Limit: LimitGlobal, Max: global} // the rollback undoes the + 1
			}
			if _, err := ex.ExecContext(ctx, "UPDATE chats SET live_alerts = live_alerts + 1 WHERE chat_id = $1", a.ChatID); err != nil {
				return err
			}
		}
		return queryRow(ctx, ex, `INSERT INTO alerts (chat_id, pair, kind, state, rule, status, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			[]any{a.ChatID, a.Pair, a.Kind, a.State, nonNil(a.Rule), nonNil(a.Status), s.d.time(a.Created), s.nullTime(a.Expires)}, &id)
	})
	if err != nil {
		return 0, s.wrapLimit("create alert", err)
	}
	return id, nil
}

// liveDelta collects the changes to the live-alert counts of a transaction,
// by chat, applied once at its end (chats in id order, then the total).
type liveDelta map[int64]int

func (d liveDelta) apply(ctx context.Context, ex execer) error {
	total := 0
	for _, chat := range slices.Sorted(maps.Keys(d)) {
		if d[chat] == 0 {
			continue
		}
		if _, err := ex.ExecContext(ctx, "UPDATE chats SET live_alerts = live_alerts + $2 WHERE chat_id = $1", chat, d[chat]); err != nil {
			return err
		}
		total += d[chat]
	}
	if total == 0 {
		return nil
	}
	_, err := ex.ExecContext(ctx, "UPDATE alert_totals SET live = live + $1 WHERE id = 1", total)
	return err
}

const alertColumns = "id, chat_id, pair, kind, state, rule, status, created_at, expires_at"

// Alerts returns the chat's alerts in every state, in id order.
func (s *Store) Alerts(ctx context.Context, chatID int64) (as []AlertRow, err error) {
	defer s.m.observe(opAlerts, time.Now(), &err)
	as, err = s.queryAlerts(ctx, "SELECT "+alertColumns+" FROM alerts WHERE chat_id = $1 ORDER BY id", chatID)
	if err != nil {
		return nil, s.wrap("alerts", err)
	}
	return as, nil
}

// LiveAlerts returns the alerts to evaluate (armed or cooling) of every
// chat, in id order: what the evaluator loads at start.
func (s *Store) LiveAlerts(ctx context.Context) (as []AlertRow, err error) {
	defer s.m.observe(opAlerts, time.Now(), &err)
	as, err = s.queryAlerts(ctx, "SELECT "+alertColumns+" FROM alerts WHERE state IN ('armed', 'cooling') ORDER BY id")
	if err != nil {
		return nil, s.wrap("live alerts", err)
	}
	return as, nil
}

// LiveAlertsSince returns the live alerts created at or after since, in id
// order: what another replica added since the evaluator last looked.
func (s *Store) LiveAlertsSince(ctx context.Context, since time.Time) (as []AlertRow, err error) {
	defer s.m.observe(opAlerts, time.Now(), &err)
	as, err = s.queryAlerts(ctx, "SELECT "+alertColumns+" FROM alerts WHERE created_at >= $1 AND state IN ('armed', 'cooling') ORDER BY id",
		s.d.time(since))
	if err != nil {
		return nil, s.wrap("live alerts since", err)
	}
	return as, nil
}

func (s *Store) queryAlerts(ctx context.Context, q string, args ...any) ([]AlertRow, error) {
	return queryAll(ctx, s.r, q, args, func(rows *sql.Rows, a *AlertRow) error {
		return rows.Scan(&a.ID, &a.ChatID, &a.Pair, &a.Kind, &a.State, &a.Rule, &a.Status,
			timeScanner{&a.Created}, timeScanner{&a.Expires})
	})
}

// DeleteAlerts deletes the chat's alerts among ids (all of them when ids
// is empty) and returns how many it deleted; another chat's ids are ignored.
func (s *Store) DeleteAlerts(ctx context.Context, chatID int64, ids ...int64) (deleted int, err error) {
	defer s.m.observe(opDeleteAlerts, time.Now(), &err)
	err = s.write(ctx, true, false, func(ex execer) error {
		deleted = 0
		live := 0
		del := func(q string, args ...any) error {
			states, err := queryAll(ctx, ex, q+" RETURNING state", args, func(rows *sql.Rows, st *string) error { return rows.Scan(st) })
			for _, st := range states {
				if isLive(st) {
					live++
				}
			}
			deleted += len(states)
			return err
		}
		if len(ids) == 0 {
			if err := del("DELETE FROM alerts WHERE chat_id = $1", chatID); err != nil {
				return err
			}
		}
		for chunk := range slices.Chunk(ids, batchRows) {
			args := append([]any{chatID}, int64Args(chunk)...)
			if err := del("DELETE FROM alerts WHERE chat_id = $1 AND id IN ("+placeholders(2, len(chunk))+")", args...); err != nil {
				return err
			}
		}
		return liveDelta{chatID: -live}.apply(ctx, ex)
	})
	if err != nil {
		return deleted, s.wrap("delete alerts", err)
	}
	return deleted, nil
}

// AlertUpdate is a state and status change the evaluator decided (re-armed,
// retreated, expired, paused); a nil Status keeps the stored one.
type AlertUpdate struct {
	ID     int64
	State  string
	Status []byte
}

// UpdateAlerts applies us in one transaction (the last of one id's wins). Fired and expired alerts are
// final and keep their state, and an alert paused because its chat blocked
// the bot stays paused unless the update ends it (fired, expired): an
// evaluator that has not seen the block yet must not revive it. Unknown ids
// are ignored.
func (s *Store) UpdateAlerts(ctx context.Context, us []AlertUpdate) (err error) {
	if len(us) == 0 {
		return nil
	}
	defer s.m.observe(opUpdateAlerts, time.Now(), &err)
	err = s.write(ctx, true, false, func(ex execer) error {
		// Every row the WHERE lets through was live: only an update to a
		// final state changes the counts. In id order, like Fire's locks.
		d := liveDelta{}
		for _, u := range slices.SortedStableFunc(slices.Values(us), func(a, b AlertUpdate) int { return cmp.Compare(a.ID, b.ID) }) {
			var chat int64
			err := queryRow(ctx, ex, `UPDATE alerts SET state = $2, status = COALESCE($3, status),
				block_paused = CASE WHEN $2 = 'paused' THEN block_paused ELSE FALSE END
				WHERE id = $1 AND state NOT IN ('fired', 'expired')
				AND NOT (block_paused AND $2 IN ('armed', 'cooling', 'paused')) RETURNING chat_id`,
				[]any{u.ID, u.State, orNull(u.Status)}, &chat)
			if errors.Is(err, errNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if !isLive(u.State) {
				d[chat]--
			}
		}
		return d.apply(ctx, ex)
	})
	if err != nil {
		return s.wrap("update alerts", err)
	}
	return nil
}

// Firing is one alert crossing the evaluator decided: the alert's new state
// and the message that tells the chat, committed together by Fire.
type Firing struct {
	AlertID int64
	Trigger string     // unique per crossing, e.g. "<alert id>:<unix ms of the observation>"
	State   string     // the state after firing: fired, or cooling for a repeating alert
	Status  []byte     // nil keeps the stored one
	Message OutMessage // ChatID is taken from the alert row (it follows MigrateChat)
}

// Fire commits fs in one transaction. A firing takes effect only if its
// trigger is new and its alert is still armed: then the alert gets the new
// state and status and the message goes into the outbox, and fired[i] is
// true. Otherwise nothing of it is written (the crossing was fired before,
// by this process before a restart or by another evaluator; or the alert was
// deleted, paused or already fired). A cooling alert must be re-armed with
// UpdateAlerts before it can fire again, so of two evaluators firing one
// alert for different observations only the first succeeds.
//
// On Postgres the UPDATE … WHERE state = 'armed' takes the alert row's lock:
// a concurrent Fire waits for it and then finds the alert no longer armed.
// Firings are applied in alert id order so two batches lock in one order.
func (s *Store) Fire(ctx context.Context, fs []Firing) (fired []bool, err error) {
	if len(fs) == 0 {
		return nil, nil
	}
	defer s.m.observe(opFire, time.Now(), &err)
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(fs[a].AlertID, fs[b].AlertID) })
	fired = make([]bool, len(fs))
	now := time.Now()
	err = s.write(ctx, true, false, func(ex execer) error {
		clear(fired)
		d := liveDelta{}
		for _, i := range order {
			ok, err := s.fireOne(ctx, ex, fs[i], now, d)
			if err != nil {
				return err
			}
			fired[i] = ok
		}
		return d.apply(ctx, ex)
	})
	if err != nil {
		return nil, s.wrap("fire", err)
	}
	var n int
	for _, f := range fired {
		if f {
			n++
		}
	}
	s.m.fired.Add(float64(n))
	return fired, nil
}

// fireOne claims f's trigger with its outbox row, then moves the alert on;
// if the alert was not armed it withdraws the row (never seen outside the
// transaction). Claiming first means a replayed trigger changes nothing.
func (s *Store) fireOne(ctx context.Context, ex execer, f Firing, now time.Time, d liveDelta) (bool, error) {
	m := f.Message
	if m.Created.IsZero() {
		m.Created = now
	}
	var outID int64
	err := queryRow(ctx, ex, `INSERT INTO outbox (trigger_key, alert_id, chat_id, text, silent, created_at)
		SELECT $1, id, chat_id, $3, $4, $5 FROM alerts WHERE id = $2 AND state = 'armed'
		ON CONFLICT (trigger_key) DO NOTHING RETURNING id`,
		[]any{f.Trigger, f.AlertID, m.Text, m.Silent, s.d.time(m.Created)}, &outID)
	if errors.Is(err, errNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var chat int64
	err = queryRow(ctx, ex, "UPDATE alerts SET state = $2, status = COALESCE($3, status) WHERE id = $1 AND state = 'armed' RETURNING chat_id",
		[]any{f.AlertID, f.State, orNull(f.Status)}, &chat)
	if errors.Is(err, errNoRows) {
		_, err = ex.ExecContext(ctx, "DELETE FROM outbox WHERE id = $1", outID)
		return false, err
	}
	if err != nil {
		return false, err
	}
	if !isLive(f.State) {
		d[chat]--
	}
	return true, nil
}
