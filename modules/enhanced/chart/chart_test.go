package chart

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

var (
	btc   = market.Pair{Base: "BTC", Quote: "USDT"}
	start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
)

// series is n closed candles from start: a drifting wave with realistic
// wicks and volumes, deterministic so captions can be golden.
func series(n int, iv market.Interval, base float64) []market.Candle {
	out := make([]market.Candle, n)
	prev := base
	for i := range out {
		c := base * (1 + 0.0008*float64(i) + 0.02*math.Sin(float64(i)/9))
		out[i] = market.Candle{
			Open: start.Add(time.Duration(i) * iv.Duration()),
			O:    prev, H: max(prev, c) * 1.002, L: min(prev, c) * 0.998, C: c,
			Volume: 800 + 400*math.Abs(math.Cos(float64(i)/7)),
		}
		prev = c
	}
	return out
}

// after is the clock just after the n-th candle of iv closed.
func after(n int, iv market.Interval) func() time.Time {
	return func() time.Time { return start.Add(time.Duration(n)*iv.Duration() + 5*time.Minute) }
}

// fakeMarket lists BTC-USDT only and serves canned candles. The embedded
// nil Source lets it stand in for modules.Deps.Market; the module calling
// anything but Resolve and Candles would panic the test.
type fakeMarket struct {
	market.Source
	candles    []market.Candle
	candlesErr error
	resolveErr error

	mu    sync.Mutex // the memory test asks concurrently
	asked market.Interval
	limit int
}

func (f *fakeMarket) Resolve(_ context.Context, input string, kind market.Kind) (market.Pair, error) {
	if f.resolveErr != nil {
		return market.Pair{}, f.resolveErr
	}
	if kind != market.Spot {
		return market.Pair{}, fmt.Errorf("fake: kind %s: %w", kind, market.ErrUnsupported)
	}
	if strings.EqualFold(input, "btc") {
		return btc, nil
	}
	return market.Pair{}, &market.UnknownPairError{Input: input, Suggestions: []market.Pair{btc}}
}

func (f *fakeMarket) Candles(_ context.Context, _ market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	f.mu.Lock()
	f.asked, f.limit = iv, limit
	f.mu.Unlock()
	if f.candlesErr != nil {
		return nil, f.candlesErr
	}
	return f.candles, nil
}

func handle(t testing.TB, m *Module, args ...string) modules.Reply {
	t.Helper()
	r, err := m.Commands()[0].Handler.Handle(t.Context(), modules.Request{Command: "chart", Args: args})
	if err != nil {
		t.Fatalf("handle %q: %v", args, err)
	}
	return r
}

func TestHandleText(t *testing.T) {
	nan := series(Limit, market.H1, 97000)
	nan[50].C = math.NaN()
	for _, tc := range []struct {
		name string
		src  *fakeMarket
		args []string
	}{
		{"usage", &fakeMarket{}, nil},
		{"usage_too_many", &fakeMarket{}, []string{"btc", "1h", "extra"}},
		{"usage_too_many_pairs", &fakeMarket{}, strings.Fields("btc eth sol xrp doge ada")},
		{"bad_interval", &fakeMarket{}, []string{"btc", "<3m>"}},
		{"unknown_suggestions", &fakeMarket{}, []string{"btcc"}},
		{"unknown_escaped", &fakeMarket{}, []string{"<b>&"}},
		{"unavailable", &fakeMarket{candlesErr: fmt.Errorf("all venues: %w", market.ErrUnavailable)}, []string{"btc"}},
		{"resolve_unavailable", &fakeMarket{resolveErr: fmt.Errorf("instruments: %w", market.ErrUnavailable)}, []string{"btc"}},
		{"bad_data", &fakeMarket{candles: nan}, []string{"btc"}},
		{"short_history", &fakeMarket{candles: series(MinCandles-1, market.H1, 97000)}, []string{"btc"}},
		{"short_history_15m", &fakeMarket{candles: series(5, market.M15, 97000)}, []string{"btc", "15m"}},
		{"no_candles", &fakeMarket{candles: nil}, []string{"btc", "1d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(tc.src, after(Limit, market.H1))
			r := handle(t, m, tc.args...)
			if r.Photo != nil {
				t.Errorf("got a %d-byte photo, want a text reply", len(r.Photo))
			}
			modulestest.CheckHTML(t, r.Text)
			modulestest.Golden(t, tc.name, r.Text)
		})
	}
}

