package funding_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/funding"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

func handler(t *testing.T, m modules.Module) modules.Handler {
	t.Helper()
	for _, c := range m.Commands() {
		if c.Name == "funding" {
			return c.Handler
		}
	}
	t.Fatal("module has no /funding command")
	return nil
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
		{name: "one_failing", args: []string{"btc"}, modify: func(s *fakeSource) { s.venues[1].err = unavailable }},
		{
			name: "one_not_listed", args: []string{"btc"},
			modify: func(s *fakeSource) { s.venues[2].err = fmt.Errorf("binance funding: %w", market.ErrUnknownSymbol) },
		},
		{
			name: "mixed_signs", args: []string{"btc"},
			modify: func(s *fakeSource) { s.venues[1].f.Rate = -0.0000215 },
		},
		{
			name: "negative", args: []string{"btc"},
			modify: func(s *fakeSource) {
				for _, v := range s.venues {
					v.f.Rate = -v.f.Rate
				}
			},
		},
		{
			name: "zero", args: []string{"btc"},
			modify: func(s *fakeSource) {
				for _, v := range s.venues {
					v.f.Rate = 0
				}
			},
		},
		{
			name: "hourly_interval", args: []string{"btc"},
			modify: func(s *fakeSource) {
				s.venues[0].f.Interval = time.Hour
				s.venues[0].f.Next = time.Date(2025, 6, 2, 5, 0, 0, 0, time.UTC)
			},
		},
		{
			name: "missing_interval_and_next", args: []string{"btc"},
			modify: func(s *fakeSource) { s.venues[0].f.Interval, s.venues[0].f.Next = 0, time.Time{} },
		},
		{
			name: "settlement_due", args: []string{"btc"},
			modify: func(s *fakeSource) { s.venues[0].f.Next = now.Add(-30 * time.Second) },
		},
		{
			name: "all_not_listed", args: []string{"btc"},
			modify: func(s *fakeSource) {
				for _, v := range s.venues {
					v.err = market.ErrUnknownSymbol
				}
			},
		},
		{
			name: "all_unavailable", args: []string{"btc"},
			modify: func(s *fakeSource) {
				for _, v := range s.venues {
					v.err = unavailable
				}
			},
		},
		{name: "no_venues", args: []string{"btc"}, modify: func(s *fakeSource) { s.venues = nil }},
		{name: "unknown_pair", args: []string{"btcc"}},
		{name: "unknown_pair_no_suggestions", args: []string{"zzz"}, modify: func(s *fakeSource) { s.suggest = nil }},
		{name: "unknown_pair_hostile_input", args: []string{"<b>&" + strings.Repeat("x", 100)}},
		{name: "unavailable", args: []string{"btc"}, modify: func(s *fakeSource) { s.resolveErr = unavailable }},
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

func TestSection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		modify  func(*fakeSource)
		want    string
		wantErr error
	}{
		{name: "normal", want: "Funding +0.0100%/8h (APR +10.95%) next in 3h 12m"},
		{name: "negative", modify: func(s *fakeSource) { s.primary.f.Rate = -0.0000532 }, want: "Funding -0.0053%/8h (APR -5.83%) next in 3h 12m"},
		{name: "hourly", modify: func(s *fakeSource) { s.primary.f.Interval = time.Hour }, want: "Funding +0.0100%/1h (APR +87.60%) next in 3h 12m"},
		{name: "no interval", modify: func(s *fakeSource) { s.primary.f.Interval = 0 }, want: "Funding +0.0100% next in 3h 12m"},
		{name: "no next", modify: func(s *fakeSource) { s.primary.f.Next = time.Time{} }, want: "Funding +0.0100%/8h (APR +10.95%)"},
		{name: "due", modify: func(s *fakeSource) { s.primary.f.Next = now }, want: "Funding +0.0100%/8h (APR +10.95%) next due now"},
		{name: "spot-only pair", modify: func(s *fakeSource) { s.primary.err = market.ErrUnknownSymbol }, want: ""},
		{name: "unavailable", modify: func(s *fakeSource) { s.primary.err = market.ErrUnavailable }, wantErr: market.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource()
			if tc.modify != nil {
				tc.modify(src)
			}
			got, err := funding.New(src, clock).Section(t.Context(), modules.Request{Command: "price"}, btc)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Section error = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("Section = %q, want %q", got, tc.want)
			}
			modulestest.CheckHTML(t, got)
		})
	}
}

