// Package market holds the exchange-neutral value types, the errors every venue
// client maps its envelopes to, and the interfaces consumers depend on.
// Venue clients live in binance/, bybit/ and okx/; failover, caching and
// symbol resolution live here.
package market

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Pair is a base/quote pair such as BTC-USDT, always upper case.
type Pair struct {
	Base, Quote string
}

// String renders the pair the way users see it: BTC-USDT.
func (p Pair) String() string { return p.Base + "-" + p.Quote }

// Kind is an instrument kind.
type Kind string

// The instrument kinds the bot reads.
const (
	Spot Kind = "spot"
	Perp Kind = "perp" // USDT-margined linear perpetual
)

// Instrument is one tradable listing on a venue.
type Instrument struct {
	Pair   Pair
	Kind   Kind
	Symbol string  // the venue's own spelling: BTCUSDT, BTC-USDT-SWAP
	CtVal  float64 // contract value in base coin (OKX swaps); 1 elsewhere
}

// Ticker is a 24h ticker. Volumes are in base and quote currency.
type Ticker struct {
	Pair        Pair
	Venue       string
	Last        float64
	Open        float64 // price 24 h ago, when the venue reports it
	High        float64
	Low         float64
	ChangePct   float64 // percent, e.g. -1.25 means -1.25 %
	BaseVolume  float64
	QuoteVolume float64
	Time        time.Time // the venue's timestamp for the data
}

// OpenInterest is a perpetual's open interest now.
type OpenInterest struct {
	Pair  Pair
	Venue string
	Coin  float64 // in base coin
	USD   float64 // in USD (quote)
	Time  time.Time
}

// OIPoint is one row of open-interest history.
type OIPoint struct {
	Time time.Time
	Coin float64
	USD  float64
}

// Funding is a perpetual's current funding.
type Funding struct {
	Pair     Pair
	Venue    string
	Rate     float64       // fraction per interval: 0.0001 = 0.01 %
	Interval time.Duration // from the venue, never assumed where the venue says
	Next     time.Time     // next settlement
	Mark     float64       // mark price, 0 if unknown
	Index    float64       // index price, 0 if unknown
	Time     time.Time
}

// Interval is a candle interval.
type Interval string

// The candle intervals the bot supports. M1 is for the alerts' gap
// recovery only: ParseInterval (the commands' input) does not accept it.
const (
	M1  Interval = "1m"
	M15 Interval = "15m"
	H1  Interval = "1h"
	H4  Interval = "4h"
	D1  Interval = "1d"
)

// Duration returns the length of one candle.
func (i Interval) Duration() time.Duration {
	switch i {
	case M1:
		return time.Minute
	case M15:
		return 15 * time.Minute
	case H1:
		return time.Hour
	case H4:
		return 4 * time.Hour
	case D1:
		return 24 * time.Hour
	}
	return 0
}

// ParseInterval accepts 15m, 1h, 4h, 1d in any case.
func ParseInterval(s string) (Interval, error) {
	switch i := Interval(lower(s)); i {
	case M15, H1, H4, D1:
		return i, nil
	}
	return "", fmt.Errorf("unknown interval %q (use 15m, 1h, 4h or 1d)", s)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Candle is one closed bar; series are always in ascending time order.
type Candle struct {
	Open               time.Time
	O, H, L, C, Volume float64 // Volume in base coin
}

// Errors every venue client maps its envelopes to. Failover moves on for
// ErrRateLimited and ErrUnavailable, never for ErrUnknownSymbol.
var (
	ErrUnknownSymbol = errors.New("unknown symbol")
	ErrInvalidSymbol = errors.New("invalid symbol") // input that cannot be a pair at all
	ErrRateLimited   = errors.New("rate limited")
	ErrUnavailable   = errors.New("market data unavailable")
	ErrBadResponse   = errors.New("malformed response")  // also fails over
	ErrUnsupported   = errors.New("unsupported request") // a period, interval or kind the venue does not offer
)

// RateLimitError carries the venue's Retry-After; errors.Is(err, ErrRateLimited) holds.
type RateLimitError struct {
	Venue      string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: rate limited, retry after %s", e.Venue, e.RetryAfter)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Exchange is what one venue client offers. Every method maps venue errors to
// the errors above (wrapped with the venue and endpoint).
type Exchange interface {
	Name() string // "binance", "bybit", "okx"
	Instruments(ctx context.Context, kind Kind) ([]Instrument, error)
	Ticker(ctx context.Context, pair Pair) (Ticker, error) // spot
	OpenInterest(ctx context.Context, pair Pair) (OpenInterest, error)
	OIHistory(ctx context.Context, pair Pair, period time.Duration, limit int) ([]OIPoint, error) // ascending
	Funding(ctx context.Context, pair Pair) (Funding, error)
	Candles(ctx context.Context, pair Pair, iv Interval, limit int) ([]Candle, error) // closed bars, ascending
}

// UnknownPairError is returned by Source.Resolve for a pair no venue lists;
// errors.Is(err, ErrUnknownSymbol) holds. Suggestions are the closest listed pairs.
type UnknownPairError struct {
	Input       string
	Suggestions []Pair
}

func (e *UnknownPairError) Error() string { return fmt.Sprintf("unknown pair %q", e.Input) }

// Is makes errors.Is(err, ErrUnknownSymbol) true.
func (e *UnknownPairError) Is(target error) bool { return target == ErrUnknownSymbol }

// Source is the market as modules see it: symbol resolution against cached
// instrument lists, failover across venues in configured order, and a TTL
// cache with singleflight. Modules declare narrower interfaces of their own.
type Source interface {
	// Resolve normalises user input (btc, BTCUSDT, btc/usdt, BTC-USDT) and checks
	// it against the venues' instrument lists of that kind.
	Resolve(ctx context.Context, input string, kind Kind) (Pair, error)
	Ticker(ctx context.Context, pair Pair) (Ticker, error)
	OpenInterest(ctx context.Context, pair Pair) (OpenInterest, error)
	OIHistory(ctx context.Context, pair Pair, period time.Duration, limit int) ([]OIPoint, error)
	Funding(ctx context.Context, pair Pair) (Funding, error)
	Candles(ctx context.Context, pair Pair, iv Interval, limit int) ([]Candle, error)
	// Venues returns each venue on its own (cached, no failover), in configured
	// order, for side-by-side views such as /oi btc all.
	Venues() []Exchange
}
