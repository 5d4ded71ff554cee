package chart

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// drawn renders c as BTC-USDT on iv and returns the canvas with the layout
// and scale render used, so tests can look where things should be.
func drawn(c []market.Candle, iv market.Interval) (canvas, layout, scale) {
	return drawnAs(btc, c, iv)
}

func drawnAs(pair market.Pair, c []market.Candle, iv market.Interval) (canvas, layout, scale) {
	s := newScale(c)
	img := render(pair, iv, c, s)
	return canvas{img}, newLayout(len(c), &s, format.Price(c[len(c)-1].C), fonts().label), s
}

// count is how many pixels of r are ink k at full strength.
func count(cv canvas, r image.Rectangle, k ink) (n int) {
	r = r.Intersect(cv.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cv.at(x, y) == k {
				n++
			}
		}
	}
	return n
}

// chartCase is a window of candles to draw.
type chartCase struct {
	name string
	iv   market.Interval
	c    []market.Candle
}

// TestCandleColours checks the drawing itself: a rising candle is green and
// a falling one red, at the x and rows the layout gives them.
func TestCandleColours(t *testing.T) {
	c := make([]market.Candle, 60)
	for i := range c {
		c[i] = market.Candle{Open: start.Add(time.Duration(i) * time.Hour), O: 100, H: 101, L: 99, C: 100, Volume: 10}
	}
	c[5] = market.Candle{Open: c[5].Open, O: 100, H: 111, L: 99, C: 110, Volume: 50} // rising
	c[6] = market.Candle{Open: c[6].Open, O: 110, H: 111, L: 95, C: 96, Volume: 40}  // falling
	c[7] = market.Candle{Open: c[7].Open, O: 100, H: 100, L: 100, C: 100, Volume: 0} // doji, no volume
	cv, l, s := drawn(c, market.H1)

	body := l.slot - max(2, l.slot/4)
	x0 := func(i int) int { return l.left + i*l.slot + (l.slot-body)/2 }
	for _, tc := range []struct {
		name string
		x, y int
		want ink
	}{
		{"rising body is green", x0(5), s.y(107), inkUp},
		{"rising body right edge", x0(5) + body - 1, s.y(107), inkUp},
		{"falling body is red", x0(6), s.y(103), inkDown},
		{"falling lower wick is red", l.centre(6), s.y(95.5), inkDown},
		{"gap after rising body is background", x0(5) + body, s.y(107), inkBg},
		{"rising volume bar is dim green", x0(5), volBottom - 1, inkUpVol},
		{"falling volume bar is dim red", x0(6), volBottom - 1, inkDownVol},
		{"no volume leaves background", x0(7), volBottom - 1, inkBg},
		{"doji keeps one row", x0(7), s.y(100), inkUp},
		{"corner is background", 0, 0, inkBg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cv.at(tc.x, tc.y); got != tc.want {
				t.Errorf("pixel (%d,%d) = %v, want %v", tc.x, tc.y, inkColors[got], inkColors[tc.want])
			}
		})
	}

	for _, tc := range []struct {
		k      ink
		period int
	}{{inkEMA20, emaFast}, {inkEMA50, emaSlow}} {
		// Full-strength EMA pixels in candle i's column of the price pane.
		strokes := func(i int) int { return count(cv, image.Rect(l.centre(i), priceTop, l.centre(i)+1, priceBottom), tc.k) }
		if n := strokes(tc.period - 5); n != 0 {
			t.Errorf("EMA%d drawn at candle %d (%d pixels), before its seed", tc.period, tc.period-5, n)
		}
		if n := strokes(tc.period + 3); n == 0 {
			t.Errorf("no EMA%d pixels at candle %d", tc.period, tc.period+3)
		}
	}
}

