package telegram

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
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

func replies(m *metrics.Metrics, outcome string) float64 {
	return testutil.ToFloat64(m.Replies.WithLabelValues(outcome))
}

// replyWith answers every request with the same reply.
func replyWith(r modules.Reply) Handler {
	return HandlerFunc(func(context.Context, modules.Request) modules.Reply { return r })
}

func TestSendRetries(t *testing.T) {
	parseErr := &Error{Method: "sendMessage", Code: 400, Description: "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"}
	tests := []struct {
		name       string
		errs       []error
		wantTexts  []string // as delivered
		wantModes  []string
		wantAt     time.Duration // delivery time after intake
		wantOut    string
		wantRetryS float64
		attempts   int
	}{
		{name: "429 once then delivered", errs: []error{tooMany(time.Second)},
			wantTexts: []string{"<b>BTC</b> 1 &lt; 2"}, wantModes: []string{"HTML"}, wantAt: time.Second, wantOut: "sent", wantRetryS: 1, attempts: 2},
		{name: "429 without retry_after waits 1s", errs: []error{tooMany(0)},
			wantTexts: []string{"<b>BTC</b> 1 &lt; 2"}, wantModes: []string{"HTML"}, wantAt: time.Second, wantOut: "sent", wantRetryS: 1, attempts: 2},
		{name: "429 twice within the deadline", errs: []error{tooMany(2 * time.Second), tooMany(2 * time.Second)},
			wantTexts: []string{"<b>BTC</b> 1 &lt; 2"}, wantModes: []string{"HTML"}, wantAt: 4 * time.Second, wantOut: "sent", wantRetryS: 4, attempts: 3},
		{name: "429 beyond the deadline is late at once", errs: []error{tooMany(10 * time.Second)}, wantOut: "late", attempts: 1},
		{name: "429 then one past the deadline is late", errs: []error{tooMany(3 * time.Second), tooMany(3 * time.Second)}, wantOut: "late", wantRetryS: 3, attempts: 2},
		{name: "HTML rejected, sent as plain text", errs: []error{parseErr},
			wantTexts: []string{"BTC 1 < 2"}, wantModes: []string{""}, wantOut: "sent", attempts: 2},
		{name: "5xx retried after a short backoff", errs: []error{&Error{Method: "sendMessage", Code: 502, Description: "Bad Gateway"}, errors.New("connection reset")},
			wantTexts: []string{"<b>BTC</b> 1 &lt; 2"}, wantModes: []string{"HTML"}, wantAt: 300 * time.Millisecond, wantOut: "sent", attempts: 3},
		{name: "other 400 is final", errs: []error{&Error{Method: "sendMessage", Code: 400, Description: "Bad Request: chat not found"}}, wantOut: "failed", attempts: 1},
		{name: "403 blocked is final", errs: []error{&Error{Method: "sendMessage", Code: 403, Description: "Forbidden: bot was blocked by the user"}}, wantOut: "failed", attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				api.sendErrs = tt.errs
				b, m := newBot(t, testConfig(), api, replyWith(modules.Reply{Text: "<b>BTC</b> 1 &lt; 2"}))
				start := time.Now()
				enqueue(t, b, msgUpdate(1, 42, "private", "/price"))
				time.Sleep(time.Minute)
				sent := api.sentItems()
				if len(sent) != len(tt.wantTexts) {
					t.Fatalf("sent %d messages, want %d", len(sent), len(tt.wantTexts))
				}
				for i, s := range sent {
					if s.msg.Text != tt.wantTexts[i] || s.msg.ParseMode != tt.wantModes[i] {
						t.Errorf("message %d = %q (mode %q), want %q (mode %q)", i, s.msg.Text, s.msg.ParseMode, tt.wantTexts[i], tt.wantModes[i])
					}
					if at := s.at.Sub(start); at != tt.wantAt {
						t.Errorf("message %d sent %v after intake, want %v", i, at, tt.wantAt)
					}
				}
				if got := replies(m, tt.wantOut); got != 1 {
					t.Errorf("replies{%s} = %v, want 1", tt.wantOut, got)
				}
				if got := testutil.ToFloat64(m.TelegramRetryWait); got != tt.wantRetryS {
					t.Errorf("retry wait %vs, want %vs", got, tt.wantRetryS)
				}
				if api.attempts != tt.attempts {
					t.Errorf("%d send attempts, want %d", api.attempts, tt.attempts)
				}
			})
		})
	}
}

func TestSendLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		slow := HandlerFunc(func(ctx context.Context, _ modules.Request) modules.Reply {
			time.Sleep(6 * time.Second) // ignores its deadline
			return modules.Reply{Text: "finally"}
		})
		b, m := newBot(t, testConfig(), api, slow)
		enqueue(t, b, msgUpdate(1, 42, "private", "/price"))
		time.Sleep(time.Minute)
		if len(api.sentItems()) != 1 {
			t.Fatalf("sent %d messages, want the late one", len(api.sentItems()))
		}
		if replies(m, "late") != 1 || replies(m, "sent") != 0 {
			t.Errorf("late=%v sent=%v, want 1 and 0", replies(m, "late"), replies(m, "sent"))
		}
		if n := testutil.CollectAndCount(m.CommandDuration); n != 1 {
			t.Errorf("command duration series %d, want 1", n)
		}
	})
}

// The router owns the work deadline: the transport passes the worker's
// context through untouched.
func TestHandlerContextHasNoTransportDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		got := make(chan bool, 1)
		h := HandlerFunc(func(ctx context.Context, req modules.Request) modules.Reply {
			_, has := ctx.Deadline()
			got <- has
			return modules.Reply{}
		})
		api := newFakeAPI()
		b, m := newBot(t, testConfig(), api, h)
		enqueue(t, b, msgUpdate(1, 42, "private", "/start"))
		if <-got {
			t.Error("handler context has a deadline; the router sets it")
		}
		synctest.Wait()
		if len(api.sentItems()) != 0 || replies(m, "sent")+replies(m, "failed")+replies(m, "late") != 0 {
			t.Error("an empty reply must send and count nothing")
		}
	})
}

func TestEmptyRepliesSendNothing(t *testing.T) {
	for _, text := range []string{"", " \n\t", "<b> </b>\n"} {
		t.Run(strconv.Quote(text), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				b, m := newBot(t, testConfig(), api, replyWith(modules.Reply{Text: text}))
				enqueue(t, b, msgUpdate(1, 42, "private", "/start"))
				synctest.Wait()
				if api.attempts != 0 || replies(m, "sent")+replies(m, "failed")+replies(m, "late") != 0 {
					t.Errorf("%d send attempts and replies counted for %q, want none", api.attempts, text)
				}
				if err := b.RegisterWebhook(t.Context(), "https://x.example/w"); err != nil {
					t.Fatal(err)
				}
				wantReady(t, b, "after an update answered with nothing (it counts as answered)")
			})
		})
	}
}

func TestSendSplitsLongReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		text := longReply()
		b, m := newBot(t, testConfig(), api, replyWith(modules.Reply{Text: text}))
		enqueue(t, b, msgUpdate(1, 42, "private", "/price"))
		time.Sleep(time.Minute)
		sent := api.sentItems()
		want := SplitHTML(text, MaxMessageLen)
		if len(sent) != len(want) {
			t.Fatalf("sent %d messages, want %d", len(sent), len(want))
		}
		for i, s := range sent {
			if s.msg.Text != want[i] || s.msg.ParseMode != "HTML" || s.msg.ChatID != 42 {
				t.Errorf("message %d: mode %q chat %d, text differs from chunk %d", i, s.msg.ParseMode, s.msg.ChatID, i)
			}
		}
		if replies(m, "sent") != 1 {
			t.Errorf("replies{sent} = %v, want 1 for the whole reply", replies(m, "sent"))
		}
	})
}

