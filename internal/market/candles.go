package market

import (
	"math"
	"time"
)

// ClosedCandles drops trailing bars still open at now. Venue clients already
// do; consumers that compute on the last bar call it as a guard against one
// that does not.
func ClosedCandles(c []Candle, iv Interval, now time.Time) []Candle {
	for len(c) > 0 && c[len(c)-1].Open.Add(iv.Duration()).After(now) {
		c = c[:len(c)-1]
	}
	return c
}

// ValidCandles reports whether every price is positive and finite, every
// volume non-negative and finite, and every bar's low at most its high: what
// indicators (log returns, percentages) and charts (scales) assume.
func ValidCandles(c []Candle) bool {
	for _, b := range c {
		for _, v := range [...]float64{b.O, b.H, b.L, b.C} {
			if !(v > 0) || math.IsInf(v, 0) {
				return false
			}
		}
		if !(b.Volume >= 0) || math.IsInf(b.Volume, 0) || b.L > b.H {
			return false
		}
	}
	return true
}
