package market

import (
	"cmp"
	"context"
	"errors"
	"testing"
)

// perpStub is a stub whose venue also serves the perpetual ticker.
type perpStub struct{ *stub }

func (s perpStub) PerpTicker(ctx context.Context, p Pair) (Ticker, error) {
	if err := s.begin(ctx, "perp_ticker", Perp, p); err != nil {
		return Ticker{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last := cmp.Or(s.last, 100) + 1
	return Ticker{Pair: p, Venue: s.name, Last: last, Low: last * 0.9, High: last * 1.1}, nil
}

func newPerpMarket(t *testing.T, exs ...Exchange) *Market {
	t.Helper()
	m := New(Options{Exchanges: exs})
	if err := m.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPerpTickerCachedAndFailsOver(t *testing.T) {
	b, y := newStub("binance"), newStub("bybit")
	m := newPerpMarket(t, perpStub{b}, perpStub{y})
	b.setErr("perp_ticker", ErrUnavailable)
	btc := pair("BTC-USDT")
	for range 3 {
		got, err := m.PerpTicker(t.Context(), btc)
		if err != nil || got.Venue != "bybit" || got.Last != 101 {
			t.Fatalf("PerpTicker = %+v, %v; want bybit's 101", got, err)
		}
	}
	if nb, ny := b.count("perp_ticker"), y.count("perp_ticker"); nb != 1 || ny != 1 {
		t.Errorf("perp ticker calls binance %d, bybit %d; want 1 each (then cached)", nb, ny)
	}
	if n := b.count("ticker") + y.count("ticker"); n != 0 {
		t.Errorf("%d spot ticker calls for a perpetual", n)
	}
	// The spot ticker of the same pair is its own cache entry.
	if st, err := m.Ticker(t.Context(), btc); err != nil || st.Last != 100 {
		t.Errorf("spot Ticker = %+v, %v", st, err)
	}
}

// A venue client without a perpetual ticker is passed over.
func TestPerpTickerSkipsVenueWithout(t *testing.T) {
	plain, y := newStub("binance"), newStub("bybit")
	m := newPerpMarket(t, plain, perpStub{y})
	got, err := m.PerpTicker(t.Context(), pair("ETH-USDT"))
	if err != nil || got.Venue != "bybit" {
		t.Fatalf("PerpTicker = %+v, %v; want bybit", got, err)
	}
	// Unsupported says nothing of binance's health: it stays first for spot.
	if st, err := m.Ticker(t.Context(), pair("ETH-USDT")); err != nil || st.Venue != "binance" {
		t.Errorf("spot Ticker = %+v, %v; want binance", st, err)
	}
}

// The perpetual lists decide: a spot-only pair is unknown without a request,
// and an implausible perpetual price fails over.
func TestPerpTickerListsAndPlausibility(t *testing.T) {
	b, y := newStub("binance"), newStub("bybit")
	m := newPerpMarket(t, perpStub{b}, perpStub{y})
	if _, err := m.PerpTicker(t.Context(), pair("ETH-BTC")); !errors.Is(err, ErrUnknownSymbol) {
		t.Errorf("spot-only pair: error = %v, want ErrUnknownSymbol", err)
	}
	if n := b.count("perp_ticker") + y.count("perp_ticker"); n != 0 {
		t.Errorf("%d requests for a pair no venue lists as a perpetual", n)
	}
	b.setLast(-101) // -100: outside any range, not positive
	got, err := m.PerpTicker(t.Context(), pair("SOL-USDT"))
	if err != nil || got.Venue != "bybit" {
		t.Fatalf("PerpTicker = %+v, %v; want bybit after binance's implausible answer", got, err)
	}
	var rej *RejectedError
	if _, err := (view{m: m, venue: 0}).PerpTicker(t.Context(), pair("SOL-USDT")); !errors.As(err, &rej) || rej.Reason != reasonNotPositive {
		t.Errorf("binance alone: error = %v, want a not_positive rejection", err)
	}
}

// The cross-venue check compares perpetuals with perpetuals only.
func TestPerpTickerPeersArePerps(t *testing.T) {
	b, y := newStub("binance"), newStub("bybit")
	m := newPerpMarket(t, perpStub{b}, perpStub{y})
	vs := m.Venues()
	btc := pair("BTC-USDT")
	if _, err := vs[1].Ticker(t.Context(), btc); err != nil { // bybit spot at 100 cached
		t.Fatal(err)
	}
	b.setLast(999) // binance's perpetual at 1000: 10× bybit's spot
	if got, err := vs[0].(venueSource).PerpTicker(t.Context(), btc); err != nil || got.Last != 1000 {
		t.Fatalf("binance PerpTicker = %+v, %v; a spot price is no peer of a perpetual", got, err)
	}
	if _, err := vs[1].(venueSource).PerpTicker(t.Context(), btc); err == nil { // bybit's perp at 101 vs binance's 1000
		t.Fatal("bybit's perpetual 10× off binance's cached one was accepted")
	} else if rej := (*RejectedError)(nil); !errors.As(err, &rej) || rej.Reason != reasonOffVenues {
		t.Errorf("error = %v, want an off_other_venues rejection", err)
	}
}
