package chart

import (
	"html"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Canvas layout in pixels: the price pane on top, the volume strip below.
const (
	width  = 800
	height = 450

	margin      = 8
	priceTop    = margin
	priceBottom = 340 // exclusive
	separator   = 346
	volTop      = 352
	volBottom   = height - margin // exclusive

	emaPeriod = 20
	gridLines = 6 // at most this many spacings between price levels
	minSlot   = 3
	maxSlot   = 16
)

// Colours of a dark trading-terminal theme; the volume bars are the candle
// colours at half strength over the background.
var (
	bgColor      = color.RGBA{0x13, 0x17, 0x22, 0xff}
	gridColor    = color.RGBA{0x2a, 0x2e, 0x39, 0xff}
	upColor      = color.RGBA{0x26, 0xa6, 0x9a, 0xff}
	downColor    = color.RGBA{0xef, 0x53, 0x50, 0xff}
	upVolColor   = color.RGBA{0x1c, 0x5e, 0x5e, 0xff}
	downVolColor = color.RGBA{0x81, 0x35, 0x39, 0xff}
	emaColor     = color.RGBA{0xf7, 0xa6, 0x00, 0xff}
)

const usageText = "Usage: <code>/chart SYMBOL [interval]</code>\n" +
	"Intervals: 15m, 1h, 4h, 1d (default 1h).\n" +
	"Example: <code>/chart btc 4h</code>"

// tooManyText answers extra arguments rather than reading the first two.
const tooManyText = "One pair at a time: <code>/chart</code> reads a symbol and an optional interval, nothing more.\n" + usageText

// scale maps prices to rows and holds the grid levels.
type scale struct {
	lo, hi     float64 // the window's lowest low and highest high
	pMin, pMax float64 // the plotted range: lo..hi with a little air
	step       float64 // grid spacing
	levels     [2*gridLines + 2]float64
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
	s.step = niceStep((s.pMax - s.pMin) / gridLines)
	for k := math.Ceil(s.pMin / s.step); s.nLevels < len(s.levels); k++ {
		v := k * s.step
		if v > s.pMax {
			break
		}
		s.levels[s.nLevels] = v
		s.nLevels++
	}
	return s
}

// niceStep rounds raw up to 1, 2 or 5 times a power of ten, so grid levels
// land on round prices.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range [...]float64{1, 2, 5} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// y is the row of price v in the price pane.
func (s *scale) y(v float64) int {
	f := (s.pMax - v) / (s.pMax - s.pMin)
	return priceTop + int(math.Round(f*float64(priceBottom-priceTop-1)))
}

// slots returns each candle's width and the x of the first one, centring
// the candles on the canvas.
func slots(n int) (slot, left int) {
	slot = min(max((width-2*margin)/n, minSlot), maxSlot)
	return slot, (width - n*slot) / 2
}

// render draws the chart: background, grid, volume, candles, then the EMA20
// on top so the trend line stays visible across bodies.
func render(c []market.Candle, s scale) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), &image.Uniform{C: bgColor}, image.Point{}, draw.Src)
	for _, v := range s.levels[:s.nLevels] {
		y := s.y(v)
		fill(img, image.Rect(margin, y, width-margin, y+1), gridColor)
	}
	fill(img, image.Rect(margin, separator, width-margin, separator+1), gridColor)

	slot, left := slots(len(c))
	body := slot - max(2, slot/4)
	for i, b := range c {
		x0 := left + i*slot + (slot-body)/2
		mid := x0 + body/2
		up, vol := upColor, upVolColor
		if b.C < b.O {
			up, vol = downColor, downVolColor
		}
		if s.maxVol > 0 {
			h := int(math.Round(b.Volume / s.maxVol * float64(volBottom-volTop)))
			fill(img, image.Rect(x0, volBottom-h, x0+body, volBottom), vol)
		}
		fill(img, image.Rect(mid, s.y(b.H), mid+1, s.y(b.L)+1), up)
		top, bottom := s.y(max(b.O, b.C)), s.y(min(b.O, b.C))
		fill(img, image.Rect(x0, top, x0+body, bottom+1), up) // at least one row for a doji
	}

	// EMA20 seeded with the SMA of the first 20 closes, drawn two rows thick.
	var sum, ema float64
	var px, py int
	k := 2.0 / (emaPeriod + 1)
	for i, b := range c {
		switch {
		case i < emaPeriod-1:
			sum += b.C
			continue
		case i == emaPeriod-1:
			ema = (sum + b.C) / emaPeriod
		default:
			ema += k * (b.C - ema)
		}
		x, y := left+i*slot+slot/2, s.y(ema)
		if i > emaPeriod-1 {
			line(img, px, py, x, y, emaColor)
			line(img, px, py+1, x, y+1, emaColor)
		}
		px, py = x, y
	}
	return img
}

// fill paints r (clipped to the canvas) straight into the pixel buffer: the
// chart paints thousands of small rectangles and draw.Draw would allocate a
// source image for each.
func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Rect)
	if r.Empty() {
		return
	}
	px := [4]byte{c.R, c.G, c.B, c.A}
	first := img.Pix[img.PixOffset(r.Min.X, r.Min.Y) : img.PixOffset(r.Max.X-1, r.Min.Y)+4]
	for i := 0; i < len(first); i += 4 {
		copy(first[i:], px[:])
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		o := img.PixOffset(r.Min.X, y)
		copy(img.Pix[o:o+len(first)], first)
	}
}

// line draws a one-pixel line from (x0, y0) to (x1, y1) inclusive.
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := x1-x0, y1-y0
	steps := max(abs(dx), abs(dy))
	if steps == 0 {
		img.SetRGBA(x0, y0, c)
		return
	}
	for i := 0; i <= steps; i++ {
		x := x0 + int(math.Round(float64(dx*i)/float64(steps)))
		y := y0 + int(math.Round(float64(dy*i)/float64(steps)))
		img.SetRGBA(x, y, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// caption is the photo's HTML caption: everything the image shows only as
// shapes, in numbers. It stays well under Telegram's 1024-character limit:
// at most len(scale.levels) short grid levels.
func caption(pair market.Pair, iv market.Interval, c []market.Candle, s scale) string {
	first, last := c[0], c[len(c)-1]
	change := (last.C - first.O) / first.O * 100
	window := format.Duration(time.Duration(len(c)) * iv.Duration())
	var b strings.Builder
	b.WriteString("<b>📈 " + html.EscapeString(pair.String()) + " · " + html.EscapeString(string(iv)) +
		" chart</b> · " + strconv.Itoa(len(c)) + " candles\n")
	b.WriteString("Last <b>" + format.Price(last.C) + "</b> · " + format.Arrow(change) + " " +
		format.Percent(change, 2) + " over " + window + "\n")
	b.WriteString("High " + format.Price(s.hi) + " · Low " + format.Price(s.lo) + "\n")
	dec := min(max(0, -int(math.Floor(math.Log10(s.step)+1e-9))), 12)
	b.WriteString("Grid <code>")
	for i, v := range s.levels[:s.nLevels] {
		if i > 0 {
			b.WriteString(" · ")
		}
		b.WriteString(format.Grouped(v, dec))
	}
	b.WriteString("</code>\n<i>Orange line: EMA20 · bars: volume</i>")
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
