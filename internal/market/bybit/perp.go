package bybit

import (
	"context"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

var _ market.PerpTickerer = (*Client)(nil)

// PerpTicker returns the linear perpetual's 24 h ticker from
// /v5/market/tickers?category=linear&symbol= (the call OpenInterest and
// Funding read too): lastPrice, prevPrice24h, price24hPcnt (a fraction,
// made a percentage), the 24 h range, volume24h (base coin) and turnover24h
// (quote). An unknown symbol is retCode 10001 with HTTP 200.
func (c *Client) PerpTicker(ctx context.Context, pair market.Pair) (market.Ticker, error) {
	t, err := tickerAs(ctx, c, pair, "linear", tickerRow.ticker)
	if err != nil {
		return market.Ticker{}, c.hj.Wrap(err, "perp ticker %s", symbol(pair))
	}
	return t, nil
}
