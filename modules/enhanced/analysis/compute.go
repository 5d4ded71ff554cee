package analysis

import (
	"math"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/analysis/indicator"
)

// Indicator parameters.
const (
	rsiPeriod   = 14
	emaFast     = 20
	emaMid      = 50
	emaSlow     = 200
	macdFast    = 12
	macdSlow    = 26
	macdSignal  = 9
	bbPeriod    = 20
	bbWidth     = 2
	atrPeriod   = 14
	volWindow   = 20 // log returns in the realised volatility
	volumePer   = 20 // candles in the volume average
	pivotK      = 5  // bars either side of a swing pivot
	slopeBars   = 5  // EMA20 slope is measured over this many bars
	sparkCloses = 24
)

// Limit is how many candles /analysis asks for: enough for EMA200 to settle.
const Limit = 300

// MinCandles is the shortest history /analysis works with; below it the
// reply says there is not enough history.
const MinCandles = 30

// warmup is an indicator's name and the candles it needs.
type warmup struct {
	name string
	need int
}

// longWarmups lists every indicator that needs more than MinCandles, in
// increasing order, so a short history can say what is missing.
func longWarmups() [3]warmup {
	return [...]warmup{
		{"MACD", indicator.MACDWarmup(macdSlow, macdSignal)},
		{"EMA50", indicator.EMAWarmup(emaMid)},
		{"EMA200", indicator.EMAWarmup(emaSlow)},
	}
}

// workspace holds the per-request series buffers; Module pools them.
type workspace struct {
	closes, rsi, ema20, ema50, ema200, atr []float64
	macd                                   indicator.MACDSeries
	bands                                  indicator.Bands
}

// result is everything a reply needs: scalars at the last closed candle,
// NaN where an indicator has not warmed up. It holds no slices so the
// workspace can go back to the pool before rendering.
type result struct {
	candles              int
	open                 float64 // last candle's open, for the volume signal
	close                float64
	rsi                  float64
	ema20, ema50, ema200 float64
	slope                float64 // EMA20 change over slopeBars, percent
	macd, signal, hist   float64
	upper, lower, pctB   float64
	atr, atrPct          float64
	vol                  float64 // realised, annualised fraction
	support, resistance  float64
	volumeRatio          float64
	trend                indicator.Trend
	spark                [sparkCloses]float64
	sparkN               int
}

// analyze computes every indicator over c (closed candles, ascending).
func (w *workspace) analyze(c []market.Candle, iv market.Interval) result {
	if cap(w.closes) < len(c) {
		w.closes = make([]float64, len(c))
	}
	w.closes = w.closes[:len(c)]
	for i, b := range c {
		w.closes[i] = b.C
	}
	w.rsi = indicator.RSI(w.rsi, w.closes, rsiPeriod)
	w.ema20 = indicator.EMA(w.ema20, w.closes, emaFast)
	w.ema50 = indicator.EMA(w.ema50, w.closes, emaMid)
	w.ema200 = indicator.EMA(w.ema200, w.closes, emaSlow)
	w.macd = indicator.MACD(w.macd, w.closes, macdFast, macdSlow, macdSignal)
	w.bands = indicator.Bollinger(w.bands, w.closes, bbPeriod, bbWidth)
	w.atr = indicator.ATR(w.atr, c, atrPeriod)

	last := len(c) - 1
	r := result{
		candles: len(c),
		open:    c[last].O,
		close:   c[last].C,
		rsi:     at(w.rsi, last),
		ema20:   at(w.ema20, last),
		ema50:   at(w.ema50, last),
		ema200:  at(w.ema200, last),
		slope:   math.NaN(),
		macd:    at(w.macd.Line, last),
		signal:  at(w.macd.Signal, last),
		hist:    at(w.macd.Hist, last),
		upper:   at(w.bands.Upper, last),
		lower:   at(w.bands.Lower, last),
		pctB:    at(w.bands.PctB, last),
		atr:     at(w.atr, last),
		vol:     indicator.Volatility(w.closes, volWindow, indicator.PeriodsPerYear(iv)),
	}
	r.atrPct = r.atr / r.close * 100
	if prev := at(w.ema20, last-slopeBars); prev > 0 {
		r.slope = (r.ema20 - prev) / prev * 100
	}
	r.support, r.resistance = indicator.Levels(c, pivotK, r.close)
	r.volumeRatio = indicator.VolumeRatio(c, volumePer)
	r.trend = indicator.Stack(r.close, r.ema20, r.ema50, r.ema200)
	r.sparkN = copy(r.spark[:], w.closes[max(0, len(c)-sparkCloses):])
	return r
}

// at is s[i], or NaN when i is out of range.
func at(s []float64, i int) float64 {
	if i < 0 || i >= len(s) {
		return math.NaN()
	}
	return s[i]
}
