package okx

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest/venuetest"
)

var btc, eth, sol, pepe = venuetest.BTC, venuetest.ETH, venuetest.SOL, venuetest.PEPE

func setup(t *testing.T) (*Client, *markettest.OKX, venuetest.Harness) {
	fake := markettest.NewOKX()
	m := venuetest.Start(t, fake.Server)
	c := New(Config{BaseURL: fake.URL(), Metrics: m, Now: markettest.DefaultNow})
	return c, fake, venuetest.Harness{Client: c, Fake: fake.Server, Metrics: m}
}

func harness(t *testing.T) venuetest.Harness { _, _, h := setup(t); return h }

var near = venuetest.Near

func TestName(t *testing.T) { venuetest.CheckName(t, New(Config{}), "okx") }

// OKX has no change field: the client computes it from open24h.
func TestTicker(t *testing.T) {
	venuetest.RunTicker(t, harness(t), []venuetest.TickerCase{
		{Pair: btc, Last: 97123.4, Open: 95000, ChangePct: (97123.4 - 95000) / 95000 * 100},
		{Pair: pepe, Last: 0.00001234, Open: 0.000012, ChangePct: (0.00001234 - 0.000012) / 0.000012 * 100},
	}, func(t *testing.T, tc venuetest.TickerCase, got market.Ticker) {
		// SPOT volCcy24h is quote volume.
		if !near(got.QuoteVolume, got.BaseVolume*tc.Last, 1e-6) {
			t.Errorf("QuoteVolume %v, want base %v × last", got.QuoteVolume, got.BaseVolume)
		}
	})
}

func TestInstruments(t *testing.T) {
	c, _, _ := setup(t)
	for _, tc := range []struct {
		kind  market.Kind
		want  []string
		ctVal []float64
	}{
		{market.Spot, []string{"BTC-USDT", "ETH-USDT", "SOL-USDT", "DOGE-USDT", "PEPE-USDT", "ETH-BTC"}, []float64{1, 1, 1, 1, 1, 1}},
		{market.Perp, []string{"BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"}, []float64{0.01, 0.1, 1}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			got, err := c.Instruments(context.Background(), tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("instruments = %+v, want %v", got, tc.want)
			}
			for i, in := range got {
				id := spotID(in.Pair)
				if tc.kind == market.Perp {
					id = swapID(in.Pair)
				}
				if in.Symbol != tc.want[i] || id != in.Symbol || in.CtVal != tc.ctVal[i] || in.Kind != tc.kind {
					t.Errorf("instrument %d = %+v, want %s ctVal %v", i, in, tc.want[i], tc.ctVal[i])
				}
			}
		})
	}
}

func TestOpenInterest(t *testing.T) {
	c, fake, _ := setup(t)
	for _, tc := range []struct {
		pair           market.Pair
		coin, ctVal, p float64
	}{
		{btc, 85432.1, 0.01, 97123.4},
		{eth, 2100000, 0.1, 3456.78},
	} {
		t.Run(tc.pair.String(), func(t *testing.T) {
			got, err := c.OpenInterest(context.Background(), tc.pair)
			if err != nil {
				t.Fatal(err)
			}
			// The fake reports oi in contracts; coin must equal contracts × ctVal.
			contracts := tc.coin / tc.ctVal
			if !near(got.Coin, contracts*tc.ctVal, 1e-12) || !near(got.USD, tc.coin*tc.p, 1e-9) || got.Venue != venue {
				t.Errorf("OpenInterest = %+v", got)
			}
		})
	}
	if n := fake.Hits("instruments"); n != 0 {
		t.Errorf("oiCcy present, yet ctVal looked up %d times", n)
	}
}

// fixtureServer serves testdata files by path, counting hits.
func fixtureServer(t *testing.T, files map[string]string) (*httptest.Server, func(path string) int) {
	t.Helper()
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		_, _ = w.Write(venuetest.Fixture(t, name))
	}))
	t.Cleanup(srv.Close)
	return srv, func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return hits[path]
	}
}

func TestOpenInterestFromContracts(t *testing.T) {
	srv, hits := fixtureServer(t, map[string]string{
		"/api/v5/public/open-interest": "open-interest_no_oiCcy.json",
		"/api/v5/public/instruments":   "instruments_BTC-USDT-SWAP.json",
	})
	c := New(Config{BaseURL: srv.URL})
	for range 2 {
		got, err := c.OpenInterest(context.Background(), btc)
		if err != nil {
			t.Fatal(err)
		}
		if got.Coin != 5000*0.01 || got.USD != 5000000 {
			t.Errorf("OpenInterest = %+v, want coin 50 (5000 contracts × 0.01)", got)
		}
	}
	if n := hits("/api/v5/public/instruments"); n != 1 {
		t.Errorf("ctVal looked up %d times, want 1 (cached)", n)
	}
}

