package markettest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// TestBatchFollowsControl moves a price through the control API and sees it
// in each venue's batch, counted under all_prices.
func TestBatchFollowsControl(t *testing.T) {
	v := Start()
	defer v.Close()
	ctl := httptest.NewServer(v.Control())
	defer ctl.Close()
	resp, err := http.PostForm(ctl.URL+"/last", url.Values{"pair": {"btc"}, "value": {"12345.5"}})
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /last: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, tc := range []struct {
		s    *Server
		path string
		want string
	}{
		{v.Binance.Server, "/api/v3/ticker/price", `{"price":"12345.5","symbol":"BTCUSDT"}`},
		{v.Bybit.Server, "/v5/market/tickers?category=spot", `"lastPrice":"12345.5"`},
		{v.OKX.Server, "/api/v5/market/tickers?instType=SPOT", `"last":"12345.5"`},
	} {
		resp, err := http.Get(tc.s.URL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s: no %s in %s", tc.path, tc.want, b.String())
		}
		if strings.Count(b.String(), "12345.5") != 1 {
			t.Errorf("%s: the override reached more than BTC's row: %s", tc.path, b.String())
		}
		if n := tc.s.Hits(httpjson.EndpointAllPrices); n != 1 {
			t.Errorf("%s: %d all_prices hits, want 1", tc.path, n)
		}
	}
	if n := v.Bybit.Hits(httpjson.EndpointTicker); n != 0 {
		t.Errorf("bybit's batch counted as %d ticker hits", n)
	}
	// Override on all_prices itself, in the venue's own field.
	v.Binance.Override(httpjson.EndpointAllPrices, market.Pair{Base: "ETH", Quote: "USDT"}, "price", "-1")
	resp, _ = http.Get(v.Binance.URL() + "/api/v3/ticker/price")
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(b.String(), `{"price":"-1","symbol":"ETHUSDT"}`) {
		t.Errorf("all_prices override not applied: %s", b.String())
	}
}
