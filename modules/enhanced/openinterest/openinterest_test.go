package openinterest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/openinterest"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

func oi(t *testing.T, src *modulestest.Source, args ...string) string {
	t.Helper()
	reply, err := module.Handler(t, src).Handle(t.Context(), modules.Request{Command: "oi", Args: args})
	if err != nil {
		t.Fatalf("Handle(%q) error = %v, want a reply", args, err)
	}
	modulestest.CheckHTML(t, reply.Text)
	return reply.Text
}

// module is /oi over the canned market.
var module = modulestest.Market{
	ID: "enhanced.openinterest", Flag: flags.OpenInterest, Command: "oi", NewSource: newSource,
	New: func(src *modulestest.Source, now func() time.Time) modules.Module { return openinterest.New(src, now) },
}

func TestReplies(t *testing.T) {
	unavailable := fmt.Errorf("bybit open interest: %w", market.ErrUnavailable)
	module.CheckReplies(t, append([]modulestest.ReplyCase{
		{Name: "one_venue", Args: []string{"btc"}},
		{Name: "one_venue_coin_only", Args: []string{"btc"}, Modify: func(s *modulestest.Source) { s.Primary.OI.USD = 0 }},
		{Name: "one_venue_no_time", Args: []string{"btc"}, Modify: func(s *modulestest.Source) { s.Primary.OI.Time = time.Time{} }},
		{Name: "missing_history", Args: []string{"BTCUSDT"}, Modify: func(s *modulestest.Source) { s.Primary.HistoryErr = unavailable }},
		{Name: "short_history", Args: []string{"btc"}, Modify: func(s *modulestest.Source) { s.Primary.History = s.Primary.History[22:] }},
		{
			// Without the row 2 h back, the fifth row from the end is 5 h old:
			// the 4h change must still compare with the row stamped 4 h back.
			Name: "history_gap", Args: []string{"btc"},
			Modify: func(s *modulestest.Source) {
				s.Primary.History = append(s.Primary.History[:22:22], s.Primary.History[23:]...)
			},
		},
		{Name: "history_empty", Args: []string{"btc"}, Modify: func(s *modulestest.Source) { s.Primary.History = nil }},
		{Name: "all_venues", Args: []string{"btc", "all"}},
		{Name: "all_venues_upper_case", Args: []string{"BTC-USDT", "ALL"}},
		{Name: "all_one_failing", Args: []string{"btc", "all"}, Modify: func(s *modulestest.Source) { s.All[2].OIErr = unavailable }},
		{
			Name: "all_one_not_listed", Args: []string{"btc", "all"},
			Modify: func(s *modulestest.Source) {
				s.All[1].OIErr = fmt.Errorf("okx open interest: %w", market.ErrUnknownSymbol)
			},
		},
		{
			Name: "all_history_failing", Args: []string{"btc", "all"},
			Modify: func(s *modulestest.Source) { s.All[0].HistoryErr = unavailable },
		},
		{Name: "all_usd_missing", Args: []string{"btc", "all"}, Modify: func(s *modulestest.Source) { s.All[2].OI.USD = 0 }},
		{Name: "all_single_venue", Args: []string{"btc", "all"}, Modify: func(s *modulestest.Source) { s.All = s.All[:1] }},
		{
			Name: "all_unavailable", Args: []string{"btc", "all"},
			Modify: func(s *modulestest.Source) {
				for _, v := range s.All {
					v.OIErr = unavailable
				}
			},
		},
		{Name: "all_no_venues", Args: []string{"btc", "all"}, Modify: func(s *modulestest.Source) { s.All = nil }},
		{Name: "unavailable_oi", Args: []string{"btc"}, Modify: func(s *modulestest.Source) { s.Primary.OIErr = unavailable }},
		{Name: "no_args"},
		{Name: "bad_args", Args: []string{"btc", "eth"}},
	}, modulestest.UnresolvedCases()...))
}

// TestChanges pins the arithmetic behind the goldens: changes compare rows by
// timestamp, in USD when both rows have it, else in coin.
func TestChanges(t *testing.T) {
	end := now.Truncate(time.Hour)
	for _, tc := range []struct {
		name string
		hist []market.OIPoint
		want string
	}{
		{name: "usd", hist: hourly(end, 5.0e9, 1e7, 85_000), want: "1h   +0.2%\n4h   +0.8%\n24h  +4.8%"},
		{
			name: "coin when usd missing",
			hist: []market.OIPoint{
				{Time: end.Add(-24 * time.Hour), Coin: 100},
				{Time: end.Add(-4 * time.Hour), Coin: 200},
				{Time: end.Add(-time.Hour), Coin: 400},
				{Time: end, Coin: 300},
			},
			want: "1h    -25.0%\n4h    +50.0%\n24h  +200.0%",
		},
		{
			name: "descending rows",
			hist: []market.OIPoint{
				{Time: end, USD: 110},
				{Time: end.Add(-time.Hour), USD: 100},
			},
			want: "1h   +10.0%\n4h      n/a\n24h     n/a",
		},
		{
			name: "jittered timestamps",
			hist: []market.OIPoint{
				{Time: end.Add(-time.Hour + 2*time.Second), USD: 100},
				{Time: end.Add(3 * time.Second), USD: 90},
			},
			want: "1h   -10.0%\n4h      n/a\n24h     n/a",
		},
		{
			name: "zero base",
			hist: []market.OIPoint{{Time: end.Add(-time.Hour)}, {Time: end, USD: 90, Coin: 1}},
			want: "1h   n/a\n4h   n/a\n24h  n/a",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource()
			src.Primary.History = tc.hist
			if got := oi(t, src, "btc"); !strings.Contains(got, "<pre>"+tc.want+"</pre>") {
				t.Errorf("reply:\n%s\nwant the block\n%s", got, tc.want)
			}
		})
	}
}

