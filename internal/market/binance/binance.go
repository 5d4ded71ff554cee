// Package binance is a thin client for Binance public market data: spot
// (api.binance.com) for instruments, tickers and candles, USDⓈ-M futures
// (fapi.binance.com) for perpetuals, open interest and funding.
package binance

import (
	"cmp"
	"context"
	"encoding/json"
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

// Official base URLs.
const (
	DefaultSpotURL    = "https://api.binance.com"
	DefaultFuturesURL = "https://fapi.binance.com"
)

const (
	venue = "binance"
	// fundingInfoTTL: fundingInfo shares 500 requests per 5 min per IP with
	// fundingRate, and intervals change rarely.
	fundingInfoTTL = time.Hour
	// defaultFundingInterval applies to symbols absent from fundingInfo.
	defaultFundingInterval = 8 * time.Hour
	maxKlines              = 1000
	maxOIHistory           = 500
)

// Config configures a Client; zero fields take the defaults.
type Config struct {
	SpotURL    string           // default DefaultSpotURL
	FuturesURL string           // default DefaultFuturesURL
	HTTP       *http.Client     // default: 5 s Timeout backstop
	Metrics    *metrics.Metrics // nil: no metrics
	Now        func() time.Time // default time.Now; decides which candle is still open
}

// Client reads Binance market data. It is safe for concurrent use.
type Client struct {
	spot, futures string
	hj            *httpjson.Client

	mu          sync.Mutex
	intervals   map[string]time.Duration // fundingInfo, by symbol
	intervalsAt time.Time
}

var _ market.Exchange = (*Client)(nil)

// New returns a Client.
func New(cfg Config) *Client {
	c := &Client{
		spot:    strings.TrimRight(cmp.Or(cfg.SpotURL, DefaultSpotURL), "/"),
		futures: strings.TrimRight(cmp.Or(cfg.FuturesURL, DefaultFuturesURL), "/"),
	}
	c.hj = httpjson.New(httpjson.Config{
		Venue: venue, HTTP: cfg.HTTP, Metrics: cfg.Metrics, Now: cfg.Now, StatusError: statusError,
	})
	return c
}

// Name returns "binance".
func (c *Client) Name() string { return venue }

// apiError is Binance's error body: {"code":-1121,"msg":"Invalid symbol."}.
type apiError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// statusError maps a 4xx other than 429/418: -1121 is an unknown symbol.
func statusError(status int, _ http.Header, body []byte) error {
	var e apiError
	if json.Unmarshal(body, &e) != nil || e.Code == 0 {
		return nil
	}
	if e.Code == -1121 {
		return fmt.Errorf("%w: %s", market.ErrUnknownSymbol, e.Msg)
	}
	return fmt.Errorf("%w: http %d: code %d: %s", market.ErrBadResponse, status, e.Code, e.Msg)
}

func symbol(p market.Pair) string { return p.Base + p.Quote }

func (c *Client) get(ctx context.Context, endpoint, base, path string, q url.Values, maxBytes int64, decode func([]byte) error) error {
	u := base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return c.hj.Get(ctx, endpoint, u, maxBytes, decode)
}

// Instruments lists TRADING spot symbols, or USDT-margined perpetuals.
func (c *Client) Instruments(ctx context.Context, kind market.Kind) ([]market.Instrument, error) {
	base, path := c.spot, "/api/v3/exchangeInfo"
	var q url.Values
	switch kind {
	case market.Spot:
		// The full spot list runs to megabytes; these official filters trim it.
		q = url.Values{"symbolStatus": {"TRADING"}, "showPermissionSets": {"false"}}
	case market.Perp:
		base, path = c.futures, "/fapi/v1/exchangeInfo"
	default:
		return nil, fmt.Errorf("binance instruments %q: %w", kind, market.ErrUnsupported)
	}
	var out []market.Instrument
	err := c.get(ctx, httpjson.EndpointInstruments, base, path, q, httpjson.MaxInstrumentsBody, func(b []byte) (err error) {
		out, err = decodeInstruments(b, kind)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("binance instruments %s: %w", kind, err)
	}
	return out, nil
}

// Ticker returns the spot 24 h ticker.
func (c *Client) Ticker(ctx context.Context, pair market.Pair) (market.Ticker, error) {
	var t market.Ticker
	err := c.withPair(pair, func() error {
		return c.get(ctx, httpjson.EndpointTicker, c.spot, "/api/v3/ticker/24hr", url.Values{"symbol": {symbol(pair)}},
			httpjson.MaxBody, func(b []byte) (err error) {
				t, err = decodeTicker(b, pair)
				return err
			})
	})
	if err != nil {
		return market.Ticker{}, fmt.Errorf("binance ticker %s: %w", symbol(pair), err)
	}
	return t, nil
}

// OpenInterest returns the perpetual's open interest in coin, and in USD at
// the current mark price (the endpoint reports coin only).
func (c *Client) OpenInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error) {
	var oi market.OpenInterest
	err := c.withPair(pair, func() error {
		err := c.get(ctx, httpjson.EndpointOpenInterest, c.futures, "/fapi/v1/openInterest", url.Values{"symbol": {symbol(pair)}},
			httpjson.MaxBody, func(b []byte) (err error) {
				oi, err = decodeOpenInterest(b, pair)
				return err
			})
		if err != nil {
			return err
		}
		p, err := c.premiumIndex(ctx, pair)
		oi.USD = oi.Coin * p.Mark
		return err
	})
	if err != nil {
		return market.OpenInterest{}, fmt.Errorf("binance open interest %s: %w", symbol(pair), err)
	}
	return oi, nil
}

// oiPeriods maps history periods to openInterestHist's period parameter.
var oiPeriods = map[time.Duration]string{
	5 * time.Minute: "5m", 15 * time.Minute: "15m", 30 * time.Minute: "30m", time.Hour: "1h", 2 * time.Hour: "2h",
	4 * time.Hour: "4h", 6 * time.Hour: "6h", 12 * time.Hour: "12h", 24 * time.Hour: "1d",
}

// OIHistory returns up to limit (clamped to 1–500) rows, ascending. Binance
// keeps only the latest month.
func (c *Client) OIHistory(ctx context.Context, pair market.Pair, period time.Duration, limit int) ([]market.OIPoint, error) {
	var out []market.OIPoint
	err := c.withPair(pair, func() error {
		p, ok := oiPeriods[period]
		if !ok {
			return fmt.Errorf("%w: period %s", market.ErrUnsupported, period)
		}
		q := url.Values{"symbol": {symbol(pair)}, "period": {p}, "limit": {fmt.Sprint(httpjson.Clamp(limit, maxOIHistory))}}
		return c.get(ctx, httpjson.EndpointOIHistory, c.futures, "/futures/data/openInterestHist", q, httpjson.MaxBody,
			func(b []byte) (err error) {
				out, err = decodeOIHistory(b)
				return err
			})
	})
	if err != nil {
		return nil, fmt.Errorf("binance oi history %s: %w", symbol(pair), err)
	}
	return out, nil
}

// Funding returns the rate for the period in progress (lastFundingRate), the
// next settlement, mark and index, and the interval from fundingInfo (8 h
// for symbols it does not list).
func (c *Client) Funding(ctx context.Context, pair market.Pair) (market.Funding, error) {
	var f market.Funding
	err := c.withPair(pair, func() error {
		var err error
		if f, err = c.premiumIndex(ctx, pair); err != nil {
			return err
		}
		f.Interval, err = c.fundingInterval(ctx, symbol(pair))
		return err
	})
	if err != nil {
		return market.Funding{}, fmt.Errorf("binance funding %s: %w", symbol(pair), err)
	}
	return f, nil
}

func (c *Client) premiumIndex(ctx context.Context, pair market.Pair) (market.Funding, error) {
	var f market.Funding
	err := c.get(ctx, httpjson.EndpointFunding, c.futures, "/fapi/v1/premiumIndex", url.Values{"symbol": {symbol(pair)}},
		httpjson.MaxBody, func(b []byte) (err error) {
			f, err = decodePremiumIndex(b, pair)
			return err
		})
	return f, err
}

// fundingInterval reads the symbol's interval from a cached fundingInfo.
func (c *Client) fundingInterval(ctx context.Context, sym string) (time.Duration, error) {
	now := c.hj.Now()
	c.mu.Lock()
	iv, fresh := c.intervals, c.intervals != nil && now.Sub(c.intervalsAt) < fundingInfoTTL
	c.mu.Unlock()
	if !fresh {
		err := c.get(ctx, httpjson.EndpointFundingInfo, c.futures, "/fapi/v1/fundingInfo", nil, httpjson.MaxBody,
			func(b []byte) (err error) {
				iv, err = decodeFundingInfo(b)
				return err
			})
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		c.intervals, c.intervalsAt = iv, now
		c.mu.Unlock()
	}
	if d, ok := iv[sym]; ok {
		return d, nil
	}
	return defaultFundingInterval, nil
}

// klineIntervals maps candle intervals to Binance's.
var klineIntervals = map[market.Interval]string{market.M15: "15m", market.H1: "1h", market.H4: "4h", market.D1: "1d"}

// Candles returns up to limit (clamped to 1–999) closed spot bars, ascending.
func (c *Client) Candles(ctx context.Context, pair market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	var out []market.Candle
	err := c.withPair(pair, func() error {
		b, ok := klineIntervals[iv]
		if !ok {
			return fmt.Errorf("%w: interval %q", market.ErrUnsupported, iv)
		}
		n := httpjson.Clamp(limit, maxKlines-1)
		// One extra row: the last one is the bar still open.
		q := url.Values{"symbol": {symbol(pair)}, "interval": {b}, "limit": {fmt.Sprint(n + 1)}}
		return c.get(ctx, httpjson.EndpointCandles, c.spot, "/api/v3/klines", q, httpjson.MaxBody, func(body []byte) (err error) {
			out, err = decodeKlines(body, iv.Duration(), c.hj.Now())
			out = httpjson.LastCandles(out, n)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("binance candles %s %s: %w", symbol(pair), iv, err)
	}
	return out, nil
}

func (c *Client) withPair(p market.Pair, f func() error) error {
	if err := httpjson.CheckPair(p); err != nil {
		return err
	}
	return f()
}
