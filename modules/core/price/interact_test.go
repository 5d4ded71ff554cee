package price

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/core/settings"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// catalog is a Source fake over a list of spot pairs, resolving the way the
// market does for the spellings the tests use.
type catalog struct {
	listed []market.Pair
	perps  []market.Pair           // listed perpetuals: BTC-USDT and ETH-USDT
	last   map[market.Pair]float64 // read only once built: tickers are fetched concurrently
}

func newCatalog(pairs ...string) *catalog {
	c := &catalog{last: map[market.Pair]float64{}, perps: []market.Pair{{Base: "BTC", Quote: "USDT"}, {Base: "ETH", Quote: "USDT"}}}
	for i, s := range pairs {
		b, q, _ := strings.Cut(s, "-")
		p := market.Pair{Base: b, Quote: q}
		c.listed = append(c.listed, p)
		c.last[p] = float64(1000 * (i + 1))
	}
	return c
}

func (c *catalog) Resolve(_ context.Context, input string, kind market.Kind) (market.Pair, error) {
	up := strings.ReplaceAll(strings.ToUpper(input), "/", "-")
	var p market.Pair
	if b, q, ok := strings.Cut(up, "-"); ok {
		p = market.Pair{Base: b, Quote: q}
	} else {
		p = market.Pair{Base: up, Quote: "USDT"}
		for _, q := range []string{"USDT", "USDC", "BTC"} {
			if b, ok := strings.CutSuffix(up, q); ok && b != "" {
				p = market.Pair{Base: b, Quote: q}
			}
		}
	}
	if kind == market.Perp {
		if slices.Contains(c.perps, p) {
			return p, nil
		}
		return market.Pair{}, &market.UnknownPairError{Input: input}
	}
	if slices.Contains(c.listed, p) {
		return p, nil
	}
	var sugg []market.Pair
	for _, l := range c.listed {
		if strings.HasPrefix(l.Base, p.Base[:min(2, len(p.Base))]) {
			sugg = append(sugg, l)
		}
	}
	return market.Pair{}, &market.UnknownPairError{Input: input, Suggestions: sugg}
}

func (c *catalog) Ticker(_ context.Context, p market.Pair) (market.Ticker, error) {
	return market.Ticker{Pair: p, Venue: "binance", Last: c.last[p], High: c.last[p] * 1.01, Low: c.last[p] * 0.99, ChangePct: 1.5, Time: now}, nil
}

// PerpTicker quotes a perpetual 5 above its spot pair, on Bybit.
func (c *catalog) PerpTicker(_ context.Context, p market.Pair) (market.Ticker, error) {
	last := c.last[p] + 5
	return market.Ticker{Pair: p, Venue: "bybit", Last: last, High: last * 1.01, Low: last * 0.99, ChangePct: -0.5, Time: now}, nil
}

// spotOnly is a Source without perpetuals.
type spotOnly struct{ c *catalog }

func (s spotOnly) Resolve(ctx context.Context, input string, kind market.Kind) (market.Pair, error) {
	return s.c.Resolve(ctx, input, kind)
}

func (s spotOnly) Ticker(ctx context.Context, p market.Pair) (market.Ticker, error) {
	return s.c.Ticker(ctx, p)
}

// prefs is a Prefs fake.
type prefs map[int64]settings.Settings

func (p prefs) For(_ context.Context, chat int64) settings.Settings { return p[chat] }

var pairs = []string{"BTC-USDT", "BTC-USDC", "BTC-USD", "ETH-USDT", "ETH-BTC", "ETH-USDC", "SOL-USDT", "XRP-USDT", "BNB-USDT", "DOGE-USDT", "BTC-EUR"}

func ask(t *testing.T, m *Module, chat int64, args ...string) modules.Reply {
	t.Helper()
	r, err := m.handle(context.Background(), modules.Request{ChatID: chat, Command: "price", Args: args})
	if err != nil {
		t.Fatal(err)
	}
	modulestest.CheckHTML(t, r.Text)
	return r
}

