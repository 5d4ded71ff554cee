package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// FuzzEngine runs byte-coded operations (add, remove, observe, expire) on
// two pairs and checks after each that nothing panics and the indexes agree
// with the id table: every live alert filed exactly once, levels sorted.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{0, 1, 0, 50, 2, 40, 2, 60, 1, 1, 6, 200})
	f.Add([]byte{0, 2, 6, 10, 0, 3, 9, 20, 2, 30, 3, 10, 90, 4, 1, 5, 70, 6, 255, 2, 80})
	f.Fuzz(func(t *testing.T, ops []byte) {
		e := New()
		pairs := []market.Pair{btc, eth}
		at := t0
		next := func() byte {
			if len(ops) == 0 {
				return 0
			}
			b := ops[0]
			ops = ops[1:]
			return b
		}
		for len(ops) > 0 {
			at = at.Add(time.Duration(next()) * 20 * time.Second)
			p := pairs[next()%2]
			switch next() % 7 {
			case 0:
				a := fuzzAlert(int64(next()%16+1), p, next(), next(), at)
				if err := e.Add(a); err != nil {
					t.Fatalf("Add(%+v): %v", a.Rule, err)
				}
			case 1:
				e.Remove(int64(next()%16 + 1))
			case 2:
				e.ObservePrice(nil, p, float64(next())+1, at)
			case 3:
				lo := float64(next()) + 1
				e.ObserveRange(nil, p, lo, lo+float64(next()), at)
			case 4:
				e.ObserveFunding(nil, p, rule.VenueName(next()%4), (float64(next())-128)/1e5, at)
			case 5:
				e.ObserveOI(nil, p, float64(next())*1e6+1, at)
			case 6:
				e.Expire(at)
				e.Changes(nil)
			}
			checkIndexes(t, e)
		}
	})
}

func fuzzAlert(id int64, p market.Pair, kind, v byte, at time.Time) rule.Alert {
	r := rule.Rule{Kind: rule.Kind(kind%6 + 1), Symbol: p.Base}
	switch {
	case r.Kind.IsLevel():
		r.Level = float64(v) + 1
	case r.Kind.IsFunding():
		r.Level = (float64(v) - 128) / 1e5
		r.Venue = rule.VenueName(v % 4)
	default:
		r.Percent = float64(v%20) + 1
		r.Window = []time.Duration{15 * time.Minute, time.Hour, 4 * time.Hour, 24 * time.Hour}[v%4]
	}
	if v%3 == 0 {
		r.Repeat, r.Cooldown, r.Expiry = true, time.Duration(v%5)*time.Minute, time.Duration(v%7+1)*time.Hour
	}
	return rule.NewAlert(id, id, p, r, at)
}

func checkIndexes(t *testing.T, e *Engine) {
	t.Helper()
	filed := map[uint32]int{}
	for i := range e.ps {
		p := &e.ps[i]
		if !slices.IsSorted(p.aboveLv) || !slices.IsSorted(p.belowLv) || len(p.aboveLv) != len(p.aboveIx) || len(p.belowLv) != len(p.belowIx) {
			t.Fatalf("pair %v: level index broken", p.pair)
		}
		for k, s := range p.aboveIx {
			if r := e.recs[s]; r.kind != rule.Above || r.state != rule.Armed || r.level != p.aboveLv[k] {
				t.Fatalf("above index holds %+v", r)
			}
		}
		for _, s := range slices.Concat(p.aboveIx, p.belowIx, p.cooling) {
			filed[s]++
		}
		for _, f := range p.funding {
			filed[f.slot]++
		}
		for _, s := range []*series{p.price, p.oi} {
			if s != nil {
				for _, m := range s.moves {
					filed[m.slot]++
					if m.cooling != (e.recs[m.slot].state == rule.Cooling) {
						t.Fatalf("move ref state differs from %+v", e.recs[m.slot])
					}
				}
			}
		}
	}
	if len(filed) != e.Len() {
		t.Fatalf("%d alerts filed, %d live", len(filed), e.Len())
	}
	for s, n := range filed {
		r := e.recs[s]
		if got, ok := e.ids.get(e.recs, r.id); n != 1 || !ok || got != s || !r.state.Live() {
			t.Fatalf("slot %d filed %d times, id %d → %d %v, state %v", s, n, r.id, got, ok, r.state)
		}
	}
}
