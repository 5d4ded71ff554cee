package market

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFailover(t *testing.T) {
	rl := &RateLimitError{Venue: "binance", RetryAfter: time.Second}
	tests := []struct {
		name      string
		setup     func(v map[string]*stub)
		wantVenue string         // the venue that answers; "" for an error
		wantErr   []error        // errors.Is targets when wantVenue is ""
		wantText  []string       // substrings of the error
		calls     map[string]int // ticker calls per venue
		failovers map[[2]string]float64
	}{
		{
			name:      "first answers",
			setup:     func(v map[string]*stub) {},
			wantVenue: "binance",
			calls:     map[string]int{"binance": 1, "bybit": 0, "okx": 0},
		},
		{
			name:      "rate limited moves on",
			setup:     func(v map[string]*stub) { v["binance"].setErr("ticker", rl) },
			wantVenue: "bybit",
			calls:     map[string]int{"binance": 1, "bybit": 1, "okx": 0},
			failovers: map[[2]string]float64{{"binance", "bybit"}: 1},
		},
		{
			name: "unavailable then malformed moves on twice",
			setup: func(v map[string]*stub) {
				v["binance"].setErr("ticker", ErrUnavailable)
				v["bybit"].setErr("ticker", ErrBadResponse)
			},
			wantVenue: "okx",
			calls:     map[string]int{"binance": 1, "bybit": 1, "okx": 1},
			failovers: map[[2]string]float64{{"binance", "bybit"}: 1, {"bybit", "okx"}: 1},
		},
		{
			name:      "any other error moves on",
			setup:     func(v map[string]*stub) { v["binance"].setErr("ticker", errors.New("connection reset")) },
			wantVenue: "bybit",
			calls:     map[string]int{"binance": 1, "bybit": 1, "okx": 0},
			failovers: map[[2]string]float64{{"binance", "bybit"}: 1},
		},
		{
			name:     "unknown symbol stops",
			setup:    func(v map[string]*stub) { v["binance"].setErr("ticker", ErrUnknownSymbol) },
			wantErr:  []error{ErrUnknownSymbol},
			calls:    map[string]int{"binance": 1, "bybit": 0, "okx": 0},
			wantText: []string{"unknown symbol"},
		},
		{
			name: "all fail",
			setup: func(v map[string]*stub) {
				v["binance"].setErr("ticker", rl)
				v["bybit"].setErr("ticker", errors.New("bybit ticker BTCUSDT: http 502"))
				v["okx"].setErr("ticker", ErrBadResponse)
			},
			wantErr:   []error{ErrUnavailable, ErrRateLimited, ErrBadResponse},
			wantText:  []string{"ticker BTC-USDT: market data unavailable: binance: rate limited", "; bybit ticker BTCUSDT: http 502; okx: malformed response"},
			calls:     map[string]int{"binance": 1, "bybit": 1, "okx": 1},
			failovers: map[[2]string]float64{{"binance", "bybit"}: 1, {"bybit", "okx"}: 1},
		},
		{
			name: "venues not listing the pair are skipped",
			setup: func(v map[string]*stub) {
				v["binance"].spot = pairs("ETH-USDT")
				v["bybit"].spot = pairs("ETH-USDT")
			},
			wantVenue: "okx",
			calls:     map[string]int{"binance": 0, "bybit": 0, "okx": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := map[string]*stub{"binance": newStub("binance"), "bybit": newStub("bybit"), "okx": newStub("okx")}
			tc.setup(v)
			m := newTestMarket(t, Options{}, v["binance"], v["bybit"], v["okx"])
			if err := m.Warm(t.Context()); err != nil {
				t.Fatal(err)
			}
			got, err := m.Ticker(t.Context(), pair("BTC-USDT"))
			if tc.wantVenue != "" {
				if err != nil || got.Venue != tc.wantVenue {
					t.Fatalf("Ticker = %+v, %v; want from %s", got, err, tc.wantVenue)
				}
			} else {
				if err == nil {
					t.Fatalf("Ticker = %+v, want an error", got)
				}
				for _, target := range tc.wantErr {
					if !errors.Is(err, target) {
						t.Errorf("errors.Is(%v, %v) = false", err, target)
					}
				}
			}
			for _, s := range tc.wantText {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("error %v lacks %q", err, s)
				}
			}
			for name, want := range tc.calls {
				if got := v[name].count("ticker"); got != want {
					t.Errorf("%s ticker calls = %d, want %d", name, got, want)
				}
			}
			for _, from := range []string{"binance", "bybit", "okx"} {
				for _, to := range []string{"binance", "bybit", "okx"} {
					want := tc.failovers[[2]string{from, to}]
					if got := testutil.ToFloat64(m.metrics.Failovers.WithLabelValues(from, to)); got != want {
						t.Errorf("failovers %s→%s = %v, want %v", from, to, got, want)
					}
				}
			}
		})
	}
}

func TestFailoverNoVenues(t *testing.T) {
	m := newTestMarket(t, Options{})
	_, err := m.Funding(t.Context(), pair("BTC-USDT"))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no venues") {
		t.Fatalf("Funding with no venues = %v, want ErrUnavailable naming the cause", err)
	}
}

// A hanging venue gets only its slice of the deadline: with 3 s left and
// three venues, the next venue is asked after 1 s.
func TestFailoverAttemptSlice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, c := newStub("binance"), newStub("bybit"), newStub("okx")
		a.hang = true
		m := newTestMarket(t, Options{}, a, b, c)
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		start := time.Now()
		got, err := m.OpenInterest(ctx, pair("ETH-USDT"))
		if err != nil || got.Venue != "bybit" {
			t.Fatalf("OpenInterest = %+v, %v; want bybit's answer", got, err)
		}
		if elapsed := time.Since(start); elapsed != time.Second {
			t.Errorf("answered after %s, want the first venue cut off at 1s", elapsed)
		}
	})
}

