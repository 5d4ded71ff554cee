package okx

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// Decoders turn one response into market values. Every failure wraps
// market.ErrBadResponse unless the envelope names another error.

// envelope is {"code":"0","msg":"","data":[…]}; every value is a string.
type envelope struct {
	Code *httpjson.Text  `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// decodeEnvelope checks code before trusting data: OKX reports errors,
// unknown instruments included, with HTTP 200.
func decodeEnvelope(body []byte) (json.RawMessage, error) {
	var env envelope
	if err := httpjson.Decode(body, &env); err != nil {
		return nil, err
	}
	if err := codeErr(env.Code, env.Msg); err != nil {
		return nil, err
	}
	if len(env.Data) == 0 {
		return nil, fmt.Errorf("%w: no data", market.ErrBadResponse)
	}
	return env.Data, nil
}

// codeErr maps an envelope's code: nil for "0".
func codeErr(c *httpjson.Text, msg string) error {
	if c == nil {
		return fmt.Errorf("%w: no code", market.ErrBadResponse)
	}
	switch code := string(*c); code {
	case "0":
		return nil
	case "51001": // Instrument ID does not exist
		return fmt.Errorf("%w: code 51001: %s", market.ErrUnknownSymbol, msg)
	case "50011": // Too Many Requests
		return &market.RateLimitError{Venue: venue}
	case "50001", "50004", "50013": // service unavailable, endpoint timeout, system busy
		return fmt.Errorf("%w: code %s: %s", market.ErrUnavailable, code, msg)
	default:
		return fmt.Errorf("%w: code %s: %s", market.ErrBadResponse, code, msg)
	}
}

// first decodes the one object a single-instrument endpoint returns; an empty
// list means OKX does not know the instrument.
func first[T any](data []byte) (T, error) {
	var rows []T
	if err := httpjson.Decode(data, &rows); err != nil {
		var zero T
		return zero, err
	}
	return httpjson.First(rows, "data")
}

type instrument struct {
	InstID    string        `json:"instId"`
	State     string        `json:"state"`
	BaseCcy   string        `json:"baseCcy"`   // SPOT
	QuoteCcy  string        `json:"quoteCcy"`  // SPOT
	SettleCcy string        `json:"settleCcy"` // SWAP
	CtValCcy  string        `json:"ctValCcy"`  // SWAP: the base coin of a linear swap
	CtType    string        `json:"ctType"`    // SWAP: linear or inverse
	CtVal     httpjson.Text `json:"ctVal"`     // SWAP: contract value in ctValCcy
}

func decodeInstruments(data []byte, kind market.Kind) ([]market.Instrument, error) {
	var rows []instrument
	if err := httpjson.Decode(data, &rows); err != nil {
		return nil, err
	}
	out := make([]market.Instrument, 0, len(rows))
	for _, r := range rows {
		if r.State != "live" {
			continue
		}
		in := market.Instrument{Kind: kind, Symbol: r.InstID, CtVal: 1, Pair: market.Pair{Base: r.BaseCcy, Quote: r.QuoteCcy}}
		if kind == market.Perp {
			if r.CtType != "linear" || r.SettleCcy != "USDT" {
				continue
			}
			var f httpjson.Fields
			in.Pair = market.Pair{Base: r.CtValCcy, Quote: r.SettleCcy}
			in.CtVal = f.Float("ctVal", r.CtVal)
			if err := f.Err(); err != nil {
				return nil, err
			}
			if in.CtVal <= 0 {
				return nil, fmt.Errorf("%w: %s ctVal %v", market.ErrBadResponse, r.InstID, in.CtVal)
			}
		}
		if r.InstID == "" || in.Pair.Base == "" || in.Pair.Quote == "" {
			return nil, fmt.Errorf("%w: instrument %q without currencies", market.ErrBadResponse, r.InstID)
		}
		out = append(out, in)
	}
	return out, nil
}

type ticker struct {
	Last      httpjson.Text   `json:"last"`
	Open24h   httpjson.Text   `json:"open24h"`
	High24h   httpjson.Text   `json:"high24h"`
	Low24h    httpjson.Text   `json:"low24h"`
	Vol24h    httpjson.Text   `json:"vol24h"`    // SPOT: base
	VolCcy24h httpjson.Text   `json:"volCcy24h"` // SPOT: quote
	TS        httpjson.Millis `json:"ts"`
}

// decodeTicker reads a SPOT ticker; change % = (last − open24h) / open24h.
func decodeTicker(data []byte, pair market.Pair) (market.Ticker, error) {
	return decodeTickerOf(data, pair, false)
}

// decodeSwapTicker reads a SWAP ticker. Its units differ from SPOT's:
// vol24h counts contracts and volCcy24h is base coin, so BaseVolume is
// volCcy24h and QuoteVolume, which OKX does not report for swaps, is
// volCcy24h × last (approximate: the day's trades were not all at last).
func decodeSwapTicker(data []byte, pair market.Pair) (market.Ticker, error) {
	return decodeTickerOf(data, pair, true)
}

func decodeTickerOf(data []byte, pair market.Pair, swap bool) (market.Ticker, error) {
	r, err := first[ticker](data)
	if err != nil {
		return market.Ticker{}, err
	}
	var f httpjson.Fields
	t := market.Ticker{
		Pair:  pair,
		Venue: venue,
		Last:  f.Float("last", r.Last),
		Open:  f.Float("open24h", r.Open24h),
		High:  f.Float("high24h", r.High24h),
		Low:   f.Float("low24h", r.Low24h),
		Time:  f.Time("ts", r.TS),
	}
	if swap {
		t.BaseVolume = f.Float("volCcy24h", r.VolCcy24h)
		t.QuoteVolume = t.BaseVolume * t.Last
	} else {
		t.BaseVolume = f.Float("vol24h", r.Vol24h)
		t.QuoteVolume = f.Float("volCcy24h", r.VolCcy24h)
	}
	if t.Open != 0 {
		t.ChangePct = (t.Last - t.Open) / t.Open * 100
	}
	return t, f.Err()
}

// oiRow is one open-interest reading before unit normalisation; coin is nil
// when OKX leaves oiCcy out.
type oiRow struct {
	time      time.Time
	contracts float64
	coin      *float64
	usd       float64
}

func parseOI(f *httpjson.Fields, t time.Time, oi, oiCcy, oiUsd httpjson.Text) oiRow {
	r := oiRow{time: t, contracts: f.Float("oi", oi), usd: f.OptFloat("oiUsd", oiUsd)}
	if oiCcy != "" {
		coin := f.Float("oiCcy", oiCcy)
		r.coin = &coin
	}
	return r
}

func decodeOpenInterest(data []byte) (oiRow, error) {
	r, err := first[struct {
		OI    httpjson.Text   `json:"oi"`    // contracts
		OICcy httpjson.Text   `json:"oiCcy"` // coin
		OIUsd httpjson.Text   `json:"oiUsd"`
		TS    httpjson.Millis `json:"ts"`
	}](data)
	if err != nil {
		return oiRow{}, err
	}
	var f httpjson.Fields
	f.Float("oiUsd", r.OIUsd) // required for the current reading
	row := parseOI(&f, f.Time("ts", r.TS), r.OI, r.OICcy, r.OIUsd)
	return row, f.Err()
}

// decodeOIHistory parses [ts, oi, oiCcy, oiUsd] rows; oiUsd may be absent.
func decodeOIHistory(data []byte) ([]oiRow, error) {
	var rows [][]httpjson.Text
	if err := httpjson.Decode(data, &rows); err != nil {
		return nil, err
	}
	var f httpjson.Fields
	out := make([]oiRow, 0, len(rows))
	for i, r := range rows {
		if len(r) < 3 {
			return nil, fmt.Errorf("%w: open-interest row %d has %d fields", market.ErrBadResponse, i, len(r))
		}
		var usd httpjson.Text
		if len(r) > 3 {
			usd = r[3]
		}
		out = append(out, parseOI(&f, f.Millis("ts", r[0]), r[1], r[2], usd))
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeFunding(data []byte, pair market.Pair) (market.Funding, error) {
	r, err := first[struct {
		FundingRate     httpjson.Text   `json:"fundingRate"`
		FundingTime     httpjson.Millis `json:"fundingTime"`     // when the current rate settles
		NextFundingTime httpjson.Millis `json:"nextFundingTime"` // the settlement after
		TS              httpjson.Millis `json:"ts"`
	}](data)
	if err != nil {
		return market.Funding{}, err
	}
	var f httpjson.Fields
	out := market.Funding{
		Pair:  pair,
		Venue: venue,
		Rate:  f.Float("fundingRate", r.FundingRate),
		Next:  f.Time("fundingTime", r.FundingTime),
		Time:  f.Time("ts", r.TS),
	}
	next := f.Time("nextFundingTime", r.NextFundingTime)
	if err := f.Err(); err != nil {
		return market.Funding{}, err
	}
	out.Interval = next.Sub(out.Next)
	if out.Interval <= 0 || out.Interval > 24*time.Hour {
		return market.Funding{}, fmt.Errorf("%w: funding interval %s", market.ErrBadResponse, out.Interval)
	}
	return out, nil
}

// decodeCandles parses [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]
// rows (newest first) and drops bars with confirm "0" (still open).
func decodeCandles(data []byte) ([]market.Candle, error) {
	var rows [][]httpjson.Text
	if err := httpjson.Decode(data, &rows); err != nil {
		return nil, err
	}
	var f httpjson.Fields
	out := make([]market.Candle, 0, len(rows))
	for i, r := range rows {
		if len(r) < 9 {
			return nil, fmt.Errorf("%w: candle %d has %d fields", market.ErrBadResponse, i, len(r))
		}
		switch r[8] {
		case "0":
			continue
		case "1":
		default:
			return nil, fmt.Errorf("%w: candle %d confirm %q", market.ErrBadResponse, i, string(r[8]))
		}
		out = append(out, f.Candle(httpjson.CandleFields{"ts", "o", "h", "l", "c", "vol"}, r))
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// decodePrices parses a whole SPOT tickers answer in one pass (envelope and
// data together: the data runs to hundreds of KB),
// {"code":"0","msg":"","data":[{"instType":"SPOT","instId":"BTC-USDT","last":"97000.1",…,"ts":"1700000000000"},…]},
// checking code first. A price that does not parse is NaN; a row without a
// valid ts has a zero At; an instId that is not BASE-QUOTE is left out.
func decodePrices(body []byte) ([]market.Price, error) {
	var a struct {
		Code *httpjson.Text `json:"code"`
		Msg  string         `json:"msg"`
		Data []struct {
			InstID string `json:"instId"`
			Last   string `json:"last"`
			TS     string `json:"ts"`
		} `json:"data"`
	}
	if err := httpjson.Decode(body, &a); err != nil {
		return nil, err
	}
	if err := codeErr(a.Code, a.Msg); err != nil {
		return nil, err
	}
	if a.Data == nil {
		return nil, fmt.Errorf("%w: no data", market.ErrBadResponse)
	}
	out := make([]market.Price, 0, len(a.Data))
	for _, r := range a.Data {
		base, quote, ok := strings.Cut(r.InstID, "-")
		if !ok || base == "" || quote == "" || strings.Contains(quote, "-") {
			continue
		}
		var at time.Time
		if ms, err := strconv.ParseInt(r.TS, 10, 64); err == nil && ms > 0 {
			at = time.UnixMilli(ms).UTC()
		}
		out = append(out, market.Price{Pair: market.Pair{Base: base, Quote: quote}, Last: httpjson.PriceOf(r.Last), At: at})
	}
	return out, nil
}
