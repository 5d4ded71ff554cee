package indicator

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

const tol = 1e-6

// The StockCharts RSI worked example (cs-rsi.xls, 14 periods). The sheet
// shows closes to two decimals (stockChartsShown) but computes with four
// (stockChartsCloses); its published RSI column, first value at the 15th
// close, is only reproducible from the four-decimal closes.
var (
	stockChartsCloses = []float64{
		44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931,
		46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521,
		45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
	}
	stockChartsShown = []float64{
		44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28,
		46.00, 46.03, 46.41, 46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35, 44.03, 44.18, 44.22, 44.57,
		43.42, 42.66, 43.13,
	}
	stockChartsRSI = []float64{
		70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46, 41.87,
		45.46, 37.30, 33.08, 37.77,
	}
)

// walk is a deterministic random walk of n hourly candles around 97,000 with
// realistic wicks and volumes.
func walk(n int, seed uint64) []market.Candle {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]market.Candle, n)
	price := 97000.0
	t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		o := price
		c := o * math.Exp(r.NormFloat64()*0.006+0.0002)
		h := max(o, c) * (1 + r.Float64()*0.003)
		l := min(o, c) * (1 - r.Float64()*0.003)
		out[i] = market.Candle{Open: t.Add(time.Duration(i) * time.Hour), O: o, H: h, L: l, C: c, Volume: 400 + r.Float64()*900}
		price = c
	}
	return out
}

func closesOf(c []market.Candle) []float64 {
	out := make([]float64, len(c))
	for i, b := range c {
		out[i] = b.C
	}
	return out
}

// The naive* functions are independent, straightforward textbook versions:
// quadratic where that is simplest, no buffer reuse, no shared helpers.

func naiveEMA(src []float64, n int) []float64 {
	out := make([]float64, len(src))
	for i := range out {
		out[i] = math.NaN()
		if i < n-1 {
			continue
		}
		seed := 0.0
		for _, v := range src[:n] {
			seed += v
		}
		e := seed / float64(n)
		alpha := 2.0 / (float64(n) + 1.0)
		for j := n; j <= i; j++ {
			e = e + alpha*(src[j]-e)
		}
		out[i] = e
	}
	return out
}

func naiveRSI(closes []float64, n int) []float64 {
	out := make([]float64, len(closes))
	for i := range out {
		out[i] = math.NaN()
	}
	var gains, losses []float64
	for i := 1; i < len(closes); i++ {
		d := closes[i] - closes[i-1]
		gains = append(gains, math.Max(d, 0))
		losses = append(losses, math.Max(-d, 0))
	}
	if len(gains) < n {
		return out
	}
	avg := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	ag, al := avg(gains[:n]), avg(losses[:n])
	for i := n; ; i++ {
		out[i] = 100 * ag / (ag + al) // equal to 100 − 100/(1+RS)
		if i == len(gains) {
			break
		}
		ag = (ag*float64(n-1) + gains[i]) / float64(n)
		al = (al*float64(n-1) + losses[i]) / float64(n)
	}
	return out
}

func naiveBollinger(closes []float64, n int, k float64, i int) (mid, up, lo, pctB float64) {
	w := closes[i-n+1 : i+1]
	for _, v := range w {
		mid += v
	}
	mid /= float64(n)
	var variance float64
	for _, v := range w {
		variance += math.Pow(v-mid, 2) / float64(n)
	}
	sd := math.Sqrt(variance)
	up, lo = mid+k*sd, mid-k*sd
	return mid, up, lo, (closes[i] - lo) / (up - lo)
}