// When every venue hangs, the caller's deadline ends the call and the error
// says so.
func TestFailoverDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := newStub("binance"), newStub("bybit")
		a.hang, b.hang = true, true
		m := newTestMarket(t, Options{}, a, b)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := m.Funding(ctx, pair("BTC-USDT"))
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Funding = %v, want ErrUnavailable and DeadlineExceeded", err)
		}
		if elapsed := time.Since(start); elapsed != 2*time.Second {
			t.Errorf("gave up after %s, want at the 2s deadline", elapsed)
		}
		if a.count("funding") != 1 || b.count("funding") != 1 {
			t.Errorf("calls binance %d bybit %d, want 1 each", a.count("funding"), b.count("funding"))
		}
	})
}

func TestAttemptContextFloor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		actx, acancel := attemptContext(ctx, 3)
		defer acancel()
		dl, _ := actx.Deadline()
		if got := time.Until(dl); got != minAttempt {
			t.Errorf("attempt budget %s, want the %s floor", got, minAttempt)
		}
	})
}

// A venue that just failed is tried last for a while, so a hanging venue
// costs one caller its attempt slice, not every caller; after the cool-down
// it is first again.
func TestFailoverCoolDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, c := newStub("binance"), newStub("bybit"), newStub("okx")
		a.hang = true
		m := newTestMarket(t, Options{}, a, b, c)
		ask := func(p string) (string, time.Duration) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			start := time.Now()
			got, err := m.Ticker(ctx, pair(p))
			if err != nil {
				t.Fatalf("Ticker(%s): %v", p, err)
			}
			return got.Venue, time.Since(start)
		}
		if venue, took := ask("BTC-USDT"); venue != "bybit" || took != time.Second {
			t.Fatalf("first ask: %s after %s, want bybit after the 1s slice", venue, took)
		}
		if venue, took := ask("ETH-USDT"); venue != "bybit" || took != 0 {
			t.Errorf("during the cool-down: %s after %s, want bybit at once", venue, took)
		}
		if n := a.count("ticker"); n != 1 {
			t.Errorf("the hanging venue was asked %d times during its cool-down, want 1", n)
		}
		time.Sleep(coolDown)
		a.mu.Lock()
		a.hang = false
		a.mu.Unlock()
		if venue, _ := ask("SOL-USDT"); venue != "binance" {
			t.Errorf("after the cool-down: %s, want binance first again", venue)
		}
	})
}

func TestCoolDownHonoursRetryAfter(t *testing.T) {
	h := newHealth(2)
	now := time.Unix(1000, 0)
	h.failed(0, &RateLimitError{Venue: "binance", RetryAfter: 30 * time.Second}, now)
	if got := h.order([]int{0, 1}, now.Add(29*time.Second)); got[0] != 1 {
		t.Errorf("29 s into a 30 s Retry-After: order %v, want the limited venue last", got)
	}
	if got := h.order([]int{0, 1}, now.Add(30*time.Second)); got[0] != 0 {
		t.Errorf("after Retry-After: order %v, want configured order", got)
	}
	h.failed(1, &RateLimitError{Venue: "bybit", RetryAfter: time.Hour}, now)
	if got := h.order([]int{0, 1}, now.Add(maxCoolDown)); got[0] != 0 || got[1] != 1 {
		t.Errorf("Retry-After is capped at %s: order %v", maxCoolDown, got)
	}
	h.failed(0, ErrUnavailable, now)
	h.ok(0)
	if got := h.order([]int{0, 1}, now); got[0] != 0 {
		t.Errorf("a success ends the cool-down: order %v", got)
	}
}

// A venue that cannot serve a request (say, an OI period it does not offer)
// is passed over for that call but stays first for the next.
func TestUnsupportedDoesNotCoolDown(t *testing.T) {
	a, b := newStub("binance"), newStub("bybit")
	a.setErr("ticker", fmt.Errorf("binance ticker: %w", ErrUnsupported))
	m := newTestMarket(t, Options{}, a, b)
	if got, err := m.Ticker(t.Context(), pair("BTC-USDT")); err != nil || got.Venue != "bybit" {
		t.Fatalf("Ticker = %+v, %v; want bybit's answer", got, err)
	}
	if order := m.health.order([]int{0, 1}, time.Now()); order[0] != 0 {
		t.Errorf("order after an unsupported request: %v, want binance still first", order)
	}
}

// A pair no loaded list has is unknown without a request; a venue whose list
// did not load still decides for itself.
func TestFailoverUnlistedPair(t *testing.T) {
	a, b := newStub("binance"), newStub("bybit")
	m := newTestMarket(t, Options{Now: newClock().Now}, a, b)
	if err := m.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Funding(t.Context(), pair("ETH-BTC")); !errors.Is(err, ErrUnknownSymbol) {
		t.Errorf("Funding(ETH-BTC perp, listed by none) = %v, want ErrUnknownSymbol", err)
	}
	if n := a.count("funding") + b.count("funding"); n != 0 {
		t.Errorf("%d upstream calls for a pair no list has, want 0", n)
	}

	c, d := newStub("binance"), newStub("bybit")
	d.setErr("instruments", ErrUnavailable)
	m2 := newTestMarket(t, Options{Now: newClock().Now}, c, d)
	if err := m2.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	m2.Funding(t.Context(), pair("ETH-BTC"))
	if c.count("funding") != 0 || d.count("funding") != 1 {
		t.Errorf("calls binance %d, bybit %d; want only bybit, whose list is unknown", c.count("funding"), d.count("funding"))
	}
}
