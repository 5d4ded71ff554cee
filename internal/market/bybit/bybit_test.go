package bybit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest/venuetest"
)

var btc, sol, pepe = venuetest.BTC, venuetest.SOL, venuetest.PEPE

func setup(t *testing.T) (*Client, *markettest.Bybit, venuetest.Harness) {
	fake := markettest.NewBybit()
	m := venuetest.Start(t, fake.Server)
	c := New(Config{BaseURL: fake.URL() + "/", Metrics: m, Now: markettest.DefaultNow})
	return c, fake, venuetest.Harness{Client: c, Fake: fake.Server, Metrics: m}
}

func harness(t *testing.T) venuetest.Harness { _, _, h := setup(t); return h }

var near = venuetest.Near

func TestName(t *testing.T) { venuetest.CheckName(t, New(Config{}), "bybit") }

// Bybit's price24hPcnt is a fraction ("0.0224"); the ticker has percent.
func TestTicker(t *testing.T) {
	venuetest.RunTicker(t, harness(t), []venuetest.TickerCase{
		{Pair: btc, Last: 97123.4, Open: 95000, ChangePct: 2.24},
		{Pair: pepe, Last: 0.00001234, Open: 0.000012, ChangePct: 2.83},
	}, nil)
}

func TestInstruments(t *testing.T) {
	for _, tc := range []struct {
		name      string
		kind      market.Kind
		pageSize  int
		want      []string
		wantPages int
	}{
		{"spot", market.Spot, 500, []string{"BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT", "PEPEUSDT", "ETHBTC"}, 1},
		{"perp", market.Perp, 500, []string{"BTCUSDT", "ETHUSDT", "SOLUSDT"}, 1},
		{"perp paged", market.Perp, 1, []string{"BTCUSDT", "ETHUSDT", "SOLUSDT"}, 4}, // BTCPERP (USDC) is the 4th page
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, fake, _ := setup(t)
			fake.SetPageSize(tc.pageSize)
			got, err := c.Instruments(context.Background(), tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			venuetest.CheckInstruments(t, got, tc.kind, tc.want, func(in market.Instrument) bool {
				return in.CtVal == 1 && in.Pair.Base+in.Pair.Quote == in.Symbol
			})
			if n := fake.Hits("instruments"); n != tc.wantPages {
				t.Errorf("pages fetched = %d, want %d", n, tc.wantPages)
			}
		})
	}
}

func TestInstrumentsCursorRepeats(t *testing.T) {
	body := venuetest.Fixture(t, "instruments_linear.json") // always the same nextPageCursor
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c := New(Config{BaseURL: srv.URL})
	if _, err := c.Instruments(context.Background(), market.Perp); !errors.Is(err, market.ErrBadResponse) {
		t.Errorf("error = %v, want ErrBadResponse", err)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("pages fetched = %d, want 2", n)
	}
}

func TestOpenInterest(t *testing.T) {
	c, _, h := setup(t)
	got, err := c.OpenInterest(context.Background(), btc)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got.Coin, 85432.1, 1e-12) || !near(got.USD, 85432.1*97123.4, 1e-9) || got.Venue != venue || !got.Time.Equal(markettest.DefaultNow()) {
		t.Errorf("OpenInterest = %+v", got)
	}
	if n := h.Requests("ticker", "ok"); n != 1 {
		t.Errorf("ok ticker requests = %v, want 1", n)
	}
}

func TestFunding(t *testing.T) {
	c, _, _ := setup(t)
	venuetest.RunFunding(t, c, []venuetest.FundingCase{{Pair: btc, Rate: 0.0001, Interval: 8 * time.Hour}, {Pair: sol, Rate: -0.00002, Interval: 4 * time.Hour}},
		func(t *testing.T, f market.Funding) {
			if f.Mark <= 0 || f.Index <= 0 {
				t.Errorf("Funding = %+v, want mark and index", f)
			}
		})
}