func naiveATR(c []market.Candle, n int) []float64 {
	out := make([]float64, len(c))
	for i := range out {
		out[i] = math.NaN()
	}
	tr := []float64{math.NaN()}
	for i := 1; i < len(c); i++ {
		tr = append(tr, math.Max(c[i].H-c[i].L, math.Max(math.Abs(c[i].H-c[i-1].C), math.Abs(c[i].L-c[i-1].C))))
	}
	if len(c) <= n {
		return out
	}
	a := 0.0
	for _, v := range tr[1 : n+1] {
		a += v / float64(n)
	}
	out[n] = a
	for i := n + 1; i < len(c); i++ {
		a = (a*float64(n-1) + tr[i]) / float64(n)
		out[i] = a
	}
	return out
}

func naiveVolatility(closes []float64, window int, ppy float64) float64 {
	var rets []float64
	for i := len(closes) - window; i < len(closes); i++ {
		rets = append(rets, math.Log(closes[i])-math.Log(closes[i-1]))
	}
	mean := 0.0
	for _, r := range rets {
		mean += r / float64(len(rets))
	}
	v := 0.0
	for _, r := range rets {
		v += (r - mean) * (r - mean) / float64(len(rets)-1)
	}
	return math.Sqrt(v * ppy)
}

// same reports whether a and b agree to tol, treating NaN as equal to NaN.
func same(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

func compare(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	for i := range got {
		if !same(got[i], want[i]) {
			t.Fatalf("%s[%d] = %.10f, want %.10f", name, i, got[i], want[i])
		}
	}
}

func TestRSIStockCharts(t *testing.T) {
	got := RSI(nil, stockChartsCloses, 14)
	for i := range 14 {
		if !math.IsNaN(got[i]) {
			t.Errorf("RSI[%d] = %v during warm-up, want NaN", i, got[i])
		}
	}
	for i, want := range stockChartsRSI {
		v := got[14+i]
		if r := math.Round(v*100) / 100; math.Abs(r-want) > 1e-9 {
			t.Errorf("RSI at close %d = %.4f (rounds to %.2f), published %.2f", 15+i, v, r, want)
		}
	}
	compare(t, "RSI vs naive", got, naiveRSI(stockChartsCloses, 14))
	for i, v := range stockChartsCloses {
		if r := math.Round(v*100) / 100; math.Abs(r-stockChartsShown[i]) > 1e-9 {
			t.Errorf("close %d = %v does not round to the shown %v", i+1, v, stockChartsShown[i])
		}
	}
	// From the rounded closes the first RSI is 70.46, not the published 70.53.
	if got := RSI(nil, stockChartsShown, 14)[14]; math.Abs(got-70.4641) > 1e-4 {
		t.Errorf("RSI of the shown closes = %.4f, want 70.4641", got)
	}
	compare(t, "RSI of shown closes vs naive", RSI(nil, stockChartsShown, 14), naiveRSI(stockChartsShown, 14))
}

func TestAgainstNaive(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"300 candles", 300},
		{"60 candles", 60},
		{"exactly MACD warm-up", 34},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := walk(tc.n, uint64(tc.n))
			closes := closesOf(c)

			compare(t, "RSI", RSI(nil, closes, 14), naiveRSI(closes, 14))
			for _, n := range []int{20, 50, 200} {
				compare(t, "EMA", EMA(nil, closes, n), naiveEMA(closes, n))
			}

			m := MACD(MACDSeries{}, closes, 12, 26, 9)
			e12, e26 := naiveEMA(closes, 12), naiveEMA(closes, 26)
			line := make([]float64, len(closes))
			for i := range line {
				line[i] = e12[i] - e26[i]
			}
			compare(t, "MACD line", m.Line, line)
			sig := make([]float64, len(closes))
			for i := range sig {
				sig[i] = math.NaN()
			}
			if len(closes) >= 26 {
				copy(sig[25:], naiveEMA(line[25:], 9))
			}
			compare(t, "MACD signal", m.Signal, sig)
			for i := range m.Hist {
				if !same(m.Hist[i], line[i]-sig[i]) {
					t.Fatalf("MACD hist[%d] = %v, want %v", i, m.Hist[i], line[i]-sig[i])
				}
			}

			b := Bollinger(Bands{}, closes, 20, 2)
			for i := 19; i < len(closes); i++ {
				mid, up, lo, pb := naiveBollinger(closes, 20, 2, i)
				if !same(b.Mid[i], mid) || !same(b.Upper[i], up) || !same(b.Lower[i], lo) || !same(b.PctB[i], pb) {
					t.Fatalf("Bollinger[%d] = %v %v %v %v, want %v %v %v %v",
						i, b.Mid[i], b.Upper[i], b.Lower[i], b.PctB[i], mid, up, lo, pb)
				}
			}

			compare(t, "ATR", ATR(nil, c, 14), naiveATR(c, 14))

			ppy := PeriodsPerYear(market.H1)
			if got, want := Volatility(closes, 20, ppy), naiveVolatility(closes, 20, ppy); !same(got, want) {
				t.Errorf("Volatility = %v, want %v", got, want)
			}
		})
	}
}

