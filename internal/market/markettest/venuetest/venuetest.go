// Package venuetest is the test table every venue client runs against its
// fake from markettest: the same faults, calls and invalid pairs, each fake
// answering with its own envelopes. It lives apart from markettest so the
// binaries that serve the fakes do not link the testing package.
package venuetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
)

// Pairs of the fakes' DefaultBook.
var (
	BTC  = market.Pair{Base: "BTC", Quote: "USDT"}
	ETH  = market.Pair{Base: "ETH", Quote: "USDT"}
	SOL  = market.Pair{Base: "SOL", Quote: "USDT"}
	PEPE = market.Pair{Base: "PEPE", Quote: "USDT"}
)

// CheckName fails unless c is named name.
func CheckName(t *testing.T, c market.Exchange, name string) {
	t.Helper()
	if got := c.Name(); got != name {
		t.Errorf("Name() = %q, want %q", got, name)
	}
}

// Calls runs every Exchange method that takes a pair, by the name of the
// endpoint it reads first.
var Calls = map[string]func(context.Context, market.Exchange, market.Pair) error{
	httpjson.EndpointTicker: func(ctx context.Context, c market.Exchange, p market.Pair) error { return errOf(c.Ticker(ctx, p)) },
	httpjson.EndpointOpenInterest: func(ctx context.Context, c market.Exchange, p market.Pair) error {
		return errOf(c.OpenInterest(ctx, p))
	},
	httpjson.EndpointOIHistory: func(ctx context.Context, c market.Exchange, p market.Pair) error {
		return errOf(c.OIHistory(ctx, p, time.Hour, 25))
	},
	httpjson.EndpointFunding: func(ctx context.Context, c market.Exchange, p market.Pair) error { return errOf(c.Funding(ctx, p)) },
	httpjson.EndpointCandles: func(ctx context.Context, c market.Exchange, p market.Pair) error {
		return errOf(c.Candles(ctx, p, market.H1, 10))
	},
	PerpTicker: func(ctx context.Context, c market.Exchange, p market.Pair) error {
		pt, ok := c.(market.PerpTickerer)
		if !ok {
			return fmt.Errorf("%s has no PerpTicker", c.Name())
		}
		return errOf(pt.PerpTicker(ctx, p))
	},
}

// PerpTicker is the Calls name of the perpetual ticker, which reads the
// venue's ticker endpoint.
const PerpTicker = "perp_ticker"

func errOf[T any](_ T, err error) error { return err }

// ErrorCase is a fault injected into a fake and what the client must make of it.
type ErrorCase struct {
	Name    string
	Inject  func(*markettest.Server)
	Want    error
	Outcome string        // the exchange_requests_total outcome counted once
	Retry   time.Duration // RateLimitError.RetryAfter, when Want is ErrRateLimited
}

// ErrorCases are the faults every fake can inject, each answered with the
// venue's own envelope (its rate-limit status, error body, gateway page).
func ErrorCases() []ErrorCase {
	fail := func(status int) func(*markettest.Server) { return func(f *markettest.Server) { f.Fail(status, 1) } }
	return []ErrorCase{
		{"rate limit with Retry-After", func(f *markettest.Server) { f.RateLimit(7*time.Second, 1) }, market.ErrRateLimited, httpjson.OutcomeRateLimited, 7 * time.Second},
		{"rate limit", func(f *markettest.Server) { f.RateLimit(0, 1) }, market.ErrRateLimited, httpjson.OutcomeRateLimited, 0},
		{"429", fail(429), market.ErrRateLimited, httpjson.OutcomeRateLimited, 0},
		{"500", fail(500), market.ErrUnavailable, httpjson.OutcomeUnavailable, 0},
		{"502", fail(502), market.ErrUnavailable, httpjson.OutcomeUnavailable, 0},
		{"503", fail(503), market.ErrUnavailable, httpjson.OutcomeUnavailable, 0},
		{"400", fail(400), market.ErrBadResponse, httpjson.OutcomeBadResponse, 0},
		{"404 page", fail(404), market.ErrBadResponse, httpjson.OutcomeBadResponse, 0},
		{"malformed", func(f *markettest.Server) { f.Malformed(1) }, market.ErrBadResponse, httpjson.OutcomeBadResponse, 0},
	}
}

// RunErrors injects each case into a fresh harness and checks the ticker's
// error, the outcome counted, and that the next request succeeds again.
func RunErrors(t *testing.T, setup Setup, cases []ErrorCase) {
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			h := setup(t)
			tc.Inject(h.Fake)
			_, err := h.Client.Ticker(context.Background(), BTC)
			if !errors.Is(err, tc.Want) {
				t.Fatalf("error = %v, want %v", err, tc.Want)
			}
			if tc.Want == market.ErrRateLimited {
				var rl *market.RateLimitError
				if !errors.As(err, &rl) || rl.RetryAfter != tc.Retry || rl.Venue != h.Client.Name() {
					t.Errorf("RateLimitError = %+v, want RetryAfter %s", rl, tc.Retry)
				}
			}
			if n := h.Requests(httpjson.EndpointTicker, tc.Outcome); n != 1 {
				t.Errorf("%s outcomes = %v, want 1", tc.Outcome, n)
			}
			if _, err := h.Client.Ticker(context.Background(), BTC); err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

// RunUnknownSymbol checks that every call for a pair the venue does not list
// (pair(call) picks it) fails with ErrUnknownSymbol, counted once.
func RunUnknownSymbol(t *testing.T, setup Setup, pair func(call string) market.Pair) {
	for name, call := range Calls {
		t.Run(name, func(t *testing.T) {
			h := setup(t)
			if err := call(context.Background(), h.Client, pair(name)); !errors.Is(err, market.ErrUnknownSymbol) {
				t.Fatalf("error = %v, want ErrUnknownSymbol", err)
			}
			if n := h.counted(httpjson.OutcomeUnknownSymbol); n != 1 {
				t.Errorf("unknown_symbol outcomes = %v, want 1", n)
			}
		})
	}
}

// RunInvalidPairs checks that every call for pairs no venue can list fails
// with ErrUnknownSymbol without sending a request.
func RunInvalidPairs(t *testing.T, setup Setup, pairs ...market.Pair) {
	for _, p := range pairs {
		t.Run(p.String(), func(t *testing.T) {
			h := setup(t)
			for name, call := range Calls {
				if err := call(context.Background(), h.Client, p); !errors.Is(err, market.ErrUnknownSymbol) {
					t.Errorf("%s error = %v, want ErrUnknownSymbol", name, err)
				}
			}
			if n := h.hits(); n != 0 {
				t.Errorf("%d requests sent", n)
			}
		})
	}
}

// RunTimeout holds every request and checks that call gives up at its
// context's deadline with ErrUnavailable, counted under endpoint.
func RunTimeout(t *testing.T, setup Setup, call, endpoint string) {
	h := setup(t)
	h.Fake.Delay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := Calls[call](ctx, h.Client, BTC); !errors.Is(err, market.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if n := h.Requests(endpoint, httpjson.OutcomeUnavailable); n != 1 {
		t.Errorf("unavailable outcomes = %v, want 1", n)
	}
	if n := h.durationSeries(); n != 1 {
		t.Errorf("duration series = %d, want 1", n)
	}
}
