package httpjson

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

func TestFetch(t *testing.T) {
	var hits atomic.Int64
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		query = r.URL.RawQuery
		_, _ = w.Write([]byte(`{"v":"1"}`))
	}))
	defer srv.Close()
	c := New(Config{Venue: "v", HTTP: srv.Client()})
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	req := Request{Endpoint: EndpointTicker, URL: srv.URL + "/x", Query: map[string][]string{"symbol": {"BTCUSDT"}}}
	decodeV := func(b []byte) (string, error) {
		var v struct{ V string }
		return v.V, Decode(b, &v)
	}

	if got, err := FetchPair(context.Background(), c, btc, req, decodeV); err != nil || got != "1" || query != "symbol=BTCUSDT" {
		t.Errorf("FetchPair = %q, %v (query %q), want \"1\"", got, err, query)
	}
	half := func([]byte) (string, error) { return "half", errTest }
	if got, err := Fetch(context.Background(), c, req, half); !errors.Is(err, errTest) || got != "" {
		t.Errorf("Fetch with a failing decoder = %q, %v; want the zero value and the error", got, err)
	}
	before := hits.Load()
	if _, err := FetchPair(context.Background(), c, market.Pair{Base: "btc", Quote: "USDT"}, req, decodeV); !errors.Is(err, market.ErrUnknownSymbol) {
		t.Errorf("FetchPair(btc) error = %v, want ErrUnknownSymbol", err)
	}
	if hits.Load() != before {
		t.Error("FetchPair sent a request for an invalid pair")
	}
}

var errTest = errors.New("test")

func TestWrap(t *testing.T) {
	c := New(Config{Venue: "binance"})
	if err := c.Wrap(nil, "ticker %s", "BTCUSDT"); err != nil {
		t.Errorf("Wrap(nil) = %v", err)
	}
	err := c.Wrap(market.ErrUnavailable, "ticker %s", "BTCUSDT")
	if !errors.Is(err, market.ErrUnavailable) || err.Error() != "binance ticker BTCUSDT: market data unavailable" {
		t.Errorf("Wrap = %q", err)
	}
}