func TestWarmup(t *testing.T) {
	closes := closesOf(walk(300, 1))
	c := walk(300, 1)
	m := MACD(MACDSeries{}, closes, 12, 26, 9)
	b := Bollinger(Bands{}, closes, 20, 2)
	for _, tc := range []struct {
		name   string
		series []float64
		warmup int
	}{
		{"RSI14 needs 15", RSI(nil, closes, 14), 15},
		{"EMA20 needs 20", EMA(nil, closes, 20), 20},
		{"EMA200 needs 200", EMA(nil, closes, 200), 200},
		{"MACD signal needs 34", m.Signal, 34},
		{"MACD hist needs 34", m.Hist, 34},
		{"MACD line needs 26", m.Line, 26},
		{"Bollinger needs 20", b.PctB, 20},
		{"ATR14 needs 15", ATR(nil, c, 14), 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, v := range tc.series {
				if nan := math.IsNaN(v); nan != (i < tc.warmup-1) {
					t.Fatalf("index %d: NaN=%v, warm-up %d", i, nan, tc.warmup)
				}
			}
		})
	}
	for _, tc := range []struct {
		name      string
		got, want int
	}{
		{"RSIWarmup", RSIWarmup(14), 15},
		{"EMAWarmup", EMAWarmup(200), 200},
		{"MACDWarmup", MACDWarmup(26, 9), 34},
		{"BollingerWarmup", BollingerWarmup(20), 20},
		{"ATRWarmup", ATRWarmup(14), 15},
		{"VolatilityWarmup", VolatilityWarmup(20), 21},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestKnownValues(t *testing.T) {
	ramp := make([]float64, 20)
	for i := range ramp {
		ramp[i] = float64(i + 1)
	}
	flat := []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}
	b := Bollinger(Bands{}, ramp, 20, 2)
	bf := Bollinger(Bands{}, flat, 20, 2)
	// Population variance of 1..20 is (20²−1)/12.
	sd := math.Sqrt((20*20 - 1) / 12.0)
	// Alternating ±1% log returns: mean 0, sample variance 20·0.01²/19.
	alt := []float64{100}
	for i := range 20 {
		alt = append(alt, alt[i]*math.Exp(0.01*float64(1-2*(i%2))))
	}
	geo := []float64{100}
	for i := range 20 {
		geo = append(geo, geo[i]*1.01)
	}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"Bollinger mid of 1..20", b.Mid[19], 10.5},
		{"Bollinger upper of 1..20", b.Upper[19], 10.5 + 2*sd},
		{"Bollinger %B of 1..20", b.PctB[19], (20 - (10.5 - 2*sd)) / (4 * sd)},
		{"Bollinger flat %B", bf.PctB[19], 0.5},
		{"Bollinger flat upper", bf.Upper[19], 5},
		{"EMA of a constant", EMA(nil, flat, 10)[19], 5},
		{"EMA seed is the SMA", EMA(nil, ramp, 10)[9], 5.5},
		{"EMA step", EMA(nil, ramp, 10)[10], 11*2.0/11 + 5.5*9/11},
		{"SMA of 1..20 over 4", SMA(nil, ramp, 4)[19], 18.5},
		{"RSI of a flat series", RSI(nil, flat, 14)[19], 50},
		{"RSI of a rising series", RSI(nil, ramp, 14)[19], 100},
		{"Volatility alternating", Volatility(alt, 20, 365), 0.01 * math.Sqrt(20.0/19) * math.Sqrt(365)},
		{"Volatility of constant growth", Volatility(geo, 20, 365), 0},
		{"PeriodsPerYear 15m", PeriodsPerYear(market.M15), 35040},
		{"PeriodsPerYear 1d", PeriodsPerYear(market.D1), 365},
		{"PeriodsPerYear unknown", PeriodsPerYear("2w"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !same(tc.got, tc.want) {
				t.Errorf("got %.10f, want %.10f", tc.got, tc.want)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	closes := closesOf(walk(40, 3))
	allNaN := func(xs []float64) bool {
		for _, x := range xs {
			if !math.IsNaN(x) {
				return false
			}
		}
		return true
	}
	for _, tc := range []struct {
		name   string
		series []float64
		length int
	}{
		{"RSI period 0", RSI(nil, closes, 0), 40},
		{"RSI too short", RSI(nil, closes[:14], 14), 14},
		{"RSI empty", RSI(nil, nil, 14), 0},
		{"EMA negative period", EMA(nil, closes, -3), 40},
		{"EMA too short", EMA(nil, closes[:19], 20), 19},
		{"EMA all NaN", EMA(nil, []float64{math.NaN(), math.NaN()}, 1), 2},
		{"SMA period 0", SMA(nil, closes, 0), 40},
		{"ATR too short", ATR(nil, walk(14, 1), 14), 14},
		{"ATR period 0", ATR(nil, walk(20, 1), 0), 20},
		{"MACD too short", MACD(MACDSeries{}, closes[:25], 12, 26, 9).Hist, 25},
		{"Bollinger period 0", Bollinger(Bands{}, closes, 0, 2).PctB, 40},
		{"Bollinger too short", Bollinger(Bands{}, closes[:19], 20, 2).Upper, 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.series) != tc.length {
				t.Errorf("len %d, want %d", len(tc.series), tc.length)
			}
			if !allNaN(tc.series) {
				t.Errorf("want all NaN, got %v", tc.series)
			}
		})
	}
	for _, tc := range []struct {
		name string
		got  float64
	}{
		{"Volatility too short", Volatility(closes[:20], 20, 365)},
		{"Volatility window 1", Volatility(closes, 1, 365)},
		{"Volatility zero close", Volatility(append([]float64{0}, closes[:20]...), 20, 365)},
		{"Volatility negative close", Volatility(append(closes[:20:20], -1), 20, 365)},
		{"VolumeRatio too short", VolumeRatio(walk(19, 1), 20)},
		{"VolumeRatio zero volume", VolumeRatio(make([]market.Candle, 20), 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !math.IsNaN(tc.got) {
				t.Errorf("got %v, want NaN", tc.got)
			}
		})
	}
}

