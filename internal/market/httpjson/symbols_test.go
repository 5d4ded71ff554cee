package httpjson

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

func TestSymbols(t *testing.T) {
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	ins := []market.Instrument{{Pair: btc, Kind: market.Spot, Symbol: "BTCUSDT"}, {Pair: btc, Kind: market.Perp, Symbol: "BTCUSDT_PERP"}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	loads := 0
	var fail error
	load := func(context.Context) ([]market.Instrument, error) { loads++; return ins, fail }
	var s Symbols
	fail = market.ErrUnavailable
	if _, err := s.Get(t.Context(), now, load); !errors.Is(err, market.ErrUnavailable) {
		t.Fatalf("no map and a failed load: %v", err)
	}
	fail = nil
	m, err := s.Get(t.Context(), now, load)
	if err != nil || m["BTCUSDT"] != btc || len(m) != 1 {
		t.Fatalf("Get = %v, %v; want the spot symbol only", m, err)
	}
	if _, _ = s.Get(t.Context(), now.Add(SymbolsMaxAge-time.Second), load); loads != 2 {
		t.Errorf("%d loads within the max age, want 2", loads)
	}
	fail = market.ErrUnavailable
	if m, err := s.Get(t.Context(), now.Add(SymbolsMaxAge), load); err != nil || m["BTCUSDT"] != btc || loads != 3 {
		t.Errorf("stale map, failed reload: %v, %v after %d loads; want the old map", m, err, loads)
	}
	s.Set(nil, now) // an empty list keeps the last map
	if m, _ := s.Get(t.Context(), now.Add(SymbolsMaxAge), func(context.Context) ([]market.Instrument, error) { return nil, nil }); m["BTCUSDT"] != btc {
		t.Error("an empty list dropped the map")
	}
	if !math.IsNaN(PriceOf("x")) || PriceOf("1.5") != 1.5 {
		t.Error("PriceOf")
	}
}
