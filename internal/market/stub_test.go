package market

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/testkit"
)

// stub is an in-package Exchange with canned data, an error per method,
// call counters, and optional gating or hanging of data calls.
type stub struct {
	name string

	mu    sync.Mutex
	spot  []Pair           // listed spot pairs; others answer ErrUnknownSymbol
	perp  []Pair           // listed perps
	errs  map[string]error // per method name (op names and "instruments")
	calls map[string]int
	gate  chan struct{}    // when set, data calls wait for it to close
	hang  bool             // data calls block until ctx ends
	last  float64          // the ticker's last price; 0: 100
	now   func() time.Time // when set, stamps tickers
}

func pair(s string) Pair {
	p, err := Normalize(s)
	if err != nil {
		panic(err)
	}
	return p
}

func pairs(ss ...string) []Pair {
	out := make([]Pair, len(ss))
	for i, s := range ss {
		out[i] = pair(s)
	}
	return out
}

func newStub(name string) *stub {
	return &stub{
		name:  name,
		spot:  pairs("BTC-USDT", "ETH-USDT", "SOL-USDT", "ETH-BTC", "WBTC-USDT", "BTC-USDC"),
		perp:  pairs("BTC-USDT", "ETH-USDT", "SOL-USDT"),
		errs:  map[string]error{},
		calls: map[string]int{},
	}
}

func (s *stub) setErr(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs[method] = err
}

func (s *stub) count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// begin records a call and returns the error it should answer.
func (s *stub) begin(ctx context.Context, method string, kind Kind, p Pair) error {
	s.mu.Lock()
	s.calls[method]++
	err, gate, hang := s.errs[method], s.gate, s.hang
	list := s.spot
	if kind == Perp {
		list = s.perp
	}
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return fmt.Errorf("%s %s: %w: %w", s.name, method, ErrUnavailable, ctx.Err())
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return fmt.Errorf("%s %s: %w: %w", s.name, method, ErrUnavailable, ctx.Err())
		}
	}
	if err != nil {
		return err
	}
	if !slices.Contains(list, p) {
		return fmt.Errorf("%s %s %s: %w", s.name, method, p, ErrUnknownSymbol)
	}
	return nil
}

func (s *stub) Name() string { return s.name }

func (s *stub) Instruments(_ context.Context, kind Kind) ([]Instrument, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["instruments"]++
	if err := s.errs["instruments"]; err != nil {
		return nil, err
	}
	list := s.spot
	if kind == Perp {
		list = s.perp
	}
	var out []Instrument
	for _, p := range list {
		out = append(out, Instrument{Pair: p, Kind: kind, Symbol: p.Base + p.Quote, CtVal: 1})
	}
	return out, nil
}

func (s *stub) Ticker(ctx context.Context, p Pair) (Ticker, error) {
	if err := s.begin(ctx, "ticker", Spot, p); err != nil {
		return Ticker{}, err
	}
	s.mu.Lock()
	t := Ticker{Pair: p, Venue: s.name, Last: cmp.Or(s.last, 100)}
	if s.now != nil {
		t.Time = s.now()
	}
	s.mu.Unlock()
	return t, nil
}

func (s *stub) OpenInterest(ctx context.Context, p Pair) (OpenInterest, error) {
	if err := s.begin(ctx, "open_interest", Perp, p); err != nil {
		return OpenInterest{}, err
	}
	return OpenInterest{Pair: p, Venue: s.name, Coin: 10, USD: 1000}, nil
}

func (s *stub) OIHistory(ctx context.Context, p Pair, period time.Duration, limit int) ([]OIPoint, error) {
	if err := s.begin(ctx, "oi_history", Perp, p); err != nil {
		return nil, err
	}
	out := make([]OIPoint, limit)
	for i := range out {
		out[i] = OIPoint{Time: time.Unix(0, 0).Add(time.Duration(i) * period), Coin: float64(i), USD: float64(i) * 100}
	}
	return out, nil
}

func (s *stub) Funding(ctx context.Context, p Pair) (Funding, error) {
	if err := s.begin(ctx, "funding", Perp, p); err != nil {
		return Funding{}, err
	}
	return Funding{Pair: p, Venue: s.name, Rate: 0.0001, Interval: 8 * time.Hour}, nil
}

func (s *stub) Candles(ctx context.Context, p Pair, iv Interval, limit int) ([]Candle, error) {
	if err := s.begin(ctx, "candles", Spot, p); err != nil {
		return nil, err
	}
	out := make([]Candle, limit)
	for i := range out {
		out[i] = Candle{Open: time.Unix(0, 0).Add(time.Duration(i) * iv.Duration()), O: 1, H: 2, L: 0.5, C: float64(i + 1), Volume: 7}
	}
	return out, nil
}

// newClock returns an injectable Now, at a fixed instant.
func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

// newTestMarket builds a Market over stubs with a fresh registry. Pass
// opts.Exchanges empty: the stubs are filled in.
func newTestMarket(t testing.TB, opts Options, stubs ...*stub) *Market {
	t.Helper()
	for _, s := range stubs {
		opts.Exchanges = append(opts.Exchanges, s)
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New("test", "test")
	}
	return New(opts)
}

func (s *stub) setLast(v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = v
}

func (s *stub) setGate(g chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = g
}

func (s *stub) setHang(h bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = h
}
