// Package bybit is a thin client for Bybit v5 public market data: spot for
// instruments, tickers and candles, linear (USDT perpetuals) for open
// interest and funding.
package bybit

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// DefaultBaseURL is Bybit's official API host.
const DefaultBaseURL = "https://api.bybit.com"

const (
	venue        = market.Bybit
	maxKlines    = 1000
	maxOIHistory = 200
	// maxPages bounds instruments-info paging against a cursor that never ends.
	maxPages = 50
)

// Config configures a Client; zero fields take the defaults.
type Config struct {
	BaseURL string           // default DefaultBaseURL
	HTTP    *http.Client     // default: 5 s Timeout backstop
	Metrics *metrics.Metrics // nil: no metrics
	Now     func() time.Time // default time.Now; decides which candle is still open
}

// Client reads Bybit market data. It is safe for concurrent use.
type Client struct {
	base    string
	hj      *httpjson.Client
	symbols httpjson.Symbols // spot symbol → pair, for AllPrices
}

var (
	_ market.Exchange    = (*Client)(nil)
	_ market.PriceLister = (*Client)(nil)
)

// New returns a Client.
func New(cfg Config) *Client {
	c := &Client{base: strings.TrimRight(cfg.BaseURL, "/")}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	c.hj = httpjson.New(httpjson.Config{Venue: venue, HTTP: cfg.HTTP, Metrics: cfg.Metrics, Now: cfg.Now, StatusError: c.statusError})
	return c
}

// Name returns "bybit".
func (c *Client) Name() string { return venue }

// statusError: Bybit answers an IP over its limit with HTTP 403 "access too
// frequent"; other 4xx may still carry an envelope.
func (c *Client) statusError(status int, h http.Header, body []byte) error {
	if status == http.StatusForbidden {
		return c.hj.RateLimit(h)
	}
	var env envelope
	if httpjson.Decode(body, &env) != nil || env.RetCode == nil || *env.RetCode == 0 {
		return nil
	}
	return env.err()
}

func symbol(p market.Pair) string { return p.Base + p.Quote }

// request is a GET of a v5 path.
func (c *Client) request(endpoint, path string, q url.Values) httpjson.Request {
	return httpjson.Request{Endpoint: endpoint, URL: c.base + path, Query: q}
}

// inResult adapts a decoder of a v5 result to a whole response: the
// envelope's retCode is checked first, and its time handed on.
func inResult[T any](decode func(res []byte, t httpjson.Millis) (T, error)) func([]byte) (T, error) {
	return func(b []byte) (T, error) {
		res, t, err := decodeEnvelope(b)
		if err != nil {
			var zero T
			return zero, err
		}
		return decode(res, t)
	}
}

// Instruments lists Trading spot symbols, or USDT-settled linear perpetuals,
// following nextPageCursor.
func (c *Client) Instruments(ctx context.Context, kind market.Kind) ([]market.Instrument, error) {
	cat, err := category(kind)
	if err != nil {
		return nil, c.hj.Wrap(err, "instruments %q", kind)
	}
	out, err := c.instruments(ctx, kind, cat)
	if err == nil && kind == market.Spot {
		c.symbols.Set(out, c.hj.Now())
	}
	return out, c.hj.Wrap(err, "instruments %s", kind)
}

// AllPrices returns the last price of every Trading spot pair in one request:
// GET /v5/market/tickers?category=spot without a symbol. Symbols map back to
// pairs through the last spot instrument list (loaded first if there is none
// or it is over httpjson.SymbolsMaxAge old); rows of other symbols are left
// out. At is the envelope's time.
func (c *Client) AllPrices(ctx context.Context) ([]market.Price, error) {
	req := c.request(httpjson.EndpointAllPrices, "/v5/market/tickers", url.Values{"category": {"spot"}})
	req.MaxBytes = httpjson.MaxPricesBody
	return c.symbols.Prices(ctx, c.hj, req, c.Instruments, decodePrices)
}

