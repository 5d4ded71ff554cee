// Package format renders market numbers for chat replies: prices with
// sensible precision at any magnitude, compact volumes, signed percentages
// and short durations. Output is plain text; callers escape it for HTML.
package format

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Price renders a price with two decimals from 1 up, and four significant
// digits below 1: 97,123.40, 1.50, 0.5123, 0.00001234.
func Price(v float64) string {
	if bad(v) {
		return "n/a"
	}
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1:
		return Grouped(v, 2)
	}
	// Four significant digits: decimals = 3 - floor(log10(a)).
	dec := 3 - int(math.Floor(math.Log10(a)))
	dec = min(dec, 12)
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// Grouped renders v with dec decimals and thousands separators: 1,234,567.89.
func Grouped(v float64, dec int) string {
	if bad(v) {
		return "n/a"
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/3 + 1)
	b.WriteString(sign)
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	b.WriteString(frac)
	return b.String()
}

// Compact renders large amounts as 1.23K, 4.56M, 7.89B, 1.02T; below 1,000
// it keeps two decimals (or Price precision for tiny amounts).
func Compact(v float64) string {
	if bad(v) {
		return "n/a"
	}
	a := math.Abs(v)
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}} {
		if a >= u.div*0.9995 {
			return strconv.FormatFloat(v/u.div, 'f', 2, 64) + u.suffix
		}
	}
	if a < 1 {
		return Price(v)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Percent renders a signed percentage with dec decimals: +1.25%, -0.40%, 0.00%.
func Percent(pct float64, dec int) string {
	if bad(pct) {
		return "n/a"
	}
	s := strconv.FormatFloat(pct, 'f', dec, 64)
	if pct > 0 && strings.Trim(s, "0.") != "" {
		s = "+" + s
	}
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		s = s[1:] // -0.00 reads as a change that is not there
	}
	return s + "%"
}

// Arrow is ▲ for a rise, ▼ for a fall and • for no change.
func Arrow(pct float64) string { return BySign(pct, "▲", "▼", "•") }

// BySign is up for a positive v, down for a negative one and flat for zero
// (and NaN): the one choice behind every sign mark.
func BySign(v float64, up, down, flat string) string {
	switch {
	case v > 0:
		return up
	case v < 0:
		return down
	}
	return flat
}

// Duration renders d coarsely for humans: 45s, 12m, 3h 12m, 2d 4h.
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return strconv.Itoa(h) + "h"
		}
		return strconv.Itoa(h) + "h " + strconv.Itoa(m) + "m"
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return strconv.Itoa(days) + "d"
	}
	return strconv.Itoa(days) + "d " + strconv.Itoa(h) + "h"
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
