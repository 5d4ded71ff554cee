package telegram

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{name: "valid", edit: func(*Config) {}},
		{name: "polling needs no secret", edit: func(c *Config) { c.Mode, c.WebhookSecret = ModePolling, "" }},
		{name: "webhook needs a secret", edit: func(c *Config) { c.WebhookSecret = "" }, wantErr: "needs a secret"},
		{name: "secret with bad characters", edit: func(c *Config) { c.WebhookSecret = "a b" }, wantErr: "secret"},
		{name: "secret too long", edit: func(c *Config) { c.WebhookSecret = strings.Repeat("a", 257) }, wantErr: "secret"},
		{name: "bad secret in polling mode", edit: func(c *Config) { c.Mode, c.WebhookSecret = ModePolling, "é" }, wantErr: "secret"},
		{name: "unknown mode", edit: func(c *Config) { c.Mode = "carrier-pigeon" }, wantErr: "unknown mode"},
		{name: "negative workers", edit: func(c *Config) { c.Workers = -1 }, wantErr: "positive"},
		{name: "negative timeout", edit: func(c *Config) { c.ReplyTimeout = -time.Second }, wantErr: "positive"},
		{name: "negative rate", edit: func(c *Config) { c.Rate.PerChat = -1 }, wantErr: "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(&cfg)
			_, err := New(cfg, newFakeAPI(), &recorder{}, metrics.New("t", "t"), slog.New(slog.NewTextHandler(io.Discard, nil)))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	t.Run("nil dependencies", func(t *testing.T) {
		if _, err := New(testConfig(), nil, &recorder{}, metrics.New("t", "t"), slog.New(slog.DiscardHandler)); err == nil {
			t.Error("New with a nil API: want an error")
		}
	})
	t.Run("defaults", func(t *testing.T) {
		b, _ := newUnstarted(t, Config{WebhookSecret: testSecret}, newFakeAPI(), &recorder{})
		c := b.cfg
		if c.Mode != ModePolling || c.PollTimeout != DefaultPollTimeout || c.Workers != 32 || c.QueueSize != 1024 || c.ReplyTimeout != 5*time.Second ||
			c.MaxBody != 1<<20 || c.Rate.Global != 30 || c.Rate.PerChat != 1 || c.Rate.PerGroup != 20.0/60 || c.StallAfter != 10*time.Second {
			t.Errorf("defaults not applied: %+v", c)
		}
	})
}

func TestStart(t *testing.T) {
	tests := []struct {
		name    string
		me      User
		meErr   error
		wantErr string
	}{
		{name: "ok", me: User{ID: 1, IsBot: true, Username: "OurBot"}},
		{name: "getMe fails", meErr: &Error{Method: "getMe", Code: 401, Description: "Unauthorized"}, wantErr: "Unauthorized"},
		{name: "no username", me: User{ID: 1, IsBot: true}, wantErr: "no username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				api.me, api.meErr = tt.me, tt.meErr
				b, _ := newUnstarted(t, testConfig(), api, &recorder{})
				err := b.Start(t.Context())
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("Start: %v, want an error containing %q", err, tt.wantErr)
					}
					if b.Status().Workers != 0 {
						t.Error("workers started despite the error")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Start(t.Context()); err == nil {
					t.Error("second Start: want an error")
				}
				if s := b.Status(); s.BotUsername != "OurBot" || s.Workers != 0 {
					t.Errorf("status %+v, want OurBot and no worker while nothing is queued", s)
				}
				if err := b.Shutdown(t.Context()); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// The router recovers panics and answers them; a Handler that does not
// must still not kill a worker or hold up other chats.
func TestPanicEscapingTheHandlerIsContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
			if req.Args[0] == "boom" {
				panic("boom")
			}
			return modules.Reply{Text: "fine"}
		})
		b, m := newBot(t, testConfig(), api, h)
		for i, arg := range []string{"boom", "btc"} {
			enqueue(t, b, msgUpdate(int64(i+1), int64(40+i), "private", "/price "+arg))
		}
		synctest.Wait()
		texts := map[int64]string{}
		for _, s := range api.sentItems() {
			texts[s.msg.ChatID] = s.msg.Text
		}
		if _, answered := texts[40]; answered || texts[41] != "fine" {
			t.Errorf("replies %v, want none to chat 40 (no apology policy here) and \"fine\" to chat 41", texts)
		}
		if got := testutil.ToFloat64(m.Panics); got != 1 {
			t.Errorf("panics %v, want 1", got)
		}
		if s := b.Status(); s.Panics != 1 || s.Sent != 1 {
			t.Errorf("status %+v, want one panic and one reply sent", s)
		}
	})
}

