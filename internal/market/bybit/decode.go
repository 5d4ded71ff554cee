package bybit

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// Decoders turn one response into market values. Every failure wraps
// market.ErrBadResponse unless the envelope names another error.

// envelope is {"retCode":0,"retMsg":"OK","result":{…},"retExtInfo":{},"time":…}.
type envelope struct {
	RetCode *int            `json:"retCode"`
	RetMsg  string          `json:"retMsg"`
	Result  json.RawMessage `json:"result"`
	Time    httpjson.Millis `json:"time"`
}

// err maps a non-zero retCode: Bybit reports errors with HTTP 200.
func (e envelope) err() error {
	switch *e.RetCode {
	case 10001: // "Not supported symbols" (also Bybit's generic parameter error)
		return fmt.Errorf("%w: retCode 10001: %s", market.ErrUnknownSymbol, e.RetMsg)
	case 10006: // "Too many visits!"
		return &market.RateLimitError{Venue: venue}
	case 10000, 10016: // server timeout, server error
		return fmt.Errorf("%w: retCode %d: %s", market.ErrUnavailable, *e.RetCode, e.RetMsg)
	}
	return fmt.Errorf("%w: retCode %d: %s", market.ErrBadResponse, *e.RetCode, e.RetMsg)
}

// decodeEnvelope checks retCode before trusting result.
func decodeEnvelope(body []byte) (json.RawMessage, httpjson.Millis, error) {
	var env envelope
	if err := httpjson.Decode(body, &env); err != nil {
		return nil, 0, err
	}
	if env.RetCode == nil {
		return nil, 0, fmt.Errorf("%w: no retCode", market.ErrBadResponse)
	}
	if *env.RetCode != 0 {
		return nil, 0, env.err()
	}
	if len(env.Result) == 0 {
		return nil, 0, fmt.Errorf("%w: no result", market.ErrBadResponse)
	}
	return env.Result, env.Time, nil
}

type instrumentsResult struct {
	List []struct {
		Symbol       string `json:"symbol"`
		Status       string `json:"status"`
		BaseCoin     string `json:"baseCoin"`
		QuoteCoin    string `json:"quoteCoin"`
		ContractType string `json:"contractType"` // linear only
	} `json:"list"`
	NextPageCursor string `json:"nextPageCursor"`
}

func decodeInstruments(res []byte, kind market.Kind) ([]market.Instrument, string, error) {
	var r instrumentsResult
	if err := httpjson.Decode(res, &r); err != nil {
		return nil, "", err
	}
	if r.List == nil {
		return nil, "", fmt.Errorf("%w: no list", market.ErrBadResponse)
	}
	out := make([]market.Instrument, 0, len(r.List))
	for _, it := range r.List {
		if it.Status != "Trading" || (kind == market.Perp && (it.ContractType != "LinearPerpetual" || it.QuoteCoin != "USDT")) {
			continue
		}
		if it.Symbol == "" || it.BaseCoin == "" || it.QuoteCoin == "" {
			return nil, "", fmt.Errorf("%w: symbol %q without coins", market.ErrBadResponse, it.Symbol)
		}
		out = append(out, market.Instrument{
			Pair: market.Pair{Base: it.BaseCoin, Quote: it.QuoteCoin}, Kind: kind, Symbol: it.Symbol, CtVal: 1,
		})
	}
	return out, r.NextPageCursor, nil
}

// tickerRow holds the fields of a spot or linear ticker; Bybit sends only
// the requested category's fields.
type tickerRow struct {
	LastPrice    httpjson.Text `json:"lastPrice"`
	PrevPrice24h httpjson.Text `json:"prevPrice24h"`
	Price24hPcnt httpjson.Text `json:"price24hPcnt"` // a fraction: 0.0068 = 0.68 %
	HighPrice24h httpjson.Text `json:"highPrice24h"`
	LowPrice24h  httpjson.Text `json:"lowPrice24h"`
	Volume24h    httpjson.Text `json:"volume24h"`   // base
	Turnover24h  httpjson.Text `json:"turnover24h"` // quote

	OpenInterest        httpjson.Text   `json:"openInterest"`      // coin
	OpenInterestValue   httpjson.Text   `json:"openInterestValue"` // USD
	FundingRate         httpjson.Text   `json:"fundingRate"`
	NextFundingTime     httpjson.Millis `json:"nextFundingTime"`
	FundingIntervalHour httpjson.Text   `json:"fundingIntervalHour"`
	MarkPrice           httpjson.Text   `json:"markPrice"`
	IndexPrice          httpjson.Text   `json:"indexPrice"`
}

// decodeTickerRow takes the one row of a tickers result; an empty list means
// Bybit does not know the symbol.
func decodeTickerRow(res []byte) (tickerRow, error) {
	var r struct {
		List []tickerRow `json:"list"`
	}
	if err := httpjson.Decode(res, &r); err != nil {
		return tickerRow{}, err
	}
	return httpjson.First(r.List, "ticker list")
}

