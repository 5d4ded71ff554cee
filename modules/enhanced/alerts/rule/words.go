package rule

import (
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Reading is the market's value for a rule now, shown next to it: the last
// price (level and move alerts), the funding rate with its interval, or the
// open interest in USD.
type Reading struct {
	Value    float64
	Venue    string        // "binance", …; "" omits the venue
	Interval time.Duration // funding interval, 0 if unknown
}

// Describe is the rule in words, plain text: "BTC-USDT above 98,000",
// "ETH-USDT moves 5% within 4h, repeat every 1h, for 30d".
func Describe(pair string, r Rule) string {
	var b strings.Builder
	b.WriteString(pair + " ")
	switch r.Kind {
	case Above, Below:
		b.WriteString(r.Kind.String() + " " + Level(r.Level))
	case Move:
		b.WriteString("moves " + percent(r.Percent) + " within " + format.Duration(r.Window))
	case OIMove:
		b.WriteString("open interest moves " + percent(r.Percent) + " within " + format.Duration(r.Window))
	case FundingAbove, FundingBelow:
		dir := "above"
		if r.Kind == FundingBelow {
			dir = "below"
		}
		b.WriteString("funding " + dir + " " + rate(r.Level))
		if r.Venue != "" {
			b.WriteString(" on " + reply.Venue(r.Venue))
		}
	}
	if r.Repeat {
		b.WriteString(", repeat every " + format.Duration(r.Cooldown))
	}
	if r.Expiry > 0 {
		b.WriteString(", for " + format.Duration(r.Expiry))
	}
	return b.String()
}

// Ack is the reply to a created alert, Telegram HTML:
// 🔔 Alert #12 set: BTC-USDT above 98,000 · now 97,432.10 (Binance)
func Ack(id int64, pair string, r Rule, now Reading) string {
	s := "🔔 Alert #" + strconv.FormatInt(id, 10) + " set: " + html.EscapeString(Describe(pair, r))
	if now.Value != 0 {
		s += " · now " + html.EscapeString(readingText(r.Kind, now))
	}
	return s
}

// Message is the message an alert sends when it fires, Telegram HTML. value is
// what fired it; from is the window's extreme for a move (ignored otherwise).
func Message(id int64, pair string, r Rule, value, from float64, venue string) string {
	var s string
	rd := Reading{Value: value, Venue: venue}
	switch r.Kind {
	case Above, Below:
		s = pair + " is " + r.Kind.String() + " " + Level(r.Level) + ": now " + readingText(r.Kind, rd)
	case FundingAbove, FundingBelow:
		dir := "above"
		if r.Kind == FundingBelow {
			dir = "below"
		}
		s = pair + " funding is " + dir + " " + rate(r.Level) + ": now " + readingText(r.Kind, rd)
	case Move, OIMove:
		what := pair
		if r.Kind == OIMove {
			what += " open interest"
		}
		change := 0.0
		if from != 0 {
			change = (value/from - 1) * 100
		}
		s = what + " moved " + format.Percent(change, 2) + " within " + format.Duration(r.Window) + ": " +
			valueText(r.Kind, from) + " → " + valueText(r.Kind, value)
		if venue != "" {
			s += " (" + reply.Venue(venue) + ")"
		}
	}
	tail := "Alert #" + strconv.FormatInt(id, 10)
	if r.Repeat {
		tail += ", repeats after " + format.Duration(r.Cooldown)
	}
	return "🚨 " + html.EscapeString(s) + "\n<i>" + html.EscapeString(tail) + "</i>"
}

// StateText says where an alert stands, plain text: armed, cooling down
// until 14:05 UTC, cooling down until the price is back below 97,804, fired
// 3h ago, paused, expired. Times are shown in loc (nil: UTC).
func StateText(a Alert, now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	switch a.State {
	case Armed:
		return "armed"
	case Cooling:
		if until := a.CooldownUntil(); now.Before(until) {
			return "cooling down until " + clock(until, now, loc)
		}
		if !a.Retreated {
			side := "above"
			if a.Up {
				side = "below"
			}
			bound := RearmBound(a.Rule, a.Value, a.Up)
			return "cooling down until the " + noun(a.Rule.Kind) + " is back " + side + " " + valueText(a.Rule.Kind, bound)
		}
		return "armed"
	case Fired:
		return "fired " + format.Duration(now.Sub(a.LastFired)) + " ago"
	case Paused:
		return "paused"
	case Expired:
		return "expired"
	}
	return a.State.String()
}

// ListLine is one alert in /alerts with the market now (a zero Reading
// leaves it out), Telegram HTML:
// #12 BTC-USDT above 98,000 — armed, expires in 6d · now 97,432.10 (Binance)
func ListLine(a Alert, market Reading, now time.Time, loc *time.Location) string {
	s := "#" + strconv.FormatInt(a.ID, 10) + " " + Describe(a.Pair.String(), a.Rule) + " — " + StateText(a, now, loc)
	if a.State.Live() && !a.Expires.IsZero() && a.Expires.After(now) {
		s += ", expires in " + format.Duration(a.Expires.Sub(now))
	}
	if market.Value != 0 {
		s += " · now " + readingText(a.Rule.Kind, market)
	}
	return html.EscapeString(s)
}

// Level renders a price level as the user would write it, with separators
// and only the decimals it has: 98,000, 98,000.5, 0.00001234.
func Level(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	dec := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		dec = len(s) - i - 1
	}
	return format.Grouped(v, min(dec, 12))
}

func percent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// rate renders a funding rate (a fraction) as /funding does: +0.0100%.
func rate(f float64) string { return format.Percent(f*100, 4) }

func readingText(k Kind, r Reading) string {
	s := valueText(k, r.Value)
	if k.IsFunding() && r.Interval > 0 {
		s += "/" + format.Duration(r.Interval)
	}
	if r.Venue != "" {
		s += " (" + reply.Venue(r.Venue) + ")"
	}
	return s
}

func valueText(k Kind, v float64) string {
	switch {
	case k.IsFunding():
		return rate(v)
	case k == OIMove:
		return "$" + format.Compact(v)
	}
	return format.Price(v)
}

func noun(k Kind) string {
	switch {
	case k.IsFunding():
		return "funding rate"
	case k == OIMove:
		return "open interest"
	}
	return "price"
}

// clock is a time of day in loc, with the date when it is not today there.
func clock(t, now time.Time, loc *time.Location) string {
	lt, ln := t.In(loc), now.In(loc)
	if lt.YearDay() == ln.YearDay() && lt.Year() == ln.Year() {
		return lt.Format("15:04 MST")
	}
	return lt.Format("Jan 2 15:04 MST")
}