func TestHandleChart(t *testing.T) {
	openBar := series(Limit+1, market.H1, 97000)
	for _, tc := range []struct {
		name     string
		src      *fakeMarket
		now      func() time.Time
		args     []string
		wantIv   market.Interval
		wantBars int
	}{
		{"chart_default_1h", &fakeMarket{candles: series(Limit, market.H1, 97000)}, after(Limit, market.H1), []string{"btc"}, market.H1, Limit},
		{"chart_4h", &fakeMarket{candles: series(Limit, market.H4, 3500)}, after(Limit, market.H4), []string{"BTC", "4H"}, market.H4, Limit},
		{"chart_tiny_prices", &fakeMarket{candles: series(Limit, market.D1, 0.00001234)}, after(Limit, market.D1), []string{"btc", "1d"}, market.D1, Limit},
		{"chart_minimum", &fakeMarket{candles: series(MinCandles, market.M15, 97000)}, after(MinCandles, market.M15), []string{"btc", "15m"}, market.M15, MinCandles},
		// A still-open last bar is dropped, not drawn half-formed.
		{"chart_open_bar_dropped", &fakeMarket{candles: openBar}, after(Limit, market.H1), []string{"btc"}, market.H1, Limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(tc.src, tc.now)
			r := handle(t, m, tc.args...)
			if tc.src.asked != tc.wantIv || tc.src.limit != Limit {
				t.Errorf("asked for %d × %q candles, want %d × %q", tc.src.limit, tc.src.asked, Limit, tc.wantIv)
			}
			img, err := png.Decode(bytes.NewReader(r.Photo))
			if err != nil {
				t.Fatalf("photo does not decode: %v (caption %q)", err, r.Text)
			}
			if got := img.Bounds(); got != image.Rect(0, 0, width, height) {
				t.Errorf("image bounds %v, want %d×%d", got, width, height)
			}
			if n := utf8.RuneCountInString(r.Text); n > 1024 {
				t.Errorf("caption is %d characters, want ≤ 1024", n)
			}
			if want := fmt.Sprintf("· %d candles", tc.wantBars); !strings.Contains(r.Text, want) {
				t.Errorf("caption %q does not say %q", r.Text, want)
			}
			modulestest.CheckHTML(t, r.Text)
			modulestest.Golden(t, tc.name, r.Text)
		})
	}
}

func TestEncodeError(t *testing.T) {
	// A zero-size canvas is the one input png.Encoder rejects; the module
	// wraps the error instead of replying with a broken photo.
	m := New(&fakeMarket{}, nil)
	if _, err := m.encode(image.NewRGBA(image.Rect(0, 0, 0, 0))); err == nil || !strings.Contains(err.Error(), "encode png") {
		t.Errorf("encode of an empty canvas: err = %v, want a wrapped png error", err)
	}
}

func TestCommands(t *testing.T) {
	cmds := New(&fakeMarket{}, nil).Commands()
	if len(cmds) != 1 || cmds[0].Name != "chart" || !modules.ValidCommandName(cmds[0].Name) || cmds[0].Handler == nil {
		t.Fatalf("commands = %+v, want one valid /chart", cmds)
	}
	if _, ok := any(New(&fakeMarket{}, nil)).(modules.Sectioner); ok {
		t.Error("chart adds nothing to /price and must not be a Sectioner")
	}
	var found bool
	for _, i := range modules.Registered() {
		if i.ID == "enhanced.chart" {
			found = i.Flag == flags.Charts && i.Cost.Resident > 0 && i.Cost.PerRequest > 0
		}
	}
	if !found {
		t.Error("enhanced.chart is not registered with flag charts and a cost")
	}
}

func BenchmarkRender120(b *testing.B) {
	m := New(&fakeMarket{candles: series(Limit, market.H1, 97000)}, after(Limit, market.H1))
	var size int
	b.ReportAllocs()
	for b.Loop() {
		size = len(handle(b, m, "btc").Photo)
	}
	b.ReportMetric(float64(size), "png-bytes")
}