func (r tickerRow) ticker(pair market.Pair, ts httpjson.Millis) (market.Ticker, error) {
	var f httpjson.Fields
	t := market.Ticker{
		Pair:        pair,
		Venue:       venue,
		Last:        f.Float("lastPrice", r.LastPrice),
		Open:        f.OptFloat("prevPrice24h", r.PrevPrice24h),
		High:        f.Float("highPrice24h", r.HighPrice24h),
		Low:         f.Float("lowPrice24h", r.LowPrice24h),
		ChangePct:   f.Float("price24hPcnt", r.Price24hPcnt) * 100,
		BaseVolume:  f.Float("volume24h", r.Volume24h),
		QuoteVolume: f.Float("turnover24h", r.Turnover24h),
		Time:        f.Time("time", ts),
	}
	return t, f.Err()
}

func (r tickerRow) openInterest(pair market.Pair, ts httpjson.Millis) (market.OpenInterest, error) {
	var f httpjson.Fields
	oi := market.OpenInterest{
		Pair:  pair,
		Venue: venue,
		Coin:  f.Float("openInterest", r.OpenInterest),
		USD:   f.Float("openInterestValue", r.OpenInterestValue),
		Time:  f.Time("time", ts),
	}
	return oi, f.Err()
}

func (r tickerRow) funding(pair market.Pair, ts httpjson.Millis) (market.Funding, error) {
	var f httpjson.Fields
	out := market.Funding{
		Pair:  pair,
		Venue: venue,
		Rate:  f.Float("fundingRate", r.FundingRate),
		Next:  f.Time("nextFundingTime", r.NextFundingTime),
		Mark:  f.OptFloat("markPrice", r.MarkPrice),
		Index: f.OptFloat("indexPrice", r.IndexPrice),
		Time:  f.Time("time", ts),
	}
	hours := f.Float("fundingIntervalHour", r.FundingIntervalHour)
	if err := f.Err(); err != nil {
		return market.Funding{}, err
	}
	if hours <= 0 || hours > 24 {
		return market.Funding{}, fmt.Errorf("%w: fundingIntervalHour %v", market.ErrBadResponse, hours)
	}
	out.Interval = time.Duration(hours * float64(time.Hour))
	return out, nil
}

// decodeOIHistory parses rows (newest first) into ascending coin-only points.
func decodeOIHistory(res []byte) ([]market.OIPoint, error) {
	var r struct {
		List []struct {
			OpenInterest httpjson.Text   `json:"openInterest"`
			Timestamp    httpjson.Millis `json:"timestamp"`
		} `json:"list"`
	}
	if err := httpjson.Decode(res, &r); err != nil {
		return nil, err
	}
	var f httpjson.Fields
	out := make([]market.OIPoint, 0, len(r.List))
	for _, row := range r.List {
		out = append(out, market.OIPoint{Time: f.Time("timestamp", row.Timestamp), Coin: f.Float("openInterest", row.OpenInterest)})
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return httpjson.SortOI(out), nil
}

// decodeKlines parses [start, o, h, l, c, volume, turnover] rows (newest
// first) and drops the bar still open at now.
func decodeKlines(res []byte, iv time.Duration, now time.Time) ([]market.Candle, error) {
	var r struct {
		List [][]httpjson.Text `json:"list"`
	}
	if err := httpjson.Decode(res, &r); err != nil {
		return nil, err
	}
	return httpjson.ClosedCandles(r.List, httpjson.CandleFields{"startTime", "open", "high", "low", "close", "volume"}, iv, now)
}

// pricesAnswer is a whole spot tickers answer without a symbol, decoded in
// one pass (envelope and list together: the list runs to hundreds of KB).
type pricesAnswer struct {
	RetCode *int   `json:"retCode"`
	RetMsg  string `json:"retMsg"`
	Result  struct {
		List []struct {
			Symbol    string `json:"symbol"`
			LastPrice string `json:"lastPrice"`
		} `json:"list"`
	} `json:"result"`
	Time httpjson.Millis `json:"time"`
}

// decodePrices parses {"retCode":0,…,"result":{"category":"spot","list":
// [{"symbol":"BTCUSDT","lastPrice":"97000.01",…},…]},"time":…}, checking
// retCode first and keeping the rows of symbols in syms; a price that does
// not parse is NaN. At is the envelope's time, or now without one.
func decodePrices(body []byte, syms map[string]market.Pair, now time.Time) ([]market.Price, error) {
	var a pricesAnswer
	if err := httpjson.Decode(body, &a); err != nil {
		return nil, err
	}
	if a.RetCode == nil {
		return nil, fmt.Errorf("%w: no retCode", market.ErrBadResponse)
	}
	if *a.RetCode != 0 {
		return nil, envelope{RetCode: a.RetCode, RetMsg: a.RetMsg}.err()
	}
	if a.Result.List == nil {
		return nil, fmt.Errorf("%w: no ticker list", market.ErrBadResponse)
	}
	at := now
	if a.Time > 0 {
		at = a.Time.Time()
	}
	out := make([]market.Price, 0, min(len(a.Result.List), len(syms)))
	for _, row := range a.Result.List {
		if p, ok := syms[row.Symbol]; ok {
			out = append(out, market.Price{Pair: p, Last: httpjson.PriceOf(row.LastPrice), At: at})
		}
	}
	return out, nil
}
