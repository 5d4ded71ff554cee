package market_test

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/binance"
	"github.com/cryptobot-dev/cryptobot/internal/market/bybit"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/market/okx"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// overFakes is a Market over the real clients and the fake venues, in the
// default order binance, bybit, okx.
func overFakes(t *testing.T) (*market.Market, *markettest.Venues, *metrics.Metrics) {
	t.Helper()
	v := markettest.Start()
	t.Cleanup(v.Close)
	met := metrics.New("test", "test")
	book := v.Book.Now
	m := market.New(market.Options{
		Exchanges: []market.Exchange{
			binance.New(binance.Config{SpotURL: v.Binance.URL(), FuturesURL: v.Binance.URL(), Now: book}),
			bybit.New(bybit.Config{BaseURL: v.Bybit.URL(), Now: book}),
			okx.New(okx.Config{BaseURL: v.OKX.URL(), Now: book}),
		},
		Metrics: met,
		Now:     book,
	})
	if err := m.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	return m, v, met
}

func rejected(t *testing.T, met *metrics.Metrics, venue, kind, reason string) float64 {
	t.Helper()
	n, err := testutil.GatherAndCount(met.Registry, "cryptobot_exchange_rejected_total")
	if err != nil || n == 0 {
		t.Fatalf("cryptobot_exchange_rejected_total not registered: %v", err)
	}
	mfs, _ := met.Registry.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "cryptobot_exchange_rejected_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range s.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["venue"] == venue && l["kind"] == kind && l["reason"] == reason {
				return s.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Issue 13.1: a venue answering an absurd last price is rejected, counted,
// failed over and never cached.
func TestAbsurdLastPriceFailsOver(t *testing.T) {
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	for _, tc := range []struct {
		last, reason string
	}{
		{"0", "not_positive"},
		{"-5", "not_positive"},
		{"1000000", "outside_24h_range"}, // the fake's 24 h high is 98,288.88
		{"0.00000001", "outside_24h_range"},
	} {
		t.Run(tc.last, func(t *testing.T) {
			m, v, met := overFakes(t)
			v.Binance.SetLast(btc, tc.last)
			tk, err := m.Ticker(t.Context(), btc)
			if err != nil {
				t.Fatal(err)
			}
			if tk.Venue != "bybit" || tk.Last != 97123.4 {
				t.Errorf("Ticker = %s %v, want bybit's 97123.4", tk.Venue, tk.Last)
			}
			if got := rejected(t, met, "binance", "ticker", tc.reason); got != 1 {
				t.Errorf("rejected{binance,ticker,%s} = %v, want 1", tc.reason, got)
			}
			// Every venue absurd: unavailable, and nothing cached.
			v.Bybit.SetLast(btc, tc.last)
			v.OKX.SetLast(btc, tc.last)
			if _, err := m.Venues()[0].Ticker(t.Context(), btc); !errors.Is(err, market.ErrBadResponse) {
				t.Errorf("binance alone = %v, want ErrBadResponse", err)
			}
			if _, err := m.Venues()[0].Ticker(t.Context(), btc); !errors.Is(err, market.ErrBadResponse) {
				t.Errorf("binance alone, asked again = %v, want ErrBadResponse: a rejection must not be cached", err)
			}
			if got := v.Binance.Hits("ticker"); got != 3 {
				t.Errorf("binance ticker hits = %d, want 3", got)
			}
		})
	}
}

// A last price inside its own range but far from the other venues' is
// rejected when another venue's price is cached.
func TestLastPriceOffOtherVenues(t *testing.T) {
	m, v, met := overFakes(t)
	eth := market.Pair{Base: "ETH", Quote: "USDT"}
	if _, err := m.Venues()[1].Ticker(t.Context(), eth); err != nil { // bybit's price, cached
		t.Fatal(err)
	}
	// Within the 24h range is impossible to fake without the high; override it too.
	v.Binance.SetLast(eth, "1000")
	v.Binance.Override("ticker", eth, "lowPrice", "900")
	tk, err := m.Ticker(t.Context(), eth)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Venue != "bybit" {
		t.Errorf("Ticker from %s at %v, want bybit", tk.Venue, tk.Last)
	}
	if got := rejected(t, met, "binance", "ticker", "off_other_venues"); got != 1 {
		t.Errorf("rejected{off_other_venues} = %v, want 1", got)
	}
}

func TestAbsurdFundingAndOpenInterest(t *testing.T) {
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	t.Run("funding", func(t *testing.T) {
		m, v, met := overFakes(t)
		v.Binance.Override("funding", btc, "lastFundingRate", "0.5")
		f, err := m.Funding(t.Context(), btc)
		if err != nil || f.Venue == "binance" || f.Rate != 0.0001 {
			t.Errorf("Funding = %+v, %v; want another venue's 0.0001", f, err)
		}
		if got := rejected(t, met, "binance", "funding", "funding_out_of_range"); got != 1 {
			t.Errorf("rejected = %v, want 1", got)
		}
	})
	t.Run("open interest", func(t *testing.T) {
		m, v, met := overFakes(t)
		v.Binance.Override("open_interest", btc, "openInterest", "0")
		oi, err := m.OpenInterest(t.Context(), btc)
		if err != nil || oi.Venue == "binance" || oi.Coin <= 0 {
			t.Errorf("OpenInterest = %+v, %v; want another venue's", oi, err)
		}
		if got := rejected(t, met, "binance", "open_interest", "not_positive"); got != 1 {
			t.Errorf("rejected = %v, want 1", got)
		}
	})
}