func TestRefreshButton(t *testing.T) {
	m := New(newCatalog(pairs...), nil, func() time.Time { return now })
	for _, tc := range []struct {
		args []string
		data string
	}{
		{[]string{"btc"}, "1|price|BTC-USDT"},
		{[]string{"ethbtc"}, "1|price|ETH-BTC"},
		{[]string{"btc", "eth"}, "1|price|btc|eth"},
		{[]string{"nope"}, ""}, // nothing quoted: no button
	} {
		r := ask(t, m, 1, tc.args...)
		got := ""
		if len(r.Buttons) > 0 {
			got = r.Buttons[0][0].Data
			if r.Buttons[0][0].Text != "🔄 Refresh" {
				t.Errorf("%v: first button %q", tc.args, r.Buttons[0][0].Text)
			}
		}
		if got != tc.data {
			t.Errorf("%v: refresh data %q, want %q", tc.args, got, tc.data)
		}
	}
}

func TestSettingsApplied(t *testing.T) {
	p := prefs{
		2: {Quote: "USDC"},
		3: {Compact: true},
		4: {Numbers: settings.NumbersEU},
		5: {Quote: "BTC"},
	}
	m := New(newCatalog(pairs...), nil, func() time.Time { return now }).WithPrefs(p)
	if r := ask(t, m, 2, "btc"); !strings.HasPrefix(r.Text, "<b>BTC-USDC</b>") {
		t.Errorf("default quote USDC: %s", r.Text)
	}
	if r := ask(t, m, 2, "btcusdt"); !strings.HasPrefix(r.Text, "<b>BTC-USDT</b>") {
		t.Errorf("a glued pair keeps its quote: %s", r.Text)
	}
	if r := ask(t, m, 5, "sol"); !strings.HasPrefix(r.Text, "<b>SOL-USDT</b>") {
		t.Errorf("an unlisted default quote falls back: %s", r.Text)
	}
	if r := ask(t, m, 3, "btc"); strings.Contains(r.Text, "High") || strings.Count(r.Text, "\n") != 1 {
		t.Errorf("compact: %s", r.Text)
	}
	if r := ask(t, m, 4, "eth"); !strings.Contains(r.Text, "4.000,00") || !strings.Contains(r.Text, "+1,50%") {
		t.Errorf("number format: %s", r.Text)
	}
	if r := ask(t, m, 1, "eth"); !strings.Contains(r.Text, "4,000.00") {
		t.Errorf("defaults: %s", r.Text)
	}
}

func inline(t *testing.T, m *Module, query string) *modules.InlineAnswer {
	t.Helper()
	a, err := m.Inline(context.Background(), modules.Request{ChatID: 9, UserID: 9, Inline: &modules.InlineQuery{ID: "i", Query: query}})
	if err != nil || a == nil {
		t.Fatalf("Inline(%q) = %v, %v", query, a, err)
	}
	if a.CacheTime <= 0 || a.CacheTime > 10*time.Second || len(a.Results) > 10 {
		t.Errorf("Inline(%q): cache %v, %d results", query, a.CacheTime, len(a.Results))
	}
	for _, r := range a.Results {
		modulestest.CheckHTML(t, r.Text)
	}
	return a
}

func ids(a *modules.InlineAnswer) []string {
	var out []string
	for _, r := range a.Results {
		out = append(out, r.ID)
	}
	return out
}

func TestInline(t *testing.T) {
	src := newCatalog(pairs...)
	m := New(src, nil, func() time.Time { return now })
	a := inline(t, m, "btc")
	if got := ids(a); !slices.Equal(got, []string{"BTC-USDT", "BTC-USDC", "BTC-USDT-PERP", "BTC-USD", "BTC-EUR"}) {
		t.Errorf("btc: %v", got)
	}
	if r := a.Results[0]; r.Title != "BTC-USDT 1,000.00 ▲ +1.50%" || r.Text != Format(market.Ticker{Pair: market.Pair{Base: "BTC", Quote: "USDT"},
		Venue: "binance", Last: 1000, High: 1010, Low: 990, ChangePct: 1.5, Time: now}, nil, now) {
		t.Errorf("result %+v", r)
	}
	if got := ids(inline(t, m, "eth usdt")); !slices.Equal(got, []string{"ETH-USDT", "ETH-USDT-PERP"}) {
		t.Errorf("eth usdt: %v", got)
	}
	if got := ids(inline(t, m, "  ")); len(got) != 6 || got[0] != "BTC-USDT" {
		t.Errorf("empty query lists top pairs: %v", got)
	}
	if got := ids(inline(t, m, "et")); !slices.Contains(got, "ETH-USDT") {
		t.Errorf("a near miss offers suggestions: %v", got)
	}
	none := inline(t, m, "zzzz")
	if len(none.Results) != 0 || none.Hint == "" || none.HintStart != "inline" {
		t.Errorf("no match: %+v", none)
	}
	eu := New(src, nil, func() time.Time { return now }).WithPrefs(prefs{9: {Quote: "USDC", Numbers: settings.NumbersEU}})
	a = inline(t, eu, "eth")
	if got := ids(a); got[0] != "ETH-USDC" || !strings.Contains(a.Results[0].Title, "6.000,00") || !a.Personal {
		t.Errorf("the sender's settings: %v %+v", got, a.Results[0])
	}
}

