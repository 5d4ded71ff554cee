package market

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestResolve(t *testing.T) {
	binance, bybit := newStub("binance"), newStub("bybit")
	bybit.spot = append(bybit.spot, pairs("BTT-USDT", "BTCST-USDT", "DOGE-USDT")...)
	m := newTestMarket(t, Options{}, binance, bybit)
	if err := m.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		kind    Kind
		want    string   // resolved pair, or "" for an UnknownPairError
		suggest []string // expected suggestions, in order
	}{
		{"listed bare", "btc", Spot, "BTC-USDT", nil},
		{"listed glued", "ETHUSDT", Spot, "ETH-USDT", nil},
		{"listed on the second venue only", "doge", Spot, "DOGE-USDT", nil},
		{"cross pair", "ethbtc", Spot, "ETH-BTC", nil},
		{"glued split unlisted, whole base listed", "wbtc", Spot, "WBTC-USDT", nil},
		{"spot only pair is unknown as perp", "ethbtc", Perp, "", []string{"ETH-USDT"}},
		{"extra letter", "btcc", Spot, "", []string{"BTC-USDT", "BTC-USDC"}},
		{"doubled letter", "ETHH", Spot, "", []string{"ETH-USDT", "ETH-BTC"}},
		{"same quote first, capped at three", "bt", Spot, "", []string{"BTC-USDT", "BTT-USDT", "BTCST-USDT"}},
		{"typo", "dgoe", Spot, "", []string{"DOGE-USDT"}},
		{"listed base, other quote", "sol/usdc", Spot, "", []string{"SOL-USDT"}},
		{"nothing close", "zzzzzz", Spot, "", []string{}},
		{"perp listed", "sol", Perp, "SOL-USDT", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Resolve(t.Context(), tc.in, tc.kind)
			if tc.want != "" {
				if err != nil || got.String() != tc.want {
					t.Fatalf("Resolve(%q, %s) = %v, %v; want %s", tc.in, tc.kind, got, err, tc.want)
				}
				return
			}
			var upe *UnknownPairError
			if !errors.As(err, &upe) {
				t.Fatalf("Resolve(%q, %s) = %v, %v; want *UnknownPairError", tc.in, tc.kind, got, err)
			}
			if !errors.Is(err, ErrUnknownSymbol) || upe.Input != tc.in {
				t.Errorf("error %v (input %q): want ErrUnknownSymbol for input %q", err, upe.Input, tc.in)
			}
			var sugg []string
			for _, p := range upe.Suggestions {
				sugg = append(sugg, p.String())
			}
			if !slices.Equal(sugg, tc.suggest) {
				t.Errorf("suggestions %v, want %v", sugg, tc.suggest)
			}
		})
	}
}

func TestResolveBadInput(t *testing.T) {
	m := newTestMarket(t, Options{}, newStub("binance"))
	tests := []struct {
		name     string
		in       string
		kind     Kind
		wantSym  bool // a *SymbolError (and ErrUnknownSymbol)
		contains string
	}{
		{"garbage", "btc!!", Spot, true, "letters and digits"},
		{"empty", "", Perp, true, "empty"},
		{"bad kind", "btc", Kind("options"), false, "unknown instrument kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Resolve(t.Context(), tc.in, tc.kind)
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("Resolve(%q) error %v, want one containing %q", tc.in, err, tc.contains)
			}
			var se *SymbolError
			if got := errors.As(err, &se); got != tc.wantSym {
				t.Errorf("is *SymbolError = %v, want %v", got, tc.wantSym)
			}
			if got := errors.Is(err, ErrUnknownSymbol); got != tc.wantSym {
				t.Errorf("errors.Is(ErrUnknownSymbol) = %v, want %v", got, tc.wantSym)
			}
		})
	}
}

func TestResolveWithoutLists(t *testing.T) {
	tests := []struct {
		name string
		warm bool
	}{
		{"never loaded", false},
		{"every load failed", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newStub("binance"), newStub("bybit")
			a.setErr("instruments", ErrUnavailable)
			b.setErr("instruments", ErrUnavailable)
			m := newTestMarket(t, Options{}, a, b)
			if tc.warm {
				if err := m.Warm(t.Context()); !errors.Is(err, ErrUnavailable) {
					t.Fatalf("Warm = %v, want ErrUnavailable", err)
				}
			}
			got, err := m.Resolve(t.Context(), "newcoin", Perp)
			if err != nil || got.String() != "NEWCOIN-USDT" {
				t.Fatalf("Resolve = %v, %v; want NEWCOIN-USDT accepted", got, err)
			}
		})
	}
}

