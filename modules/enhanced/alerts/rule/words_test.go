package rule

import (
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func mustParse(t *testing.T, in string) Rule {
	t.Helper()
	r, err := Parse(strings.Fields(in))
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	return r
}

func TestAck(t *testing.T) {
	for _, tc := range []struct {
		in   string
		now  Reading
		want string
	}{
		{"btc above 98000", Reading{Value: 97432.1, Venue: "binance"},
			"🔔 Alert #12 set: BTC-USDT above 98,000 · now 97,432.10 (Binance)"},
		{"btc < 95,500.5 repeat every 30m", Reading{Value: 97432.1, Venue: "bybit"},
			"🔔 Alert #12 set: BTC-USDT below 95,500.5, repeat every 30m, for 30d · now 97,432.10 (Bybit)"},
		{"btc move 5% 4h for 7d", Reading{Value: 97432.1, Venue: "okx"},
			"🔔 Alert #12 set: BTC-USDT moves 5% within 4h, for 7d · now 97,432.10 (OKX)"},
		{"btc funding above 0.05% on bybit", Reading{Value: 0.0001, Venue: "bybit", Interval: 8 * time.Hour},
			"🔔 Alert #12 set: BTC-USDT funding above +0.0500% on Bybit · now +0.0100%/8h (Bybit)"},
		{"btc oi move 10%", Reading{Value: 8.1e9, Venue: "binance"},
			"🔔 Alert #12 set: BTC-USDT open interest moves 10% within 1h · now $8.10B (Binance)"},
		{"btc above 98000", Reading{}, "🔔 Alert #12 set: BTC-USDT above 98,000"},
	} {
		got := Ack(12, "BTC-USDT", mustParse(t, tc.in), tc.now)
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.in, got, tc.want)
		}
		modulestest.CheckHTML(t, got)
	}
}

func TestMessage(t *testing.T) {
	for _, tc := range []struct {
		in          string
		value, from float64
		venue       string
		want        string
	}{
		{"btc above 98k", 98012.5, 0, "", "🚨 BTC-USDT is above 98,000: now 98,012.50\n<i>Alert #7</i>"},
		{"btc below 90k repeat", 89990, 0, "", "🚨 BTC-USDT is below 90,000: now 89,990.00\n<i>Alert #7, repeats after 1h</i>"},
		{"btc move 5% 1h", 96600, 92000, "", "🚨 BTC-USDT moved +5.00% within 1h: 92,000.00 → 96,600.00\n<i>Alert #7</i>"},
		{"btc oi move 10% 4h", 7.2e9, 8e9, "", "🚨 BTC-USDT open interest moved -10.00% within 4h: $8.00B → $7.20B\n<i>Alert #7</i>"},
		{"btc funding above 0.05%", 0.000612, 0, "bybit", "🚨 BTC-USDT funding is above +0.0500%: now +0.0612% (Bybit)\n<i>Alert #7</i>"},
	} {
		got := Message(7, "BTC-USDT", mustParse(t, tc.in), tc.value, tc.from, tc.venue)
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.in, got, tc.want)
		}
		modulestest.CheckHTML(t, got)
	}
}

func TestStateText(t *testing.T) {
	pair := market.Pair{Base: "BTC", Quote: "USDT"}
	rep := mustParse(t, "btc above 98000 repeat every 30m")
	base := NewAlert(3, 1, pair, rep, t0.Add(-time.Hour))
	cooling := base
	cooling.Status = Status{State: Cooling, LastFired: t0.Add(-10 * time.Minute), Value: 98010, Up: true}
	waiting := cooling
	waiting.LastFired = t0.Add(-40 * time.Minute)
	fired := NewAlert(4, 1, pair, mustParse(t, "btc below 90k"), t0.Add(-time.Hour))
	fired.Status = Status{State: Fired, LastFired: t0.Add(-(3*time.Hour + 12*time.Minute))}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a    Alert
		loc  *time.Location
		want string
	}{
		{base, nil, "armed"},
		{cooling, nil, "cooling down until 12:20 UTC"},
		{cooling, berlin, "cooling down until 13:20 CET"},
		{waiting, nil, "cooling down until the price is back below 97,804.00"},
		{fired, nil, "fired 3h 12m ago"},
		{Alert{Status: Status{State: Paused}}, nil, "paused"},
		{Alert{Status: Status{State: Expired}}, nil, "expired"},
	} {
		if got := StateText(tc.a, t0, tc.loc); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	if got, want := ListLine(base, Reading{}, t0, nil), "#3 BTC-USDT above 98,000, repeat every 30m, for 30d — armed, expires in 29d 23h"; got != want {
		t.Errorf("ListLine:\n got %q\nwant %q", got, want)
	}
	if got, want := ListLine(fired, Reading{Value: 91000.5, Venue: "okx"}, t0, nil), "#4 BTC-USDT below 90,000 — fired 3h 12m ago · now 91,000.50 (OKX)"; got != want {
		t.Errorf("ListLine:\n got %q\nwant %q", got, want)
	}
	late := cooling
	late.LastFired = t0.Add(-time.Hour)
	late.Rule.Cooldown = 24 * time.Hour
	if got := StateText(late, t0, nil); got != "cooling down until Dec 2 11:00 UTC" {
		t.Errorf("other day: %q", got)
	}
}

func TestRearmBound(t *testing.T) {
	for _, tc := range []struct {
		r     Rule
		fired float64
		up    bool
		want  float64
	}{
		{Rule{Kind: Above, Level: 100000}, 100010, true, 99800},
		{Rule{Kind: Below, Level: 100000}, 99990, false, 100200},
		{Rule{Kind: Move, Percent: 10}, 110, true, 104.5},
		{Rule{Kind: OIMove, Percent: 10}, 90, false, 94.5},
		{Rule{Kind: FundingAbove, Level: 0.001}, 0.0011, true, 0.001 - 2e-6},
		{Rule{Kind: FundingBelow, Level: 0}, -0.0001, false, 1e-6},
	} {
		if got := RearmBound(tc.r, tc.fired, tc.up); abs(got-tc.want) > 1e-9 {
			t.Errorf("RearmBound(%v) = %v, want %v", tc.r.Kind, got, tc.want)
		}
	}
}
