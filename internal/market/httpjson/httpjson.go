// Package httpjson is the HTTP and JSON layer the venue clients share: one GET
// with a context, a capped body, status and Retry-After handling, metrics by
// venue, endpoint and outcome, and strict parsers for the numbers and
// timestamps venues send as strings.
package httpjson

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// Body caps: instrument lists are large, everything else is small. The
// batched price lists run to a few hundred KB (Binance ticker/price about
// 3,000 rows of 50 bytes, Bybit and OKX spot tickers about 700 rows of 400);
// MaxPricesBody leaves room for ten times that.
const (
	MaxBody            int64 = 1 << 20
	MaxInstrumentsBody int64 = 8 << 20
	MaxPricesBody      int64 = 4 << 20
)

// DefaultTimeout is the http.Client backstop; callers' contexts are tighter.
const DefaultTimeout = 5 * time.Second

// Endpoint labels: short fixed names, never URLs.
const (
	EndpointInstruments  = "instruments"
	EndpointTicker       = "ticker"
	EndpointOpenInterest = "open_interest"
	EndpointOIHistory    = "oi_history"
	EndpointFunding      = "funding"
	EndpointFundingInfo  = "funding_info"
	EndpointCandles      = "candles"
	EndpointAllPrices    = "all_prices" // one request for every spot pair's last price
)

// Endpoints returns every endpoint label Get can record, for metrics to
// initialise: the label set of exchange_requests_total's endpoint. Only
// Binance records EndpointFundingInfo.
func Endpoints() []string {
	return []string{
		EndpointInstruments, EndpointTicker, EndpointOpenInterest, EndpointOIHistory,
		EndpointFunding, EndpointFundingInfo, EndpointCandles, EndpointAllPrices,
	}
}

// Outcomes returns every outcome label Get can record (see Outcome): the
// label set of exchange_requests_total's outcome.
func Outcomes() []string {
	return []string{OutcomeOK, OutcomeUnknownSymbol, OutcomeRateLimited, OutcomeUnavailable, OutcomeBadResponse}
}

// Outcome labels of the exchange request counter.
const (
	OutcomeOK            = metrics.OutcomeOK
	OutcomeUnknownSymbol = "unknown_symbol"
	OutcomeRateLimited   = "rate_limited"
	OutcomeUnavailable   = "unavailable"
	OutcomeBadResponse   = "bad_response"
)

// Config configures a Client.
type Config struct {
	Venue   string
	HTTP    *http.Client     // nil: NewHTTPClient()
	Metrics *metrics.Metrics // nil: no metrics
	Now     func() time.Time // nil: time.Now
	// StatusError maps a non-2xx response other than 429, 418 and 5xx to a
	// market error; nil, or a nil result, means ErrBadResponse. Like Get's
	// decode, it must not keep body after it returns.
	StatusError func(status int, h http.Header, body []byte) error
}

// Client sends GET requests for one venue.
type Client struct {
	cfg Config
	// bodies holds response buffers between requests: a klines reply is
	// tens of KiB, and reading each into a fresh slice grown by doubling was
	// an eighth of the bytes the bot allocated at 200 updates/s.
	bodies sync.Pool
}

// NewHTTPClient returns the default client: its own transport settings via
// http.DefaultTransport, and a Timeout backstop (never http.DefaultClient).
func NewHTTPClient() *http.Client {
	return &http.Client{Timeout: DefaultTimeout}
}

// New returns a Client with defaults filled in.
func New(cfg Config) *Client {
	if cfg.HTTP == nil {
		cfg.HTTP = NewHTTPClient()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg}
}

// Now returns the client's clock reading.
func (c *Client) Now() time.Time { return c.cfg.Now() }

// Get fetches rawURL and hands a 2xx body of at most maxBytes to decode.
// 429 and 418 become *market.RateLimitError, 5xx and transport failures
// (timeouts included) market.ErrUnavailable, and other statuses go through
// Config.StatusError. Every call is counted under endpoint with its outcome.
// body is reused once decode returns: decode copies what it keeps (as
// encoding/json does, json.RawMessage included).
func (c *Client) Get(ctx context.Context, endpoint, rawURL string, maxBytes int64, decode func(body []byte) error) error {
	start := time.Now()
	err := c.get(ctx, rawURL, maxBytes, decode)
	if m := c.cfg.Metrics; m != nil {
		m.ExchangeRequests.WithLabelValues(c.cfg.Venue, endpoint, Outcome(err)).Inc()
		m.ExchangeDuration.WithLabelValues(c.cfg.Venue, endpoint).Observe(time.Since(start).Seconds())
	}
	return err
}

func (c *Client) get(ctx context.Context, rawURL string, maxBytes int64, decode func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", market.ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", market.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	buf := c.body()
	defer c.putBody(buf)
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBytes+1)); err != nil {
		return fmt.Errorf("%w: reading body: %w", market.ErrUnavailable, err)
	}
	body := buf.Bytes()
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s == http.StatusTeapot:
		return c.RateLimit(resp.Header)
	case s >= 500:
		return fmt.Errorf("%w: http %d", market.ErrUnavailable, s)
	case s < 200 || s > 299:
		if c.cfg.StatusError != nil {
			if err := c.cfg.StatusError(s, resp.Header, body); err != nil {
				return err
			}
		}
		return fmt.Errorf("%w: http %d", market.ErrBadResponse, s)
	}
	if int64(len(body)) > maxBytes {
		return fmt.Errorf("%w: body larger than %d bytes", market.ErrBadResponse, maxBytes)
	}
	return decode(body)
}

// maxPooledBody is the largest response buffer the pool keeps: a rare
// near-maxBytes reply is left to the GC rather than held by every client.
const maxPooledBody = 256 << 10

// body returns a buffer from the pool; putBody gives it back unless it grew
// past maxPooledBody.
func (c *Client) body() *bytes.Buffer {
	if b, ok := c.bodies.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (c *Client) putBody(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBody {
		b.Reset()
		c.bodies.Put(b)
	}
}

// RateLimit builds the venue's rate-limit error from a Retry-After header
// (seconds or an HTTP date); a missing or unreadable header gives zero.
func (c *Client) RateLimit(h http.Header) *market.RateLimitError {
	return &market.RateLimitError{Venue: c.cfg.Venue, RetryAfter: RetryAfter(h, c.cfg.Now())}
}

// RetryAfter reads a Retry-After header relative to now; never negative.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// Outcome maps an error from Get, or from a decoder, to its metric label.
func Outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, market.ErrUnknownSymbol):
		return OutcomeUnknownSymbol
	case errors.Is(err, market.ErrRateLimited):
		return OutcomeRateLimited
	case errors.Is(err, market.ErrBadResponse):
		return OutcomeBadResponse
	}
	return OutcomeUnavailable
}