func (c *Client) instruments(ctx context.Context, kind market.Kind, cat string) ([]market.Instrument, error) {
	type page struct {
		ins  []market.Instrument
		next string
	}
	var out []market.Instrument
	cursor := ""
	for range maxPages {
		q := url.Values{"category": {cat}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req := c.request(httpjson.EndpointInstruments, "/v5/market/instruments-info", q)
		req.MaxBytes = httpjson.MaxInstrumentsBody
		p, err := httpjson.Fetch(ctx, c.hj, req, inResult(func(res []byte, _ httpjson.Millis) (page, error) {
			ins, next, err := decodeInstruments(res, kind)
			return page{ins, next}, err
		}))
		if err != nil {
			return nil, err
		}
		out = append(out, p.ins...)
		if p.next == "" {
			return out, nil
		}
		if p.next == cursor {
			return nil, fmt.Errorf("%w: cursor repeats", market.ErrBadResponse)
		}
		cursor = p.next
	}
	return nil, fmt.Errorf("%w: more than %d pages", market.ErrBadResponse, maxPages)
}

func category(k market.Kind) (string, error) {
	switch k {
	case market.Spot:
		return "spot", nil
	case market.Perp:
		return "linear", nil
	}
	return "", market.ErrUnsupported
}

// ticker fetches the spot or linear ticker of pair and the envelope's time.
func (c *Client) ticker(ctx context.Context, pair market.Pair, cat string) (tickerRow, httpjson.Millis, error) {
	type stamped struct {
		row tickerRow
		ts  httpjson.Millis
	}
	req := c.request(httpjson.EndpointTicker, "/v5/market/tickers", url.Values{"category": {cat}, "symbol": {symbol(pair)}})
	r, err := httpjson.FetchPair(ctx, c.hj, pair, req, inResult(func(res []byte, t httpjson.Millis) (stamped, error) {
		row, err := decodeTickerRow(res)
		return stamped{row, t}, err
	}))
	return r.row, r.ts, err
}

// tickerAs fetches the spot or linear ticker of pair and converts it.
func tickerAs[T any](ctx context.Context, c *Client, pair market.Pair, cat string, conv func(tickerRow, market.Pair, httpjson.Millis) (T, error)) (T, error) {
	row, ts, err := c.ticker(ctx, pair, cat)
	if err != nil {
		var zero T
		return zero, err
	}
	return conv(row, pair, ts)
}

// Ticker returns the spot 24 h ticker; Bybit's price24hPcnt fraction becomes a percentage.
func (c *Client) Ticker(ctx context.Context, pair market.Pair) (market.Ticker, error) {
	t, err := tickerAs(ctx, c, pair, "spot", tickerRow.ticker)
	if err != nil {
		return market.Ticker{}, c.hj.Wrap(err, "ticker %s", symbol(pair))
	}
	return t, nil
}

// OpenInterest returns open interest in coin and USD from the linear ticker.
func (c *Client) OpenInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error) {
	oi, err := tickerAs(ctx, c, pair, "linear", tickerRow.openInterest)
	if err != nil {
		return market.OpenInterest{}, c.hj.Wrap(err, "open interest %s", symbol(pair))
	}
	return oi, nil
}

// Funding returns the current rate, next settlement and interval from the
// linear ticker.
func (c *Client) Funding(ctx context.Context, pair market.Pair) (market.Funding, error) {
	f, err := tickerAs(ctx, c, pair, "linear", tickerRow.funding)
	if err != nil {
		return market.Funding{}, c.hj.Wrap(err, "funding %s", symbol(pair))
	}
	return f, nil
}

// oiIntervals maps history periods to open-interest's intervalTime.
var oiIntervals = map[time.Duration]string{
	5 * time.Minute: "5min", 15 * time.Minute: "15min", 30 * time.Minute: "30min",
	time.Hour: "1h", 4 * time.Hour: "4h", 24 * time.Hour: "1d",
}

// OIHistory returns up to limit (clamped to 1–200) rows, ascending. Bybit
// reports coin only; USD is coin × the current last price.
func (c *Client) OIHistory(ctx context.Context, pair market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	out, err := c.oiHistory(ctx, pair, period, limit)
	return out, c.hj.Wrap(err, "oi history %s", symbol(pair))
}

func (c *Client) oiHistory(ctx context.Context, pair market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	iv, err := httpjson.Param(oiIntervals, period, "period")
	q := url.Values{"category": {"linear"}, "symbol": {symbol(pair)}, "intervalTime": {iv},
		"limit": {fmt.Sprint(httpjson.Clamp(limit, maxOIHistory))}}
	req := c.request(httpjson.EndpointOIHistory, "/v5/market/open-interest", q)
	req.Err = err
	out, err := httpjson.FetchPair(ctx, c.hj, pair, req, inResult(func(res []byte, _ httpjson.Millis) ([]market.OIPoint, error) { return decodeOIHistory(res) }))
	if err != nil {
		return nil, err
	}
	row, _, err := c.ticker(ctx, pair, "linear")
	if err != nil {
		return nil, err
	}
	var f httpjson.Fields
	last := f.Float("lastPrice", row.LastPrice)
	if err := f.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].USD = out[i].Coin * last
	}
	return out, nil
}

// klineIntervals maps candle intervals to Bybit's.
var klineIntervals = map[market.Interval]string{market.M1: "1", market.M15: "15", market.H1: "60", market.H4: "240", market.D1: "D"}

// Candles returns up to limit (clamped to 1–999) closed spot bars, ascending.
func (c *Client) Candles(ctx context.Context, pair market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	b, err := httpjson.Param(klineIntervals, iv, "interval")
	n := httpjson.Clamp(limit, maxKlines-1)
	// One extra row: the newest is the bar still open.
	req := c.request(httpjson.EndpointCandles, "/v5/market/kline",
		url.Values{"category": {"spot"}, "symbol": {symbol(pair)}, "interval": {b}, "limit": {fmt.Sprint(n + 1)}})
	req.Err = err
	out, err := httpjson.FetchPair(ctx, c.hj, pair, req, inResult(func(res []byte, _ httpjson.Millis) ([]market.Candle, error) {
		out, err := decodeKlines(res, iv.Duration(), c.hj.Now())
		return httpjson.LastCandles(out, n), err
	}))
	return out, c.hj.Wrap(err, "candles %s %s", symbol(pair), iv)
}
