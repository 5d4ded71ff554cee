package modulestest

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Now is the fixed clock the canned-market tests read (a Monday, 3h 12m
// before the 08:00 UTC funding settlement); Clock reads it.
var Now = time.Date(2025, 6, 2, 4, 47, 48, 0, time.UTC)

// Clock returns Now: the clock to hand a module under test.
func Clock() time.Time { return Now }

// BTC is the pair the canned market quotes.
var BTC = market.Pair{Base: "BTC", Quote: "USDT"}

// Venue is a market.Exchange with canned open interest, history and funding
// for module tests; instruments, tickers and candles are unavailable.
type Venue struct {
	ID         string // what Name returns
	OI         market.OpenInterest
	OIErr      error
	History    []market.OIPoint // OIHistory hands out a fresh copy, as a real client decodes one
	HistoryErr error
	// Period and Limit, when set, are the only OIHistory arguments it
	// answers; others fail with market.ErrBadResponse.
	Period  time.Duration
	Limit   int
	Fund    market.Funding
	FundErr error
	Hang    bool // never answers until ctx ends, like a venue that stalls

	calls atomic.Int64
}

var _ market.Exchange = (*Venue)(nil)

// Calls returns how many canned calls the venue has answered or hung on.
func (v *Venue) Calls() int64 { return v.calls.Load() }

// Name returns ID.
func (v *Venue) Name() string { return v.ID }

// answer counts the call and, for a hanging venue, waits for ctx to end.
func (v *Venue) answer(ctx context.Context) error {
	v.calls.Add(1)
	if v.Hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// OpenInterest returns OI and OIErr.
func (v *Venue) OpenInterest(ctx context.Context, _ market.Pair) (market.OpenInterest, error) {
	if err := v.answer(ctx); err != nil {
		return market.OpenInterest{}, err
	}
	return v.OI, v.OIErr
}

// OIHistory returns a copy of History and HistoryErr.
func (v *Venue) OIHistory(ctx context.Context, _ market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	if err := v.answer(ctx); err != nil {
		return nil, err
	}
	if (v.Period != 0 && period != v.Period) || (v.Limit != 0 && limit != v.Limit) {
		return nil, market.ErrBadResponse
	}
	return slices.Clone(v.History), v.HistoryErr
}

// Funding returns Fund and FundErr.
func (v *Venue) Funding(ctx context.Context, _ market.Pair) (market.Funding, error) {
	if err := v.answer(ctx); err != nil {
		return market.Funding{}, err
	}
	return v.Fund, v.FundErr
}

// Instruments is unavailable.
func (v *Venue) Instruments(context.Context, market.Kind) ([]market.Instrument, error) {
	return nil, market.ErrUnavailable
}

// Ticker is unavailable.
func (v *Venue) Ticker(context.Context, market.Pair) (market.Ticker, error) {
	return market.Ticker{}, market.ErrUnavailable
}

// Candles is unavailable.
func (v *Venue) Candles(context.Context, market.Pair, market.Interval, int) ([]market.Candle, error) {
	return nil, market.ErrUnavailable
}

// Source is a market.Source over canned venues: Resolve from a table, the
// failover calls from Primary, and Venues from All.
type Source struct {
	Pairs      map[string]market.Pair // by lower-case input
	Kind       market.Kind            // the only kind Pairs resolve for; empty: any
	Suggest    []market.Pair          // an unknown pair's suggestions
	ResolveErr error
	Primary    *Venue
	All        []*Venue
}

var _ market.Source = (*Source)(nil)

// Calls returns how many canned calls the venues in All have answered: one
// fetch goroutine each, for memory tests.
func (s *Source) Calls() int64 {
	var n int64
	for _, v := range s.All {
		n += v.Calls()
	}
	return n
}

// Resolve looks input up in Pairs.
func (s *Source) Resolve(_ context.Context, input string, kind market.Kind) (market.Pair, error) {
	if s.ResolveErr != nil {
		return market.Pair{}, s.ResolveErr
	}
	if p, ok := s.Pairs[strings.ToLower(input)]; ok && (s.Kind == "" || kind == s.Kind) {
		return p, nil
	}
	return market.Pair{}, &market.UnknownPairError{Input: input, Suggestions: s.Suggest}
}

// Ticker is unavailable.
func (s *Source) Ticker(context.Context, market.Pair) (market.Ticker, error) {
	return market.Ticker{}, market.ErrUnavailable
}

// OpenInterest asks Primary.
func (s *Source) OpenInterest(ctx context.Context, p market.Pair) (market.OpenInterest, error) {
	return s.Primary.OpenInterest(ctx, p)
}

// OIHistory asks Primary.
func (s *Source) OIHistory(ctx context.Context, p market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	return s.Primary.OIHistory(ctx, p, period, limit)
}

// Funding asks Primary.
func (s *Source) Funding(ctx context.Context, p market.Pair) (market.Funding, error) {
	return s.Primary.Funding(ctx, p)
}

// Candles is unavailable.
func (s *Source) Candles(context.Context, market.Pair, market.Interval, int) ([]market.Candle, error) {
	return nil, market.ErrUnavailable
}

// Venues returns All as exchanges.
func (s *Source) Venues() []market.Exchange {
	out := make([]market.Exchange, len(s.All))
	for i, v := range s.All {
		out[i] = v
	}
	return out
}
