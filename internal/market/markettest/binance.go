package markettest

import (
	"net/http"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// Binance fakes api.binance.com (spot) and fapi.binance.com (USDⓈ-M futures)
// on one server: point both base URLs of a client at URL().
type Binance struct {
	*Server
}

// NewBinance starts a fake Binance serving DefaultBook.
func NewBinance() *Binance { return NewBinanceBook(DefaultBook()) }

// NewBinanceBook starts a fake Binance serving b.
func NewBinanceBook(b Book) *Binance {
	return &Binance{newServer(b, func(b Book, _ *Server) venue { return binance{b} })}
}

type binance struct{ book Book }

// binanceError is Binance's error body.
type binanceError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

func binanceErr(code int, msg string) binanceError { return binanceError{code, msg} }

var binanceIntervals = map[string]time.Duration{
	"1m": time.Minute, "5m": 5 * time.Minute, "15m": 15 * time.Minute, "30m": 30 * time.Minute,
	"1h": time.Hour, "2h": 2 * time.Hour, "4h": 4 * time.Hour, "6h": 6 * time.Hour,
	"12h": 12 * time.Hour, "1d": 24 * time.Hour,
}

func (binance) errorBodies() errorBodies {
	return errorBodies{
		notFound: "<html><body><h2>404 Not found</h2></body></html>",
		server:   binanceErr(-1001, "Internal error; unable to process your request. Please try again."),
		other:    binanceErr(-1000, "An unknown error occurred while processing the request."),
	}
}

func (binance) lastField() string { return "lastPrice" }

func (binance) rateLimited() (int, any) {
	return http.StatusTooManyRequests, binanceErr(-1003, "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. Please use WebSocket Streams for live updates to avoid polling the API.")
}

func (v binance) routes() map[string]route {
	return map[string]route{
		"/api/v3/exchangeInfo":           {httpjson.EndpointInstruments, func(r *http.Request) (int, any) { return v.exchangeInfo(r, false) }},
		"/fapi/v1/exchangeInfo":          {httpjson.EndpointInstruments, func(r *http.Request) (int, any) { return v.exchangeInfo(r, true) }},
		"/api/v3/ticker/24hr":            {httpjson.EndpointTicker, v.ticker},
		"/fapi/v1/ticker/24hr":           {httpjson.EndpointTicker, v.perpTicker},
		"/api/v3/ticker/price":           {httpjson.EndpointAllPrices, v.tickerPrice},
		"/api/v3/klines":                 {httpjson.EndpointCandles, v.klines},
		"/fapi/v1/premiumIndex":          {httpjson.EndpointFunding, v.premiumIndex},
		"/fapi/v1/fundingInfo":           {httpjson.EndpointFundingInfo, v.fundingInfo},
		"/fapi/v1/openInterest":          {httpjson.EndpointOpenInterest, v.openInterest},
		"/futures/data/openInterestHist": {httpjson.EndpointOIHistory, v.openInterestHist},
	}
}

// market finds the symbol parameter, or answers Binance's error.
func (v binance) market(r *http.Request, perp bool) (Market, int, any) {
	sym := r.URL.Query().Get("symbol")
	if sym == "" {
		return Market{}, http.StatusBadRequest, binanceErr(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
	}
	for _, m := range v.book.Markets {
		if m.Pair.Base+m.Pair.Quote == sym {
			if mm, ok := v.book.find(m.Pair, perp); ok {
				return mm, 0, nil
			}
		}
	}
	return Market{}, http.StatusBadRequest, binanceErr(-1121, "Invalid symbol.")
}

// exchangeInfo honours spot's symbolStatus filter; fapi has none.
func (v binance) exchangeInfo(r *http.Request, perp bool) (int, any) {
	want := r.URL.Query().Get("symbolStatus")
	var syms []map[string]any
	for _, m := range v.book.Markets {
		if (perp && !m.Perp) || (!perp && !m.Spot) {
			continue
		}
		status := "TRADING"
		if m.Halted {
			status = "BREAK"
		}
		if !perp && want != "" && status != want {
			continue
		}
		s := map[string]any{
			"symbol": m.Pair.Base + m.Pair.Quote, "status": status,
			"baseAsset": m.Pair.Base, "quoteAsset": m.Pair.Quote,
			"baseAssetPrecision": 8, "quotePrecision": 8,
		}
		if perp {
			s["pair"], s["contractType"], s["marginAsset"] = s["symbol"], "PERPETUAL", m.Pair.Quote
			// A delivery contract on the same pair, which is not a perpetual.
			syms = append(syms, map[string]any{
				"symbol": m.Pair.Base + m.Pair.Quote + "_260327", "pair": s["symbol"], "status": "TRADING",
				"contractType": "CURRENT_QUARTER", "baseAsset": m.Pair.Base, "quoteAsset": m.Pair.Quote, "marginAsset": m.Pair.Quote,
			})
		}
		syms = append(syms, s)
	}
	return http.StatusOK, map[string]any{
		"timezone": "UTC", "serverTime": ms(v.book.Now()), "rateLimits": []any{}, "exchangeFilters": []any{}, "symbols": syms,
	}
}

func (v binance) ticker(r *http.Request) (int, any) {
	m, st, body := v.market(r, false)
	if body != nil {
		return st, body
	}
	return http.StatusOK, v.ticker24h(m)
}

// perpTicker is GET /fapi/v1/ticker/24hr?symbol=: the spot shape without
// bid, ask and prevClosePrice, and -1121 for a symbol with no perpetual.
func (v binance) perpTicker(r *http.Request) (int, any) {
	m, st, body := v.market(r, true)
	if body != nil {
		return st, body
	}
	t := v.ticker24h(m)
	delete(t, "bidPrice")
	delete(t, "askPrice")
	delete(t, "prevClosePrice")
	return http.StatusOK, t
}

func (v binance) ticker24h(m Market) map[string]any {
	now := v.book.Now()
	return map[string]any{
		"symbol":             m.Pair.Base + m.Pair.Quote,
		"priceChange":        decN(m.Price-m.Open, 8),
		"priceChangePercent": decN(m.changePct(), 3),
		"weightedAvgPrice":   decN((m.Price+m.Open)/2, 8),
		"prevClosePrice":     decN(m.Open, 8),
		"lastPrice":          decN(m.Price, 8),
		"lastQty":            "0.00100000",
		"bidPrice":           decN(m.Price, 8),
		"askPrice":           decN(m.Price, 8),
		"openPrice":          decN(m.Open, 8),
		"highPrice":          decN(m.high(), 8),
		"lowPrice":           decN(m.low(), 8),
		"volume":             decN(m.BaseVolume, 8),
		"quoteVolume":        decN(m.BaseVolume*m.Price, 8),
		"openTime":           ms(now.Add(-24 * time.Hour)),
		"closeTime":          ms(now),
		"firstId":            1, "lastId": 1000, "count": 1000,
	}
}

func (v binance) klines(r *http.Request) (int, any) {
	m, st, body := v.market(r, false)
	if body != nil {
		return st, body
	}
	iv, n, bad := window(r, "interval", binanceIntervals, 500, 1000)
	switch bad {
	case "interval":
		return http.StatusBadRequest, binanceErr(-1120, "Invalid interval.")
	case "limit":
		return http.StatusBadRequest, binanceErr(-1100, "Illegal characters found in parameter 'limit'.")
	}
	bars := m.bars(v.book.Now(), iv, n)
	rows := make([][]any, 0, n)
	for j := len(bars) - 1; j >= 0; j-- { // oldest first
		b := bars[j]
		rows = append(rows, []any{
			ms(b.open), decN(b.o, 8), decN(b.h, 8), decN(b.l, 8), decN(b.c, 8), decN(b.v, 8),
			ms(b.open.Add(iv)) - 1, decN(b.v*b.c, 8), 100 + j, decN(b.v/2, 8), decN(b.v*b.c/2, 8), "0",
		})
	}
	return http.StatusOK, rows
}

func (v binance) premiumIndex(r *http.Request) (int, any) {
	m, st, body := v.market(r, true)
	if body != nil {
		return st, body
	}
	now := v.book.Now()
	return http.StatusOK, map[string]any{
		"symbol": m.Pair.Base + m.Pair.Quote, "markPrice": decN(m.Price, 8), "indexPrice": decN(m.Price, 8),
		"estimatedSettlePrice": decN(m.Price, 8), "lastFundingRate": decN(m.FundingRate, 8),
		"interestRate": "0.00010000", "nextFundingTime": ms(m.nextFunding(now)), "time": ms(now),
	}
}

// fundingInfo lists only symbols with an adjusted interval, as Binance does.
func (v binance) fundingInfo(*http.Request) (int, any) {
	out := []map[string]any{}
	for _, m := range v.book.Markets {
		if m.Perp && m.FundingInterval != 8*time.Hour {
			out = append(out, map[string]any{
				"symbol": m.Pair.Base + m.Pair.Quote, "adjustedFundingRateCap": "0.02000000",
				"adjustedFundingRateFloor": "-0.02000000", "fundingIntervalHours": int(m.FundingInterval.Hours()),
				"disclaimer": false,
			})
		}
	}
	return http.StatusOK, out
}

func (v binance) openInterest(r *http.Request) (int, any) {
	m, st, body := v.market(r, true)
	if body != nil {
		return st, body
	}
	return http.StatusOK, map[string]any{
		"symbol": m.Pair.Base + m.Pair.Quote, "openInterest": decN(m.OICoin, 3), "time": ms(v.book.Now()),
	}
}

func (v binance) openInterestHist(r *http.Request) (int, any) {
	m, st, body := v.market(r, true)
	if body != nil {
		return st, body
	}
	p, n, bad := window(r, "period", binanceIntervals, 30, 500)
	if bad != "" || p < 5*time.Minute {
		return http.StatusBadRequest, binanceErr(-1130, "Invalid data sent for a parameter.")
	}
	pts := m.oiHistory(v.book.Now(), p, n)
	rows := make([]map[string]any, 0, n)
	for j := len(pts) - 1; j >= 0; j-- { // ascending
		rows = append(rows, map[string]any{
			"symbol": m.Pair.Base + m.Pair.Quote, "sumOpenInterest": decN(pts[j].coin, 8),
			"sumOpenInterestValue": decN(pts[j].usd, 8), "timestamp": ms(pts[j].t),
		})
	}
	return http.StatusOK, rows
}

// tickerPrice is GET /api/v3/ticker/price: with a symbol, that symbol's
// {"symbol","price"}; without, every spot symbol's, halted ones included
// (Binance lists BREAK symbols too, with their last price).
func (v binance) tickerPrice(r *http.Request) (int, any) {
	row := func(m Market) map[string]any {
		return map[string]any{"symbol": m.Pair.Base + m.Pair.Quote, "price": decN(m.Price, 8)}
	}
	if r.URL.Query().Has("symbol") {
		m, st, body := v.market(r, false)
		if body != nil {
			return st, body
		}
		return http.StatusOK, row(m)
	}
	rows := []map[string]any{}
	for _, m := range v.book.Markets {
		if m.Spot {
			rows = append(rows, row(m))
		}
	}
	return http.StatusOK, rows
}
