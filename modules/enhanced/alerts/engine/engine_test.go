package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

var (
	btc = market.Pair{Base: "BTC", Quote: "USDT"}
	eth = market.Pair{Base: "ETH", Quote: "USDT"}
	t0  = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// newAlert parses cmd ("above 98000 repeat", without the symbol) into an
// armed alert created at t0.
func newAlert(t testing.TB, id int64, pair market.Pair, cmd string) rule.Alert {
	t.Helper()
	r, err := rule.Parse(append([]string{pair.Base}, strings.Fields(cmd)...))
	if err != nil {
		t.Fatalf("Parse(%q): %v", cmd, err)
	}
	return rule.NewAlert(id, 100+id, pair, r, t0)
}

func load(t testing.TB, alerts ...rule.Alert) *Engine {
	t.Helper()
	e := New()
	for _, a := range alerts {
		if err := e.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// feed observes prices one minute apart from minute start and returns
// every firing.
func feed(e *Engine, pair market.Pair, start int, prices ...float64) []Firing {
	var out []Firing
	for i, p := range prices {
		out = e.ObservePrice(out, pair, p, minute(start+i))
	}
	return out
}

func ids(fs []Firing) []int64 {
	out := make([]int64, len(fs))
	for i, f := range fs {
		out[i] = f.AlertID
	}
	return out
}

func wantIDs(t *testing.T, fs []Firing, want ...int64) {
	t.Helper()
	got := ids(fs)
	if len(got) != len(want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("fired %v, want %v", got, want)
		}
	}
}

func TestCrossingUp(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "above 98000"))
	wantIDs(t, feed(e, btc, 0, 97000, 97900, 97999.99))
	fs := feed(e, btc, 3, 98100)
	wantIDs(t, fs, 1)
	f := fs[0]
	if f.ChatID != 101 || f.Pair != btc || f.Price != 98100 || f.From != 97999.99 || !f.At.Equal(minute(3)) || f.Rule.Kind != rule.Above || f.Rule.Level != 98000 {
		t.Errorf("firing %+v", f)
	}
	if f.Status.State != rule.Fired || !f.Status.Up || !f.Status.LastFired.Equal(minute(3)) || f.Status.Value != 98100 {
		t.Errorf("status after a one-shot firing %+v", f.Status)
	}
	if e.Len() != 0 {
		t.Errorf("one-shot alert still live")
	}
	wantIDs(t, feed(e, btc, 4, 97000, 99000))
}

func TestCrossingDown(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "below 90000"), newAlert(t, 2, btc, "above 90000"))
	wantIDs(t, feed(e, btc, 0, 91000, 90500))
	wantIDs(t, feed(e, btc, 2, 89000), 1)
	wantIDs(t, feed(e, btc, 3, 90001), 2)
}

func TestExactlyAtLevel(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "above 98000"), newAlert(t, 2, btc, "below 97000"))
	wantIDs(t, feed(e, btc, 0, 97500, 98000), 1)
	wantIDs(t, feed(e, btc, 2, 97000), 2)
	// Resting exactly at the level from the start is no crossing.
	e = load(t, newAlert(t, 3, btc, "above 98000"), newAlert(t, 4, btc, "below 98000"))
	wantIDs(t, feed(e, btc, 0, 98000, 98100))
	e = load(t, newAlert(t, 3, btc, "above 98000"), newAlert(t, 4, btc, "below 98000"))
	wantIDs(t, feed(e, btc, 0, 98000, 97900))
}

func TestFirstObservationIsBaseline(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "above 98000"), newAlert(t, 2, btc, "below 99000"))
	wantIDs(t, feed(e, btc, 0, 98500, 98600))
	wantIDs(t, feed(e, btc, 2, 97000, 98500), 1) // below 99,000 held from the start: no crossing
	wantIDs(t, feed(e, btc, 4, 99500, 98900), 2)
}

