package httpjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Decode unmarshals body into v; any failure is market.ErrBadResponse.
func Decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %w", market.ErrBadResponse, err)
	}
	return nil
}

// Text is a JSON scalar kept as its text: a string's contents or a number's
// literal. Venues mix both in one array (Binance klines) or change a field's
// type between endpoints.
type Text string

// UnmarshalJSON accepts a string, a number or null (empty). encoding/json
// has validated b already, so a plain ASCII string or a number is copied as
// it is: klines are arrays of such scalars (3,600 per 300-candle reply), and
// decoding each one again with json.Unmarshal was a third of the bot's JSON
// CPU. Escapes and non-ASCII text take json.Unmarshal's exact rules.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*t = ""
		return nil
	case len(b) >= 2 && b[0] == '"':
		if plain(b[1 : len(b)-1]) {
			*t = Text(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
		return nil
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*t = Text(b) // a number literal: json.Number would keep it verbatim
		return nil
	}
	return fmt.Errorf("want string or number, got %.20s", b)
}

// plain reports whether a JSON string's contents need no unquoting: no
// escape and nothing but ASCII.
func plain(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Millis is a Unix timestamp in milliseconds sent as a JSON string or number;
// null and "" leave it zero, which Fields.Time rejects where one is required.
type Millis int64

// UnmarshalJSON accepts "1700000000000", 1700000000000, "" and null.
func (m *Millis) UnmarshalJSON(b []byte) error {
	var t Text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	if t == "" {
		*m = 0
		return nil
	}
	v, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", string(t), err)
	}
	*m = Millis(v)
	return nil
}

// Time returns the timestamp in UTC.
func (m Millis) Time() time.Time { return time.UnixMilli(int64(m)).UTC() }

// Fields parses a row's values and keeps the first failure, so a decoder
// reads every field and checks once with Err.
type Fields struct {
	err error
}

// Float parses a required decimal: empty, NaN and ±Inf are errors.
func (f *Fields) Float(name string, s Text) float64 {
	if s == "" {
		f.fail(name, "missing")
		return 0
	}
	return f.parse(name, s)
}

// OptFloat parses an optional decimal: empty gives 0.
func (f *Fields) OptFloat(name string, s Text) float64 {
	if s == "" {
		return 0
	}
	return f.parse(name, s)
}

// Time converts a required timestamp: zero or negative is an error.
func (f *Fields) Time(name string, ms Millis) time.Time {
	if ms <= 0 {
		f.fail(name, "missing")
		return time.Time{}
	}
	return ms.Time()
}

// Millis parses a required timestamp held as Text (inside arrays).
func (f *Fields) Millis(name string, s Text) time.Time {
	v, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || v <= 0 {
		f.fail(name, fmt.Sprintf("bad timestamp %.32q", string(s)))
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Err returns the first failure, wrapping market.ErrBadResponse.
func (f *Fields) Err() error { return f.err }

func (f *Fields) parse(name string, s Text) float64 {
	v, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		f.fail(name, fmt.Sprintf("bad number %.32q", string(s)))
		return 0
	}
	return v
}

func (f *Fields) fail(name, why string) {
	if f.err == nil {
		f.err = fmt.Errorf("%w: %s: %s", market.ErrBadResponse, name, why)
	}
}

// First returns the one row a single-symbol endpoint answers with; no rows
// means the venue does not know the symbol (market.ErrUnknownSymbol, "empty
// what").
func First[T any](rows []T, what string) (T, error) {
	if len(rows) == 0 {
		var zero T
		return zero, fmt.Errorf("%w: empty %s", market.ErrUnknownSymbol, what)
	}
	return rows[0], nil
}

// CheckPair rejects a pair no venue can list (empty parts or characters other
// than A–Z and 0–9) as market.ErrUnknownSymbol, before any request is sent.
func CheckPair(p market.Pair) error {
	if !symbolPart(p.Base) || !symbolPart(p.Quote) {
		return fmt.Errorf("%w: invalid pair %q", market.ErrUnknownSymbol, p.String())
	}
	return nil
}

func symbolPart(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// CandleFields names a kline row's first six fields, [open time, o, h, l, c,
// base volume], in the venue's words for errors.
type CandleFields [6]string

// Candle parses a kline row's first six fields; the caller checks the length.
func (f *Fields) Candle(names CandleFields, row []Text) market.Candle {
	return market.Candle{
		Open: f.Millis(names[0], row[0]),
		O:    f.Float(names[1], row[1]), H: f.Float(names[2], row[2]), L: f.Float(names[3], row[3]), C: f.Float(names[4], row[4]),
		Volume: f.Float(names[5], row[5]),
	}
}

// ClosedCandles parses kline rows in their order and drops the bars of
// length iv still open at now.
func ClosedCandles(rows [][]Text, names CandleFields, iv time.Duration, now time.Time) ([]market.Candle, error) {
	var f Fields
	out := make([]market.Candle, 0, len(rows))
	for i, r := range rows {
		if len(r) < len(names) {
			return nil, fmt.Errorf("%w: kline %d has %d fields", market.ErrBadResponse, i, len(r))
		}
		if c := f.Candle(names, r); !c.Open.Add(iv).After(now) {
			out = append(out, c)
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Clamp bounds a requested row count to [1, hi].
func Clamp(n, hi int) int { return min(max(n, 1), hi) }

// LastCandles sorts candles ascending by open time and keeps the last n.
func LastCandles(cs []market.Candle, n int) []market.Candle {
	slices.SortFunc(cs, func(a, b market.Candle) int { return a.Open.Compare(b.Open) })
	if len(cs) > n {
		cs = cs[len(cs)-n:]
	}
	return cs
}

// SortOI sorts open-interest rows ascending by time.
func SortOI(ps []market.OIPoint) []market.OIPoint {
	slices.SortFunc(ps, func(a, b market.OIPoint) int { return a.Time.Compare(b.Time) })
	return ps
}
