package alerts

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

func wantSent(t *testing.T, h *harness, chat int64, n int, contains ...string) []string {
	t.Helper()
	got := h.st.sent(chat)
	if len(got) != n {
		t.Fatalf("chat %d got %d messages, want %d: %q", chat, len(got), n, got)
	}
	for _, s := range got {
		modulestest.CheckHTML(t, s)
	}
	for _, c := range contains {
		if n == 0 || !strings.Contains(got[n-1], c) {
			t.Errorf("last message lacks %q: %q", c, got)
		}
	}
	return got
}

func wantReply(t *testing.T, got string, contains ...string) {
	t.Helper()
	modulestest.CheckHTML(t, got)
	for _, c := range contains {
		if !strings.Contains(got, c) {
			t.Errorf("reply %q lacks %q", got, c)
		}
	}
}

func TestAboveAndBelowFireOnce(t *testing.T) {
	h := newHarness(t, Config{})
	wantReply(t, h.cmd(1, "/alert btc above 98k"), "🔔 Alert #1 set: BTC-USDT above 98,000 · now 97,000", "(Binance)")
	wantReply(t, h.cmd(1, "/alert btc < 96,000"), "Alert #2 set: BTC-USDT below 96,000")
	h.prices(btc, 97_000, 97_500, 98_100, 99_000, 98_500)
	wantSent(t, h, 1, 1, "BTC-USDT is above 98,000: now 98,100", "Alert #1")
	if got := h.st.state(1); got != "fired" {
		t.Errorf("alert 1 is %s in the store, want fired", got)
	}
	h.prices(btc, 97_000, 95_900, 95_000, 97_000, 95_000)
	wantSent(t, h, 1, 2, "below 96,000: now 95,900")
	if n := h.r.eng.Len(); n != 0 {
		t.Errorf("engine holds %d alerts after both fired, want 0", n)
	}
	wantReply(t, h.cmd(1, "/alerts"), "#1 BTC-USDT above 98,000 — fired", "#2 BTC-USDT below 96,000 — fired")
}

func TestHoveringFiresOncePerRearm(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(1, "/alert btc above 98000 repeat every 1m")
	h.prices(btc, 97_990)
	// Hovering within the 0.2 % margin around the level: one message.
	for range 30 {
		h.prices(btc, 98_010, 97_990)
	}
	wantSent(t, h, 1, 1)
	if got := h.st.state(1); got != "cooling" {
		t.Errorf("state %s, want cooling", got)
	}
	// Back past the margin (98,000 × 0.998 = 97,804) and up again after the cooldown: the second.
	h.prices(btc, 97_700, 98_050)
	wantSent(t, h, 1, 2, "now 98,050", "repeats after 1m")
	// Back past the margin but within the cooldown: no third yet.
	h.prices(btc, 97_700, 98_050)
	wantSent(t, h, 1, 2)
}

func TestMoveWithinWindow(t *testing.T) {
	h := newHarness(t, Config{})
	wantReply(t, h.cmd(1, "/alert eth move 5% 15m"), "ETH-USDT moves 5% within 15m")
	for _, v := range []float64{3000, 3050, 3100} {
		h.mkt.set(eth, v)
		h.tick(time.Minute)
	}
	wantSent(t, h, 1, 0)
	h.mkt.set(eth, 3160) // +5.3 % on the window's low
	h.tick(time.Minute)
	wantSent(t, h, 1, 1, "ETH-USDT moved +5.33% within 15m", "3,000", "3,160")
}