// A stalled venue must not hold the reply past the deadline: it shows as
// unavailable and the others still answer.
func TestDeadline(t *testing.T) {
	t.Run("reply", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			src := newSource()
			src.venues[2].hang = true
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			start := time.Now()
			reply, err := handler(t, funding.New(src, clock)).Handle(ctx, modules.Request{Command: "funding", Args: []string{"btc"}})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != 3*time.Second {
				t.Errorf("reply after %v, want at the 3s deadline", d)
			}
			for _, want := range []string{"Binance  unavailable", "Bybit    +0.0100%/8h", "OKX      +0.0053%/8h"} {
				if !strings.Contains(reply.Text, want) {
					t.Errorf("reply lacks %q:\n%s", want, reply.Text)
				}
			}
		})
	})
	t.Run("section", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			src := newSource()
			src.primary.hang = true
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			got, err := funding.New(src, clock).Section(ctx, modules.Request{}, btc)
			if got != "" || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Section = %q, %v; want \"\", deadline exceeded", got, err)
			}
		})
	})
}

func TestRegistration(t *testing.T) {
	var info modules.Info
	for _, i := range modules.Registered() {
		if i.ID == "enhanced.funding" {
			info = i
		}
	}
	if info.New == nil {
		t.Fatal("enhanced.funding is not registered")
	}
	if info.Flag != flags.FundingRates || flags.Catalog[info.Flag] == "" {
		t.Errorf("flag = %q, want %q with a catalog entry", info.Flag, flags.FundingRates)
	}
	if _, err := info.New(modules.Deps{}); err == nil {
		t.Error("New without a market source succeeded, want an error")
	}
	m, err := info.New(modules.Deps{Market: newSource(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	cmds := m.Commands()
	if len(cmds) != 1 || cmds[0].Name != "funding" || !modules.ValidCommandName(cmds[0].Name) || cmds[0].Handler == nil {
		t.Errorf("Commands() = %+v, want one valid /funding", cmds)
	}
	if _, ok := m.(modules.Sectioner); !ok {
		t.Error("module does not contribute a /price section")
	}
}

func TestNilClock(t *testing.T) {
	m := funding.New(newSource(), nil)
	reply, err := handler(t, m).Handle(t.Context(), modules.Request{Args: []string{"btc"}})
	if err != nil || !strings.Contains(reply.Text, "+0.0100%/8h") {
		t.Errorf("Handle with a nil clock = %q, %v", reply.Text, err)
	}
}

// now is the fixed clock every test reads: 3h 12m before the 08:00 UTC settlement.
var now = time.Date(2025, 6, 2, 4, 47, 48, 0, time.UTC)

func clock() time.Time { return now }

var btc = market.Pair{Base: "BTC", Quote: "USDT"}

// fakeVenue is one exchange with canned funding. It implements market.Exchange.
type fakeVenue struct {
	name string
	f    market.Funding
	err  error
	hang bool // never answers until ctx ends, like a venue that stalls

	calls atomic.Int64
}

func (v *fakeVenue) Name() string { return v.name }

func (v *fakeVenue) Instruments(context.Context, market.Kind) ([]market.Instrument, error) {
	return nil, market.ErrUnavailable
}

func (v *fakeVenue) Ticker(context.Context, market.Pair) (market.Ticker, error) {
	return market.Ticker{}, market.ErrUnavailable
}

func (v *fakeVenue) OpenInterest(context.Context, market.Pair) (market.OpenInterest, error) {
	return market.OpenInterest{}, market.ErrUnavailable
}

func (v *fakeVenue) OIHistory(context.Context, market.Pair, time.Duration, int) ([]market.OIPoint, error) {
	return nil, market.ErrUnavailable
}

func (v *fakeVenue) Funding(ctx context.Context, _ market.Pair) (market.Funding, error) {
	v.calls.Add(1)
	if v.hang {
		<-ctx.Done()
		return market.Funding{}, ctx.Err()
	}
	return v.f, v.err
}

func (v *fakeVenue) Candles(context.Context, market.Pair, market.Interval, int) ([]market.Candle, error) {
	return nil, market.ErrUnavailable
}

// fakeSource implements market.Source: Resolve from a table, the failover
// Funding from primary, and Venues.
type fakeSource struct {
	pairs      map[string]market.Pair // lower-case input
	suggest    []market.Pair
	resolveErr error
	primary    *fakeVenue
	venues     []*fakeVenue
}

func (s *fakeSource) Resolve(_ context.Context, input string, kind market.Kind) (market.Pair, error) {
	if s.resolveErr != nil {
		return market.Pair{}, s.resolveErr
	}
	if p, ok := s.pairs[strings.ToLower(input)]; ok && kind == market.Perp {
		return p, nil
	}
	return market.Pair{}, &market.UnknownPairError{Input: input, Suggestions: s.suggest}
}

func (s *fakeSource) Ticker(context.Context, market.Pair) (market.Ticker, error) {
	return market.Ticker{}, market.ErrUnavailable
}

func (s *fakeSource) OpenInterest(context.Context, market.Pair) (market.OpenInterest, error) {
	return market.OpenInterest{}, market.ErrUnavailable
}

func (s *fakeSource) OIHistory(context.Context, market.Pair, time.Duration, int) ([]market.OIPoint, error) {
	return nil, market.ErrUnavailable
}

func (s *fakeSource) Funding(ctx context.Context, p market.Pair) (market.Funding, error) {
	return s.primary.Funding(ctx, p)
}

func (s *fakeSource) Candles(context.Context, market.Pair, market.Interval, int) ([]market.Candle, error) {
	return nil, market.ErrUnavailable
}

func (s *fakeSource) Venues() []market.Exchange {
	out := make([]market.Exchange, len(s.venues))
	for i, v := range s.venues {
		out[i] = v
	}
	return out
}

var settlement = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

func bybit() *fakeVenue {
	return &fakeVenue{name: "bybit", f: market.Funding{
		Pair: btc, Venue: "bybit", Rate: 0.0001, Interval: 8 * time.Hour, Next: settlement,
		Mark: 85_012.5, Index: 85_020.1, Time: now.Add(-2 * time.Second),
	}}
}

func okx() *fakeVenue {
	return &fakeVenue{name: "okx", f: market.Funding{
		Pair: btc, Venue: "okx", Rate: 0.0000532, Interval: 8 * time.Hour, Next: settlement,
		Time: now.Add(-4 * time.Second),
	}}
}

func binance() *fakeVenue {
	// A Binance symbol on an adjusted 4 h interval (fundingInfo).
	return &fakeVenue{name: "binance", f: market.Funding{
		Pair: btc, Venue: "binance", Rate: 0.000075, Interval: 4 * time.Hour, Next: settlement,
		Mark: 85_010, Index: 85_018.7, Time: now.Add(-time.Second),
	}}
}

func newSource() *fakeSource {
	return &fakeSource{
		pairs:   map[string]market.Pair{"btc": btc, "btcusdt": btc, "btc-usdt": btc},
		suggest: []market.Pair{btc, {Base: "BTCDOM", Quote: "USDT"}},
		primary: bybit(),
		venues:  []*fakeVenue{bybit(), okx(), binance()},
	}
}