func TestOneTickCrossesManyLevels(t *testing.T) {
	e := New()
	for i := int64(1); i <= 1000; i++ {
		a := newAlert(t, i, btc, "above 1")
		a.Rule.Level = float64(1001 - i) // added in descending level order
		if err := e.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	wantIDs(t, feed(e, btc, 0, 0.5))
	fs := feed(e, btc, 1, 500)
	if len(fs) != 500 || e.Len() != 500 {
		t.Fatalf("fired %d, live %d; want 500 and 500", len(fs), e.Len())
	}
	for i, f := range fs {
		if f.Rule.Level != float64(i+1) { // ascending levels
			t.Fatalf("firing %d is level %v", i, f.Rule.Level)
		}
	}
	if got := len(feed(e, btc, 2, 1000)); got != 500 {
		t.Errorf("second jump fired %d, want 500", got)
	}
}

func TestHoveringFiresOncePerRearm(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "above 98000 repeat every 30m"))
	var fs []Firing
	fs = append(fs, feed(e, btc, 0, 97000)...)
	for i := 1; i <= 120; i++ { // two hours at 97,990 ↔ 98,010: inside the 0.2 % margin
		p := 97990.0
		if i%2 == 0 {
			p = 98010
		}
		fs = append(fs, feed(e, btc, i, p)...)
	}
	wantIDs(t, fs, 1)
	if s, _ := e.Status(1); s.State != rule.Cooling || s.Retreated {
		t.Fatalf("status while hovering %+v", s)
	}
	if ch := e.Changes(nil); len(ch) != 0 {
		t.Errorf("changes while hovering: %+v", ch)
	}
	// 97,804 is the bound (98,000 - 0.2 %): moving back there re-arms, the
	// cooldown being long over; the next crossing fires again.
	wantIDs(t, feed(e, btc, 121, 97804))
	ch := e.Changes(nil)
	if len(ch) != 1 || ch[0].Status.State != rule.Armed || ch[0].Status.Retreated {
		t.Fatalf("changes on retreat %+v", ch)
	}
	wantIDs(t, feed(e, btc, 122, 98000), 1)
	wantIDs(t, feed(e, btc, 123, 97990, 98010, 97990, 98010))
}

func TestCooldown(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "above 98000 repeat")) // every 1h
	wantIDs(t, feed(e, btc, 0, 97000, 98100), 1)
	wantIDs(t, feed(e, btc, 10, 97000, 98100)) // retreated but cooling
	if s, _ := e.Status(1); s.State != rule.Cooling || !s.Retreated {
		t.Fatalf("status in cooldown %+v", s)
	}
	wantIDs(t, feed(e, btc, 60, 98200)) // 59 min after the firing
	wantIDs(t, feed(e, btc, 61, 97500)) // cooldown over, retreated: re-armed
	if s, _ := e.Status(1); s.State != rule.Armed {
		t.Fatalf("not re-armed: %+v", s)
	}
	wantIDs(t, feed(e, btc, 62, 98100), 1)
}

func TestExpiry(t *testing.T) {
	a := newAlert(t, 1, btc, "above 98000 for 1h")
	b := newAlert(t, 2, btc, "below 90000 for 2h")
	e := load(t, a, b)
	e.Expire(minute(59))
	if e.Len() != 2 || len(e.Changes(nil)) != 0 {
		t.Fatal("expired early")
	}
	e.Expire(minute(60))
	ch := e.Changes(nil)
	if len(ch) != 1 || ch[0].AlertID != 1 || ch[0].Status.State != rule.Expired || e.Len() != 1 {
		t.Fatalf("changes %+v, live %d", ch, e.Len())
	}
	// Past its expiry an alert never fires, even before Expire runs.
	wantIDs(t, feed(e, btc, 130, 91000, 89000))
	ch = e.Changes(nil)
	if len(ch) != 1 || ch[0].AlertID != 2 || ch[0].Status.State != rule.Expired || e.Len() != 0 {
		t.Fatalf("changes %+v, live %d", ch, e.Len())
	}
	e.Expire(minute(500)) // stale heap entries are ignored
	if len(e.Changes(nil)) != 0 {
		t.Error("expired twice")
	}
}

func TestMoveWithinWindow(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "move 5%"), newAlert(t, 2, eth, "move 5%"))
	// BTC: +0.1 a minute from 100 reaches 105 after 50 minutes, inside 1h.
	var fs []Firing
	for i := 0; i <= 55; i++ {
		fs = feedMore(e, fs, btc, i, 100+0.1*float64(i))
	}
	wantIDs(t, fs, 1)
	if f := fs[0]; !f.Status.Up || f.From != 100 || math.Abs(f.Price-105) > 1e-9 || !f.At.Equal(minute(50)) {
		t.Errorf("firing %+v", f)
	}
	// ETH: 5 % over two hours is never 5 % within one.
	fs = nil
	for i := 0; i <= 120; i++ {
		fs = feedMore(e, fs, eth, i, 100+5*float64(i)/120)
	}
	wantIDs(t, fs)
	// Then a 5 % drop from the window's high fires.
	fs = feedMore(e, nil, eth, 130, 105*0.95)
	wantIDs(t, fs, 2)
	if fs[0].Status.Up || math.Abs(fs[0].From-105) > 1e-4 {
		t.Errorf("fall firing %+v", fs[0])
	}
}