func TestOIHistory(t *testing.T) {
	c, fake, _ := setup(t)
	cases := []venuetest.HistoryCase{{Name: "1h", Period: time.Hour, Limit: 25, Want: 25}, {Name: "5m clamped to Bybit's maximum", Period: 5 * time.Minute, Limit: 1000, Want: 200}}
	venuetest.RunOIHistory(t, c, cases, func(t *testing.T, last market.OIPoint, period time.Duration) {
		if !near(last.Coin, 85432.1, 1e-12) || !near(last.USD, last.Coin*97123.4, 1e-12) ||
			!last.Time.Equal(markettest.DefaultNow().Truncate(period)) {
			t.Errorf("last row = %+v", last)
		}
	})
	// Each history is one history and one ticker request (for USD).
	if fake.Hits("oi_history") != len(cases) || fake.Hits("ticker") != len(cases) {
		t.Errorf("hits oi_history=%d ticker=%d, want %d each", fake.Hits("oi_history"), fake.Hits("ticker"), len(cases))
	}
	if _, err := c.OIHistory(context.Background(), btc, 2*time.Hour, 10); !errors.Is(err, market.ErrUnsupported) {
		t.Errorf("2h period error = %v, want ErrUnsupported", err)
	}
}

func TestCandles(t *testing.T) {
	c, _, _ := setup(t)
	venuetest.RunCandles(t, c, []venuetest.CandleCase{{Interval: market.H1, Limit: 300, Want: 300}, {Interval: market.H4, Limit: 1, Want: 1}, {Interval: market.D1, Limit: 5000, Want: 999}})
}