func TestBuffersReused(t *testing.T) {
	c := walk(300, 5)
	closes := closesOf(c)
	rsi := make([]float64, 0, 300)
	ema := make([]float64, 0, 300)
	atr := make([]float64, 0, 300)
	m := MACD(MACDSeries{}, closes, 12, 26, 9)
	b := Bollinger(Bands{}, closes, 20, 2)
	allocs := testing.AllocsPerRun(10, func() {
		rsi = RSI(rsi, closes, 14)
		ema = EMA(ema, closes, 200)
		atr = ATR(atr, c, 14)
		m = MACD(m, closes, 12, 26, 9)
		b = Bollinger(b, closes, 20, 2)
	})
	if allocs != 0 {
		t.Errorf("allocations with sized buffers = %v, want 0", allocs)
	}
	// A too-small buffer grows; a larger one shrinks to the input length.
	if got := EMA(make([]float64, 2), closes, 20); len(got) != 300 {
		t.Errorf("grown len %d, want 300", len(got))
	}
	if got := RSI(make([]float64, 500), closes, 14); len(got) != 300 {
		t.Errorf("resliced len %d, want 300", len(got))
	}
	// EMA in place equals EMA into a fresh buffer.
	in := append([]float64(nil), closes...)
	compare(t, "EMA in place", EMA(in, in, 20), EMA(nil, closes, 20))
}