func TestWarm(t *testing.T) {
	tests := []struct {
		name      string
		breakBy   func(a, b *stub)
		wantErr   bool
		wantLog   []string
		resolveOK string // listed pair that must resolve afterwards
	}{
		{
			name:      "all load",
			breakBy:   func(a, b *stub) {},
			resolveOK: "btc",
		},
		{
			name:      "one venue fails",
			breakBy:   func(a, b *stub) { b.setErr("instruments", ErrRateLimited) },
			wantLog:   []string{"venue=bybit", "kind=spot", "kind=perp", "rate limited"},
			resolveOK: "btc",
		},
		{
			name: "empty list counts as failure",
			breakBy: func(a, b *stub) {
				a.spot = nil
				b.setErr("instruments", ErrUnavailable)
			},
			wantLog:   []string{"venue=binance", "kind=spot", "empty list"},
			resolveOK: "sol",
		},
		{
			name: "all fail",
			breakBy: func(a, b *stub) {
				a.setErr("instruments", ErrUnavailable)
				b.setErr("instruments", ErrBadResponse)
			},
			wantErr: true,
			wantLog: []string{"venue=binance", "venue=bybit"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newStub("binance"), newStub("bybit")
			tc.breakBy(a, b)
			var logs bytes.Buffer
			m := newTestMarket(t, Options{Log: slog.New(slog.NewTextHandler(&logs, nil))}, a, b)
			err := m.Warm(t.Context())
			if (err != nil) != tc.wantErr {
				t.Fatalf("Warm = %v, want error %v", err, tc.wantErr)
			}
			for _, s := range tc.wantLog {
				if !strings.Contains(logs.String(), s) {
					t.Errorf("log lacks %q:\n%s", s, logs.String())
				}
			}
			if tc.resolveOK != "" {
				if _, err := m.Resolve(t.Context(), tc.resolveOK, Perp); err != nil {
					t.Errorf("Resolve(%q) = %v", tc.resolveOK, err)
				}
				if _, err := m.Resolve(t.Context(), "nosuchcoin", Perp); !errors.Is(err, ErrUnknownSymbol) {
					t.Errorf("Resolve(nosuchcoin) = %v, want ErrUnknownSymbol", err)
				}
			}
		})
	}
}

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newStub("binance")
		m := newTestMarket(t, Options{InstrumentRefresh: time.Hour}, a)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()

		synctest.Wait()
		if got := a.count("instruments"); got != 2 {
			t.Fatalf("after start: %d instrument loads, want 2 (spot, perp)", got)
		}
		if _, err := m.Resolve(ctx, "nosuchcoin", Spot); !errors.Is(err, ErrUnknownSymbol) {
			t.Fatalf("Resolve after Run loaded lists = %v, want ErrUnknownSymbol", err)
		}

		time.Sleep(59 * time.Minute)
		synctest.Wait()
		if got := a.count("instruments"); got != 2 {
			t.Fatalf("before the refresh interval: %d loads, want 2", got)
		}

		a.setErr("instruments", ErrUnavailable)
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := a.count("instruments"); got != 4 {
			t.Fatalf("after the refresh interval: %d loads, want 4", got)
		}
		// A failed load keeps the previous list and is retried within a minute.
		if _, err := m.Resolve(ctx, "nosuchcoin", Spot); !errors.Is(err, ErrUnknownSymbol) {
			t.Fatalf("Resolve after a failed reload = %v, want the old list in force", err)
		}
		a.setErr("instruments", nil)
		time.Sleep(maxRetry)
		synctest.Wait()
		if got := a.count("instruments"); got != 6 {
			t.Fatalf("after the retry delay: %d loads, want 6", got)
		}

		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil after ctx ends", err)
		}
	})
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"BTC", "BTC", 0},
		{"BTC", "BTCC", 1},
		{"BTC", "ETH", 2},
		{"DGOE", "DOGE", 1},
		{"AB", "BA", 1},
		{"CA", "ABC", 3},
		{"", "ABC", 3},
		{"KITTEN", "SITTING", 3},
	}
	for _, tc := range tests {
		t.Run(tc.a+"_"+tc.b, func(t *testing.T) {
			if got := editDistance(tc.a, tc.b); got != tc.want {
				t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
			if got := editDistance(tc.b, tc.a); got != tc.want {
				t.Errorf("editDistance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
			}
		})
	}
}
