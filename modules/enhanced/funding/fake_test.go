package funding_test

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// now is the fixed clock every test reads: 3h 12m before the 08:00 UTC settlement.
var now = time.Date(2025, 6, 2, 4, 47, 48, 0, time.UTC)

func clock() time.Time { return now }

var btc = market.Pair{Base: "BTC", Quote: "USDT"}

// fakeVenue is one exchange with canned funding. It implements market.Exchange.
type fakeVenue struct {
	name string
	f    market.Funding
	err  error
	hang bool // never answers until ctx ends, like a venue that stalls

	calls atomic.Int64
}

func (v *fakeVenue) Name() string { return v.name }

func (v *fakeVenue) Instruments(context.Context, market.Kind) ([]market.Instrument, error) {
	return nil, market.ErrUnavailable
}

func (v *fakeVenue) Ticker(context.Context, market.Pair) (market.Ticker, error) {
	return market.Ticker{}, market.ErrUnavailable
}

func (v *fakeVenue) OpenInterest(context.Context, market.Pair) (market.OpenInterest, error) {
	return market.OpenInterest{}, market.ErrUnavailable
}

func (v *fakeVenue) OIHistory(context.Context, market.Pair, time.Duration, int) ([]market.OIPoint, error) {
	return nil, market.ErrUnavailable
}

func (v *fakeVenue) Funding(ctx context.Context, _ market.Pair) (market.Funding, error) {
	v.calls.Add(1)
	if v.hang {
		<-ctx.Done()
		return market.Funding{}, ctx.Err()
	}
	return v.f, v.err
}

func (v *fakeVenue) Candles(context.Context, market.Pair, market.Interval, int) ([]market.Candle, error) {
	return nil, market.ErrUnavailable
}

// fakeSource implements market.Source: Resolve from a table, the failover
// Funding from primary, and Venues.
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

func (s *fakeSource) OpenInterest(context.Context, market.Pair) (market.OpenInterest, error) {
	return market.OpenInterest{}, market.ErrUnavailable
}

func (s *fakeSource) OIHistory(context.Context, market.Pair, time.Duration, int) ([]market.OIPoint, error) {
	return nil, market.ErrUnavailable
}

func (s *fakeSource) Funding(ctx context.Context, p market.Pair) (market.Funding, error) {
	return s.primary.Funding(ctx, p)
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

var settlement = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

func bybit() *fakeVenue {
	return &fakeVenue{name: "bybit", f: market.Funding{
		Pair: btc, Venue: "bybit", Rate: 0.0001, Interval: 8 * time.Hour, Next: settlement,
		Mark: 85_012.5, Index: 85_020.1, Time: now.Add(-2 * time.Second),
	}}
}

func okx() *fakeVenue {
	return &fakeVenue{name: "okx", f: market.Funding{
		Pair: btc, Venue: "okx", Rate: 0.0000532, Interval: 8 * time.Hour, Next: settlement,
		Time: now.Add(-4 * time.Second),
	}}
}

func binance() *fakeVenue {
	// A Binance symbol on an adjusted 4 h interval (fundingInfo).
	return &fakeVenue{name: "binance", f: market.Funding{
		Pair: btc, Venue: "binance", Rate: 0.000075, Interval: 4 * time.Hour, Next: settlement,
		Mark: 85_010, Index: 85_018.7, Time: now.Add(-time.Second),
	}}
}

func newSource() *fakeSource {
	return &fakeSource{
		pairs:   map[string]market.Pair{"btc": btc, "btcusdt": btc, "btc-usdt": btc},
		suggest: []market.Pair{btc, {Base: "BTCDOM", Quote: "USDT"}},
		primary: bybit(),
		venues:  []*fakeVenue{bybit(), okx(), binance()},
	}
}
