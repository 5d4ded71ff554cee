package rule

import (
	"errors"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cryptobot-dev/cryptobot/internal/format"
)

// UsageError is bad input: Problem says what is wrong (plain text, may quote
// the input), Usage and Example show the right form. Text is the reply.
type UsageError struct {
	Problem string
	Usage   string
	Example string
}

func (e *UsageError) Error() string { return e.Problem }

// Text renders the error as the Telegram HTML reply: problem, usage, example.
func (e *UsageError) Text() string {
	var b strings.Builder
	if e.Problem != "" {
		b.WriteString("⚠️ " + html.EscapeString(e.Problem) + "\n")
	}
	b.WriteString("Usage:")
	for i, line := range strings.Split(e.Usage, "\n") {
		if i > 0 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
		b.WriteString("<code>" + html.EscapeString(line) + "</code>")
	}
	if e.Example != "" {
		b.WriteString("\nExample: <code>" + html.EscapeString(e.Example) + "</code>")
	}
	return b.String()
}

// Usage lines, one per alert form, and the whole /alert usage.
const (
	UsageLevel   = "/alert SYMBOL above|below PRICE [repeat] [every 30m] [for 7d] [confirm]"
	UsageMove    = "/alert SYMBOL move N% [15m…24h] [repeat] [every 30m] [for 7d]"
	UsageFunding = "/alert SYMBOL funding above|below RATE% [on binance|bybit|okx] [repeat] [every 30m] [for 7d]"
	UsageOI      = "/alert SYMBOL oi move N% [15m…24h] [repeat] [every 30m] [for 7d]"
	UsageAlert   = UsageLevel + "\n" + UsageMove + "\n" + UsageFunding + "\n" + UsageOI
	UsageUnalert = "/unalert ID|all"
	UsageWatch   = "/watch SYMBOL…"
	UsageUnwatch = "/unwatch SYMBOL…"
	UsageDigest  = "/digest HH:MM [TZ] | /digest off"

	exampleLevel   = "/alert btc above 98k"
	exampleMove    = "/alert eth move 5% 4h repeat"
	exampleFunding = "/alert btc funding above 0.05% on bybit"
	exampleOI      = "/alert sol oi move 10% 1h"
)

const maxEcho = 24 // runes of a bad token quoted back

func quote(tok string) string {
	if utf8.RuneCountInString(tok) > maxEcho {
		tok = string([]rune(tok)[:maxEcho]) + "…"
	}
	return "“" + tok + "”"
}

