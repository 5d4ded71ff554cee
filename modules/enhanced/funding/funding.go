// Package funding is the funding-rate module: /funding shows a perpetual's
// current funding on every venue side by side (rate, interval, simple APR,
// next settlement), and /price gets a one-line funding section.
package funding

import (
	"context"
	"sync"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Memory cost, checked by TestMemoryCost: the module holds a few words and
// its command, then about 3 KB per time zone its chats use; one /funding
// request holds the venue results, the reply text and one fetch goroutine
// per venue (counted at 8 KiB of stack each).
const (
	residentBytes   = 128
	perRequestBytes = 32 << 10
)

func init() {
	info := modules.MarketModule("enhanced.funding", flags.FundingRates,
		modules.Cost{Resident: residentBytes, PerRequest: perRequestBytes},
		func(src market.Source, now func() time.Time) modules.Module { return New(src, now) })
	build := info.New
	info.New = func(d modules.Deps) (modules.Module, error) {
		m, err := build(d)
		if err == nil && d.Store != nil {
			m = m.(*Module).WithZones(d.Store) // settings are stored per chat
		}
		return m, err
	}
	modules.Register(info)
}

// Zones is the chats' settings as the module reads them: the time zone
// /settings chose for clock times ("" is UTC).
type Zones interface {
	ChatSettings(ctx context.Context, chatID int64) (store.ChatSettings, error)
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
	src   Source
	now   func() time.Time
	zones Zones    // nil: every chat in UTC
	locs  sync.Map // zone name → *time.Location, loaded once each
}

var (
	_ modules.Module    = (*Module)(nil)
	_ modules.Sectioner = (*Module)(nil)
)

// New returns the module reading src. now is the clock for countdowns; nil
// means time.Now.
func New(src Source, now func() time.Time) *Module {
	return &Module{src: src, now: modules.Clock(now)}
}

// Commands returns /funding.
func (m *Module) Commands() []modules.Command {
	return modules.One("funding", "/funding SYMBOL",
		"Funding rate of a perpetual on every venue, with APR and next settlement", m.handle)
}

func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	if len(req.Args) != 1 {
		return modules.Reply{Text: usageText}, nil
	}
	pair, err := m.src.Resolve(ctx, req.Args[0], market.Perp)
	if err != nil {
		return modules.Reply{Text: reply.PerpError(req.Args[0], err)}, nil
	}
	venues := m.src.Venues()
	if len(venues) == 0 {
		return modules.Reply{Text: reply.Unavailable}, nil
	}
	results := market.FanOut(ctx, venues, func(ctx context.Context, v market.Exchange) (market.Funding, error) {
		return v.Funding(ctx, pair)
	})
	if market.Unavailable(results) {
		return modules.Reply{Text: reply.Unavailable}, nil
	}
	rows := make([]venueFunding, len(venues))
	for i, r := range results {
		rows[i] = venueFunding{name: venues[i].Name(), f: r.Value, err: r.Err}
	}
	return modules.Reply{Text: render(pair, rows, m.now(), m.zone(ctx, req.ChatID)), Buttons: callback.Keyboard(callback.Refresh("funding", pair.String()))}, nil
}

// Section returns "Funding +0.0100%/8h (APR +10.95%) next in 3h 12m" from the
// failover source, or "" when no venue lists the perpetual (a spot-only pair).
func (m *Module) Section(ctx context.Context, _ modules.Request, pair market.Pair) (string, error) {
	f, err := market.Start(ctx, func(ctx context.Context) (market.Funding, error) { return m.src.Funding(ctx, pair) }).Wait(ctx)
	if err != nil {
		return "", reply.SectionError("funding", pair, err)
	}
	return renderSection(f, m.now()), nil
}

type venueFunding struct {
	name string
	f    market.Funding
	err  error
}

// WithZones makes /funding show the next settlement in each chat's time
// zone from z; without it every chat sees UTC.
func (m *Module) WithZones(z Zones) *Module {
	m.zones = z
	return m
}

// zone is the chat's time zone for the next settlement's clock time; UTC
// when none is set or it cannot be read (the countdown is right either way).
func (m *Module) zone(ctx context.Context, chat int64) *time.Location {
	if m.zones == nil {
		return time.UTC
	}
	cs, err := m.zones.ChatSettings(ctx, chat)
	if err != nil || cs.Zone == "" {
		return time.UTC
	}
	if loc, ok := m.locs.Load(cs.Zone); ok {
		return loc.(*time.Location)
	}
	// time.LoadLocation reads and parses the zone file each call (the binary
	// embeds no database); the names are the few /settings accepted.
	loc, err := time.LoadLocation(cs.Zone)
	if err != nil {
		loc = time.UTC
	}
	m.locs.Store(cs.Zone, loc)
	return loc
}
