// Package reply holds the reply pieces every market module shares, so users
// see one wording for the same situation: unknown or unreadable pairs with
// suggestions, unavailable data, venue names and aligned <pre> tables.
package reply

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"unicode/utf8"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Unavailable is the answer when every venue failed or did not answer in time.
const Unavailable = "⚠️ Market data unavailable right now. Please try again in a moment."

const (
	maxEchoedInput = 32 // runes of user input repeated in a reply
	maxSuggestions = 5
)

// MarketError turns a resolve or fetch error into the text a user should see:
// unreadable input, an unknown pair with the closest listed pairs, or
// unavailable data. Raw error text never reaches the chat.
func MarketError(input string, err error) string {
	var unknown *market.UnknownPairError
	switch {
	case errors.As(err, &unknown):
		return unknownPair(input, unknown.Suggestions)
	case errors.Is(err, market.ErrInvalidSymbol):
		return "Cannot read <code>" + echo(input) + "</code> as a pair: use a symbol such as <code>btc</code> or <code>ETH-BTC</code>."
	case errors.Is(err, market.ErrUnknownSymbol):
		return unknownPair(input, nil)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "⚠️ Market data unavailable: the exchanges did not answer in time. Please try again in a moment."
	}
	return Unavailable
}

// PerpError is the text for a failed Resolve of a perpetual: an unknown
// symbol gets MarketError's suggestions, any other failure is unavailable.
func PerpError(input string, err error) string {
	if errors.Is(err, market.ErrUnknownSymbol) {
		return MarketError(input, err)
	}
	return Unavailable
}

// SectionError is a /price section's error for a failed fetch of what: nil
// when no venue lists the pair's perpetual (a spot-only pair has no such
// section, which is not a failure), else err wrapped with what and the pair.
func SectionError(what string, pair market.Pair, err error) error {
	if errors.Is(err, market.ErrUnknownSymbol) {
		return nil
	}
	return fmt.Errorf("%s %s: %w", what, pair, err)
}

func unknownPair(input string, suggestions []market.Pair) string {
	var b strings.Builder
	b.WriteString("Unknown pair <code>" + echo(strings.ToUpper(input)) + "</code>.")
	for i, p := range suggestions[:min(len(suggestions), maxSuggestions)] {
		if i == 0 {
			b.WriteString(" Did you mean ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString("<code>" + html.EscapeString(p.String()) + "</code>")
	}
	if len(suggestions) > 0 {
		b.WriteString("?")
	}
	return b.String()
}

// echo escapes user input and cuts it short, so a reply never repeats a wall of text.
func echo(input string) string {
	if utf8.RuneCountInString(input) > maxEchoedInput {
		input = string([]rune(input)[:maxEchoedInput]) + "…"
	}
	return html.EscapeString(input)
}

// Venue is a venue's display name.
func Venue(name string) string {
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

// Table aligns rows for a <pre> block: the first column left, the others
// right. A shorter row (a status, a note) is written after its first cell and
// does not widen the columns. The result is plain text: escape it.
func Table(rows [][]string) string {
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

// Widest is the length in bytes of the longest text of a row, for padding
// a column by hand; 0 for no rows.
func Widest[T any](rows []T, text func(T) string) int {
	w := 0
	for _, r := range rows {
		w = max(w, len(text(r)))
	}
	return w
}

func pad(s string, w int, right bool) string {
	fill := strings.Repeat(" ", max(w-utf8.RuneCountInString(s), 0))
	if right {
		return fill + s
	}
	return s + fill
}