func feedMore(e *Engine, fs []Firing, p market.Pair, m int, price float64) []Firing {
	return e.ObservePrice(fs, p, price, minute(m))
}

func TestMoveLongWindow(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "move 10% 24h"), newAlert(t, 2, eth, "move 10% 24h"))
	var fb, fe []Firing
	for i := 0; i <= 40*60; i += 5 {
		fb = feedMore(e, fb, btc, i, 100+10*float64(i)/(20*60)) // +10 % in 20 h
		fe = feedMore(e, fe, eth, i, 100+10*float64(i)/(30*60)) // +10 % in 30 h: 8 % a day
	}
	wantIDs(t, fb, 1)
	wantIDs(t, fe)
	if at := fb[0].At; at.Before(minute(20*60)) || at.After(minute(20*60+5)) {
		t.Errorf("fired at %v", at)
	}
}

func TestMoveRepeatNeedsHalfTheMoveBack(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "move 10% 15m repeat every 1m"))
	wantIDs(t, feed(e, btc, 0, 100, 110), 1)
	// Still 10 % above the window's low, but it has not come back: silent.
	wantIDs(t, feed(e, btc, 2, 111, 112, 110))
	// Half the move back from 110 is 104.5; from there a new 10 % rise fires.
	wantIDs(t, feed(e, btc, 5, 104.5))
	if s, _ := e.Status(1); s.State != rule.Armed {
		t.Fatalf("not re-armed: %+v", s)
	}
	wantIDs(t, feed(e, btc, 30, 100, 110.5), 1)
}

func TestFunding(t *testing.T) {
	e := load(t,
		newAlert(t, 1, btc, "funding above 0.05%"),
		newAlert(t, 2, btc, "funding above 0.05% on okx"),
		newAlert(t, 3, btc, "funding below -0.01% repeat every 1m"))
	var fs []Firing
	fs = e.ObserveFunding(fs, btc, "bybit", 0.0001, minute(0))
	fs = e.ObserveFunding(fs, btc, "okx", 0.0001, minute(0))
	fs = e.ObserveFunding(fs, btc, "kraken", 0.01, minute(0)) // unknown venue: ignored
	wantIDs(t, fs)
	fs = e.ObserveFunding(nil, btc, "bybit", 0.0006, minute(1))
	wantIDs(t, fs, 1)
	if f := fs[0]; f.Venue != "bybit" || f.Price != 0.0006 || f.From != 0.0001 {
		t.Errorf("firing %+v", f)
	}
	wantIDs(t, e.ObserveFunding(nil, btc, "okx", 0.0005, minute(2)), 2)   // exactly at the level
	wantIDs(t, e.ObserveFunding(nil, btc, "binance", -0.0002, minute(3))) // binance's first rate: baseline
	wantIDs(t, e.ObserveFunding(nil, btc, "bybit", -0.0001, minute(4)), 3)
	wantIDs(t, e.ObserveFunding(nil, btc, "bybit", -0.00011, minute(6)))
	wantIDs(t, e.ObserveFunding(nil, btc, "bybit", -0.000098, minute(7))) // back past the margin: re-armed
	wantIDs(t, e.ObserveFunding(nil, btc, "bybit", -0.0001, minute(8)), 3)
}

func TestOIMove(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "oi move 10%"))
	var fs []Firing
	fs = e.ObserveOI(fs, btc, 8e9, minute(0))
	fs = e.ObserveOI(fs, btc, 8.4e9, minute(20))
	wantIDs(t, fs)
	fs = e.ObserveOI(fs, btc, 8.8e9, minute(40))
	wantIDs(t, fs, 1)
	if f := fs[0]; !f.Status.Up || f.From != 8e9 || f.Rule.Kind != rule.OIMove || f.Rule.Window != time.Hour {
		t.Errorf("firing %+v", f)
	}
	wantIDs(t, feed(e, btc, 41, 1, 2)) // prices do not move OI alerts
}

