package httpjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

func TestNewHTTPClient(t *testing.T) {
	hc := NewHTTPClient()
	if hc == http.DefaultClient || hc.Timeout != 5*time.Second {
		t.Errorf("NewHTTPClient() = %+v, want a fresh client with a 5 s Timeout", hc)
	}
}

func TestGet(t *testing.T) {
	type answer struct {
		status int
		header map[string]string
		body   string
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		answer      answer
		statusError func(int, http.Header, []byte) error
		want        error
		outcome     string
		retry       time.Duration
	}{
		{name: "ok", answer: answer{200, nil, `{"v":"1"}`}, outcome: "ok"},
		{name: "429 seconds", answer: answer{429, map[string]string{"Retry-After": "12"}, ``}, want: market.ErrRateLimited, outcome: "rate_limited", retry: 12 * time.Second},
		{name: "418 date", answer: answer{418, map[string]string{"Retry-After": now.Add(2 * time.Minute).Format(http.TimeFormat)}, ``}, want: market.ErrRateLimited, outcome: "rate_limited", retry: 2 * time.Minute},
		{name: "429 garbage header", answer: answer{429, map[string]string{"Retry-After": "soon"}, ``}, want: market.ErrRateLimited, outcome: "rate_limited"},
		{name: "500", answer: answer{500, nil, `oops`}, want: market.ErrUnavailable, outcome: "unavailable"},
		{name: "504", answer: answer{504, nil, ``}, want: market.ErrUnavailable, outcome: "unavailable"},
		{name: "404 without StatusError", answer: answer{404, nil, `no`}, want: market.ErrBadResponse, outcome: "bad_response"},
		{name: "400 mapped", answer: answer{400, nil, `{"code":-1121}`}, statusError: func(s int, _ http.Header, b []byte) error {
			if s == 400 && strings.Contains(string(b), "-1121") {
				return market.ErrUnknownSymbol
			}
			return nil
		}, want: market.ErrUnknownSymbol, outcome: "unknown_symbol"},
		{name: "400 not mapped", answer: answer{400, nil, `{}`}, statusError: func(int, http.Header, []byte) error { return nil },
			want: market.ErrBadResponse, outcome: "bad_response"},
		{name: "3xx", answer: answer{304, nil, ``}, want: market.ErrBadResponse, outcome: "bad_response"},
		{name: "body too large", answer: answer{200, nil, `{"v":"` + strings.Repeat("x", 100) + `"}`}, want: market.ErrBadResponse, outcome: "bad_response"},
		{name: "malformed", answer: answer{200, nil, `{"v":`}, want: market.ErrBadResponse, outcome: "bad_response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Accept") != "application/json" {
					t.Errorf("Accept = %q", r.Header.Get("Accept"))
				}
				for k, v := range tc.answer.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.answer.status)
				_, _ = w.Write([]byte(tc.answer.body))
			}))
			defer srv.Close()
			m := metrics.New("test", "test")
			c := New(Config{Venue: "v", HTTP: srv.Client(), Metrics: m, Now: func() time.Time { return now }, StatusError: tc.statusError})
			var got struct{ V string }
			err := c.Get(context.Background(), EndpointTicker, srv.URL+"/x", 64, func(b []byte) error { return Decode(b, &got) })
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if tc.want == nil && got.V != "1" {
				t.Errorf("decoded %+v", got)
			}
			var rl *market.RateLimitError
			if errors.As(err, &rl) && (rl.RetryAfter != tc.retry || rl.Venue != "v") {
				t.Errorf("RateLimitError = %+v, want RetryAfter %s", rl, tc.retry)
			}
			if n := testutil.ToFloat64(m.ExchangeRequests.WithLabelValues("v", "ticker", tc.outcome)); n != 1 {
				t.Errorf("outcome %s counted %v times, want 1", tc.outcome, n)
			}
			if n := testutil.CollectAndCount(m.ExchangeDuration); n != 1 {
				t.Errorf("duration series = %d, want 1", n)
			}
		})
	}
}

func TestGetTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	c := New(Config{Venue: "v"}) // no metrics: must not panic
	decode := func([]byte) error { return nil }

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Get(ctx, EndpointTicker, srv.URL, MaxBody, decode); !errors.Is(err, market.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	if err := c.Get(context.Background(), EndpointTicker, "http://127.0.0.1:1/", MaxBody, decode); !errors.Is(err, market.ErrUnavailable) {
		t.Errorf("refused: %v, want ErrUnavailable", err)
	}
	if err := c.Get(context.Background(), EndpointTicker, "://bad", MaxBody, decode); !errors.Is(err, market.ErrUnavailable) {
		t.Errorf("bad URL: %v, want ErrUnavailable", err)
	}
}

