package rule

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

func TestParse(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want Rule
	}{
		{"btc above 98000", Rule{Kind: Above, Symbol: "btc", Level: 98000}},
		{"btc > 98,000", Rule{Kind: Above, Symbol: "btc", Level: 98000}},
		{"btc >98k", Rule{Kind: Above, Symbol: "btc", Level: 98000}},
		{"BTC-USDT BELOW 1.5m", Rule{Kind: Below, Symbol: "BTC-USDT", Level: 1.5e6}},
		{"pepe < 0.00001234", Rule{Kind: Below, Symbol: "pepe", Level: 0.00001234}},
		{"pepe <.5", Rule{Kind: Below, Symbol: "pepe", Level: 0.5}},
		{"btc above 1,234,567.5", Rule{Kind: Above, Symbol: "btc", Level: 1234567.5}},
		{"btc above 98k repeat", Rule{Kind: Above, Symbol: "btc", Level: 98000, Repeat: true, Cooldown: time.Hour, Expiry: 30 * day}},
		{"btc above 98k every 30m", Rule{Kind: Above, Symbol: "btc", Level: 98000, Repeat: true, Cooldown: 30 * time.Minute, Expiry: 30 * day}},
		{"btc above 98k repeat every 2h for 7d", Rule{Kind: Above, Symbol: "btc", Level: 98000, Repeat: true, Cooldown: 2 * time.Hour, Expiry: 7 * day}},
		{"btc above 98k for 1w confirm", Rule{Kind: Above, Symbol: "btc", Level: 98000, Expiry: 7 * day, Confirm: true}},
		{"eth move 5%", Rule{Kind: Move, Symbol: "eth", Percent: 5, Window: time.Hour}},
		{"eth move 2.5 15m", Rule{Kind: Move, Symbol: "eth", Percent: 2.5, Window: 15 * time.Minute}},
		{"eth move 5% 24h repeat", Rule{Kind: Move, Symbol: "eth", Percent: 5, Window: 24 * time.Hour, Repeat: true, Cooldown: time.Hour, Expiry: 30 * day}},
		{"eth move 5% 1d", Rule{Kind: Move, Symbol: "eth", Percent: 5, Window: 24 * time.Hour}},
		{"btc funding above 0.05%", Rule{Kind: FundingAbove, Symbol: "btc", Level: 0.0005}},
		{"btc funding below -0.01% on OKX", Rule{Kind: FundingBelow, Symbol: "btc", Level: -0.0001, Venue: "okx"}},
		{"btc funding > 0.1 on bybit repeat", Rule{Kind: FundingAbove, Symbol: "btc", Level: 0.001, Venue: "bybit", Repeat: true, Cooldown: time.Hour, Expiry: 30 * day}},
		{"sol oi move 10%", Rule{Kind: OIMove, Symbol: "sol", Percent: 10, Window: time.Hour}},
		{"sol OI Move 10% 4h for 2d", Rule{Kind: OIMove, Symbol: "sol", Percent: 10, Window: 4 * time.Hour, Expiry: 2 * day}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(strings.Fields(tc.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if math.Abs(got.Level-tc.want.Level) > 1e-15 {
				t.Errorf("level %v, want %v", got.Level, tc.want.Level)
			}
			got.Level = tc.want.Level
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in      string
		problem string // substring of the problem
		usage   string
	}{
		{"", "pair and the condition", UsageAlert},
		{"btc", "pair and the condition", UsageAlert},
		{"btc 98000", "Unknown condition", UsageAlert},
		{"above 98000", "Start with the pair", UsageAlert},
		{"btc above", "Which price", UsageLevel},
		{"btc above 0", "above 0", UsageLevel},
		{"btc above -5", "above 0", UsageLevel},
		{"btc above abc", "“abc”", UsageLevel},
		{"btc above 1e5", "“1e5”", UsageLevel},
		{"btc above inf", "“inf”", UsageLevel},
		{"btc above 9,8000", "“9,8000”", UsageLevel},
		{"btc above 98000 repeat repeat", "twice", UsageLevel},
		{"btc above 98000 loudly", "Unknown option “loudly”", UsageLevel},
		{"btc above 98000 every", "needs a value", UsageLevel},
		{"btc above 98000 every 10s", "cooldown", UsageLevel},
		{"btc above 98000 for 0d", "lifetime", UsageLevel},
		{"btc above 98000 on binance", "Only funding", UsageLevel},
		{"eth move", "how many percent", UsageMove},
		{"eth move 0%", "percent above 0", UsageMove},
		{"eth move 1001%", "at most 1000", UsageMove},
		{"eth move 5% 5m", "Unknown window “5m”", UsageMove},
		{"eth move 5% 25h", "Unknown window", UsageMove},
		{"eth move 5% 1x", "Unknown window", UsageMove},
		{"eth move 5% fast", "Unknown option", UsageMove},
		{"btc funding", "above or below", UsageFunding},
		{"btc funding sideways 1%", "not “sideways”", UsageFunding},
		{"btc funding above 11%", "between -10% and 10%", UsageFunding},
		{"btc funding above 0.01% on kraken", "Unknown venue", UsageFunding},
		{"sol oi 10%", "oi move", UsageOI},
		{"sol oi move -3%", "percent above 0", UsageOI},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(strings.Fields(tc.in))
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("want *UsageError, got %v", err)
			}
			if !strings.Contains(ue.Problem, tc.problem) || ue.Usage != tc.usage || ue.Example == "" {
				t.Errorf("got problem %q usage %q example %q; want problem containing %q, usage %q", ue.Problem, ue.Usage, ue.Example, tc.problem, tc.usage)
			}
			if txt := ue.Text(); !strings.Contains(txt, "Usage: <code>") || !strings.Contains(txt, "Example: <code>") {
				t.Errorf("reply lacks usage or example: %q", txt)
			}
			modulestest.CheckHTML(t, ue.Text())
		})
	}
}

