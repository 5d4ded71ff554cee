package markettest

import (
	"net/http"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// OKX fakes www.okx.com v5 public and market endpoints (SPOT and SWAP).
type OKX struct {
	*Server
}

// NewOKX starts a fake OKX serving DefaultBook.
func NewOKX() *OKX { return NewOKXBook(DefaultBook()) }

// NewOKXBook starts a fake OKX serving b.
func NewOKXBook(b Book) *OKX {
	return &OKX{newServer(b, func(b Book, _ *Server) venue { return okx{b} })}
}

type okx struct{ book Book }

// okxEnvelope keeps OKX's field order.
type okxEnvelope struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data"`
}

func okxEnv(code, msg string, data any) okxEnvelope {
	if data == nil {
		data = []any{}
	}
	return okxEnvelope{Code: code, Msg: msg, Data: data}
}

var okxBars = map[string]time.Duration{
	"1m": time.Minute, "5m": 5 * time.Minute, "15m": 15 * time.Minute, "30m": 30 * time.Minute,
	"1H": time.Hour, "2H": 2 * time.Hour, "4H": 4 * time.Hour, "6Hutc": 6 * time.Hour,
	"12Hutc": 12 * time.Hour, "1Dutc": 24 * time.Hour,
}

var okxPeriods = map[string]time.Duration{
	"5m": 5 * time.Minute, "15m": 15 * time.Minute, "30m": 30 * time.Minute, "1H": time.Hour,
	"2H": 2 * time.Hour, "4H": 4 * time.Hour, "6H": 6 * time.Hour, "12H": 12 * time.Hour, "1D": 24 * time.Hour,
}

func (okx) errorBodies() errorBodies {
	return errorBodies{
		notFound: "<html><body>404 Not Found</body></html>",
		server:   okxEnv("50001", "Service temporarily unavailable. Please try again later.", nil),
		other:    okxEnv("51000", "Parameter error", nil),
	}
}

func (okx) lastField() string { return "last" }

func (okx) rateLimited() (int, any) {
	return http.StatusTooManyRequests, okxEnv("50011", "Too Many Requests", nil)
}

func (v okx) routes() map[string]route {
	return map[string]route{
		"/api/v5/public/instruments":                         {httpjson.EndpointInstruments, v.instruments},
		"/api/v5/market/ticker":                              {httpjson.EndpointTicker, v.ticker},
		"/api/v5/market/tickers":                             {httpjson.EndpointAllPrices, v.tickers},
		"/api/v5/public/open-interest":                       {httpjson.EndpointOpenInterest, v.openInterest},
		"/api/v5/rubik/stat/contracts/open-interest-history": {httpjson.EndpointOIHistory, v.oiHistory},
		"/api/v5/public/funding-rate":                        {httpjson.EndpointFunding, v.fundingRate},
		"/api/v5/market/candles":                             {httpjson.EndpointCandles, v.candles},
	}
}

func okxID(m Market, swap bool) string {
	if swap {
		return m.Pair.Base + "-" + m.Pair.Quote + "-SWAP"
	}
	return m.Pair.Base + "-" + m.Pair.Quote
}

// market resolves instId (spot or -SWAP), or returns OKX's error envelope.
func (v okx) market(r *http.Request) (Market, bool, int, any) {
	id := r.URL.Query().Get("instId")
	if id == "" {
		return Market{}, false, http.StatusBadRequest, okxEnv("50014", "Parameter instId can not be empty.", nil)
	}
	swap := strings.HasSuffix(id, "-SWAP")
	for _, m := range v.book.Markets {
		if okxID(m, swap) == id {
			if mm, ok := v.book.find(m.Pair, swap); ok {
				return mm, swap, 0, nil
			}
		}
	}
	return Market{}, false, http.StatusOK, okxEnv("51001", "Instrument ID does not exist", nil)
}

func (v okx) swap(r *http.Request) (Market, int, any) {
	m, swap, st, eb := v.market(r)
	if eb == nil && !swap {
		return Market{}, http.StatusOK, okxEnv("51001", "Instrument ID does not exist", nil)
	}
	return m, st, eb
}

// instType reads instType=SPOT|SWAP, or returns OKX's error envelope.
func (okx) instType(r *http.Request) (swap bool, errBody any) {
	switch r.URL.Query().Get("instType") {
	case "SPOT":
		return false, nil
	case "SWAP":
		return true, nil
	}
	return false, okxEnv("51000", "Parameter instType error", nil)
}

func (v okx) instruments(r *http.Request) (int, any) {
	swap, eb := v.instType(r)
	if eb != nil {
		return http.StatusBadRequest, eb
	}
	want := r.URL.Query().Get("instId")
	data := []map[string]any{}
	for _, m := range v.book.Markets {
		if (swap && !m.Perp) || (!swap && !m.Spot) || (want != "" && okxID(m, swap) != want) {
			continue
		}
		state := "live"
		if m.Halted {
			state = "suspend"
		}
		it := map[string]any{
			"instType": map[bool]string{false: "SPOT", true: "SWAP"}[swap], "instId": okxID(m, swap), "state": state,
			"baseCcy": "", "quoteCcy": "", "settleCcy": "", "ctVal": "", "ctValCcy": "", "ctType": "", "uly": "", "instFamily": "",
			"tickSz": "0.1", "lotSz": "1", "minSz": "1", "listTime": "1606468572000",
		}
		if swap {
			it["ctVal"], it["ctValCcy"], it["ctType"] = dec(m.CtVal), m.Pair.Base, "linear"
			it["settleCcy"], it["uly"], it["instFamily"] = m.Pair.Quote, okxID(m, false), okxID(m, false)
		} else {
			it["baseCcy"], it["quoteCcy"] = m.Pair.Base, m.Pair.Quote
		}
		data = append(data, it)
	}
	if want != "" && len(data) == 0 {
		return http.StatusOK, okxEnv("51001", "Instrument ID does not exist", nil)
	}
	return http.StatusOK, okxEnv("0", "", data)
}