func TestFundingAndOpenInterest(t *testing.T) {
	h := newHarness(t, Config{SlowPoll: 2 * time.Second})
	wantReply(t, h.cmd(1, "/alert btc funding above 0.05% on bybit"), "funding above +0.0500% on Bybit", "now +0.0100%/8h (Bybit)")
	wantReply(t, h.cmd(1, "/alert btc oi move 10% 1h"), "open interest moves 10% within 1h")
	h.tick(2 * time.Second)                                        // baselines
	h.mkt.update(func() { h.mkt.funding[btc]["binance"] = 0.001 }) // another venue: not this alert's
	h.tick(2 * time.Second)
	wantSent(t, h, 1, 0)
	h.mkt.update(func() { h.mkt.funding[btc]["bybit"] = 0.0006 })
	h.tick(2 * time.Second)
	wantSent(t, h, 1, 1, "BTC-USDT funding is above +0.0500%: now +0.0600% (Bybit)")
	h.mkt.update(func() { h.mkt.oi[btc] = 11.5e9 })
	h.tick(2 * time.Second)
	wantSent(t, h, 1, 2, "open interest moved +15.00% within 1h", "$10")
}

func TestRestartKeepsArmedAlertsAndNeverFiresTwice(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(1, "/alert btc above 98k")
	h.cmd(1, "/alert btc below 90k")
	h.prices(btc, 97_000)
	h.restart(Config{})
	if n := h.r.eng.Len(); n != 2 {
		t.Fatalf("engine reloaded %d alerts, want 2", n)
	}
	h.prices(btc, 97_000, 98_500)
	wantSent(t, h, 1, 1, "above 98,000")
	h.restart(Config{})
	if n := h.r.eng.Len(); n != 1 {
		t.Fatalf("engine reloaded %d alerts after one fired, want 1", n)
	}
	h.prices(btc, 97_000, 98_500)
	wantSent(t, h, 1, 1)
}

func TestRefusedFiringIsRetriedOnce(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(1, "/alert btc above 98k")
	h.prices(btc, 97_000)
	h.st.failFire = 2
	h.prices(btc, 98_500, 98_600)
	wantSent(t, h, 1, 0)
	h.prices(btc, 98_700, 98_800)
	wantSent(t, h, 1, 1, "now 98,500")
	if h.st.fires != 3 {
		t.Errorf("Fire called %d times, want 3 (two refused, one taken)", h.st.fires)
	}
}

func TestLimits(t *testing.T) {
	h := newHarness(t, Config{MaxPerChat: 2, MaxGlobal: 3, MaxWatch: 2})
	h.cmd(1, "/alert btc above 98k")
	h.cmd(1, "/alert btc above 99k")
	wantReply(t, h.cmd(1, "/alert btc above 100k"), "This chat has 2 alerts, the limit per chat")
	h.cmd(2, "/alert btc above 98k")
	wantReply(t, h.cmd(3, "/alert btc above 98k"), "(3 in all chats)")
	if n := h.st.count(); n != 3 {
		t.Errorf("store holds %d alerts, want 3", n)
	}
	wantReply(t, h.cmd(1, "/watch btc eth"), "Watching BTC-USDT, ETH-USDT")
	wantReply(t, h.cmd(1, "/watch xyz"), "at most 2 pairs per chat")
}

func TestBadInputStoresNothing(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(2, "/alert btc above 98k") // another chat's #1
	for _, c := range []struct{ line, want string }{
		{"/alert btcc above 98k", "Unknown pair <code>BTCC</code>. Did you mean <code>BTC-USDT</code>?"},
		{"/alert btc above 0", "The price must be a number above 0"},
		{"/alert btc above lots", "The price must be a number above 0"},
		{"/alert btc above 98000000", "more than 100× away"},
		{"/alert btc below 900", "more than 100× away"},
		{"/alert btc move 0%", "The move must be a percent above 0 and at most 1000"},
		{"/alert btc move 1001%", "at most 1000"},
		{"/alert btc move 5% 2m", "Unknown window"},
		{"/alert xyz funding above 0.01%", "<code>XYZ-USDT</code> trades spot only: Funding alerts need a perpetual"},
		{"/alert xyz oi move 5%", "Open-interest alerts need a perpetual"},
		{"/digest 25:00", "Not a time of day"},
		{"/digest 08:00 Mars/Olympus", "Unknown time zone"},
		{"/watch btcc", "Unknown pair"},
	} {
		wantReply(t, h.cmd(1, c.line), c.want)
	}
	if n := h.st.count(); n != 1 {
		t.Errorf("store holds %d alerts, want only chat 2's", n)
	}
	wantReply(t, h.cmd(1, "/unalert 1"), "No such alert in this chat: #1")
	if n := h.st.count(); n != 1 {
		t.Error("/unalert deleted another chat's alert")
	}
	h.r.applyQueued()
	if n := h.r.eng.Len(); n != 1 {
		t.Errorf("engine holds %d alerts, want chat 2's", n)
	}
	wantReply(t, h.cmd(1, "/alerts"), "No alerts in this chat")
	wantReply(t, h.cmd(1, "/alert btc above 98000000 confirm"), "Alert #2 set")
}