func TestUsageErrorText(t *testing.T) {
	_, err := Parse(nil)
	want := "⚠️ Tell me the pair and the condition.\nUsage: <code>" + strings.ReplaceAll(UsageAlert, "\n", "</code>\n<code>") +
		"</code>\nExample: <code>/alert btc above 98k</code>"
	if got := err.(*UsageError).Text(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestUsageErrorEscapesInput(t *testing.T) {
	_, err := Parse([]string{"btc", "above", "<b>" + strings.Repeat("x", 40)})
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Fatal(err)
	}
	if txt := ue.Text(); strings.Contains(txt, "<b>") || !strings.Contains(txt, "&lt;b&gt;") || !strings.Contains(txt, "…") {
		t.Errorf("input not escaped and cut: %q", txt)
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]float64{
		"98000": 98000, "98,000": 98000, "98k": 98000, "98K": 98000, "1.5m": 1.5e6, "2b": 2e9,
		"0.00001234": 0.00001234, ".5": 0.5, "$98k": 98000, "$1,250.5": 1250.5, "5.": 5, "-3": -3, "1,000,000": 1e6, "0": 0,
	} {
		if got, err := ParseNumber(in); err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "$", "$$5", "k", ".", "-", "1e5", "0x10", "inf", "NaN", "1,00", ",100", "1000,000", "1.2.3", "+5", "5kk", "1_000", "١٢"} {
		if got, err := ParseNumber(in); err == nil {
			t.Errorf("ParseNumber(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"15m": 15 * time.Minute, "1H": time.Hour, "7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "0m", "1.5h", "-1h", "10s", "1y", "9999999d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
		}
	}
}

func TestCheckLevel(t *testing.T) {
	for _, tc := range []struct {
		r       Rule
		current float64
		ok      bool
	}{
		{Rule{Kind: Above, Level: 98000}, 97000, true},
		{Rule{Kind: Above, Level: 9_700_000}, 97000, true}, // exactly 100×
		{Rule{Kind: Above, Level: 9_800_000}, 97000, false},
		{Rule{Kind: Below, Level: 900}, 97000, false},
		{Rule{Kind: Below, Level: 970}, 97000, true},
		{Rule{Kind: Above, Level: 9_800_000, Confirm: true}, 97000, true},
		{Rule{Kind: Move, Percent: 5}, 97000, true},
		{Rule{Kind: Above, Level: 98000}, 0, true}, // no price known: nothing to compare
	} {
		err := CheckLevel(tc.r, tc.current)
		if (err == nil) != tc.ok {
			t.Errorf("CheckLevel(%+v, %v) = %v, want ok=%v", tc.r, tc.current, err, tc.ok)
		}
		var ue *UsageError
		if err != nil && (!errors.As(err, &ue) || !strings.Contains(ue.Example, "confirm")) {
			t.Errorf("absurd level error should suggest confirm: %v", err)
		}
	}
}

func TestParseUnalert(t *testing.T) {
	if u, err := ParseUnalert([]string{"ALL"}); err != nil || !u.All {
		t.Errorf("all: %+v %v", u, err)
	}
	if u, err := ParseUnalert([]string{"#12", "7"}); err != nil || len(u.IDs) != 2 || u.IDs[0] != 12 || u.IDs[1] != 7 {
		t.Errorf("ids: %+v %v", u, err)
	}
	for _, in := range [][]string{nil, {"x"}, {"0"}, {"-3"}, {"all", "3"}, {"99999999999999999999"}} {
		if _, err := ParseUnalert(in); err == nil {
			t.Errorf("ParseUnalert(%q) succeeded", in)
		}
	}
}

func TestParseWatch(t *testing.T) {
	got, err := ParseWatch([]string{"btc", "ETH", "BTC", "sol"})
	if err != nil || strings.Join(got, " ") != "btc ETH sol" {
		t.Errorf("got %q %v", got, err)
	}
	if _, err := ParseUnwatch(nil); err == nil {
		t.Error("empty /unwatch succeeded")
	}
	if _, err := ParseWatch(make([]string, MaxSymbolsPerCommand+1)); err == nil {
		t.Error("too many symbols accepted")
	}
}

func TestParseDigest(t *testing.T) {
	d, err := ParseDigest([]string{"8:05"})
	if err != nil || d.Hour != 8 || d.Minute != 5 || d.Zone != "UTC" || d.Off {
		t.Errorf("8:05: %+v %v", d, err)
	}
	d, err = ParseDigest([]string{"23:59", "Europe/Berlin"})
	if err != nil || d.Zone != "Europe/Berlin" || d.Loc == nil {
		t.Errorf("Berlin: %+v %v", d, err)
	}
	if d, err := ParseDigest([]string{"Off"}); err != nil || !d.Off {
		t.Errorf("off: %+v %v", d, err)
	}
	for _, in := range [][]string{nil, {"24:00"}, {"12:60"}, {"12"}, {"12:5"}, {"123:00"}, {"a:bc"}, {"08:00", "Mars/Olympus"},
		{"08:00", "Local"}, {"08:00", "../../etc/passwd"}, {"08:00", "UTC", "x"}} {
		_, err := ParseDigest(in)
		var ue *UsageError
		if !errors.As(err, &ue) || ue.Usage != UsageDigest {
			t.Errorf("ParseDigest(%q) = %v, want a usage error", in, err)
		}
	}
}

func TestDigestNextAcrossDST(t *testing.T) {
	d, err := ParseDigest([]string{"08:00", "Europe/Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	// Berlin leaves summer time on 2026-10-25 at 03:00 local: 08:00 moves from 06:00 to 07:00 UTC.
	at := time.Date(2026, 10, 24, 7, 0, 0, 0, time.UTC) // 09:00 CEST, after that day's digest
	n1 := d.Next(at)
	n2 := d.Next(n1)
	if want := time.Date(2026, 10, 25, 7, 0, 0, 0, time.UTC); !n1.Equal(want) {
		t.Errorf("first %v, want %v", n1.UTC(), want)
	}
	if want := time.Date(2026, 10, 26, 7, 0, 0, 0, time.UTC); !n2.Equal(want) {
		t.Errorf("second %v, want %v", n2.UTC(), want)
	}
	if n1.In(d.Loc).Hour() != 8 || n2.In(d.Loc).Hour() != 8 {
		t.Errorf("not 08:00 local: %v %v", n1, n2)
	}
	if got := d.Next(time.Date(2026, 10, 23, 5, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 10, 23, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("same day: %v", got.UTC())
	}
}

func TestKindAndStateRoundTrip(t *testing.T) {
	for _, s := range Kinds() {
		k, err := ParseKind(s)
		if err != nil || k.String() != s {
			t.Errorf("kind %q: %v %v", s, k, err)
		}
	}
	for _, s := range States() {
		st, err := ParseState(s)
		if err != nil || st.String() != s {
			t.Errorf("state %q: %v %v", s, st, err)
		}
	}
	if _, err := ParseKind("sideways"); err == nil {
		t.Error("unknown kind parsed")
	}
	for _, v := range Venues() {
		if VenueName(VenueIndex(v)) != v {
			t.Errorf("venue %q does not round-trip", v)
		}
	}
}

// FuzzParse checks that no input panics and that every accepted rule is
// within the grammar's bounds, every refusal a usage error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"btc above 98k", "btc >98,000 repeat every 30m for 7d confirm", "eth move 5% 4h",
		"btc funding below -0.01% on okx", "sol oi move 10% 24h repeat", "x < .5", "btc above 1,000,000.25 for 365d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := Parse(strings.Fields(in))
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Usage == "" {
				t.Fatalf("error is not a usage error: %v", err)
			}
			return
		}
		switch {
		case r.Kind.IsLevel():
			if !(r.Level > 0) || math.IsInf(r.Level, 0) {
				t.Fatalf("level %v", r.Level)
			}
		case r.Kind.IsMove():
			if !(r.Percent > 0 && r.Percent <= MaxPercent) || r.Window < MinWindow || r.Window > MaxWindow || r.Window%time.Minute != 0 {
				t.Fatalf("move %v over %v", r.Percent, r.Window)
			}
		case r.Kind.IsFunding():
			if math.IsNaN(r.Level) || math.Abs(r.Level) > MaxFundingPct/100.0 {
				t.Fatalf("funding %v", r.Level)
			}
		default:
			t.Fatalf("kind %v", r.Kind)
		}
		if r.Repeat != (r.Cooldown > 0) || (r.Repeat && r.Expiry == 0) || r.Expiry < 0 {
			t.Fatalf("options %+v", r)
		}
		if r.Venue != "" && VenueIndex(r.Venue) == 0 {
			t.Fatalf("venue %q", r.Venue)
		}
		_ = Describe("X-USDT", r)
	})
}
