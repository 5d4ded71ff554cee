// Package indicator holds the technical-analysis maths behind /analysis as
// pure functions over price series.
//
// Series functions follow the append convention of strconv.AppendInt: they
// write into dst (reusing its capacity, growing it only when it is too small)
// and return it resliced to the input length, so a caller that keeps its
// buffers allocates nothing per call. Positions before an indicator's warm-up
// hold NaN. Scalar functions return NaN when the input is too short or
// unusable. A period below 1 yields NaN everywhere.
package indicator

import (
	"math"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// RSIWarmup is the number of closes RSI(n) needs for its first value.
func RSIWarmup(n int) int { return n + 1 }

// EMAWarmup is the number of values EMA(n) and SMA(n) need for their first value.
func EMAWarmup(n int) int { return n }

// MACDWarmup is the number of closes MACD(fast, slow, signal) needs for its
// first signal and histogram value.
func MACDWarmup(slow, signal int) int { return slow + signal - 1 }

// BollingerWarmup is the number of closes Bollinger(n) needs for its first band.
func BollingerWarmup(n int) int { return n }

// ATRWarmup is the number of candles ATR(n) needs for its first value: n true
// ranges, each of which needs the previous close.
func ATRWarmup(n int) int { return n + 1 }

// VolatilityWarmup is the number of closes Volatility needs for window returns.
func VolatilityWarmup(window int) int { return window + 1 }

// resize returns dst resliced to n, in a new array when dst is too small.
func resize(dst []float64, n int) []float64 {
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	return dst[:n]
}

// fillNaN returns dst resliced to n with every value set to NaN.
func fillNaN(dst []float64, n int) []float64 {
	dst = resize(dst, n)
	nan := math.NaN()
	for i := range dst {
		dst[i] = nan
	}
	return dst
}

// SMA writes the simple moving average of the last n values at each position.
func SMA(dst, src []float64, n int) []float64 {
	dst = fillNaN(dst, len(src))
	if n < 1 || len(src) < n {
		return dst
	}
	var sum float64
	for i, v := range src {
		sum += v
		if i >= n {
			sum -= src[i-n]
		}
		if i >= n-1 {
			dst[i] = sum / float64(n)
		}
	}
	return dst
}

// EMA writes the exponential moving average with smoothing 2/(n+1), seeded
// with the simple average of the first n values. Leading NaNs in src (another
// indicator's warm-up) are skipped, so the seed is the average of the first n
// valid values; src and dst may be the same slice.
func EMA(dst, src []float64, n int) []float64 {
	first := 0
	for first < len(src) && math.IsNaN(src[first]) {
		first++
	}
	// Copy before overwriting: src may alias dst.
	dst = resize(dst, len(src))
	if n < 1 || n > len(src)-first { // compared this way: first+n could overflow
		return fillNaN(dst, len(src))
	}
	seedAt := first + n - 1
	var sum float64
	for i := first; i <= seedAt; i++ {
		sum += src[i]
	}
	prev := sum / float64(n)
	k := 2 / float64(n+1)
	for i := seedAt + 1; i < len(src); i++ {
		prev = src[i]*k + prev*(1-k)
		dst[i] = prev
	}
	dst[seedAt] = sum / float64(n)
	fillNaN(dst, seedAt) // the warm-up, written last as src may alias dst
	return dst
}

// RSI writes Wilder's relative strength index: the first value (at index n)
// averages the first n gains and losses, later ones use Wilder smoothing
// avg = (avg·(n−1) + x)/n. A window with neither gains nor losses reads 50,
// one with gains only 100.
func RSI(dst, closes []float64, n int) []float64 {
	dst = fillNaN(dst, len(closes))
	if n < 1 || n >= len(closes) {
		return dst
	}
	var gain, loss float64
	for i := 1; i <= n; i++ {
		g, l := change(closes[i-1], closes[i])
		gain += g
		loss += l
	}
	fn := float64(n)
	gain /= fn
	loss /= fn
	dst[n] = rsi(gain, loss)
	for i := n + 1; i < len(closes); i++ {
		g, l := change(closes[i-1], closes[i])
		gain = (gain*(fn-1) + g) / fn
		loss = (loss*(fn-1) + l) / fn
		dst[i] = rsi(gain, loss)
	}
	return dst
}

func change(prev, cur float64) (gain, loss float64) {
	if d := cur - prev; d > 0 {
		return d, 0
	}
	return 0, prev - cur
}

func rsi(gain, loss float64) float64 {
	if loss == 0 {
		if gain == 0 {
			return 50
		}
		return 100
	}
	return 100 - 100/(1+gain/loss)
}

// MACDSeries holds the MACD line (fast EMA − slow EMA), its signal line (an
// EMA of the MACD line) and the histogram (line − signal).
type MACDSeries struct {
	Line, Signal, Hist []float64
}

// MACD writes the moving-average convergence/divergence of closes into dst's
// buffers and returns them. The line starts at index slow−1, the signal and
// histogram at MACDWarmup(slow, signal)−1.
func MACD(dst MACDSeries, closes []float64, fast, slow, signal int) MACDSeries {
	dst.Line = EMA(dst.Line, closes, fast)
	dst.Hist = EMA(dst.Hist, closes, slow) // scratch for the slow EMA
	for i := range dst.Line {
		dst.Line[i] -= dst.Hist[i]
	}
	dst.Signal = EMA(dst.Signal, dst.Line, signal)
	for i := range dst.Hist {
		dst.Hist[i] = dst.Line[i] - dst.Signal[i]
	}
	return dst
}

// Bands holds Bollinger bands and %B, the close's position in them
// (0 at the lower band, 1 at the upper).
type Bands struct {
	Mid, Upper, Lower, PctB []float64
}

// Bollinger writes bands k population standard deviations around the n-period
// simple average. When the bands have no width (a flat window) %B reads 0.5.
func Bollinger(dst Bands, closes []float64, n int, k float64) Bands {
	dst.Mid = SMA(dst.Mid, closes, n)
	dst.Upper = fillNaN(dst.Upper, len(closes))
	dst.Lower = fillNaN(dst.Lower, len(closes))
	dst.PctB = fillNaN(dst.PctB, len(closes))
	if n < 1 {
		return dst
	}
	for i := n - 1; i < len(closes); i++ {
		// Two passes per window: running sums of squares lose precision at
		// prices like 97,000 with small deviations.
		mean := dst.Mid[i]
		var ss float64
		for _, v := range closes[i-n+1 : i+1] {
			ss += (v - mean) * (v - mean)
		}
		w := k * math.Sqrt(ss/float64(n))
		dst.Upper[i] = mean + w
		dst.Lower[i] = mean - w
		if w == 0 {
			dst.PctB[i] = 0.5
		} else {
			dst.PctB[i] = (closes[i] - dst.Lower[i]) / (2 * w)
		}
	}
	return dst
}

// ATR writes Wilder's average true range. The true range of bar i is the
// largest of H−L, |H−Cprev| and |L−Cprev|; the first ATR (index n) averages
// the true ranges of bars 1..n, later ones use Wilder smoothing.
func ATR(dst []float64, c []market.Candle, n int) []float64 {
	dst = fillNaN(dst, len(c))
	if n < 1 || n >= len(c) {
		return dst
	}
	fn := float64(n)
	var atr float64
	for i := 1; i <= n; i++ {
		atr += trueRange(c[i-1].C, c[i])
	}
	atr /= fn
	dst[n] = atr
	for i := n + 1; i < len(c); i++ {
		atr = (atr*(fn-1) + trueRange(c[i-1].C, c[i])) / fn
		dst[i] = atr
	}
	return dst
}

func trueRange(prevClose float64, c market.Candle) float64 {
	return max(c.H-c.L, math.Abs(c.H-prevClose), math.Abs(c.L-prevClose))
}

// Volatility is the realised volatility of the last window log returns:
// their sample standard deviation (n−1 denominator) scaled by
// sqrt(periodsPerYear), as a fraction (0.42 = 42 % a year). It is NaN when
// there are fewer than VolatilityWarmup(window) closes, window < 2, or a
// close in the window is not positive.
func Volatility(closes []float64, window int, periodsPerYear float64) float64 {
	if window < 2 || window >= len(closes) {
		return math.NaN()
	}
	tail := closes[len(closes)-window-1:]
	for _, v := range tail {
		if !(v > 0) {
			return math.NaN()
		}
	}
	var mean float64
	for i := 1; i < len(tail); i++ {
		mean += math.Log(tail[i] / tail[i-1])
	}
	mean /= float64(window)
	var ss float64
	for i := 1; i < len(tail); i++ {
		d := math.Log(tail[i]/tail[i-1]) - mean
		ss += d * d
	}
	return math.Sqrt(ss/float64(window-1)) * math.Sqrt(periodsPerYear)
}

// PeriodsPerYear is how many candles of iv fit in a year of a market that
// trades around the clock; 0 for an unknown interval.
func PeriodsPerYear(iv market.Interval) float64 {
	d := iv.Duration()
	if d <= 0 {
		return 0
	}
	return float64(365*24*3600) / d.Seconds()
}

// VolumeRatio is the last candle's volume over the average volume of the
// last n candles (the last one included). It is NaN with fewer than n
// candles or an average of zero.
func VolumeRatio(c []market.Candle, n int) float64 {
	if n < 1 || len(c) < n {
		return math.NaN()
	}
	var sum float64
	for _, b := range c[len(c)-n:] {
		sum += b.Volume
	}
	if sum <= 0 {
		return math.NaN()
	}
	return c[len(c)-1].Volume / (sum / float64(n))
}

// Levels finds support and resistance from swing pivots: a pivot low is a
// bar whose low is the lowest of the k bars either side of it, a pivot high
// one whose high is the highest. Support is the highest pivot low below
// price, resistance the lowest pivot high above it; NaN when there is none.
// The last k bars cannot be pivots yet.
func Levels(c []market.Candle, k int, price float64) (support, resistance float64) {
	support, resistance = math.NaN(), math.NaN()
	if k < 1 || k >= len(c) {
		return support, resistance
	}
	for i := k; i < len(c)-k; i++ { // not i+k < len(c): a huge k would overflow
		lo, hi := true, true
		for j := i - k; j <= i+k && (lo || hi); j++ {
			lo = lo && c[i].L <= c[j].L
			hi = hi && c[i].H >= c[j].H
		}
		// !(x <= level) also holds while level is still NaN.
		if lo && c[i].L < price && !(c[i].L <= support) {
			support = c[i].L
		}
		if hi && c[i].H > price && !(c[i].H >= resistance) {
			resistance = c[i].H
		}
	}
	return support, resistance
}

// Trend is the direction read from the EMA stack.
type Trend int

// Trends, from strongly falling to strongly rising.
const (
	StrongDown Trend = iota - 2
	Down
	Sideways
	Up
	StrongUp
)

// String names the trend for humans.
func (t Trend) String() string {
	switch t {
	case StrongDown:
		return "strong downtrend"
	case Down:
		return "downtrend"
	case Up:
		return "uptrend"
	case StrongUp:
		return "strong uptrend"
	}
	return "sideways"
}

// Arrow is ↑ ↗ → ↘ ↓ from strong up to strong down.
func (t Trend) Arrow() string {
	switch t {
	case StrongDown:
		return "↓"
	case Down:
		return "↘"
	case Up:
		return "↗"
	case StrongUp:
		return "↑"
	}
	return "→"
}

// Stack reads the trend from the EMA stack: price > EMA20 > EMA50 > EMA200 is
// a strong uptrend; price > EMA20 > EMA50 (or, while EMA50 is still warming
// up, price > EMA20) an uptrend; the mirror images are downtrends; anything
// else, or an unknown EMA20, is sideways. NaN EMAs count as not yet known.
func Stack(price, ema20, ema50, ema200 float64) Trend {
	switch {
	case math.IsNaN(price) || math.IsNaN(ema20):
		return Sideways
	case price > ema20 && ema20 > ema50 && ema50 > ema200:
		return StrongUp
	case price < ema20 && ema20 < ema50 && ema50 < ema200:
		return StrongDown
	case price > ema20 && (math.IsNaN(ema50) || ema20 > ema50):
		return Up
	case price < ema20 && (math.IsNaN(ema50) || ema20 < ema50):
		return Down
	}
	return Sideways
}
