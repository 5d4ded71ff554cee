package binance

import (
	"context"
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest/venuetest"
)

var btc, sol, pepe = venuetest.BTC, venuetest.SOL, venuetest.PEPE

func setup(t *testing.T) (*Client, *markettest.Binance, venuetest.Harness) {
	fake := markettest.NewBinance()
	m := venuetest.Start(t, fake.Server)
	c := New(Config{SpotURL: fake.URL(), FuturesURL: fake.URL() + "/", Metrics: m, Now: markettest.DefaultNow})
	return c, fake, venuetest.Harness{Client: c, Fake: fake.Server, Metrics: m}
}

func harness(t *testing.T) venuetest.Harness { _, _, h := setup(t); return h }

func near(a, b float64) bool { return venuetest.Near(a, b, 1e-9) }

func TestName(t *testing.T) { venuetest.CheckName(t, New(Config{}), "binance") }

func TestTicker(t *testing.T) {
	// The fake's volume is base; quoteVolume is base × last.
	venuetest.RunTicker(t, harness(t), []venuetest.TickerCase{
		{Pair: btc, Last: 97123.4, Open: 95000, ChangePct: 2.235},
		{Pair: pepe, Last: 0.00001234, Open: 0.000012, ChangePct: 2.833},
	}, func(t *testing.T, tc venuetest.TickerCase, got market.Ticker) {
		if math.Abs(got.QuoteVolume-got.BaseVolume*tc.Last) > 1e-6 {
			t.Errorf("QuoteVolume %v, want base %v × last", got.QuoteVolume, got.BaseVolume)
		}
	})
}

func TestInstruments(t *testing.T) {
	c, _, h := setup(t)
	for kind, want := range map[market.Kind][]string{
		market.Spot: {"BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT", "PEPEUSDT", "ETHBTC"},
		market.Perp: {"BTCUSDT", "ETHUSDT", "SOLUSDT"}, // no delivery, USDC or halted
	} {
		got, err := c.Instruments(context.Background(), kind)
		if err != nil {
			t.Fatal(err)
		}
		venuetest.CheckInstruments(t, got, kind, want, func(in market.Instrument) bool {
			return in.CtVal == 1 && in.Pair.Base+in.Pair.Quote == in.Symbol
		})
	}
	if n := h.Requests("instruments", "ok"); n != 2 {
		t.Errorf("ok instruments requests = %v, want 2", n)
	}
	if _, err := c.Instruments(context.Background(), "option"); !errors.Is(err, market.ErrUnsupported) {
		t.Errorf("Instruments(option) error = %v, want ErrUnsupported", err)
	}
}

func TestOpenInterest(t *testing.T) {
	c, fake, _ := setup(t)
	got, err := c.OpenInterest(context.Background(), btc)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got.Coin, 85432.1) || !near(got.USD, 85432.1*97123.4) || got.Venue != venue || !got.Time.Equal(markettest.DefaultNow()) {
		t.Errorf("OpenInterest = %+v", got)
	}
	if fake.Hits("open_interest") != 1 || fake.Hits("funding") != 1 {
		t.Errorf("hits open_interest=%d funding=%d, want 1 and 1", fake.Hits("open_interest"), fake.Hits("funding"))
	}
}

func TestOIHistory(t *testing.T) {
	c, fake, _ := setup(t)
	venuetest.RunOIHistory(t, c, []venuetest.HistoryCase{
		{Name: "1h", Period: time.Hour, Limit: 25, Want: 25},
		{Name: "5m", Period: 5 * time.Minute, Limit: 289, Want: 289},
		{Name: "1d clamped", Period: 24 * time.Hour, Limit: 10000, Want: 500},
		{Name: "zero limit", Period: 4 * time.Hour, Limit: 0, Want: 1},
	}, func(t *testing.T, last market.OIPoint, period time.Duration) {
		if !near(last.Coin, 85432.1) || last.USD <= 0 || !last.Time.Equal(markettest.DefaultNow().Truncate(period)) {
			t.Errorf("last row = %+v", last)
		}
	})
	before := fake.Hits("oi_history")
	if _, err := c.OIHistory(context.Background(), btc, 7*time.Minute, 10); !errors.Is(err, market.ErrUnsupported) {
		t.Errorf("7m period error = %v, want ErrUnsupported", err)
	}
	if fake.Hits("oi_history") != before {
		t.Error("unsupported period sent a request")
	}
}