// Workers start with the work, never more than Config.Workers at once, and
// leave when the queue is empty; a later update starts one again.
func TestWorkersComeAndGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		b, _ := newBot(t, testConfig(), newFakeAPI(), gatedHandler(release))
		for i := range 5 {
			enqueue(t, b, msgUpdate(int64(i+1), int64(100+i), "private", "/price"))
		}
		synctest.Wait()
		if s := b.Status(); s.Workers != 2 || s.WorkersBusy != 2 || s.QueueDepth != 3 {
			t.Errorf("status %+v, want 2 workers busy (Config.Workers) and 3 updates queued", s)
		}
		close(release)
		synctest.Wait()
		if s := b.Status(); s.Workers != 0 || s.Sent != 5 {
			t.Errorf("status %+v, want 5 replies sent and no worker left", s)
		}
		enqueue(t, b, msgUpdate(6, 106, "private", "/price"))
		synctest.Wait()
		if s := b.Status(); s.Workers != 0 || s.Sent != 6 {
			t.Errorf("status %+v, want the later update answered by a new worker", s)
		}
	})
}

func TestMetricLabelsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, m := newBot(t, testConfig(), newFakeAPI(), &recorder{})
		for i, text := range []string{"/price", "/x9f3kq", "hello", "/y7z"} {
			enqueue(t, b, msgUpdate(int64(i+1), 42, "private", text))
		}
		synctest.Wait()
		if n := testutil.CollectAndCount(m.CommandDuration); n != 3 {
			t.Errorf("%d command duration series, want 3: price, unknown, text (user text must not become a label)", n)
		}
	})
}

func TestShutdownAnswersEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.QueueSize = 64
		api := newFakeAPI()
		h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
			time.Sleep(100 * time.Millisecond) // slow enough that all 50 queue up
			return modules.Reply{Text: "ok"}
		})
		b, m := newBot(t, cfg, api, h)
		for i := range 50 {
			enqueue(t, b, msgUpdate(int64(i+1), int64(1000+i), "private", "/price"))
		}
		if d := b.Status().QueueDepth; d < 45 {
			t.Fatalf("queue depth %d, want the updates queued before Shutdown", d)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if n := len(api.sentItems()); n != 50 {
			t.Errorf("%d of 50 queued updates answered", n)
		}
		if got := replies(m, "sent") + replies(m, "late"); got != 50 {
			t.Errorf("replies counted %v, want 50", got)
		}
		if err := b.Enqueue(msgUpdate(99, 1, "private", "/price")); !errors.Is(err, ErrNotRunning) {
			t.Errorf("Enqueue after Shutdown: %v, want ErrNotRunning", err)
		}
		if err := b.Shutdown(t.Context()); err != nil {
			t.Errorf("second Shutdown: %v", err)
		}
		if s := b.Status(); s.Workers != 0 || s.QueueDepth != 0 {
			t.Errorf("status after Shutdown %+v, want no workers and an empty queue", s)
		}
	})
}

func TestShutdownLeavesTheRestInTheJournal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Workers = 1
		j := newFakeJournal()
		cfg.Journal = j
		b, m := newBot(t, cfg, newFakeAPI(), stuckHandler())
		for i := range 4 {
			enqueue(t, b, msgUpdate(int64(i+1), 42, "private", "/price"))
		}
		synctest.Wait() // one update with the worker, three queued
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := b.Shutdown(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "3 queued updates left in the journal") {
			t.Errorf("Shutdown: %v, want the deadline and 3 left in the journal", err)
		}
		if got := replies(m, "failed"); got != 0 {
			t.Errorf("replies{failed} %v, want 0: what is left is not failed", got)
		}
		if open := j.unsettled(); len(open) != 4 {
			t.Errorf("unsettled %v, want all 4 (the cancelled one too) for the next start", open)
		}
	})
}

