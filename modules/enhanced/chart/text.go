package chart

import (
	"fmt"
	"image"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Text sizes in pixels, chosen for Telegram's preview: the photo is shown
// about 360 px wide, so a 1000 px canvas is scaled to about a third and
// 17 px labels land near 6 px, the smallest a price stays readable at.
const (
	labelSize = 20
	titleSize = 26
)

// charset is every rune the chart writes: ASCII plus the separators and
// arrows of the title. Anything else is drawn as '?'.
const charset = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`" +
	"abcdefghijklmnopqrstuvwxyz{|}~·▲▼"

// glyph is one rune's coverage mask, rasterized once at a whole-pixel dot.
type glyph struct {
	mask    []uint8 // w×h coverage, row-major
	w, h    int
	dx, dy  int // the mask's top-left corner relative to the dot on the baseline
	advance fixed.Int26_6
}

// face is a font at one size, rasterized ahead of time: opentype faces are
// not safe for concurrent use and re-rasterize every glyph on every call,
// while these masks are read-only and shared by all requests.
type face struct {
	glyphs  map[rune]*glyph
	ascent  int // pixels above the baseline of a capital or digit
	descent int
}

// typefaces holds the chart's faces, built on first use from the Go fonts
// compiled into the binary: no system fonts, no cgo.
type typefaces struct {
	label, title *face
}

var fonts = sync.OnceValue(func() typefaces {
	return typefaces{
		label: mustFace(goregular.TTF, labelSize),
		title: mustFace(gobold.TTF, titleSize),
	}
})

// mustFace panics: the fonts are embedded, so a parse failure is a broken
// build that the package's tests catch, not a runtime condition.
func mustFace(ttf []byte, size float64) *face {
	f, err := newFace(ttf, size)
	if err != nil {
		panic(fmt.Sprintf("chart: embedded font: %v", err))
	}
	return f
}

func newFace(ttf []byte, size float64) (*face, error) {
	fnt, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	of, err := opentype.NewFace(fnt, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("face: %w", err)
	}
	defer of.Close()
	m := of.Metrics()
	fc := &face{glyphs: make(map[rune]*glyph, len(charset)), ascent: m.CapHeight.Ceil(), descent: m.Descent.Ceil()}
	for _, r := range charset {
		dr, mask, mp, adv, ok := of.Glyph(fixed.Point26_6{}, r)
		if !ok {
			return nil, fmt.Errorf("no glyph for %q", r)
		}
		a, ok := mask.(*image.Alpha)
		if !ok {
			return nil, fmt.Errorf("glyph %q: mask is %T, want *image.Alpha", r, mask)
		}
		g := &glyph{w: dr.Dx(), h: dr.Dy(), dx: dr.Min.X, dy: dr.Min.Y, advance: adv, mask: make([]uint8, dr.Dx()*dr.Dy())}
		for y := range g.h {
			o := a.PixOffset(mp.X, mp.Y+y)
			copy(g.mask[y*g.w:(y+1)*g.w], a.Pix[o:o+g.w])
		}
		fc.glyphs[r] = g
	}
	return fc, nil
}

func (f *face) glyph(r rune) *glyph {
	if g, ok := f.glyphs[r]; ok {
		return g
	}
	return f.glyphs['?']
}

// width is the advance of s in whole pixels.
func (f *face) width(s string) int {
	var w fixed.Int26_6
	for _, r := range s {
		w += f.glyph(r).advance
	}
	return w.Ceil()
}

// text draws s with its baseline at y, starting at x, and returns the x
// after it. Glyphs are placed on whole pixels: at these sizes subpixel
// placement is invisible and would need a mask per phase.
func (cv canvas) text(f *face, x, y int, s string, k ink) int {
	dot := fixed.I(x)
	for _, r := range s {
		g := f.glyph(r)
		gx, gy := dot.Round()+g.dx, y+g.dy
		for j := range g.h {
			row := g.mask[j*g.w : (j+1)*g.w]
			for i, a := range row {
				if a != 0 {
					cv.blend(gx+i, gy+j, k, a)
				}
			}
		}
		dot += g.advance
	}
	return dot.Ceil()
}
