// Package openinterest is the open-interest module: /oi shows a perpetual's
// open interest in coin and USD with its 1h, 4h and 24h change, /oi SYMBOL all
// puts every venue side by side, and /price gets a one-line OI section.
package openinterest

import (
	"context"
	"strings"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Memory cost, checked by TestMemoryCost: the module holds two words and its
// command; one /oi SYMBOL all request holds the venue results, the reply text
// and two fetch goroutines per venue (counted at 8 KiB of stack each).
const (
	residentBytes   = 128
	perRequestBytes = 64 << 10
)

func init() {
	modules.Register(modules.MarketModule("enhanced.openinterest", flags.OpenInterest,
		modules.Cost{Resident: residentBytes, PerRequest: perRequestBytes},
		func(src market.Source, now func() time.Time) modules.Module { return New(src, now) }))
}

// Source is the market data the module reads: the failover source for the
// single-venue view and the section, and Venues for the side-by-side table.
type Source interface {
	Resolve(ctx context.Context, input string, kind market.Kind) (market.Pair, error)
	OpenInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error)
	OIHistory(ctx context.Context, pair market.Pair, period time.Duration, limit int) ([]market.OIPoint, error)
	Venues() []market.Exchange
}

// Module answers /oi and contributes the OI line to /price.
type Module struct {
	src Source
	now func() time.Time
}

var (
	_ modules.Module    = (*Module)(nil)
	_ modules.Sectioner = (*Module)(nil)
)

// New returns the module reading src. now is the clock for data ages; nil
// means time.Now.
func New(src Source, now func() time.Time) *Module {
	return &Module{src: src, now: modules.Clock(now)}
}

// Commands returns /oi.
func (m *Module) Commands() []modules.Command {
	return modules.One("oi", "/oi SYMBOL [all]",
		"Open interest of a perpetual with its 1h/4h/24h change", m.handle)
}

func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	var all bool
	switch {
	case len(req.Args) == 1:
	case len(req.Args) == 2 && strings.EqualFold(req.Args[1], "all"):
		all = true
	default:
		return modules.Reply{Text: usageText}, nil
	}
	pair, err := m.src.Resolve(ctx, req.Args[0], market.Perp)
	if err != nil {
		return modules.Reply{Text: reply.PerpError(req.Args[0], err)}, nil
	}
	if all {
		return m.allVenues(ctx, pair), nil
	}
	return m.oneVenue(ctx, pair), nil
}

func (m *Module) oneVenue(ctx context.Context, pair market.Pair) modules.Reply {
	s := m.failover(ctx, pair)
	if s.err != nil {
		return modules.Reply{Text: reply.Unavailable}
	}
	return modules.Reply{Text: renderOne(pair, s, m.now()), Buttons: callback.Keyboard(callback.Refresh("oi", pair.String()))}
}

func (m *Module) allVenues(ctx context.Context, pair market.Pair) modules.Reply {
	venues := m.src.Venues()
	if len(venues) == 0 {
		return modules.Reply{Text: reply.Unavailable}
	}
	results := market.FanOut(ctx, venues, func(ctx context.Context, v market.Exchange) (pendingSnapshot, error) {
		return fetch(ctx, v, pair)
	})
	if market.Unavailable(results) {
		return modules.Reply{Text: reply.Unavailable}
	}
	rows := make([]venueSnapshot, len(venues))
	for i, r := range results {
		rows[i] = venueSnapshot{name: venues[i].Name(), snapshot: r.Value.wait(ctx, r.Err)}
	}
	return modules.Reply{Text: renderAll(pair, rows, m.now()), Buttons: callback.Keyboard(callback.Refresh("oi", pair.String(), "all"))}
}

// Section returns "OI $8.12B (24h +1.2%)" from the failover source, or "" when
// no venue lists the perpetual (a spot-only pair).
func (m *Module) Section(ctx context.Context, _ modules.Request, pair market.Pair) (string, error) {
	s := m.failover(ctx, pair)
	if s.err != nil {
		return "", reply.SectionError("open interest", pair, s.err)
	}
	return renderSection(pair, s), nil
}

