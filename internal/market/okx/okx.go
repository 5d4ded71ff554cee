// Package okx is a thin client for OKX v5 public market data: SPOT for
// instruments, tickers and candles, SWAP (USDT-margined linear perpetuals)
// for open interest and funding.
package okx

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// DefaultBaseURL is OKX's official API host.
const DefaultBaseURL = "https://www.okx.com"

const (
	venue        = market.OKX
	maxCandles   = 300
	maxOIHistory = 100
)

// Config configures a Client; zero fields take the defaults.
type Config struct {
	BaseURL string           // default DefaultBaseURL
	HTTP    *http.Client     // default: 5 s Timeout backstop
	Metrics *metrics.Metrics // nil: no metrics
	Now     func() time.Time // default time.Now
}

// Client reads OKX market data. It is safe for concurrent use.
type Client struct {
	base string
	hj   *httpjson.Client

	mu     sync.Mutex
	ctVals map[string]float64 // swap contract values, by instId
}

var (
	_ market.Exchange    = (*Client)(nil)
	_ market.PriceLister = (*Client)(nil)
)

// New returns a Client.
func New(cfg Config) *Client {
	c := &Client{base: strings.TrimRight(cfg.BaseURL, "/"), ctVals: map[string]float64{}}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	c.hj = httpjson.New(httpjson.Config{Venue: venue, HTTP: cfg.HTTP, Metrics: cfg.Metrics, Now: cfg.Now, StatusError: statusError})
	return c
}

// Name returns "okx".
func (c *Client) Name() string { return venue }

// statusError maps a 4xx other than 429 that carries an OKX envelope.
func statusError(_ int, _ http.Header, body []byte) error {
	_, err := decodeEnvelope(body)
	return err
}

func spotID(p market.Pair) string { return p.Base + "-" + p.Quote }
func swapID(p market.Pair) string { return p.Base + "-" + p.Quote + "-SWAP" }

// request is a GET of a v5 path.
func (c *Client) request(endpoint, path string, q url.Values) httpjson.Request {
	return httpjson.Request{Endpoint: endpoint, URL: c.base + path, Query: q}
}

// inData adapts a decoder of a v5 envelope's data to a whole response: the
// envelope's code is checked first.
func inData[T any](decode func(data []byte) (T, error)) func([]byte) (T, error) {
	return func(b []byte) (T, error) {
		data, err := decodeEnvelope(b)
		if err != nil {
			var zero T
			return zero, err
		}
		return decode(data)
	}
}

// Instruments lists live SPOT instruments, or live USDT-margined linear swaps
// with their contract value.
func (c *Client) Instruments(ctx context.Context, kind market.Kind) ([]market.Instrument, error) {
	typ := map[market.Kind]string{market.Spot: "SPOT", market.Perp: "SWAP"}[kind]
	if typ == "" {
		return nil, c.hj.Wrap(market.ErrUnsupported, "instruments %q", kind)
	}
	req := c.request(httpjson.EndpointInstruments, "/api/v5/public/instruments", url.Values{"instType": {typ}})
	req.MaxBytes = httpjson.MaxInstrumentsBody
	out, err := httpjson.Fetch(ctx, c.hj, req, inData(func(data []byte) ([]market.Instrument, error) { return decodeInstruments(data, kind) }))
	return out, c.hj.Wrap(err, "instruments %s", kind)
}

// AllPrices returns the last price of every SPOT instrument in one request:
// GET /api/v5/market/tickers?instType=SPOT (20 requests per 2 s per IP).
// OKX's instId is the pair itself (BTC-USDT, the inverse of spotID), so no
// instrument list is needed; rows whose instId is not BASE-QUOTE are left
// out. At is each row's ts.
func (c *Client) AllPrices(ctx context.Context) ([]market.Price, error) {
	req := c.request(httpjson.EndpointAllPrices, "/api/v5/market/tickers", url.Values{"instType": {"SPOT"}})
	req.MaxBytes = httpjson.MaxPricesBody
	out, err := httpjson.Fetch(ctx, c.hj, req, decodePrices)
	return out, c.hj.Wrap(err, "all prices")
}

// Ticker returns the SPOT 24 h ticker; OKX has no change field, so the
// change is computed from open24h.
func (c *Client) Ticker(ctx context.Context, pair market.Pair) (market.Ticker, error) {
	req := c.request(httpjson.EndpointTicker, "/api/v5/market/ticker", url.Values{"instId": {spotID(pair)}})
	t, err := httpjson.FetchPair(ctx, c.hj, pair, req, inData(func(data []byte) (market.Ticker, error) { return decodeTicker(data, pair) }))
	return t, c.hj.Wrap(err, "ticker %s", spotID(pair))
}

// OpenInterest returns the swap's open interest: coin from oiCcy (or
// contracts × ctVal when OKX leaves it out) and USD from oiUsd.
func (c *Client) OpenInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error) {
	req := c.request(httpjson.EndpointOpenInterest, "/api/v5/public/open-interest", url.Values{"instType": {"SWAP"}, "instId": {swapID(pair)}})
	row, err := httpjson.FetchPair(ctx, c.hj, pair, req, inData(decodeOpenInterest))
	var oi market.OpenInterest
	if err == nil {
		oi, err = c.normalise(ctx, row, pair)
	}
	return oi, c.hj.Wrap(err, "open interest %s", swapID(pair))
}

