package funding

import (
	"errors"
	"html"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

const (
	usageText = "Usage: <code>/funding SYMBOL</code>\nExample: <code>/funding btc</code>"
)

// render lays out one venue per row, with the next settlement on the line
// below (clock time in loc, the chat's zone) so the table stays narrow
// enough for a phone.
func render(pair market.Pair, venues []venueFunding, now time.Time, loc *time.Location) string {
	rows := [][]string{{"venue", "rate", "APR, simple"}}
	rates := make([]float64, 0, len(venues))
	for _, v := range venues {
		name := reply.Venue(v.name)
		switch {
		case errors.Is(v.err, market.ErrUnknownSymbol):
			rows = append(rows, []string{name, "not listed"})
			continue
		case v.err != nil:
			rows = append(rows, []string{name, "unavailable"})
			continue
		}
		rates = append(rates, v.f.Rate)
		rows = append(rows, []string{name, rateText(v.f), aprText(v.f)})
		if !v.f.Next.IsZero() {
			rows = append(rows, []string{"", "next " + v.f.Next.In(loc).Format("15:04 MST") + " " + countdown(v.f.Next, now)})
		}
	}
	var b strings.Builder
	b.WriteString("<b>" + html.EscapeString(pair.String()) + " perp</b> funding\n")
	b.WriteString("<pre>" + html.EscapeString(reply.Table(rows)) + "</pre>")
	if note := signNote(rates); note != "" {
		b.WriteString("\n" + html.EscapeString(note))
	}
	return b.String()
}

func renderSection(f market.Funding, now time.Time) string {
	line := "Funding " + rateText(f)
	if f.Interval > 0 {
		line += " (APR " + aprText(f) + ")"
	}
	if !f.Next.IsZero() {
		line += " next " + countdown(f.Next, now)
	}
	return html.EscapeString(line)
}

// rateText is the rate per interval in percent: +0.0100%/8h, or the bare rate
// when the venue gave no interval.
func rateText(f market.Funding) string {
	s := format.Percent(f.Rate*100, 4)
	if f.Interval > 0 {
		s += "/" + format.Duration(f.Interval)
	}
	return s
}

// aprText annualises without compounding: rate × settlements a day × 365.
func aprText(f market.Funding) string {
	if f.Interval <= 0 {
		return "n/a"
	}
	perDay := float64(24*time.Hour) / float64(f.Interval)
	return format.Percent(f.Rate*100*perDay*365, 2)
}

func countdown(next, now time.Time) string {
	if d := next.Sub(now); d > 0 {
		return "in " + format.Duration(d)
	}
	return "due now"
}

// signNote says who pays, for the signs the venues show.
func signNote(rates []float64) string {
	var pos, neg, zero bool
	for _, r := range rates {
		switch {
		case r > 0:
			pos = true
		case r < 0:
			neg = true
		case r == 0:
			zero = true
		}
	}
	switch {
	case pos && neg:
		return "Positive rate: longs pay shorts; negative: shorts pay longs."
	case pos:
		return "Positive rate: longs pay shorts."
	case neg:
		return "Negative rate: shorts pay longs."
	case zero:
		return "Zero rate: neither side pays."
	}
	return ""
}
