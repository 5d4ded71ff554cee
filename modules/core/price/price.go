// Package price answers /price SYMBOL: the core quote, composed with the
// sections enhanced modules contribute for this chat.
package price

import (
	"context"
	"html"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Info describes the module; cmd/server builds it over the router's sections.
func Info(sections Sections) modules.Info {
	return modules.Info{
		ID: "core.price",
		New: func(d modules.Deps) (modules.Module, error) {
			return New(d.Market, sections, d.Now), nil
		},
	}
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
	now      func() time.Time
}

// New returns the module. sections may be nil (no enhanced modules).
func New(src Source, sections Sections, now func() time.Time) *Module {
	if now == nil {
		now = time.Now
	}
	return &Module{src: src, sections: sections, now: now}
}

// Commands implements modules.Module.
func (m *Module) Commands() []modules.Command {
	return []modules.Command{{
		Name: "price", Usage: "/price SYMBOL", Description: "Last price, 24h change, range and volume",
		Handler: modules.HandlerFunc(m.handle),
	}}
}

const usage = "Usage: <code>/price SYMBOL</code>, for example <code>/price BTC</code> or <code>/price ETH-BTC</code>."

func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	if len(req.Args) == 0 {
		return modules.Reply{Text: usage}, nil
	}
	pair, err := m.src.Resolve(ctx, req.Args[0], market.Spot)
	if err != nil {
		return modules.Reply{Text: reply.MarketError(req.Args[0], err)}, nil
	}
	t, err := m.src.Ticker(ctx, pair)
	if err != nil {
		return modules.Reply{Text: reply.MarketError(pair.String(), err)}, nil
	}
	var extra []string
	if m.sections != nil {
		extra = m.sections.Sections(ctx, req, pair)
	}
	return modules.Reply{Text: Format(t, extra, m.now())}, nil
}

// Format renders a ticker and the enhanced sections as Telegram HTML.
func Format(t market.Ticker, sections []string, now time.Time) string {
	var b strings.Builder
	b.Grow(512)
	b.WriteString("<b>" + html.EscapeString(t.Pair.String()) + "</b> · " + html.EscapeString(reply.Venue(t.Venue)) + "\n")
	b.WriteString("<b>" + format.Price(t.Last) + "</b> " + html.EscapeString(t.Pair.Quote) + "  " +
		format.Arrow(t.ChangePct) + " " + format.Percent(t.ChangePct, 2) + " 24h\n")
	b.WriteString("High " + format.Price(t.High) + " · Low " + format.Price(t.Low) + "\n")
	b.WriteString("Vol " + format.Compact(t.BaseVolume) + " " + html.EscapeString(t.Pair.Base) +
		" · " + format.Compact(t.QuoteVolume) + " " + html.EscapeString(t.Pair.Quote) + "\n")
	for _, s := range sections {
		b.WriteString(s + "\n")
	}
	if !t.Time.IsZero() {
		age := max(now.Sub(t.Time), 0)
		b.WriteString("<i>data " + format.Duration(age) + " old</i>")
	}
	return strings.TrimRight(b.String(), "\n")
}