// TestAxes checks that the chart carries its labels where a reader looks
// for them: text on the price axis at each level, on the time axis under
// each tick, and the title and legend above the plot.
func TestAxes(t *testing.T) {
	for _, tc := range []chartCase{
		{"btc 1h", market.H1, series(Limit, market.H1, 97000)},
		{"eth 15m", market.M15, series(Limit, market.M15, 3500)},
		{"tiny 1d", market.D1, series(Limit, market.D1, 0.00001234)},
		{"minimum", market.M15, series(MinCandles, market.M15, 97000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cv, l, s := drawn(tc.c, tc.iv)
			half := (fonts().label.ascent + 1) / 2
			lastY := s.y(tc.c[len(tc.c)-1].C)
			labelled := 0
			for _, v := range s.levels[:s.nLevels] {
				y := s.y(v)
				if abs(y-lastY) < 3*half { // under the last-price tag
					continue
				}
				if n := count(cv, image.Rect(l.plotRight+1, y-half, width, y+half+1), inkLabel); n < 10 {
					t.Errorf("level %s at row %d: %d label pixels on the price axis", s.label(v), y, n)
				}
				labelled++
			}
			if labelled < minLevels-1 {
				t.Errorf("%d labelled levels, want at least %d", labelled, minLevels-1)
			}

			ticks := timeTicks(tc.c, tc.iv, l.slot)
			if len(ticks) < 3 {
				t.Errorf("%d time ticks, want at least 3", len(ticks))
			}
			for _, tk := range ticks {
				x := l.centre(tk.i)
				if n := count(cv, image.Rect(x-20, timeAxis+1, x+20, height), inkLabel); n < 10 {
					t.Errorf("tick %q at x %d: %d label pixels on the time axis", tk.label, x, n)
				}
			}

			title := image.Rect(0, 0, width, priceTop-10)
			for _, k := range []ink{inkTitle, inkLabel, inkEMA20} {
				if n := count(cv, title, k); n < 50 {
					t.Errorf("%d pixels of %v in the title band, want the title and legend", n, inkColors[k])
				}
			}
			if slow := count(cv, title, inkEMA50); (len(tc.c) >= emaSlow) != (slow > 0) {
				t.Errorf("%d EMA50 legend pixels with %d candles", slow, len(tc.c))
			}
		})
	}
}

// TestTitleFits checks that the title and the legend never overlap: a long
// pair with a tiny price gives up the change and the legend's values first.
func TestTitleFits(t *testing.T) {
	for _, tc := range []struct {
		pair market.Pair
		base float64
	}{
		{btc, 97000},
		{market.Pair{Base: "10000000AIDOGE", Quote: "USDT"}, 0.0000001234},
	} {
		t.Run(tc.pair.String(), func(t *testing.T) {
			cv, _, _ := drawnAs(tc.pair, series(Limit, market.M15, tc.base), market.M15)
			titleEnd, legendStart := 0, width
			for y := range priceTop - 10 {
				for x := range width {
					switch cv.at(x, y) {
					case inkTitle, inkLabel:
						titleEnd = max(titleEnd, x)
					case inkEMA20, inkEMA50:
						legendStart = min(legendStart, x)
					}
				}
			}
			if legendStart == width || titleEnd >= legendStart {
				t.Errorf("title ends at x %d, legend starts at x %d: want both, apart", titleEnd, legendStart)
			}
		})
	}
}

// TestLastPriceTag checks the tag on the price axis: centred on the last
// close's row and coloured by the last candle's direction.
func TestLastPriceTag(t *testing.T) {
	rising := series(Limit, market.H1, 97000)
	falling := series(Limit, market.H1, 97000)
	falling[Limit-1].C = falling[Limit-1].O * 0.995
	for _, tc := range []struct {
		name string
		c    []market.Candle
		want ink
	}{{"rising", rising, inkUp}, {"falling", falling, inkDown}} {
		t.Run(tc.name, func(t *testing.T) {
			cv, _, s := drawn(tc.c, market.H1)
			top, bottom := -1, -1
			for y := range height {
				if cv.at(width-2, y) == tc.want {
					if top < 0 {
						top = y
					}
					bottom = y
				}
			}
			want := s.y(tc.c[len(tc.c)-1].C)
			if mid := (top + bottom) / 2; top < 0 || abs(mid-want) > 1 {
				t.Errorf("tag rows %d..%d (middle %d), want centred on the last close's row %d", top, bottom, mid, want)
			}
			if n := count(cv, image.Rect(width-130, want-5, width, want+6), inkTagText); n < 20 {
				t.Errorf("%d tag text pixels, want the last price written in the tag", n)
			}
		})
	}
}