func TestSendPhoto(t *testing.T) {
	png := []byte("\x89PNG fake")
	long := "<b>chart</b> " + strings.Repeat("x", MaxCaptionLen)
	tests := []struct {
		name        string
		caption     string
		errs        []error
		wantCaption string
		wantMode    string
		wantTexts   []string
	}{
		{name: "short caption", caption: "<b>BTC</b> 1h", wantCaption: "<b>BTC</b> 1h", wantMode: "HTML"},
		{name: "no caption", caption: "", wantCaption: "", wantMode: ""},
		{name: "caption too long follows as text", caption: long, wantCaption: "", wantMode: "", wantTexts: []string{long}},
		{name: "caption HTML rejected", caption: "<b>BTC</b> &amp;",
			errs:        []error{&Error{Method: "sendPhoto", Code: 400, Description: "Bad Request: can't parse entities"}},
			wantCaption: "BTC &", wantMode: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := newFakeAPI()
				api.sendErrs = tt.errs
				b, m := newBot(t, testConfig(), api, replyWith(modules.Reply{Text: tt.caption, Photo: png}))
				enqueue(t, b, msgUpdate(1, 42, "private", "/chart"))
				time.Sleep(time.Minute)
				sent := api.sentItems()
				if len(sent) != 1+len(tt.wantTexts) || sent[0].photo == nil {
					t.Fatalf("sent %+v, want a photo then %d messages", sent, len(tt.wantTexts))
				}
				p := sent[0].photo
				if p.Caption != tt.wantCaption || p.ParseMode != tt.wantMode || string(p.PNG) != string(png) || p.ChatID != 42 {
					t.Errorf("photo caption %q mode %q, want %q mode %q", p.Caption, p.ParseMode, tt.wantCaption, tt.wantMode)
				}
				for i, want := range tt.wantTexts {
					if got := sent[1+i].msg.Text; got != want {
						t.Errorf("message %d = %q, want %q", i, got, want)
					}
				}
				if replies(m, "sent") != 1 {
					t.Errorf("replies{sent} = %v, want 1", replies(m, "sent"))
				}
			})
		})
	}
}

func TestSendPacing(t *testing.T) {
	tests := []struct {
		name     string
		chatType string
		rate     Rate
		want     []time.Duration // send times after intake, in order
	}{
		{name: "private chat: burst then 1/s", chatType: "private",
			rate: Rate{Global: 1000, GlobalBurst: 1000, PerChat: 1, PerChatBurst: 2, PerGroup: 1000},
			want: []time.Duration{0, 0, time.Second, 2 * time.Second, 3 * time.Second}},
		{name: "group: 20 per minute", chatType: "group",
			rate: Rate{Global: 1000, GlobalBurst: 1000, PerChat: 1000, PerGroup: 20.0 / 60, PerGroupBurst: 3},
			want: []time.Duration{0, 0, 0, 3 * time.Second, 6 * time.Second}},
		{name: "global limit binds", chatType: "private",
			rate: Rate{Global: 2, GlobalBurst: 1, PerChat: 1000, PerChatBurst: 1000, PerGroup: 1000},
			want: []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.Workers = 5
				cfg.Rate = tt.rate
				api := newFakeAPI()
				b, m := newBot(t, cfg, api, replyWith(modules.Reply{Text: "ok"}))
				start := time.Now()
				for i := range len(tt.want) {
					enqueue(t, b, msgUpdate(int64(i+1), 42, tt.chatType, "/price@OurBot"))
				}
				time.Sleep(time.Minute)
				sent := api.sentItems()
				if len(sent) != len(tt.want) {
					t.Fatalf("sent %d, want %d", len(sent), len(tt.want))
				}
				for i, s := range sent {
					if at := s.at.Sub(start); at != tt.want[i] {
						t.Errorf("message %d sent at +%v, want +%v", i, at, tt.want[i])
					}
				}
				if testutil.ToFloat64(m.OutboundWait) == 0 {
					t.Error("outbound limiter wait not recorded")
				}
			})
		})
	}
}

