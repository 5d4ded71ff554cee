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

// module is /funding over the canned market.
var module = modulestest.Market{
	ID: "enhanced.funding", Flag: flags.FundingRates, Command: "funding", NewSource: newSource,
	New: func(src *modulestest.Source, now func() time.Time) modules.Module { return funding.New(src, now) },
}

func TestReplies(t *testing.T) {
	unavailable := fmt.Errorf("okx funding: %w", market.ErrUnavailable)
	module.CheckReplies(t, append([]modulestest.ReplyCase{
		{Name: "normal", Args: []string{"btc"}},
		{Name: "upper_case_symbol", Args: []string{"BTC-USDT"}},
		{Name: "one_failing", Args: []string{"btc"}, Modify: func(s *modulestest.Source) { s.All[1].FundErr = unavailable }},
		{
			Name: "one_not_listed", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) {
				s.All[2].FundErr = fmt.Errorf("binance funding: %w", market.ErrUnknownSymbol)
			},
		},
		{
			Name: "mixed_signs", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) { s.All[1].Fund.Rate = -0.0000215 },
		},
		{
			Name: "negative", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) {
				for _, v := range s.All {
					v.Fund.Rate = -v.Fund.Rate
				}
			},
		},
		{
			Name: "zero", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) {
				for _, v := range s.All {
					v.Fund.Rate = 0
				}
			},
		},
		{
			Name: "hourly_interval", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) {
				s.All[0].Fund.Interval = time.Hour
				s.All[0].Fund.Next = time.Date(2025, 6, 2, 5, 0, 0, 0, time.UTC)
			},
		},
		{
			Name: "missing_interval_and_next", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) { s.All[0].Fund.Interval, s.All[0].Fund.Next = 0, time.Time{} },
		},
		{
			Name: "settlement_due", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) { s.All[0].Fund.Next = now.Add(-30 * time.Second) },
		},
		{
			Name: "all_not_listed", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) {
				for _, v := range s.All {
					v.FundErr = market.ErrUnknownSymbol
				}
			},
		},
		{
			Name: "all_unavailable", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) {
				for _, v := range s.All {
					v.FundErr = unavailable
				}
			},
		},
		{Name: "no_venues", Args: []string{"btc"}, Modify: func(s *modulestest.Source) { s.All = nil }},
		{Name: "no_args"},
		{Name: "too_many_args", Args: []string{"btc", "eth"}},
	}, modulestest.UnresolvedCases()...))
}

// TestExtraArguments: /funding takes one symbol; more arguments are never
// ignored silently but answered with the usage, without asking any venue.
func TestExtraArguments(t *testing.T) {
	src := newSource()
	modulestest.CheckUsage(t, module.Handler(t, src), "funding", "Usage: <code>/funding SYMBOL</code>",
		func() int64 { return src.Calls() + src.Primary.Calls() }, []string{"btc", "eth"}, []string{"btc", "all"}, []string{"btc", "eth", "sol"})
}

func TestSection(t *testing.T) {
	module.CheckSections(t, append([]modulestest.SectionCase{
		{Name: "normal", Want: "Funding +0.0100%/8h (APR +10.95%) next in 3h 12m"},
		{Name: "negative", Modify: func(s *modulestest.Source) { s.Primary.Fund.Rate = -0.0000532 }, Want: "Funding -0.0053%/8h (APR -5.83%) next in 3h 12m"},
		{Name: "hourly", Modify: func(s *modulestest.Source) { s.Primary.Fund.Interval = time.Hour }, Want: "Funding +0.0100%/1h (APR +87.60%) next in 3h 12m"},
		{Name: "no interval", Modify: func(s *modulestest.Source) { s.Primary.Fund.Interval = 0 }, Want: "Funding +0.0100% next in 3h 12m"},
		{Name: "no next", Modify: func(s *modulestest.Source) { s.Primary.Fund.Next = time.Time{} }, Want: "Funding +0.0100%/8h (APR +10.95%)"},
		{Name: "due", Modify: func(s *modulestest.Source) { s.Primary.Fund.Next = now }, Want: "Funding +0.0100%/8h (APR +10.95%) next due now"},
	}, modulestest.SectionFailures(func(s *modulestest.Source, err error) { s.Primary.FundErr = err })...))
}

// TestContract: a stalled venue must not hold the reply past the deadline
// (it shows as unavailable and the others still answer), and every request
// asks every venue, one fetch goroutine each.
func TestContract(t *testing.T) {
	module.CheckContract(t, modulestest.Contract{
		Heaviest: []string{"btc"}, Stalled: 2,
		AtDeadline: []string{"Binance  unavailable", "Bybit    +0.0100%/8h", "OKX      +0.0053%/8h"},
		Plain:      []string{"btc"}, PlainWant: "+0.0100%/8h",
	})
}

// The shared canned market's clock (3h 12m before the 08:00 UTC
// settlement) and pair.
var now, clock, btc = modulestest.Now, modulestest.Clock, modulestest.BTC

var settlement = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

// venue is a fake venue whose rate settles at 08:00 UTC, read age ago.
func venue(id string, rate float64, interval time.Duration, mark, index float64, age time.Duration) *modulestest.Venue {
	return &modulestest.Venue{ID: id, Fund: market.Funding{
		Pair: btc, Venue: id, Rate: rate, Interval: interval, Next: settlement, Mark: mark, Index: index, Time: now.Add(-age),
	}}
}

func bybit() *modulestest.Venue {
	return venue(market.Bybit, 0.0001, 8*time.Hour, 85_012.5, 85_020.1, 2*time.Second)
}

// OKX's funding-rate has no mark or index.
func okx() *modulestest.Venue { return venue(market.OKX, 0.0000532, 8*time.Hour, 0, 0, 4*time.Second) }

// A Binance symbol on an adjusted 4 h interval (fundingInfo).
func binance() *modulestest.Venue {
	return venue(market.Binance, 0.000075, 4*time.Hour, 85_010, 85_018.7, time.Second)
}

func newSource() *modulestest.Source {
	return modulestest.PerpSource(bybit(), bybit(), okx(), binance())
}

// zones answers every chat's settings with one time zone.
type zones string

func (z zones) ChatSettings(context.Context, int64) (store.ChatSettings, error) {
	return store.ChatSettings{Zone: string(z)}, nil
}

// TestNextSettlementInTheChatsZone: the clock time of the next settlement
// follows /settings' time zone; the countdown is the same everywhere.
func TestNextSettlementInTheChatsZone(t *testing.T) {
	utc, err := module.Handler(t, newSource()).Handle(t.Context(), modules.Request{Command: "funding", Args: []string{"btc"}})
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := modulestest.Handler(t, funding.New(newSource(), clock).WithZones(zones("Asia/Tokyo")), "funding").Handle(t.Context(), modules.Request{Command: "funding", Args: []string{"btc"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(utc.Text, " UTC in ") || strings.Contains(tokyo.Text, " UTC ") || !strings.Contains(tokyo.Text, " JST in ") {
		t.Errorf("UTC reply:\n%s\nTokyo reply:\n%s", utc.Text, tokyo.Text)
	}
	bad, err := modulestest.Handler(t, funding.New(newSource(), clock).WithZones(zones("Mars/Olympus")), "funding").Handle(t.Context(), modules.Request{Command: "funding", Args: []string{"btc"}})
	if err != nil || bad.Text != utc.Text {
		t.Errorf("an unknown zone should fall back to UTC: %v\n%s", err, bad.Text)
	}
}