func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{fmt.Errorf("x: %w", market.ErrUnknownSymbol), "unknown_symbol"},
		{&market.RateLimitError{}, "rate_limited"},
		{fmt.Errorf("x: %w", market.ErrBadResponse), "bad_response"},
		{fmt.Errorf("x: %w", market.ErrUnavailable), "unavailable"},
		{context.Canceled, "unavailable"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := Outcome(tc.err); got != tc.want {
				t.Errorf("Outcome(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Text
		bad  bool
	}{
		{`"1.5"`, "1.5", false},
		{`1.5`, "1.5", false},
		{`1499040000000`, "1499040000000", false},
		{`null`, "", false},
		{`""`, "", false},
		{`true`, "", true},
		{`{}`, "", true},
		{`[1]`, "", true},
		{`-0.5e-3`, "-0.5e-3", false},
		{` "2" `, "2", false},
		{`"a\"b\u00e9"`, `a"bé`, false},
		{`"é/€"`, "é/€", false},
		{"\"\xff\"", "\ufffd", false}, // invalid UTF-8: json.Unmarshal's replacement
	} {
		t.Run(tc.in, func(t *testing.T) {
			var got Text
			err := json.Unmarshal([]byte(tc.in), &got)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("Text(%s) = %q, %v", tc.in, got, err)
			}
			if tc.bad {
				return
			}
			// Inside a struct too, and the same as decoding into a string.
			var row []Text
			if err := json.Unmarshal([]byte("["+tc.in+"]"), &row); err != nil || len(row) != 1 || row[0] != tc.want {
				t.Errorf("[%s] = %q, %v", tc.in, row, err)
			}
		})
	}
}

func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Millis
		bad  bool
	}{
		{`"1597026383085"`, 1597026383085, false},
		{`1597026383085`, 1597026383085, false},
		{`""`, 0, false},
		{`null`, 0, false},
		{`"1.5e12"`, 0, true},
		{`"soon"`, 0, true},
		{`1.5`, 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var got Millis
			err := json.Unmarshal([]byte(tc.in), &got)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("Millis(%s) = %d, %v", tc.in, got, err)
			}
		})
	}
	if got := Millis(1597026383085).Time(); got.UnixMilli() != 1597026383085 || got.Location() != time.UTC {
		t.Errorf("Time() = %v", got)
	}
}

func TestFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(f *Fields) float64
		want float64
		bad  bool
	}{
		{"float", func(f *Fields) float64 { return f.Float("x", "0.00001234") }, 0.00001234, false},
		{"negative", func(f *Fields) float64 { return f.Float("x", "-1.5") }, -1.5, false},
		{"empty", func(f *Fields) float64 { return f.Float("x", "") }, 0, true},
		{"NaN", func(f *Fields) float64 { return f.Float("x", "NaN") }, 0, true},
		{"Inf", func(f *Fields) float64 { return f.Float("x", "-Inf") }, 0, true},
		{"overflow", func(f *Fields) float64 { return f.Float("x", "1e400") }, 0, true},
		{"word", func(f *Fields) float64 { return f.Float("x", "abc") }, 0, true},
		{"optional empty", func(f *Fields) float64 { return f.OptFloat("x", "") }, 0, false},
		{"optional NaN", func(f *Fields) float64 { return f.OptFloat("x", "nan") }, 0, true},
		{"time", func(f *Fields) float64 { return float64(f.Time("t", 5).UnixMilli()) }, 5, false},
		{"time zero", func(f *Fields) float64 { f.Time("t", 0); return 0 }, 0, true},
		{"millis text", func(f *Fields) float64 { return float64(f.Millis("t", "1700000000000").UnixMilli()) }, 1.7e12, false},
		{"millis bad", func(f *Fields) float64 { f.Millis("t", "1.7e12"); return 0 }, 0, true},
		{"millis negative", func(f *Fields) float64 { f.Millis("t", "-1"); return 0 }, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f Fields
			got := tc.fn(&f)
			if err := f.Err(); (err != nil) != tc.bad || (err != nil && !errors.Is(err, market.ErrBadResponse)) || got != tc.want {
				t.Errorf("got %v, %v; want %v, bad=%v", got, err, tc.want, tc.bad)
			}
		})
	}
	var f Fields
	f.Float("first", "")
	f.Float("second", "x")
	if err := f.Err(); err == nil || !strings.Contains(err.Error(), "first") {
		t.Errorf("Err() = %v, want the first failure", err)
	}
}

