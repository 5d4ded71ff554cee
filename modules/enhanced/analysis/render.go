package analysis

import (
	"html"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/analysis/indicator"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

const (
	usageText = "Usage: <code>/analysis SYMBOL [interval]</code>\n" +
		"Intervals: 15m, 1h, 4h, 1d (default 1h).\n" +
		"Example: <code>/analysis btc 4h</code>"
	// tooManyText answers extra arguments rather than reading the first two.
	tooManyText = "One pair at a time: <code>/analysis</code> reads a symbol and an optional interval, nothing more.\n" + usageText
)

// Signal directions and their marks.
const (
	bearish = -1
	neutral = 0
	bullish = 1
)

func mark(dir int) string { return format.BySign(float64(dir), "🟢", "🔴", "⚪") }

func badIntervalText(arg string) string {
	return "Unknown interval <code>" + html.EscapeString(arg) + "</code>: use 15m, 1h, 4h or 1d."
}

func notEnoughText(pair market.Pair, iv market.Interval, n int) string {
	s := "Not enough history for <b>" + html.EscapeString(pair.String()) + "</b> on " + html.EscapeString(string(iv)) +
		": " + strconv.Itoa(n) + " closed candles, need at least " + strconv.Itoa(MinCandles) + "."
	if iv != market.M15 {
		s += " Try a shorter interval."
	}
	return s
}

// signal is one line of the reply: a direction, the HTML line and the plain
// reason the summary quotes.
type signal struct {
	dir    int
	line   string
	reason string
}

// signals reads the indicators. Each heuristic is deliberately simple and
// stated in the reason so a reader can check it against the numbers.
func signals(r *result) []signal {
	out := make([]signal, 0, 6)

	dir := neutral
	switch r.trend {
	case indicator.Up, indicator.StrongUp:
		dir = bullish
	case indicator.Down, indicator.StrongDown:
		dir = bearish
	}
	line := "Trend " + r.trend.Arrow() + " " + r.trend.String()
	if !math.IsNaN(r.slope) {
		line += " · EMA20 " + format.Percent(r.slope, 2) + "/" + strconv.Itoa(slopeBars) + " bars"
	}
	out = append(out, signal{dir, html.EscapeString(line), r.trend.String()})

	var reason string
	switch {
	case r.rsi >= 70:
		dir, reason = bearish, "RSI overbought"
	case r.rsi <= 30:
		dir, reason = bullish, "RSI oversold"
	case r.rsi >= 55:
		dir, reason = bullish, "RSI momentum up"
	case r.rsi <= 45:
		dir, reason = bearish, "RSI momentum down"
	default:
		dir, reason = neutral, "RSI neutral"
	}
	out = append(out, signal{dir, "RSI " + html.EscapeString(format.Grouped(r.rsi, 1)) +
		" <code>" + rsiGauge(r.rsi) + "</code> " + html.EscapeString(strings.TrimPrefix(reason, "RSI ")), reason})

	if !math.IsNaN(r.hist) {
		dir, reason = neutral, "MACD on its signal"
		if r.hist > 0 {
			dir, reason = bullish, "MACD above signal"
		} else if r.hist < 0 {
			dir, reason = bearish, "MACD below signal"
		}
		out = append(out, signal{dir, html.EscapeString(reason + " · hist " + format.Price(r.hist)), reason})
	}

	switch {
	case r.pctB > 1:
		dir, reason = bearish, "above the upper band"
	case r.pctB < 0:
		dir, reason = bullish, "below the lower band"
	default:
		dir, reason = neutral, "inside the bands"
	}
	out = append(out, signal{dir, html.EscapeString("Bollinger %B " + format.Grouped(r.pctB, 2) + " · " + reason), reason})

	if !math.IsNaN(r.ema200) {
		dir, reason = bullish, "above EMA200"
		if r.close < r.ema200 {
			dir, reason = bearish, "below EMA200"
		}
		out = append(out, signal{dir, html.EscapeString("Price " + reason + " (" +
			format.Percent((r.close-r.ema200)/r.ema200*100, 2) + ")"), reason})
	}

	if !math.IsNaN(r.volumeRatio) {
		dir, reason = neutral, "usual volume"
		if r.volumeRatio >= 1.5 && r.close > r.open {
			dir, reason = bullish, "high volume on an up bar"
		} else if r.volumeRatio >= 1.5 && r.close < r.open {
			dir, reason = bearish, "high volume on a down bar"
		}
		out = append(out, signal{dir, html.EscapeString("Volume " + format.Grouped(r.volumeRatio, 2) + "× its " +
			strconv.Itoa(volumePer) + "-bar average"), reason})
	}
	return out
}

// summary weighs the signals: two more on one side than the other decides.
func summary(sigs []signal) string {
	score, bulls, bears := 0, 0, 0
	for _, s := range sigs {
		score += s.dir
		switch s.dir {
		case bullish:
			bulls++
		case bearish:
			bears++
		}
	}
	verdict, want := "Neutral", neutral
	switch {
	case score >= 2:
		verdict, want = "Bullish", bullish
	case score <= -2:
		verdict, want = "Bearish", bearish
	}
	var b strings.Builder
	b.WriteString(mark(want) + " " + verdict + ": ")
	if want == neutral {
		b.WriteString("mixed signals, " + strconv.Itoa(bulls) + " bullish, " + strconv.Itoa(bears) + " bearish")
		return b.String()
	}
	n := 0
	for _, s := range sigs {
		if s.dir != want {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(html.EscapeString(s.reason))
		n++
	}
	return b.String()
}

// analysisText renders the full /analysis reply.
func analysisText(pair market.Pair, iv market.Interval, r *result, closedAgo time.Duration) string {
	var b strings.Builder
	b.Grow(2048)
	b.WriteString("<b>📊 " + html.EscapeString(pair.String()) + " · " + html.EscapeString(string(iv)) + " analysis</b>\n")
	b.WriteString("Close <b>" + html.EscapeString(format.Price(r.close)) + "</b> · " + strconv.Itoa(r.candles) +
		" candles · last closed " + format.Duration(closedAgo) + " ago\n")
	spark := r.spark[:r.sparkN]
	b.WriteString("<code>" + sparkline(spark) + "</code> last " + strconv.Itoa(len(spark)) + " closes " +
		html.EscapeString(format.Percent((spark[len(spark)-1]-spark[0])/spark[0]*100, 2)) + "\n\n")

	sigs := signals(r)
	for _, s := range sigs {
		b.WriteString(mark(s.dir) + " " + s.line + "\n")
	}
	b.WriteString(table(r))
	b.WriteString("<b>Summary:</b> " + summary(sigs))
	if missing := missingText(r.candles); missing != "" {
		b.WriteString("\n" + missing)
	}
	return b.String()
}

// table renders the indicator values as aligned columns in a <pre> block;
// indicators still warming up are left out.
func table(r *result) string {
	type row struct{ label, value, note string }
	rows := make([]row, 0, 11)
	add := func(label string, v float64, note string) {
		if !math.IsNaN(v) {
			rows = append(rows, row{label, format.Price(v), note})
		}
	}
	dist := func(level float64) string {
		if math.IsNaN(level) {
			return ""
		}
		return format.Percent((level-r.close)/r.close*100, 2)
	}
	add("EMA20", r.ema20, "")
	add("EMA50", r.ema50, "")
	add("EMA200", r.ema200, "")
	add("MACD", r.macd, "")
	add("Signal", r.signal, "")
	add("BB upper", r.upper, "")
	add("BB lower", r.lower, "")
	add("ATR14", r.atr, format.Grouped(r.atrPct, 2)+"%")
	if !math.IsNaN(r.vol) {
		rows = append(rows, row{"Volatility", format.Grouped(r.vol*100, 1) + "%", "a year"})
	}
	for _, lv := range []struct {
		label string
		v     float64
	}{{"Support", r.support}, {"Resistance", r.resistance}} {
		if math.IsNaN(lv.v) {
			rows = append(rows, row{lv.label, "none", ""})
		} else {
			add(lv.label, lv.v, dist(lv.v))
		}
	}

	width := reply.Widest(rows, func(rw row) string { return rw.value })
	var b strings.Builder
	b.WriteString("<pre>")
	for _, rw := range rows {
		line := rw.label + strings.Repeat(" ", 11-len(rw.label)) +
			strings.Repeat(" ", width-len(rw.value)) + rw.value
		if rw.note != "" {
			line += "  " + rw.note
		}
		b.WriteString(html.EscapeString(line) + "\n")
	}
	b.WriteString("</pre>\n")
	return b.String()
}

// missingText names the indicators a history of n candles is too short for.
func missingText(n int) string {
	var parts []string
	for _, w := range longWarmups() {
		if n < w.need {
			parts = append(parts, w.name+" ("+strconv.Itoa(w.need)+")")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "⏳ Needs more history: " + strings.Join(parts, ", ") + " candles; have " + strconv.Itoa(n) + "."
}

// sectionText is the one /price line.
func sectionText(iv market.Interval, r *result) string {
	s := "📊 " + html.EscapeString(string(iv)) + ": RSI " + strconv.FormatFloat(math.Round(r.rsi), 'f', 0, 64) +
		" · trend " + r.trend.Arrow()
	switch {
	case r.close > r.ema200:
		s += " · above EMA200"
	case r.close < r.ema200:
		s += " · below EMA200"
	}
	return s
}

// rsiGauge draws RSI on ten cells of ten points, with | marking the
// oversold (30) and overbought (70) thresholds: 63.2 → [░░░|░░░▓|░░░].
func rsiGauge(v float64) string {
	cell := min(max(int(v/10), 0), 9)
	var b strings.Builder
	b.WriteByte('[')
	for i := range 10 {
		if i == 3 || i == 7 {
			b.WriteByte('|')
		}
		if i == cell {
			b.WriteString("▓")
		} else {
			b.WriteString("░")
		}
	}
	b.WriteByte(']')
	return b.String()
}

// sparkGlyphs are the eight sparkline levels, three UTF-8 bytes each.
const sparkGlyphs = "▁▂▃▄▅▆▇█"

// sparkline draws vals on eight levels scaled between their minimum and
// maximum; a flat series is drawn at mid height throughout.
func sparkline(vals []float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	b.Grow(len(vals) * 3)
	for _, v := range vals {
		level := 3
		if hi > lo {
			level = min(int((v-lo)/(hi-lo)*8), 7)
		}
		b.WriteString(sparkGlyphs[level*3 : level*3+3])
	}
	return b.String()
}
