package httpjson

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// SymbolsMaxAge is how old a Symbols map may get before a batched call
// reloads it. The Market reloads instrument lists hourly, which refreshes the
// map on the way, so in a running bot the batch never pays for the reload.
const SymbolsMaxAge = 2 * time.Hour

// Symbols maps a venue's own spot symbols (BTCUSDT) back to pairs, from the
// last spot instrument list its client loaded: a glued symbol cannot be split
// safely without it. Safe for concurrent use; the zero value is empty.
type Symbols struct {
	mu  sync.Mutex
	m   map[string]market.Pair
	at  time.Time
	run sync.Mutex // one reload at a time
}

// Set replaces the map with ins's spot instruments, loaded at now.
func (s *Symbols) Set(ins []market.Instrument, now time.Time) {
	m := make(map[string]market.Pair, len(ins))
	for _, in := range ins {
		if in.Kind == market.Spot && in.Symbol != "" && in.Pair.Base != "" && in.Pair.Quote != "" {
			m[in.Symbol] = in.Pair
		}
	}
	if len(m) == 0 {
		return // an empty list would drop every row; keep the last one
	}
	s.mu.Lock()
	s.m, s.at = m, now
	s.mu.Unlock()
}

// Get returns the map, reloading it with load first when it is missing or
// older than SymbolsMaxAge. A failed reload keeps serving the old map; with
// none it returns load's error. The map is shared: read it, never write it.
func (s *Symbols) Get(ctx context.Context, now time.Time, load func(context.Context) ([]market.Instrument, error)) (map[string]market.Pair, error) {
	if m, ok := s.current(now); ok {
		return m, nil
	}
	s.run.Lock()
	defer s.run.Unlock()
	if m, ok := s.current(now); ok { // another caller reloaded it meanwhile
		return m, nil
	}
	ins, err := load(ctx)
	if err == nil {
		s.Set(ins, now)
	}
	s.mu.Lock()
	m := s.m
	s.mu.Unlock()
	if m == nil {
		if err == nil {
			err = fmt.Errorf("%w: no usable spot instrument", market.ErrBadResponse)
		}
		return nil, err
	}
	return m, nil
}

// Prices sends req, a batched request for every spot price whose rows name
// the venue's own symbols, and decodes it against the map, loaded with
// instruments first when Get needs to; at is c.Now() on arrival.
func (s *Symbols) Prices(ctx context.Context, c *Client, req Request,
	instruments func(context.Context, market.Kind) ([]market.Instrument, error),
	decode func(body []byte, syms map[string]market.Pair, at time.Time) ([]market.Price, error),
) ([]market.Price, error) {
	syms, err := s.Get(ctx, c.Now(), func(ctx context.Context) ([]market.Instrument, error) {
		return instruments(ctx, market.Spot)
	})
	if err != nil {
		return nil, c.Wrap(err, "all prices: symbols")
	}
	out, err := Fetch(ctx, c, req, func(b []byte) ([]market.Price, error) { return decode(b, syms, c.Now()) })
	return out, c.Wrap(err, "all prices")
}

func (s *Symbols) current(now time.Time) (map[string]market.Pair, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m, s.m != nil && now.Sub(s.at) < SymbolsMaxAge
}

// PriceOf parses a batched row's price; text that is no number gives NaN,
// which the Market drops and counts as implausible, rather than failing the
// whole batch over one row.
func PriceOf(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}