// Parse reads the arguments of /alert (the command word already removed).
// Every error is a *UsageError with the usage of the form the user attempted.
func Parse(args []string) (Rule, error) {
	args = splitOperator(args)
	if len(args) < 2 {
		return Rule{}, &UsageError{Problem: "Tell me the pair and the condition.", Usage: UsageAlert, Example: exampleLevel}
	}
	switch strings.ToLower(args[0]) {
	case "above", "below", ">", "<", "move", "funding", "oi":
		return Rule{}, &UsageError{Problem: "Start with the pair, then the condition.", Usage: UsageAlert, Example: exampleLevel}
	}
	r := Rule{Symbol: args[0]}
	rest, err := parseCondition(&r, args[1:])
	if err != nil {
		return Rule{}, err
	}
	if err := parseOptions(&r, rest); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// splitOperator lets `>98000` and `<0.5` stand for `> 98000`, `< 0.5`.
func splitOperator(args []string) []string {
	if len(args) < 2 {
		return args
	}
	if op := args[1]; len(op) > 1 && (op[0] == '>' || op[0] == '<') {
		out := make([]string, 0, len(args)+1)
		out = append(out, args[0], op[:1], op[1:])
		return append(out, args[2:]...)
	}
	return args
}

func formUsage(k Kind) (usage, example string) {
	switch k {
	case Move:
		return UsageMove, exampleMove
	case FundingAbove, FundingBelow:
		return UsageFunding, exampleFunding
	case OIMove:
		return UsageOI, exampleOI
	}
	return UsageLevel, exampleLevel
}

func usageErr(k Kind, problem string) error {
	u, ex := formUsage(k)
	return &UsageError{Problem: problem, Usage: u, Example: ex}
}

// parseCondition fills the kind and its numbers and returns the options left.
func parseCondition(r *Rule, args []string) ([]string, error) {
	switch w := strings.ToLower(args[0]); w {
	case "above", ">", "below", "<":
		r.Kind = Above
		if w == "below" || w == "<" {
			r.Kind = Below
		}
		if len(args) < 2 {
			return nil, usageErr(r.Kind, "Which price?")
		}
		v, err := ParseNumber(args[1])
		if err != nil || v <= 0 {
			return nil, usageErr(r.Kind, "The price must be a number above 0, not "+quote(args[1])+".")
		}
		r.Level = v
		return args[2:], nil
	case "move":
		r.Kind = Move
		return parseMove(r, args[1:])
	case "oi":
		r.Kind = OIMove
		if len(args) < 2 || !strings.EqualFold(args[1], "move") {
			return nil, usageErr(OIMove, "Open-interest alerts are moves: oi move N%.")
		}
		return parseMove(r, args[2:])
	case "funding":
		return parseFunding(r, args[1:])
	}
	return nil, &UsageError{Problem: "Unknown condition " + quote(args[0]) + ".", Usage: UsageAlert, Example: exampleLevel}
}

func parseMove(r *Rule, args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, usageErr(r.Kind, "By how many percent?")
	}
	p, err := parsePercent(args[0])
	if err != nil || p <= 0 || p > MaxPercent {
		return nil, usageErr(r.Kind, "The move must be a percent above 0 and at most 1000, not "+quote(args[0])+".")
	}
	r.Percent, r.Window = p, DefaultWindow
	args = args[1:]
	if len(args) > 0 && startsWithDigit(args[0]) {
		w, err := ParseDuration(args[0])
		if err != nil || w < MinWindow || w > MaxWindow {
			return nil, usageErr(r.Kind, "Unknown window "+quote(args[0])+": use 15m to 24h, like 15m, 1h, 4h or 24h.")
		}
		r.Window = w
		args = args[1:]
	}
	return args, nil
}

func parseFunding(r *Rule, args []string) ([]string, error) {
	r.Kind = FundingAbove
	if len(args) < 2 {
		return nil, usageErr(r.Kind, "Funding alerts need above or below and a rate.")
	}
	switch strings.ToLower(args[0]) {
	case "above", ">":
	case "below", "<":
		r.Kind = FundingBelow
	default:
		return nil, usageErr(r.Kind, "Funding alerts need above or below, not "+quote(args[0])+".")
	}
	p, err := parsePercent(args[1])
	if err != nil || math.Abs(p) > MaxFundingPct {
		return nil, usageErr(r.Kind, "The rate must be a percent between -10% and 10%, not "+quote(args[1])+".")
	}
	r.Level = p / 100
	return args[2:], nil
}

// parseOptions reads repeat, every D, for D, confirm and (funding) on VENUE.
func parseOptions(r *Rule, args []string) error {
	seen := map[string]bool{}
	for len(args) > 0 {
		w := strings.ToLower(args[0])
		if seen[w] {
			return usageErr(r.Kind, "The option "+quote(args[0])+" is given twice.")
		}
		seen[w] = true
		switch w {
		case "repeat":
			r.Repeat = true
			args = args[1:]
			continue
		case "confirm":
			r.Confirm = true
			args = args[1:]
			continue
		case "every", "for", "on":
		default:
			return usageErr(r.Kind, "Unknown option "+quote(args[0])+".")
		}
		if len(args) < 2 {
			return usageErr(r.Kind, "The option "+quote(args[0])+" needs a value.")
		}
		if err := parseValued(r, w, args[1]); err != nil {
			return err
		}
		args = args[2:]
	}
	if r.Cooldown > 0 {
		r.Repeat = true // `every 30m` alone means repeating
	}
	if r.Repeat {
		if r.Cooldown == 0 {
			r.Cooldown = DefaultCooldown
		}
		if r.Expiry == 0 {
			r.Expiry = DefaultLife
		}
	}
	return nil
}