func TestUnalert(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(1, "/alert btc above 98k")
	h.cmd(1, "/alert btc above 99k")
	h.cmd(1, "/alert btc above 100k")
	wantReply(t, h.cmd(1, "/unalert 2 7"), "Deleted alert #2.", "No such alert in this chat: #7")
	h.prices(btc, 97_000, 99_500)
	wantSent(t, h, 1, 1, "Alert #1")
	wantReply(t, h.cmd(1, "/unalert all"), "Deleted all 2 alerts")
	h.prices(btc, 101_000)
	wantSent(t, h, 1, 1)
}

func TestWatchlist(t *testing.T) {
	h := newHarness(t, Config{})
	wantReply(t, h.cmd(1, "/watchlist"), "The watchlist is empty")
	h.cmd(1, "/watch btc eth xyz")
	got := h.cmd(1, "/watchlist")
	wantReply(t, got, "<pre>", "BTC-USDT", "97,000", "+1.25%", "+0.0100%/8h", "ETH-USDT", "-0.50%", "XYZ-USDT")
	xyz := got[strings.Index(got, "XYZ-USDT"):]
	if line, _, _ := strings.Cut(xyz, "\n"); !strings.HasSuffix(strings.TrimSuffix(line, "</pre>"), "–") {
		t.Errorf("spot-only pair shows funding: %q", line)
	}
	wantReply(t, h.cmd(1, "/unwatch eth"), "Stopped watching 1 of 1")
}

