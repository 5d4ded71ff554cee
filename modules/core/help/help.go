// Package help answers /help with usage for the commands this chat can use.
package help

import (
	"context"
	"html"
	"strings"

	"github.com/cryptobot-dev/cryptobot/modules"
)

func init() {
	modules.Register(modules.Info{
		ID:  "core.help",
		New: func(d modules.Deps) (modules.Module, error) { return New(d.Catalog), nil },
	})
}

// Module is the /help command.
type Module struct{ catalog modules.Catalog }

// New returns the module; catalog lists the commands a chat may use.
func New(catalog modules.Catalog) *Module { return &Module{catalog: catalog} }

// Commands implements modules.Module.
func (m *Module) Commands() []modules.Command {
	return []modules.Command{{
		Name: "help", Usage: "/help", Description: "How to use each command",
		Handler: modules.HandlerFunc(m.handle),
	}}
}

func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	var b strings.Builder
	b.WriteString("<b>Commands</b>\n")
	for _, c := range m.catalog.Available(ctx, req) {
		b.WriteString("<code>" + html.EscapeString(c.Usage) + "</code>\n    " + html.EscapeString(c.Description) + "\n")
	}
	b.WriteString("\nPairs can be written <code>btc</code>, <code>BTCUSDT</code>, <code>btc/usdt</code> or <code>BTC-USDT</code>; the quote defaults to USDT.")
	return modules.Reply{Text: b.String()}, nil
}
