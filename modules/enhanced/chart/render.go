package chart

import (
	"html"
	"image"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Canvas layout in pixels, top to bottom: the title band, the price pane,
// the volume pane and the time axis. The price axis takes the right edge,
// as wide as its longest label.
const (
	width  = 1000
	height = 600

	margin        = 12
	titleBaseline = 34
	priceTop      = 60
	priceBottom   = 446 // exclusive
	separator     = 452
	volTop        = 458
	volBottom     = 550 // exclusive
	timeAxis      = 556 // the time axis line; labels below it
	axisPad       = 8   // air either side of a price label

	emaFast = 20
	emaSlow = 50
	minSlot = 3
	maxSlot = 32
)

const usageText = "Usage: <code>/chart SYMBOL [interval]</code>\n" +
	"Intervals: 15m, 1h, 4h, 1d (default 1h).\n" +
	"Example: <code>/chart btc 4h</code>"

// tooManyText answers extra arguments rather than reading the first two.
const tooManyText = "One pair at a time: <code>/chart</code> reads a symbol and an optional interval, nothing more.\n" + usageText

// layout is the horizontal placement, which depends on the labels and the
// number of candles.
type layout struct {
	plotRight  int // the price axis line; the axis band is to its right
	slot, left int // candle width and the x of the first candle
}

func newLayout(n int, s *scale, lastLabel string, f *face) layout {
	labelW := max(f.width(lastLabel), f.width(volumeLabel(s)), f.width(utc))
	for _, v := range s.levels[:s.nLevels] {
		labelW = max(labelW, f.width(s.label(v)))
	}
	l := layout{plotRight: width - labelW - 3*axisPad}
	plotW := l.plotRight - margin
	l.slot = min(max(plotW/(n+1), minSlot), maxSlot)
	l.left = l.plotRight - (n+1)*l.slot // one empty slot before the axis, as terminals leave
	return l
}

// utc marks the time axis: every label is in UTC.
const utc = "UTC"

// volumeLabel is the volume at the top of the volume pane, in base coin.
func volumeLabel(s *scale) string {
	if s.maxVol == 0 {
		return ""
	}
	return format.Compact(s.maxVol)
}

// centre is the x of candle i's wick.
func (l layout) centre(i int) int { return l.left + i*l.slot + l.slot/2 }

// render draws the chart. Order matters: grid and the last-price line
// under the candles, the EMAs over them so the trend stays visible, the
// labels last. It draws onto a paletted canvas; see ink.
func render(pair market.Pair, iv market.Interval, c []market.Candle, s scale) *image.Paletted {
	f := fonts()
	cv := newCanvas(width, height)
	last := c[len(c)-1]
	tagInk := inkUp
	if last.C < last.O {
		tagInk = inkDown
	}
	lastLabel := format.Price(last.C)
	l := newLayout(len(c), &s, lastLabel, f.label)
	ticks := timeTicks(c, iv, l.slot)

	for _, v := range s.levels[:s.nLevels] {
		y := s.y(v)
		cv.fill(image.Rect(margin, y, l.plotRight, y+1), inkGrid)
	}
	for _, t := range ticks {
		x := l.centre(t.i)
		cv.fill(image.Rect(x, priceTop, x+1, priceBottom), inkGrid)
		cv.fill(image.Rect(x, volTop, x+1, volBottom), inkGrid)
	}
	lastY := s.y(last.C)
	for x := margin; x < l.plotRight; x += 6 {
		cv.fill(image.Rect(x, lastY, x+3, lastY+1), tagInk)
	}
	drawCandles(cv, c, &s, l)
	fast, slow := ema(c, emaFast), ema(c, emaSlow)
	drawLine(cv, fast, &s, l, inkEMA20)
	drawLine(cv, slow, &s, l, inkEMA50)

	cv.fill(image.Rect(l.plotRight, priceTop-8, l.plotRight+1, timeAxis), inkAxis)
	cv.fill(image.Rect(margin, timeAxis, width-margin, timeAxis+1), inkAxis)
	cv.fill(image.Rect(margin, separator, l.plotRight, separator+1), inkAxis)
	drawPriceAxis(cv, f.label, &s, l, lastY, lastLabel, tagInk)
	drawTimeAxis(cv, f.label, ticks, l)
	drawTitle(cv, f, pair, iv, c, fast, slow, l)
	return cv.Paletted
}

func drawCandles(cv canvas, c []market.Candle, s *scale, l layout) {
	body := l.slot - max(2, l.slot/4)
	for i, b := range c {
		x0 := l.left + i*l.slot + (l.slot-body)/2
		mid := l.centre(i)
		k, vol := inkUp, inkUpVol
		if b.C < b.O {
			k, vol = inkDown, inkDownVol
		}
		if s.maxVol > 0 {
			h := int(math.Round(b.Volume / s.maxVol * float64(volBottom-volTop)))
			cv.fill(image.Rect(x0, volBottom-h, x0+body, volBottom), vol)
		}
		cv.fill(image.Rect(mid, s.y(b.H), mid+1, s.y(b.L)+1), k)
		top, bottom := s.y(max(b.O, b.C)), s.y(min(b.O, b.C))
		cv.fill(image.Rect(x0, top, x0+body, bottom+1), k) // at least one row for a doji
	}
}

// ema is the exponential moving average of the closes, seeded with the
// simple average of the first period closes; NaN before that.
func ema(c []market.Candle, period int) []float64 {
	out := make([]float64, len(c))
	var sum float64
	k := 2 / float64(period+1)
	for i, b := range c {
		switch {
		case i < period-1:
			sum += b.C
			out[i] = math.NaN()
		case i == period-1:
			out[i] = (sum + b.C) / float64(period)
		default:
			out[i] = out[i-1] + k*(b.C-out[i-1])
		}
	}
	return out
}

// drawLine draws an indicator through the candle centres, two pixels wide.
func drawLine(cv canvas, v []float64, s *scale, l layout, k ink) {
	for i := 1; i < len(v); i++ {
		if math.IsNaN(v[i-1]) {
			continue
		}
		x0, x1 := float64(l.centre(i-1))+0.5, float64(l.centre(i))+0.5
		cv.line(x0, s.yf(v[i-1])+0.5, x1, s.yf(v[i])+0.5, 2, k)
	}
}

// drawPriceAxis writes the level labels right of the plot and the last
// price in a tag at its row, coloured by the last candle. A level label the
// tag would cover is left out.
func drawPriceAxis(cv canvas, f *face, s *scale, l layout, lastY int, lastLabel string, tagInk ink) {
	x := l.plotRight + axisPad
	half := (f.ascent + 1) / 2
	tag := image.Rect(l.plotRight+1, lastY-half-6, width, lastY+half+6)
	if tag.Min.Y < priceTop-8 {
		tag = tag.Add(image.Pt(0, priceTop-8-tag.Min.Y))
	}
	if tag.Max.Y > priceBottom+8 {
		tag = tag.Sub(image.Pt(0, tag.Max.Y-priceBottom-8))
	}
	for _, v := range s.levels[:s.nLevels] {
		y := s.y(v)
		if y+half+2 > tag.Min.Y && y-half-2 < tag.Max.Y {
			continue
		}
		cv.fill(image.Rect(l.plotRight+1, y, l.plotRight+5, y+1), inkAxis)
		cv.text(f, x, y+half, s.label(v), inkLabel)
	}
	cv.text(f, x, volTop+f.ascent, volumeLabel(s), inkLabel)
	cv.fill(tag, tagInk)
	cv.text(f, x, (tag.Min.Y+tag.Max.Y)/2+half, lastLabel, inkTagText)
}

// drawTimeAxis writes the tick labels centred under their candles. A label
// at either end of the plot is pushed inside it rather than cut, unless that
// would crowd its neighbour, and the axis is marked as UTC.
func drawTimeAxis(cv canvas, f *face, ticks []timeTick, l layout) {
	y := timeAxis + 10 + f.ascent
	end := 0 // where the last label drawn ends
	for _, t := range ticks {
		c, w := l.centre(t.i), f.width(t.label)
		x := min(max(c-w/2, margin), l.plotRight-w)
		if x < end+axisPad {
			continue
		}
		cv.fill(image.Rect(c, timeAxis+1, c+1, timeAxis+5), inkAxis)
		end = cv.text(f, x, y, t.label, inkLabel)
	}
	cv.text(f, l.plotRight+axisPad, y, utc, inkLabel)
}

// drawTitle writes the pair, market and interval at the left and the EMA
// legend at the right, then the change over the window between them. Where
// a long pair leaves too little room, the change goes first, then the
// legend's values (the caption has both).
func drawTitle(cv canvas, f typefaces, pair market.Pair, iv market.Interval, c []market.Candle, fast, slow []float64, l layout) {
	const swatch, gap = 18, 8
	x := cv.text(f.title, margin, titleBaseline, pair.String(), inkTitle)
	x = cv.text(f.label, x+gap, titleBaseline, "Spot · "+string(iv), inkLabel) + 3*gap

	type entry struct {
		text string
		k    ink
	}
	var legend, names []entry
	for _, e := range [...]struct {
		name string
		v    []float64
		k    ink
	}{{"EMA20", fast, inkEMA20}, {"EMA50", slow, inkEMA50}} {
		if v := e.v[len(e.v)-1]; !math.IsNaN(v) {
			legend = append(legend, entry{e.name + " " + format.Price(v), e.k})
			names = append(names, entry{e.name, e.k})
		}
	}
	width := func(es []entry) (w int) {
		for _, e := range es {
			w += swatch + gap + f.label.width(e.text) + 3*gap
		}
		return w
	}

	first, last := c[0], c[len(c)-1]
	change := (last.C - first.O) / first.O * 100
	changeText, changeInk := format.Arrow(change)+" "+format.Percent(change, 2), inkUp
	if change < 0 {
		changeInk = inkDown
	}
	switch room := l.plotRight + 3*gap - x; {
	case f.label.width(changeText)+3*gap+width(legend) <= room:
		cv.text(f.label, x, titleBaseline, changeText, changeInk)
	case width(legend) > room:
		legend = names
	}

	right := l.plotRight + 3*gap
	y := float64(titleBaseline - f.label.ascent/2)
	for _, e := range slices.Backward(legend) {
		right -= f.label.width(e.text) + 3*gap
		cv.text(f.label, right, titleBaseline, e.text, e.k)
		right -= gap + swatch
		cv.line(float64(right), y, float64(right+swatch), y, 3, e.k)
	}
}

// caption is the photo's HTML caption: the numbers a trader reads off the
// chart, exactly. The levels are on the price axis, so it does not list them.
func caption(pair market.Pair, iv market.Interval, c []market.Candle, s scale) string {
	first, last := c[0], c[len(c)-1]
	change := (last.C - first.O) / first.O * 100
	window := format.Duration(time.Duration(len(c)) * iv.Duration())
	var b strings.Builder
	b.WriteString("<b>📈 " + html.EscapeString(pair.String()) + " · " + html.EscapeString(string(iv)) +
		" chart</b> · " + strconv.Itoa(len(c)) + " candles\n")
	b.WriteString("Last <b>" + format.Price(last.C) + "</b> · " + format.Arrow(change) + " " +
		format.Percent(change, 2) + " over " + window + "\n")
	b.WriteString("High " + format.Price(s.hi) + " · Low " + format.Price(s.lo))
	for i, period := range [...]int{emaFast, emaSlow} {
		if len(c) < period {
			break
		}
		sep := " · "
		if i == 0 {
			sep = "\n"
		}
		e := ema(c, period)
		b.WriteString(sep + "EMA" + strconv.Itoa(period) + " " + format.Price(e[len(e)-1]))
	}
	return b.String()
}

func badIntervalText(arg string) string {
	return "Unknown interval <code>" + html.EscapeString(arg) + "</code>.\n" + usageText
}

func notEnoughText(pair market.Pair, iv market.Interval, n int) string {
	s := "Not enough history to chart <b>" + html.EscapeString(pair.String()) + "</b> on " +
		html.EscapeString(string(iv)) + ": " + strconv.Itoa(n) + " closed candles, need at least " +
		strconv.Itoa(MinCandles) + "."
	if iv != market.M15 {
		s += " Try a shorter interval."
	}
	return s
}