func TestFunding(t *testing.T) {
	c, fake, _ := setup(t)
	venuetest.RunFunding(t, c, []venuetest.FundingCase{
		{Pair: btc, Rate: 0.0001, Interval: 8 * time.Hour}, // absent from fundingInfo
		{Pair: sol, Rate: -0.00002, Interval: 4 * time.Hour},
	}, func(t *testing.T, f market.Funding) {
		if f.Mark <= 0 || f.Index <= 0 {
			t.Errorf("Funding = %+v, want mark and index", f)
		}
	})
	if n := fake.Hits("funding_info"); n != 1 {
		t.Errorf("fundingInfo fetched %d times, want 1 (cached)", n)
	}
}

func TestFundingInfoExpires(t *testing.T) {
	fake := markettest.NewBinance()
	t.Cleanup(fake.Close)
	now := markettest.DefaultNow()
	c := New(Config{SpotURL: fake.URL(), FuturesURL: fake.URL(), Now: func() time.Time { return now }})
	for range 2 {
		if _, err := c.Funding(context.Background(), btc); err != nil {
			t.Fatal(err)
		}
		now = now.Add(fundingInfoTTL)
	}
	if n := fake.Hits("funding_info"); n != 2 {
		t.Errorf("fundingInfo fetched %d times, want 2 (expired)", n)
	}
}

func TestCandles(t *testing.T) {
	c, _, _ := setup(t)
	venuetest.RunCandles(t, c, []venuetest.CandleCase{{Interval: market.H1, Limit: 300, Want: 300}, {Interval: market.M15, Limit: 5, Want: 5}, {Interval: market.D1, Limit: 5000, Want: 999}})
	if _, err := c.Candles(context.Background(), btc, "3m", 10); !errors.Is(err, market.ErrUnsupported) {
		t.Errorf("3m candles error = %v, want ErrUnsupported", err)
	}
}

func TestUnknownSymbol(t *testing.T) {
	venuetest.RunUnknownSymbol(t, harness, func(string) market.Pair { return market.Pair{Base: "NOPE", Quote: "USDT"} })
}

func TestInvalidPairSendsNothing(t *testing.T) {
	venuetest.RunInvalidPairs(t, harness, market.Pair{}, market.Pair{Base: "btc", Quote: "USDT"}, market.Pair{Base: "BTC/", Quote: "USDT"}, market.Pair{Base: "BTC"})
}

func TestErrors(t *testing.T) {
	venuetest.RunErrors(t, harness, append(venuetest.ErrorCases(),
		venuetest.ErrorCase{Name: "418 ban", Inject: func(f *markettest.Server) { f.Fail(http.StatusTeapot, 1) }, Want: market.ErrRateLimited, Outcome: "rate_limited"}))
}

func TestTimeout(t *testing.T) { venuetest.RunTimeout(t, harness, "ticker", "ticker") }

func TestNetworkError(t *testing.T) {
	fake := markettest.NewBinance()
	fake.Close()
	c := New(Config{SpotURL: fake.URL(), FuturesURL: fake.URL()})
	if _, err := c.Ticker(context.Background(), btc); !errors.Is(err, market.ErrUnavailable) {
		t.Errorf("error = %v, want ErrUnavailable", err)
	}
}

