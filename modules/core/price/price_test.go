package price

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type fakeSource struct {
	tickers map[string]market.Ticker
	err     error // returned by Ticker
}

func (f fakeSource) Resolve(_ context.Context, input string, _ market.Kind) (market.Pair, error) {
	switch strings.ToUpper(input) {
	case "BTC", "BTCUSDT", "BTC-USDT":
		return market.Pair{Base: "BTC", Quote: "USDT"}, nil
	case "PEPE":
		return market.Pair{Base: "PEPE", Quote: "USDT"}, nil
	case "ETH-BTC":
		return market.Pair{Base: "ETH", Quote: "BTC"}, nil
	case "BTCC":
		return market.Pair{}, &market.UnknownPairError{Input: input, Suggestions: []market.Pair{{Base: "BTC", Quote: "USDT"}, {Base: "BTC", Quote: "USDC"}}}
	case "<B>":
		return market.Pair{}, fmt.Errorf("normalize %q: %w", input, market.ErrInvalidSymbol)
	}
	return market.Pair{}, &market.UnknownPairError{Input: input}
}

func (f fakeSource) Ticker(_ context.Context, p market.Pair) (market.Ticker, error) {
	if f.err != nil {
		return market.Ticker{}, f.err
	}
	return f.tickers[p.String()], nil
}

type sections []string

func (s sections) Sections(context.Context, modules.Request, market.Pair) []string { return s }

func TestReplies(t *testing.T) {
	src := fakeSource{tickers: map[string]market.Ticker{
		"BTC-USDT":  {Pair: market.Pair{Base: "BTC", Quote: "USDT"}, Venue: "binance", Last: 97123.4, High: 98000, Low: 95012.5, ChangePct: 1.254, BaseVolume: 12345.678, QuoteVolume: 1.2e9, Time: now.Add(-2 * time.Second)},
		"PEPE-USDT": {Pair: market.Pair{Base: "PEPE", Quote: "USDT"}, Venue: "bybit", Last: 0.00001234, High: 0.00001301, Low: 0.00001198, ChangePct: -3.5, BaseVolume: 4.5e12, QuoteVolume: 5.6e7, Time: now.Add(-1 * time.Second)},
		"ETH-BTC":   {Pair: market.Pair{Base: "ETH", Quote: "BTC"}, Venue: "okx", Last: 0.03561, High: 0.0361, Low: 0.0351, BaseVolume: 1500, QuoteVolume: 53.4},
	}}
	for _, tc := range []struct {
		name string
		src  Source
		sec  Sections
		args []string
	}{
		{"btc", src, nil, []string{"btc"}},
		{"btc_sections", src, sections{"OI $8.10B (24h +1.2%)", "Funding +0.0100%/8h"}, []string{"BTCUSDT"}},
		{"pepe", src, nil, []string{"pepe"}},
		{"ethbtc", src, nil, []string{"ETH-BTC"}},
		{"usage", src, nil, nil},
		{"unknown_suggest", src, nil, []string{"btcc"}},
		{"unknown", src, nil, []string{"zzz"}},
		{"invalid", src, nil, []string{"<b>"}},
		{"unavailable", fakeSource{err: fmt.Errorf("all venues: %w", market.ErrUnavailable)}, nil, []string{"btc"}},
		{"timeout", fakeSource{err: fmt.Errorf("binance: %w", context.DeadlineExceeded)}, nil, []string{"btc"}},
		// Several pairs: one line each in the order asked, BTC once, the unknown one said, no sections.
		{"many", src, sections{"OI $8.10B (24h +1.2%)"}, []string{"btc", "pepe", "zzz", "ETH-BTC", "BTCUSDT"}},
		{"many_unavailable", fakeSource{err: fmt.Errorf("all venues: %w", market.ErrUnavailable)}, nil, []string{"btc", "pepe"}},
		{"many_mixed_failures", fakeSource{err: fmt.Errorf("all venues: %w", market.ErrUnavailable)}, nil, []string{"btc", "zzz"}},
		{"too_many", src, nil, strings.Fields("btc eth sol xrp doge ada")},
		{"fifty", src, nil, strings.Fields(strings.Repeat("btc ", 50))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(tc.src, tc.sec, func() time.Time { return now })
			reply, err := m.Commands()[0].Handler.Handle(context.Background(), modules.Request{Command: "price", Args: tc.args})
			if err != nil {
				t.Fatalf("expected outcomes are replies, got error %v", err)
			}
			modulestest.Golden(t, tc.name, reply.Text)
		})
	}
}

func BenchmarkFormat(b *testing.B) {
	t := market.Ticker{Pair: market.Pair{Base: "BTC", Quote: "USDT"}, Venue: "binance", Last: 97123.4, High: 98000, Low: 95012.5, ChangePct: 1.254, BaseVolume: 12345.678, QuoteVolume: 1.2e9, Time: now}
	secs := []string{"OI $8.10B (24h +1.2%)"}
	b.ReportAllocs()
	for b.Loop() {
		_ = Format(t, secs, now)
	}
}