func TestGapRecoveryAfterRestart(t *testing.T) {
	// A fresh engine (restart): no previous price. The candles since the last
	// observation span 91,000…98,500, so the 98,000 level was crossed.
	e := load(t, newAlert(t, 1, btc, "above 98000"), newAlert(t, 2, btc, "below 90000"),
		newAlert(t, 3, btc, "above 120000"), newAlert(t, 4, btc, "below 95000"))
	var fs []Firing
	fs = e.ObserveRange(fs, btc, 96000, 98500, minute(0))
	fs = e.ObserveRange(fs, btc, 91000, 97000, minute(1))
	wantIDs(t, fs, 1, 4)
	if fs[0].Price != 98500 || fs[1].Price != 91000 {
		t.Errorf("range firings at %v, %v", fs[0].Price, fs[1].Price)
	}
	wantIDs(t, feed(e, btc, 2, 93000, 93500))
	// With a previous price, a range fires only what it crossed from there.
	fs = e.ObserveRange(nil, btc, 89000, 93600, minute(4))
	wantIDs(t, fs, 2)
	wantIDs(t, feed(e, btc, 5, 92000))
}

func TestRestartKeepsStatus(t *testing.T) {
	a := newAlert(t, 1, btc, "above 98000 repeat")
	e := load(t, a)
	fs := feed(e, btc, 0, 97000, 98100)
	wantIDs(t, fs, 1)
	// The runner stored fs[0].Status; a new process loads it and sees the
	// price still above the level: no second message for that crossing.
	a.Status = fs[0].Status
	e2 := load(t, a)
	wantIDs(t, feed(e2, btc, 2, 98100, 97990, 98150))
	if s, ok := e2.Status(1); !ok || s != fs[0].Status {
		t.Errorf("status after reload %+v, want %+v", s, fs[0].Status)
	}
	// Fired and paused alerts are not loaded.
	a.State = rule.Paused
	if e3 := load(t, a); e3.Len() != 0 {
		t.Error("paused alert loaded")
	}
}

func TestRemoveAndReplace(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "above 98000"), newAlert(t, 2, btc, "above 98000"), newAlert(t, 3, btc, "move 5%"))
	if !e.Remove(1) || e.Remove(1) || !e.Remove(3) {
		t.Fatal("Remove results")
	}
	edited := newAlert(t, 2, btc, "above 99000")
	if err := e.Add(edited); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, feed(e, btc, 0, 97000, 98500))
	wantIDs(t, feed(e, btc, 2, 99000), 2)
	if e.Len() != 0 {
		t.Errorf("live %d", e.Len())
	}
}

func TestPairsAndBadInput(t *testing.T) {
	e := load(t, newAlert(t, 1, btc, "above 98000"), newAlert(t, 2, eth, "funding above 0.1%"), newAlert(t, 3, eth, "oi move 5%"))
	if got := e.Pairs(nil, Prices); len(got) != 1 || got[0] != btc {
		t.Errorf("price pairs %v", got)
	}
	if got := e.Pairs(nil, FundingRates|OpenInterest); len(got) != 1 || got[0] != eth {
		t.Errorf("funding/OI pairs %v", got)
	}
	wantIDs(t, feed(e, btc, 0, 97000, math.NaN(), 0, -1, math.Inf(1)))
	wantIDs(t, e.ObserveRange(nil, btc, 99000, 98000, minute(1))) // high below low
	wantIDs(t, feed(e, btc, 2, 98000), 1)                         // baseline survived the junk
	for _, bad := range []rule.Alert{
		{ID: 9, Rule: rule.Rule{Kind: rule.Above}},
		{ID: 9, Rule: rule.Rule{Kind: rule.Move, Percent: 5}},
		{ID: 9, Rule: rule.Rule{Kind: 0}},
	} {
		if err := e.Add(bad); err == nil {
			t.Errorf("Add(%+v) accepted", bad.Rule)
		}
	}
}

