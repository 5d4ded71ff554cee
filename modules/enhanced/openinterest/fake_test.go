package openinterest_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// now is the fixed clock every test reads.
var now = time.Date(2025, 6, 2, 4, 47, 48, 0, time.UTC)

func clock() time.Time { return now }

var btc = market.Pair{Base: "BTC", Quote: "USDT"}

// fakeVenue is one exchange with canned answers. It implements market.Exchange.
type fakeVenue struct {
	name    string
	oi      market.OpenInterest
	oiErr   error
	hist    []market.OIPoint
	histErr error
	hang    bool // never answers until ctx ends, like a venue that stalls

	calls atomic.Int64
}

func (v *fakeVenue) Name() string { return v.name }

func (v *fakeVenue) Instruments(context.Context, market.Kind) ([]market.Instrument, error) {
	return nil, market.ErrUnavailable
}

func (v *fakeVenue) Ticker(context.Context, market.Pair) (market.Ticker, error) {
	return market.Ticker{}, market.ErrUnavailable
}

func (v *fakeVenue) OpenInterest(ctx context.Context, _ market.Pair) (market.OpenInterest, error) {
	v.calls.Add(1)
	if v.hang {
		<-ctx.Done()
		return market.OpenInterest{}, ctx.Err()
	}
	return v.oi, v.oiErr
}

func (v *fakeVenue) OIHistory(ctx context.Context, _ market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	v.calls.Add(1)
	if v.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if period != time.Hour || limit != 25 {
		return nil, market.ErrBadResponse
	}
	// A real client decodes a fresh slice on every call.
	return slices.Clone(v.hist), v.histErr
}

func (v *fakeVenue) Funding(context.Context, market.Pair) (market.Funding, error) {
	return market.Funding{}, market.ErrUnavailable
}

func (v *fakeVenue) Candles(context.Context, market.Pair, market.Interval, int) ([]market.Candle, error) {
	return nil, market.ErrUnavailable
}

// fakeSource implements market.Source: Resolve from a table, the failover
// calls from primary, and Venues.
type fakeSource struct {
	pairs      map[string]market.Pair // lower-case input
	suggest    []market.Pair
	resolveErr error
	primary    *fakeVenue
	venues     []*fakeVenue
}

func (s *fakeSource) Resolve(_ context.Context, input string, kind market.Kind) (market.Pair, error) {
	if s.resolveErr != nil {
		return market.Pair{}, s.resolveErr
	}
	if p, ok := s.pairs[strings.ToLower(input)]; ok && kind == market.Perp {
		return p, nil
	}
	return market.Pair{}, &market.UnknownPairError{Input: input, Suggestions: s.suggest}
}

func (s *fakeSource) Ticker(context.Context, market.Pair) (market.Ticker, error) {
	return market.Ticker{}, market.ErrUnavailable
}

func (s *fakeSource) OpenInterest(ctx context.Context, p market.Pair) (market.OpenInterest, error) {
	return s.primary.OpenInterest(ctx, p)
}

func (s *fakeSource) OIHistory(ctx context.Context, p market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	return s.primary.OIHistory(ctx, p, period, limit)
}

func (s *fakeSource) Funding(context.Context, market.Pair) (market.Funding, error) {
	return market.Funding{}, market.ErrUnavailable
}

func (s *fakeSource) Candles(context.Context, market.Pair, market.Interval, int) ([]market.Candle, error) {
	return nil, market.ErrUnavailable
}

func (s *fakeSource) Venues() []market.Exchange {
	out := make([]market.Exchange, len(s.venues))
	for i, v := range s.venues {
		out[i] = v
	}
	return out
}

// hourly returns 25 hourly rows ending at end, ascending, with USD growing
// linearly from usd0 by step per hour and coin at price.
func hourly(end time.Time, usd0, step, price float64) []market.OIPoint {
	rows := make([]market.OIPoint, 25)
	for i := range rows {
		usd := usd0 + float64(i)*step
		rows[i] = market.OIPoint{Time: end.Add(time.Duration(i-24) * time.Hour), USD: usd, Coin: usd / price}
	}
	return rows
}

func bybit() *fakeVenue {
	return &fakeVenue{
		name: "bybit",
		oi:   market.OpenInterest{Pair: btc, Venue: "bybit", Coin: 61_647.3, USD: 5.24e9, Time: now.Add(-12 * time.Second)},
		// 24h ago $5.00B, 4h ago $5.20B, 1h ago $5.23B, now $5.24B.
		hist: hourly(now.Truncate(time.Hour), 5.0e9, 1e7, 85_000),
	}
}

func okx() *fakeVenue {
	return &fakeVenue{
		name: "okx",
		oi:   market.OpenInterest{Pair: btc, Venue: "okx", Coin: 35_010.42, USD: 2.976e9, Time: now.Add(-3 * time.Second)},
		hist: hourly(now.Truncate(time.Hour), 2.988e9, -5e5, 85_000),
	}
}

func binance() *fakeVenue {
	return &fakeVenue{
		name: "binance",
		oi:   market.OpenInterest{Pair: btc, Venue: "binance", Coin: 80_212.9, USD: 6.98e9, Time: now.Add(-1 * time.Second)},
		hist: hourly(now.Truncate(time.Hour), 6.5e9, 2e7, 85_000),
	}
}

func newSource() *fakeSource {
	return &fakeSource{
		pairs: map[string]market.Pair{
			"btc": btc, "btcusdt": btc, "btc-usdt": btc,
			"pepe": {Base: "1000PEPE", Quote: "USDT"},
		},
		suggest: []market.Pair{btc, {Base: "BTCDOM", Quote: "USDT"}},
		primary: bybit(),
		venues:  []*fakeVenue{bybit(), okx(), binance()},
	}
}
