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
	venue = market.Binance
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

	symbols httpjson.Symbols // spot symbol → pair, for AllPrices
}

var (
	_ market.Exchange    = (*Client)(nil)
	_ market.PriceLister = (*Client)(nil)
)

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

// bySymbol is the query of every endpoint that takes one symbol.
func bySymbol(p market.Pair) url.Values { return url.Values{"symbol": {symbol(p)}} }

// Instruments lists TRADING spot symbols, or USDT-margined perpetuals.
func (c *Client) Instruments(ctx context.Context, kind market.Kind) ([]market.Instrument, error) {
	req := httpjson.Request{Endpoint: httpjson.EndpointInstruments, URL: c.spot + "/api/v3/exchangeInfo", MaxBytes: httpjson.MaxInstrumentsBody}
	switch kind {
	case market.Spot:
		// The full spot list runs to megabytes; these official filters trim it.
		req.Query = url.Values{"symbolStatus": {"TRADING"}, "showPermissionSets": {"false"}}
	case market.Perp:
		req.URL = c.futures + "/fapi/v1/exchangeInfo"
	default:
		return nil, c.hj.Wrap(market.ErrUnsupported, "instruments %q", kind)
	}
	out, err := httpjson.Fetch(ctx, c.hj, req, func(b []byte) ([]market.Instrument, error) { return decodeInstruments(b, kind) })
	if err == nil && kind == market.Spot {
		c.symbols.Set(out, c.hj.Now())
	}
	return out, c.hj.Wrap(err, "instruments %s", kind)
}

// AllPrices returns the last price of every TRADING spot pair in one request:
// GET /api/v3/ticker/price without a symbol (weight 4; ticker/24hr without a
// symbol costs 80). Symbols map back to pairs through the last spot
// instrument list (loaded first if there is none or it is over
// httpjson.SymbolsMaxAge old); rows of other symbols, delisted ones among
// them, are left out. The endpoint sends no timestamp: At is the arrival.
func (c *Client) AllPrices(ctx context.Context) ([]market.Price, error) {
	req := httpjson.Request{Endpoint: httpjson.EndpointAllPrices, URL: c.spot + "/api/v3/ticker/price", MaxBytes: httpjson.MaxPricesBody}
	return c.symbols.Prices(ctx, c.hj, req, c.Instruments, decodePrices)
}

// Ticker returns the spot 24 h ticker.
func (c *Client) Ticker(ctx context.Context, pair market.Pair) (market.Ticker, error) {
	req := httpjson.Request{Endpoint: httpjson.EndpointTicker, URL: c.spot + "/api/v3/ticker/24hr", Query: bySymbol(pair)}
	t, err := httpjson.FetchPair(ctx, c.hj, pair, req, func(b []byte) (market.Ticker, error) { return decodeTicker(b, pair) })
	return t, c.hj.Wrap(err, "ticker %s", symbol(pair))
}

// OpenInterest returns the perpetual's open interest in coin, and in USD at
// the current mark price (the endpoint reports coin only).
func (c *Client) OpenInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error) {
	oi, err := c.openInterest(ctx, pair)
	return oi, c.hj.Wrap(err, "open interest %s", symbol(pair))
}

func (c *Client) openInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error) {
	req := httpjson.Request{Endpoint: httpjson.EndpointOpenInterest, URL: c.futures + "/fapi/v1/openInterest", Query: bySymbol(pair)}
	oi, err := httpjson.FetchPair(ctx, c.hj, pair, req, func(b []byte) (market.OpenInterest, error) { return decodeOpenInterest(b, pair) })
	if err != nil {
		return market.OpenInterest{}, err
	}
	p, err := c.premiumIndex(ctx, pair)
	if err != nil {
		return market.OpenInterest{}, err
	}
	oi.USD = oi.Coin * p.Mark
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
	p, err := httpjson.Param(oiPeriods, period, "period")
	q := url.Values{"symbol": {symbol(pair)}, "period": {p}, "limit": {fmt.Sprint(httpjson.Clamp(limit, maxOIHistory))}}
	req := httpjson.Request{Endpoint: httpjson.EndpointOIHistory, URL: c.futures + "/futures/data/openInterestHist", Query: q, Err: err}
	out, err := httpjson.FetchPair(ctx, c.hj, pair, req, decodeOIHistory)
	return out, c.hj.Wrap(err, "oi history %s", symbol(pair))
}

// Funding returns the rate for the period in progress (lastFundingRate), the
// next settlement, mark and index, and the interval from fundingInfo (8 h
// for symbols it does not list).
func (c *Client) Funding(ctx context.Context, pair market.Pair) (market.Funding, error) {
	f, err := c.premiumIndex(ctx, pair)
	if err == nil {
		f.Interval, err = c.fundingInterval(ctx, symbol(pair))
	}
	if err != nil {
		return market.Funding{}, c.hj.Wrap(err, "funding %s", symbol(pair))
	}
	return f, nil
}

func (c *Client) premiumIndex(ctx context.Context, pair market.Pair) (market.Funding, error) {
	req := httpjson.Request{Endpoint: httpjson.EndpointFunding, URL: c.futures + "/fapi/v1/premiumIndex", Query: bySymbol(pair)}
	return httpjson.FetchPair(ctx, c.hj, pair, req, func(b []byte) (market.Funding, error) { return decodePremiumIndex(b, pair) })
}

// fundingInterval reads the symbol's interval from a cached fundingInfo.
func (c *Client) fundingInterval(ctx context.Context, sym string) (time.Duration, error) {
	now := c.hj.Now()
	c.mu.Lock()
	iv, fresh := c.intervals, c.intervals != nil && now.Sub(c.intervalsAt) < fundingInfoTTL
	c.mu.Unlock()
	if !fresh {
		var err error
		iv, err = httpjson.Fetch(ctx, c.hj, httpjson.Request{Endpoint: httpjson.EndpointFundingInfo, URL: c.futures + "/fapi/v1/fundingInfo"}, decodeFundingInfo)
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
var klineIntervals = map[market.Interval]string{market.M1: "1m", market.M15: "15m", market.H1: "1h", market.H4: "4h", market.D1: "1d"}

// Candles returns up to limit (clamped to 1–999) closed spot bars, ascending.
func (c *Client) Candles(ctx context.Context, pair market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	b, err := httpjson.Param(klineIntervals, iv, "interval")
	n := httpjson.Clamp(limit, maxKlines-1)
	// One extra row: the last one is the bar still open.
	q := url.Values{"symbol": {symbol(pair)}, "interval": {b}, "limit": {fmt.Sprint(n + 1)}}
	req := httpjson.Request{Endpoint: httpjson.EndpointCandles, URL: c.spot + "/api/v3/klines", Query: q, Err: err}
	out, err := httpjson.FetchPair(ctx, c.hj, pair, req, func(body []byte) ([]market.Candle, error) {
		out, err := decodeKlines(body, iv.Duration(), c.hj.Now())
		return httpjson.LastCandles(out, n), err
	})
	return out, c.hj.Wrap(err, "candles %s %s", symbol(pair), iv)
}
