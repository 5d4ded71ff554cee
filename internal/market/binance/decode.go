package binance

import (
	"fmt"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// Decoders turn one response body into market values. Every failure wraps
// market.ErrBadResponse.

type exchangeInfo struct {
	Symbols []struct {
		Symbol       string `json:"symbol"`
		Status       string `json:"status"`
		BaseAsset    string `json:"baseAsset"`
		QuoteAsset   string `json:"quoteAsset"`
		ContractType string `json:"contractType"` // fapi only
	} `json:"symbols"`
}

func decodeInstruments(body []byte, kind market.Kind) ([]market.Instrument, error) {
	var info exchangeInfo
	if err := httpjson.Decode(body, &info); err != nil {
		return nil, err
	}
	if info.Symbols == nil {
		return nil, fmt.Errorf("%w: no symbols", market.ErrBadResponse)
	}
	out := make([]market.Instrument, 0, len(info.Symbols))
	for _, s := range info.Symbols {
		if s.Status != "TRADING" || (kind == market.Perp && (s.ContractType != "PERPETUAL" || s.QuoteAsset != "USDT")) {
			continue
		}
		if s.Symbol == "" || s.BaseAsset == "" || s.QuoteAsset == "" {
			return nil, fmt.Errorf("%w: symbol %q without assets", market.ErrBadResponse, s.Symbol)
		}
		out = append(out, market.Instrument{
			Pair: market.Pair{Base: s.BaseAsset, Quote: s.QuoteAsset}, Kind: kind, Symbol: s.Symbol, CtVal: 1,
		})
	}
	return out, nil
}

type ticker24h struct {
	LastPrice          httpjson.Text   `json:"lastPrice"`
	OpenPrice          httpjson.Text   `json:"openPrice"`
	HighPrice          httpjson.Text   `json:"highPrice"`
	LowPrice           httpjson.Text   `json:"lowPrice"`
	PriceChangePercent httpjson.Text   `json:"priceChangePercent"` // already a percentage
	Volume             httpjson.Text   `json:"volume"`             // base
	QuoteVolume        httpjson.Text   `json:"quoteVolume"`
	CloseTime          httpjson.Millis `json:"closeTime"`
}

func decodeTicker(body []byte, pair market.Pair) (market.Ticker, error) {
	var r ticker24h
	if err := httpjson.Decode(body, &r); err != nil {
		return market.Ticker{}, err
	}
	var f httpjson.Fields
	t := market.Ticker{
		Pair:        pair,
		Venue:       venue,
		Last:        f.Float("lastPrice", r.LastPrice),
		Open:        f.OptFloat("openPrice", r.OpenPrice),
		High:        f.Float("highPrice", r.HighPrice),
		Low:         f.Float("lowPrice", r.LowPrice),
		ChangePct:   f.Float("priceChangePercent", r.PriceChangePercent),
		BaseVolume:  f.Float("volume", r.Volume),
		QuoteVolume: f.Float("quoteVolume", r.QuoteVolume),
		Time:        f.Time("closeTime", r.CloseTime),
	}
	return t, f.Err()
}

type openInterest struct {
	OpenInterest httpjson.Text   `json:"openInterest"` // base coin
	Time         httpjson.Millis `json:"time"`
}

func decodeOpenInterest(body []byte, pair market.Pair) (market.OpenInterest, error) {
	var r openInterest
	if err := httpjson.Decode(body, &r); err != nil {
		return market.OpenInterest{}, err
	}
	var f httpjson.Fields
	oi := market.OpenInterest{
		Pair: pair, Venue: venue, Coin: f.Float("openInterest", r.OpenInterest), Time: f.Time("time", r.Time),
	}
	return oi, f.Err()
}

type oiHistRow struct {
	SumOpenInterest      httpjson.Text   `json:"sumOpenInterest"`      // coin
	SumOpenInterestValue httpjson.Text   `json:"sumOpenInterestValue"` // USD
	Timestamp            httpjson.Millis `json:"timestamp"`            // number, or string in the docs
}

func decodeOIHistory(body []byte) ([]market.OIPoint, error) {
	var rows []oiHistRow
	if err := httpjson.Decode(body, &rows); err != nil {
		return nil, err
	}
	var f httpjson.Fields
	out := make([]market.OIPoint, 0, len(rows))
	for _, r := range rows {
		out = append(out, market.OIPoint{
			Time: f.Time("timestamp", r.Timestamp),
			Coin: f.Float("sumOpenInterest", r.SumOpenInterest),
			USD:  f.Float("sumOpenInterestValue", r.SumOpenInterestValue),
		})
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return httpjson.SortOI(out), nil
}

type premiumIndex struct {
	MarkPrice       httpjson.Text   `json:"markPrice"`
	IndexPrice      httpjson.Text   `json:"indexPrice"`
	LastFundingRate httpjson.Text   `json:"lastFundingRate"` // the period in progress
	NextFundingTime httpjson.Millis `json:"nextFundingTime"`
	Time            httpjson.Millis `json:"time"`
}

// decodePremiumIndex fills everything but Interval.
func decodePremiumIndex(body []byte, pair market.Pair) (market.Funding, error) {
	var r premiumIndex
	if err := httpjson.Decode(body, &r); err != nil {
		return market.Funding{}, err
	}
	var f httpjson.Fields
	out := market.Funding{
		Pair:  pair,
		Venue: venue,
		Rate:  f.Float("lastFundingRate", r.LastFundingRate),
		Next:  f.Time("nextFundingTime", r.NextFundingTime),
		Mark:  f.Float("markPrice", r.MarkPrice),
		Index: f.OptFloat("indexPrice", r.IndexPrice),
		Time:  f.Time("time", r.Time),
	}
	return out, f.Err()
}

type fundingInfo struct {
	Symbol               string `json:"symbol"`
	FundingIntervalHours int    `json:"fundingIntervalHours"`
}

// decodeFundingInfo returns the intervals of the symbols fundingInfo lists.
func decodeFundingInfo(body []byte) (map[string]time.Duration, error) {
	var rows []fundingInfo
	if err := httpjson.Decode(body, &rows); err != nil {
		return nil, err
	}
	if rows == nil {
		return nil, fmt.Errorf("%w: fundingInfo is not a list", market.ErrBadResponse)
	}
	out := make(map[string]time.Duration, len(rows))
	for _, r := range rows {
		if r.Symbol == "" || r.FundingIntervalHours < 1 || r.FundingIntervalHours > 24 {
			return nil, fmt.Errorf("%w: fundingInfo %q: interval %d h", market.ErrBadResponse, r.Symbol, r.FundingIntervalHours)
		}
		out[r.Symbol] = time.Duration(r.FundingIntervalHours) * time.Hour
	}
	return out, nil
}

// decodeKlines parses [openTime, o, h, l, c, volume, closeTime, ...] rows
// (oldest first) and drops the bar still open at now.
func decodeKlines(body []byte, iv time.Duration, now time.Time) ([]market.Candle, error) {
	var rows [][]httpjson.Text
	if err := httpjson.Decode(body, &rows); err != nil {
		return nil, err
	}
	return httpjson.ClosedCandles(rows, httpjson.CandleFields{"openTime", "open", "high", "low", "close", "volume"}, iv, now)
}

type priceRow struct {
	Symbol string `json:"symbol"`
	Price  string `json:"price"`
}

// decodePrices parses ticker/price's [{"symbol":"BTCUSDT","price":"97000.01"}, …],
// keeping the rows of symbols in syms; a price that does not parse is NaN.
func decodePrices(body []byte, syms map[string]market.Pair, at time.Time) ([]market.Price, error) {
	var rows []priceRow
	if err := httpjson.Decode(body, &rows); err != nil {
		return nil, err
	}
	if rows == nil {
		return nil, fmt.Errorf("%w: ticker/price is not a list", market.ErrBadResponse)
	}
	out := make([]market.Price, 0, min(len(rows), len(syms)))
	for _, r := range rows {
		if p, ok := syms[r.Symbol]; ok {
			out = append(out, market.Price{Pair: p, Last: httpjson.PriceOf(r.Price), At: at})
		}
	}
	return out, nil
}