func TestVolumeRatio(t *testing.T) {
	c := make([]market.Candle, 20)
	for i := range c {
		c[i].Volume = 100
	}
	c[19].Volume = 290 // average (19·100 + 290)/20 = 109.5
	if got, want := VolumeRatio(c, 20), 290/109.5; !same(got, want) {
		t.Errorf("VolumeRatio = %v, want %v", got, want)
	}
}

func TestLevels(t *testing.T) {
	bars := func(lows, highs []float64) []market.Candle {
		c := make([]market.Candle, len(lows))
		for i := range c {
			c[i] = market.Candle{L: lows[i], H: highs[i], C: (lows[i] + highs[i]) / 2}
		}
		return c
	}
	//        index:  0   1   2   3   4   5   6   7   8   9  10  11  12
	lows := []float64{10, 9, 8, 7, 8, 9, 9.2, 11, 10, 9.5, 10, 11, 12}
	highs := []float64{12, 11, 10, 9, 10, 11, 12, 14, 12, 11, 12, 13, 14}
	c := bars(lows, highs)
	for _, tc := range []struct {
		name       string
		k          int
		price      float64
		sup, resis float64
	}{
		{"between pivots", 2, 11, 9.5, 14}, // pivot lows 7 (3) and 9.5 (9); pivot high 14 (7)
		{"below every pivot low", 2, 6, math.NaN(), 14},
		{"above every pivot high", 2, 15, 9.5, math.NaN()},
		{"wider window", 3, 11, 7, 14}, // 9.2 at index 6 is within ±3 of index 9
		{"k zero", 0, 11, math.NaN(), math.NaN()},
		{"too few bars", 7, 11, math.NaN(), math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, r := Levels(c, tc.k, tc.price)
			if !same(s, tc.sup) || !same(r, tc.resis) {
				t.Errorf("Levels = %v, %v; want %v, %v", s, r, tc.sup, tc.resis)
			}
		})
	}
}

func TestStack(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name              string
		p, e20, e50, e200 float64
		want              Trend
		arrow             string
	}{
		{"strong up", 110, 105, 100, 90, StrongUp, "↑"},
		{"up below EMA200", 110, 105, 100, 120, Up, "↗"},
		{"up without EMA200", 110, 105, 100, nan, Up, "↗"},
		{"up without EMA50", 110, 105, nan, nan, Up, "↗"},
		{"strong down", 80, 85, 90, 100, StrongDown, "↓"},
		{"down", 80, 85, 90, 70, Down, "↘"},
		{"down without EMA50", 80, 85, nan, nan, Down, "↘"},
		{"mixed", 110, 95, 100, 90, Sideways, "→"},
		{"no EMA20", 110, nan, nan, nan, Sideways, "→"},
		{"price on EMA20", 100, 100, 90, 80, Sideways, "→"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Stack(tc.p, tc.e20, tc.e50, tc.e200)
			if got != tc.want || got.Arrow() != tc.arrow {
				t.Errorf("Stack = %v %s, want %v %s", got, got.Arrow(), tc.want, tc.arrow)
			}
		})
	}
	if StrongUp.String() != "strong uptrend" || Sideways.String() != "sideways" || Down.String() != "downtrend" {
		t.Error("Trend names wrong")
	}
}