// TestExtraArguments: /oi takes a symbol and an optional "all"; anything
// more is never ignored silently but answered with the usage, without asking
// any venue.
func TestExtraArguments(t *testing.T) {
	src := newSource()
	modulestest.CheckUsage(t, module.Handler(t, src), "oi", "Usage: <code>/oi SYMBOL</code>",
		func() int64 { return src.Calls() + src.Primary.Calls() },
		[]string{"btc", "eth"}, []string{"btc", "all", "eth"}, []string{"btc", "all", "all"}, []string{"btc", "eth", "all"})
	if got := oi(t, newSource(), "btc", "all"); !strings.Contains(got, "Binance") {
		t.Errorf("/oi btc all = %q, want every venue", got)
	}
}

func TestSection(t *testing.T) {
	module.CheckSections(t, append([]modulestest.SectionCase{
		{Name: "normal", Want: "OI $5.24B (24h +4.8%)"},
		{Name: "missing history", Modify: func(s *modulestest.Source) { s.Primary.HistoryErr = market.ErrUnavailable }, Want: "OI $5.24B (24h n/a)"},
		{Name: "coin only", Modify: func(s *modulestest.Source) { s.Primary.OI.USD = 0 }, Want: "OI 61,647 BTC (24h +4.8%)"},
	}, modulestest.SectionFailures(func(s *modulestest.Source, err error) { s.Primary.OIErr = err })...))
}

// TestContract: a stalled venue must not hold the reply past the deadline
// (it shows as unavailable and the others still answer), and the heaviest
// request is every venue with history, one fetch goroutine per call.
func TestContract(t *testing.T) {
	module.CheckContract(t, modulestest.Contract{
		Heaviest: []string{"btc", "all"}, Stalled: 1,
		AtDeadline: []string{"OKX      unavailable", "Bybit     $5.24B", "Binance   $6.98B"},
		Plain:      []string{"btc"}, PlainWant: "$5.24B",
	})
}

// The shared canned market's clock and pair.
var now, clock, btc = modulestest.Now, modulestest.Clock, modulestest.BTC

// The history the module must ask for: hourly rows reaching 24 h back.
const (
	historyPeriod = time.Hour
	historyRows   = 25
)

// hourly returns 25 hourly rows ending at end, ascending, with USD growing
// linearly from usd0 by step per hour and coin at price.
func hourly(end time.Time, usd0, step, price float64) []market.OIPoint {
	rows := make([]market.OIPoint, 25)
	for i := range rows {
		usd := usd0 + float64(i)*step
		rows[i] = market.OIPoint{Time: end.Add(time.Duration(i-24) * time.Hour), USD: usd, Coin: usd / price}
	}
	return rows
}

// venue is a fake venue whose open interest is coin and usd, age old, with
// hourly history growing from usd0 by step per hour.
func venue(id string, coin, usd float64, age time.Duration, usd0, step float64) *modulestest.Venue {
	return &modulestest.Venue{
		ID:      id,
		OI:      market.OpenInterest{Pair: btc, Venue: id, Coin: coin, USD: usd, Time: now.Add(-age)},
		Period:  historyPeriod,
		Limit:   historyRows,
		History: hourly(now.Truncate(time.Hour), usd0, step, 85_000),
	}
}

// 24h ago $5.00B, 4h ago $5.20B, 1h ago $5.23B, now $5.24B.
func bybit() *modulestest.Venue {
	return venue(market.Bybit, 61_647.3, 5.24e9, 12*time.Second, 5.0e9, 1e7)
}

func okx() *modulestest.Venue {
	return venue(market.OKX, 35_010.42, 2.976e9, 3*time.Second, 2.988e9, -5e5)
}

func binance() *modulestest.Venue {
	return venue(market.Binance, 80_212.9, 6.98e9, time.Second, 6.5e9, 2e7)
}

func newSource() *modulestest.Source {
	s := modulestest.PerpSource(bybit(), bybit(), okx(), binance())
	s.Pairs["pepe"] = market.Pair{Base: "1000PEPE", Quote: "USDT"}
	return s
}
