// Package analysis is the market-analysis module: /analysis SYMBOL [interval]
// reads closed spot candles and answers with RSI, EMA 20/50/200, MACD,
// Bollinger bands, ATR, realised volatility, the EMA-stack trend, swing
// support and resistance, relative volume and a summary, drawn with a
// sparkline, an RSI gauge, trend arrows and one mark per signal. It also
// adds a one-line reading to /price.
//
// The maths lives in the indicator sub-package; this package fetches,
// pools the series buffers and renders Telegram HTML.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// The module's memory cost, checked by TestMemoryCost. Resident is the
// module plus the one workspace its pool keeps warm between requests;
// PerRequest is what one request allocates with a cold pool: the fetched
// candles, a workspace of 13 float64 series and the reply text.
const (
	residentBytes   = 32 << 10
	perRequestBytes = 72 << 10
)

func init() {
	modules.Register(modules.MarketModule("enhanced.analysis", flags.MarketAnalysis, modules.Cost{Resident: residentBytes, PerRequest: perRequestBytes},
		func(src market.Source, now func() time.Time) modules.Module { return New(src, now) }))
}

// Source is the market data the module reads.
type Source = reply.CandleSource

// Module answers /analysis and contributes the analysis line to /price.
type Module struct {
	src  Source
	now  func() time.Time
	pool sync.Pool // *workspace: series buffers reused across requests
}

// New builds the module over src; now (time.Now when nil) dates the last
// closed candle and drops a still-open one a source may have let through.
func New(src Source, now func() time.Time) *Module {
	m := &Module{src: src, now: modules.Clock(now)}
	m.pool.New = func() any { return new(workspace) }
	return m
}

var (
	_ modules.Module    = (*Module)(nil)
	_ modules.Sectioner = (*Module)(nil)
)

// Commands returns /analysis.
func (m *Module) Commands() []modules.Command {
	return modules.One("analysis", "/analysis SYMBOL [15m|1h|4h|1d]",
		"Technical analysis: RSI, EMAs, MACD, Bollinger, ATR, levels", m.handle)
}

func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	s, text := command.Fetch(ctx, m.src, req.Args, m.now)
	if text != "" {
		return modules.Reply{Text: text}, nil
	}
	r := m.analyze(s.Candles, s.Interval)
	ago := m.now().Sub(s.Candles[len(s.Candles)-1].Open.Add(s.Interval.Duration()))
	pair, iv := s.Pair.String(), string(s.Interval)
	kb := callback.Keyboard(callback.Refresh("analysis", pair, iv), callback.Intervals("analysis", pair, iv))
	return modules.Reply{Text: analysisText(s.Pair, s.Interval, &r, ago), Buttons: kb}, nil
}

// command reads /analysis's arguments and candles, in its own words.
var command = reply.CandleCommand{
	Limit:       Limit,
	MinCandles:  MinCandles,
	Usage:       usageText,
	TooMany:     tooManyText,
	BadInterval: badIntervalText,
	NotEnough:   notEnoughText,
}

// Section is the /price line for the default interval, e.g.
// "📊 1h: RSI 63 · trend ↗ · above EMA200". It reads the same candles as
// /analysis (so the market cache serves both) and is empty when the pair has
// no candles or too short a history.
func (m *Module) Section(ctx context.Context, _ modules.Request, pair market.Pair) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	const iv = market.H1
	candles, err := m.src.Candles(ctx, pair, iv, Limit)
	switch {
	case errors.Is(err, market.ErrUnknownSymbol):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("analysis section %s %s: %w", pair, iv, err)
	}
	candles = market.ClosedCandles(candles, iv, m.now()) // a guard: clients already drop the open bar
	if !market.ValidCandles(candles) {
		return "", fmt.Errorf("analysis section %s %s: %w", pair, iv, market.ErrBadResponse)
	}
	if len(candles) < MinCandles {
		return "", nil
	}
	r := m.analyze(candles, iv)
	return sectionText(iv, &r), nil
}

func (m *Module) analyze(c []market.Candle, iv market.Interval) result {
	w := m.pool.Get().(*workspace)
	defer m.pool.Put(w)
	return w.analyze(c, iv)
}
