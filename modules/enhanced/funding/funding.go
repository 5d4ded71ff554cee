// Package funding is the funding-rate module: /funding shows a perpetual's
// current funding on every venue side by side (rate, interval, simple APR,
// next settlement), and /price gets a one-line funding section.
package funding

import (
	"context"
	"errors"
	"fmt"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Memory cost, checked by TestMemoryCost: the module holds two words and its
// command; one /funding request holds the venue results, the reply text and
// one fetch goroutine per venue (counted at 8 KiB of stack each).
const (
	residentBytes   = 128
	perRequestBytes = 32 << 10
)

func init() {
	modules.Register(modules.Info{
		ID:   "enhanced.funding",
		Flag: flags.FundingRates,
		Cost: modules.Cost{Resident: residentBytes, PerRequest: perRequestBytes},
		New: func(d modules.Deps) (modules.Module, error) {
			if d.Market == nil {
				return nil, errors.New("funding: no market source")
			}
			return New(d.Market, d.Now), nil
		},
	})
}

// Source is the market data the module reads: Venues for the side-by-side
// reply and the failover Funding for the /price section.
type Source interface {
	Resolve(ctx context.Context, input string, kind market.Kind) (market.Pair, error)
	Funding(ctx context.Context, pair market.Pair) (market.Funding, error)
	Venues() []market.Exchange
}

// Module answers /funding and contributes the funding line to /price.
type Module struct {
	src Source
	now func() time.Time
}

var (
	_ modules.Module    = (*Module)(nil)
	_ modules.Sectioner = (*Module)(nil)
)

// New returns the module reading src. now is the clock for countdowns; nil
// means time.Now.
func New(src Source, now func() time.Time) *Module {
	if now == nil {
		now = time.Now
	}
	return &Module{src: src, now: now}
}

// Commands returns /funding.
func (m *Module) Commands() []modules.Command {
	return []modules.Command{{
		Name:        "funding",
		Usage:       "/funding SYMBOL",
		Description: "Funding rate of a perpetual on every venue, with APR and next settlement",
		Handler:     modules.HandlerFunc(m.handle),
	}}
}

func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	if len(req.Args) != 1 {
		return modules.Reply{Text: usageText}, nil
	}
	pair, err := m.src.Resolve(ctx, req.Args[0], market.Perp)
	switch {
	case errors.Is(err, market.ErrUnknownSymbol):
		return modules.Reply{Text: reply.MarketError(req.Args[0], err)}, nil
	case err != nil:
		return modules.Reply{Text: reply.Unavailable}, nil
	}
	venues := m.src.Venues()
	if len(venues) == 0 {
		return modules.Reply{Text: reply.Unavailable}, nil
	}
	// Start every venue before waiting on any, so the slowest sets the pace.
	pending := make([]<-chan result, len(venues))
	for i, v := range venues {
		pending[i] = start(ctx, v, pair)
	}
	rows := make([]venueFunding, len(venues))
	answered, failed := 0, false
	for i, p := range pending {
		f, err := await(ctx, p)
		rows[i] = venueFunding{name: venues[i].Name(), f: f, err: err}
		switch {
		case err == nil:
			answered++
		case !errors.Is(err, market.ErrUnknownSymbol):
			failed = true
		}
	}
	if answered == 0 && failed {
		return modules.Reply{Text: reply.Unavailable}, nil
	}
	return modules.Reply{Text: render(pair, rows, m.now())}, nil
}

// Section returns "Funding +0.0100%/8h (APR +10.95%) next in 3h 12m" from the
// failover source, or "" when no venue lists the perpetual (a spot-only pair).
func (m *Module) Section(ctx context.Context, _ modules.Request, pair market.Pair) (string, error) {
	f, err := await(ctx, start(ctx, m.src, pair))
	switch {
	case errors.Is(err, market.ErrUnknownSymbol):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("funding %s: %w", pair, err)
	}
	return renderSection(f, m.now()), nil
}

// fundingReader is what one fetch needs; both Source and market.Exchange have it.
type fundingReader interface {
	Funding(ctx context.Context, pair market.Pair) (market.Funding, error)
}

type venueFunding struct {
	name string
	f    market.Funding
	err  error
}

type result struct {
	f   market.Funding
	err error
}

// start fetches in a goroutine; the buffered channel lets it finish and exit
// even when nobody waits any more.
func start(ctx context.Context, r fundingReader, pair market.Pair) <-chan result {
	ch := make(chan result, 1)
	go func() {
		f, err := r.Funding(ctx, pair)
		ch <- result{f, err}
	}()
	return ch
}

// await returns the result, or ctx's error once ctx ends. A result that is
// already there wins over a finished ctx.
func await(ctx context.Context, ch <-chan result) (market.Funding, error) {
	select {
	case r := <-ch:
		return r.f, r.err
	default:
	}
	select {
	case r := <-ch:
		return r.f, r.err
	case <-ctx.Done():
		return market.Funding{}, ctx.Err()
	}
}
