package funding_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/funding"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

func handler(t *testing.T, m modules.Module) modules.Handler {
	t.Helper()
	return modulestest.Handler(t, m, "funding")
}

func TestReplies(t *testing.T) {
	unavailable := fmt.Errorf("okx funding: %w", market.ErrUnavailable)
	for _, tc := range []struct {
		name   string
		args   []string
		modify func(*fakeSource)
	}{
		{name: "normal", args: []string{"btc"}},
		{name: "upper_case_symbol", args: []string{"BTC-USDT"}},
		{name: "one_failing", args: []string{"btc"}, modify: func(s *fakeSource) { s.All[1].FundErr = unavailable }},
		{
			name: "one_not_listed", args: []string{"btc"},
			modify: func(s *fakeSource) { s.All[2].FundErr = fmt.Errorf("binance funding: %w", market.ErrUnknownSymbol) },
		},
		{
			name: "mixed_signs", args: []string{"btc"},
			modify: func(s *fakeSource) { s.All[1].Fund.Rate = -0.0000215 },
		},
		{
			name: "negative", args: []string{"btc"},
			modify: func(s *fakeSource) {
				for _, v := range s.All {
					v.Fund.Rate = -v.Fund.Rate
				}
			},
		},
		{
			name: "zero", args: []string{"btc"},
			modify: func(s *fakeSource) {
				for _, v := range s.All {
					v.Fund.Rate = 0
				}
			},
		},
		{
			name: "hourly_interval", args: []string{"btc"},
			modify: func(s *fakeSource) {
				s.All[0].Fund.Interval = time.Hour
				s.All[0].Fund.Next = time.Date(2025, 6, 2, 5, 0, 0, 0, time.UTC)
			},
		},
		{
			name: "missing_interval_and_next", args: []string{"btc"},
			modify: func(s *fakeSource) { s.All[0].Fund.Interval, s.All[0].Fund.Next = 0, time.Time{} },
		},
		{
			name: "settlement_due", args: []string{"btc"},
			modify: func(s *fakeSource) { s.All[0].Fund.Next = now.Add(-30 * time.Second) },
		},
		{
			name: "all_not_listed", args: []string{"btc"},
			modify: func(s *fakeSource) {
				for _, v := range s.All {
					v.FundErr = market.ErrUnknownSymbol
				}
			},
		},
		{
			name: "all_unavailable", args: []string{"btc"},
			modify: func(s *fakeSource) {
				for _, v := range s.All {
					v.FundErr = unavailable
				}
			},
		},
		{name: "no_venues", args: []string{"btc"}, modify: func(s *fakeSource) { s.All = nil }},
		{name: "unknown_pair", args: []string{"btcc"}},
		{name: "unknown_pair_no_suggestions", args: []string{"zzz"}, modify: func(s *fakeSource) { s.Suggest = nil }},
		{name: "unknown_pair_hostile_input", args: []string{"<b>&" + strings.Repeat("x", 100)}},
		{name: "unavailable", args: []string{"btc"}, modify: func(s *fakeSource) { s.ResolveErr = unavailable }},
		{name: "no_args"},
		{name: "too_many_args", args: []string{"btc", "eth"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource()
			if tc.modify != nil {
				tc.modify(src)
			}
			reply, err := handler(t, funding.New(src, clock)).Handle(t.Context(), modules.Request{Command: "funding", Args: tc.args})
			if err != nil {
				t.Fatalf("Handle error = %v, want a reply", err)
			}
			modulestest.CheckHTML(t, reply.Text)
			modulestest.Golden(t, tc.name, reply.Text)
		})
	}
}

// TestExtraArguments: /funding takes one symbol; more arguments are never
// ignored silently but answered with the usage, without asking any venue.
func TestExtraArguments(t *testing.T) {
	src := newSource()
	modulestest.CheckUsage(t, handler(t, funding.New(src, clock)), "funding", "Usage: <code>/funding SYMBOL</code>",
		func() int64 { return src.Calls() + src.Primary.Calls() }, []string{"btc", "eth"}, []string{"btc", "all"}, []string{"btc", "eth", "sol"})
}

func TestSection(t *testing.T) {
	modulestest.CheckSections(t, newSource, func(s *fakeSource) modules.Sectioner { return funding.New(s, clock) }, btc, []modulestest.SectionCase{
		{Name: "normal", Want: "Funding +0.0100%/8h (APR +10.95%) next in 3h 12m"},
		{Name: "negative", Modify: func(s *fakeSource) { s.Primary.Fund.Rate = -0.0000532 }, Want: "Funding -0.0053%/8h (APR -5.83%) next in 3h 12m"},
		{Name: "hourly", Modify: func(s *fakeSource) { s.Primary.Fund.Interval = time.Hour }, Want: "Funding +0.0100%/1h (APR +87.60%) next in 3h 12m"},
		{Name: "no interval", Modify: func(s *fakeSource) { s.Primary.Fund.Interval = 0 }, Want: "Funding +0.0100% next in 3h 12m"},
		{Name: "no next", Modify: func(s *fakeSource) { s.Primary.Fund.Next = time.Time{} }, Want: "Funding +0.0100%/8h (APR +10.95%)"},
		{Name: "due", Modify: func(s *fakeSource) { s.Primary.Fund.Next = now }, Want: "Funding +0.0100%/8h (APR +10.95%) next due now"},
		{Name: "spot-only pair", Modify: func(s *fakeSource) { s.Primary.FundErr = market.ErrUnknownSymbol }, Want: ""},
		{Name: "unavailable", Modify: func(s *fakeSource) { s.Primary.FundErr = market.ErrUnavailable }, WantErr: market.ErrUnavailable},
	})
}

