package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// The load: 100,000 armed alerts over 2,000 pairs.
const (
	loadAlerts = 100_000
	loadPairs  = 2_000
	heapBudget = 16 << 20
)

type fixture struct {
	e      *Engine
	pairs  []market.Pair
	prices []float64
	at     time.Time
}

// buildFixture loads a realistic mix: 80 % price levels within 20 % of the
// price, 12 % moves over 15m…24h, 4 % funding, 4 % OI moves, a quarter of
// them repeating; then a day of price and OI history so every ring is warm.
func buildFixture(tb testing.TB) *fixture {
	tb.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	f := &fixture{e: New(), pairs: make([]market.Pair, loadPairs), prices: make([]float64, loadPairs)}
	for i := range f.pairs {
		f.pairs[i] = market.Pair{Base: fmt.Sprintf("C%04d", i), Quote: "USDT"}
		f.prices[i] = math.Pow(10, rng.Float64()*9-4) // 0.0001 … 100,000
	}
	windows := []time.Duration{15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour}
	for id := int64(1); id <= loadAlerts; id++ {
		p := rng.IntN(loadPairs)
		price := f.prices[p]
		var r rule.Rule
		switch k := rng.IntN(100); {
		case k < 40:
			r = rule.Rule{Kind: rule.Above, Level: price * (1 + 0.2*rng.Float64())}
		case k < 80:
			r = rule.Rule{Kind: rule.Below, Level: price * (1 - 0.2*rng.Float64())}
		case k < 92:
			r = rule.Rule{Kind: rule.Move, Percent: 3 + 7*rng.Float64(), Window: windows[rng.IntN(len(windows))]}
		case k < 94:
			r = rule.Rule{Kind: rule.FundingAbove, Level: 0.0005}
		case k < 96:
			r = rule.Rule{Kind: rule.FundingBelow, Level: -0.0002}
		default:
			r = rule.Rule{Kind: rule.OIMove, Percent: 10, Window: time.Hour}
		}
		r.Symbol = f.pairs[p].Base
		if rng.IntN(4) == 0 {
			r.Repeat, r.Cooldown, r.Expiry = true, time.Hour, rule.DefaultLife
		}
		if err := f.e.Add(rule.NewAlert(id, rng.Int64N(50_000)+1, f.pairs[p], r, t0)); err != nil {
			tb.Fatal(err)
		}
	}
	// History: every 15 minutes for 23 hours, then every minute for an hour.
	f.at = t0
	for m := 0; m < 24*60; m++ {
		if m < 23*60 && m%15 != 0 {
			continue
		}
		f.at = t0.Add(time.Duration(m) * time.Minute)
		f.tick(nil, 0.0005, rng)
	}
	// Top up what the history fired, so the load is the full 100,000.
	for id := int64(loadAlerts + 1); f.e.Len() < loadAlerts; id++ {
		p := rng.IntN(loadPairs)
		r := rule.Rule{Kind: rule.Above, Symbol: f.pairs[p].Base, Level: f.prices[p] * (1 + 0.2*rng.Float64())}
		if err := f.e.Add(rule.NewAlert(id, rng.Int64N(50_000)+1, f.pairs[p], r, f.at)); err != nil {
			tb.Fatal(err)
		}
	}
	f.e.Changes(nil)
	return f
}

// tick observes every pair once: a price step of about ±sd, plus the
// funding rate on one venue and the open interest.
func (f *fixture) tick(fs []Firing, sd float64, rng *rand.Rand) []Firing {
	for i, p := range f.pairs {
		f.prices[i] *= 1 + sd*rng.NormFloat64()
		fs = f.e.ObservePrice(fs, p, f.prices[i], f.at)
		fs = f.e.ObserveFunding(fs, p, "binance", 0.0001+0.0001*rng.NormFloat64(), f.at)
		fs = f.e.ObserveOI(fs, p, 1e6*f.prices[i], f.at)
	}
	f.e.Expire(f.at)
	return fs
}

// steps are pre-drawn random factors, so benchmarks time the engine and
// not the random number generator.
type steps struct {
	v []float64
	n int
}

