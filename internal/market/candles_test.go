package market

import (
	"math"
	"testing"
	"time"
)

func TestClosedCandles(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 30, 0, 0, time.UTC)
	c := []Candle{{Open: now.Add(-2 * time.Hour)}, {Open: now.Add(-time.Hour)}, {Open: now.Add(-30 * time.Minute)}}
	if got := ClosedCandles(c, H1, now); len(got) != 2 {
		t.Errorf("kept %d bars, want the 2 closed ones", len(got))
	}
	if got := ClosedCandles(c[:2], H1, now); len(got) != 2 {
		t.Errorf("a series of closed bars lost %d", 2-len(got))
	}
}

func TestValidCandles(t *testing.T) {
	good := Candle{O: 1, H: 2, L: 0.5, C: 1.5, Volume: 10}
	for name, tc := range map[string]struct {
		mutate func(*Candle)
		want   bool
	}{
		"good":            {func(*Candle) {}, true},
		"zero volume":     {func(c *Candle) { c.Volume = 0 }, true},
		"zero price":      {func(c *Candle) { c.O = 0 }, false},
		"NaN close":       {func(c *Candle) { c.C = math.NaN() }, false},
		"infinite high":   {func(c *Candle) { c.H = math.Inf(1) }, false},
		"negative volume": {func(c *Candle) { c.Volume = -1 }, false},
		"NaN volume":      {func(c *Candle) { c.Volume = math.NaN() }, false},
		"low above high":  {func(c *Candle) { c.L = 3 }, false},
	} {
		b := good
		tc.mutate(&b)
		if got := ValidCandles([]Candle{good, b}); got != tc.want {
			t.Errorf("%s: ValidCandles = %v, want %v", name, got, tc.want)
		}
	}
}
