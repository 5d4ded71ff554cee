package market

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func cacheCount(m *Market, kind, result string) float64 {
	return testutil.ToFloat64(m.metrics.CacheRequests.WithLabelValues(kind, result))
}

func TestCoalescing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStub("binance")
		a.gate = make(chan struct{})
		m := newTestMarket(t, Options{}, a)
		const n = 1000
		var wg sync.WaitGroup
		results := make([]Ticker, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { results[i], errs[i] = m.Ticker(t.Context(), pair("BTC-USDT")) })
		}
		synctest.Wait() // every caller is now waiting on the one upstream call
		close(a.gate)
		wg.Wait()
		for i := range n {
			if errs[i] != nil || results[i].Last != 100 {
				t.Fatalf("caller %d: %+v, %v", i, results[i], errs[i])
			}
		}
		if got := a.count("ticker"); got != 1 {
			t.Errorf("%d concurrent calls made %d upstream calls, want 1", n, got)
		}
		if _, err := m.Ticker(t.Context(), pair("BTC-USDT")); err != nil {
			t.Fatal(err)
		}
		for result, want := range map[string]float64{"miss": 1, "coalesced": n - 1, "hit": 1} {
			if got := cacheCount(m, "ticker", result); got != want {
				t.Errorf("cache %s = %v, want %v", result, got, want)
			}
		}
	})
}

func TestCacheTTL(t *testing.T) {
	tests := []struct {
		name      string
		err       error // the venue's answer
		advance   time.Duration
		wantCalls int // upstream calls after: call, call, advance, call
	}{
		{"value cached within ttl", nil, time.Second, 1},
		{"value revalidated after ttl", nil, 2 * time.Second, 2},
		{"unknown symbol cached briefly", ErrUnknownSymbol, 999 * time.Millisecond, 1},
		{"unknown symbol expires after a second", ErrUnknownSymbol, time.Second, 2},
		{"unavailable never cached", ErrUnavailable, 0, 3},
		{"rate limit never cached", &RateLimitError{Venue: "binance"}, 0, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, synctestRun(func(t *testing.T) {
			a := newStub("binance")
			a.setErr("funding", tc.err)
			clock := newClock()
			m := newTestMarket(t, Options{Now: clock.Now, TTL: 2 * time.Second}, a)
			var errs []error
			for i := range 3 {
				if i == 2 {
					clock.Add(tc.advance)
				}
				_, err := m.Venues()[0].Funding(t.Context(), pair("BTC-USDT"))
				errs = append(errs, err)
			}
			synctest.Wait() // a background revalidation, if any, is done
			if got := a.count("funding"); got != tc.wantCalls {
				t.Errorf("upstream calls = %d, want %d", got, tc.wantCalls)
			}
			for i, err := range errs {
				if (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
					t.Errorf("call %d: error %v, want %v", i, err, tc.err)
				}
			}
		}))
	}
}

// synctestRun adapts synctest.Test to t.Run.
func synctestRun(f func(*testing.T)) func(*testing.T) {
	return func(t *testing.T) { synctest.Test(t, f) }
}

func TestCacheKeys(t *testing.T) {
	a := newStub("binance")
	m := newTestMarket(t, Options{Now: newClock().Now}, a)
	ctx := t.Context()
	calls := []func() error{
		func() error { _, err := m.Candles(ctx, pair("BTC-USDT"), H1, 10); return err },
		func() error { _, err := m.Candles(ctx, pair("BTC-USDT"), H4, 10); return err },
		func() error { _, err := m.Candles(ctx, pair("BTC-USDT"), H1, 20); return err },
		func() error { _, err := m.Candles(ctx, pair("ETH-USDT"), H1, 10); return err },
		func() error { _, err := m.Venues()[0].Candles(ctx, pair("BTC-USDT"), H1, 10); return err },
		func() error { _, err := m.OIHistory(ctx, pair("BTC-USDT"), time.Hour, 10); return err },
		func() error { _, err := m.OIHistory(ctx, pair("BTC-USDT"), 5*time.Minute, 10); return err },
	}
	for round := range 2 {
		for i, call := range calls {
			if err := call(); err != nil {
				t.Fatalf("round %d call %d: %v", round, i, err)
			}
		}
	}
	if got := a.count("candles") + a.count("oi_history"); got != len(calls) {
		t.Errorf("%d upstream calls for %d distinct keys asked twice, want %d", got, len(calls), len(calls))
	}
	if got := cacheCount(m, "candles", "hit"); got != 5 {
		t.Errorf("candles hits = %v, want 5", got)
	}
	if got := cacheCount(m, "oi_history", "hit"); got != 2 {
		t.Errorf("oi_history hits = %v, want 2", got)
	}
}

// OI history from the cache is the caller's own copy (candles are shared:
// TestCachedCandlesShared).
func TestCachedOIHistoryIsACopy(t *testing.T) {
	m := newTestMarket(t, Options{Now: newClock().Now}, newStub("binance"))
	ctx := t.Context()
	pts, err := m.OIHistory(ctx, pair("BTC-USDT"), time.Hour, 3)
	if err != nil {
		t.Fatal(err)
	}
	pts[2].USD = -1
	again, _ := m.OIHistory(ctx, pair("BTC-USDT"), time.Hour, 3)
	if again[2].USD != 200 {
		t.Errorf("cached OI history changed by a caller: %+v", again[2])
	}
}