func TestOIHistory(t *testing.T) {
	c, fake, _ := setup(t)
	venuetest.RunOIHistory(t, c, []venuetest.HistoryCase{
		{Name: "1h", Period: time.Hour, Limit: 25, Want: 25},
		{Name: "5m clamped", Period: 5 * time.Minute, Limit: 289, Want: 100},
		{Name: "1d", Period: 24 * time.Hour, Limit: 7, Want: 7},
	}, func(t *testing.T, last market.OIPoint, _ time.Duration) {
		if !near(last.Coin, 85432.1, 1e-12) || !near(last.USD, 85432.1*97123.4, 1e-9) {
			t.Errorf("last row = %+v", last)
		}
	})
	if _, err := c.OIHistory(context.Background(), btc, time.Minute, 10); !errors.Is(err, market.ErrUnsupported) {
		t.Errorf("1m period error = %v, want ErrUnsupported", err)
	}
	if n := fake.Hits("oi_history"); n != 3 {
		t.Errorf("oi_history hits = %d, want 3", n)
	}
}

func TestFunding(t *testing.T) {
	c, _, _ := setup(t)
	venuetest.RunFunding(t, c, []venuetest.FundingCase{{Pair: btc, Rate: 0.0001, Interval: 8 * time.Hour}, {Pair: sol, Rate: -0.00002, Interval: 4 * time.Hour}},
		func(t *testing.T, f market.Funding) {
			if !f.Time.Equal(markettest.DefaultNow()) {
				t.Errorf("Funding time = %v, want %v", f.Time, markettest.DefaultNow())
			}
		})
}

func TestCandles(t *testing.T) {
	c, _, _ := setup(t)
	venuetest.RunCandles(t, c, []venuetest.CandleCase{{Interval: market.H1, Limit: 300, Want: 299}, {Interval: market.H1, Limit: 200, Want: 200}, {Interval: market.D1, Limit: 30, Want: 30}, {Interval: market.M15, Limit: -5, Want: 1}})
}

