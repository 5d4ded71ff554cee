package alerts

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// The declared cost holds for the heaviest request: a full watchlist.
func TestMemoryCost(t *testing.T) {
	st := openStore(t)
	mkt := &watchMarket{fakeMarket: newFakeMarket()}
	pairs := make([]string, 30)
	for i := range pairs {
		pairs[i] = "C" + strconv.Itoa(i) + "-USDT"
	}
	if _, err := st.Watch(t.Context(), 1, pairs, 30); err != nil {
		t.Fatal(err)
	}
	deps := modules.Deps{Market: mkt, Store: st}
	modulestest.CheckMemoryCost(t, modulestest.MemoryCost{
		ID: "enhanced.alerts", Deps: deps, Runs: 50,
		Request: modules.Request{ChatID: 1, Command: "watchlist"},
		// each() keeps at most fetchers goroutines alive: charge those, not one per fetch.
		Goroutines: func() int64 { return mkt.tickers.Load() / int64(len(pairs)) * fetchers },
	})
}

// watchMarket answers every pair and counts the tickers asked.
type watchMarket struct {
	*fakeMarket
	tickers atomic.Int64
}

func (w *watchMarket) Ticker(_ context.Context, p market.Pair) (market.Ticker, error) {
	w.tickers.Add(1)
	return market.Ticker{Pair: p, Venue: "binance", Last: 1234.5, ChangePct: -1.5}, nil
}

func (w *watchMarket) Funding(_ context.Context, p market.Pair) (market.Funding, error) {
	return market.Funding{Pair: p, Venue: "binance", Rate: 0.0001, Interval: 8 * time.Hour}, nil
}
