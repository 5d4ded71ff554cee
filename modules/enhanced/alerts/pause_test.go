package alerts

import (
	"testing"
	"time"
)

// The alerts flag off for a chat pauses its alerts: kept in the store as
// they were, not evaluated (so a crossing then fires nothing, across a
// restart too), and resumed when the flag is back without firing for what
// happened meanwhile; the next real crossing fires once. Another chat's
// alert on the same pair goes on as before.
func TestFlagOffPausesAndResumesWithoutCatchingUp(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(1, "/alert btc above 98k")
	h.cmd(2, "/alert btc above 99k")
	h.cmd(1, "/alert eth below 3000") // a pair only the paused chat watches
	h.prices(btc, 97_000)
	h.prices(eth, 3_100)

	h.setFlag(1, false)
	h.tick(10 * time.Second)
	if n := h.r.eng.Len(); n != 1 {
		t.Fatalf("engine holds %d alerts with chat 1 paused, want chat 2's", n)
	}
	if got := h.st.state(1); got != "armed" {
		t.Errorf("paused alert stored %s, want armed as it was", got)
	}
	h.prices(btc, 98_500) // chat 1's level crossed while paused
	h.prices(eth, 2_900)
	wantSent(t, h, 1, 0)

	h.setFlag(1, true)
	h.tick(10 * time.Second) // resumed at 98,500 and 2,900: already past both levels, nothing to catch up
	h.prices(btc, 98_700)
	h.prices(eth, 2_850)
	wantSent(t, h, 1, 0)
	if n := h.r.eng.Len(); n != 3 {
		t.Errorf("engine holds %d alerts after resuming, want 3", n)
	}

	h.prices(btc, 97_000)
	h.setFlag(1, false)
	h.tick(10 * time.Second)
	h.restart(Config{}) // still off: still paused
	h.prices(btc, 97_500, 98_600)
	wantSent(t, h, 1, 0)
	h.setFlag(1, true)
	h.tick(10 * time.Second)
	h.prices(btc, 98_700)
	wantSent(t, h, 1, 0)
	h.prices(btc, 97_000, 98_100) // a crossing after the resume
	wantSent(t, h, 1, 1, "BTC-USDT is above 98,000")
	h.prices(btc, 99_500)
	wantSent(t, h, 2, 1, "BTC-USDT is above 99,000")
}

// While the memory guard sheds, evaluation goes on (an alert fires) but a
// due digest is declined, and sent once the guard admits it again.
func TestSheddingDeclinesDigestsNotAlerts(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(7, "/watch btc")
	h.cmd(7, "/digest 08:00")
	h.cmd(8, "/alert btc above 98k")
	h.prices(btc, 97_000)
	h.setShed(true)
	h.prices(btc, 98_500)
	wantSent(t, h, 8, 1, "above 98,000")
	h.clk.Set(time.Date(2026, 12, 2, 8, 0, 30, 0, time.UTC))
	h.m.sendDueDigests(t.Context(), h.clk.Now())
	wantSent(t, h, 7, 0)
	h.setShed(false)
	h.m.sendDueDigests(t.Context(), h.clk.Now())
	wantSent(t, h, 7, 1, "Daily digest")
}

// A digest that comes due while the chat's alerts flag is off is skipped
// for the day, not sent when the flag is back.
func TestFlagOffSkipsDigest(t *testing.T) {
	h := newHarness(t, Config{})
	h.cmd(7, "/watch btc")
	h.cmd(7, "/digest 08:00")
	h.setFlag(7, false)
	h.clk.Set(time.Date(2026, 12, 2, 8, 0, 30, 0, time.UTC))
	h.m.sendDueDigests(t.Context(), h.clk.Now())
	h.setFlag(7, true)
	h.m.sendDueDigests(t.Context(), h.clk.Now().Add(time.Hour))
	wantSent(t, h, 7, 0)
	h.m.sendDueDigests(t.Context(), time.Date(2026, 12, 3, 8, 1, 0, 0, time.UTC))
	wantSent(t, h, 7, 1, "Daily digest")
}