func parseValued(r *Rule, opt, val string) error {
	switch opt {
	case "every":
		d, err := ParseDuration(val)
		if err != nil || d < MinCooldown || d > MaxCooldown {
			return usageErr(r.Kind, "Unknown cooldown "+quote(val)+": use 1m to 7d, like every 30m.")
		}
		r.Cooldown = d
	case "for":
		d, err := ParseDuration(val)
		if err != nil || d < MinLife || d > MaxLife {
			return usageErr(r.Kind, "Unknown lifetime "+quote(val)+": use 1m to 365d, like for 7d.")
		}
		r.Expiry = d
	case "on":
		if !r.Kind.IsFunding() {
			return usageErr(r.Kind, "Only funding alerts choose a venue.")
		}
		v := strings.ToLower(val)
		if VenueIndex(v) == 0 {
			return usageErr(r.Kind, "Unknown venue "+quote(val)+": use binance, bybit or okx.")
		}
		r.Venue = v
	}
	return nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

var errNumber = errors.New("not a number")

// ParseNumber reads a plain positive-or-negative decimal as users type
// prices: 98000, 98,000, $98k, 1.5m, 2b, 0.00001234. Thousands separators
// must group by three; exponents, hex, inf and nan are refused.
func ParseNumber(s string) (float64, error) {
	s = strings.TrimPrefix(s, "$")
	mult := 1.0
	if n := len(s); n > 1 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1e3, s[:n-1]
		case 'm', 'M':
			mult, s = 1e6, s[:n-1]
		case 'b', 'B':
			mult, s = 1e9, s[:n-1]
		}
	}
	v, err := parseDecimal(s)
	if err != nil {
		return 0, err
	}
	v *= mult
	if math.IsInf(v, 0) {
		return 0, errNumber
	}
	return v, nil
}

// parsePercent reads 5, 5%, -0.01%: a decimal with an optional % sign.
func parsePercent(s string) (float64, error) {
	return parseDecimal(strings.TrimSuffix(s, "%"))
}

// parseDecimal accepts [-]digits[,ddd…][.digits] and nothing else.
func parseDecimal(s string) (float64, error) {
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return 0, errNumber
	}
	if strings.Contains(intPart, ",") {
		groups := strings.Split(intPart, ",")
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return 0, errNumber
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, errNumber
			}
		}
		intPart = strings.Join(groups, "")
	}
	if !digits(intPart) || !digits(frac) {
		return 0, errNumber
	}
	clean := intPart
	if hasDot {
		clean += "." + frac
	}
	v, err := strconv.ParseFloat(clean, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, errNumber
	}
	if s != body {
		v = -v
	}
	return v, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseDuration reads whole units as users type them: 15m, 4h, 7d, 2w.
func ParseDuration(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, errNumber
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 'm', 'M':
		unit = time.Minute
	case 'h', 'H':
		unit = time.Hour
	case 'd', 'D':
		unit = 24 * time.Hour
	case 'w', 'W':
		unit = 7 * 24 * time.Hour
	default:
		return 0, errNumber
	}
	num := s[:len(s)-1]
	if !digits(num) || len(num) > 6 {
		return 0, errNumber
	}
	n, err := strconv.Atoi(num)
	if err != nil || n == 0 {
		return 0, errNumber
	}
	return time.Duration(n) * unit, nil
}

// CheckLevel refuses a price level more than AbsurdFactor times above or
// below the current price unless the rule carries confirm: a typo such as an
// extra zero should not become an alert that never fires.
func CheckLevel(r Rule, current float64) error {
	if !r.Kind.IsLevel() || r.Confirm || current <= 0 {
		return nil
	}
	if r.Level <= current*AbsurdFactor && r.Level >= current/AbsurdFactor {
		return nil
	}
	return &UsageError{
		Problem: format.Price(r.Level) + " is more than 100× away from the current price " + format.Price(current) +
			". If you mean it, repeat the command with confirm at the end.",
		Usage: UsageLevel, Example: exampleLevel + " confirm",
	}
}

// Unalert is a parsed /unalert: the ids to delete, or all of this chat's.
type Unalert struct {
	All bool
	IDs []int64
}

