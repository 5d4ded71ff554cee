package reply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

func TestMarketError(t *testing.T) {
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	for _, tc := range []struct {
		name, input string
		err         error
		want        string
	}{
		{"suggestions", "btcc", &market.UnknownPairError{Input: "btcc", Suggestions: []market.Pair{btc, {Base: "BTC", Quote: "USDC"}}},
			"Unknown pair <code>BTCC</code>. Did you mean <code>BTC-USDT</code>, <code>BTC-USDC</code>?"},
		{"unknown", "zzz", fmt.Errorf("okx: %w", market.ErrUnknownSymbol), "Unknown pair <code>ZZZ</code>."},
		{"invalid escaped", "<b>", fmt.Errorf("normalize: %w", market.ErrInvalidSymbol), "Cannot read <code>&lt;b&gt;</code> as a pair"},
		{"long input cut", strings.Repeat("x", 100), &market.UnknownPairError{}, "Unknown pair <code>" + strings.Repeat("X", 32) + "…</code>."},
		{"timeout", "btc", fmt.Errorf("all: %w", context.DeadlineExceeded), "did not answer in time"},
		{"unavailable", "btc", fmt.Errorf("all: %w", market.ErrUnavailable), Unavailable},
		{"raw error hidden", "btc", errors.New("dial tcp 10.0.0.1: secret"), Unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MarketError(tc.input, tc.err); !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

func TestPerpAndSectionErrors(t *testing.T) {
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	unknown := fmt.Errorf("okx: %w", market.ErrUnknownSymbol)
	if got := PerpError("zzz", unknown); got != "Unknown pair <code>ZZZ</code>." {
		t.Errorf("PerpError(unknown) = %q", got)
	}
	// Unlike MarketError, an unreadable symbol or a timeout is unavailable data.
	for _, err := range []error{market.ErrInvalidSymbol, context.DeadlineExceeded, market.ErrUnavailable} {
		if got := PerpError("btc", err); got != Unavailable {
			t.Errorf("PerpError(%v) = %q, want Unavailable", err, got)
		}
	}
	if err := SectionError("funding", btc, unknown); err != nil {
		t.Errorf("SectionError(unknown) = %v, want nil: a spot-only pair has no section", err)
	}
	err := SectionError("funding", btc, market.ErrUnavailable)
	if !errors.Is(err, market.ErrUnavailable) || err.Error() != "funding BTC-USDT: market data unavailable" {
		t.Errorf("SectionError = %v", err)
	}
}

func TestTable(t *testing.T) {
	got := Table([][]string{
		{"venue", "rate", "APR"},
		{"Bybit", "+0.0100%", "+10.95%"},
		{"OKX", "unavailable"},
		{"Binance", "-0.0075%", "-8.21%"},
	})
	want := "venue        rate      APR\n" +
		"Bybit    +0.0100%  +10.95%\n" +
		"OKX      unavailable\n" +
		"Binance  -0.0075%   -8.21%"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if Venue("okx") != "OKX" || Venue("kraken") != "kraken" {
		t.Error("venue names")
	}
}

func TestWidest(t *testing.T) {
	id := func(s string) string { return s }
	if got := Widest([]string{"ab", "abcd", ""}, id); got != 4 {
		t.Errorf("Widest = %d, want 4", got)
	}
	if got := Widest(nil, id); got != 0 {
		t.Errorf("Widest(nil) = %d, want 0", got)
	}
}