// TestLevelsMatchModel drives random walks through many repeating and
// one-shot level alerts and compares every firing with a direct model of
// the rules (a scan per observation), so the sorted index, range removal,
// cooling list and re-arm paths agree with the definition.
func TestLevelsMatchModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type model struct {
		a                  rule.Alert
		live, cooling, ret bool
		fired              time.Time
	}
	e := New()
	var ms []*model
	for i := int64(1); i <= 400; i++ {
		cmd := "above"
		if rng.IntN(2) == 0 {
			cmd = "below"
		}
		cmd += " 100"
		if rng.IntN(2) == 0 {
			cmd += " every 5m"
		}
		a := newAlert(t, i, btc, cmd)
		a.Rule.Level = 90 + float64(rng.IntN(200))/10 // duplicates on purpose
		if err := e.Add(a); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, &model{a: a, live: true})
	}
	price := 100.0
	prev := 0.0
	for step := range 3000 {
		price = min(max(math.Round((price+(rng.Float64()-0.5)*0.8)*10)/10, 85), 115) // on the levels' grid: equality happens
		at := minute(step)
		got := e.ObservePrice(nil, btc, price, at)
		var want []int64
		for _, m := range ms {
			if !m.live {
				continue
			}
			r := m.a.Rule
			up := r.Kind == rule.Above
			if m.cooling {
				b := rule.RearmBound(r, 0, up)
				if (up && price <= b) || (!up && price >= b) {
					m.ret = true
				}
				if m.ret && !at.Before(m.fired.Add(r.Cooldown)) {
					m.cooling, m.ret = false, false
				}
			}
			if m.cooling || prev == 0 {
				continue
			}
			if (up && prev < r.Level && price >= r.Level) || (!up && prev > r.Level && price <= r.Level) {
				want = append(want, m.a.ID)
				m.fired, m.cooling, m.live = at, r.Repeat, r.Repeat
			}
		}
		prev = price
		g := ids(got)
		if len(g) != len(want) || !sameSet(g, want) {
			t.Fatalf("step %d price %.2f: fired %v, model %v", step, price, g, want)
		}
	}
}

