package dispatch_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/dispatch"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/telegram"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/core"
	"github.com/cryptobot-dev/cryptobot/modules/core/settings"
	_ "github.com/cryptobot-dev/cryptobot/modules/enhanced/chart" // registers enhanced.chart
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// fakeMarket lists a few spot pairs whose prices tests move, with candles
// that differ per interval. Other Source methods are not used.
type fakeMarket struct {
	market.Source
	mu     sync.Mutex
	last   map[market.Pair]float64
	ticker int // Ticker calls
}

func newMarket() *fakeMarket {
	return &fakeMarket{last: map[market.Pair]float64{
		{Base: "BTC", Quote: "USDT"}: 97000, {Base: "BTC", Quote: "USDC"}: 96990, {Base: "ETH", Quote: "USDT"}: 3500,
		{Base: "ETH", Quote: "BTC"}: 0.036, {Base: "SOL", Quote: "USDT"}: 180,
	}}
}

func (f *fakeMarket) set(p string, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, q, _ := strings.Cut(p, "-")
	f.last[market.Pair{Base: b, Quote: q}] = v
}

func (f *fakeMarket) Resolve(_ context.Context, input string, _ market.Kind) (market.Pair, error) {
	up := strings.ToUpper(input)
	b, q, ok := strings.Cut(up, "-")
	if !ok {
		b, q = up, "USDT"
	}
	p := market.Pair{Base: b, Quote: q}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.last[p]; !ok {
		return market.Pair{}, &market.UnknownPairError{Input: input}
	}
	return p, nil
}

func (f *fakeMarket) Ticker(_ context.Context, p market.Pair) (market.Ticker, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ticker++
	v := f.last[p]
	return market.Ticker{Pair: p, Venue: "binance", Last: v, High: v * 1.01, Low: v * 0.99, ChangePct: 0.5, Time: time.Now()}, nil
}

func (f *fakeMarket) Candles(_ context.Context, _ market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	d := iv.Duration()
	end := time.Now().Truncate(d)
	out := make([]market.Candle, limit)
	for i := range out {
		c := 100 + float64(i%17)*d.Hours()
		out[i] = market.Candle{Open: end.Add(-time.Duration(limit-i) * d), O: c, H: c + 2, L: c - 2, C: c + 1, Volume: 10}
	}
	return out, nil
}

// memSettings is the settings store in memory.
type memSettings struct {
	mu   sync.Mutex
	rows map[int64]store.ChatSettings
}

func (m *memSettings) ChatSettings(_ context.Context, chat int64) (store.ChatSettings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows[chat], nil
}

func (m *memSettings) SetChatSettings(_ context.Context, chat int64, s store.ChatSettings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows[chat] = s
	return nil
}

type allOn struct{}

func (allOn) Enabled(context.Context, string, modules.Request) bool { return true }

type noGuard struct{}

func (noGuard) Reserve(string, uint64) error         { return nil }
func (noGuard) Admit(string, uint64) (func(), error) { return func() {}, nil }

type membership struct {
	chat   int64
	status string
}

