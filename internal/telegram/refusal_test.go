package telegram

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// Issue 13.8: two bots answering each other in a group loop forever.
func TestMessagesFromBotsAreIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b, m := newBot(t, testConfig(), newFakeAPI(), rec)
		u := msgUpdate(1, -100, "group", "/price btc")
		u.Message.From.IsBot = true
		if err := b.Enqueue(u); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := len(rec.requests()); n != 0 {
			t.Errorf("handler saw %d requests from a bot, want 0", n)
		}
		if got := testutil.ToFloat64(m.UpdatesReceived.WithLabelValues(sourceDirect, outcomeIgnored)); got != 1 {
			t.Errorf("updates{direct,ignored} = %v, want 1", got)
		}
	})
}

// Issue 13.6 through the pipeline: the handler sees the cleaned command.
func TestInvisibleCharactersReachTheHandlerCleaned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b, _ := newBot(t, testConfig(), newFakeAPI(), rec)
		if err := b.Enqueue(msgUpdate(1, 42, "private", "\ufeff/price\u200b \u200fb\u200btc\u200e")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		reqs := rec.requests()
		if len(reqs) != 1 || reqs[0].Command != "price" || len(reqs[0].Args) != 1 || reqs[0].Args[0] != "btc" {
			t.Errorf("requests %+v, want one /price btc", reqs)
		}
	})
}

// gatedHandler holds every request until release is closed.
func gatedHandler(release <-chan struct{}) Handler {
	return HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		<-release
		return modules.Reply{Text: "ok " + req.Command}
	})
}

// logLines counts the lines at level (WARN, ERROR) that contain substr.
func logLines(buf *bytes.Buffer, mu *sync.Mutex, level, substr string) int {
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for line := range strings.SplitSeq(buf.String(), "\n") {
		if strings.Contains(line, "level="+level) && strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// Issue 13.5: a refusal is a WARN once per chat and reason, the chat is
// remembered and not tried again until it writes again.
func TestRefusedChatSkippedUntilItWritesAgain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		reason string
	}{
		{"blocked", &Error{Method: "sendMessage", Code: 403, Description: "Forbidden: bot was blocked by the user"}, reasonBlocked},
		{"chat not found", &Error{Method: "sendMessage", Code: 400, Description: "Bad Request: chat not found"}, reasonChatNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				api.sendErrs = []error{tc.err}
				var (
					buf bytes.Buffer
					mu  sync.Mutex
				)
				m := metrics.New("test", "test")
				cfg := testConfig()
				cfg.Workers = 1
				release := make(chan struct{})
				b, err := New(cfg, api, gatedHandler(release), m, slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil)))
				if err != nil {
					t.Fatal(err)
				}
				if err := b.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
				for id := range int64(3) { // all three queued before the first refusal
					if err := b.Enqueue(msgUpdate(id+1, 42, "private", "/price")); err != nil {
						t.Fatal(err)
					}
				}
				close(release)
				synctest.Wait()
				if api.attempts != 1 {
					t.Errorf("%d send attempts, want 1: the queued replies to a refused chat are skipped", api.attempts)
				}
				if got := testutil.ToFloat64(b.out.tm.skipped.WithLabelValues(tc.reason)); got != 2 {
					t.Errorf("skipped{%s} = %v, want 2", tc.reason, got)
				}
				if got := testutil.ToFloat64(b.out.tm.unreachable.WithLabelValues(tc.reason)); got != 1 {
					t.Errorf("unreachable{%s} = %v, want 1", tc.reason, got)
				}
				if n := logLines(&buf, &mu, "WARN", "unreachable"); n != 1 {
					t.Errorf("%d WARN lines, want 1:\n%s", n, buf.String())
				}
				if n := logLines(&buf, &mu, "ERROR", ""); n != 0 {
					t.Errorf("a refusal logged at ERROR")
				}

				time.Sleep(time.Second) // the chat writes again, later
				if err := b.Enqueue(msgUpdate(4, 42, "private", "/price")); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if sent := api.sentItems(); len(sent) != 1 || api.attempts != 2 {
					t.Errorf("after the chat wrote again: %d sent in %d attempts, want 1 in 2", len(sent), api.attempts)
				}
			})
		})
	}
}

