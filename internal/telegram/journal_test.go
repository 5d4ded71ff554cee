package telegram

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

var errJournalDown = errors.New("journal down")

// fakeJournal is an in-memory Journal that records outcomes and fails the
// next calls on demand.
type fakeJournal struct {
	mu       sync.Mutex
	entries  map[int64]store.Update
	outcomes map[int64]store.Outcome
	order    []int64
	appends  int // successful Append calls

	failAppend, failSettle, failUnanswered int // fail the next n calls
	appended                               chan struct{}
}

func newFakeJournal() *fakeJournal {
	return &fakeJournal{entries: map[int64]store.Update{}, outcomes: map[int64]store.Outcome{}, appended: make(chan struct{}, 1024)}
}

// seed journals us as a previous run left them: unanswered.
func (j *fakeJournal) seed(us ...store.Update) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, u := range us {
		j.entries[u.ID] = u
		j.order = append(j.order, u.ID)
	}
}

func (j *fakeJournal) setFail(appends, settles, unanswered int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failAppend, j.failSettle, j.failUnanswered = appends, settles, unanswered
}

func take(n *int) bool {
	if *n > 0 {
		*n--
		return true
	}
	return false
}

func (j *fakeJournal) Append(_ context.Context, us []store.Update) ([]bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if take(&j.failAppend) {
		return nil, errJournalDown
	}
	fresh := make([]bool, len(us))
	for i, u := range us {
		if _, ok := j.entries[u.ID]; !ok {
			j.entries[u.ID] = u
			j.order = append(j.order, u.ID)
			fresh[i] = true
		}
	}
	j.appends++
	j.appended <- struct{}{}
	return fresh, nil
}

func (j *fakeJournal) Settle(_ context.Context, o store.Outcome, ids ...int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if take(&j.failSettle) {
		return errJournalDown
	}
	for _, id := range ids {
		if _, ok := j.entries[id]; ok {
			j.outcomes[id] = o
		}
	}
	return nil
}

func (j *fakeJournal) Unanswered(_ context.Context, limit int) ([]store.Update, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if take(&j.failUnanswered) {
		return nil, errJournalDown
	}
	var us []store.Update
	for _, id := range j.order {
		if _, settled := j.outcomes[id]; !settled && len(us) < limit {
			us = append(us, j.entries[id])
		}
	}
	slices.SortStableFunc(us, func(a, b store.Update) int { return a.Received.Compare(b.Received) })
	return us, nil
}

func (j *fakeJournal) outcome(id int64) store.Outcome {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.outcomes[id]
}

// body returns the journaled body of id, nil if it was never journaled.
func (j *fakeJournal) body(id int64) []byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.entries[id].Body
}

func (j *fakeJournal) unsettled() []int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	var ids []int64
	for _, id := range j.order {
		if _, ok := j.outcomes[id]; !ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// journaled builds the entry a previous run left for u, received at.
func journaled(u Update, at time.Time) store.Update {
	var chat int64
	if u.Message != nil {
		chat = u.Message.Chat.ID
	}
	return store.Update{ID: u.UpdateID, ChatID: chat, Body: u.body(), Received: at}
}
