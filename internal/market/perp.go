package market

import (
	"context"
	"fmt"
)

// PerpTickerer is the perpetual 24 h ticker a venue client may offer beside
// Exchange: the USDT-margined linear perpetual's last price, 24 h open, range,
// change and volumes (Binance GET /fapi/v1/ticker/24hr, Bybit
// /v5/market/tickers?category=linear, OKX /api/v5/market/ticker for the
// -SWAP instrument). Volumes are in base coin and quote currency, as for
// spot; a venue that reports contracts converts them.
type PerpTickerer interface {
	PerpTicker(ctx context.Context, pair Pair) (Ticker, error)
}

// PerpTicker returns the linear perpetual's 24 h ticker from the first venue
// that lists the perpetual and answers plausibly: the same cache,
// singleflight, failover, cool-down and plausibility checks as Ticker, but
// against the perpetual instrument lists and with the cross-venue check
// against other venues' perpetual prices only. A venue whose client has no
// perpetual ticker is skipped (ErrUnsupported) without counting against its
// health.
func (m *Market) PerpTicker(ctx context.Context, pair Pair) (Ticker, error) {
	return m.all.PerpTicker(ctx, pair)
}

// PerpTicker is Market.PerpTicker for this view.
func (v view) PerpTicker(ctx context.Context, pair Pair) (Ticker, error) {
	e := v.get(ctx, key{op: opPerpTicker, pair: pair})
	t, _ := e.val.(Ticker)
	return t, e.err
}

// perpTicker is the venue request of opPerpTicker.
func perpTicker(ctx context.Context, ex Exchange, pair Pair) (Ticker, error) {
	pt, ok := ex.(PerpTickerer)
	if !ok {
		return Ticker{}, fmt.Errorf("%s perp ticker %s: no perpetual ticker: %w", ex.Name(), pair, ErrUnsupported)
	}
	return pt.PerpTicker(ctx, pair)
}
