package telegram

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func pollConfig() Config {
	cfg := testConfig()
	cfg.Mode = ModePolling
	cfg.WebhookSecret = ""
	return cfg
}

// script answers successive getUpdates calls; past its end, calls block
// until ctx ends, like a long poll with nothing new.
type script struct {
	mu       sync.Mutex
	steps    []func(offset int64) ([]Update, error)
	times    []time.Time
	timeouts []time.Duration
}

func (s *script) getUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]Update, error) {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	s.timeouts = append(s.timeouts, timeout)
	if timeout == 0 { // the final confirming call
		s.mu.Unlock()
		return nil, nil
	}
	if len(s.steps) == 0 {
		s.mu.Unlock()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	step := s.steps[0]
	s.steps = s.steps[1:]
	s.mu.Unlock()
	return step(offset)
}

func updates(ids ...int64) func(int64) ([]Update, error) {
	return func(int64) ([]Update, error) {
		var us []Update
		for _, id := range ids {
			us = append(us, msgUpdate(id, 42, "private", "/start"))
		}
		return us, nil
	}
}

func fail(err error) func(int64) ([]Update, error) {
	return func(int64) ([]Update, error) { return nil, err }
}

// runPoll starts Poll and returns a function that stops it and fails the
// test if Poll returned an error.
func runPoll(ctx context.Context, t testing.TB, b *Bot) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- b.Poll(ctx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-errc; err != nil {
			t.Fatalf("Poll: %v", err)
		}
	}
}

func TestPollOffsets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		s := &script{steps: []func(int64) ([]Update, error){updates(10, 11), updates(12)}}
		api.getUpdates = s.getUpdates
		rec := &recorder{}
		b, m := newBot(t, pollConfig(), api, rec)
		stop := runPoll(t.Context(), t, b)
		synctest.Wait()
		stop()

		calls := api.callList()
		if i, j := slices.Index(calls, "deleteWebhook"), slices.Index(calls, "getUpdates"); i < 0 || i > j {
			t.Errorf("calls %v: deleteWebhook must come before getUpdates", calls)
		}
		// 0, then after each answer the highest id + 1; the long poll with
		// offset 13 is cancelled, so Poll confirms 13 with a short call.
		if got, want := api.offsetList(), []int64{0, 12, 13, 13}; !slices.Equal(got, want) {
			t.Errorf("getUpdates offsets %v, want %v", got, want)
		}
		want := []time.Duration{b.cfg.PollTimeout, b.cfg.PollTimeout, b.cfg.PollTimeout, 0}
		if !slices.Equal(s.timeouts, want) {
			t.Errorf("getUpdates timeouts %v, want %v", s.timeouts, want)
		}
		var ids []int64
		for _, r := range rec.requests() {
			ids = append(ids, r.UpdateID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []int64{10, 11, 12}) {
			t.Errorf("handled %v, want [10 11 12]", ids)
		}
		if got := received(m, "polling", "accepted"); got != 3 {
			t.Errorf("polling accepted %v, want 3", got)
		}
	})
}

func TestPollQueueFullNeverDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		s := &script{steps: []func(int64) ([]Update, error){updates(1, 2, 3, 4)}}
		api.getUpdates = s.getUpdates
		cfg := pollConfig()
		cfg.Workers, cfg.QueueSize = 1, 1
		h := &blocking{release: make(chan struct{})}
		b, m := newBot(t, cfg, api, h)
		stop := runPoll(t.Context(), t, b)

		time.Sleep(time.Second) // the poller retries while the worker is stuck
		synctest.Wait()
		if got := api.offsetList(); !slices.Equal(got, []int64{0}) {
			t.Errorf("getUpdates called with %v while updates were pending, want [0] only", got)
		}
		if received(m, "polling", "queue_full") == 0 {
			t.Error("queue_full never counted")
		}
		close(h.release)
		time.Sleep(time.Second) // the poller's next offers find room
		stop()
		var ids []int64
		for _, r := range h.requests() {
			ids = append(ids, r.UpdateID)
		}
		if !slices.Equal(ids, []int64{1, 2, 3, 4}) {
			t.Errorf("handled %v, want [1 2 3 4] in order", ids)
		}
		if got := api.offsetList(); got[1] != 5 {
			t.Errorf("offsets %v: after the batch the offset must be 5", got)
		}
	})
}