func (v okx) ticker(r *http.Request) (int, any) {
	m, swap, st, eb := v.market(r)
	if eb != nil {
		return st, eb
	}
	return http.StatusOK, okxEnv("0", "", []map[string]any{v.tickerRow(m, swap, v.book.Now())})
}

// tickers is GET /api/v5/market/tickers?instType=SPOT|SWAP: every live
// instrument's ticker of the type.
func (v okx) tickers(r *http.Request) (int, any) {
	swap, eb := v.instType(r)
	if eb != nil {
		return http.StatusBadRequest, eb
	}
	now := v.book.Now()
	rows := []map[string]any{}
	for _, m := range v.book.Markets {
		if !m.Halted && ((swap && m.Perp) || (!swap && m.Spot)) {
			rows = append(rows, v.tickerRow(m, swap, now))
		}
	}
	return http.StatusOK, okxEnv("0", "", rows)
}

func (v okx) tickerRow(m Market, swap bool, now time.Time) map[string]any {
	vol, volCcy := m.BaseVolume, m.BaseVolume*m.Price // SPOT: base, quote
	typ := "SPOT"
	if swap {
		vol, volCcy, typ = m.BaseVolume/m.CtVal, m.BaseVolume, "SWAP" // SWAP: contracts, base
	}
	return map[string]any{
		"instType": typ, "instId": okxID(m, swap), "last": dec(m.Price), "lastSz": "0.1",
		"askPx": dec(m.Price), "askSz": "1", "bidPx": dec(m.Price), "bidSz": "1",
		"open24h": dec(m.Open), "high24h": dec(m.high()), "low24h": dec(m.low()),
		"volCcy24h": decN(volCcy, 4), "vol24h": decN(vol, 4),
		"sodUtc0": dec(m.Open), "sodUtc8": dec(m.Open), "ts": msStr(now),
	}
}

func (v okx) openInterest(r *http.Request) (int, any) {
	if r.URL.Query().Get("instType") != "SWAP" {
		return http.StatusBadRequest, okxEnv("51000", "Parameter instType error", nil)
	}
	m, st, eb := v.swap(r)
	if eb != nil {
		return st, eb
	}
	return http.StatusOK, okxEnv("0", "", []map[string]any{{
		"instType": "SWAP", "instId": okxID(m, true), "oi": dec(m.OICoin / m.CtVal), "oiCcy": dec(m.OICoin),
		"oiUsd": decN(m.OICoin*m.Price, 4), "ts": msStr(v.book.Now()),
	}})
}

func (v okx) oiHistory(r *http.Request) (int, any) {
	m, st, eb := v.swap(r)
	if eb != nil {
		return st, eb
	}
	p, n, bad := window(r, "period", okxPeriods, 100, 100)
	if bad != "" {
		return http.StatusBadRequest, okxEnv("51000", "Parameter "+bad+" error", nil)
	}
	var rows [][]string
	for _, pt := range m.oiHistory(v.book.Now(), p, n) { // newest first
		rows = append(rows, []string{msStr(pt.t), dec(pt.coin / m.CtVal), dec(pt.coin), decN(pt.usd, 4)})
	}
	return http.StatusOK, okxEnv("0", "", rows)
}

func (v okx) fundingRate(r *http.Request) (int, any) {
	m, st, eb := v.swap(r)
	if eb != nil {
		return st, eb
	}
	now := v.book.Now()
	settle := m.nextFunding(now)
	return http.StatusOK, okxEnv("0", "", []map[string]any{{
		"instType": "SWAP", "instId": okxID(m, true), "fundingRate": dec(m.FundingRate), "nextFundingRate": "",
		"fundingTime": msStr(settle), "nextFundingTime": msStr(settle.Add(m.FundingInterval)),
		"minFundingRate": "-0.0075", "maxFundingRate": "0.0075", "settState": "settled",
		"settFundingRate": dec(m.FundingRate), "premium": "0.0001", "method": "current_period",
		"formulaType": "withRate", "impactValue": "", "interestRate": "0.0001", "sodUtc0": "", "ts": msStr(now),
	}})
}

func (v okx) candles(r *http.Request) (int, any) {
	m, _, st, eb := v.market(r)
	if eb != nil {
		return st, eb
	}
	iv, n, bad := window(r, "bar", okxBars, 100, 300)
	if bad != "" {
		return http.StatusBadRequest, okxEnv("51000", "Parameter "+bad+" error", nil)
	}
	var rows [][]string
	for _, b := range m.bars(v.book.Now(), iv, n) { // newest first
		confirm := "1"
		if !b.closed {
			confirm = "0"
		}
		rows = append(rows, []string{msStr(b.open), dec(b.o), dec(b.h), dec(b.l), dec(b.c),
			decN(b.v, 6), decN(b.v*b.c, 4), decN(b.v*b.c, 4), confirm})
	}
	return http.StatusOK, okxEnv("0", "", rows)
}