// TestGoldenPNG compares whole charts with stored images, so a missing or
// moved axis, legend or candle fails. A few pixels may differ slightly, as
// the glyph rasterizer is floating point. go test -update rewrites them.
func TestGoldenPNG(t *testing.T) {
	update := flag.Lookup("update").Value.(flag.Getter).Get().(bool) // defined by modulestest
	for _, tc := range []chartCase{
		{"btc_1h", market.H1, series(Limit, market.H1, 97000)},
		{"tiny_15m", market.M15, series(Limit, market.M15, 0.00001234)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := png.Encode(&buf, render(btc, tc.iv, tc.c, newScale(tc.c))); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.name+".png")
			if update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			got, err := png.Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			want := decodeFile(t, path)
			if got.Bounds() != want.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
			}
			const tolerance, maxOff = 0x18, 20 // per 8-bit channel; pixels beyond it
			off := 0
			for y := range want.Bounds().Dy() {
				for x := range want.Bounds().Dx() {
					if channelDiff(got.At(x, y), want.At(x, y)) > tolerance {
						off++
					}
				}
			}
			if off > maxOff {
				out := filepath.Join(os.TempDir(), "chart-golden-"+tc.name+".png") // outlives the test, to look at
				if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
					t.Log(err)
				}
				t.Errorf("%d pixels differ from %s by more than %d, want at most %d; got %s", off, path, tolerance, maxOff, out)
			}
		})
	}
}

func decodeFile(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func channelDiff(a, b color.Color) uint32 {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) uint32 { return max(x, y) - min(x, y) }
	return max(d(ar, br), d(ag, bg), d(ab, bb)) >> 8
}

func TestScale(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lo, hi     float64
		wantStep   float64
		wantLevels []float64
	}{
		// 2,500 puts five levels in the range and 2,000 six: six wins.
		{"btc window", 96_806, 107_632.31, 2000, []float64{98_000, 100_000, 102_000, 104_000, 106_000, 108_000}},
		// 1,000 gives four levels and 500 eight: the range widens to 95,000.
		{"widened", 95_210, 98_870, 1000, []float64{95_000, 96_000, 97_000, 98_000, 99_000}},
		{"tiny", 0.00001201, 0.00001299, 0.0000002, []float64{0.0000120, 0.0000122, 0.0000124, 0.0000126, 0.0000128, 0.0000130}},
		{"flat window", 100, 100, 0.5, []float64{99, 99.5, 100, 100.5, 101}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScale([]market.Candle{{O: tc.lo, H: tc.hi, L: tc.lo, C: tc.hi}})
			if !approx(s.step, tc.wantStep) {
				t.Errorf("step %g, want %g", s.step, tc.wantStep)
			}
			got := s.levels[:s.nLevels]
			if len(got) != len(tc.wantLevels) {
				t.Fatalf("levels %v, want %v", got, tc.wantLevels)
			}
			for i := range got {
				if !approx(got[i], tc.wantLevels[i]) {
					t.Errorf("levels %v, want %v", got, tc.wantLevels)
					break
				}
				if y := s.y(got[i]); y < priceTop || y >= priceBottom {
					t.Errorf("level %g at row %d, outside the price pane", got[i], y)
				}
			}
		})
	}
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

// TestLevelCount sweeps ranges over three decades: each gets minLevels to
// maxLevels levels, no two printed alike.
func TestLevelCount(t *testing.T) {
	for hi := 100.5; hi < 100_000; hi *= 1.07 {
		s := newScale([]market.Candle{{O: 100, H: hi, L: 100, C: hi}})
		if s.nLevels < minLevels || s.nLevels > maxLevels {
			t.Errorf("range 100..%.2f: %d levels %v, want %d to %d", hi, s.nLevels, s.levels[:s.nLevels], minLevels, maxLevels)
		}
		seen := map[string]bool{}
		for _, v := range s.levels[:s.nLevels] {
			l := s.label(v)
			if seen[l] {
				t.Errorf("range 100..%.2f: label %s twice", hi, l)
			}
			seen[l] = true
		}
	}
}