func TestCheckPair(t *testing.T) {
	for _, tc := range []struct {
		pair market.Pair
		ok   bool
	}{
		{market.Pair{Base: "BTC", Quote: "USDT"}, true},
		{market.Pair{Base: "1000PEPE", Quote: "USDT"}, true},
		{market.Pair{Base: "", Quote: "USDT"}, false},
		{market.Pair{Base: "BTC", Quote: ""}, false},
		{market.Pair{Base: "btc", Quote: "USDT"}, false},
		{market.Pair{Base: "BTC&x=1", Quote: "USDT"}, false},
		{market.Pair{Base: "BTC-USDT", Quote: "SWAP"}, false},
		{market.Pair{Base: strings.Repeat("A", 21), Quote: "USDT"}, false},
	} {
		t.Run(tc.pair.String(), func(t *testing.T) {
			err := CheckPair(tc.pair)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, market.ErrUnknownSymbol)) {
				t.Errorf("CheckPair(%v) = %v", tc.pair, err)
			}
		})
	}
}

func TestClamp(t *testing.T) {
	for _, tc := range []struct{ n, hi, want int }{{-3, 10, 1}, {0, 10, 1}, {5, 10, 5}, {11, 10, 10}} {
		if got := Clamp(tc.n, tc.hi); got != tc.want {
			t.Errorf("Clamp(%d, %d) = %d, want %d", tc.n, tc.hi, got, tc.want)
		}
	}
}

func TestSorting(t *testing.T) {
	t0 := time.Unix(0, 0)
	cs := []market.Candle{{Open: t0.Add(2 * time.Hour)}, {Open: t0}, {Open: t0.Add(time.Hour)}}
	got := LastCandles(cs, 2)
	if len(got) != 2 || !got[0].Open.Equal(t0.Add(time.Hour)) || !got[1].Open.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("LastCandles = %+v", got)
	}
	ps := SortOI([]market.OIPoint{{Time: t0.Add(time.Hour)}, {Time: t0}})
	if !ps[0].Time.Equal(t0) {
		t.Errorf("SortOI = %+v", ps)
	}
}

// TestLabelSets checks that the exported label sets cover what Get records.
func TestLabelSets(t *testing.T) {
	outcomes := Outcomes()
	for _, err := range []error{nil, market.ErrUnknownSymbol, market.ErrRateLimited, market.ErrUnavailable, market.ErrBadResponse, context.Canceled} {
		if o := Outcome(err); !slices.Contains(outcomes, o) {
			t.Errorf("Outcome(%v) = %q, not in Outcomes() %v", err, o, outcomes)
		}
	}
	eps := Endpoints()
	if len(slices.Compact(slices.Sorted(slices.Values(eps)))) != 8 || slices.Contains(eps, "") {
		t.Errorf("Endpoints() = %v, want the eight distinct endpoint labels", eps)
	}
}

func TestFetch(t *testing.T) {
	var hits atomic.Int64
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		query = r.URL.RawQuery
		_, _ = w.Write([]byte(`{"v":"1"}`))
	}))
	defer srv.Close()
	c := New(Config{Venue: "v", HTTP: srv.Client()})
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	req := Request{Endpoint: EndpointTicker, URL: srv.URL + "/x", Query: map[string][]string{"symbol": {"BTCUSDT"}}}
	decodeV := func(b []byte) (string, error) {
		var v struct{ V string }
		return v.V, Decode(b, &v)
	}

	if got, err := FetchPair(context.Background(), c, btc, req, decodeV); err != nil || got != "1" || query != "symbol=BTCUSDT" {
		t.Errorf("FetchPair = %q, %v (query %q), want \"1\"", got, err, query)
	}
	half := func([]byte) (string, error) { return "half", errTest }
	if got, err := Fetch(context.Background(), c, req, half); !errors.Is(err, errTest) || got != "" {
		t.Errorf("Fetch with a failing decoder = %q, %v; want the zero value and the error", got, err)
	}
	before := hits.Load()
	if _, err := FetchPair(context.Background(), c, market.Pair{Base: "btc", Quote: "USDT"}, req, decodeV); !errors.Is(err, market.ErrUnknownSymbol) {
		t.Errorf("FetchPair(btc) error = %v, want ErrUnknownSymbol", err)
	}
	if hits.Load() != before {
		t.Error("FetchPair sent a request for an invalid pair")
	}
}

