package markettest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type got struct {
	status int
	header http.Header
	body   []byte
}

func get(ctx context.Context, url string) (got, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return got{}, err
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return got{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return got{resp.StatusCode, resp.Header, b}, err
}

func mustGet(t *testing.T, url string) got {
	t.Helper()
	g, err := get(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestStartServesAllVenues(t *testing.T) {
	v := Start()
	defer v.Close()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"binance spot", v.Binance.URL() + "/api/v3/ticker/24hr?symbol=BTCUSDT", `"lastPrice":"97123.40000000"`},
		{"binance fapi", v.Binance.URL() + "/fapi/v1/premiumIndex?symbol=SOLUSDT", `"lastFundingRate":"-0.00002000"`},
		{"bybit", v.Bybit.URL() + "/v5/market/tickers?category=linear&symbol=BTCUSDT", `"fundingIntervalHour":"8"`},
		{"okx", v.OKX.URL() + "/api/v5/market/ticker?instId=PEPE-USDT", `"last":"0.00001234"`},
		{"binance halted spot listed", v.Binance.URL() + "/api/v3/exchangeInfo", `"status":"BREAK"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.HasPrefix(tc.url, "http://127.0.0.1:") {
				t.Errorf("URL %s is not on 127.0.0.1", tc.url)
			}
			g := mustGet(t, tc.url)
			if g.status != 200 || !bytes.Contains(g.body, []byte(tc.want)) {
				t.Errorf("%d %s, want %s", g.status, g.body, tc.want)
			}
		})
	}
	if len(v.Book.Markets) != len(DefaultBook().Markets) {
		t.Errorf("Venues.Book has %d markets", len(v.Book.Markets))
	}
}

// answer is a GET and the status and body text a fake must answer it with.
type answer struct {
	name, url string
	status    int
	want      string
}

func checkAnswers(t *testing.T, cases []answer) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := mustGet(t, tc.url)
			if g.status != tc.status || !bytes.Contains(g.body, []byte(tc.want)) {
				t.Errorf("%d %s, want %d %s", g.status, g.body, tc.status, tc.want)
			}
		})
	}
}

func TestUnknownSymbolEnvelopes(t *testing.T) {
	v := Start()
	defer v.Close()
	checkAnswers(t, []answer{
		{"binance", v.Binance.URL() + "/api/v3/ticker/24hr?symbol=NOPEUSDT", 400, `{"code":-1121,"msg":"Invalid symbol."}`},
		{"binance spot-only on fapi", v.Binance.URL() + "/fapi/v1/openInterest?symbol=DOGEUSDT", 400, `"code":-1121`},
		{"bybit", v.Bybit.URL() + "/v5/market/tickers?category=spot&symbol=NOPEUSDT", 200, `"retCode":10001,"retMsg":"Not supported symbols"`},
		{"okx", v.OKX.URL() + "/api/v5/public/funding-rate?instId=DOGE-USDT-SWAP", 200, `{"code":"51001","msg":"Instrument ID does not exist","data":[]}`},
	})
}

func TestFaultsApplyInOrder(t *testing.T) {
	f := NewOKX()
	defer f.Close()
	url := f.URL() + "/api/v5/market/ticker?instId=BTC-USDT"
	f.Fail(http.StatusServiceUnavailable, 2)
	f.RateLimit(3*time.Second, 1)
	f.Malformed(1)
	f.Fail(500, 0) // n ≤ 0 queues nothing

	for i, want := range []int{503, 503, 429, 200, 200} {
		g := mustGet(t, url)
		if g.status != want {
			t.Fatalf("request %d: status %d, want %d", i, g.status, want)
		}
		switch i {
		case 0:
			if !bytes.Contains(g.body, []byte(`"code":"50001"`)) {
				t.Errorf("503 body %s", g.body)
			}
		case 2:
			if g.header.Get("Retry-After") != "3" || !bytes.Contains(g.body, []byte(`"code":"50011"`)) {
				t.Errorf("rate limit: Retry-After %q body %s", g.header.Get("Retry-After"), g.body)
			}
		case 3:
			if json.Valid(g.body) {
				t.Errorf("malformed body is valid JSON: %s", g.body)
			}
		case 4:
			if !json.Valid(g.body) {
				t.Errorf("body after the faults is not JSON: %s", g.body)
			}
		}
	}
	if n := f.Hits("ticker"); n != 5 {
		t.Errorf("Hits(ticker) = %d, want 5", n)
	}
	f.Reset()
	if n := f.Hits("ticker"); n != 0 {
		t.Errorf("Hits after Reset = %d", n)
	}
}

func TestBybitRateLimitIs403Text(t *testing.T) {
	f := NewBybit()
	defer f.Close()
	f.RateLimit(0, 1)
	g := mustGet(t, f.URL()+"/v5/market/tickers?category=spot&symbol=BTCUSDT")
	if g.status != 403 || string(g.body) != "access too frequent" || g.header.Get("Retry-After") != "" {
		t.Errorf("%d %q Retry-After %q", g.status, g.body, g.header.Get("Retry-After"))
	}
}

func TestDelayHonoursContextAndClose(t *testing.T) {
	f := NewBinance()
	f.Delay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := get(ctx, f.URL()+"/api/v3/ticker/24hr?symbol=BTCUSDT"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want DeadlineExceeded", err)
	}
	// A request still hanging must not keep Close from returning.
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		close(started)
		_, _ = get(context.Background(), f.URL()+"/api/v3/ticker/24hr?symbol=ETHUSDT")
	}()
	<-started
	for f.Hits("ticker") < 2 {
		time.Sleep(time.Millisecond)
	}
	f.Close()
	<-done
	f.Close() // idempotent
}

func TestDeterministic(t *testing.T) {
	a, b := NewBybit(), NewBybit()
	defer a.Close()
	defer b.Close()
	path := "/v5/market/kline?category=spot&symbol=BTCUSDT&interval=60&limit=300"
	ga, gb := mustGet(t, a.URL()+path), mustGet(t, b.URL()+path)
	if ga.status != 200 || !bytes.Equal(ga.body, gb.body) {
		t.Errorf("two fakes differ or failed: %d", ga.status)
	}
	var env struct {
		Result struct{ List [][]string }
	}
	if err := json.Unmarshal(ga.body, &env); err != nil || len(env.Result.List) != 300 {
		t.Fatalf("kline list: %d rows, %v", len(env.Result.List), err)
	}
	if first := env.Result.List[0][0]; first != "1768478400000" { // 2026-01-15 12:00 UTC, the open bar
		t.Errorf("newest bar starts %s", first)
	}
	if last := env.Result.List[0][4]; last != "97123.4" {
		t.Errorf("newest close %s, want the book price", last)
	}
}

func TestBookCopiedAtStart(t *testing.T) {
	b := DefaultBook()
	f := NewOKXBook(b)
	defer f.Close()
	b.Markets[0].Price = 1
	if g := mustGet(t, f.URL()+"/api/v5/market/ticker?instId=BTC-USDT"); !bytes.Contains(g.body, []byte(`"last":"97123.4"`)) {
		t.Errorf("changing the Book after start changed the fake: %s", g.body)
	}
}

func TestBadRequests(t *testing.T) {
	v := Start()
	defer v.Close()
	checkAnswers(t, []answer{
		{"unknown path", v.Binance.URL() + "/api/v3/nope", 404, "404"},
		{"binance interval", v.Binance.URL() + "/api/v3/klines?symbol=BTCUSDT&interval=7m", 400, `"code":-1120`},
		{"binance limit", v.Binance.URL() + "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=x", 400, `"code":-1100`},
		{"binance no symbol", v.Binance.URL() + "/api/v3/ticker/24hr", 400, `"code":-1102`},
		{"bybit category", v.Bybit.URL() + "/v5/market/tickers?category=option&symbol=BTCUSDT", 200, `"retCode":10001`},
		{"bybit cursor", v.Bybit.URL() + "/v5/market/instruments-info?category=linear&cursor=zz", 200, `"retCode":10001`},
		{"okx instType", v.OKX.URL() + "/api/v5/public/instruments?instType=FUTURES", 400, `"code":"51000"`},
		{"okx no instId", v.OKX.URL() + "/api/v5/market/ticker", 400, `"code":"50014"`},
	})
}

// The perpetual tickers: Binance's fapi shape (no bid, ask or prevClose),
// Bybit's linear row, OKX's SWAP row, and each venue's unknown-symbol
// envelope for a spot-only pair.
func TestPerpTickers(t *testing.T) {
	v := Start()
	defer v.Close()
	checkAnswers(t, []answer{
		{"binance fapi ticker", v.Binance.URL() + "/fapi/v1/ticker/24hr?symbol=BTCUSDT", 200, `"lastPrice":"97123.40000000"`},
		{"binance fapi ticker BTC-USDC", v.Binance.URL() + "/fapi/v1/ticker/24hr?symbol=BTCUSDC", 200, `"lastPrice":"97100.00000000"`},
		{"binance fapi spot-only", v.Binance.URL() + "/fapi/v1/ticker/24hr?symbol=DOGEUSDT", 400, `{"code":-1121,"msg":"Invalid symbol."}`},
		{"binance fapi no symbol", v.Binance.URL() + "/fapi/v1/ticker/24hr", 400, `"code":-1102`},
		{"bybit linear", v.Bybit.URL() + "/v5/market/tickers?category=linear&symbol=SOLUSDT", 200, `"price24hPcnt":"0.0402"`},
		{"bybit linear spot-only", v.Bybit.URL() + "/v5/market/tickers?category=linear&symbol=DOGEUSDT", 200, `"retCode":10001`},
		{"okx swap", v.OKX.URL() + "/api/v5/market/ticker?instId=BTC-USDT-SWAP", 200, `"instType":"SWAP"`},
		{"okx swap spot-only", v.OKX.URL() + "/api/v5/market/ticker?instId=DOGE-USDT-SWAP", 200, `"code":"51001"`},
	})
	g := mustGet(t, v.Binance.URL()+"/fapi/v1/ticker/24hr?symbol=ETHUSDT")
	var body map[string]any
	if err := json.Unmarshal(g.body, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"bidPrice", "askPrice", "prevClosePrice"} {
		if _, ok := body[k]; ok {
			t.Errorf("fapi ticker has spot's %s", k)
		}
	}
	if v.Binance.Hits("ticker") != 5 {
		t.Errorf("binance ticker hits %d, want 5", v.Binance.Hits("ticker"))
	}
}
