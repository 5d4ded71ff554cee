package chart

import (
	"math"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// The price axis shows this many round levels: fewer leaves the reader
// guessing, more crowds a phone preview.
const (
	minLevels = 5
	maxLevels = 7
)

// scale maps prices to rows and holds the price axis levels.
type scale struct {
	lo, hi     float64 // the window's lowest low and highest high
	pMin, pMax float64 // the plotted range: lo..hi with a little air
	step       float64 // spacing of the levels
	dec        int     // decimals a level label needs
	levels     [maxLevels]float64
	nLevels    int
	maxVol     float64
}

func newScale(c []market.Candle) scale {
	s := scale{lo: c[0].L, hi: c[0].H}
	for _, b := range c {
		s.lo, s.hi = min(s.lo, b.L), max(s.hi, b.H)
		s.maxVol = max(s.maxVol, b.Volume)
	}
	pad := (s.hi - s.lo) * 0.04
	if pad == 0 {
		pad = s.lo * 0.01 // a flat window still gets a readable range
	}
	s.pMin, s.pMax = s.lo-pad, s.hi+pad
	s.step = s.pickStep()
	s.dec = decimals(s.step)
	for k := math.Ceil(s.pMin/s.step - 1e-9); s.nLevels < maxLevels; k++ {
		v := k * s.step
		if v > s.pMax*(1+1e-12) {
			break
		}
		s.levels[s.nLevels] = v
		s.nLevels++
	}
	return s
}

// stepFactors are the round spacings per power of ten, coarsest first.
var stepFactors = [...]float64{5, 2.5, 2, 1}

// pickStep returns the round spacing (1, 2, 2.5 or 5 times a power of ten)
// that puts closest to six levels, and at least minLevels and at most
// maxLevels, in the plotted range; the coarser on a tie. When no spacing
// does (one gives too few, the next finer too many), it takes the coarser
// one and widens the range to the nearest levels outside it until there
// are minLevels. Three decades below the range's own, every spacing gives
// more than maxLevels, so the search ends there.
func (s *scale) pickStep() float64 {
	const want = (minLevels + maxLevels) / 2
	p := math.Pow(10, math.Ceil(math.Log10(s.pMax-s.pMin)))
	coarser, best, bestN := p, 0.0, 0
	for range 4 {
		for _, f := range stepFactors {
			step := f * p
			switch n := s.count(step); {
			case n < minLevels:
				coarser = step
			case n <= maxLevels:
				if best == 0 || abs(n-want) < abs(bestN-want) {
					best, bestN = step, n
				}
			case best != 0:
				return best
			default:
				return s.widen(coarser)
			}
		}
		p /= 10
	}
	return s.widen(coarser) // not reached for a finite, positive range
}

// widen extends the plotted range, one level at a time on the nearer side,
// until it holds minLevels multiples of step, and returns step.
func (s *scale) widen(step float64) float64 {
	for range minLevels {
		if s.count(step) >= minLevels {
			break
		}
		below := (math.Ceil(s.pMin/step-1e-9) - 1) * step
		above := (math.Floor(s.pMax/step+1e-9) + 1) * step
		if s.pMin-below <= above-s.pMax {
			s.pMin = below
		} else {
			s.pMax = above
		}
	}
	return step
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// count is how many multiples of step lie in the plotted range.
func (s *scale) count(step float64) int {
	return int(math.Floor(s.pMax/step+1e-9) - math.Ceil(s.pMin/step-1e-9) + 1)
}

// decimals is how many decimals print step exactly (12 at most).
func decimals(step float64) int {
	for d := range 12 {
		x := step * math.Pow(10, float64(d))
		if math.Abs(x-math.Round(x)) < 1e-6*x {
			return d
		}
	}
	return 12
}

// label renders a level like the bot's prices, with thousands separators,
// at the precision the spacing needs: 97,000, 3,250, 0.0000124.
func (s *scale) label(v float64) string { return format.Grouped(v, s.dec) }

// y is the row of price v in the price pane.
func (s *scale) y(v float64) int { return int(math.Round(s.yf(v))) }

// yf is the exact row of price v, for antialiased lines.
func (s *scale) yf(v float64) float64 {
	f := (s.pMax - v) / (s.pMax - s.pMin)
	return priceTop + f*float64(priceBottom-priceTop-1)
}

// timeTick is a labelled candle on the time axis.
type timeTick struct {
	i     int // candle index
	rank  int // what changed at this candle: rankHour < rankDay < rankMonth < rankYear
	label string
}

const (
	rankHour = iota
	rankDay
	rankMonth
	rankYear
)

// tickStep is a time-axis spacing: its nominal length and the bucket a
// candle's open time falls in. A tick marks the first candle of a bucket.
type tickStep struct {
	span   time.Duration
	bucket func(t time.Time) int
}

func hours(n int) tickStep {
	return tickStep{time.Duration(n) * time.Hour, func(t time.Time) int { return int(t.Unix() / int64(3600*n)) }}
}

// days groups days of the month (1, 1+n, 1+2n, ...) so ticks restart on the 1st.
func days(n int) tickStep {
	return tickStep{time.Duration(n) * 24 * time.Hour, func(t time.Time) int {
		return (t.Year()*12+int(t.Month()))*32 + (t.Day()-1)/n
	}}
}

func months(n int) tickStep {
	return tickStep{time.Duration(n) * 30 * 24 * time.Hour, func(t time.Time) int {
		return (t.Year()*12 + int(t.Month()) - 1) / n
	}}
}

// tickSteps are the spacings the time axis picks from, finest first.
var tickSteps = [...]tickStep{
	hours(1), hours(2), hours(3), hours(4), hours(6), hours(12),
	days(1), days(2), days(3), days(7), days(14),
	months(1), months(3), months(6), months(12),
}

// minTickGap is the least distance between time labels, in pixels: a
// "28 Feb" label plus air.
const minTickGap = 90

// timeTicks picks the finest spacing whose labels are at least minTickGap
// apart for candles slot pixels wide, and labels the first candle of each
// bucket in UTC: 15:00 within a day, 2 Mar at a new day. Axes spaced by
// half-months or more name a new month (Mar) and a new year (2027) instead,
// as a date there would read as a day the axis does not mark. Where two
// labels still crowd (a bucket cut short at a month's end), the higher rank
// wins.
func timeTicks(c []market.Candle, iv market.Interval, slot int) []timeTick {
	step := tickSteps[len(tickSteps)-1]
	for _, st := range tickSteps {
		if st.span >= iv.Duration() && int(st.span/iv.Duration())*slot >= minTickGap {
			step = st
			break
		}
	}
	coarse := step.span >= 14*24*time.Hour
	var ticks []timeTick
	prev := c[0].Open.Add(-iv.Duration()).UTC() // the first candle is a tick if it opens a bucket
	for i := range c {
		t := c[i].Open.UTC()
		if step.bucket(t) != step.bucket(prev) {
			tk := newTick(i, prev, t, coarse)
			switch last := len(ticks) - 1; {
			case last < 0 || (tk.i-ticks[last].i)*slot >= minTickGap:
				ticks = append(ticks, tk)
			case tk.rank > ticks[last].rank:
				ticks[last] = tk
			}
		}
		prev = t
	}
	return ticks
}

func newTick(i int, prev, t time.Time, coarse bool) timeTick {
	switch {
	case coarse && t.Year() != prev.Year():
		return timeTick{i, rankYear, t.Format("2006")}
	case coarse && t.Month() != prev.Month():
		return timeTick{i, rankMonth, t.Format("Jan")}
	case t.Year() != prev.Year():
		return timeTick{i, rankYear, t.Format("2 Jan")}
	case t.Month() != prev.Month():
		return timeTick{i, rankMonth, t.Format("2 Jan")}
	case t.Day() != prev.Day():
		return timeTick{i, rankDay, t.Format("2 Jan")}
	}
	return timeTick{i, rankHour, t.Format("15:04")}
}
