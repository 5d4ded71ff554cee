package venuetest

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
)

// Near reports whether a is within tol of b, relative to |b| once |b| > 1.
func Near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// CandleCase is one Candles request and how many bars it must give.
type CandleCase struct {
	Interval    market.Interval
	Limit, Want int
}

// RunCandles asks c for BTC candles in each case and checks the count, the
// ascending step and that the newest bar is the last closed one at
// markettest.DefaultNow, with sane prices and volume.
func RunCandles(t *testing.T, c market.Exchange, cases []CandleCase) {
	now := markettest.DefaultNow()
	for _, tc := range cases {
		t.Run(string(tc.Interval), func(t *testing.T) {
			got, err := c.Candles(context.Background(), BTC, tc.Interval, tc.Limit)
			if err != nil {
				t.Fatal(err)
			}
			d := tc.Interval.Duration()
			checkSteps(t, len(got), tc.Want, d, func(i int) time.Time { return got[i].Open })
			last := got[len(got)-1]
			if want := now.Truncate(d).Add(-d); !last.Open.Equal(want) {
				t.Errorf("last candle opens %v, want the last closed bar %v", last.Open, want)
			}
			if last.H < last.L || last.C <= 0 || last.Volume <= 0 {
				t.Errorf("last candle = %+v", last)
			}
		})
	}
}

// HistoryCase is one OIHistory request and how many rows it must give.
type HistoryCase struct {
	Name        string
	Period      time.Duration
	Limit, Want int
}

// RunOIHistory asks c for BTC open-interest history in each case and checks
// the count and the ascending step; last checks the newest row.
func RunOIHistory(t *testing.T, c market.Exchange, cases []HistoryCase, last func(t *testing.T, row market.OIPoint, period time.Duration)) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := c.OIHistory(context.Background(), BTC, tc.Period, tc.Limit)
			if err != nil {
				t.Fatal(err)
			}
			checkSteps(t, len(got), tc.Want, tc.Period, func(i int) time.Time { return got[i].Time })
			last(t, got[len(got)-1], tc.Period)
		})
	}
}

// checkSteps fails unless there are want rows, each step after the one before.
func checkSteps(t *testing.T, n, want int, step time.Duration, at func(int) time.Time) {
	t.Helper()
	if n != want {
		t.Fatalf("rows = %d, want %d", n, want)
	}
	for i := 1; i < n; i++ {
		if at(i).Sub(at(i-1)) != step {
			t.Fatalf("rows %d,%d not ascending by %s: %v, %v", i-1, i, step, at(i-1), at(i))
		}
	}
}

// FundingCase is one pair's funding as the fakes' book has it.
type FundingCase struct {
	Pair     market.Pair
	Rate     float64
	Interval time.Duration
}

// RunFunding asks c for each case's funding and checks the rate, the
// interval and the next settlement; check, when set, looks at the rest.
func RunFunding(t *testing.T, c market.Exchange, cases []FundingCase, check func(t *testing.T, f market.Funding)) {
	now := markettest.DefaultNow()
	for _, tc := range cases {
		t.Run(tc.Pair.String(), func(t *testing.T) {
			got, err := c.Funding(context.Background(), tc.Pair)
			if err != nil {
				t.Fatal(err)
			}
			if !Near(got.Rate, tc.Rate, 1e-12) || got.Interval != tc.Interval || !got.Next.Equal(now.Truncate(tc.Interval).Add(tc.Interval)) ||
				got.Venue != c.Name() {
				t.Errorf("Funding = %+v", got)
			}
			if check != nil {
				check(t, got)
			}
		})
	}
}

// TickerCase is one pair's ticker as the fakes' book has it.
type TickerCase struct {
	Pair                  market.Pair
	Last, Open, ChangePct float64
}

// RunTicker asks h's client for each case's ticker and checks the pair, the
// venue, the prices and change (to 1e-9), volumes and the book's time, then
// that each request counted ok; check, when set, looks at the rest.
func RunTicker(t *testing.T, h Harness, cases []TickerCase, check func(t *testing.T, tc TickerCase, got market.Ticker)) {
	runTickers(t, h, "Ticker", h.Client.Ticker, cases, check)
}

// runTickers is RunTicker and RunPerpTicker over fetch, named what in errors.
func runTickers(t *testing.T, h Harness, what string, fetch func(context.Context, market.Pair) (market.Ticker, error),
	cases []TickerCase, check func(t *testing.T, tc TickerCase, got market.Ticker)) {
	for _, tc := range cases {
		t.Run(tc.Pair.String(), func(t *testing.T) {
			got, err := fetch(context.Background(), tc.Pair)
			if err != nil {
				t.Fatal(err)
			}
			if got.Pair != tc.Pair || got.Venue != h.Client.Name() || !Near(got.Last, tc.Last, 1e-9) || !Near(got.Open, tc.Open, 1e-9) ||
				!Near(got.ChangePct, tc.ChangePct, 1e-9) || got.BaseVolume <= 0 || got.QuoteVolume <= 0 {
				t.Errorf("%s = %+v", what, got)
			}
			if got.High < got.Last || got.Low > got.Last || !got.Time.Equal(markettest.DefaultNow()) {
				t.Errorf("%s high/low/time = %v/%v/%v", what, got.High, got.Low, got.Time)
			}
			if check != nil {
				check(t, tc, got)
			}
		})
	}
	if n := h.Requests(httpjson.EndpointTicker, httpjson.OutcomeOK); n != float64(len(cases)) {
		t.Errorf("ok ticker requests = %v, want %d", n, len(cases))
	}
}

// CheckInstruments fails unless got lists want's symbols in order, each of
// kind and accepted by ok (nil: any).
func CheckInstruments(t *testing.T, got []market.Instrument, kind market.Kind, want []string, ok func(market.Instrument) bool) {
	t.Helper()
	syms := make([]string, len(got))
	for i, in := range got {
		syms[i] = in.Symbol
		if in.Kind != kind || (ok != nil && !ok(in)) {
			t.Errorf("instrument %+v", in)
		}
	}
	if !slices.Equal(syms, want) {
		t.Errorf("symbols = %v, want %v", syms, want)
	}
}

// RunPerpTicker is RunTicker for the client's perpetual ticker
// (market.PerpTickerer): each case's pair is a perpetual of the fakes' book.
func RunPerpTicker(t *testing.T, h Harness, cases []TickerCase, check func(t *testing.T, tc TickerCase, got market.Ticker)) {
	pt, ok := h.Client.(market.PerpTickerer)
	if !ok {
		t.Fatalf("%s has no PerpTicker", h.Client.Name())
	}
	runTickers(t, h, "PerpTicker", pt.PerpTicker, cases, check)
}
