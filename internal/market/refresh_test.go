package market

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/testkit"
)

// aheadMarket is one stub behind a Market with a 2 s TTL and a 500 ms lead.
func aheadMarket(t *testing.T, budget map[string]float64) (*Market, *stub, *testkit.Clock) {
	t.Helper()
	clock := newClock()
	a := newStub("binance")
	a.now = clock.Now
	m := newTestMarket(t, Options{Now: clock.Now, TTL: 2 * time.Second,
		Freshness: Freshness{RefreshLead: 500 * time.Millisecond, HotWindow: time.Minute, Budget: budget}}, a)
	return m, a, clock
}

func TestRefreshAheadHotKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := aheadMarket(t, nil)
		if _, err := m.Ticker(t.Context(), pair("BTC-USDT")); err != nil {
			t.Fatal(err)
		}
		clock.Add(1400 * time.Millisecond)
		if n := m.refreshAhead(clock.Now()); n != 0 {
			t.Errorf("600 ms before expiry: %d refreshes, want 0", n)
		}
		clock.Add(200 * time.Millisecond)
		if n := m.refreshAhead(clock.Now()); n != 1 {
			t.Errorf("400 ms before expiry: %d refreshes, want 1", n)
		}
		if n := m.refreshAhead(clock.Now()); n != 0 {
			t.Errorf("while one runs: %d more, want 0", n)
		}
		synctest.Wait()
		clock.Add(600 * time.Millisecond) // past the first value's TTL
		tk, err := m.Ticker(t.Context(), pair("BTC-USDT"))
		if err != nil || !tk.Time.Equal(clock.Now().Add(-600*time.Millisecond)) {
			t.Errorf("Ticker = %+v, %v; want the value refreshed ahead", tk, err)
		}
		if got := staleServed(m); got != 0 {
			t.Errorf("stale served = %v, want 0: the hot key never went stale", got)
		}
		if a.count("ticker") != 2 || upstream(m, 0, triggerAhead) != 1 {
			t.Errorf("calls %d, ahead %v; want 2 and 1", a.count("ticker"), upstream(m, 0, triggerAhead))
		}
	})
}

// A refresh ahead that fails leaves the value to go stale; the key is not
// refreshed ahead again within a TTL.
func TestRefreshAheadFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := aheadMarket(t, nil)
		m.Ticker(t.Context(), pair("BTC-USDT"))
		a.setErr("ticker", ErrUnavailable)
		clock.Add(1600 * time.Millisecond)
		if n := m.refreshAhead(clock.Now()); n != 1 {
			t.Fatalf("%d refreshes, want 1", n)
		}
		synctest.Wait()
		clock.Add(time.Second)
		if n := m.refreshAhead(clock.Now()); n != 0 {
			t.Errorf("%d refreshes a second after a failure, want 0", n)
		}
		if tk, err := m.Ticker(t.Context(), pair("BTC-USDT")); err != nil || tk.Last != 100 {
			t.Errorf("Ticker = %+v, %v; want the stale value", tk, err)
		}
	})
}

// A key nobody asked for in a minute is no longer refreshed ahead.
func TestHotKeyFallsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := aheadMarket(t, nil)
		m.Ticker(t.Context(), pair("BTC-USDT"))
		asked := clock.Now()
		refreshed := 0
		for clock.Now().Sub(asked) < 70*time.Second {
			clock.Add(500 * time.Millisecond)
			refreshed += m.refreshAhead(clock.Now())
			synctest.Wait()
		}
		// Refreshes every 1.5 s (when 500 ms of TTL are left) for a minute.
		if refreshed < 39 || refreshed > 41 {
			t.Errorf("%d refreshes in 70 s for a key last asked for at 0 s, want 40", refreshed)
		}
		if got := a.count("ticker"); got != refreshed+1 {
			t.Errorf("upstream calls = %d, want %d", got, refreshed+1)
		}
	})
}

// Refresh ahead stays within each venue's budget; keys over it wait for
// the next tick.
func TestRefreshAheadBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := aheadMarket(t, map[string]float64{"binance": 3})
		for limit := 1; limit <= 10; limit++ {
			if _, err := m.Candles(t.Context(), pair("BTC-USDT"), H1, limit); err != nil {
				t.Fatal(err)
			}
		}
		clock.Add(1600 * time.Millisecond)
		total := 0
		for range 4 { // 1 s of ticks at 250 ms: a burst of 3, then 3/s
			total += m.refreshAhead(clock.Now())
			synctest.Wait()
			clock.Add(250 * time.Millisecond)
		}
		if total < 5 || total > 6 {
			t.Errorf("%d refreshes ahead in 1 s on a budget of 3/s (burst 3), want 5 or 6", total)
		}
		if got := a.count("candles"); got != 10+total {
			t.Errorf("upstream calls = %d, want %d", got, 10+total)
		}
		off, _, clock2 := aheadMarket(t, map[string]float64{"binance": 0})
		off.Ticker(t.Context(), pair("BTC-USDT"))
		clock2.Add(1600 * time.Millisecond)
		if n := off.refreshAhead(clock2.Now()); n != 0 {
			t.Errorf("budget 0: %d refreshes, want 0", n)
		}
	})
}

// A pinned pair is fetched and kept fresh though nobody asks for it.
func TestPin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := aheadMarket(t, nil)
		unpin := m.Pin(pair("ETH-USDT"))
		if n := m.refreshAhead(clock.Now()); n != 1 {
			t.Fatalf("pinned and not cached: %d refreshes, want 1", n)
		}
		synctest.Wait()
		for range 200 { // 100 s, far past the hot window
			clock.Add(500 * time.Millisecond)
			m.refreshAhead(clock.Now())
			synctest.Wait()
		}
		tk, err := m.Ticker(t.Context(), pair("ETH-USDT"))
		if err != nil || clock.Now().Sub(tk.Time) >= 2*time.Second {
			t.Errorf("pinned ticker %+v, %v; want one younger than the TTL", tk, err)
		}
		unpin()
		unpin() // idempotent
		calls := a.count("ticker")
		clock.Add(90 * time.Second)
		for range 10 {
			clock.Add(500 * time.Millisecond)
			m.refreshAhead(clock.Now())
			synctest.Wait()
		}
		if got := a.count("ticker"); got != calls {
			t.Errorf("unpinned and unused: %d more calls, want 0", got-calls)
		}
	})
}

// Run refreshes hot keys on its own: a key asked for keeps being fresh.
func TestRunRefreshesAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStub("binance")
		a.now = time.Now // the bubble's fake clock
		m := newTestMarket(t, Options{TTL: 2 * time.Second}, a)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		m.Ticker(t.Context(), pair("BTC-USDT"))
		for range 20 {
			time.Sleep(time.Second) // fake time
			tk, err := m.Ticker(t.Context(), pair("BTC-USDT"))
			if err != nil || time.Since(tk.Time) >= 2*time.Second {
				t.Fatalf("Ticker = %+v, %v: not kept fresh", tk, err)
			}
		}
		if got := staleServed(m); got != 0 {
			t.Errorf("stale served = %v, want 0", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// A TTL of a few milliseconds (tests that want every ask to reach a venue)
// turns refresh ahead off.
func TestTinyTTLNoRefreshAhead(t *testing.T) {
	m := newTestMarket(t, Options{TTL: time.Millisecond}, newStub("binance"))
	for i, l := range m.cache.ahead.limiters {
		if l != nil {
			t.Errorf("venue %d has a refresh-ahead budget at a 1 ms TTL", i)
		}
	}
}
