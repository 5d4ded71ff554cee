package telegram

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// orphanPool hands each seeded orphan to one claim, oldest first, as the
// store's ClaimOrphans does across replicas.
type orphanPool struct {
	mu     sync.Mutex
	left   []store.Update
	limits []int // the limit of each claim
}

func (p *orphanPool) add(us ...store.Update) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.left = append(p.left, us...)
}

func (p *orphanPool) ClaimOrphans(_ context.Context, limit int) ([]store.Update, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limits = append(p.limits, limit)
	n := min(limit, len(p.left))
	out := slices.Clone(p.left[:n])
	p.left = p.left[n:]
	return out, nil
}

// With replicas, start-up and every Sweep take over orphans only through
// the claimer (never Unanswered, which would include a live peer's), as
// many as the queue has room for, and count them.
func TestSweepTakesOverOrphans(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		j := newFakeJournal()
		// A peer's live entry: Unanswered would return it, the sweeper must not.
		j.seed(journaled(msgUpdate(999, 42, "private", "/price"), now.Add(-time.Second)))
		pool := &orphanPool{}
		var want []int64
		for i := range int64(20) { // more than the queue (16)
			pool.add(journaled(msgUpdate(100+i, 42, "private", "/price"), now.Add(-time.Minute+time.Duration(i)*time.Second)))
			want = append(want, 100+i)
		}
		pool.add(journaled(msgUpdate(1, 42, "private", "/price"), now.Add(-11*time.Minute))) // past max_age
		j.seed(pool.left...)                                                                 // orphans are in the journal too
		var mu sync.Mutex
		reclaimed := 0
		rec := &recorder{}
		cfg := journalConfig(j)
		cfg.Workers = 1
		cfg.Orphans = pool
		cfg.OnReclaim = func(n int) { mu.Lock(); reclaimed += n; mu.Unlock() }
		b, _ := newBot(t, cfg, newFakeAPI(), rec)
		synctest.Wait()
		if got := handledIDs(rec); !slices.Equal(got, want) {
			t.Fatalf("handled %v, want %v", got, want)
		}
		if j.outcome(1) != store.Expired || j.outcome(999) != "" {
			t.Errorf("outcomes: 1 %q (want expired), the peer's 999 %q (want none)", j.outcome(1), j.outcome(999))
		}
		for _, l := range pool.limits {
			if l > cfg.QueueSize {
				t.Errorf("claimed %d at once, more than the queue holds", l)
			}
		}

		pool.add(journaled(msgUpdate(500, 43, "private", "/price"), now))
		b.Sweep()
		synctest.Wait()
		if got := handledIDs(rec); len(got) != len(want)+1 || got[len(got)-1] != 500 {
			t.Fatalf("after Sweep handled %v, want 500 last", got)
		}
		mu.Lock()
		defer mu.Unlock()
		if reclaimed != 22 {
			t.Errorf("OnReclaim told %d, want 22", reclaimed)
		}
		if v := testutil.ToFloat64(b.tm.replayed); v != 21 {
			t.Errorf("replayed %v, want 21", v)
		}
	})
}

// A standby in polling mode is ready without a poller.
func TestStandbyReadyWithoutPoller(t *testing.T) {
	cfg := testConfig()
	cfg.Mode = ModePolling
	cfg.WebhookSecret = ""
	b, _ := newBot(t, cfg, newFakeAPI(), &recorder{})
	if err := b.Ready(); err == nil {
		t.Fatal("ready without a poller")
	}
	b.SetStandby(true)
	if err := b.Ready(); err != nil {
		t.Fatalf("standby not ready: %v", err)
	}
}

// The share scales the global limit and burst and the chats' rates,
// live limiters included; a chat's burst stays.
func TestLimitShare(t *testing.T) {
	cfg := testConfig()
	cfg.Rate = Rate{Global: 30, GlobalBurst: 30, PerChat: 1, PerChatBurst: 3, PerGroup: 1.0 / 3, PerGroupBurst: 3}
	b, _ := newBot(t, cfg, newFakeAPI(), &recorder{})
	private, group := b.out.chats.get(1, false), b.out.chats.get(-1, true)
	b.SetLimitShare(1.0 / 3)
	if l, burst := b.out.global.Limit(), b.out.global.Burst(); l != 10 || burst != 10 {
		t.Errorf("global %v burst %d, want 10 and 10", l, burst)
	}
	if private.Limit() != rate.Limit(1.0/3) || group.Limit() != rate.Limit(1.0/9) || private.Burst() != 3 {
		t.Errorf("live chat limiters %v %v burst %d", private.Limit(), group.Limit(), private.Burst())
	}
	if l := b.out.chats.get(2, false).Limit(); l != rate.Limit(1.0/3) {
		t.Errorf("new chat limiter %v, want 1/3", l)
	}
	if v := testutil.ToFloat64(b.tm.limitShare); v != 1.0/3 {
		t.Errorf("share gauge %v", v)
	}
	b.SetLimitShare(1)
	if b.out.global.Limit() != 30 || private.Limit() != 1 || group.Limit() != rate.Limit(1.0/3) {
		t.Errorf("back to 1: global %v private %v group %v", b.out.global.Limit(), private.Limit(), group.Limit())
	}
}