func TestSendPacingIsPerChat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Workers = 4
		cfg.Rate = Rate{Global: 1000, GlobalBurst: 1000, PerChat: 1, PerChatBurst: 1, PerGroup: 1000}
		api := newFakeAPI()
		b, _ := newBot(t, cfg, api, replyWith(modules.Reply{Text: "ok"}))
		start := time.Now()
		for i, chat := range []int64{1, 2, 3, 1} {
			enqueue(t, b, msgUpdate(int64(i+1), chat, "private", "/price"))
		}
		time.Sleep(time.Minute)
		late := 0
		for _, s := range api.sentItems() {
			if s.at.Sub(start) > 0 {
				late++
				if s.msg.ChatID != 1 || s.at.Sub(start) != time.Second {
					t.Errorf("chat %d waited %v; only chat 1's second reply should wait 1s", s.msg.ChatID, s.at.Sub(start))
				}
			}
		}
		if late != 1 {
			t.Errorf("%d replies waited, want 1", late)
		}
	})
}

func TestChatLimitersEvictIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Rate = Rate{Global: 1000, GlobalBurst: 1000, PerChat: 1, PerChatBurst: 3, PerGroup: 1000}
		api := newFakeAPI()
		b, _ := newBot(t, cfg, api, replyWith(modules.Reply{Text: "ok"}))
		for i := range 10 {
			enqueue(t, b, msgUpdate(int64(i+1), int64(100+i), "private", "/price"))
		}
		synctest.Wait()
		if n := b.Status().PacedChats; n != 10 {
			t.Fatalf("%d chat limiters after 10 chats, want 10", n)
		}
		time.Sleep(5 * time.Second) // one token used, refilled after 1 s; the ticker runs every second
		if n := b.Status().PacedChats; n != 0 {
			t.Errorf("%d chat limiters left after the chats went idle, want 0", n)
		}
	})
}

// Issue 13.8: two bots answering each other in a group loop forever.
func TestMessagesFromBotsAreIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b, m := newBot(t, testConfig(), newFakeAPI(), rec)
		u := msgUpdate(1, -100, "group", "/price btc")
		u.Message.From.IsBot = true
		enqueue(t, b, u)
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
		enqueue(t, b, msgUpdate(1, 42, "private", "\ufeff/price\u200b \u200fb\u200btc\u200e"))
		synctest.Wait()
		reqs := rec.requests()
		if len(reqs) != 1 || reqs[0].Command != "price" || len(reqs[0].Args) != 1 || reqs[0].Args[0] != "btc" {
			t.Errorf("requests %+v, want one /price btc", reqs)
		}
	})
}

