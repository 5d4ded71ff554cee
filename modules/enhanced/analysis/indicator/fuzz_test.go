package indicator

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// FuzzIndicators runs every indicator over two series decoded from the same
// bytes: raw float64 bits (NaN, ±Inf, subnormals, anything) and price-like
// values (finite, positive). Periods come straight from the fuzzer, so they
// may be zero, negative or huge.
//
// For every input: no panic, outputs as long as the input, dst reused, and
// NaN at every position before the documented warm-up. For price-like input
// and a period the input can warm up: a finite value at and after the
// warm-up, RSI in [0, 100], ATR and volatility non-negative.
func FuzzIndicators(f *testing.F) {
	seed := func(vals ...float64) []byte {
		b := make([]byte, 0, 8*len(vals))
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	ramp := make([]float64, 60)
	for i := range ramp {
		ramp[i] = 100 + float64(i%7)*3 - float64(i%3)
	}
	f.Add(seed(ramp...), 14, 12, 26, 9, 2.0)
	f.Add(seed(1, 1, 1, 1, 1, 1, 1, 1), 3, 2, 4, 2, 2.0) // flat: RSI 50, %B 0.5
	f.Add(seed(math.NaN(), math.NaN(), 5, 6, 7, 8, 9), 2, 1, 3, 2, 1.0)
	f.Add(seed(math.Inf(1), -1, 0, math.MaxFloat64, math.SmallestNonzeroFloat64), 1, 1, 1, 1, math.Inf(1))
	f.Add([]byte{}, 0, 0, 0, 0, 0.0)
	f.Add(seed(1, 2, 3), -1, -5, math.MaxInt, math.MinInt, math.NaN())
	// Periods just short of the int range: warm-up arithmetic must not wrap.
	f.Add(seed(math.NaN(), math.NaN(), math.NaN(), 1, 2, 3), math.MaxInt/2-4, 1, math.MaxInt/2-4, math.MaxInt/2-4, 2.0)

	f.Fuzz(func(t *testing.T, data []byte, n, fast, slow, signal int, k float64) {
		raw := make([]float64, len(data)/8)
		for i := range raw {
			raw[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
		prices := make([]float64, len(data)/2)
		for i := range prices {
			// 0.01 to 655.36 in cent steps: repeats and flat runs are likely.
			prices[i] = (float64(binary.LittleEndian.Uint16(data[2*i:])) + 1) / 100
		}
		check(t, "raw", raw, n, fast, slow, signal, k, false)
		check(t, "prices", prices, n, fast, slow, signal, k, true)
	})
}

// check runs the indicators over src; wellFormed says src is price-like.
func check(t *testing.T, name string, src []float64, n, fast, slow, signal int, k float64, wellFormed bool) {
	t.Helper()
	candles := make([]market.Candle, len(src))
	for i, c := range src {
		prev := c
		if i > 0 {
			prev = src[i-1]
		}
		candles[i] = market.Candle{O: prev, H: max(prev, c) * 1.01, L: min(prev, c) * 0.99, C: c, Volume: math.Abs(c - prev)}
	}
	// A reused buffer with stale values: results must not depend on it.
	dirty := func() []float64 {
		d := make([]float64, len(src), len(src)+3)
		for i := range d {
			d[i] = 12345
		}
		return d
	}
	fits := func(warm int) bool { return warm >= 1 && warm <= len(src) }

	// series checks one output: its length, NaN before warm, and for
	// well-formed input a value in [lo, hi] from warm on (lo NaN: no range check).
	series := func(what string, got []float64, period, warm int, lo, hi float64) {
		t.Helper()
		if len(got) != len(src) {
			t.Fatalf("%s %s: %d values for %d inputs", name, what, len(got), len(src))
		}
		if period < 1 {
			warm = len(src) // a period below 1 yields NaN everywhere
		}
		for i := range min(max(warm, 0), len(got)) {
			if !math.IsNaN(got[i]) {
				t.Fatalf("%s %s: value %v at %d, before the warm-up of %d", name, what, got[i], i, warm)
			}
		}
		if !wellFormed || period < 1 || !fits(warm) || math.IsNaN(lo) {
			return
		}
		for i := warm; i < len(got); i++ {
			if !(got[i] >= lo && got[i] <= hi) {
				t.Fatalf("%s %s(%d): %v at %d, want a value in [%v, %v]", name, what, period, got[i], i, lo, hi)
			}
		}
	}
	inf := math.Inf(1)

	series("SMA", SMA(dirty(), src, n), n, EMAWarmup(n)-1, -inf, inf)
	series("RSI", RSI(dirty(), src, n), n, RSIWarmup(n)-1, 0, 100)
	series("ATR", ATR(dirty(), candles, n), n, ATRWarmup(n)-1, 0, inf)

	ema := EMA(dirty(), src, n)
	if wellFormed { // no leading NaNs, so the warm-up is the documented one
		series("EMA", ema, n, EMAWarmup(n)-1, -inf, inf)
	}
	aliased := append([]float64(nil), src...)
	aliased = EMA(aliased, aliased, n) // documented: src and dst may be the same slice
	for i := range ema {
		if !sameBits(ema[i], aliased[i]) {
			t.Fatalf("%s EMA(%d) at %d: %v fresh, %v aliased", name, n, i, ema[i], aliased[i])
		}
	}

	macd := MACD(MACDSeries{Line: dirty(), Signal: dirty(), Hist: dirty()}, src, fast, slow, signal)
	if 1 <= fast && fast <= slow && signal >= 1 {
		series("MACD line", macd.Line, slow, EMAWarmup(slow)-1, -inf, inf)
		warm := MACDWarmup(slow, signal) - 1
		series("MACD signal", macd.Signal, signal, warm, -inf, inf)
		series("MACD hist", macd.Hist, signal, warm, -inf, inf)
	} else if len(macd.Line) != len(src) || len(macd.Signal) != len(src) || len(macd.Hist) != len(src) {
		t.Fatalf("%s MACD(%d, %d, %d): lengths %d/%d/%d for %d inputs", name, fast, slow, signal,
			len(macd.Line), len(macd.Signal), len(macd.Hist), len(src))
	}

	bands := Bollinger(Bands{Mid: dirty(), Upper: dirty(), Lower: dirty(), PctB: dirty()}, src, n, k)
	warm := BollingerWarmup(n) - 1
	series("Bollinger mid", bands.Mid, n, warm, -inf, inf)
	lo := -inf
	if !(math.Abs(k) <= 1e6) {
		lo = math.NaN() // a width of NaN or ±Inf leaves NaN bands: check the warm-up only
	}
	series("Bollinger upper", bands.Upper, n, warm, lo, inf)
	series("Bollinger lower", bands.Lower, n, warm, lo, inf)
	series("Bollinger %B", bands.PctB, n, warm, lo, inf)

	vol := Volatility(src, n, 365*24)
	if wellFormed && n >= 2 && fits(VolatilityWarmup(n)) && !(vol >= 0 && !math.IsInf(vol, 0)) {
		t.Fatalf("%s Volatility(%d) = %v for positive closes", name, n, vol)
	}
	ratio := VolumeRatio(candles, n)
	if wellFormed && !math.IsNaN(ratio) && !(ratio >= 0 && !math.IsInf(ratio, 0)) {
		t.Fatalf("%s VolumeRatio(%d) = %v", name, n, ratio)
	}
	if len(src) > 0 {
		price := src[len(src)-1]
		support, resistance := Levels(candles, n, price)
		if support >= price || resistance <= price {
			t.Fatalf("%s Levels(%d, %v) = support %v, resistance %v", name, n, price, support, resistance)
		}
		var ema50, ema200 float64
		if len(src) > 1 {
			ema50, ema200 = src[0], src[1]
		}
		if tr := Stack(price, ema[len(ema)-1], ema50, ema200); tr < StrongDown || tr > StrongUp {
			t.Fatalf("%s Stack: trend %d out of range", name, tr)
		}
	}
}

// sameBits treats every NaN as equal, and nothing else as equal but itself.
func sameBits(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}
