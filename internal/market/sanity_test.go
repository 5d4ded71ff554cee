package market

import (
	"math"
	"testing"
	"time"
)

func TestSanityCheck(t *testing.T) {
	s := Plausibility{}.withDefaults()
	btc := Ticker{Last: 97123.4, High: 98110, Low: 93860}
	with := func(f func(*Ticker)) Ticker { x := btc; f(&x); return x }
	good := []Candle{{O: 1, H: 2, L: 0.5, C: 1.5, Volume: 3}}
	tests := []struct {
		name  string
		k     key
		v     any
		peers []float64
		want  string
	}{
		{"plausible ticker", key{op: opTicker}, btc, []float64{97000}, ""},
		{"zero", key{op: opTicker}, with(func(x *Ticker) { x.Last = 0 }), nil, reasonNotPositive},
		{"negative", key{op: opTicker}, with(func(x *Ticker) { x.Last = -5 }), nil, reasonNotPositive},
		{"NaN", key{op: opTicker}, with(func(x *Ticker) { x.Last = math.NaN() }), nil, reasonNotPositive},
		{"above the 24h high", key{op: opTicker}, with(func(x *Ticker) { x.Last = 1e6 }), nil, reasonOutOfRange},
		{"a tick above the high", key{op: opTicker}, with(func(x *Ticker) { x.Last = 98110 * 1.005 }), nil, ""},
		{"dust", key{op: opTicker}, with(func(x *Ticker) { x.Last = 1e-8 }), nil, reasonOutOfRange},
		{"no range reported", key{op: opTicker}, Ticker{Last: 5}, nil, ""},
		{"off every peer", key{op: opTicker}, btc, []float64{50000, 200000}, reasonOffVenues},
		{"one peer agrees", key{op: opTicker}, btc, []float64{50000, 97500}, ""},
		{"open interest zero", key{op: opOpenInterest}, OpenInterest{Coin: 0, USD: 1}, nil, reasonNotPositive},
		{"open interest NaN USD", key{op: opOpenInterest}, OpenInterest{Coin: 1, USD: math.NaN()}, nil, reasonNotPositive},
		{"open interest", key{op: opOpenInterest}, OpenInterest{Coin: 1, USD: 2}, nil, ""},
		{"funding 5 %", key{op: opFunding}, Funding{Rate: -0.05, Interval: 8 * time.Hour}, nil, ""},
		{"funding 50 %", key{op: opFunding}, Funding{Rate: 0.5}, nil, reasonFunding},
		{"funding NaN", key{op: opFunding}, Funding{Rate: math.NaN()}, nil, reasonFunding},
		{"negative mark", key{op: opFunding}, Funding{Rate: 0.0001, Mark: -1}, nil, reasonNotPositive},
		{"candles", key{op: opCandles}, good, nil, ""},
		{"zero-price candle", key{op: opCandles}, []Candle{{O: 0, H: 2, L: 1, C: 1}}, nil, reasonSeries},
		{"OI history negative row", key{op: opOIHistory}, []OIPoint{{Coin: 1}, {Coin: -1}}, nil, reasonSeries},
		{"OI history", key{op: opOIHistory}, []OIPoint{{Coin: 0}, {Coin: 1, USD: 3}}, nil, ""},
	}
	for _, tc := range tests {
		if got, detail := s.check(tc.k, tc.v, tc.peers); got != tc.want {
			t.Errorf("%s: reason %q (%s), want %q", tc.name, got, detail, tc.want)
		}
	}
}

// An answer far from another venue's cached price is rejected and failed
// over; what gets cached is the next venue's answer.
func TestOffVenuesFailsOver(t *testing.T) {
	a, b := newStub("binance"), newStub("bybit")
	m := newTestMarket(t, Options{Now: newClock().Now}, a, b)
	// bybit's own view once saw 1000; both stubs now answer 100. Binance's
	// 100 is off by 10×; bybit's is checked against the others' prices only.
	m.cache.store(key{op: opTicker, venue: 1, pair: pair("BTC-USDT")}, Ticker{Venue: "bybit", Last: 1000}, nil, true)
	tk, err := m.Ticker(t.Context(), pair("BTC-USDT"))
	if err != nil || tk.Venue != "bybit" {
		t.Fatalf("Ticker = %+v, %v; want bybit's", tk, err)
	}
	e, ok := m.cache.lookup(key{op: opTicker, venue: anyVenue, pair: pair("BTC-USDT")}, m.now())
	if got, _ := e.val.(Ticker); !ok || got.Venue != "bybit" {
		t.Errorf("cached %+v, want bybit's ticker", e.val)
	}
	if a.count("ticker") != 1 || b.count("ticker") != 1 {
		t.Errorf("calls binance %d, bybit %d; want 1 each", a.count("ticker"), b.count("ticker"))
	}
}
