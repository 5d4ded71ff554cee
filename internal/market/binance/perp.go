package binance

import (
	"context"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

var _ market.PerpTickerer = (*Client)(nil)

// PerpTicker returns the USDⓈ-M perpetual's 24 h ticker: GET
// /fapi/v1/ticker/24hr?symbol= (weight 1), the spot ticker's shape without
// bid, ask and prevClosePrice; priceChangePercent is already a percentage,
// volume base coin, quoteVolume quote. Errors are fapi's {"code":-1121,…}
// with HTTP 400, mapped like spot's.
func (c *Client) PerpTicker(ctx context.Context, pair market.Pair) (market.Ticker, error) {
	req := httpjson.Request{Endpoint: httpjson.EndpointTicker, URL: c.futures + "/fapi/v1/ticker/24hr", Query: bySymbol(pair)}
	t, err := httpjson.FetchPair(ctx, c.hj, pair, req, func(b []byte) (market.Ticker, error) { return decodeTicker(b, pair) })
	return t, c.hj.Wrap(err, "perp ticker %s", symbol(pair))
}
