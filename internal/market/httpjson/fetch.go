package httpjson

import (
	"cmp"
	"context"
	"fmt"
	"net/url"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Request is one GET of a venue endpoint.
type Request struct {
	Endpoint string     // the metric label: one of Endpoints()
	URL      string     // scheme, host and path, without a query
	Query    url.Values // nil or empty: no query string
	MaxBytes int64      // body cap; 0 means MaxBody
	// Err, when set, is why the venue cannot serve the request (see Param):
	// Fetch returns it, after FetchPair's pair check, without sending.
	Err error
}

func (r Request) rawURL() string {
	if len(r.Query) == 0 {
		return r.URL
	}
	return r.URL + "?" + r.Query.Encode()
}

// Fetch GETs req with c (statuses map to errors as in Client.Get) and decodes
// a 2xx body. On any failure it returns T's zero value, never a half-decoded one.
func Fetch[T any](ctx context.Context, c *Client, req Request, decode func(body []byte) (T, error)) (T, error) {
	var v T
	if req.Err != nil {
		return v, req.Err
	}
	err := c.Get(ctx, req.Endpoint, req.rawURL(), cmp.Or(req.MaxBytes, MaxBody), func(b []byte) (err error) {
		v, err = decode(b)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// FetchPair is Fetch for one pair's data: a pair no venue can list fails with
// market.ErrUnknownSymbol (see CheckPair) before anything is sent.
func FetchPair[T any](ctx context.Context, c *Client, pair market.Pair, req Request, decode func(body []byte) (T, error)) (T, error) {
	if err := CheckPair(pair); err != nil {
		var zero T
		return zero, err
	}
	return Fetch(ctx, c, req, decode)
}

// Param returns the venue's spelling of k (a period, an interval) from names,
// or market.ErrUnsupported naming what was asked, for Request.Err.
func Param[K comparable](names map[K]string, k K, what string) (string, error) {
	if v, ok := names[k]; ok {
		return v, nil
	}
	return "", fmt.Errorf("%w: %s %v", market.ErrUnsupported, what, k)
}

// Wrap prefixes err with the venue and what was asked ("binance ticker
// BTCUSDT: …"), the one wrap a venue client adds; nil stays nil.
func (c *Client) Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", c.cfg.Venue, fmt.Sprintf(format, args...), err)
}
