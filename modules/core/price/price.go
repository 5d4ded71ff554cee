// Package price answers /price SYMBOL: the core quote, composed with the
// sections enhanced modules contribute for this chat.
package price

import (
	"context"
	"html"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/core/settings"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Info describes the module; cmd/server builds it over the router's
// sections and the chats' settings (nil: the defaults everywhere).
func Info(sections Sections, prefs Prefs) modules.Info {
	return modules.Info{
		ID: "core.price",
		New: func(d modules.Deps) (modules.Module, error) {
			return New(d.Market, sections, d.Now).WithPrefs(prefs), nil
		},
	}
}

// Prefs gives a chat's settings (settings.Service).
type Prefs interface {
	For(ctx context.Context, chat int64) settings.Settings
}

// Sections gathers the /price lines enhanced modules contribute for this chat
// (the router); a section that is off, refused, failed or late is left out.
type Sections interface {
	Sections(ctx context.Context, req modules.Request, pair market.Pair) []string
}

// Source is the market data /price needs.
type Source interface {
	Resolve(ctx context.Context, input string, kind market.Kind) (market.Pair, error)
	Ticker(ctx context.Context, pair market.Pair) (market.Ticker, error)
}

// Module is the /price command.
type Module struct {
	src      Source
	sections Sections
	prefs    Prefs
	now      func() time.Time
}

// New returns the module. sections may be nil (no enhanced modules).
func New(src Source, sections Sections, now func() time.Time) *Module {
	if now == nil {
		now = time.Now
	}
	return &Module{src: src, sections: sections, now: now}
}

// WithPrefs makes the module read each chat's settings from p (nil: the
// defaults) and returns it.
func (m *Module) WithPrefs(p Prefs) *Module {
	m.prefs = p
	return m
}

func (m *Module) settings(ctx context.Context, chat int64) settings.Settings {
	if m.prefs == nil {
		return settings.Settings{}
	}
	return m.prefs.For(ctx, chat)
}

// Commands implements modules.Module.
func (m *Module) Commands() []modules.Command {
	return []modules.Command{{
		Name: "price", Usage: "/price SYMBOL [SYMBOL…]", Description: "Last price, 24h change, range and volume; up to " + strconv.Itoa(MaxPairs) + " pairs at once, one line each; SYMBOL-PERP for the USDT perpetual (BTC-PERP)",
		Handler: modules.HandlerFunc(m.handle),
	}}
}

// MaxPairs is how many pairs one /price answers. Each costs a ticker fetch
// and a line; more is a wall of text in a group chat.
const MaxPairs = 5

var (
	usage = "Usage: <code>/price SYMBOL</code>, for example <code>/price BTC</code> or <code>/price ETH-BTC</code>; " +
		"up to " + strconv.Itoa(MaxPairs) + " pairs at once: <code>/price BTC ETH SOL</code>; " +
		"the perpetual with <code>-PERP</code>: <code>/price BTC-PERP</code>."
	tooMany = "At most " + strconv.Itoa(MaxPairs) + " pairs at once. " + usage
)

// handle answers /price in the chat's settings, with a Refresh button
// whenever something was quoted (a press runs the same /price again and
// edits the message; the market cache makes it one upstream call per TTL).
func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	switch {
	case len(req.Args) == 0:
		return modules.Reply{Text: usage}, nil
	case len(req.Args) > MaxPairs:
		return modules.Reply{Text: tooMany}, nil
	}
	st := m.settings(ctx, req.ChatID)
	if len(req.Args) > 1 {
		qs := m.quotes(ctx, req.Args, st)
		r := modules.Reply{Text: formatMany(qs, m.now(), st)}
		if slices.ContainsFunc(qs, func(q quote) bool { return q.err == "" }) {
			r.Buttons = callback.Keyboard(callback.Refresh("price", req.Args...))
		}
		return r, nil
	}
	q := m.quote(ctx, req.Args[0], st)
	if q.err != "" {
		return modules.Reply{Text: q.err}, nil
	}
	kb := callback.Keyboard(callback.Refresh("price", q.arg()))
	if st.Compact {
		return modules.Reply{Text: formatMany([]quote{q}, m.now(), st), Buttons: kb}, nil
	}
	var extra []string
	if m.sections != nil {
		extra = m.sections.Sections(ctx, req, q.t.Pair)
	}
	return modules.Reply{Text: render(q.t, q.perp, extra, m.now(), st), Buttons: kb}, nil
}

// quote is one pair's answer: its ticker, or the user-facing text of why not
// (with t.Pair set when the pair resolved but its ticker failed).
type quote struct {
	t    market.Ticker
	perp bool // the pair's USDT-margined perpetual, not its spot market
	err  string
}

// arg is the /price argument that asks for this quote again.
func (q quote) arg() string {
	if q.perp {
		return perpArg(q.t.Pair)
	}
	return q.t.Pair.String()
}

func (m *Module) quote(ctx context.Context, input string, st settings.Settings) quote {
	if rest, ok := perpInput(input); ok {
		return m.perpQuote(ctx, input, rest)
	}
	pair, err := m.resolve(ctx, input, st)
	if err != nil {
		return quote{err: reply.MarketError(input, err)}
	}
	t, err := m.src.Ticker(ctx, pair)
	if err != nil {
		return quote{t: market.Ticker{Pair: pair}, err: reply.MarketError(pair.String(), err)}
	}
	return quote{t: t}
}

