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

// decodeSwapTicker reads a SWAP ticker. Its units differ from SPOT's:
// vol24h counts contracts and volCcy24h is base coin, so BaseVolume is
// volCcy24h and QuoteVolume, which OKX does not report for swaps, is
// volCcy24h × last (approximate: the day's trades were not all at last).
func decodeSwapTicker(data []byte, pair market.Pair) (market.Ticker, error) {
	r, err := first[ticker](data)
	if err != nil {
		return market.Ticker{}, err
	}
	var f httpjson.Fields
	t := market.Ticker{
		Pair:       pair,
		Venue:      venue,
		Last:       f.Float("last", r.Last),
		Open:       f.Float("open24h", r.Open24h),
		High:       f.Float("high24h", r.High24h),
		Low:        f.Float("low24h", r.Low24h),
		BaseVolume: f.Float("volCcy24h", r.VolCcy24h),
		Time:       f.Time("ts", r.TS),
	}
	t.QuoteVolume = t.BaseVolume * t.Last
	if t.Open != 0 {
		t.ChangePct = (t.Last - t.Open) / t.Open * 100
	}
	return t, f.Err()
}
