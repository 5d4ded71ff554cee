package market_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/binance"
	"github.com/cryptobot-dev/cryptobot/internal/market/bybit"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/market/okx"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/testkit"
)

var btc, eth = market.Pair{Base: "BTC", Quote: "USDT"}, market.Pair{Base: "ETH", Quote: "USDT"}

// pricesOverFakes is a warmed Market over the real clients and the fakes,
// in the default order, on a clock the test moves.
func pricesOverFakes(t *testing.T) (*market.Market, *markettest.Venues, *metrics.Metrics, *testkit.Clock) {
	t.Helper()
	v := markettest.Start()
	t.Cleanup(v.Close)
	met := metrics.New("test", "test")
	clk := testkit.NewClock(markettest.DefaultNow())
	m := market.New(market.Options{
		Exchanges: []market.Exchange{
			binance.New(binance.Config{SpotURL: v.Binance.URL(), FuturesURL: v.Binance.URL(), Metrics: met, Now: clk.Now}),
			bybit.New(bybit.Config{BaseURL: v.Bybit.URL(), Metrics: met, Now: clk.Now}),
			okx.New(okx.Config{BaseURL: v.OKX.URL(), Metrics: met, Now: clk.Now}),
		},
		Metrics: met,
		Now:     clk.Now,
	})
	if err := m.Warm(t.Context()); err != nil {
		t.Fatal(err)
	}
	return m, v, met, clk
}

func batches(v *markettest.Venues) [3]int {
	ep := httpjson.EndpointAllPrices
	return [3]int{v.Binance.Hits(ep), v.Bybit.Hits(ep), v.OKX.Hits(ep)}
}