func TestShutdownBeforeStart(t *testing.T) {
	b, _ := newUnstarted(t, testConfig(), newFakeAPI(), &recorder{})
	if err := b.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := b.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "shut down") {
		t.Errorf("Start after Shutdown: %v, want an already-shut-down error", err)
	}
}

func TestReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Workers = 1
		h := &blocking{release: make(chan struct{})}
		b, _ := newUnstarted(t, cfg, newFakeAPI(), h)
		wantNotReady(t, b, "before Start", "identity not fetched")
		if err := b.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantNotReady(t, b, "after Start", "webhook not registered")
		if err := b.RegisterWebhook(t.Context(), "https://bot.example.com/webhook"); err != nil {
			t.Fatal(err)
		}
		wantReady(t, b, "with the webhook registered")

		// The worker is stuck on update 1; update 2 waits in the queue.
		for i := range 2 {
			enqueue(t, b, msgUpdate(int64(i+1), 42, "private", "/price"))
		}
		time.Sleep(9 * time.Second)
		wantReady(t, b, "with the queue busy 9s")
		time.Sleep(2 * time.Second)
		wantNotReady(t, b, "with the queue busy 11s", "queue stalled")

		close(h.release)
		synctest.Wait()
		wantReady(t, b, "after the stall cleared")

		if err := b.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantNotReady(t, b, "after Shutdown", "workers stopped")
	})
}

func TestReadyNoReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Workers = 1
		h := &blocking{release: make(chan struct{})}
		b, _ := newBot(t, cfg, newFakeAPI(), h)
		if err := b.RegisterWebhook(t.Context(), "https://bot.example.com/webhook"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour) // a long quiet spell is not a stall
		enqueue(t, b, msgUpdate(1, 42, "private", "/price"))
		synctest.Wait()
		wantReady(t, b, "right after an update arrived")
		time.Sleep(11 * time.Second) // taken by the worker, so the queue is empty, but no answer
		wantNotReady(t, b, "with an update taken 11s ago and no answer", "no reply sent")
		close(h.release)
		synctest.Wait()
		wantReady(t, b, "after the answer")
	})
}

func TestReadyPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		s := &script{}
		for range 100 {
			s.steps = append(s.steps, fail(&Error{Method: "getUpdates", Code: 409, Description: "Conflict: terminated by other getUpdates request"}))
		}
		api.getUpdates = s.getUpdates
		b, _ := newBot(t, pollConfig(), api, &recorder{})
		wantNotReady(t, b, "before Poll", "poller not running")
		stop := runPoll(t.Context(), t, b)
		synctest.Wait()
		wantReady(t, b, "with the poller just started")
		time.Sleep(time.Minute)
		wantNotReady(t, b, "after a minute of 409s", "Conflict")
		stop()
		wantNotReady(t, b, "after Poll returned", "poller not running")
	})
}

func TestStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.sendErrs = []error{nil, &Error{Method: "sendMessage", Code: 403, Description: "Forbidden"}}
		b, _ := newBot(t, testConfig(), api, &recorder{})
		for _, u := range []Update{
			msgUpdate(1, 42, "private", "/price"),
			msgUpdate(2, 43, "private", "/price"),
			msgUpdate(2, 43, "private", "/price"),
			msgUpdate(3, -1, "group", "chatter"),
		} {
			_ = b.Enqueue(u)
			synctest.Wait()
		}
		s := b.Status()
		if s.Accepted != 2 || s.Duplicates != 1 || s.Ignored != 1 || s.Sent != 1 || s.Failed != 1 ||
			s.QueueCapacity != 16 || s.Mode != ModeWebhook || s.LastAnswered.IsZero() {
			t.Errorf("status %+v", s)
		}
	})
}