// result decodes a fixture's envelope.
func result(t testing.TB, name string) ([]byte, httpjson.Millis) {
	t.Helper()
	res, ts, err := decodeEnvelope(venuetest.Fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return res, ts
}

// tickerFixture decodes the one ticker row of a testdata tickers answer.
func tickerFixture(t *testing.T, name string) (tickerRow, httpjson.Millis) {
	t.Helper()
	res, ts := result(t, name)
	row, err := decodeTickerRow(res)
	if err != nil {
		t.Fatal(err)
	}
	return row, ts
}

func TestUnknownSymbol(t *testing.T) {
	venuetest.RunUnknownSymbol(t, harness, func(string) market.Pair { return market.Pair{Base: "NOPE", Quote: "USDT"} })
}

func TestInvalidPairSendsNothing(t *testing.T) {
	venuetest.RunInvalidPairs(t, harness, market.Pair{Base: "btc", Quote: "usdt"})
}

func TestErrors(t *testing.T) {
	// Bybit's rate limit is HTTP 403 "access too frequent".
	venuetest.RunErrors(t, harness, append(venuetest.ErrorCases(),
		venuetest.ErrorCase{Name: "403 text", Inject: func(f *markettest.Server) { f.Fail(http.StatusForbidden, 1) }, Want: market.ErrRateLimited, Outcome: "rate_limited"}))
}

// Funding reads the linear ticker.
func TestTimeout(t *testing.T) { venuetest.RunTimeout(t, harness, "funding", "ticker") }

func TestDecodeFixtures(t *testing.T) {
	t.Run("spot ticker: fraction to percent", func(t *testing.T) {
		row, ts := tickerFixture(t, "tickers_spot_BTCUSDT.json")
		got, err := row.ticker(btc, ts)
		if err != nil {
			t.Fatal(err)
		}
		if got.Last != 20533.13 || !near(got.ChangePct, 0.68, 1e-12) || got.BaseVolume != 11801.27771 ||
			got.QuoteVolume != 243765620.65899866 || got.Time.UnixMilli() != 1673859087947 {
			t.Errorf("ticker = %+v", got)
		}
	})
	t.Run("linear ticker: open interest and funding", func(t *testing.T) {
		row, ts := tickerFixture(t, "tickers_linear_BTCUSDT.json")
		oi, err := row.openInterest(btc, ts)
		if err != nil || oi.Coin != 373504107 || oi.USD != 6198854416.37 {
			t.Errorf("open interest = %+v, %v", oi, err)
		}
		f, err := row.funding(btc, ts)
		if err != nil || f.Rate != -0.001034 || f.Interval != 4*time.Hour || f.Next.UnixMilli() != 1672387200000 || f.Mark != 16596 {
			t.Errorf("funding = %+v, %v", f, err)
		}
	})
	t.Run("open interest history ascending", func(t *testing.T) {
		res, _ := result(t, "open-interest_BTCUSDT.json")
		got, err := decodeOIHistory(res)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Time.UnixMilli() != 1669571400000 || got[1].Coin != 461134384 {
			t.Errorf("history = %+v", got)
		}
	})
	t.Run("klines ascending without the open bar", func(t *testing.T) {
		res, _ := result(t, "kline_BTCUSDT.json")
		got, err := decodeKlines(res, time.Hour, time.UnixMilli(1670612400000+time.Hour.Milliseconds()/2))
		if err != nil {
			t.Fatal(err)
		}
		got = httpjson.LastCandles(got, 10)
		if len(got) != 1 || got[0].Open.UnixMilli() != 1670608800000 || got[0].C != 17071 || got[0].Volume != 4177 {
			t.Errorf("klines = %+v", got)
		}
	})
	t.Run("linear instruments", func(t *testing.T) {
		res, _ := result(t, "instruments_linear.json")
		got, next, err := decodeInstruments(res, market.Perp)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[1].Pair != (market.Pair{Base: "10000LADYS", Quote: "USDT"}) || next == "" {
			t.Errorf("instruments = %+v, next %q", got, next)
		}
	})
	for _, tc := range []struct {
		file string
		want error
	}{
		{"error_not_supported.json", market.ErrUnknownSymbol},
		{"error_too_many_visits.json", market.ErrRateLimited},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if _, _, err := decodeEnvelope(venuetest.Fixture(t, tc.file)); !errors.Is(err, tc.want) {
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
		{"no retCode", `{"retMsg":"OK","result":{}}`, market.ErrBadResponse},
		{"no result", `{"retCode":0,"retMsg":"OK"}`, market.ErrBadResponse},
		{"server error", `{"retCode":10016,"retMsg":"Server error"}`, market.ErrUnavailable},
		{"other code", `{"retCode":10002,"retMsg":"invalid request"}`, market.ErrBadResponse},
		{"string retCode", `{"retCode":"0","result":{}}`, market.ErrBadResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := decodeEnvelope([]byte(tc.body)); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := decodeTickerRow([]byte(`{"category":"spot","list":[]}`)); !errors.Is(err, market.ErrUnknownSymbol) {
		t.Errorf("empty ticker list: %v, want ErrUnknownSymbol", err)
	}
	for _, tc := range []struct {
		name string
		row  tickerRow
	}{
		{"missing interval", tickerRow{FundingRate: "0.0001", NextFundingTime: 1}},
		{"zero interval", tickerRow{FundingRate: "0.0001", NextFundingTime: 1, FundingIntervalHour: "0"}},
		{"NaN rate", tickerRow{FundingRate: "NaN", NextFundingTime: 1, FundingIntervalHour: "8"}},
		{"missing next", tickerRow{FundingRate: "0.0001", FundingIntervalHour: "8"}},
	} {
		t.Run("funding "+tc.name, func(t *testing.T) {
			if _, err := tc.row.funding(btc, 1); !errors.Is(err, market.ErrBadResponse) {
				t.Errorf("error = %v, want ErrBadResponse", err)
			}
		})
	}
}

func FuzzDecodeTicker(f *testing.F) {
	f.Add(venuetest.Fixture(f, "tickers_spot_BTCUSDT.json"))
	f.Add(venuetest.Fixture(f, "tickers_linear_BTCUSDT.json"))
	f.Add(venuetest.Fixture(f, "error_not_supported.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, ts, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		row, err := decodeTickerRow(res)
		if err != nil {
			return
		}
		for _, e := range []error{
			func() error { _, err := row.ticker(btc, ts); return err }(),
			func() error { _, err := row.openInterest(btc, ts); return err }(),
			func() error { _, err := row.funding(btc, ts); return err }(),
		} {
			if e != nil && !errors.Is(e, market.ErrBadResponse) {
				t.Errorf("error %v is not ErrBadResponse", e)
			}
		}
	})
}

// fuzzResult fuzzes decode over the result of bodies that pass the envelope.
func fuzzResult(f *testing.F, fixture string, decode func(res []byte) error) {
	venuetest.FuzzDecode(f, [][]byte{venuetest.Fixture(f, fixture)}, func(b []byte) error {
		res, _, err := decodeEnvelope(b)
		if err != nil {
			return nil
		}
		return decode(res)
	})
}

func FuzzDecodeKlines(f *testing.F) {
	fuzzResult(f, "kline_BTCUSDT.json", func(res []byte) error {
		_, err := decodeKlines(res, time.Hour, time.UnixMilli(1e12))
		return err
	})
}

func FuzzDecodeOIHistory(f *testing.F) {
	fuzzResult(f, "open-interest_BTCUSDT.json", func(res []byte) error { _, err := decodeOIHistory(res); return err })
}

func FuzzDecodeInstruments(f *testing.F) {
	fuzzResult(f, "instruments_linear.json", func(res []byte) error {
		_, _, err := decodeInstruments(res, market.Perp)
		return err
	})
}

func TestAllPrices(t *testing.T) {
	venuetest.RunAllPrices(t, harness)
}

// BenchmarkDecodePrices decodes a spot tickers answer of 2,000 symbols,
// envelope included, as AllPrices does after the request.
func BenchmarkDecodePrices(b *testing.B) {
	book := markettest.LargeBook(2000)
	fake := markettest.NewBybitBook(book)
	defer fake.Close()
	syms := map[string]market.Pair{}
	for _, m := range book.Markets {
		syms[m.Pair.Base+m.Pair.Quote] = m.Pair
	}
	body := venuetest.Body(b, fake.URL()+"/v5/market/tickers?category=spot")
	now := time.Now()
	venuetest.BenchDecodePrices(b, body, 2000, func(body []byte) ([]market.Price, error) { return decodePrices(body, syms, now) })
}

// The perpetual ticker reads category=linear; price24hPcnt is a fraction.
func TestPerpTicker(t *testing.T) {
	_, fake, h := setup(t)
	venuetest.RunPerpTicker(t, h, []venuetest.TickerCase{
		{Pair: btc, Last: 97123.4, Open: 95000, ChangePct: 2.24},
		{Pair: sol, Last: 187.65, Open: 180.4, ChangePct: 4.02},
	}, nil)
	if n := fake.Hits("ticker"); n != 2 {
		t.Errorf("ticker hits = %d, want 2", n)
	}
	// DOGE is spot only: linear answers retCode 10001 with HTTP 200.
	if _, err := h.Client.(market.PerpTickerer).PerpTicker(context.Background(), market.Pair{Base: "DOGE", Quote: "USDT"}); !errors.Is(err, market.ErrUnknownSymbol) {
		t.Errorf("DOGE perp error = %v, want ErrUnknownSymbol", err)
	}
}

func TestPerpTickerFixture(t *testing.T) {
	row, ts := tickerFixture(t, "tickers_linear_BTCUSDT.json")
	got, err := row.ticker(btc, ts)
	if err != nil {
		t.Fatal(err)
	}
	if got.Last != 16597 || got.Open != 16464.5 || !near(got.ChangePct, 0.8047, 1e-12) || got.BaseVolume != 49337318 ||
		got.High != 30912.5 || got.Time.UnixMilli() != 1672376496682 {
		t.Errorf("linear ticker = %+v", got)
	}
}