func TestDecodeFixtures(t *testing.T) {
	t.Run("ticker", func(t *testing.T) {
		got, err := decodeTicker(venuetest.Fixture(t, "ticker_BTCUSDT.json"), btc)
		if err != nil {
			t.Fatal(err)
		}
		if got.Last != 4.000002 || got.ChangePct != -95.96 || got.BaseVolume != 8913.3 || got.QuoteVolume != 15.3 ||
			got.Time.UnixMilli() != 1499869899040 {
			t.Errorf("ticker = %+v", got)
		}
	})
	t.Run("oi history with string and number timestamps", func(t *testing.T) {
		got, err := decodeOIHistory(venuetest.Fixture(t, "openInterestHist_BTCUSDT.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Time.UnixMilli() != 1583127900000 || got[1].Coin != 20403.637 || got[1].USD != 150570784.07809979 {
			t.Errorf("history = %+v", got)
		}
	})
	t.Run("klines drop the open bar", func(t *testing.T) {
		body := venuetest.Fixture(t, "klines_BTCUSDT.json")
		got, err := decodeKlines(body, time.Hour, time.UnixMilli(1499043600000+30*60*1000))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].O != 0.0163479 || got[0].Volume != 148976.11427815 {
			t.Errorf("klines = %+v", got)
		}
		if got, _ := decodeKlines(body, time.Hour, time.UnixMilli(1499047200000)); len(got) != 2 {
			t.Errorf("at the close both bars are closed; got %d", len(got))
		}
	})
	t.Run("premium index", func(t *testing.T) {
		got, err := decodePremiumIndex(venuetest.Fixture(t, "premiumIndex_BTCUSDT.json"), btc)
		if err != nil {
			t.Fatal(err)
		}
		if got.Rate != 0.00038246 || got.Mark != 11793.63104562 || got.Next.UnixMilli() != 1597392000000 {
			t.Errorf("premium index = %+v", got)
		}
	})
	t.Run("funding info", func(t *testing.T) {
		got, err := decodeFundingInfo(venuetest.Fixture(t, "fundingInfo.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got["SOLUSDT"] != 4*time.Hour || got["BLZUSDT"] != 8*time.Hour {
			t.Errorf("funding info = %v", got)
		}
	})
	t.Run("fapi instruments", func(t *testing.T) {
		got, err := decodeInstruments(venuetest.Fixture(t, "exchangeInfo_fapi.json"), market.Perp)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Symbol != "BTCUSDT" || got[1].Pair != (market.Pair{Base: "1000PEPE", Quote: "USDT"}) {
			t.Errorf("instruments = %+v", got)
		}
	})
	t.Run("error body", func(t *testing.T) {
		err := statusError(400, nil, venuetest.Fixture(t, "error_invalid_symbol.json"))
		if !errors.Is(err, market.ErrUnknownSymbol) {
			t.Errorf("statusError = %v", err)
		}
	})
}

func TestDecodeBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
	}{
		{"empty", ``},
		{"null", `null`},
		{"array", `[]`},
		{"NaN price", `{"lastPrice":"NaN","highPrice":"1","lowPrice":"1","priceChangePercent":"1","volume":"1","quoteVolume":"1","closeTime":1}`},
		{"Inf price", `{"lastPrice":"+Inf","highPrice":"1","lowPrice":"1","priceChangePercent":"1","volume":"1","quoteVolume":"1","closeTime":1}`},
		{"missing price", `{"highPrice":"1","lowPrice":"1","priceChangePercent":"1","volume":"1","quoteVolume":"1","closeTime":1}`},
		{"missing time", `{"lastPrice":"1","highPrice":"1","lowPrice":"1","priceChangePercent":"1","volume":"1","quoteVolume":"1"}`},
		{"word time", `{"lastPrice":"1","highPrice":"1","lowPrice":"1","priceChangePercent":"1","volume":"1","quoteVolume":"1","closeTime":"soon"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeTicker([]byte(tc.body), btc); !errors.Is(err, market.ErrBadResponse) {
				t.Errorf("error = %v, want ErrBadResponse", err)
			}
		})
	}
	for _, tc := range []struct{ name, body string }{
		{"short row", `[[1499040000000,"1","1","1"]]`},
		{"object row", `[{"a":1}]`},
		{"bad time", `[["x","1","1","1","1","1"]]`},
	} {
		t.Run("klines "+tc.name, func(t *testing.T) {
			if _, err := decodeKlines([]byte(tc.body), time.Hour, time.Now()); !errors.Is(err, market.ErrBadResponse) {
				t.Errorf("error = %v, want ErrBadResponse", err)
			}
		})
	}
	if _, err := decodeFundingInfo([]byte(`[{"symbol":"X","fundingIntervalHours":0}]`)); !errors.Is(err, market.ErrBadResponse) {
		t.Errorf("zero funding interval: %v", err)
	}
}

func FuzzDecodeTicker(f *testing.F) {
	venuetest.FuzzDecode(f, [][]byte{venuetest.Fixture(f, "ticker_BTCUSDT.json"), []byte(`{"lastPrice":1e400}`)},
		func(b []byte) error { _, err := decodeTicker(b, btc); return err })
}

func FuzzDecodeKlines(f *testing.F) {
	venuetest.FuzzDecode(f, [][]byte{venuetest.Fixture(f, "klines_BTCUSDT.json")},
		func(b []byte) error { _, err := decodeKlines(b, time.Hour, time.UnixMilli(1e12)); return err })
}

func FuzzDecodeOIHistory(f *testing.F) {
	venuetest.FuzzDecode(f, [][]byte{venuetest.Fixture(f, "openInterestHist_BTCUSDT.json")},
		func(b []byte) error { _, err := decodeOIHistory(b); return err })
}

func FuzzDecodeFunding(f *testing.F) {
	f.Add(venuetest.Fixture(f, "premiumIndex_BTCUSDT.json"), venuetest.Fixture(f, "fundingInfo.json"))
	f.Fuzz(func(t *testing.T, premium, info []byte) {
		if _, err := decodePremiumIndex(premium, btc); err != nil && !errors.Is(err, market.ErrBadResponse) {
			t.Errorf("premiumIndex error %v is not ErrBadResponse", err)
		}
		if _, err := decodeFundingInfo(info); err != nil && !errors.Is(err, market.ErrBadResponse) {
			t.Errorf("fundingInfo error %v is not ErrBadResponse", err)
		}
	})
}

func TestAllPrices(t *testing.T) {
	venuetest.RunAllPrices(t, harness)
}

// BenchmarkDecodePrices decodes a ticker/price answer of 2,000 symbols, as
// AllPrices does after the request.
func BenchmarkDecodePrices(b *testing.B) {
	book := markettest.LargeBook(2000)
	fake := markettest.NewBinanceBook(book)
	defer fake.Close()
	c := New(Config{SpotURL: fake.URL(), FuturesURL: fake.URL()})
	ins, err := c.Instruments(context.Background(), market.Spot)
	if err != nil {
		b.Fatal(err)
	}
	syms := map[string]market.Pair{}
	for _, in := range ins {
		syms[in.Symbol] = in.Pair
	}
	body := venuetest.Body(b, fake.URL()+"/api/v3/ticker/price")
	at := time.Now()
	venuetest.BenchDecodePrices(b, body, 2000, func(body []byte) ([]market.Price, error) { return decodePrices(body, syms, at) })
}

// The fapi ticker has the spot shape without bid/ask; change is already %.
func TestPerpTicker(t *testing.T) {
	_, fake, h := setup(t)
	venuetest.RunPerpTicker(t, h, []venuetest.TickerCase{
		{Pair: btc, Last: 97123.4, Open: 95000, ChangePct: 2.235},
		{Pair: sol, Last: 187.65, Open: 180.4, ChangePct: 4.019},
		{Pair: market.Pair{Base: "BTC", Quote: "USDC"}, Last: 97100, Open: 95010, ChangePct: 2.2},
	}, nil)
	if n := fake.Hits("ticker"); n != 3 {
		t.Errorf("ticker hits = %d, want 3", n)
	}
}

func TestPerpTickerFixture(t *testing.T) {
	got, err := decodeTicker(venuetest.Fixture(t, "ticker_fapi_BTCUSDT.json"), btc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Last != 4.000002 || got.ChangePct != -95.96 || got.BaseVolume != 8913.3 || got.QuoteVolume != 15.3 || got.Time.UnixMilli() != 1499869899040 {
		t.Errorf("decodeTicker(fapi) = %+v", got)
	}
}

// A pair with spot but no perpetual answers fapi's -1121 with HTTP 400.
func TestPerpTickerSpotOnly(t *testing.T) {
	c, _, _ := setup(t)
	_, err := c.PerpTicker(context.Background(), market.Pair{Base: "DOGE", Quote: "USDT"})
	if !errors.Is(err, market.ErrUnknownSymbol) {
		t.Fatalf("error = %v, want ErrUnknownSymbol", err)
	}
}