// normalise converts contracts to coin with ctVal when oiCcy is missing.
func (c *Client) normalise(ctx context.Context, r oiRow, pair market.Pair) (market.OpenInterest, error) {
	if r.coin == nil {
		ct, err := c.ctVal(ctx, pair)
		if err != nil {
			return market.OpenInterest{}, err
		}
		coin := r.contracts * ct
		r.coin = &coin
	}
	return market.OpenInterest{Pair: pair, Venue: venue, Coin: *r.coin, USD: r.usd, Time: r.time}, nil
}

// ctVal returns the swap's contract value in coin, looked up once.
func (c *Client) ctVal(ctx context.Context, pair market.Pair) (float64, error) {
	id := swapID(pair)
	c.mu.Lock()
	v, ok := c.ctVals[id]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	req := c.request(httpjson.EndpointInstruments, "/api/v5/public/instruments", url.Values{"instType": {"SWAP"}, "instId": {id}})
	ins, err := httpjson.Fetch(ctx, c.hj, req, inData(func(data []byte) ([]market.Instrument, error) { return decodeInstruments(data, market.Perp) }))
	if err != nil {
		return 0, err
	}
	if len(ins) != 1 {
		return 0, fmt.Errorf("%w: %s is not a live linear USDT swap", market.ErrUnknownSymbol, id)
	}
	c.mu.Lock()
	c.ctVals[id] = ins[0].CtVal
	c.mu.Unlock()
	return ins[0].CtVal, nil
}

// oiPeriods maps history periods to the rubik period parameter.
var oiPeriods = map[time.Duration]string{
	5 * time.Minute: "5m", 15 * time.Minute: "15m", 30 * time.Minute: "30m", time.Hour: "1H", 2 * time.Hour: "2H",
	4 * time.Hour: "4H", 6 * time.Hour: "6H", 12 * time.Hour: "12H", 24 * time.Hour: "1D",
}

// OIHistory returns up to limit (clamped to 1–100) rows, ascending. Rows
// without oiUsd (older responses) have USD 0.
func (c *Client) OIHistory(ctx context.Context, pair market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	out, err := c.oiHistory(ctx, pair, period, limit)
	return out, c.hj.Wrap(err, "oi history %s", swapID(pair))
}

func (c *Client) oiHistory(ctx context.Context, pair market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	p, err := httpjson.Param(oiPeriods, period, "period")
	req := c.request(httpjson.EndpointOIHistory, "/api/v5/rubik/stat/contracts/open-interest-history",
		url.Values{"instId": {swapID(pair)}, "period": {p}, "limit": {fmt.Sprint(httpjson.Clamp(limit, maxOIHistory))}})
	req.Err = err
	rows, err := httpjson.FetchPair(ctx, c.hj, pair, req, inData(decodeOIHistory))
	if err != nil {
		return nil, err
	}
	out := make([]market.OIPoint, 0, len(rows))
	for _, r := range rows {
		oi, err := c.normalise(ctx, r, pair)
		if err != nil {
			return nil, err
		}
		out = append(out, market.OIPoint{Time: oi.Time, Coin: oi.Coin, USD: oi.USD})
	}
	return httpjson.SortOI(out), nil
}

// Funding returns the current rate, its settlement time and the interval
// (nextFundingTime − fundingTime). OKX's funding-rate has no mark or index.
func (c *Client) Funding(ctx context.Context, pair market.Pair) (market.Funding, error) {
	req := c.request(httpjson.EndpointFunding, "/api/v5/public/funding-rate", url.Values{"instId": {swapID(pair)}})
	f, err := httpjson.FetchPair(ctx, c.hj, pair, req, inData(func(data []byte) (market.Funding, error) { return decodeFunding(data, pair) }))
	return f, c.hj.Wrap(err, "funding %s", swapID(pair))
}

// bars maps candle intervals to OKX's; daily bars use the UTC variant so
// they line up with the other venues (plain 1D opens at Hong Kong midnight).
var bars = map[market.Interval]string{market.M1: "1m", market.M15: "15m", market.H1: "1H", market.H4: "4H", market.D1: "1Dutc"}

// Candles returns up to limit (clamped to 1–299) confirmed SPOT bars, ascending.
func (c *Client) Candles(ctx context.Context, pair market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	b, err := httpjson.Param(bars, iv, "interval")
	n := httpjson.Clamp(limit, maxCandles-1)
	// One extra row: the newest may still be open.
	req := c.request(httpjson.EndpointCandles, "/api/v5/market/candles", url.Values{"instId": {spotID(pair)}, "bar": {b}, "limit": {fmt.Sprint(n + 1)}})
	req.Err = err
	out, err := httpjson.FetchPair(ctx, c.hj, pair, req, inData(func(data []byte) ([]market.Candle, error) {
		out, err := decodeCandles(data)
		return httpjson.LastCandles(out, n), err
	}))
	return out, c.hj.Wrap(err, "candles %s %s", spotID(pair), iv)
}