func sameSet(a, b []int64) bool {
	seen := map[int64]int{}
	for _, v := range a {
		seen[v]++
	}
	for _, v := range b {
		seen[v]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestStaleExpiriesAreCompacted(t *testing.T) {
	e := New()
	a := newAlert(t, 1, btc, "above 98000 for 1h")
	for range 1000 { // an alert edited over and over
		if err := e.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.exp.len(); n > 2*e.Len()+64 {
		t.Errorf("expiry heap holds %d entries for %d alert", n, e.Len())
	}
	for i := range 1000 { // …each time with a new expiry
		a.Expires = minute(60 + i%7)
		if err := e.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.exp.len(); n > 2*e.Len()+64 {
		t.Errorf("expiry heap holds %d entries for %d alert", n, e.Len())
	}
	e.Expire(minute(64))
	if ch := e.Changes(nil); len(ch) != 0 {
		t.Errorf("expired before its last expiry: %+v", ch)
	}
	e.Expire(minute(65))
	if ch := e.Changes(nil); len(ch) != 1 || e.Len() != 0 {
		t.Errorf("changes %+v, live %d", ch, e.Len())
	}
}

// obs is one observation of a model test's walk, as the ring stores it.
type obs struct {
	minute int64
	v      float64
}

// walkStep moves a model test's random walk on: mostly seconds or a few
// minutes, sometimes a gap of up to two hours, and a price step of ±0.5 %.
func walkStep(rng *rand.Rand, at time.Time, price float64) (time.Time, float64) {
	switch r := rng.IntN(100); {
	case r < 2:
		at = at.Add(time.Duration(30+rng.IntN(90)) * time.Minute) // a gap
	case r < 60:
		at = at.Add(time.Duration(rng.IntN(40)) * time.Second)
	default:
		at = at.Add(time.Duration(1+rng.IntN(3)) * time.Minute)
	}
	return at, price * (1 + (rng.Float64()-0.5)*0.01)
}

// modelFires is the model of a move alert: whether price lies frac away
// from the low or high of the observations after minute after.
func modelFires(hist []obs, after int64, price, frac float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, o := range hist {
		if o.minute > after {
			lo, hi = min(lo, o.v), max(hi, o.v)
		}
	}
	if math.IsInf(lo, 1) { // no observation in the window
		return false
	}
	return price/lo-1 >= frac || 1-price/hi >= frac
}

// A move alert that joins a series other alerts keep (created later, or
// resumed after a pause) reads none of the history from before it joined:
// the 8 % rise made meanwhile fires the alert that watched it, not the one
// that joined after it. A real move from then on fires both kinds.
func TestJoinedMoveIgnoresEarlierHistory(t *testing.T) {
	for _, window := range []string{"1h", "24h"} {
		t.Run(window, func(t *testing.T) {
			e := load(t, newAlert(t, 1, btc, "move 50% "+window)) // keeps the series' history
			var fs []Firing
			for i := 0; i <= 30; i++ {
				fs = feedMore(e, fs, btc, i, 100+8*float64(i)/30)
			}
			wantIDs(t, fs)
			created := newAlert(t, 2, btc, "move 5% "+window)
			created.Created = minute(31).Add(20 * time.Second)
			resumed := newAlert(t, 3, btc, "move 5% "+window)
			fs = e.ObservePrice(nil, btc, 108, minute(31)) // before both join, in their minute
			for _, a := range []rule.Alert{created, resumed} {
				if err := e.AddFrom(a, created.Created); err != nil {
					t.Fatal(err)
				}
			}
			fs = e.ObservePrice(fs, btc, 108.1, minute(31).Add(30*time.Second))
			for i := 32; i <= 90; i++ { // flat: 8 % above the history's low, under 5 % from the join
				fs = feedMore(e, fs, btc, i, 108+float64(i%3)/10)
			}
			wantIDs(t, fs)
			fs = feedMore(e, nil, btc, 91, 108*1.051)
			wantIDs(t, fs, 2, 3)
			for _, f := range fs {
				if f.From != 108 {
					t.Errorf("alert %d fired from %v, want the low since it joined, 108", f.AlertID, f.From)
				}
			}
		})
	}
}

// TestMovesMatchModel compares move alerts over windows up to an hour
// (minute-exact in the ring) with a direct model: the low and high of every
// observation whose minute lies in the window, stored as the ring stores
// them (float32), over a random walk with bursts and gaps. Alerts loaded at
// the start read it all; alerts joining along the walk (AddFrom) read only
// what came from their join on.
func TestMovesMatchModel(t *testing.T) {
	t.Run("from the start", func(t *testing.T) { matchMoveModel(t, 4, false) })
	t.Run("joining along the walk", func(t *testing.T) { matchMoveModel(t, 15, true) })
}

func matchMoveModel(t *testing.T, seed uint64, join bool) {
	rng := rand.New(rand.NewPCG(seed, 2*seed))
	type alert struct {
		w, after int64 // window, and the last minute before it joined
		frac     float64
		from     int // first observation it sees: hist[from:]
		done     bool
	}
	e := New()
	alerts := map[int64]*alert{}
	var hist []obs
	price, at, fired := 100.0, t0, 0
	add := func(id int64, from time.Time) {
		w := 15 + rng.Int64N(46)
		pct := 0.5 + float64(rng.IntN(40))/10
		a := newAlert(t, id, btc, "move 1%")
		a.Rule.Percent, a.Rule.Window = pct, time.Duration(w)*time.Minute
		if err := e.AddFrom(a, from); err != nil {
			t.Fatal(err)
		}
		alerts[id] = &alert{w: w, frac: pct / 100, from: len(hist), after: from.Unix()/60 - 1}
	}
	if join { // a move the walk never makes keeps the series' history from the start
		if err := e.Add(newAlert(t, 1000, btc, "move 90%")); err != nil {
			t.Fatal(err)
		}
	}
	for id := int64(1); id <= 300 && !join; id++ {
		add(id, t0)
	}
	for step := range 4000 {
		if n := int64(len(alerts)); join && n < 300 && rng.IntN(10) == 0 {
			add(n+1, at.Add(time.Duration(rng.IntN(20))*time.Second))
		}
		at, price = walkStep(rng, at, price)
		m := at.Unix() / 60
		hist = append(hist, obs{m, float64(float32(price))})
		got := e.ObservePrice(nil, btc, price, at)
		var want []int64
		for id, a := range alerts {
			if !a.done && modelFires(hist[a.from:], max(m-a.w, a.after), price, a.frac) {
				want = append(want, id)
				a.done = true
			}
		}
		if g := ids(got); !sameSet(g, want) {
			t.Fatalf("step %d at %v price %.4f: fired %v, model %v", step, at, price, g, want)
		}
		fired += len(got)
	}
	if fired < 100 || e.Len() == 0 || len(alerts) < 300 {
		t.Errorf("%d of %d alerts fired: the walk does not exercise both outcomes", fired, len(alerts))
	}
}
