package markettest

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
)

// override replaces one field of every object an endpoint answers for a pair.
type override struct {
	endpoint string
	pair     market.Pair
	field    string // the venue's JSON field name
	value    string
}

// Override makes endpoint ("ticker", "funding", "open_interest", …) answer
// value, as a JSON string the way venues send numbers, for field in every
// object of its body, for requests about pair (spot or perp); the rest of the
// answer stays the Book's. It serves the absurd values real venues
// occasionally do: a last price of "0" or "-5", one far above the ticker's
// own 24 h high, a funding rate of "0.5". The batched price lists
// (endpoint "all_prices") apply a pair's "ticker" and "all_prices" overrides
// to its row, so SetLast moves the pair in the batch too. Reset clears
// overrides.
func (s *Server) Override(endpoint string, pair market.Pair, field, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides = append(s.overrides, override{endpoint, pair, field, value})
}

// SetLast overrides the ticker's last price of pair with last ("0", "-5",
// "1000000", "0.00000001"), keeping its 24 h open, high and low (Binance's
// and Bybit's lastPrice, OKX's last).
func (s *Server) SetLast(pair market.Pair, last string) {
	s.Override("ticker", pair, s.v.lastField(), last)
}

// withOverrides wraps every route so its body passes through the overrides.
func (s *Server) withOverrides(routes map[string]route) map[string]route {
	for path, rt := range routes {
		handle := rt.handle
		rt.handle = func(r *http.Request) (int, any) {
			status, body := handle(r)
			if status != http.StatusOK {
				return status, body
			}
			if s.endpoint(rt, r) == httpjson.EndpointAllPrices {
				return status, s.rewriteRows(body)
			}
			if fields := s.overridesFor(rt.endpoint, r); len(fields) > 0 {
				body = rewrite(body, fields)
			}
			return status, body
		}
		routes[path] = rt
	}
	return routes
}

// overridesFor returns the field values to force for this request.
func (s *Server) overridesFor(endpoint string, r *http.Request) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.overrides) == 0 {
		return nil
	}
	q := r.URL.Query()
	sym, inst := q.Get("symbol"), q.Get("instId")
	var out map[string]string
	for _, o := range s.overrides {
		p := o.pair
		if o.endpoint != endpoint || (sym != p.Base+p.Quote && inst != p.String() && inst != p.String()+"-SWAP") {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[o.field] = o.value
	}
	return out
}

// rewriteRows applies, to every row of a batched price list, the ticker and
// all_prices overrides of the row's pair (its "symbol" or "instId"), so
// SetLast moves a pair's price in the batch as in its own ticker. Binance's
// batch calls the last price "price": a ticker override of lastPrice sets it
// too.
func (s *Server) rewriteRows(body any) any {
	s.mu.Lock()
	byID := map[string]map[string]string{}
	for _, o := range s.overrides {
		if o.endpoint != "ticker" && o.endpoint != httpjson.EndpointAllPrices {
			continue
		}
		for _, id := range []string{o.pair.Base + o.pair.Quote, o.pair.String()} {
			f := byID[id]
			if f == nil {
				f = map[string]string{}
				byID[id] = f
			}
			f[o.field] = o.value
			if o.field == "lastPrice" {
				f["price"] = o.value
			}
		}
	}
	s.mu.Unlock()
	if len(byID) == 0 {
		return body
	}
	v, ok := roundTrip(body)
	if !ok {
		return body
	}
	walkObjects(v, func(x map[string]any) bool {
		id, _ := x["symbol"].(string)
		if inst, ok := x["instId"].(string); ok {
			id = inst
		}
		fields := byID[id]
		set(x, fields)
		return fields == nil // a matched row is the instrument's; nothing inside it is
	})
	return v
}

// roundTrip turns body into the generic JSON values it encodes to.
func roundTrip(body any) (any, bool) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep numeric timestamps as they were
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

// rewrite round-trips body through JSON, setting fields wherever they occur.
func rewrite(body any, fields map[string]string) any {
	v, ok := roundTrip(body)
	if !ok {
		return body
	}
	walkObjects(v, func(x map[string]any) bool { set(x, fields); return true })
	return v
}

// set overwrites x's keys that fields names.
func set(x map[string]any, fields map[string]string) {
	for k := range x {
		if val, ok := fields[k]; ok {
			x[k] = val
		}
	}
}

// walkObjects calls visit on every object in the JSON value x, outermost
// first, and walks into an object's values when visit returns true.
func walkObjects(x any, visit func(map[string]any) bool) {
	switch x := x.(type) {
	case map[string]any:
		if !visit(x) {
			return
		}
		for _, e := range x {
			walkObjects(e, visit)
		}
	case []any:
		for _, e := range x {
			walkObjects(e, visit)
		}
	}
}
