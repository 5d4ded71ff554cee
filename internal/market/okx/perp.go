package okx

import (
	"context"
	"net/url"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

var _ market.PerpTickerer = (*Client)(nil)

// PerpTicker returns the USDT swap's 24 h ticker: GET
// /api/v5/market/ticker?instId=BTC-USDT-SWAP. An unknown instrument is code
// 51001 with HTTP 200, as for every v5 call.
func (c *Client) PerpTicker(ctx context.Context, pair market.Pair) (market.Ticker, error) {
	req := c.request(httpjson.EndpointTicker, "/api/v5/market/ticker", url.Values{"instId": {swapID(pair)}})
	t, err := httpjson.FetchPair(ctx, c.hj, pair, req, inData(func(data []byte) (market.Ticker, error) { return decodeSwapTicker(data, pair) }))
	return t, c.hj.Wrap(err, "perp ticker %s", swapID(pair))
}
