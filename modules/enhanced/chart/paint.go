package chart

import (
	"image"
	"image/color"
	"math"
)

// ink is a palette index. The chart is a paletted image: a quarter of the
// memory of RGBA, and PNG encodes it without per-row filtering, which is
// most of the cost of encoding an RGBA canvas.
type ink uint8

// The chart's colours, a dark trading-terminal theme. inkBg is zero so a
// new canvas is already background.
const (
	inkBg ink = iota
	inkGrid
	inkAxis  // axis lines and the separator
	inkLabel // axis labels and the legend
	inkTitle
	inkUp
	inkDown
	inkUpVol // volume bars: the candle colours at low strength
	inkDownVol
	inkEMA20
	inkEMA50
	inkTagText
	numInks
)

// inkColors are TradingView-like dark-theme colours, grouped by role:
// frame, text, candles, volume, indicators.
var inkColors = [numInks]color.RGBA{
	inkBg: rgb(0x131722), inkGrid: rgb(0x232733), inkAxis: rgb(0x3a3f4c),
	inkLabel: rgb(0xb2b5be), inkTitle: rgb(0xeeeff2), inkTagText: rgb(0xffffff),
	inkUp: rgb(0x26a69a), inkDown: rgb(0xef5350),
	inkUpVol: rgb(0x1b4b4c), inkDownVol: rgb(0x6b2e33),
	inkEMA20: rgb(0xf7a600), inkEMA50: rgb(0x298ef5),
}

func rgb(v uint32) color.RGBA { return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff} }

// rampLevels is how many coverage steps antialiasing has between a
// background and a foreground ink (0 and rampLevels are the inks themselves).
const rampLevels = 15

// ramps are the foreground-over-background pairs that get antialiasing
// shades: text and EMA lines over the background, tag text over the tag.
// Any other pair (a line crossing a candle) rounds coverage to one ink.
var ramps = [...][2]ink{
	{inkLabel, inkBg}, {inkTitle, inkBg}, {inkUp, inkBg}, {inkDown, inkBg},
	{inkEMA20, inkBg}, {inkEMA50, inkBg}, {inkEMA20, inkGrid}, {inkEMA50, inkGrid},
	{inkTagText, inkUp}, {inkTagText, inkDown},
}

// shade describes a palette entry: shade level of fg over bg; the inks
// themselves are level rampLevels of themselves.
type shade struct {
	fg, bg ink
	level  uint8
}

// palette is built once at init and never changed: the colours, the
// shade of each entry, and where each ramp starts.
var palette = newPalette()

type paletteTables struct {
	colors color.Palette
	shades []shade
	start  [numInks][numInks]int // first entry of the fg-over-bg ramp, 0 if none
}

func newPalette() paletteTables {
	var p paletteTables
	for k, c := range inkColors {
		p.colors = append(p.colors, c)
		p.shades = append(p.shades, shade{fg: ink(k), bg: ink(k), level: rampLevels})
	}
	for _, r := range ramps {
		fg, bg := inkColors[r[0]], inkColors[r[1]]
		p.start[r[0]][r[1]] = len(p.colors)
		for l := 1; l < rampLevels; l++ {
			mix := func(a, b uint8) uint8 {
				return uint8((int(a)*l + int(b)*(rampLevels-l) + rampLevels/2) / rampLevels)
			}
			p.colors = append(p.colors, color.RGBA{mix(fg.R, bg.R), mix(fg.G, bg.G), mix(fg.B, bg.B), 0xff})
			p.shades = append(p.shades, shade{fg: r[0], bg: r[1], level: uint8(l)})
		}
	}
	if len(p.colors) > 256 {
		panic("chart: palette has more than 256 colours")
	}
	return p
}

// canvas draws on a paletted image in inks.
type canvas struct{ *image.Paletted }

func newCanvas(w, h int) canvas {
	return canvas{image.NewPaletted(image.Rect(0, 0, w, h), palette.colors)}
}

func (cv canvas) at(x, y int) ink { return ink(cv.Pix[cv.PixOffset(x, y)]) }

// fill paints r, clipped to the canvas.
func (cv canvas) fill(r image.Rectangle, k ink) {
	r = r.Intersect(cv.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		o := cv.PixOffset(r.Min.X, y)
		row := cv.Pix[o : o+r.Dx()]
		for i := range row {
			row[i] = uint8(k)
		}
	}
}

// blend lays ink k at coverage a (0–255) over the pixel at (x, y). Over a
// shade of k, coverages combine by maximum, so overlapping strokes of one
// line or glyph do not darken at their joints.
func (cv canvas) blend(x, y int, k ink, a uint8) {
	if !(image.Point{x, y}.In(cv.Rect)) {
		return
	}
	level := (int(a)*rampLevels + 127) / 255
	if level == 0 {
		return
	}
	o := cv.PixOffset(x, y)
	d := palette.shades[cv.Pix[o]]
	bg := d.bg
	if d.fg == k {
		level = max(level, int(d.level))
	} else if d.level > rampLevels/2 {
		bg = d.fg // over another ink's strong shade: treat it as that ink
	}
	switch start := palette.start[k][bg]; {
	case level >= rampLevels:
		cv.Pix[o] = uint8(k)
	case start != 0:
		cv.Pix[o] = uint8(start + level - 1)
	case level > rampLevels/2:
		cv.Pix[o] = uint8(k)
	}
}

// line draws an antialiased line of the given width between two points in
// pixel coordinates (pixel (x, y) covers [x, x+1) × [y, y+1)). It walks the
// major axis and spreads each step's coverage across the minor one.
func (cv canvas) line(x0, y0, x1, y1, width float64, k ink) {
	steep := math.Abs(y1-y0) > math.Abs(x1-x0)
	if steep { // walk y: swap the axes and swap them back when plotting
		x0, y0, x1, y1 = y0, x0, y1, x1
	}
	if x0 > x1 {
		x0, y0, x1, y1 = x1, y1, x0, y0
	}
	slope := 0.0
	if x1 > x0 {
		slope = (y1 - y0) / (x1 - x0)
	}
	half := width / 2 * math.Sqrt(1+slope*slope)
	for u := math.Floor(x0); u <= x1; u++ {
		c := u + 0.5
		if c < x0 || c > x1 {
			continue
		}
		v := y0 + (c-x0)*slope
		top, bottom := v-half, v+half
		for w := math.Floor(top); w < bottom; w++ {
			cov := min(bottom, w+1) - max(top, w)
			if cov <= 0 {
				continue
			}
			a := uint8(math.Round(min(cov, 1) * 255))
			if steep {
				cv.blend(int(w), int(u), k, a)
			} else {
				cv.blend(int(u), int(w), k, a)
			}
		}
	}
}