// perpQuote is quote for a perpetual input (rest is input without its suffix).
func (m *Module) perpQuote(ctx context.Context, input, rest string) quote {
	if !m.hasPerps() {
		return quote{err: "Perpetual prices are not available here; try <code>/price " + html.EscapeString(rest) + "</code> for spot."}
	}
	pair, err := m.resolvePerp(ctx, rest)
	if err != nil {
		return quote{err: reply.MarketError(input, err)}
	}
	t, err := m.perpTicker(ctx, pair)
	if err != nil {
		return quote{t: market.Ticker{Pair: pair}, perp: true, err: reply.MarketError(title(pair, true), err)}
	}
	return quote{t: t, perp: true}
}

// resolve reads input as a spot pair; a bare base (btc) takes the chat's
// default quote asset when the venues list it that way.
func (m *Module) resolve(ctx context.Context, input string, st settings.Settings) (market.Pair, error) {
	if st.Quote != "" && bare(input) {
		if p, err := m.src.Resolve(ctx, input+"-"+st.Quote, market.Spot); err == nil {
			return p, nil
		}
	}
	return m.src.Resolve(ctx, input, market.Spot)
}

// commonQuotes end glued symbols (btcusdt) that must not get another quote.
var commonQuotes = []string{"USDT", "USDC", "USD", "BTC", "ETH", "EUR", "FDUSD", "DAI"}

// bare reports input that is a base asset alone: letters and digits, not
// ending in a quote asset (but BTC alone is a base).
func bare(input string) bool {
	up := strings.ToUpper(input)
	for _, r := range up {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return up != "" && !slices.ContainsFunc(commonQuotes, func(q string) bool { return up != q && strings.HasSuffix(up, q) })
}

// quotes fetches every input at once under the request's deadline; the
// source's cache and singleflight make repeated pairs free.
func (m *Module) quotes(ctx context.Context, inputs []string, st settings.Settings) []quote {
	out := make([]quote, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Go(func() { out[i] = m.quote(ctx, in, st) })
	}
	wg.Wait()
	return out
}

// tickers fetches the candidates' tickers (spot or perpetual),
// inlineParallel at a time, until ctx ends (the market cache serves most); a
// failed or late one is left zero.
func (m *Module) tickers(ctx context.Context, cands []candidate) []market.Ticker {
	out := make([]market.Ticker, len(cands))
	sem := make(chan struct{}, inlineParallel)
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			get := m.src.Ticker
			if c.perp {
				get = m.perpTicker
			}
			if t, err := get(ctx, c.pair); err == nil {
				out[i] = t
			}
		})
	}
	wg.Wait()
	return out
}

// formatMany renders several pairs one line each, in the order asked, a pair
// asked twice once. Sections are left out: each would cost its own upstream
// calls and memory admission per pair, and the detail is one /price away.
// When every pair failed the same way (the venues are down) that is said once.
func formatMany(qs []quote, now time.Time, st settings.Settings) string {
	if same := qs[0].err; same != "" && !slices.ContainsFunc(qs, func(q quote) bool { return q.err != same }) {
		return same
	}
	var b strings.Builder
	b.Grow(96 * len(qs))
	type instrument struct {
		pair market.Pair
		perp bool
	}
	seen := map[instrument]bool{}
	var oldest time.Time
	for _, q := range qs {
		if q.err != "" && q.t.Pair.Base != "" {
			b.WriteString("<b>" + html.EscapeString(title(q.t.Pair, q.perp)) + "</b> · " + q.err + "\n")
			continue
		}
		if q.err != "" {
			b.WriteString(q.err + "\n")
			continue
		}
		t := q.t
		if seen[instrument{t.Pair, q.perp}] {
			continue
		}
		seen[instrument{t.Pair, q.perp}] = true
		b.WriteString("<b>" + html.EscapeString(title(t.Pair, q.perp)) + "</b> " + st.Number(format.Price(t.Last)) + " " +
			html.EscapeString(t.Pair.Quote) + "  " + format.Arrow(t.ChangePct) + " " + st.Number(format.Percent(t.ChangePct, 2)) +
			" · " + html.EscapeString(reply.Venue(t.Venue)) + "\n")
		if !t.Time.IsZero() && (oldest.IsZero() || t.Time.Before(oldest)) {
			oldest = t.Time
		}
	}
	if !oldest.IsZero() {
		b.WriteString("<i>24h change · data up to " + format.Duration(max(now.Sub(oldest), 0)) + " old</i>")
	}
	return strings.TrimRight(b.String(), "\n")
}

// Format renders a ticker and the enhanced sections as Telegram HTML.
func Format(t market.Ticker, sections []string, now time.Time) string {
	return render(t, false, sections, now, settings.Settings{})
}

// render is Format in a chat's number format; perp marks a perpetual's ticker.
func render(t market.Ticker, perp bool, sections []string, now time.Time, st settings.Settings) string {
	n := st.Number
	var b strings.Builder
	b.Grow(512)
	b.WriteString("<b>" + html.EscapeString(title(t.Pair, perp)) + "</b> · " + html.EscapeString(reply.Venue(t.Venue)) + "\n")
	b.WriteString("<b>" + n(format.Price(t.Last)) + "</b> " + html.EscapeString(t.Pair.Quote) + "  " +
		format.Arrow(t.ChangePct) + " " + n(format.Percent(t.ChangePct, 2)) + " 24h\n")
	b.WriteString("High " + n(format.Price(t.High)) + " · Low " + n(format.Price(t.Low)) + "\n")
	b.WriteString("Vol " + n(format.Compact(t.BaseVolume)) + " " + html.EscapeString(t.Pair.Base) +
		" · " + n(format.Compact(t.QuoteVolume)) + " " + html.EscapeString(t.Pair.Quote) + "\n")
	for _, s := range sections {
		b.WriteString(s + "\n")
	}
	if !t.Time.IsZero() {
		age := max(now.Sub(t.Time), 0)
		b.WriteString("<i>data " + format.Duration(age) + " old</i>")
	}
	return strings.TrimRight(b.String(), "\n")
}