// ParseUnalert reads /unalert ID…|all; ids may be written #12.
func ParseUnalert(args []string) (Unalert, error) {
	usage := func(p string) error {
		return &UsageError{Problem: p, Usage: UsageUnalert, Example: "/unalert 12"}
	}
	if len(args) == 0 {
		return Unalert{}, usage("Which alert? /alerts lists their ids.")
	}
	if len(args) == 1 && strings.EqualFold(args[0], "all") {
		return Unalert{All: true}, nil
	}
	ids := make([]int64, 0, len(args))
	for _, a := range args {
		id, err := strconv.ParseInt(strings.TrimPrefix(a, "#"), 10, 64)
		if err != nil || id <= 0 {
			return Unalert{}, usage("Not an alert id: " + quote(a) + ".")
		}
		ids = append(ids, id)
	}
	return Unalert{IDs: ids}, nil
}

// MaxSymbolsPerCommand bounds one /watch or /unwatch.
const MaxSymbolsPerCommand = 30

// ParseWatch reads /watch SYMBOL…: the symbols as typed, deduplicated
// ignoring case, in order. The module resolves them.
func ParseWatch(args []string) ([]string, error) {
	return parseSymbols(args, UsageWatch, "/watch btc eth sol")
}

// ParseUnwatch reads /unwatch SYMBOL… like ParseWatch.
func ParseUnwatch(args []string) ([]string, error) {
	return parseSymbols(args, UsageUnwatch, "/unwatch sol")
}

func parseSymbols(args []string, usage, example string) ([]string, error) {
	if len(args) == 0 {
		return nil, &UsageError{Problem: "Which pairs?", Usage: usage, Example: example}
	}
	if len(args) > MaxSymbolsPerCommand {
		return nil, &UsageError{Problem: "At most " + strconv.Itoa(MaxSymbolsPerCommand) + " pairs at once.", Usage: usage, Example: example}
	}
	out := make([]string, 0, len(args))
	seen := make(map[string]bool, len(args))
	for _, a := range args {
		k := strings.ToUpper(a)
		if !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// Digest is a parsed /digest: off, or a daily local time in an IANA zone.
type Digest struct {
	Off          bool
	Hour, Minute int
	Zone         string         // IANA name as stored; "UTC" by default
	Loc          *time.Location // loaded from Zone
}

// ParseDigest reads /digest HH:MM [TZ] and /digest off.
func ParseDigest(args []string) (Digest, error) {
	usage := func(p string) error {
		return &UsageError{Problem: p, Usage: UsageDigest, Example: "/digest 08:00 Europe/Berlin"}
	}
	if len(args) == 1 && strings.EqualFold(args[0], "off") {
		return Digest{Off: true}, nil
	}
	if len(args) == 0 || len(args) > 2 {
		return Digest{}, usage("When should the digest come?")
	}
	h, m, ok := parseClock(args[0])
	if !ok {
		return Digest{}, usage("Not a time of day: " + quote(args[0]) + ". Use HH:MM, 00:00 to 23:59.")
	}
	d := Digest{Hour: h, Minute: m, Zone: "UTC", Loc: time.UTC}
	if len(args) == 2 {
		// "Local" would be the server's zone, and a path would read files: neither is a chat's zone.
		z := args[1]
		loc, err := time.LoadLocation(z)
		if err != nil || z == "Local" || z == "" || strings.Contains(z, "..") {
			return Digest{}, usage("Unknown time zone " + quote(z) + ": use an IANA name such as Europe/Berlin or America/New_York.")
		}
		d.Zone, d.Loc = loc.String(), loc
	}
	return d, nil
}

func parseClock(s string) (h, m int, ok bool) {
	hs, ms, found := strings.Cut(s, ":")
	if !found || len(hs) < 1 || len(hs) > 2 || len(ms) != 2 || !digits(hs) || !digits(ms) {
		return 0, 0, false
	}
	h, _ = strconv.Atoi(hs)
	m, _ = strconv.Atoi(ms)
	return h, m, h < 24 && m < 60
}

// Next is the first digest time strictly after t, on the local wall clock, so
// it stays at HH:MM across daylight-saving changes (a time skipped by a
// spring-forward comes at the shifted wall time that day).
func (d Digest) Next(t time.Time) time.Time {
	loc := d.Loc
	if loc == nil {
		loc = time.UTC
	}
	y, mo, day := t.In(loc).Date()
	c := time.Date(y, mo, day, d.Hour, d.Minute, 0, 0, loc)
	if !c.After(t) {
		c = time.Date(y, mo, day+1, d.Hour, d.Minute, 0, 0, loc)
	}
	return c
}
