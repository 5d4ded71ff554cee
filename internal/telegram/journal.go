package telegram

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// Journal is the durable record of accepted updates (internal/store
// implements it). Intake appends and commits an update before Telegram is
// told it arrived; workers settle it once it is answered; Start queues again
// what a previous run left unanswered.
type Journal interface {
	// Append journals us in one transaction, committed on return;
	// fresh[i] is false for an update_id already journaled.
	Append(ctx context.Context, us []store.Update) (fresh []bool, err error)
	// Settle records outcome o for ids. It may return once the write is
	// queued (SQLite commits it within milliseconds and logs and counts a
	// failure itself): a crash before then only answers the update again.
	Settle(ctx context.Context, o store.Outcome, ids ...int64) error
	// Unanswered returns up to limit unsettled entries, oldest first.
	Unanswered(ctx context.Context, limit int) ([]store.Update, error)
}

// botBinder is a journal that knows which bot's update ids it holds (the
// store): update ids are per bot, so another bot's rows must go.
type botBinder interface {
	BindBot(ctx context.Context, botID int64) (dropped int, err error)
}

// bindBot tells the journal which bot this is, before replay. A failure is
// logged and Start goes on: it matters only after a token switch.
func (b *Bot) bindBot(ctx context.Context, id int64) {
	bb, ok := b.journal.(botBinder)
	if !ok {
		return
	}
	dropped, err := bb.BindBot(ctx, id)
	switch {
	case err != nil:
		b.log.WarnContext(ctx, "telegram journal not bound to this bot", "bot_id", id, "err", err)
	case dropped > 0:
		b.log.WarnContext(ctx, "telegram journal belonged to another bot; its unanswered updates were dropped",
			"bot_id", id, "dropped", dropped)
	}
}

// journalPinger is a journal that can tell it is reachable (the store).
type journalPinger interface {
	Ping(ctx context.Context) error
}

// recheckJournal clears a journal failure once the journal answers a ping,
// so readiness recovers without an update to prove it: a replica that a
// load balancer took out of rotation for the failure would otherwise never
// get the append that clears it, and stay out for good.
func (b *Bot) recheckJournal() {
	if b.journalErr.Load() == nil {
		return
	}
	p, ok := b.journal.(journalPinger)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if p.Ping(ctx) == nil {
		b.journalErr.Store(nil)
	}
}

// decodeBody decodes a journaled or delivered update body. An update
// without update_id is malformed.
func decodeBody(body []byte) (Update, error) {
	var wire struct {
		UpdateID *int64 `json:"update_id"` // shallower: shadows Update's, to tell a missing one
		Update
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return Update{}, err
	}
	if wire.UpdateID == nil {
		return Update{}, errors.New("no update_id")
	}
	u := wire.Update
	u.UpdateID, u.Raw = *wire.UpdateID, body
	return u, nil
}

// body is the update as journaled: as received when we have it.
func (u Update) body() []byte {
	if len(u.Raw) > 0 {
		return u.Raw
	}
	b, _ := json.Marshal(u) // plain structs of strings and numbers cannot fail
	return b
}

// memoryJournal is a Journal that keeps entries in memory only: it
// deduplicates redeliveries but survives no restart. It remembers the last
// size settled entries besides every unsettled one (at most the queue).
type memoryJournal struct {
	mu      sync.Mutex
	size    int
	open    map[int64]store.Update
	settled map[int64]struct{}
	order   []int64 // settled ids, oldest first, for eviction
}

// NewMemoryJournal returns a Journal that is not durable, for console mode,
// tests and deployments without a store; size bounds the settled update_ids
// it remembers for deduplication.
func NewMemoryJournal(size int) Journal {
	return &memoryJournal{size: max(size, 1), open: map[int64]store.Update{}, settled: map[int64]struct{}{}}
}

func (j *memoryJournal) Append(_ context.Context, us []store.Update) ([]bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	fresh := make([]bool, len(us))
	for i, u := range us {
		_, isOpen := j.open[u.ID]
		_, isSettled := j.settled[u.ID]
		if !isOpen && !isSettled {
			j.open[u.ID] = u
			fresh[i] = true
		}
	}
	return fresh, nil
}

func (j *memoryJournal) Settle(_ context.Context, _ store.Outcome, ids ...int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range ids {
		if _, ok := j.open[id]; !ok {
			continue
		}
		delete(j.open, id)
		j.settled[id] = struct{}{}
		j.order = append(j.order, id)
	}
	if over := len(j.order) - j.size; over > 0 {
		for _, id := range j.order[:over] {
			delete(j.settled, id)
		}
		j.order = slices.Delete(j.order, 0, over)
	}
	return nil
}

func (j *memoryJournal) Unanswered(_ context.Context, limit int) ([]store.Update, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	us := make([]store.Update, 0, len(j.open))
	for _, u := range j.open {
		us = append(us, u)
	}
	slices.SortFunc(us, func(a, b store.Update) int {
		return cmp.Or(a.Received.Compare(b.Received), cmp.Compare(a.ID, b.ID))
	})
	return us[:min(limit, len(us))], nil
}

var (
	_ botBinder     = (*store.Store)(nil)
	_ journalPinger = (*store.Store)(nil)
)
