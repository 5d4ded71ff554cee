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
	venue        = "bybit"
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
	base string
	hj   *httpjson.Client
}

var _ market.Exchange = (*Client)(nil)

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

// get fetches a v5 path and hands the envelope's result to decode.
func (c *Client) get(ctx context.Context, endpoint, path string, q url.Values, maxBytes int64, decode func(res []byte, t httpjson.Millis) error) error {
	return c.hj.Get(ctx, endpoint, c.base+path+"?"+q.Encode(), maxBytes, func(b []byte) error {
		res, t, err := decodeEnvelope(b)
		if err != nil {
			return err
		}
		return decode(res, t)
	})
}

// Instruments lists Trading spot symbols, or USDT-settled linear perpetuals,
// following nextPageCursor.
func (c *Client) Instruments(ctx context.Context, kind market.Kind) ([]market.Instrument, error) {
	cat, err := category(kind)
	if err != nil {
		return nil, fmt.Errorf("bybit instruments %q: %w", kind, err)
	}
	var out []market.Instrument
	cursor := ""
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("bybit instruments %s: %w: more than %d pages", kind, market.ErrBadResponse, maxPages)
		}
		q := url.Values{"category": {cat}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var next string
		err := c.get(ctx, httpjson.EndpointInstruments, "/v5/market/instruments-info", q, httpjson.MaxInstrumentsBody,
			func(res []byte, _ httpjson.Millis) (err error) {
				var ins []market.Instrument
				ins, next, err = decodeInstruments(res, kind)
				out = append(out, ins...)
				return err
			})
		if err != nil {
			return nil, fmt.Errorf("bybit instruments %s: %w", kind, err)
		}
		if next == "" {
			return out, nil
		}
		if next == cursor {
			return nil, fmt.Errorf("bybit instruments %s: %w: cursor repeats", kind, market.ErrBadResponse)
		}
		cursor = next
	}
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

// ticker fetches the spot or linear ticker of pair.
func (c *Client) ticker(ctx context.Context, pair market.Pair, cat string) (tickerRow, httpjson.Millis, error) {
	var (
		row tickerRow
		ts  httpjson.Millis
	)
	if err := httpjson.CheckPair(pair); err != nil {
		return row, 0, err
	}
	q := url.Values{"category": {cat}, "symbol": {symbol(pair)}}
	err := c.get(ctx, httpjson.EndpointTicker, "/v5/market/tickers", q, httpjson.MaxBody, func(res []byte, t httpjson.Millis) (err error) {
		row, err = decodeTickerRow(res)
		ts = t
		return err
	})
	return row, ts, err
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
		return market.Ticker{}, fmt.Errorf("bybit ticker %s: %w", symbol(pair), err)
	}
	return t, nil
}

// OpenInterest returns open interest in coin and USD from the linear ticker.
func (c *Client) OpenInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error) {
	oi, err := tickerAs(ctx, c, pair, "linear", tickerRow.openInterest)
	if err != nil {
		return market.OpenInterest{}, fmt.Errorf("bybit open interest %s: %w", symbol(pair), err)
	}
	return oi, nil
}

// Funding returns the current rate, next settlement and interval from the
// linear ticker.
func (c *Client) Funding(ctx context.Context, pair market.Pair) (market.Funding, error) {
	f, err := tickerAs(ctx, c, pair, "linear", tickerRow.funding)
	if err != nil {
		return market.Funding{}, fmt.Errorf("bybit funding %s: %w", symbol(pair), err)
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
	if err != nil {
		return nil, fmt.Errorf("bybit oi history %s: %w", symbol(pair), err)
	}
	return out, nil
}

func (c *Client) oiHistory(ctx context.Context, pair market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	if err := httpjson.CheckPair(pair); err != nil {
		return nil, err
	}
	iv, ok := oiIntervals[period]
	if !ok {
		return nil, fmt.Errorf("%w: period %s", market.ErrUnsupported, period)
	}
	q := url.Values{"category": {"linear"}, "symbol": {symbol(pair)}, "intervalTime": {iv},
		"limit": {fmt.Sprint(httpjson.Clamp(limit, maxOIHistory))}}
	var out []market.OIPoint
	err := c.get(ctx, httpjson.EndpointOIHistory, "/v5/market/open-interest", q, httpjson.MaxBody, func(res []byte, _ httpjson.Millis) (err error) {
		out, err = decodeOIHistory(res)
		return err
	})
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
var klineIntervals = map[market.Interval]string{market.M15: "15", market.H1: "60", market.H4: "240", market.D1: "D"}

// Candles returns up to limit (clamped to 1–999) closed spot bars, ascending.
func (c *Client) Candles(ctx context.Context, pair market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	out, err := c.candles(ctx, pair, iv, limit)
	if err != nil {
		return nil, fmt.Errorf("bybit candles %s %s: %w", symbol(pair), iv, err)
	}
	return out, nil
}

func (c *Client) candles(ctx context.Context, pair market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	if err := httpjson.CheckPair(pair); err != nil {
		return nil, err
	}
	b, ok := klineIntervals[iv]
	if !ok {
		return nil, fmt.Errorf("%w: interval %q", market.ErrUnsupported, iv)
	}
	n := httpjson.Clamp(limit, maxKlines-1)
	// One extra row: the newest is the bar still open.
	q := url.Values{"category": {"spot"}, "symbol": {symbol(pair)}, "interval": {b}, "limit": {fmt.Sprint(n + 1)}}
	var out []market.Candle
	err := c.get(ctx, httpjson.EndpointCandles, "/v5/market/kline", q, httpjson.MaxBody, func(res []byte, _ httpjson.Millis) (err error) {
		out, err = decodeKlines(res, iv.Duration(), c.hj.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return httpjson.LastCandles(out, n), nil
}
