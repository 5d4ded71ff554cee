package alerts

import (
	"strings"
	"testing"
	"time"
)

// A paused alert of every kind misses what happened during its pause, even
// when another chat's alert keeps the pair's history (a move window that
// reached back into the pause would fire at once on resuming), and fires
// once on the first real change after it.
func TestPausedKindsResumeWithoutCatchingUp(t *testing.T) {
	cases := []struct {
		name        string
		alert, keep string    // chat 1's alert, and chat 2's on the same data
		start       float64   // the value before the pause
		paused      float64   // the value reached during it, past chat 1's condition
		after       []float64 // a change from paused on that fires it
		want        string
		set         func(h *harness, v float64)
	}{
		{"move", "/alert btc move 5%", "/alert btc move 40%", 97_000, 102_500, []float64{108_000},
			"moved +5.37% within 1h: 102,500.00 → 108,000.00", func(h *harness, v float64) { h.mkt.set(btc, v) }},
		{"oi move", "/alert btc oi move 10%", "/alert btc oi move 80%", 10e9, 11.5e9, []float64{12.7e9},
			"open interest", func(h *harness, v float64) { h.mkt.update(func() { h.mkt.oi[btc] = v }) }},
		{"funding", "/alert btc funding above 0.05%", "/alert btc funding above 0.5%", 0.0001, 0.0006, []float64{0.0004, 0.0007}, // back under, then a crossing
			"funding", func(h *harness, v float64) {
				h.mkt.update(func() { h.mkt.funding[btc] = map[string]float64{"binance": v, "bybit": v} })
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{Poll: time.Second, SlowPoll: time.Second, FlagCheck: time.Second})
			step := func(v float64) {
				c.set(h, v)
				h.tick(time.Minute)
			}
			step(c.start)
			h.cmd(1, c.alert)
			h.cmd(2, c.keep)
			step(c.start)
			h.setFlag(1, false)
			step(c.start)
			if n := h.r.eng.Len(); n != 1 {
				t.Fatalf("engine holds %d alerts with chat 1 paused, want chat 2's", n)
			}
			step(c.paused)
			if got := h.cmd(1, "/alerts"); !strings.Contains(got, "paused") {
				t.Errorf("/alerts with the flag off: %q, want the alert paused", got)
			}
			h.setFlag(1, true)
			step(c.paused) // resumed here
			step(c.paused)
			wantSent(t, h, 1, 0)
			if n := h.r.eng.Len(); n != 2 {
				t.Fatalf("engine holds %d alerts after resuming, want 2", n)
			}
			for _, v := range c.after {
				step(v)
			}
			wantSent(t, h, 1, 1, c.want)
			wantSent(t, h, 2, 0)
		})
	}
}
