package telegram

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// newPolling runs a Bot long-polling the fake Bot API through the real
// client, stopped at cleanup.
func newPolling(t testing.TB, cfg Config, h Handler) (*telegramtest.Server, *Bot) {
	t.Helper()
	srv, api := newFakeBotAPI(t, telegramtest.Options{}, ClientConfig{PollTimeout: 5 * time.Second})
	cfg.Mode = ModePolling
	b, _ := newBot(t, cfg, api, h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Poll(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return srv, b
}

var refreshButtons = [][]modules.Button{{{Text: "🔄 Refresh", Data: "v1:r:BTC"}}, {{Text: "Docs", URL: "https://example.org"}}}

// priceBot answers /price with a price and a Refresh button, and a press
// by editing in place with the price then current.
type priceBot struct {
	price atomic.Int64
	mu    sync.Mutex
	reqs  []modules.Request
}

func (p *priceBot) Handle(_ context.Context, req modules.Request) modules.Reply {
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	text := "<b>BTC</b> " + strings.Repeat("1", int(p.price.Load()))
	if req.Callback != nil {
		return modules.Reply{Text: text, Buttons: refreshButtons, Edit: true, Toast: "Updated"}
	}
	return modules.Reply{Text: text, Buttons: refreshButtons}
}

func TestPressEditsInPlace(t *testing.T) {
	h := &priceBot{}
	h.price.Store(1)
	srv, b := newPolling(t, testConfig(), h)
	ctx := bcCtx(t)
	srv.SendTopic(-100, 7, 5, "/price")
	sent, err := srv.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	msg := sent[0]
	if msg.ReplyTo == 0 || msg.ThreadID != 5 || len(msg.Buttons) != 2 || msg.Buttons[0][0].CallbackData != "v1:r:BTC" ||
		msg.Buttons[1][0].URL != "https://example.org" {
		t.Fatalf("reply %+v, want a reply in topic 5 with the keyboard", msg)
	}

	h.price.Store(2)
	q1 := srv.Press(-100, 7, msg.MessageID, "v1:r:BTC")
	answers, err := srv.WaitAnswers(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	sent = srv.Sent()
	if len(sent) != 2 || sent[1].Method != "editMessageText" || sent[1].MessageID != msg.MessageID || sent[1].Text != "<b>BTC</b> 11" ||
		len(sent[1].Buttons) != 2 {
		t.Fatalf("after the press sent %+v, want the message edited in place", sent)
	}
	if answers[0].QueryID != q1 || answers[0].Text != "Updated" {
		t.Errorf("answer %+v, want the handler's toast", answers[0])
	}

	srv.Press(-100, 7, msg.MessageID, "v1:r:BTC") // the price did not move
	if _, err := srv.WaitAnswers(ctx, 2); err != nil {
		t.Fatal(err)
	}
	srv.Delete(-100, msg.MessageID)
	srv.Press(-100, 7, msg.MessageID, "v1:r:BTC")
	answers, err = srv.WaitAnswers(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if answers[1].Text != ToastUpToDate || answers[2].Text != ToastTooOld {
		t.Errorf("toasts %q, %q; want %q, %q", answers[1].Text, answers[2].Text, ToastUpToDate, ToastTooOld)
	}
	if n := len(srv.Sent()); n != 2 {
		t.Errorf("%d messages sent or edited, want 2: an unchanged or stale press sends nothing", n)
	}
	h.mu.Lock()
	cb := h.reqs[1]
	h.mu.Unlock()
	if cb.Callback == nil || cb.Callback.Data != "v1:r:BTC" || cb.Callback.MessageID != msg.MessageID || cb.ChatID != -100 ||
		cb.UserID != 7 || cb.ThreadID != 5 || cb.Command != "" {
		t.Errorf("press request %+v", cb)
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for outcome, want := range map[string]float64{editOK: 1, editNotModified: 1, editTooOld: 1} {
		if got := testutil.ToFloat64(b.tm.edits.WithLabelValues(outcome)); got != want {
			t.Errorf("edits{%s} = %v, want %v", outcome, got, want)
		}
	}
	if got := testutil.ToFloat64(b.tm.callbacks.WithLabelValues(callbackAnswered)); got != 3 {
		t.Errorf("callbacks{answered} = %v, want 3", got)
	}
}

func TestPressReplacesThePhoto(t *testing.T) {
	png := bcPNG(t, 60, 30)
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		interval := "1h"
		if req.Callback != nil {
			interval = req.Callback.Data
		}
		return modules.Reply{Text: "<b>BTC</b> " + interval, Photo: slices.Concat(png, []byte(interval)), Buttons: refreshButtons, Edit: true}
	})
	srv, _ := newPolling(t, testConfig(), h)
	ctx := bcCtx(t)
	srv.SendText(42, 7, "", "/chart")
	sent, err := srv.WaitSent(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sent[0].Method != "sendPhoto" || sent[0].ReplyTo == 0 || len(sent[0].Buttons) != 2 {
		t.Fatalf("chart sent as %+v", sent[0])
	}
	srv.Press(42, 7, sent[0].MessageID, "4h")
	if _, err := srv.WaitAnswers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	sent = srv.Sent()
	if len(sent) != 2 || sent[1].Method != "editMessageMedia" || sent[1].MessageID != sent[0].MessageID || sent[1].Text != "<b>BTC</b> 4h" {
		t.Errorf("after the press sent %+v, want the photo replaced", sent)
	}
}

func TestPressAnsweredWhileTheHandlerHangs(t *testing.T) {
	release := make(chan struct{})
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		if req.Callback != nil {
			<-release
		}
		return modules.Reply{Text: "BTC", Edit: true, Toast: "too late to show"}
	})
	cfg := testConfig()
	cfg.ReplyTimeout = 200 * time.Millisecond
	srv, b := newPolling(t, cfg, h)
	ctx := bcCtx(t)
	srv.Press(42, 7, 1, "v1:r")
	answers, err := srv.WaitAnswers(ctx, 1)
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	if answers[0].Text != "" {
		t.Errorf("deadline answer %q, want an empty one", answers[0].Text)
	}
	srv.SendText(42, 7, "", "/price") // a later update: answered after the press is done
	if _, err := srv.WaitSent(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Answers()); got != 1 {
		t.Errorf("%d answers, want 1", got)
	}
	if got := testutil.ToFloat64(b.tm.callbacks.WithLabelValues(callbackLate)); got != 1 {
		t.Errorf("callbacks{late} = %v, want 1", got)
	}
}

func TestPressesAreRateLimitedPerUser(t *testing.T) {
	var calls atomic.Int64
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		calls.Add(1)
		return modules.Reply{Toast: "Updated"}
	})
	cfg := testConfig()
	cfg.PressRate, cfg.PressBurst = 1e-6, 1
	srv, b := newPolling(t, cfg, h)
	ctx := bcCtx(t)
	srv.Press(42, 7, 1, "v1:r")
	srv.Press(42, 7, 1, "v1:r")
	srv.Press(43, 8, 1, "v1:r") // another user has a bucket of their own
	answers, err := srv.WaitAnswers(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	slow := 0
	for _, a := range answers {
		if a.Text == ToastSlowDown {
			slow++
		}
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if slow != 1 || calls.Load() != 2 {
		t.Errorf("%d slow-down toasts and %d handler calls, want 1 and 2", slow, calls.Load())
	}
	if got := testutil.ToFloat64(b.tm.callbacks.WithLabelValues(callbackRateLimited)); got != 1 {
		t.Errorf("callbacks{rate_limited} = %v, want 1", got)
	}
}

func TestForgedPressIsIgnored(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig()
	cfg.Workers = 1
	srv, _ := newPolling(t, cfg, rec)
	ctx := bcCtx(t)
	srv.Press(42, 7, 1, strings.Repeat("x", MaxCallbackData+1))
	srv.SendText(42, 7, "", "/price")
	if _, err := srv.WaitSent(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if reqs := rec.requests(); len(reqs) != 1 || reqs[0].Callback != nil {
		t.Errorf("requests %+v, want only the command", reqs)
	}
}

func TestInlineQueriesAreAnswered(t *testing.T) {
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		if req.Inline == nil || req.Inline.Query != "btc" {
			return modules.Reply{}
		}
		return modules.Reply{Inline: &modules.InlineAnswer{CacheTime: time.Minute, Results: []modules.InlineResult{
			{ID: "BTC-USDT", Title: "BTC-USDT 64,000", Description: "+1.2%", Text: "<b>BTC-USDT</b> 64,000"},
			{ID: "BTC-USDC", Title: "BTC-USDC 64,001", Text: "<b>BTC-USDC</b> 64,001"},
		}}}
	})
	srv, b := newPolling(t, testConfig(), h)
	ctx := bcCtx(t)
	srv.Inline(7, "btc", "group")
	srv.Inline(7, "zzz", "sender")
	got, err := srv.WaitInline(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range got {
		switch len(a.Results) {
		case 2:
			if a.CacheTime != 10 || a.Results[0].Content.Text != "<b>BTC-USDT</b> 64,000" || a.Results[0].Content.ParseMode != "HTML" || a.Button != nil {
				t.Errorf("btc answer %+v, want 2 HTML articles cached 10 s", a)
			}
		case 0:
			if a.Button == nil || a.Button.Text != InlineHint || a.Button.StartParameter != "inline" || a.CacheTime != 0 {
				t.Errorf("no-match answer %+v, want the hint", a)
			}
		default:
			t.Errorf("answer %+v", a)
		}
	}
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if testutil.ToFloat64(b.tm.inline.WithLabelValues(inlineAnswered)) != 1 || testutil.ToFloat64(b.tm.inline.WithLabelValues(inlineEmpty)) != 1 {
		t.Error("inline metrics do not show one answered and one empty")
	}
}

func TestMemberChangesReachTheHandler(t *testing.T) {
	var got atomic.Pointer[modules.Request]
	h := HandlerFunc(func(_ context.Context, req modules.Request) modules.Reply {
		got.Store(&req)
		return modules.Reply{Text: "Hello! Try /help"}
	})
	srv, _ := newPolling(t, testConfig(), h)
	srv.MemberChange(-5, "group", 7, "left", "member")
	sent, err := srv.WaitSent(bcCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	req := got.Load()
	if req.Member == nil || req.Member.Old != "left" || req.Member.New != "member" || req.ChatID != -5 || req.UserID != 7 {
		t.Errorf("request %+v", req)
	}
	if sent[0].ChatID != -5 || sent[0].ReplyTo != 0 {
		t.Errorf("hello sent as %+v", sent[0])
	}
}

// A press or inline query left in the journal is replayed only while
// Telegram still takes its answer.
func TestReplayTakesOnlyFreshPresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		press := func(id int64) Update {
			return Update{UpdateID: id, CallbackQuery: &CallbackQuery{ID: "q", From: User{ID: 7}, Data: "v1:r",
				Message: &Message{MessageID: 3, Chat: Chat{ID: 42, Type: "private"}, Date: 1}}}
		}
		inline := Update{UpdateID: 3, InlineQuery: &InlineQuery{ID: "i", From: User{ID: 7}, Query: "btc"}}
		j := newFakeJournal()
		j.seed(journaled(press(1), now.Add(-time.Minute)), journaled(press(2), now.Add(-10*time.Second)),
			journaled(inline, now.Add(-time.Minute)), journaled(msgUpdate(4, 42, "private", "/price"), now.Add(-time.Minute)))
		rec := &recorder{}
		cfg := journalConfig(j)
		cfg.Workers = 1
		newBot(t, cfg, newFakeAPI(), rec)
		synctest.Wait()
		if ids := handledIDs(rec); !slices.Equal(ids, []int64{4, 2}) {
			t.Errorf("replayed %v, want the command 4, then the fresh press 2 (oldest first)", ids)
		}
		for id, o := range map[int64]store.Outcome{1: store.Expired, 2: store.Answered, 3: store.Expired, 4: store.Answered} {
			if got := j.outcome(id); got != o {
				t.Errorf("outcome of %d = %q, want %q", id, got, o)
			}
		}
	})
}