func TestCacheBounded(t *testing.T) {
	clock := newClock()
	const maxEntries = 10
	m := newTestMarket(t, Options{Now: clock.Now, TTL: time.Minute, CacheBytes: maxEntries * entryBytes}, newStub("binance"))
	for i := range 1000 {
		// Unlisted pairs: cached as unknown, like a flood of garbage symbols.
		_, err := m.Ticker(t.Context(), Pair{Base: fmt.Sprintf("X%d", i), Quote: "USDT"})
		if !errors.Is(err, ErrUnknownSymbol) {
			t.Fatalf("Ticker X%d = %v, want ErrUnknownSymbol", i, err)
		}
		if n, b := len(m.cache.entries), m.cache.bytes; n > maxEntries || b > maxEntries*entryBytes {
			t.Fatalf("after %d inserts: %d entries, %d bytes; want ≤ %d entries", i+1, n, b, maxEntries)
		}
	}
	if _, err := m.Candles(t.Context(), pair("BTC-USDT"), H1, 1000); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.cache.lookup(key{op: opCandles, venue: anyVenue, pair: pair("BTC-USDT"), iv: H1, limit: 1000}, clock.Now()); ok {
		t.Error("an entry larger than the whole cache was stored")
	}

	// Entries past the stale limit are swept on insert even when the cache is not full.
	m2 := newTestMarket(t, Options{Now: clock.Now, TTL: 2 * time.Second}, newStub("binance"))
	for _, s := range []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"} {
		if _, err := m2.Ticker(t.Context(), pair(s)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(DefaultStaleLimit)
	if _, err := m2.Ticker(t.Context(), pair("ETH-BTC")); err != nil {
		t.Fatal(err)
	}
	if n, b := len(m2.cache.entries), m2.cache.bytes; n != 1 || b != entryBytes {
		t.Errorf("after expiry and one insert: %d entries, %d bytes; want 1, %d", n, b, entryBytes)
	}
}

// A caller whose ctx ends stops waiting at once; the shared fetch goes on
// and serves the others.
func TestCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStub("binance")
		a.gate = make(chan struct{})
		m := newTestMarket(t, Options{}, a)
		ctx, cancel := context.WithCancel(t.Context())
		first := make(chan error)
		go func() {
			_, err := m.Ticker(ctx, pair("BTC-USDT"))
			first <- err
		}()
		second := make(chan Ticker)
		go func() {
			tk, _ := m.Ticker(t.Context(), pair("BTC-USDT"))
			second <- tk
		}()
		synctest.Wait()
		cancel()
		err := <-first
		if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("cancelled caller got %v, want Canceled and ErrUnavailable", err)
		}
		close(a.gate)
		if tk := <-second; tk.Last != 100 {
			t.Errorf("second caller got %+v, want the shared result", tk)
		}
		if _, err := m.Ticker(t.Context(), pair("BTC-USDT")); err != nil {
			t.Fatal(err)
		}
		if got := a.count("ticker"); got != 1 {
			t.Errorf("upstream calls = %d, want 1", got)
		}
		if got := cacheCount(m, "ticker", "hit"); got != 1 {
			t.Errorf("hits = %v, want 1: the result was cached after the first caller left", got)
		}
	})
}

func TestCallerAlreadyDone(t *testing.T) {
	a := newStub("binance")
	m := newTestMarket(t, Options{}, a)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Ticker(ctx, pair("BTC-USDT")); !errors.Is(err, context.Canceled) {
		t.Errorf("Ticker with a done ctx = %v, want Canceled", err)
	}
	if got := a.count("ticker"); got != 0 {
		t.Errorf("upstream calls = %d, want 0", got)
	}
}

func BenchmarkTickerCacheHit(b *testing.B) {
	m := newTestMarket(b, Options{TTL: time.Hour}, newStub("binance"))
	p := pair("BTC-USDT")
	ctx := b.Context()
	if _, err := m.Ticker(ctx, p); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Ticker(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCachedCandlesShared: callers share the cached candles without a copy,
// and one caller appending to its slice never changes what the next sees.
func TestCachedCandlesShared(t *testing.T) {
	m := newTestMarket(t, Options{Now: newClock().Now}, newStub("binance"))
	first, err := m.Candles(t.Context(), pair("BTC-USDT"), H1, 10)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(first, Candle{C: -1})
	again, err := m.Candles(t.Context(), pair("BTC-USDT"), H1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 10 || &again[0] != &first[0] {
		t.Errorf("second read: %d candles at %p, want the same 10 at %p", len(again), &again[0], &first[0])
	}
	if more := append(again, Candle{C: -2}); len(more) != 11 || cap(again) != 10 || again[9].C != 10 {
		t.Errorf("append changed the shared slice: cap %d, last %v", cap(again), again[9])
	}
}
