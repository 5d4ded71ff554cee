package engine

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

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

// TestJoinedMovesMatchModel is TestMovesMatchModel with alerts joining
// along the walk: each reads only the observations from its join on.
func TestJoinedMovesMatchModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	type obs struct {
		minute int64
		v      float64
	}
	type alert struct {
		w        int64
		frac     float64
		from     int // first observation it sees: hist[from:]
		done     bool
		joinedAt time.Time
	}
	e := New()
	if err := e.Add(newAlert(t, 1000, btc, "move 90%")); err != nil { // the series' history from the start
		t.Fatal(err)
	}
	alerts := map[int64]*alert{}
	var hist []obs
	price, at, fired, next := 100.0, t0, 0, int64(1)
	for step := range 4000 {
		if rng.IntN(10) == 0 && next <= 400 {
			w := 15 + rng.Int64N(46)
			pct := 0.5 + float64(rng.IntN(30))/10
			a := newAlert(t, next, btc, "move 1%")
			a.Rule.Percent, a.Rule.Window = pct, time.Duration(w)*time.Minute
			a.Created = at.Add(time.Duration(rng.IntN(20)) * time.Second)
			if err := e.AddFrom(a, a.Created); err != nil {
				t.Fatal(err)
			}
			alerts[next] = &alert{w: w, frac: pct / 100, from: len(hist), joinedAt: a.Created}
			next++
		}
		switch r := rng.IntN(100); {
		case r < 2:
			at = at.Add(time.Duration(30+rng.IntN(90)) * time.Minute)
		case r < 60:
			at = at.Add(time.Duration(rng.IntN(40)) * time.Second)
		default:
			at = at.Add(time.Duration(1+rng.IntN(3)) * time.Minute)
		}
		price *= 1 + (rng.Float64()-0.5)*0.01
		m := at.Unix() / 60
		hist = append(hist, obs{m, float64(float32(price))})
		got := e.ObservePrice(nil, btc, price, at)
		var want []int64
		for id, a := range alerts {
			if a.done {
				continue
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, o := range hist[a.from:] {
				if o.minute > m-a.w && o.minute >= a.joinedAt.Unix()/60 {
					lo, hi = min(lo, o.v), max(hi, o.v)
				}
			}
			if math.IsInf(lo, 1) { // joined after every observation in its window
				continue
			}
			rise, fall := price/lo-1, 1-price/hi
			if rise >= a.frac || fall >= a.frac {
				want = append(want, id)
				a.done = true
			}
		}
		if g := ids(got); !sameSet(g, want) {
			t.Fatalf("step %d at %v price %.4f: fired %v, model %v", step, at, price, g, want)
		}
		fired += len(got)
	}
	if fired < 100 || len(alerts) < 300 {
		t.Errorf("%d of %d alerts fired: the walk does not exercise both outcomes", fired, len(alerts))
	}
}