func TestPollBackoff(t *testing.T) {
	tests := []struct {
		name             string
		err              error
		minWait, maxWait time.Duration
	}{
		{name: "429 honours retry_after", err: &Error{Method: "getUpdates", Code: 429, Description: "Too Many Requests: retry after 3", RetryAfter: 3 * time.Second},
			minWait: 3 * time.Second, maxWait: 3 * time.Second},
		{name: "network error backs off with jitter", err: errors.New("connection refused"), minWait: pollBackoffMin / 2, maxWait: pollBackoffMin},
		{name: "409 conflict", err: &Error{Method: "getUpdates", Code: 409, Description: "Conflict: terminated by other getUpdates request"},
			minWait: pollBackoffMin / 2, maxWait: pollBackoffMin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				s := &script{steps: []func(int64) ([]Update, error){fail(tt.err), updates(1)}}
				api.getUpdates = s.getUpdates
				b, _ := newBot(t, pollConfig(), api, &recorder{})
				stop := runPoll(t.Context(), t, b)
				time.Sleep(10 * time.Second)
				stop()
				if len(s.times) < 2 {
					t.Fatalf("getUpdates called %d times, want a retry", len(s.times))
				}
				if wait := s.times[1].Sub(s.times[0]); wait < tt.minWait || wait > tt.maxWait {
					t.Errorf("retried after %v, want %v..%v", wait, tt.minWait, tt.maxWait)
				}
			})
		})
	}
}

func TestBackoffGrowsToCap(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 40; n++ {
		d := backoff(n, errors.New("x"))
		if d > pollBackoffMax {
			t.Fatalf("backoff(%d) = %v, above the cap %v", n, d, pollBackoffMax)
		}
		if n > 10 && d < pollBackoffMax/2 {
			t.Fatalf("backoff(%d) = %v, want at least %v once capped", n, d, pollBackoffMax/2)
		}
		prev = max(prev, d)
	}
	if prev < pollBackoffMax/2 {
		t.Errorf("backoff never reached the cap region: max %v", prev)
	}
}

func TestPollDeleteWebhookRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.deleteErrs = []error{errors.New("network down"), errors.New("network down")}
		b, _ := newBot(t, pollConfig(), api, &recorder{})
		stop := runPoll(t.Context(), t, b)
		time.Sleep(5 * time.Second)
		wantReady(t, b, "after deleteWebhook recovered")
		stop()
		calls := strings.Join(api.callList(), ",")
		if !strings.Contains(calls, "deleteWebhook,deleteWebhook,deleteWebhook,getUpdates") {
			t.Errorf("calls %s, want three deleteWebhook then getUpdates", calls)
		}
	})
}

func TestPollGuards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		unstarted, _ := newUnstarted(t, pollConfig(), api, &recorder{})
		if err := unstarted.Poll(t.Context()); !errors.Is(err, ErrNotRunning) {
			t.Errorf("Poll before Start: %v, want ErrNotRunning", err)
		}
		webhook, _ := newBot(t, testConfig(), api, &recorder{})
		if err := webhook.Poll(t.Context()); err == nil {
			t.Error("Poll in webhook mode: want an error")
		}

		b, _ := newBot(t, pollConfig(), api, &recorder{})
		stop := runPoll(t.Context(), t, b)
		synctest.Wait()
		if err := b.Poll(t.Context()); err == nil || !strings.Contains(err.Error(), "already running") {
			t.Errorf("second Poll: %v, want an already-running error", err)
		}
		stop()
	})
}

func TestPollStopsOnShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		b, _ := newBot(t, pollConfig(), api, &recorder{})
		errc := make(chan error, 1)
		go func() { errc <- b.Poll(t.Context()) }()
		synctest.Wait()
		if err := b.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Poll returned %v after Shutdown, want nil", err)
		}
	})
}
