package openinterest

import (
	"errors"
	"html"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
)

const (
	usageText = "Usage: <code>/oi SYMBOL</code> for one venue, <code>/oi SYMBOL all</code> for every venue.\n" +
		"Example: <code>/oi btc</code>"
	unavailableText = "Market data unavailable, try again shortly."

	maxEchoedInput = 32 // runes of user input repeated in a reply
	maxSuggestions = 5
)

// unknownPairText answers input that no venue lists as a perpetual, with the
// resolver's suggestions when it has any.
func unknownPairText(input string, err error) string {
	if utf8.RuneCountInString(input) > maxEchoedInput {
		input = string([]rune(input)[:maxEchoedInput]) + "…"
	}
	var b strings.Builder
	b.WriteString("Unknown pair <code>" + html.EscapeString(input) + "</code>.")
	var upe *market.UnknownPairError
	if errors.As(err, &upe) && len(upe.Suggestions) > 0 {
		b.WriteString(" Did you mean ")
		for i, p := range upe.Suggestions[:min(len(upe.Suggestions), maxSuggestions)] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("<code>" + html.EscapeString(p.String()) + "</code>")
		}
		b.WriteString("?")
	}
	return b.String()
}

func renderOne(pair market.Pair, s snapshot, now time.Time) string {
	var b strings.Builder
	b.WriteString("<b>" + html.EscapeString(pair.String()) + " perp</b> open interest on " +
		html.EscapeString(venueName(s.oi.Venue)) + "\n")
	b.WriteString("<b>" + html.EscapeString(amount(s.oi.USD, s.oi.Coin, pair.Base)) + "</b>\n")
	rows := make([][]string, 0, len(s.changes))
	for i, h := range horizons() {
		rows = append(rows, []string{h.label, changeText(s.changes[i])})
	}
	b.WriteString("<pre>" + html.EscapeString(table(rows)) + "</pre>\n")
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
			rows = append(rows, []string{venueName(v.name), "not listed"})
			missing = true
			continue
		case v.err != nil:
			rows = append(rows, []string{venueName(v.name), "unavailable"})
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
		rows = append(rows, []string{venueName(v.name), usdText(v.oi.USD), coinText(v.oi.Coin), changeText(v.changes[2])})
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
	b.WriteString("<pre>" + html.EscapeString(table(rows)) + "</pre>")
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

func venueName(name string) string {
	switch name {
	case "binance":
		return "Binance"
	case "bybit":
		return "Bybit"
	case "okx":
		return "OKX"
	}
	return name
}

// table aligns rows for a <pre> block: the first column left, the others
// right. A shorter row (a venue's status) is written after its first cell
// and does not widen the columns.
func table(rows [][]string) string {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	width := make([]int, cols)
	for _, r := range rows {
		for i, c := range r {
			if i == 0 || len(r) == cols {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	var b strings.Builder
	for n, r := range rows {
		if n > 0 {
			b.WriteByte('\n')
		}
		line := pad(r[0], width[0], false)
		for i, c := range r[1:] {
			line += "  " + pad(c, width[i+1], len(r) == cols)
		}
		b.WriteString(strings.TrimRight(line, " "))
	}
	return b.String()
}

func pad(s string, w int, right bool) string {
	fill := strings.Repeat(" ", max(w-utf8.RuneCountInString(s), 0))
	if right {
		return fill + s
	}
	return s + fill
}