// oiReader is what one snapshot needs; both Source and market.Exchange have it.
type oiReader interface {
	OpenInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error)
	OIHistory(ctx context.Context, pair market.Pair, period time.Duration, limit int) ([]market.OIPoint, error)
}

// Hourly rows, 25 of them, reach the row 24 h before the latest.
const (
	historyPeriod = time.Hour
	historyRows   = 25
	// Venues stamp rows on period boundaries; allow a little jitter.
	historyTolerance = 5 * time.Minute
)

// snapshot is one venue's open interest and its change over 1h, 4h and 24h.
type snapshot struct {
	oi      market.OpenInterest
	err     error // from OpenInterest; a history failure only loses the changes
	changes [3]change
}

type venueSnapshot struct {
	name string
	snapshot
}

type change struct {
	pct float64
	ok  bool
}

// horizon is one span the change is shown over.
type horizon struct {
	span  time.Duration
	label string
}

func horizons() [3]horizon {
	return [3]horizon{{time.Hour, "1h"}, {4 * time.Hour, "4h"}, {24 * time.Hour, "24h"}}
}

// pendingSnapshot is one venue's current OI with its history still in flight.
type pendingSnapshot struct {
	oi   market.OpenInterest
	hist *market.Call[[]market.OIPoint]
}

// fetch starts the history in its own goroutine and reads the current OI
// meanwhile.
func fetch(ctx context.Context, r oiReader, pair market.Pair) (pendingSnapshot, error) {
	hist := market.Start(ctx, func(ctx context.Context) ([]market.OIPoint, error) {
		return r.OIHistory(ctx, pair, historyPeriod, historyRows)
	})
	oi, err := r.OpenInterest(ctx, pair)
	return pendingSnapshot{oi: oi, hist: hist}, err
}

// wait completes the snapshot whose OI call ended with err: it waits for the
// history, or gives up on it when ctx ends.
func (p pendingSnapshot) wait(ctx context.Context, err error) snapshot {
	if err != nil {
		return snapshot{err: err}
	}
	s := snapshot{oi: p.oi}
	if hist, err := p.hist.Wait(ctx); err == nil {
		s.changes = changes(hist)
	}
	return s
}

// failover takes the snapshot from the failover source, both calls in
// goroutines of their own so a stalled source cannot hold the reply.
func (m *Module) failover(ctx context.Context, pair market.Pair) snapshot {
	p, err := market.Start(ctx, func(ctx context.Context) (pendingSnapshot, error) { return fetch(ctx, m.src, pair) }).Wait(ctx)
	return p.wait(ctx, err)
}

// changes compares the latest row with the rows 1, 4 and 24 h before it,
// found by timestamp: venues skip rows, so an index is not an hour.
func changes(hist []market.OIPoint) [3]change {
	var out [3]change
	if len(hist) == 0 {
		return out
	}
	latest := hist[0]
	for _, p := range hist[1:] {
		if p.Time.After(latest.Time) {
			latest = p
		}
	}
	for i, h := range horizons() {
		if base, ok := rowAt(hist, latest.Time.Add(-h.span)); ok {
			out[i] = percentChange(base, latest)
		}
	}
	return out
}

func rowAt(hist []market.OIPoint, t time.Time) (market.OIPoint, bool) {
	for _, p := range hist {
		if d := p.Time.Sub(t); d > -historyTolerance && d < historyTolerance {
			return p, true
		}
	}
	return market.OIPoint{}, false
}

// percentChange prefers USD, the unit the replies show, and falls back to
// coin for venues whose history lacks USD.
func percentChange(base, latest market.OIPoint) change {
	switch {
	case base.USD > 0 && latest.USD > 0:
		return change{pct: (latest.USD/base.USD - 1) * 100, ok: true}
	case base.Coin > 0 && latest.Coin > 0:
		return change{pct: (latest.Coin/base.Coin - 1) * 100, ok: true}
	}
	return change{}
}