func data(t testing.TB, name string) []byte {
	t.Helper()
	d, err := decodeEnvelope(venuetest.Fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestUnknownSymbol(t *testing.T) {
	venuetest.RunUnknownSymbol(t, harness, func(call string) market.Pair {
		if call == "ticker" || call == "candles" {
			return market.Pair{Base: "NOPE", Quote: "USDT"}
		}
		// DOGE is spot only: every swap endpoint answers 51001 with HTTP 200.
		return market.Pair{Base: "DOGE", Quote: "USDT"}
	})
}

func TestInvalidPairSendsNothing(t *testing.T) {
	venuetest.RunInvalidPairs(t, harness, market.Pair{Base: "BTC-USDT", Quote: "SWAP"})
}

func TestErrors(t *testing.T) { venuetest.RunErrors(t, harness, venuetest.ErrorCases()) }

func TestTimeout(t *testing.T) { venuetest.RunTimeout(t, harness, "candles", "candles") }

func TestDecodeFixtures(t *testing.T) {
	t.Run("ticker computes change", func(t *testing.T) {
		got, err := decodeTicker(data(t, "ticker_BTC-USDT.json"), btc)
		if err != nil {
			t.Fatal(err)
		}
		if got.Last != 9999.99 || !near(got.ChangePct, 11.111, 1e-4) || got.BaseVolume != 2222 || got.QuoteVolume != 22220000.5 ||
			got.Time.UnixMilli() != 1597026383085 {
			t.Errorf("ticker = %+v", got)
		}
	})
	t.Run("open interest", func(t *testing.T) {
		got, err := decodeOpenInterest(data(t, "open-interest_BTC-USDT-SWAP.json"))
		if err != nil || got.contracts != 5000 || got.coin == nil || *got.coin != 50 || got.usd != 5000000 {
			t.Errorf("open interest = %+v, %v", got, err)
		}
	})
	t.Run("history rows with and without oiUsd", func(t *testing.T) {
		got, err := decodeOIHistory(data(t, "open-interest-history_BTC-USDT-SWAP.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || *got[0].coin != 24000 || got[0].usd != 2280000000 || got[2].usd != 0 || got[2].time.UnixMilli() != 1701414000000 {
			t.Errorf("history = %+v", got)
		}
	})
	t.Run("funding interval from the two times", func(t *testing.T) {
		got, err := decodeFunding(data(t, "funding-rate_BTC-USDT-SWAP.json"), btc)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rate != 0.000079238688534 || got.Interval != 8*time.Hour || got.Next.UnixMilli() != 1703088000000 || got.Mark != 0 {
			t.Errorf("funding = %+v", got)
		}
	})
	t.Run("candles drop unconfirmed", func(t *testing.T) {
		got, err := decodeCandles(data(t, "candles_BTC-USDT.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].O != 3.731 || got[0].Volume != 24912403 {
			t.Errorf("candles = %+v", got)
		}
	})
	t.Run("swap instruments", func(t *testing.T) {
		got, err := decodeInstruments(data(t, "instruments_SWAP.json"), market.Perp)
		if err != nil {
			t.Fatal(err)
		}
		want := []market.Instrument{
			{Pair: btc, Kind: market.Perp, Symbol: "BTC-USDT-SWAP", CtVal: 0.01},
			{Pair: pepe, Kind: market.Perp, Symbol: "PEPE-USDT-SWAP", CtVal: 1e7},
		}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("instruments = %+v, want %+v", got, want)
		}
	})
	for _, tc := range []struct {
		file string
		want error
	}{
		{"error_51001.json", market.ErrUnknownSymbol},
		{"error_50011.json", market.ErrRateLimited},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if _, err := decodeEnvelope(venuetest.Fixture(t, tc.file)); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDecodeBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       error
	}{
		{"empty", ``, market.ErrBadResponse},
		{"no code", `{"msg":"","data":[]}`, market.ErrBadResponse},
		{"no data", `{"code":"0","msg":""}`, market.ErrBadResponse},
		{"numeric code", `{"code":51001,"msg":"Instrument ID does not exist","data":[]}`, market.ErrUnknownSymbol},
		{"busy", `{"code":"50013","msg":"Systems are busy. Please try again later.","data":[]}`, market.ErrUnavailable},
		{"other", `{"code":"51000","msg":"Parameter instId error","data":[]}`, market.ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeEnvelope([]byte(tc.body)); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		fn   func() error
		want error
	}{
		{"empty ticker data", func() error { _, err := decodeTicker([]byte(`[]`), btc); return err }, market.ErrUnknownSymbol},
		{"ticker without last", func() error {
			_, err := decodeTicker([]byte(`[{"open24h":"1","high24h":"1","low24h":"1","vol24h":"1","volCcy24h":"1","ts":"1"}]`), btc)
			return err
		}, market.ErrBadResponse},
		{"funding times reversed", func() error {
			_, err := decodeFunding([]byte(`[{"fundingRate":"0.0001","fundingTime":"2000","nextFundingTime":"1000","ts":"1"}]`), btc)
			return err
		}, market.ErrBadResponse},
		{"current oi without oiUsd", func() error {
			_, err := decodeOpenInterest([]byte(`[{"oi":"1","oiCcy":"1","ts":"1"}]`))
			return err
		}, market.ErrBadResponse},
		{"candle confirm unknown", func() error {
			_, err := decodeCandles([]byte(`[["1","1","1","1","1","1","1","1","x"]]`))
			return err
		}, market.ErrBadResponse},
		{"candle short row", func() error { _, err := decodeCandles([]byte(`[["1","1"]]`)); return err }, market.ErrBadResponse},
		{"swap ctVal zero", func() error {
			_, err := decodeInstruments([]byte(`[{"instId":"X-USDT-SWAP","state":"live","ctType":"linear","settleCcy":"USDT","ctValCcy":"X","ctVal":"0"}]`), market.Perp)
			return err
		}, market.ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fn(); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
}

func fuzzBad(t *testing.T, err error) {
	if err != nil && !slices.ContainsFunc(marketErrors, func(w error) bool { return errors.Is(err, w) }) {
		t.Errorf("error %v is not a market error", err)
	}
}

// marketErrors are what a decoder of an OKX body may fail with.
var marketErrors = []error{market.ErrBadResponse, market.ErrUnknownSymbol, market.ErrRateLimited, market.ErrUnavailable}

// fuzzData fuzzes decode over the data of bodies that pass the envelope.
func fuzzData(f *testing.F, fixture string, decode func(data []byte) error) {
	venuetest.FuzzDecode(f, [][]byte{venuetest.Fixture(f, fixture)}, func(b []byte) error {
		d, err := decodeEnvelope(b)
		if err != nil {
			return nil
		}
		return decode(d)
	}, marketErrors...)
}

func FuzzDecodeTicker(f *testing.F) {
	seeds := [][]byte{venuetest.Fixture(f, "ticker_BTC-USDT.json"), venuetest.Fixture(f, "error_51001.json")}
	venuetest.FuzzDecode(f, seeds, func(b []byte) error {
		d, err := decodeEnvelope(b)
		if err != nil {
			return err
		}
		_, err = decodeTicker(d, btc)
		return err
	}, marketErrors...)
}

func FuzzDecodeCandles(f *testing.F) {
	fuzzData(f, "candles_BTC-USDT.json", func(d []byte) error { _, err := decodeCandles(d); return err })
}

func FuzzDecodeOpenInterest(f *testing.F) {
	f.Add(venuetest.Fixture(f, "open-interest_BTC-USDT-SWAP.json"))
	f.Add(venuetest.Fixture(f, "open-interest-history_BTC-USDT-SWAP.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := decodeEnvelope(b); err == nil {
			_, err = decodeOpenInterest(d)
			fuzzBad(t, err)
			_, err = decodeOIHistory(d)
			fuzzBad(t, err)
		}
	})
}

func FuzzDecodeFunding(f *testing.F) {
	fuzzData(f, "funding-rate_BTC-USDT-SWAP.json", func(d []byte) error { _, err := decodeFunding(d, btc); return err })
}

func FuzzDecodeInstruments(f *testing.F) {
	fuzzData(f, "instruments_SWAP.json", func(d []byte) error { _, err := decodeInstruments(d, market.Perp); return err })
}

func TestAllPrices(t *testing.T) {
	venuetest.RunAllPrices(t, harness)
}

// BenchmarkDecodePrices decodes a SPOT tickers answer of 2,000 instruments,
// envelope included, as AllPrices does after the request.
func BenchmarkDecodePrices(b *testing.B) {
	fake := markettest.NewOKXBook(markettest.LargeBook(2000))
	defer fake.Close()
	body := venuetest.Body(b, fake.URL()+"/api/v5/market/tickers?instType=SPOT")
	venuetest.BenchDecodePrices(b, body, 2000, decodePrices)
}

// SWAP tickers count vol24h in contracts and volCcy24h in base coin.
func TestPerpTicker(t *testing.T) {
	_, fake, h := setup(t)
	venuetest.RunPerpTicker(t, h, []venuetest.TickerCase{
		{Pair: btc, Last: 97123.4, Open: 95000, ChangePct: (97123.4 - 95000) / 95000 * 100},
		{Pair: sol, Last: 187.65, Open: 180.4, ChangePct: (187.65 - 180.4) / 180.4 * 100},
	}, func(t *testing.T, tc venuetest.TickerCase, got market.Ticker) {
		want := map[market.Pair]float64{btc: 12345.678, sol: 3456789}[tc.Pair]
		if !near(got.BaseVolume, want, 1e-9) || !near(got.QuoteVolume, want*tc.Last, 1e-9) {
			t.Errorf("volumes %v base, %v quote; want %v base", got.BaseVolume, got.QuoteVolume, want)
		}
	})
	if n := fake.Hits("ticker"); n != 2 {
		t.Errorf("ticker hits = %d, want 2", n)
	}
	// DOGE is spot only: its -SWAP answers 51001 with HTTP 200.
	if _, err := h.Client.(market.PerpTickerer).PerpTicker(context.Background(), market.Pair{Base: "DOGE", Quote: "USDT"}); !errors.Is(err, market.ErrUnknownSymbol) {
		t.Errorf("DOGE perp error = %v, want ErrUnknownSymbol", err)
	}
}

func TestDecodeSwapTicker(t *testing.T) {
	got, err := decodeSwapTicker(data(t, "ticker_BTC-USDT-SWAP.json"), btc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Last != 9999.99 || got.BaseVolume != 2222 || !near(got.QuoteVolume, 2222*9999.99, 1e-12) ||
		!near(got.ChangePct, (9999.99-9000)/9000*100, 1e-12) || got.Time.UnixMilli() != 1597026383085 {
		t.Errorf("decodeSwapTicker = %+v", got)
	}
}
