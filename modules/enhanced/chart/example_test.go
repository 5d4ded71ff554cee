package chart_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/chart"
)

// wave is a market with one pair, ETH-USDT, whose hourly closes rise
// gently along a wave.
type wave struct{}

func (wave) Resolve(_ context.Context, input string, _ market.Kind) (market.Pair, error) {
	if input != "eth" {
		return market.Pair{}, &market.UnknownPairError{Input: input}
	}
	return market.Pair{Base: "ETH", Quote: "USDT"}, nil
}

func (wave) Candles(_ context.Context, _ market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
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

func Example() {
	now := func() time.Time { return time.Date(2026, 3, 6, 0, 5, 0, 0, time.UTC) }
	m := chart.New(wave{}, now)
	reply, _ := m.Commands()[0].Handler.Handle(context.Background(),
		modules.Request{Command: "chart", Args: []string{"eth"}})
	img, err := png.Decode(bytes.NewReader(reply.Photo))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("photo", img.Bounds().Dx(), "×", img.Bounds().Dy())
	fmt.Println(reply.Text)
	// Output:
	// photo 1000 × 600
	// <b>📈 ETH-USDT · 1h chart</b> · 120 candles
	// Last <b>3,282.40</b> · ▲ +9.41% over 5d
	// High 3,292.31 · Low 2,996.00
	// EMA20 3,256.35 · EMA50 3,206.48
}
