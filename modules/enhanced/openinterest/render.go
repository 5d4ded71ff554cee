package openinterest

import (
	"errors"
	"html"
	"math"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

const (
	usageText = "Usage: <code>/oi SYMBOL</code> for one venue, <code>/oi SYMBOL all</code> for every venue.\n" +
		"Example: <code>/oi btc</code>"
)

func renderOne(pair market.Pair, s snapshot, now time.Time) string {
	var b strings.Builder
	b.WriteString("<b>" + html.EscapeString(pair.String()) + " perp</b> open interest on " +
		html.EscapeString(reply.Venue(s.oi.Venue)) + "\n")
	b.WriteString("<b>" + html.EscapeString(amount(s.oi.USD, s.oi.Coin, pair.Base)) + "</b>\n")
	rows := make([][]string, 0, len(s.changes))
	for i, h := range horizons() {
		rows = append(rows, []string{h.label, changeText(s.changes[i])})
	}
	b.WriteString("<pre>" + html.EscapeString(reply.Table(rows)) + "</pre>\n")
	if !s.oi.Time.IsZero() {
		b.WriteString("Data " + html.EscapeString(format.Duration(age(now, s.oi.Time))) + " old. ")
	}
	b.WriteString("Every venue: <code>/oi " + html.EscapeString(pair.String()) + " all</code>")
	return b.String()
}

func renderAll(pair market.Pair, venues []venueSnapshot, now time.Time) string {
	rows := [][]string{{"venue", "OI USD", pair.Base, "24h"}}
	var (
		usd, coin     float64
		answered      int
		missing       bool
		oldest        time.Duration
		usdOK, coinOK = true, true
	)
	for _, v := range venues {
		switch {
		case errors.Is(v.err, market.ErrUnknownSymbol):
			rows = append(rows, []string{reply.Venue(v.name), "not listed"})
			missing = true
			continue
		case v.err != nil:
			rows = append(rows, []string{reply.Venue(v.name), "unavailable"})
			missing = true
			continue
		}
		answered++
		usd += v.oi.USD
		coin += v.oi.Coin
		usdOK = usdOK && v.oi.USD > 0
		coinOK = coinOK && v.oi.Coin > 0
		if !v.oi.Time.IsZero() {
			oldest = max(oldest, age(now, v.oi.Time))
		}
		rows = append(rows, []string{reply.Venue(v.name), usdText(v.oi.USD), coinText(v.oi.Coin), changeText(v.changes[2])})
	}
	if answered > 1 {
		total := []string{"total", "n/a", "n/a", ""}
		if usdOK {
			total[1] = usdText(usd)
		}
		if coinOK {
			total[2] = coinText(coin)
		}
		rows = append(rows, total)
	}

	var b strings.Builder
	b.WriteString("<b>" + html.EscapeString(pair.String()) + " perp</b> open interest by venue\n")
	b.WriteString("<pre>" + html.EscapeString(reply.Table(rows)) + "</pre>")
	var notes []string
	if answered > 1 && missing {
		notes = append(notes, "Total covers the venues that answered.")
	}
	if oldest > 0 {
		notes = append(notes, "Data up to "+format.Duration(oldest)+" old.")
	}
	if len(notes) > 0 {
		b.WriteString("\n" + html.EscapeString(strings.Join(notes, " ")))
	}
	return b.String()
}

func renderSection(pair market.Pair, s snapshot) string {
	head := usdText(s.oi.USD)
	if s.oi.USD <= 0 {
		head = coinText(s.oi.Coin) + " " + pair.Base
	}
	return html.EscapeString("OI " + head + " (24h " + changeText(s.changes[2]) + ")")
}

// amount renders "$5.24B (61,647 BTC)", or the coin alone when the venue gave
// no USD value.
func amount(usd, coin float64, base string) string {
	if usd <= 0 {
		return coinText(coin) + " " + base
	}
	return usdText(usd) + " (" + coinText(coin) + " " + base + ")"
}

func usdText(v float64) string {
	if v <= 0 {
		return "n/a"
	}
	return "$" + format.Compact(v)
}

// coinText keeps whole coins readable: 61,647 BTC, 3.21B PEPE, 12.50 YFI.
func coinText(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return format.Compact(v)
	case a >= 100:
		return format.Grouped(v, 0)
	}
	return format.Grouped(v, 2)
}

func changeText(c change) string {
	if !c.ok {
		return "n/a"
	}
	return format.Percent(c.pct, 1)
}

// age is how old data stamped t is; a venue clock ahead of ours reads as fresh.
func age(now, t time.Time) time.Duration { return max(now.Sub(t), 0) }