func TestPrices(t *testing.T) {
	m, v, _, _ := pricesOverFakes(t)
	instruments := v.Binance.Hits(httpjson.EndpointInstruments)
	ps, venue, err := m.Prices(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if venue != market.Binance || len(ps) != 6 {
		t.Fatalf("Prices = %d pairs from %q, want the 6 tradable spot pairs from binance", len(ps), venue)
	}
	if p := ps[btc]; p.Pair != btc || p.Last != 97123.4 || p.At.IsZero() {
		t.Errorf("BTC = %+v", p)
	}
	if _, ok := ps[market.Pair{Base: "LUNA", Quote: "USDT"}]; ok {
		t.Error("the halted LUNA-USDT is in the batch")
	}
	if n := v.Binance.Hits(httpjson.EndpointInstruments); n != instruments {
		t.Errorf("the batch reloaded the instrument list Warm had just loaded (%d → %d requests)", instruments, n)
	}
	last, err := m.LastPrices(t.Context())
	if err != nil || len(last) != 6 || last[btc] != 97123.4 {
		t.Errorf("LastPrices = %v, %v", last, err)
	}
	// The map is the caller's own.
	delete(ps, btc)
	if ps, _, _ := m.Prices(t.Context()); ps[btc].Last != 97123.4 {
		t.Error("deleting from a returned map changed the cached batch")
	}
}

func TestPricesCachedForTTL(t *testing.T) {
	m, v, met, clk := pricesOverFakes(t)
	for range 5 {
		if _, _, err := m.Prices(t.Context()); err != nil {
			t.Fatal(err)
		}
		clk.Add(300 * time.Millisecond)
	}
	if got := batches(v); got != [3]int{1, 0, 0} {
		t.Fatalf("batch requests within the TTL = %v, want one to binance", got)
	}
	clk.Add(market.DefaultTTL)
	v.Binance.SetLast(btc, "100000.5")
	ps, _, err := m.Prices(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := batches(v); got != [3]int{2, 0, 0} {
		t.Errorf("batch requests after the TTL = %v, want two to binance", got)
	}
	if ps[btc].Last != 100000.5 {
		t.Errorf("BTC after SetLast = %v, want 100000.5", ps[btc].Last)
	}
	hits := testutil.ToFloat64(met.CacheRequests.WithLabelValues("all_prices", "hit"))
	misses := testutil.ToFloat64(met.CacheRequests.WithLabelValues("all_prices", "miss"))
	if hits != 4 || misses != 2 {
		t.Errorf("cache hits %v, misses %v, want 4 and 2", hits, misses)
	}
}

func TestPricesSingleflight(t *testing.T) {
	m, v, met, _ := pricesOverFakes(t)
	v.Binance.Delay(100 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if _, _, err := m.Prices(t.Context()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := batches(v); got != [3]int{1, 0, 0} {
		t.Errorf("batch requests for 50 concurrent callers = %v, want one to binance", got)
	}
	hit := testutil.ToFloat64(met.CacheRequests.WithLabelValues("all_prices", "hit"))
	coalesced := testutil.ToFloat64(met.CacheRequests.WithLabelValues("all_prices", "coalesced"))
	if hit+coalesced != 49 {
		t.Errorf("hits %v + coalesced %v, want 49", hit, coalesced)
	}
}

func TestPricesFailover(t *testing.T) {
	m, v, met, clk := pricesOverFakes(t)
	v.Binance.Fail(http.StatusServiceUnavailable, 1)
	ps, venue, err := m.Prices(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if venue != market.Bybit || ps[btc].Last != 97123.4 {
		t.Fatalf("Prices after a binance 503 = %q, BTC %v; want bybit", venue, ps[btc].Last)
	}
	if n := testutil.ToFloat64(met.Failovers.WithLabelValues("binance", "bybit")); n != 1 {
		t.Errorf("binance→bybit failovers = %v, want 1", n)
	}
	// Binance cools down: the next batches go to Bybit first …
	clk.Add(market.DefaultTTL)
	if _, venue, _ := m.Prices(t.Context()); venue != market.Bybit {
		t.Errorf("during binance's cool-down: %q, want bybit", venue)
	}
	if got := batches(v); got != [3]int{1, 2, 0} {
		t.Errorf("batch requests = %v, want binance 1, bybit 2", got)
	}
	// … until it is over.
	clk.Add(15 * time.Second)
	if _, venue, _ := m.Prices(t.Context()); venue != market.Binance {
		t.Errorf("after the cool-down: %q, want binance", venue)
	}

	// Every venue failing is ErrUnavailable with each venue's error.
	clk.Add(market.DefaultTTL)
	v.Binance.Fail(http.StatusInternalServerError, 1)
	v.Bybit.RateLimit(0, 1)
	v.OKX.Malformed(1)
	_, _, err = m.Prices(t.Context())
	if !errors.Is(err, market.ErrUnavailable) || !errors.Is(err, market.ErrRateLimited) || !errors.Is(err, market.ErrBadResponse) {
		t.Errorf("all failing: %v", err)
	}
}

func TestPricesDropsImplausibleRows(t *testing.T) {
	m, v, met, _ := pricesOverFakes(t)
	v.Binance.SetLast(eth, "0")
	v.Binance.SetLast(market.Pair{Base: "SOL", Quote: "USDT"}, "-5")
	ps, venue, err := m.Prices(t.Context())
	if err != nil || venue != market.Binance {
		t.Fatalf("Prices: %q, %v", venue, err)
	}
	if _, ok := ps[eth]; ok {
		t.Error("ETH at price 0 kept")
	}
	if len(ps) != 4 {
		t.Errorf("%d pairs, want the 4 plausible ones", len(ps))
	}
	if n := rejected(t, met, "binance", "all_prices", "not_positive"); n != 2 {
		t.Errorf("rejected rows = %v, want 2", n)
	}
}

func TestPricesOnSharesTheBatch(t *testing.T) {
	m, v, _, _ := pricesOverFakes(t)
	if _, _, err := m.Prices(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.PricesOn(t.Context(), market.Binance); err != nil {
		t.Fatal(err)
	}
	if got := batches(v); got != [3]int{1, 0, 0} {
		t.Errorf("batch requests = %v, want one to binance", got)
	}
}

func TestPricesOn(t *testing.T) {
	m, v, _, _ := pricesOverFakes(t)
	v.OKX.SetLast(btc, "96000")
	ps, err := m.PricesOn(t.Context(), market.OKX)
	if err != nil {
		t.Fatal(err)
	}
	if ps[btc].Last != 96000 || len(ps) != 6 {
		t.Errorf("okx batch: BTC %v, %d pairs; want 96000 and 6", ps[btc].Last, len(ps))
	}
	if _, err := m.PricesOn(t.Context(), market.OKX); err != nil {
		t.Fatal(err)
	}
	if got := batches(v); got != [3]int{0, 0, 1} {
		t.Errorf("batch requests = %v, want one to okx", got)
	}
	v.OKX.Fail(http.StatusServiceUnavailable, 5)
	if _, err := m.PricesOn(context.Background(), market.Bybit); err != nil {
		t.Errorf("bybit alone: %v", err)
	}
	if _, err := m.PricesOn(t.Context(), "kraken"); err == nil {
		t.Error("an unconfigured venue answered")
	}
}

// BenchmarkPrices measures a cached batch of 2,000 pairs as a caller sees it
// (the copy of the map included), and a miss: the request to the fake,
// decoding, vetting and indexing.
func BenchmarkPrices(b *testing.B) {
	v := markettest.StartBook(markettest.LargeBook(2000))
	defer v.Close()
	clk := testkit.NewClock(markettest.DefaultNow())
	m := market.New(market.Options{
		Exchanges: []market.Exchange{binance.New(binance.Config{SpotURL: v.Binance.URL(), FuturesURL: v.Binance.URL(), Now: clk.Now})},
		Now:       clk.Now,
	})
	if err := m.Warm(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ps, _, err := m.Prices(context.Background()); err != nil || len(ps) != 2000 {
				b.Fatal(len(ps), err)
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			clk.Add(market.DefaultTTL)
			if ps, _, err := m.Prices(context.Background()); err != nil || len(ps) != 2000 {
				b.Fatal(len(ps), err)
			}
		}
	})
}