func TestLevelLabels(t *testing.T) {
	for _, tc := range []struct {
		step, v float64
		want    string
	}{
		{2000, 98_000, "98,000"}, {2500, 102_500, "102,500"}, {0.25, 3.5, "3.50"},
		{0.05, 2.55, "2.55"}, {0.0000002, 0.0000124, "0.0000124"}, {0.0000025, 0.0000125, "0.0000125"},
	} {
		s := scale{step: tc.step, dec: decimals(tc.step)}
		if got := s.label(tc.v); got != tc.want {
			t.Errorf("label(%g) with step %g = %q, want %q", tc.v, tc.step, got, tc.want)
		}
	}
}

// bars is n flat candles of iv opening from t0.
func bars(t0 time.Time, n int, iv market.Interval) []market.Candle {
	c := make([]market.Candle, n)
	for i := range c {
		c[i] = market.Candle{Open: t0.Add(time.Duration(i) * iv.Duration()), O: 1, H: 1, L: 1, C: 1}
	}
	return c
}

func TestTimeTicks(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    []market.Candle
		iv   market.Interval
		slot int
		want string
	}{
		{"15m every 4h", bars(start, Limit, market.M15), market.M15, 7, "1 Mar 04:00 08:00 12:00 16:00 20:00 2 Mar 04:00"},
		{"1h every day", bars(start, Limit, market.H1), market.H1, 7, "1 Mar 2 Mar 3 Mar 4 Mar 5 Mar"},
		{"4h every 3 days", bars(start, Limit, market.H4), market.H4, 7, "1 Mar 4 Mar 7 Mar 10 Mar 13 Mar 16 Mar 19 Mar"},
		// The 29th is too close to the 1st: the month label wins.
		{"1d twice a month", bars(start, Limit, market.D1), market.D1, 7, "Mar 15 Mar Apr 15 Apr May 15 May Jun 15 Jun"},
		{"4h over new year", bars(time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), 30, market.H4), market.H4, 7, "28 Dec 1 Jan"},
		{"1d over new year", bars(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), 60, market.D1), market.D1, 7, "Dec 15 Dec 2027 15 Jan"},
		// A venue whose days open at 16:00 UTC still gets a label per bucket.
		{"1d opening at 16:00", bars(start.Add(16*time.Hour), 40, market.D1), market.D1, 7, "Mar 15 Mar Apr"},
		{"wide candles, finer ticks", bars(start, MinCandles, market.M15), market.M15, 32, "1 Mar 01:00 02:00 03:00 04:00"},
		{"mid-bucket start", bars(start.Add(90*time.Minute), 30, market.H1), market.H1, 7, "2 Mar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, tk := range timeTicks(tc.c, tc.iv, tc.slot) {
				got = append(got, tk.label)
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("ticks %q, want %q", s, tc.want)
			}
		})
	}
}

func TestBlend(t *testing.T) {
	cv := newCanvas(4, 1)
	cv.blend(0, 0, inkLabel, 0)
	cv.blend(1, 0, inkLabel, 128)
	cv.blend(2, 0, inkLabel, 255)
	cv.fill(image.Rect(3, 0, 4, 1), inkUp)
	cv.blend(3, 0, inkEMA20, 100) // no shades over a candle: rounds to the candle
	if got := cv.at(0, 0); got != inkBg {
		t.Errorf("no coverage: %v, want background", inkColors[got])
	}
	if sh := palette.shades[cv.Pix[1]]; sh.fg != inkLabel || sh.bg != inkBg || sh.level == 0 || sh.level == rampLevels {
		t.Errorf("half coverage: shade %+v, want a shade of the label ink over the background", sh)
	}
	if got := cv.at(2, 0); got != inkLabel {
		t.Errorf("full coverage: %v, want the label ink", inkColors[got])
	}
	if got := cv.at(3, 0); got != inkUp {
		t.Errorf("faint line over a candle: %v, want the candle", inkColors[got])
	}
	cv.blend(1, 0, inkLabel, 40) // a fainter second stroke keeps the stronger shade
	if sh := palette.shades[cv.Pix[1]]; sh.level < rampLevels/2 {
		t.Errorf("overlapping strokes: level %d, want the stronger coverage kept", sh.level)
	}
	cv.blend(-1, 5, inkLabel, 255) // off the canvas: ignored, no panic
}
