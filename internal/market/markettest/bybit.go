package markettest

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// Bybit fakes api.bybit.com v5 market endpoints (spot and linear).
type Bybit struct {
	*Server
	v *bybit
}

// NewBybit starts a fake Bybit serving DefaultBook.
func NewBybit() *Bybit { return NewBybitBook(DefaultBook()) }

// NewBybitBook starts a fake Bybit serving b.
func NewBybitBook(b Book) *Bybit {
	var by *bybit
	s := newServer(b, func(b Book, s *Server) venue {
		by = &bybit{book: b, s: s, pageSize: 500}
		return by
	})
	return &Bybit{Server: s, v: by}
}

// SetPageSize caps instruments-info pages at n rows (Bybit: 500 by default,
// 1000 at most) so tests can exercise nextPageCursor paging.
func (b *Bybit) SetPageSize(n int) {
	b.mu.Lock()
	b.v.pageSize = max(n, 1)
	b.mu.Unlock()
}

type bybit struct {
	book     Book
	s        *Server // guards pageSize with s.mu
	pageSize int
}

var bybitIntervals = map[string]time.Duration{
	"1": time.Minute, "5": 5 * time.Minute, "15": 15 * time.Minute, "30": 30 * time.Minute,
	"60": time.Hour, "120": 2 * time.Hour, "240": 4 * time.Hour, "360": 6 * time.Hour,
	"720": 12 * time.Hour, "D": 24 * time.Hour,
}

var bybitOIIntervals = map[string]time.Duration{
	"5min": 5 * time.Minute, "15min": 15 * time.Minute, "30min": 30 * time.Minute,
	"1h": time.Hour, "4h": 4 * time.Hour, "1d": 24 * time.Hour,
}

// bybitEnvelope keeps Bybit's field order.
type bybitEnvelope struct {
	RetCode    int      `json:"retCode"`
	RetMsg     string   `json:"retMsg"`
	Result     any      `json:"result"`
	RetExtInfo struct{} `json:"retExtInfo"`
	Time       int64    `json:"time"`
}

func (v *bybit) envelope(code int, msg string, result any) bybitEnvelope {
	if result == nil {
		result = struct{}{}
	}
	return bybitEnvelope{RetCode: code, RetMsg: msg, Result: result, Time: ms(v.book.Now())}
}

func (v *bybit) errorBodies() errorBodies {
	return errorBodies{notFound: "404 page not found", server: v.envelope(10016, "Internal server error.", nil)}
}

func (*bybit) lastField() string { return "lastPrice" }

func (*bybit) rateLimited() (int, any) { return http.StatusForbidden, plain("access too frequent") }

func (v *bybit) routes() map[string]route {
	return map[string]route{
		"/v5/market/instruments-info": {httpjson.EndpointInstruments, v.instruments},
		"/v5/market/tickers":          {httpjson.EndpointTicker, v.tickers},
		"/v5/market/open-interest":    {httpjson.EndpointOIHistory, v.openInterest},
		"/v5/market/kline":            {httpjson.EndpointCandles, v.kline},
	}
}

// symbol is Bybit's spelling: BTCUSDT, and BTCPERP for USDC perpetuals.
func bybitSymbol(m Market, perp bool) string {
	if perp && m.Pair.Quote == "USDC" {
		return m.Pair.Base + "PERP"
	}
	return m.Pair.Base + m.Pair.Quote
}

func bybitCategory(perp bool) string {
	if perp {
		return "linear"
	}
	return "spot"
}

// category reads category=spot|linear.
func (v *bybit) category(r *http.Request) (perp bool, errBody any) {
	switch r.URL.Query().Get("category") {
	case "spot":
		return false, nil
	case "linear":
		return true, nil
	}
	return false, v.envelope(10001, "Illegal category", nil)
}

// market resolves category and symbol, or returns Bybit's error envelope.
func (v *bybit) market(r *http.Request) (Market, bool, any) {
	perp, eb := v.category(r)
	if eb != nil {
		return Market{}, false, eb
	}
	sym := r.URL.Query().Get("symbol")
	for _, m := range v.book.Markets {
		if bybitSymbol(m, perp) == sym {
			if mm, ok := v.book.find(m.Pair, perp); ok {
				return mm, perp, nil
			}
		}
	}
	return Market{}, false, v.envelope(10001, "Not supported symbols", nil)
}

func (v *bybit) instruments(r *http.Request) (int, any) {
	perp, eb := v.category(r)
	if eb != nil {
		return http.StatusOK, eb
	}
	q := r.URL.Query()
	cat := bybitCategory(perp)
	var all []map[string]any
	for _, m := range v.book.Markets {
		listed := (perp && m.Perp) || (!perp && m.Spot)
		// Bybit lists only Trading symbols unless a status is asked for.
		if !listed || (m.Halted && q.Get("status") == "") {
			continue
		}
		status := "Trading"
		if m.Halted {
			status = "Closed"
		}
		it := map[string]any{
			"symbol": bybitSymbol(m, perp), "status": status, "baseCoin": m.Pair.Base, "quoteCoin": m.Pair.Quote,
		}
		if perp {
			it["contractType"], it["settleCoin"] = "LinearPerpetual", m.Pair.Quote
			it["fundingInterval"] = int(m.FundingInterval.Minutes())
		} else {
			it["innovation"], it["marginTrading"] = "0", "both"
		}
		all = append(all, it)
	}
	// Spot answers in one page; linear pages with an opaque cursor.
	page, next := all, ""
	if perp {
		v.s.mu.Lock()
		size := v.pageSize
		v.s.mu.Unlock()
		n, ok := limit(r, 500, 1000)
		if !ok {
			return http.StatusOK, v.envelope(10001, "params error", nil)
		}
		size = min(size, n)
		from := 0
		if c := q.Get("cursor"); c != "" {
			raw, derr := base64.RawURLEncoding.DecodeString(c)
			var err error
			if from, err = strconv.Atoi(string(raw)); derr != nil || err != nil || from < 0 || from > len(all) {
				return http.StatusOK, v.envelope(10001, "params error: cursor", nil)
			}
		}
		to := min(from+size, len(all))
		page = all[from:to]
		if to < len(all) {
			next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to)))
		}
	}
	if page == nil {
		page = []map[string]any{}
	}
	return http.StatusOK, v.envelope(0, "OK", map[string]any{"category": cat, "list": page, "nextPageCursor": next})
}

