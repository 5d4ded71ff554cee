package reply

import (
	"context"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// CandleSource is the market data a candle command reads.
type CandleSource interface {
	Resolve(ctx context.Context, input string, kind market.Kind) (market.Pair, error)
	Candles(ctx context.Context, pair market.Pair, iv market.Interval, limit int) ([]market.Candle, error)
}

// CandleCommand is the front half shared by the "/cmd SYMBOL [interval]"
// commands (/analysis, /chart): reading the arguments, resolving the spot
// pair and fetching its closed candles. Each command has its own wording.
type CandleCommand struct {
	Limit       int    // closed candles to work on, the most recent ones
	MinCandles  int    // a shorter history is answered with NotEnough
	Usage       string // the answer to no arguments
	TooMany     string // the answer to more than a symbol and an interval
	BadInterval func(arg string) string
	NotEnough   func(pair market.Pair, iv market.Interval, n int) string
}

// Series is what a candle command works on: at least MinCandles and at most
// Limit valid closed candles of Pair on Interval, oldest first.
type Series struct {
	Pair     market.Pair
	Interval market.Interval
	Candles  []market.Candle
}

// Fetch reads args (interval 1h when none is given), resolves the pair and
// fetches its candles, dropping a still-open one by the clock now. When the
// command cannot go on, text is the answer to send instead of the series.
func (c CandleCommand) Fetch(ctx context.Context, src CandleSource, args []string, now func() time.Time) (s Series, text string) {
	switch {
	case len(args) == 0:
		return s, c.Usage
	case len(args) > 2:
		return s, c.TooMany
	}
	s.Interval = market.H1
	if len(args) == 2 {
		var err error
		if s.Interval, err = market.ParseInterval(args[1]); err != nil {
			return s, c.BadInterval(args[1])
		}
	}
	var err error
	if s.Pair, err = src.Resolve(ctx, args[0], market.Spot); err != nil {
		return s, MarketError(args[0], err)
	}
	candles, err := src.Candles(ctx, s.Pair, s.Interval, c.Limit)
	if err != nil {
		return s, MarketError(args[0], err)
	}
	candles = market.ClosedCandles(candles, s.Interval, now()) // a guard: clients already drop the open bar
	if len(candles) > c.Limit {
		candles = candles[len(candles)-c.Limit:]
	}
	if !market.ValidCandles(candles) {
		return s, Unavailable
	}
	if len(candles) < c.MinCandles {
		return s, c.NotEnough(s.Pair, s.Interval, len(candles))
	}
	s.Candles = candles
	return s, ""
}