var errTest = errors.New("test")

func TestWrap(t *testing.T) {
	c := New(Config{Venue: "binance"})
	if err := c.Wrap(nil, "ticker %s", "BTCUSDT"); err != nil {
		t.Errorf("Wrap(nil) = %v", err)
	}
	err := c.Wrap(market.ErrUnavailable, "ticker %s", "BTCUSDT")
	if !errors.Is(err, market.ErrUnavailable) || err.Error() != "binance ticker BTCUSDT: market data unavailable" {
		t.Errorf("Wrap = %q", err)
	}
}

func TestParam(t *testing.T) {
	names := map[time.Duration]string{time.Hour: "1h"}
	if v, err := Param(names, time.Hour, "period"); v != "1h" || err != nil {
		t.Errorf("Param(1h) = %q, %v", v, err)
	}
	_, err := Param(names, 2*time.Hour, "period")
	if !errors.Is(err, market.ErrUnsupported) || err.Error() != "unsupported request: period 2h0m0s" {
		t.Errorf("Param(2h) error = %v, want ErrUnsupported naming the period", err)
	}
	// An unsupported request fails after the pair check and sends nothing.
	c := New(Config{Venue: "v", HTTP: &http.Client{Transport: failTransport{t}}})
	req := Request{Endpoint: EndpointOIHistory, URL: "http://127.0.0.1:1/x", Err: err}
	if _, err := FetchPair(context.Background(), c, market.Pair{Base: "BTC", Quote: "USDT"}, req, func([]byte) (int, error) { return 0, nil }); !errors.Is(err, market.ErrUnsupported) {
		t.Errorf("FetchPair with Err = %v, want ErrUnsupported", err)
	}
	if _, err := FetchPair(context.Background(), c, market.Pair{}, req, func([]byte) (int, error) { return 0, nil }); !errors.Is(err, market.ErrUnknownSymbol) {
		t.Errorf("FetchPair with Err and no pair = %v, want the pair checked first", err)
	}
}

type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.t.Error("a request was sent")
	return nil, errTest
}

// FuzzText: Text decodes every JSON string exactly as a Go string would, and
// every number as json.Number keeps it.
func FuzzText(f *testing.F) {
	for _, s := range []string{`"1.5"`, `1.5`, `"a\"b"`, `"\u00e9"`, "\"\xff\"", `null`, `"\/"`, `-0`, `true`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got Text
		err := json.Unmarshal(in, &got)
		var s string
		if json.Unmarshal(in, &s) == nil && !bytes.Equal(bytes.TrimSpace(in), []byte("null")) {
			if err != nil || string(got) != s {
				t.Fatalf("Text(%q) = %q, %v; as a string %q", in, got, err, s)
			}
		}
		var n json.Number
		if json.Unmarshal(in, &n) == nil && !bytes.Equal(bytes.TrimSpace(in), []byte("null")) && !strings.HasPrefix(string(bytes.TrimSpace(in)), `"`) {
			if err != nil || string(got) != string(n) {
				t.Fatalf("Text(%q) = %q, %v; as a number %q", in, got, err, n)
			}
		}
	})
}

// TestGetReusesBodies: response buffers are pooled between requests, yet
// each decode sees exactly its own body, a short one after a long one
// included, even while several requests run at once.
func TestGetReusesBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.URL.Query().Get("body")))
	}))
	defer srv.Close()
	c := New(Config{Venue: "v", HTTP: srv.Client()})
	bodies := []string{`{"v":"` + strings.Repeat("x", 5000) + `"}`, `{"v":"1"}`, `[]`, `{"v":"` + strings.Repeat("y", 300) + `"}`}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, want := range bodies {
				err := c.Get(t.Context(), EndpointTicker, srv.URL+"/x?body="+url.QueryEscape(want), 1<<20, func(b []byte) error {
					if string(b) != want {
						t.Errorf("decode saw %.40q (%d bytes), want %.40q (%d bytes)", b, len(b), want, len(want))
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
