package market

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/testkit"
)

// The tests below run in a synctest bubble, so background refreshes can be
// waited for (synctest.Wait) and their timeouts run on fake time; freshness
// follows the injected clock.

func staleServed(m *Market) float64 { return testutil.ToFloat64(m.cache.tel.stale[opTicker]) }

func upstream(m *Market, venue, trigger int) float64 {
	return testutil.ToFloat64(m.cache.tel.upstream[venue][trigger])
}

// swrMarket is one stub behind a Market with a 2 s TTL and a 15 s stale
// limit, BTC-USDT already fetched at the clock's start.
func swrMarket(t *testing.T) (*Market, *stub, *testkit.Clock) {
	t.Helper()
	clock := newClock()
	a := newStub("binance")
	a.now = clock.Now
	m := newTestMarket(t, Options{Now: clock.Now, TTL: 2 * time.Second, Freshness: Freshness{StaleLimit: 15 * time.Second}}, a)
	if _, err := m.Ticker(t.Context(), pair("BTC-USDT")); err != nil {
		t.Fatal(err)
	}
	return m, a, clock
}

// wantStale asks for BTC-USDT n times and expects the cached 100 each time,
// letting background work settle after each ask when settle is set.
func wantStale(t *testing.T, m *Market, n int, settle bool) {
	t.Helper()
	for range n {
		if tk, err := m.Ticker(t.Context(), pair("BTC-USDT")); err != nil || tk.Last != 100 {
			t.Fatalf("stale Ticker = %+v, %v", tk, err)
		}
		if settle {
			synctest.Wait()
		}
	}
}

func TestStaleWhileRevalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := swrMarket(t)
		fetched := clock.Now()
		clock.Add(3 * time.Second)
		gate := make(chan struct{})
		a.setGate(gate)
		a.setLast(101)
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				tk, err := m.Ticker(t.Context(), pair("BTC-USDT"))
				if err != nil || tk.Last != 100 || !tk.Time.Equal(fetched) {
					t.Errorf("stale Ticker = %+v, %v; want the cached 100 with its own time", tk, err)
				}
			})
		}
		wg.Wait() // nobody waited for the venue: the gate is still closed
		synctest.Wait()
		if got := a.count("ticker"); got != 2 {
			t.Errorf("upstream calls = %d, want 2: one background refresh for 100 stale hits", got)
		}
		if got := staleServed(m); got != 100 {
			t.Errorf("stale served = %v, want 100", got)
		}
		close(gate)
		synctest.Wait()
		tk, err := m.Ticker(t.Context(), pair("BTC-USDT"))
		if err != nil || tk.Last != 101 || !tk.Time.Equal(clock.Now()) {
			t.Errorf("after the refresh: %+v, %v; want the fresh 101", tk, err)
		}
		if got := staleServed(m); got != 100 {
			t.Errorf("stale served = %v after a fresh hit, want 100", got)
		}
		if got := upstream(m, 0, triggerRevalidate); got != 1 {
			t.Errorf("revalidate requests = %v, want 1", got)
		}
	})
}

// A failing refresh keeps the stale value, retries after a TTL, and past the
// stale limit callers wait and get the failure.
func TestStaleRefreshFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := swrMarket(t)
		a.setErr("ticker", ErrUnavailable)
		clock.Add(3 * time.Second)
		wantStale(t, m, 3, true)
		if got := a.count("ticker"); got != 2 {
			t.Errorf("upstream calls = %d, want 2: a failed refresh is not retried within a TTL", got)
		}
		clock.Add(2 * time.Second)
		m.Ticker(t.Context(), pair("BTC-USDT"))
		synctest.Wait()
		if got := a.count("ticker"); got != 3 {
			t.Errorf("upstream calls = %d, want 3: retried after a TTL", got)
		}
		clock.Add(10 * time.Second) // 15 s old: the stale limit
		if _, err := m.Ticker(t.Context(), pair("BTC-USDT")); !errors.Is(err, ErrUnavailable) {
			t.Errorf("past the stale limit: %v, want ErrUnavailable", err)
		}
	})
}

// A hanging refresh is bounded by RefreshTimeout; meanwhile the stale value
// is served and no second refresh starts.
func TestStaleRefreshHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := swrMarket(t)
		a.setHang(true)
		clock.Add(3 * time.Second)
		wantStale(t, m, 5, false)
		synctest.Wait()
		if got := a.count("ticker"); got != 2 {
			t.Errorf("upstream calls = %d, want 2", got)
		}
		time.Sleep(DefaultRefreshTimeout) // fake time: the hanging refresh times out
		synctest.Wait()
		if e, _ := m.cache.lookup(key{op: opTicker, venue: anyVenue, pair: pair("BTC-USDT")}, clock.Now()); e.meta.busy.Load() {
			t.Fatal("refresh still running after its timeout")
		}
		a.setHang(false)
		clock.Add(2 * time.Second) // past the retry back-off
		m.Ticker(t.Context(), pair("BTC-USDT"))
		synctest.Wait()
		if tk, _ := m.Ticker(t.Context(), pair("BTC-USDT")); !tk.Time.Equal(clock.Now()) {
			t.Errorf("after the venue recovered: %+v, want a fresh ticker", tk)
		}
	})
}

// Past the stale limit a caller waits for the venue, as on a miss.
func TestStaleLimitWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, a, clock := swrMarket(t)
		clock.Add(15 * time.Second)
		gate := make(chan struct{})
		a.setGate(gate)
		a.setLast(102)
		got := make(chan Ticker)
		go func() {
			tk, _ := m.Ticker(t.Context(), pair("BTC-USDT"))
			got <- tk
		}()
		synctest.Wait()
		select {
		case tk := <-got:
			t.Fatalf("a 15 s old value was served: %+v", tk)
		default:
		}
		close(gate)
		if tk := <-got; tk.Last != 102 {
			t.Errorf("Ticker = %+v, want the venue's new 102", tk)
		}
		if got := staleServed(m); got != 0 {
			t.Errorf("stale served = %v, want 0", got)
		}
	})
}

// Unknown symbols are not served stale: a new listing shows up within a second.
func TestUnknownNotServedStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := newClock()
		a := newStub("binance")
		a.spot = pairs("ETH-USDT")
		m := newTestMarket(t, Options{Now: clock.Now}, a)
		if _, err := m.Ticker(t.Context(), pair("BTC-USDT")); !errors.Is(err, ErrUnknownSymbol) {
			t.Fatal(err)
		}
		a.mu.Lock()
		a.spot = pairs("ETH-USDT", "BTC-USDT")
		a.mu.Unlock()
		clock.Add(time.Second)
		if _, err := m.Ticker(t.Context(), pair("BTC-USDT")); err != nil {
			t.Errorf("after the unknown TTL: %v, want the new listing", err)
		}
	})
}
