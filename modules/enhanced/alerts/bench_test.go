package alerts

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/testkit"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// One runner tick over 100,000 armed level alerts on 2,000 pairs, prices
// from a batch that moves every pair a little: what the poll costs beside
// the venue call. Run: go test -run '^$' -bench RunnerTick -benchtime 200x ./modules/enhanced/alerts/
func BenchmarkRunnerTick(b *testing.B) {
	const pairs, alerts = 2000, 100_000
	st := newFakeStore()
	rng := rand.New(rand.NewPCG(1, 2))
	ps := make([]market.Pair, pairs)
	batch := make(map[market.Pair]float64, pairs)
	for i := range ps {
		ps[i] = market.Pair{Base: "C" + strconv.Itoa(i), Quote: "USDT"}
		batch[ps[i]] = 100
	}
	for i := range alerts {
		k := rule.Above
		if i%2 == 1 {
			k = rule.Below
		}
		lv := 100 * (1 + (rng.Float64()*0.2+0.05)*float64(1-2*(i%2))) // 5–25 % away: no firing
		a := rule.NewAlert(int64(i+1), int64(i%5000), ps[i%pairs], rule.Rule{Kind: k, Level: lv}, t0)
		row, err := toRow(a)
		if err != nil {
			b.Fatal(err)
		}
		st.alerts[a.ID] = row
	}
	clk := testkit.NewClock(t0)
	m, err := New(Options{Store: st, Market: newFakeMarket(), Now: clk.Now,
		Prices: func(context.Context) (map[market.Pair]float64, error) { return batch, nil }})
	if err != nil {
		b.Fatal(err)
	}
	r := m.newRunner()
	if err := r.load(b.Context()); err != nil {
		b.Fatal(err)
	}
	r.nextSync = t0.Add(365 * 24 * time.Hour) // a reconcile reads the whole store: not part of a tick
	b.ResetTimer()
	for range b.N {
		for _, p := range ps {
			batch[p] = 100 * (1 + (rng.Float64()-0.5)*0.01)
		}
		clk.Add(2 * time.Second)
		r.tick(b.Context())
	}
	if n := len(st.outbox); n != 0 {
		b.Fatalf("%d firings, want none", n)
	}
}