// tickers answers one symbol's ticker or, without a symbol, every listed
// symbol's of the category (GET /v5/market/tickers?category=spot).
func (v *bybit) tickers(r *http.Request) (int, any) {
	if r.URL.Query().Get("symbol") == "" {
		perp, eb := v.category(r)
		if eb != nil {
			return http.StatusOK, eb
		}
		now := v.book.Now()
		list := []any{}
		for _, m := range v.book.Markets {
			if !m.Halted && ((perp && m.Perp) || (!perp && m.Spot)) {
				list = append(list, v.tickerRow(m, perp, now))
			}
		}
		return http.StatusOK, v.envelope(0, "OK", map[string]any{"category": bybitCategory(perp), "list": list})
	}
	m, perp, eb := v.market(r)
	if eb != nil {
		return http.StatusOK, eb
	}
	return http.StatusOK, v.envelope(0, "OK", map[string]any{"category": bybitCategory(perp), "list": []any{v.tickerRow(m, perp, v.book.Now())}})
}

// endpointOf counts a tickers request without a symbol as all_prices.
func (*bybit) endpointOf(r *http.Request, def string) string {
	if r.URL.Path == "/v5/market/tickers" && r.URL.Query().Get("symbol") == "" {
		return httpjson.EndpointAllPrices
	}
	return def
}

func (v *bybit) tickerRow(m Market, perp bool, now time.Time) map[string]any {
	t := map[string]any{
		"symbol": bybitSymbol(m, perp), "lastPrice": dec(m.Price), "prevPrice24h": dec(m.Open),
		"price24hPcnt": decN(m.changePct()/100, 4), "highPrice24h": dec(m.high()), "lowPrice24h": dec(m.low()),
		"volume24h": dec(m.BaseVolume), "turnover24h": decN(m.BaseVolume*m.Price, 4),
		"bid1Price": dec(m.Price), "bid1Size": "1", "ask1Price": dec(m.Price), "ask1Size": "1",
	}
	if perp {
		t["indexPrice"], t["markPrice"], t["prevPrice1h"] = dec(m.Price), dec(m.Price), dec(m.Price)
		t["openInterest"], t["openInterestValue"] = dec(m.OICoin), decN(m.OICoin*m.Price, 2)
		t["fundingRate"], t["nextFundingTime"] = dec(m.FundingRate), msStr(m.nextFunding(now))
		t["fundingIntervalHour"], t["fundingCap"] = strconv.Itoa(int(m.FundingInterval.Hours())), "0.005"
		t["predictedDeliveryPrice"], t["basisRate"], t["deliveryFeeRate"], t["deliveryTime"] = "", "", "", "0"
	} else {
		t["usdIndexPrice"] = dec(m.Price)
	}
	return t
}

func (v *bybit) openInterest(r *http.Request) (int, any) {
	m, perp, eb := v.market(r)
	if eb == nil && !perp {
		eb = v.envelope(10001, "Illegal category", nil)
	}
	if eb != nil {
		return http.StatusOK, eb
	}
	p, n, bad := window(r, "intervalTime", bybitOIIntervals, 50, 200)
	if bad != "" {
		return http.StatusOK, v.envelope(10001, "params error: "+bad, nil)
	}
	var list []map[string]any
	for _, pt := range m.oiHistory(v.book.Now(), p, n) { // newest first, as Bybit sends
		list = append(list, map[string]any{"openInterest": decN(pt.coin, 8), "timestamp": msStr(pt.t)})
	}
	return http.StatusOK, v.envelope(0, "OK", map[string]any{
		"symbol": bybitSymbol(m, true), "category": "linear", "list": list, "nextPageCursor": "",
	})
}

func (v *bybit) kline(r *http.Request) (int, any) {
	m, perp, eb := v.market(r)
	if eb != nil {
		return http.StatusOK, eb
	}
	iv, n, bad := window(r, "interval", bybitIntervals, 200, 1000)
	switch bad {
	case "interval":
		return http.StatusOK, v.envelope(10001, "Invalid period!", nil)
	case "limit":
		return http.StatusOK, v.envelope(10001, "params error: limit", nil)
	}
	var list [][]string
	for _, b := range m.bars(v.book.Now(), iv, n) { // newest first, as Bybit sends
		list = append(list, []string{msStr(b.open), dec(b.o), dec(b.h), dec(b.l), dec(b.c), decN(b.v, 6), decN(b.v*b.c, 4)})
	}
	return http.StatusOK, v.envelope(0, "OK", map[string]any{"symbol": bybitSymbol(m, perp), "category": bybitCategory(perp), "list": list})
}