// Issue 13.5: a 429 beyond the reply deadline fails that reply at once, as
// late, and later replies to that chat are skipped while it lasts.
func TestRateLimitBeyondDeadlineFailsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.sendErrs = []error{tooMany(time.Hour)}
		b, m := newBot(t, testConfig(), api, &recorder{})
		start := time.Now()
		if err := b.Enqueue(msgUpdate(1, 42, "private", "/price")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if time.Since(start) != 0 || replies(m, replyLate) != 1 || b.Status().WorkersBusy != 0 {
			t.Errorf("after %v: late %v, busy %d; want the reply failed as late at once, no worker held",
				time.Since(start), replies(m, replyLate), b.Status().WorkersBusy)
		}
		time.Sleep(time.Minute)
		if err := b.Enqueue(msgUpdate(2, 42, "private", "/price")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if api.attempts != 1 || testutil.ToFloat64(b.out.tm.skipped.WithLabelValues(reasonRateLimited)) != 1 {
			t.Errorf("%d attempts, skipped %v; want the second reply skipped while retry_after lasts",
				api.attempts, testutil.ToFloat64(b.out.tm.skipped.WithLabelValues(reasonRateLimited)))
		}
		time.Sleep(time.Hour)
		if err := b.Enqueue(msgUpdate(3, 42, "private", "/price")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if len(api.sentItems()) != 1 {
			t.Errorf("after retry_after passed: %d sent, want 1", len(api.sentItems()))
		}
	})
}

func TestUnreachableIsBounded(t *testing.T) {
	u := newUnreachable(2)
	now := time.Now()
	for chat := range int64(3) {
		u.mark(chat, reasonBlocked, now, time.Time{})
	}
	if u.len() != 2 {
		t.Fatalf("len %d, want 2", u.len())
	}
	if _, skip := u.skip(0, now, now); skip {
		t.Error("the oldest mark should have been evicted")
	}
	if _, skip := u.skip(2, now, now); !skip {
		t.Error("the newest mark is gone")
	}
}

// Issues 13.4 and 13.5 against the fake Bot API's real envelopes.
func TestRefusalsFromTheBotAPI(t *testing.T) {
	srv := telegramtest.New(telegramtest.Options{})
	t.Cleanup(srv.Close)
	api, err := NewBotClient(ClientConfig{Token: srv.Token(), APIURL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		migrated [][2]int64
	)
	cfg := testConfig()
	cfg.OnMigrate = func(from, to int64) {
		mu.Lock()
		defer mu.Unlock()
		migrated = append(migrated, [2]int64{from, to})
	}
	b, _ := newBot(t, cfg, api, &recorder{})
	srv.Refuse(10, telegramtest.Blocked)
	srv.Refuse(11, telegramtest.ChatNotFound)
	srv.Refuse(-12, telegramtest.Migrated(-10012))
	for i, chat := range []int64{10, 11, -12} {
		if err := b.Enqueue(msgUpdate(int64(i+1), chat, "group", "/price")); err != nil {
			t.Fatal(err)
		}
	}
	sent, err := srv.WaitSent(bcCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].ChatID != -10012 || sent[0].Text != "ok price" {
		t.Errorf("sent %+v, want the reply resent to the supergroup -10012", sent[0])
	}
	mu.Lock()
	if len(migrated) != 1 || migrated[0] != [2]int64{-12, -10012} {
		t.Errorf("OnMigrate calls %v, want one (-12 → -10012)", migrated)
	}
	mu.Unlock()
	if err := b.Shutdown(bcCtx(t)); err != nil {
		t.Fatal(err)
	}
	for reason, want := range map[string]float64{reasonBlocked: 1, reasonChatNotFound: 1} {
		if got := testutil.ToFloat64(b.out.tm.unreachable.WithLabelValues(reason)); got != want {
			t.Errorf("unreachable{%s} = %v, want %v", reason, got, want)
		}
	}
	if got := testutil.ToFloat64(b.out.tm.migrations); got != 1 {
		t.Errorf("migrations = %v, want 1", got)
	}
}