// stuckHandler holds every request until its work context ends and then
// answers nothing.
func stuckHandler() Handler {
	return HandlerFunc(func(ctx context.Context, _ modules.Request) modules.Reply {
		<-ctx.Done()
		return modules.Reply{}
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
				chats := &fakeChats{}
				cfg.Chats = chats
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
					enqueue(t, b, msgUpdate(id+1, 42, "private", "/price"))
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
				if got := chats.log(); !slices.Equal(got, []string{"42 blocked"}) {
					t.Errorf("stored refusals %q, want the chat stored as blocked once", got)
				}

				time.Sleep(time.Second) // the chat writes again, later
				enqueue(t, b, msgUpdate(4, 42, "private", "/price"))
				synctest.Wait()
				if sent := api.sentItems(); len(sent) != 1 || api.attempts != 2 {
					t.Errorf("after the chat wrote again: %d sent in %d attempts, want 1 in 2", len(sent), api.attempts)
				}
				if got := chats.log(); !slices.Equal(got, []string{"42 blocked", "42 back"}) {
					t.Errorf("stored refusals %q, want the chat stored as back after it wrote again", got)
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
		enqueue(t, b, msgUpdate(1, 42, "private", "/price"))
		synctest.Wait()
		if time.Since(start) != 0 || replies(m, replyLate) != 1 || b.Status().WorkersBusy != 0 {
			t.Errorf("after %v: late %v, busy %d; want the reply failed as late at once, no worker held",
				time.Since(start), replies(m, replyLate), b.Status().WorkersBusy)
		}
		time.Sleep(time.Minute)
		enqueue(t, b, msgUpdate(2, 42, "private", "/price"))
		synctest.Wait()
		if api.attempts != 1 || testutil.ToFloat64(b.out.tm.skipped.WithLabelValues(reasonRateLimited)) != 1 {
			t.Errorf("%d attempts, skipped %v; want the second reply skipped while retry_after lasts",
				api.attempts, testutil.ToFloat64(b.out.tm.skipped.WithLabelValues(reasonRateLimited)))
		}
		time.Sleep(time.Hour)
		enqueue(t, b, msgUpdate(3, 42, "private", "/price"))
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
	if _, skip, _ := u.skip(0, now, now); skip {
		t.Error("the oldest mark should have been evicted")
	}
	if _, skip, _ := u.skip(2, now, now); !skip {
		t.Error("the newest mark is gone")
	}
}

// Issues 13.4 and 13.5 against the fake Bot API's real envelopes.
func TestRefusalsFromTheBotAPI(t *testing.T) {
	srv, api := newFakeBotAPI(t, telegramtest.Options{}, ClientConfig{})
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
		enqueue(t, b, msgUpdate(int64(i+1), chat, "group", "/price"))
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

// fakeChats is the store's chat states: it records what the sender stores.
type fakeChats struct {
	mu      sync.Mutex
	calls   []string
	blocked []int64
	err     error
}

func (f *fakeChats) SetChatBlocked(_ context.Context, chat int64, blocked bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	state := "back"
	if blocked {
		state = "blocked"
	}
	f.calls = append(f.calls, strconv.FormatInt(chat, 10)+" "+state)
	return f.err
}

func (f *fakeChats) BlockedChats(_ context.Context, limit int) ([]int64, error) {
	return f.blocked[:min(limit, len(f.blocked))], f.err
}

func (f *fakeChats) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Issue 13.5: refusals stored by a previous process hold for replies to
// updates it received before this one started (a replay), not for a chat
// that writes after the start; a store that cannot say costs one try each.
func TestRecallStoredRefusals(t *testing.T) {
	start := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	cfg, _ := testConfig().withDefaults()
	cfg.Chats = &fakeChats{blocked: []int64{42, 43, 44}}
	newS := func() *sender {
		m := metrics.New("test", "test")
		return newSender(newFakeAPI(), cfg, commandLabels{}, m, newTransportMetrics(m.Registry), slog.New(slog.DiscardHandler))
	}
	s := newS()
	s.recall(t.Context(), start, 2)
	if reason, skip, _ := s.gone.skip(42, start.Add(-time.Second), start); !skip || reason != reasonBlocked {
		t.Errorf("replayed update for a stored blocked chat: skip %v (%s), want skipped as blocked", skip, reason)
	}
	if _, skip, _ := s.gone.skip(44, start.Add(-time.Second), start); skip {
		t.Error("a chat past the limit was recalled")
	}
	if _, skip, forgot := s.gone.skip(43, start.Add(time.Second), start); skip || forgot != reasonBlocked {
		t.Errorf("chat that wrote after the start: skip %v, forgot %q; want sent and forgotten", skip, forgot)
	}

	cfg.Chats = &fakeChats{blocked: []int64{42}, err: errors.New("store down")}
	s = newS()
	s.recall(t.Context(), start, 10)
	if s.gone.len() != 0 {
		t.Errorf("%d chats recalled from a failing store", s.gone.len())
	}
}