// A stalled venue must not hold the reply past the deadline: it shows as
// unavailable and the others still answer.
func TestDeadline(t *testing.T) {
	t.Run("reply", func(t *testing.T) {
		src := newSource()
		src.All[2].Hang = true
		modulestest.CheckReplyAtDeadline(t, handler(t, funding.New(src, clock)), modules.Request{Command: "funding", Args: []string{"btc"}},
			3*time.Second, "Binance  unavailable", "Bybit    +0.0100%/8h", "OKX      +0.0053%/8h")
	})
	t.Run("section", func(t *testing.T) {
		src := newSource()
		src.Primary.Hang = true
		modulestest.CheckSectionAtDeadline(t, funding.New(src, clock), btc)
	})
}

func TestRegistration(t *testing.T) {
	modulestest.CheckMarketModule(t, "enhanced.funding", flags.FundingRates, modules.Deps{Market: newSource(), Now: clock}, "funding")
}

// TestMemoryCost: every request asks every venue, one fetch goroutine each.
func TestMemoryCost(t *testing.T) {
	modulestest.CheckSourceMemoryCost(t, "enhanced.funding", newSource(), modules.Request{Command: "funding", Args: []string{"btc"}})
}

func TestNilClock(t *testing.T) {
	modulestest.CheckNilClock(t, handler(t, funding.New(newSource(), nil)), modules.Request{Args: []string{"btc"}}, "+0.0100%/8h")
}

// The shared canned market's clock (3h 12m before the 08:00 UTC
// settlement) and pair.
var now, clock, btc = modulestest.Now, modulestest.Clock, modulestest.BTC

// fakeSource is the shared canned market; fakeVenue one of its venues.
type (
	fakeSource = modulestest.Source
	fakeVenue  = modulestest.Venue
)

var settlement = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

// venue is a fake venue whose rate settles at 08:00 UTC, read age ago.
func venue(id string, rate float64, interval time.Duration, mark, index float64, age time.Duration) *fakeVenue {
	return &fakeVenue{ID: id, Fund: market.Funding{
		Pair: btc, Venue: id, Rate: rate, Interval: interval, Next: settlement, Mark: mark, Index: index, Time: now.Add(-age),
	}}
}

func bybit() *fakeVenue {
	return venue(market.Bybit, 0.0001, 8*time.Hour, 85_012.5, 85_020.1, 2*time.Second)
}

// OKX's funding-rate has no mark or index.
func okx() *fakeVenue { return venue(market.OKX, 0.0000532, 8*time.Hour, 0, 0, 4*time.Second) }

// A Binance symbol on an adjusted 4 h interval (fundingInfo).
func binance() *fakeVenue {
	return venue(market.Binance, 0.000075, 4*time.Hour, 85_010, 85_018.7, time.Second)
}

func newSource() *fakeSource {
	return &fakeSource{
		Pairs:   map[string]market.Pair{"btc": btc, "btcusdt": btc, "btc-usdt": btc},
		Suggest: []market.Pair{btc, {Base: "BTCDOM", Quote: "USDT"}},
		Kind:    market.Perp,
		Primary: bybit(),
		All:     []*fakeVenue{bybit(), okx(), binance()},
	}
}

// zones answers every chat's settings with one time zone.
type zones string

func (z zones) ChatSettings(context.Context, int64) (store.ChatSettings, error) {
	return store.ChatSettings{Zone: string(z)}, nil
}

// TestNextSettlementInTheChatsZone: the clock time of the next settlement
// follows /settings' time zone; the countdown is the same everywhere.
func TestNextSettlementInTheChatsZone(t *testing.T) {
	utc, err := handler(t, funding.New(newSource(), clock)).Handle(t.Context(), modules.Request{Command: "funding", Args: []string{"btc"}})
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := handler(t, funding.New(newSource(), clock).WithZones(zones("Asia/Tokyo"))).Handle(t.Context(), modules.Request{Command: "funding", Args: []string{"btc"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(utc.Text, " UTC in ") || strings.Contains(tokyo.Text, " UTC ") || !strings.Contains(tokyo.Text, " JST in ") {
		t.Errorf("UTC reply:\n%s\nTokyo reply:\n%s", utc.Text, tokyo.Text)
	}
	bad, err := handler(t, funding.New(newSource(), clock).WithZones(zones("Mars/Olympus"))).Handle(t.Context(), modules.Request{Command: "funding", Args: []string{"btc"}})
	if err != nil || bad.Text != utc.Text {
		t.Errorf("an unknown zone should fall back to UTC: %v\n%s", err, bad.Text)
	}
}