func TestDigestAtLocalTimeAcrossDST(t *testing.T) {
	h := newHarness(t, Config{})
	if _, err := time.LoadLocation("Europe/Berlin"); err != nil {
		t.Skip("no tzdata:", err)
	}
	h.clk.Set(time.Date(2026, 10, 23, 12, 0, 0, 0, time.UTC))
	h.cmd(7, "/watch btc")
	wantReply(t, h.cmd(7, "/digest 08:00 Europe/Berlin"), "Daily digest at 08:00 Europe/Berlin", "Next: Sat Oct 24 08:00 CEST")
	// Summer time ends on Sunday Oct 25: 08:00 in Berlin is 06:00 UTC before, 07:00 UTC after.
	want := []time.Time{
		time.Date(2026, 10, 24, 6, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 25, 7, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 26, 7, 0, 0, 0, time.UTC),
	}
	var got []time.Time
	for at := h.clk.Now(); at.Before(time.Date(2026, 10, 26, 12, 0, 0, 0, time.UTC)); at = at.Add(digestEvery) {
		h.clk.Set(at)
		before := len(h.st.sent(7))
		h.m.sendDueDigests(t.Context(), at)
		if len(h.st.sent(7)) > before {
			got = append(got, at)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("digests at %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Before(want[i]) || got[i].Sub(want[i]) >= digestEvery {
			t.Errorf("digest %d at %v, want at %v", i, got[i], want[i])
		}
	}
	wantSent(t, h, 7, 3, "Daily digest", "Mon Oct 26", "BTC-USDT", "No alert fired")
	// A restart between the enqueue and MarkDigestSent: the trigger keeps it once a day.
	h.st.digests[7] = DigestRow{ChatID: 7, Hour: 8, Zone: "Europe/Berlin", LastSent: want[2].Add(-time.Hour)}
	h.m.sendDueDigests(t.Context(), want[2].Add(time.Hour))
	wantSent(t, h, 7, 3)
	wantReply(t, h.cmd(7, "/digest off"), "Daily digest off")
}

func TestExpiredAlertIsStoredExpired(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(1, "/alert btc above 98k repeat for 1h")
	h.prices(btc, 97_000)
	h.tick(2 * time.Hour)
	if got := h.st.state(1); got != "expired" {
		t.Errorf("state %s after its lifetime, want expired", got)
	}
	h.prices(btc, 99_000)
	wantSent(t, h, 1, 0)
}

func TestCrossingWhileDownFiresOnStartFromCandles(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(1, "/alert btc above 98k")
	h.cmd(1, "/alert btc below 90k")
	h.prices(btc, 97_000)
	candle := func(at time.Time, lo, hi float64) market.Candle {
		return market.Candle{Open: at, O: lo, H: hi, L: lo, C: lo}
	}
	h.mkt.candles = map[market.Pair][]market.Candle{btc: {
		candle(t0.Add(-30*time.Minute), 80_000, 99_000), // before the alerts existed: not theirs
		candle(t0.Add(15*time.Minute), 97_000, 98_400),
		candle(t0.Add(30*time.Minute), 97_000, 97_500),
	}}
	h.clk.Add(time.Hour)
	h.restart(Config{})
	wantSent(t, h, 1, 1, "above 98,000: now 98,400")
	if n := h.r.eng.Len(); n != 1 {
		t.Errorf("engine holds %d alerts after the gap, want the below one", n)
	}
	h.restart(Config{}) // the fired alert is done: the same candles fire nothing twice
	wantSent(t, h, 1, 1)
}

// The batch serves the pairs its venue lists; the others are asked one by one.
func TestBatchPricesWithTickerForTheRest(t *testing.T) {
	h := newHarness(t, Config{})
	batches := 0
	h.batch = func(context.Context) (map[market.Pair]float64, error) {
		batches++
		h.mkt.mu.Lock()
		defer h.mkt.mu.Unlock()
		return map[market.Pair]float64{eth: h.mkt.last[eth], spot: h.mkt.last[spot]}, nil
	}
	h.restart(Config{})
	h.cmd(1, "/alert eth above 3100")
	h.cmd(1, "/alert btc above 98k")
	h.prices(eth, 3000, 3200)
	h.prices(btc, 97_000, 98_500)
	wantSent(t, h, 1, 2, "BTC-USDT is above 98,000")
	if batches != 4 {
		t.Errorf("%d batch calls in 4 ticks", batches)
	}
}

// An alert the engine never heard of (its op was lost, or its chat was
// unblocked and the store re-armed it) is picked up within reconcileEvery.
func TestReconcileAddsWhatTheEngineLacks(t *testing.T) {
	h := newHarness(t, Config{})
	h.m.ops = make(chan op) // no room: the handler's op is dropped
	h.cmd(1, "/alert btc above 98k")
	h.m.resync.Store(false) // and the resync it asks for with it
	h.st.mu.Lock()
	for id, a := range h.st.alerts { // older than any poll looks back: only the reconcile finds it
		a.Created = t0.Add(-time.Hour)
		h.st.alerts[id] = a
	}
	h.st.mu.Unlock()
	h.prices(btc, 97_000, 98_500, 97_000)
	wantSent(t, h, 1, 0)
	h.tick(reconcileEvery)
	h.prices(btc, 97_000, 98_500)
	wantSent(t, h, 1, 1)
}

// An alert whose op never reached the runner (another replica stored it,
// or the queue was full) is evaluated from the next poll on.
func TestNextPollPicksUpStoredAlerts(t *testing.T) {
	h := newHarness(t, Config{})
	h.m.ops = make(chan op)
	h.cmd(1, "/alert btc above 98k")
	h.m.resync.Store(false)
	h.prices(btc, 97_000, 98_500)
	wantSent(t, h, 1, 1)
}

// The price the acknowledgement showed is the pair's baseline: a crossing
// before the first poll after it counts.
func TestCrossingRightAfterCreation(t *testing.T) {
	h := newHarness(t, Config{})
	wantReply(t, h.cmd(1, "/alert btc above 98k"), "now 97,000")
	h.prices(btc, 98_200)
	wantSent(t, h, 1, 1, "now 98,200")
}

func TestQuietChatsGetSilentAlerts(t *testing.T) {
	h := newHarness(t, Config{})
	h.st.quiet = map[int64]bool{2: true}
	h.cmd(1, "/alert btc above 98k")
	h.cmd(2, "/alert btc above 98k")
	h.prices(btc, 97_000, 98_100)
	wantSent(t, h, 1, 1, "above 98,000")
	wantSent(t, h, 2, 1, "above 98,000")
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	for _, m := range h.st.outbox {
		if m.Silent != (m.ChatID == 2) {
			t.Errorf("chat %d's alert has Silent=%v; only chat 2 asked for silence", m.ChatID, m.Silent)
		}
	}
}

func TestAlertsListDeleteButtons(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(1, "/alert btc above 98k")
	h.cmd(1, "/alert btc below 90k")
	handler := func(name string) modules.Handler {
		for _, c := range h.m.Commands() {
			if c.Name == name {
				return c.Handler
			}
		}
		t.Fatalf("no /%s", name)
		return nil
	}
	list, err := handler("alerts").Handle(t.Context(), modules.Request{ChatID: 1, Command: "alerts", ChatType: "private"})
	if err != nil || len(list.Buttons) != 2 || len(list.Buttons[1]) != 2 {
		t.Fatalf("/alerts keyboard %+v, %v", list.Buttons, err)
	}
	if list.Buttons[0][0].Text != callback.RefreshLabel || list.Buttons[1][0].Text != "❌ #1" {
		t.Fatalf("buttons %+v", list.Buttons)
	}
	p, err := callback.Decode(list.Buttons[1][0].Data)
	if err != nil || p.Command != "unalert" {
		t.Fatalf("❌ decodes to %+v, %v", p, err)
	}
	// The press as the router hands it over: /unalert 1 from the list's message.
	got, err := handler("unalert").Handle(t.Context(), modules.Request{ChatID: 1, Command: p.Command, Args: p.Args,
		ChatType: "private", Callback: &modules.Callback{ID: "q", Data: list.Buttons[1][0].Data, MessageID: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Toast != "🗑 Deleted alert #1." || strings.Contains(got.Text, "#1 ") || !strings.Contains(got.Text, "#2 BTC-USDT below 90,000") {
		t.Errorf("after ❌ #1: toast %q, list %q", got.Toast, got.Text)
	}
	if len(got.Buttons) != 2 || len(got.Buttons[1]) != 1 {
		t.Errorf("keyboard after the delete: %+v", got.Buttons)
	}
}

func TestDigestDefaultsToTheChatsZone(t *testing.T) {
	h := newHarness(t, Config{})
	h.st.zones = map[int64]string{2: "Asia/Tokyo"}
	wantReply(t, h.cmd(1, "/digest 08:00"), "08:00 UTC")
	wantReply(t, h.cmd(2, "/digest 08:00"), "08:00 Asia/Tokyo")
	wantReply(t, h.cmd(2, "/digest 08:00 Europe/Berlin"), "08:00 Europe/Berlin")
}

func TestGapLimit(t *testing.T) {
	now := t0.Add(10*time.Minute + 30*time.Second)
	for _, tc := range []struct {
		since time.Time
		want  int
	}{
		{t0.Add(10*time.Minute + 5*time.Second), 0}, // no minute closed since
		{t0.Add(9*time.Minute + 59*time.Second), 1},
		{t0, 10},
		{t0.Add(-48 * time.Hour), gapCandles},
		{time.Time{}, gapCandles},
	} {
		if got := gapLimit(tc.since, now); got != tc.want {
			t.Errorf("gapLimit(%v) = %d, want %d", tc.since, got, tc.want)
		}
	}
}