func newSteps(rng *rand.Rand, sd float64) *steps {
	s := &steps{v: make([]float64, 1<<16)}
	for i := range s.v {
		s.v[i] = sd * rng.NormFloat64()
	}
	return s
}

func (s *steps) next() float64 {
	s.n = (s.n + 1) & (len(s.v) - 1)
	return s.v[s.n]
}

// TestMemoryHeld measures the heap the engine holds for the load
// (alerts, indexes, warm move history) against the 16 MB budget.
func TestMemoryHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100,000 alerts")
	}
	before := modulestest.HeapInUse()
	f := buildFixture(t)
	f.pairs, f.prices = nil, nil // the fixture's own copies are not the engine's
	after := modulestest.HeapInUse()
	held := int64(after) - int64(before)
	t.Logf("%d live alerts over %d pairs hold %.2f MB (%.0f B an alert)", f.e.Len(), loadPairs, float64(held)/(1<<20), float64(held)/float64(f.e.Len()))
	if held > heapBudget {
		t.Errorf("engine holds %d B, budget %d B", held, heapBudget)
	}
	runtime.KeepAlive(f.e)
}

// BenchmarkTick is one full tick: every one of 2,000 pairs observed (price,
// funding, open interest) against 100,000 alerts, then expiry. Run with
// -cpu 1; the budget is 2 ms.
func BenchmarkTick(b *testing.B) {
	f := buildFixture(b)
	st := newSteps(rand.New(rand.NewPCG(3, 5)), 0.0002)
	var fs []Firing
	var ch []Change
	fired := 0
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		f.at = f.at.Add(2 * time.Second)
		for i, p := range f.pairs {
			f.prices[i] *= 1 + st.next()
			fs = f.e.ObservePrice(fs, p, f.prices[i], f.at)
			fs = f.e.ObserveFunding(fs, p, "binance", 0.0001+0.5*st.next(), f.at)
			fs = f.e.ObserveOI(fs, p, 1e6*f.prices[i], f.at)
		}
		f.e.Expire(f.at)
		ch = f.e.Changes(ch[:0])
		fired += len(fs)
		fs = fs[:0]
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/tick")
	b.ReportMetric(float64(fired)/float64(b.N), "firings/tick")
	b.ReportMetric(float64(f.e.Len()), "live-alerts")
}

// BenchmarkPriceTick is the price part alone: 2,000 ObservePrice calls.
func BenchmarkPriceTick(b *testing.B) {
	f := buildFixture(b)
	st := newSteps(rand.New(rand.NewPCG(3, 5)), 0.0002)
	var fs []Firing
	cpu0 := cpuTime(b)
	for b.Loop() {
		f.at = f.at.Add(2 * time.Second)
		for i, p := range f.pairs {
			f.prices[i] *= 1 + st.next()
			fs = f.e.ObservePrice(fs[:0], p, f.prices[i], f.at)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/tick")
}

// cpuTime is the process's user+system CPU time: on a shared machine the
// wall-clock ns/op includes time spent descheduled, this does not.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMassFiring is one move that fires 8,000 alerts across 2,000
// chats at one level, and the move back that re-arms them (repeating, no
// cooldown): the cost per firing of the range removal, the Firing values
// and the re-insertion.
func BenchmarkMassFiring(b *testing.B) {
	const n = 8_000
	e := New()
	for id := int64(1); id <= n; id++ {
		r := rule.Rule{Kind: rule.Above, Symbol: "BTC", Level: 100_000, Repeat: true}
		if err := e.Add(rule.NewAlert(id, id%2_000+1, btc, r, t0)); err != nil {
			b.Fatal(err)
		}
	}
	at := t0
	fs := e.ObservePrice(nil, btc, 99_000, at)
	var ch []Change
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(2 * time.Second)
		fs = e.ObservePrice(fs[:0], btc, 100_500, at)
		if len(fs) != n {
			b.Fatalf("fired %d, want %d", len(fs), n)
		}
		at = at.Add(2 * time.Second)
		fs = e.ObservePrice(fs[:0], btc, 99_000, at)
		ch = e.Changes(ch[:0])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/firing")
}
