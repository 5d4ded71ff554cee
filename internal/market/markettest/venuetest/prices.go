package venuetest

import (
	"context"
	"errors"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// SpotPrices are DefaultBook's tradable spot pairs and last prices: what
// every client's AllPrices returns from its fake (the halted LUNA-USDT and
// the perpetual-only BTC-USDC are not among them).
var SpotPrices = map[market.Pair]float64{
	BTC: 97123.4, ETH: 3456.78, SOL: 187.65, {Base: "DOGE", Quote: "USDT"}: 0.3821, PEPE: 0.00001234,
	{Base: "ETH", Quote: "BTC"}: 0.03559,
}

// RunAllPrices checks a client's batched prices against its fake: every
// tradable spot pair once with the Book's price, a price moved with SetLast
// seen in the next batch (an absurd one passed through for the Market to
// drop), one all_prices request per call, and the shared faults mapped to
// the market errors.
func RunAllPrices(t *testing.T, setup Setup) {
	ctx := context.Background()
	t.Run("batch", func(t *testing.T) {
		h := setup(t)
		pl := h.Client.(market.PriceLister)
		got, err := pl.AllPrices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkPrices(t, got, SpotPrices)
		if n := h.Requests(httpjson.EndpointAllPrices, httpjson.OutcomeOK); n != 1 {
			t.Errorf("ok all_prices requests = %v, want 1", n)
		}
		if n := h.Fake.Hits(httpjson.EndpointAllPrices); n != 1 {
			t.Errorf("fake saw %d all_prices requests, want 1", n)
		}

		h.Fake.SetLast(BTC, "12345.6")
		h.Fake.SetLast(ETH, "0")
		got, err = pl.AllPrices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[market.Pair]float64{}
		for p, v := range SpotPrices {
			want[p] = v
		}
		want[BTC], want[ETH] = 12345.6, 0
		checkPrices(t, got, want)
		if n := h.Fake.Hits(httpjson.EndpointInstruments); n > 1 {
			t.Errorf("%d instrument list requests for two batches, want at most 1", n)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range ErrorCases() {
			t.Run(tc.Name, func(t *testing.T) {
				h := setup(t)
				pl := h.Client.(market.PriceLister)
				if _, err := pl.AllPrices(ctx); err != nil { // loads the symbols first where the venue needs them
					t.Fatal(err)
				}
				tc.Inject(h.Fake)
				_, err := pl.AllPrices(ctx)
				if !errors.Is(err, tc.Want) {
					t.Fatalf("error = %v, want %v", err, tc.Want)
				}
				if n := h.Requests(httpjson.EndpointAllPrices, tc.Outcome); n != 1 {
					t.Errorf("%s outcomes = %v, want 1", tc.Outcome, n)
				}
				if _, err := pl.AllPrices(ctx); err != nil {
					t.Errorf("after the fault: %v", err)
				}
			})
		}
	})
}

func checkPrices(t *testing.T, got []market.Price, want map[market.Pair]float64) {
	t.Helper()
	seen := map[market.Pair]bool{}
	for _, p := range got {
		w, ok := want[p.Pair]
		switch {
		case !ok:
			t.Errorf("unexpected pair %s in the batch", p.Pair)
		case seen[p.Pair]:
			t.Errorf("%s twice in the batch", p.Pair)
		case !Near(p.Last, w, 1e-9):
			t.Errorf("%s last = %v, want %v", p.Pair, p.Last, w)
		case p.At.IsZero():
			t.Errorf("%s without a time", p.Pair)
		}
		seen[p.Pair] = true
	}
	for p := range want {
		if !seen[p] {
			t.Errorf("%s missing from the batch", p)
		}
	}
}
