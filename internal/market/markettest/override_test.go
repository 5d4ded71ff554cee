package markettest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

var btc = market.Pair{Base: "BTC", Quote: "USDT"}

func TestSetLastKeepsTheRange(t *testing.T) {
	v := Start()
	defer v.Close()
	v.Binance.SetLast(btc, "-5")
	v.Bybit.SetLast(btc, "1000000")
	v.OKX.SetLast(btc, "0.00000001")
	for _, tc := range []struct {
		name, url string
		want      []string
	}{
		{"binance", v.Binance.URL() + "/api/v3/ticker/24hr?symbol=BTCUSDT", []string{`"lastPrice":"-5"`, `"highPrice":"98288.88080000"`}},
		{"bybit", v.Bybit.URL() + "/v5/market/tickers?category=spot&symbol=BTCUSDT", []string{`"lastPrice":"1000000"`, `"retCode":0`}},
		{"okx", v.OKX.URL() + "/api/v5/market/ticker?instId=BTC-USDT", []string{`"last":"0.00000001"`, `"code":"0"`}},
		{"other pairs untouched", v.Binance.URL() + "/api/v3/ticker/24hr?symbol=ETHUSDT", []string{`"lastPrice":"3456.78000000"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustGet(t, tc.url)
			for _, w := range tc.want {
				if g.status != 200 || !bytes.Contains(g.body, []byte(w)) {
					t.Errorf("%d %s, want %s", g.status, g.body, w)
				}
			}
		})
	}
	v.Binance.Reset()
	if g := mustGet(t, v.Binance.URL()+"/api/v3/ticker/24hr?symbol=BTCUSDT"); !bytes.Contains(g.body, []byte(`"lastPrice":"97123.40000000"`)) {
		t.Errorf("after Reset: %s", g.body)
	}
}

func TestControl(t *testing.T) {
	v := Start()
	defer v.Close()
	ctl := httptest.NewServer(v.Control())
	defer ctl.Close()
	post := func(path string) int {
		t.Helper()
		resp, err := http.Post(ctl.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for path, want := range map[string]int{
		"/last?venue=okx&pair=btc&value=0": 204,
		"/override?venue=binance&endpoint=funding&pair=BTC-USDT&field=lastFundingRate&value=0.5": 204,
		"/latency?d=0s":               204,
		"/latency?d=soon":             400,
		"/last?venue=kraken&pair=btc": 400,
		"/override?pair=btc":          400,
	} {
		if got := post(path); got != want {
			t.Errorf("POST %s = %d, want %d", path, got, want)
		}
	}
	if g := mustGet(t, v.OKX.URL()+"/api/v5/market/ticker?instId=BTC-USDT"); !bytes.Contains(g.body, []byte(`"last":"0"`)) {
		t.Errorf("okx ticker after /last: %s", g.body)
	}
	if g := mustGet(t, v.Binance.URL()+"/fapi/v1/premiumIndex?symbol=BTCUSDT"); !bytes.Contains(g.body, []byte(`"lastFundingRate":"0.5"`)) {
		t.Errorf("binance premiumIndex after /override: %s", g.body)
	}
	g := mustGet(t, ctl.URL+"/hits?endpoint=ticker")
	if strings.TrimSpace(string(g.body)) != "1" {
		t.Errorf("hits = %q, want 1", g.body)
	}
	if post("/reset") != 204 {
		t.Fatal("reset failed")
	}
	if g := mustGet(t, v.OKX.URL()+"/api/v5/market/ticker?instId=BTC-USDT"); !bytes.Contains(g.body, []byte(`"last":"97123.4"`)) {
		t.Errorf("okx ticker after /reset: %s", g.body)
	}
}
