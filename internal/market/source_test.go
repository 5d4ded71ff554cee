package market

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVenues(t *testing.T) {
	a, b, c := newStub("bybit"), newStub("okx"), newStub("binance")
	c.perp = pairs("BTC-USDT") // binance lists no ETH perp
	a.setErr("open_interest", ErrRateLimited)
	m := newTestMarket(t, Options{Now: newClock().Now}, a, b, c)
	if err := m.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	venues := m.Venues()
	var names []string
	for _, v := range venues {
		names = append(names, v.Name())
	}
	if got := strings.Join(names, ","); got != "bybit,okx,binance" {
		t.Fatalf("Venues() = %s, want configured order bybit,okx,binance", got)
	}

	tests := []struct {
		name      string
		venue     int
		pair      string
		wantErr   error
		wantVenue string
		calls     map[*stub]int // open_interest calls per stub after the call, asked twice
	}{
		{"no failover on error", 0, "ETH-USDT", ErrRateLimited, "", map[*stub]int{a: 2, b: 0, c: 0}},
		{"own answer, cached", 1, "ETH-USDT", nil, "okx", map[*stub]int{a: 2, b: 1, c: 0}},
		{"unlisted pair answered without a request", 2, "ETH-USDT", ErrUnknownSymbol, "", map[*stub]int{a: 2, b: 1, c: 0}},
		{"listed pair", 2, "BTC-USDT", nil, "binance", map[*stub]int{a: 2, b: 1, c: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 {
				oi, err := venues[tc.venue].OpenInterest(t.Context(), pair(tc.pair))
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("OpenInterest = %v, want %v", err, tc.wantErr)
					}
				} else if err != nil || oi.Venue != tc.wantVenue {
					t.Fatalf("OpenInterest = %+v, %v; want from %s", oi, err, tc.wantVenue)
				}
			}
			for s, want := range tc.calls {
				if got := s.count("open_interest"); got != want {
					t.Errorf("%s calls = %d, want %d", s.name, got, want)
				}
			}
		})
	}

	// The slice is the caller's: replacing an element does not change the Market.
	venues[0] = nil
	if m.Venues()[0] == nil {
		t.Error("Venues() exposes the Market's own slice")
	}
	ins, err := m.Venues()[1].Instruments(t.Context(), Perp)
	if err != nil || len(ins) != 3 {
		t.Errorf("Instruments = %d, %v; want okx's 3 perps", len(ins), err)
	}
}

func TestBadArguments(t *testing.T) {
	a := newStub("binance")
	m := newTestMarket(t, Options{}, a)
	ctx := t.Context()
	btc := pair("BTC-USDT")
	tests := []struct {
		name    string
		call    func() error
		want    string
		unknown bool // errors.Is(err, ErrUnknownSymbol)
	}{
		{"candles bad interval", func() error { _, err := m.Candles(ctx, btc, Interval("2h"), 10); return err }, `interval "2h"`, false},
		{"candles zero limit", func() error { _, err := m.Candles(ctx, btc, H1, 0); return err }, "limit 0", false},
		{"oi history zero period", func() error { _, err := m.OIHistory(ctx, btc, 0, 10); return err }, "period 0s", false},
		{"oi history negative limit", func() error { _, err := m.OIHistory(ctx, btc, time.Hour, -1); return err }, "limit -1", false},
		{"empty pair", func() error { _, err := m.Ticker(ctx, Pair{}); return err }, "empty base or quote", true},
		{"empty quote", func() error { _, err := m.Venues()[0].Funding(ctx, Pair{Base: "BTC"}); return err }, "empty base or quote", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if got := errors.Is(err, ErrUnknownSymbol); got != tc.unknown {
				t.Errorf("errors.Is(ErrUnknownSymbol) = %v, want %v", got, tc.unknown)
			}
		})
	}
	for _, method := range []string{"ticker", "funding", "candles", "oi_history"} {
		if n := a.count(method); n != 0 {
			t.Errorf("%s reached the venue %d times, want 0", method, n)
		}
	}
}

func TestDefaults(t *testing.T) {
	m := New(Options{})
	if m.cache.ttl != DefaultTTL || m.refresh != DefaultInstrumentRefresh || m.cache.maxBytes != DefaultCacheBytes {
		t.Errorf("defaults: ttl %s refresh %s bytes %d", m.cache.ttl, m.refresh, m.cache.maxBytes)
	}
	if m.retry != maxRetry || m.cache.unknownTTL != time.Second {
		t.Errorf("retry %s, unknown ttl %s; want %s, 1s", m.retry, m.cache.unknownTTL, maxRetry)
	}
	if len(m.Venues()) != 0 {
		t.Errorf("Venues() = %d, want none", len(m.Venues()))
	}
}