// harness is the bot as cmd/server wires it, over the fake Bot API and a
// fake market: the real transport, router, /price, /chart and /settings.
type harness struct {
	srv     *telegramtest.Server
	market  *fakeMarket
	members chan membership
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{srv: telegramtest.New(telegramtest.Options{}), market: newMarket(), members: make(chan membership, 16)}
	t.Cleanup(h.srv.Close)
	api, err := telegram.NewBotClient(telegram.ClientConfig{Token: h.srv.Token(), APIURL: h.srv.URL(), PollTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	m := metrics.New("test", "none")
	router := dispatch.New(dispatch.Options{Gate: allOn{}, Guard: noGuard{}, Metrics: m, Log: log,
		OnMembership: func(_ context.Context, chat int64, status string) { h.members <- membership{chat, status} }})
	prefs := settings.New(&memSettings{rows: map[int64]store.ChatSettings{}}, telegram.NewMemberCache(api, 0, 0), log)
	infos := append(core.WithSettings(router, router, nil, prefs), modulestest.Registered(t, "enhanced.chart"))
	if err := router.Load(infos, func(modules.Info) modules.Deps {
		return modules.Deps{Log: log, Market: h.market, Now: time.Now}
	}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range router.Commands() {
		names = append(names, c.Name)
	}
	b, err := telegram.New(telegram.Config{Mode: telegram.ModePolling, Workers: 2, QueueSize: 64, Commands: names,
		PressRate: 1000, PressBurst: 1000,
		Rate: telegram.Rate{Global: 1e6, GlobalBurst: 1000, PerChat: 1e6, PerChatBurst: 1000, PerGroup: 1e6, PerGroupBurst: 1000},
	}, api, router, m, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Poll(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
		defer scancel()
		_ = b.Shutdown(sctx)
	})
	return h
}

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wait returns what wait(ctx, n) returns, failing the test on a timeout.
func wait[T any](t testing.TB, n int, wait func(context.Context, int) ([]T, error)) []T {
	t.Helper()
	got, err := wait(waitCtx(t), n)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (h *harness) sent(t testing.TB, n int) []telegramtest.SentMessage {
	t.Helper()
	return wait(t, n, h.srv.WaitSent)
}

func (h *harness) answers(t testing.TB, n int) []telegramtest.CallbackAnswer {
	t.Helper()
	return wait(t, n, h.srv.WaitAnswers)
}

func TestRefreshEditsInPlace(t *testing.T) {
	h := newHarness(t)
	h.srv.SendText(42, 42, "private", "/price btc")
	msg := h.sent(t, 1)[0]
	if !strings.Contains(msg.Text, "97,000.00") || msg.Buttons[0][0].Text != callback.RefreshLabel {
		t.Fatalf("reply %+v", msg)
	}
	h.market.set("BTC-USDT", 98500)
	h.srv.Press(42, 42, msg.MessageID, msg.Buttons[0][0].CallbackData)
	if a := h.answers(t, 1)[0]; a.Text != dispatch.ToastUpdated {
		t.Errorf("toast %q", a.Text)
	}
	edit := h.sent(t, 2)[1]
	if edit.Method != "editMessageText" || edit.MessageID != msg.MessageID || !strings.Contains(edit.Text, "98,500.00") ||
		edit.Buttons[0][0].CallbackData != "1|price|BTC-USDT" {
		t.Errorf("edit %+v, want the same message with the new price and its keyboard", edit)
	}
	// Forged, stale and unknown-command presses are answered; nothing is sent.
	for i, data := range []string{"1|price|<script>", "refresh:BTC", "7|price|BTC", "1|lambo|x"} {
		h.srv.Press(42, 42, msg.MessageID, data)
		a := h.answers(t, 2+i)[1+i]
		if a.Text != callback.ToastInvalid && a.Text != callback.ToastStale {
			t.Errorf("%q: toast %q", data, a.Text)
		}
	}
	// A press on a message gone too old is told so.
	h.srv.Freeze(42, msg.MessageID)
	h.srv.Press(42, 42, msg.MessageID, "1|price|BTC-USDT")
	if a := h.answers(t, 6)[5]; a.Text != telegram.ToastTooOld {
		t.Errorf("frozen: toast %q", a.Text)
	}
	if n := len(h.srv.Sent()); n != 2 {
		t.Errorf("%d messages sent or edited, want 2", n)
	}
}

func TestIntervalButtonReplacesThePhoto(t *testing.T) {
	h := newHarness(t)
	h.srv.SendText(-100, 7, "supergroup", "/chart btc")
	msg := h.sent(t, 1)[0]
	if msg.PhotoSize == 0 || len(msg.Buttons) != 1 || msg.Buttons[0][1].Text != "• 1h" {
		t.Fatalf("chart %+v", msg)
	}
	h.srv.Press(-100, 8, msg.MessageID, msg.Buttons[0][2].CallbackData) // 4h
	h.answers(t, 1)
	edit := h.sent(t, 2)[1]
	if edit.Method != "editMessageMedia" || edit.MessageID != msg.MessageID || edit.PhotoSize == 0 ||
		!strings.Contains(edit.Text, "4h") || edit.Buttons[0][2].Text != "• 4h" {
		t.Errorf("edit %+v, want the photo replaced with the 4h chart", edit)
	}
}

func TestInlineQueries(t *testing.T) {
	h := newHarness(t)
	for i, tc := range []struct {
		query string
		want  []string
	}{
		{"btc", []string{"BTC-USDT", "BTC-USDC"}},
		{"eth usdt", []string{"ETH-USDT"}},
		{"", []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"}},
		{"zzzz", nil},
	} {
		h.srv.Inline(5, tc.query, "group")
		a := wait(t, i+1, h.srv.WaitInline)[i]
		var got []string
		for _, r := range a.Results {
			got = append(got, r.ID)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") || a.CacheTime > 10 {
			t.Errorf("%q: results %v cache %d, want %v", tc.query, got, a.CacheTime, tc.want)
		}
		if len(tc.want) == 0 && (a.Button == nil || a.Button.StartParameter != "inline") {
			t.Errorf("%q: no hint button: %+v", tc.query, a)
		}
		if len(a.Results) > 0 && !strings.Contains(a.Results[0].Title, "▲ +0.50%") {
			t.Errorf("%q: title %q", tc.query, a.Results[0].Title)
		}
	}
}

func TestSettingsAdminsOnly(t *testing.T) {
	h := newHarness(t)
	const group, admin, member = -200, 1, 2
	h.srv.SetMember(group, admin, "administrator")
	h.srv.SetMember(group, member, "member")
	h.srv.SendText(group, member, "supergroup", "/settings")
	menu := h.sent(t, 1)[0]
	usdc := menu.Buttons[0][1]
	if usdc.CallbackData != "1|settings|quote|USDC" {
		t.Fatalf("menu %+v", menu)
	}
	h.srv.Press(group, member, menu.MessageID, usdc.CallbackData)
	if a := h.answers(t, 1)[0]; !strings.Contains(a.Text, "administrators") {
		t.Errorf("non-admin toast %q", a.Text)
	}
	if n := len(h.srv.Sent()); n != 1 {
		t.Errorf("a refused change must edit nothing: %d sent", n)
	}
	h.srv.Press(group, admin, menu.MessageID, usdc.CallbackData)
	if a := h.answers(t, 2)[1]; a.Text != "Saved" {
		t.Errorf("admin toast %q", a.Text)
	}
	edit := h.sent(t, 2)[1]
	if edit.MessageID != menu.MessageID || edit.Buttons[0][1].Text != "• USDC" {
		t.Errorf("edit %+v", edit)
	}
	// The group's /price now takes USDC for a bare symbol.
	h.srv.SendText(group, member, "supergroup", "/price btc")
	if p := h.sent(t, 3)[2]; !strings.HasPrefix(p.Text, "<b>BTC-USDC</b>") {
		t.Errorf("price after the change: %s", p.Text)
	}
}

func TestMembership(t *testing.T) {
	h := newHarness(t)
	h.srv.MemberChange(-300, "group", 1, "left", "member")
	if got := <-h.members; got != (membership{-300, "member"}) {
		t.Errorf("hook %+v", got)
	}
	hello := h.sent(t, 1)[0]
	if hello.ChatID != -300 || !strings.Contains(hello.Text, "/help") {
		t.Errorf("hello %+v", hello)
	}
	h.srv.MemberChange(-300, "group", 1, "member", "kicked")
	if got := <-h.members; got != (membership{-300, "kicked"}) {
		t.Errorf("hook %+v", got)
	}
	// Then a command elsewhere: once it is answered, the kick has been
	// handled (one worker order aside) and sent nothing.
	h.srv.SendText(42, 42, "private", "/price eth")
	h.sent(t, 2)
	if n := len(h.srv.Sent()); n != 2 {
		t.Errorf("%d sent, want the hello and the price only", n)
	}
}