// Inline "btc" lists the perpetual beside the spot pairs, titled like them,
// and picking it sends what /price BTC-USDT-PERP answers.
func TestInlinePerp(t *testing.T) {
	src := newCatalog(pairs...)
	m := New(src, nil, func() time.Time { return now })
	a := inline(t, m, "btc")
	i := slices.Index(ids(a), "BTC-USDT-PERP")
	if i < 0 {
		t.Fatalf("btc: no perpetual in %v", ids(a))
	}
	r := a.Results[i]
	if r.Title != "BTC-USDT perp 1,005.00 ▼ -0.50%" || !strings.Contains(r.Description, "Bybit") {
		t.Errorf("perp result %+v", r)
	}
	if want := ask(t, m, 9, "BTC-USDT-PERP").Text; r.Text != want {
		t.Errorf("perp result text\n%s\nwant /price BTC-USDT-PERP's\n%s", r.Text, want)
	}
	if !strings.HasPrefix(r.Text, "<b>BTC-USDT perp</b> · Bybit\n<b>1,005.00</b> USDT") {
		t.Errorf("perp text %s", r.Text)
	}
	if got := ids(inline(t, m, "btc perp")); !slices.Equal(got, []string{"BTC-USDT-PERP"}) {
		t.Errorf("btc perp: %v", got)
	}
	if got := ids(inline(t, m, "sol")); slices.Contains(got, "SOL-USDT-PERP") || len(got) == 0 {
		t.Errorf("sol (no perpetual listed): %v", got)
	}
	if got := ids(inline(t, m, "eth btc")); !slices.Equal(got, []string{"ETH-BTC"}) {
		t.Errorf("eth btc (no perpetual): %v", got)
	}
	// A source without perpetuals lists spot only.
	spot := New(spotOnly{src}, nil, func() time.Time { return now })
	if got := ids(inline(t, spot, "btc")); slices.ContainsFunc(got, func(id string) bool { return strings.HasSuffix(id, "-PERP") }) {
		t.Errorf("spot-only source: %v", got)
	}
}

func TestPricePerp(t *testing.T) {
	m := New(newCatalog(pairs...), nil, func() time.Time { return now })
	for _, in := range []string{"btc-perp", "BTC-PERP", "btcusdt-perp", "btc/usdt-perp", "BTC_PERP"} {
		r := ask(t, m, 1, in)
		if !strings.HasPrefix(r.Text, "<b>BTC-USDT perp</b> · Bybit") || !strings.Contains(r.Text, "1,005.00") {
			t.Errorf("%s: %s", in, r.Text)
		}
		if len(r.Buttons) == 0 || r.Buttons[0][0].Data != "1|price|BTC-USDT-PERP" {
			t.Errorf("%s: refresh %+v, want the perpetual again", in, r.Buttons)
		}
	}
	if r := ask(t, m, 1, "btc", "btc-perp"); !strings.Contains(r.Text, "<b>BTC-USDT</b> 1,000.00") || !strings.Contains(r.Text, "<b>BTC-USDT perp</b> 1,005.00") {
		t.Errorf("spot and perp on one line each: %s", r.Text)
	}
	if r := ask(t, m, 1, "sol-perp"); strings.Contains(r.Text, "perp</b> ·") || len(r.Buttons) != 0 {
		t.Errorf("unlisted perpetual: %s", r.Text)
	}
	spot := New(spotOnly{newCatalog(pairs...)}, nil, func() time.Time { return now })
	if r := ask(t, spot, 1, "btc-perp"); !strings.Contains(r.Text, "not available") {
		t.Errorf("spot-only source: %s", r.Text)
	}
	if r := ask(t, m, 1, "perp"); strings.Contains(r.Text, "perp</b>") {
		t.Errorf("PERP alone is the spot token: %s", r.Text)
	}
}
