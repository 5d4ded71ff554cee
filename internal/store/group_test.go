package store

import (
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestGroupCommitConcurrent: concurrent Appends and Settles share
// transactions, yet each caller learns exactly what its own write did: one of
// two callers journaling the same update_id gets it fresh, and every settle
// is recorded when Settle returns.
func TestGroupCommitConcurrent(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "cryptobot.db"), Options{})
	const n = 200
	fresh := make([][2]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		for k := range 2 {
			wg.Go(func() {
				got, err := s.Append(t.Context(), []Update{upd(int64(i+1), time.Duration(i))})
				if err != nil {
					t.Error(err)
					return
				}
				fresh[i][k] = got[0]
				if got[0] {
					if err := s.Settle(t.Context(), Answered, int64(i+1)); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	for i, f := range fresh {
		if f[0] == f[1] {
			t.Errorf("update %d: fresh %v, want exactly one of two", i+1, f)
		}
	}
	if left := unanswered(t, s, 0); len(left) != 0 {
		t.Errorf("%d unanswered after every Settle returned, want 0", len(left))
	}
}

// TestGroupCommitFailureIsolated: a write that fails in a shared batch
// fails alone; the others commit.
func TestGroupCommitFailureIsolated(t *testing.T) {
	s := open(t, "sqlite::memory:", Options{})
	var batch []*groupReq
	for _, q := range []string{
		"INSERT INTO journal (update_id, chat_id, body, received_at) VALUES (1, 1, x'', 1)",
		"INSERT INTO nosuchtable VALUES (1)",
		"INSERT INTO journal (update_id, chat_id, body, received_at) VALUES (2, 1, x'', 1)",
	} {
		batch = append(batch, &groupReq{done: make(chan error, 1), fn: func(ex execer) error {
			_, err := ex.ExecContext(t.Context(), q)
			return err
		}})
	}
	s.group.commit(batch)
	for i, r := range batch {
		if err := <-r.done; (err != nil) != (i == 1) {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if got := ids(unanswered(t, s, 0)); len(got) != 2 {
		t.Errorf("journaled %v, want [1 2]", got)
	}
}

// TestAppendNeverWaitsForCompany: only a batch nobody waits for (settles)
// holds its commit up to settleWait for company; an Append commits at once
// whatever its durability. In a synctest bubble the clock moves only when
// every goroutine is blocked, so an Append that sat on the timer returns
// settleWait late on the fake clock.
func TestAppendNeverWaitsForCompany(t *testing.T) {
	for _, sync := range []Sync{SyncNormal, SyncFull} {
		t.Run(string(sync), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "cryptobot.db"), Options{JournalSync: sync})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				for i := range int64(3) {
					start := time.Now()
					mustAppend(t, s, upd(i+1, 0))
					if waited := time.Since(start); waited != 0 {
						t.Errorf("Append %d returned after %s on the bubble's clock, want at once", i+1, waited)
					}
					if err := s.Settle(t.Context(), Answered, i+1); err != nil {
						t.Fatal(err)
					}
				}
			})
		})
	}
}
