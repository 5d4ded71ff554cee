package modulestest

import (
	"context"
	"math"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Wave is the candle modules' example market: one pair, ETH-USDT (input
// "eth"), whose closes from 1 March 2026 rise gently along a wave.
type Wave struct{}

// Resolve knows only "eth".
func (Wave) Resolve(_ context.Context, input string, _ market.Kind) (market.Pair, error) {
	if input != "eth" {
		return market.Pair{}, &market.UnknownPairError{Input: input}
	}
	return market.Pair{Base: "ETH", Quote: "USDT"}, nil
}

// Candles returns limit candles on iv from 1 March 2026, 00:00 UTC.
func (Wave) Candles(_ context.Context, _ market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([]market.Candle, limit)
	prev := 3000.0
	for i := range out {
		c := 3000 + 2*float64(i) + 60*math.Sin(float64(i)/8)
		out[i] = market.Candle{
			Open: start.Add(time.Duration(i) * iv.Duration()),
			O:    prev, H: max(prev, c) + 4, L: min(prev, c) - 4, C: c,
			Volume: 1000 + 300*math.Cos(float64(i)/5),
		}
		prev = c
	}
	return out, nil
}
