// Package start answers /start: a greeting and the commands this chat can use.
package start

import (
	"context"
	"html"
	"strings"

	"github.com/cryptobot-dev/cryptobot/modules"
)

func init() {
	modules.Register(modules.Info{
		ID:  "core.start",
		New: func(d modules.Deps) (modules.Module, error) { return New(d.Catalog), nil },
	})
}

// Module is the /start command.
type Module struct{ catalog modules.Catalog }

// New returns the module; catalog lists the commands a chat may use.
func New(catalog modules.Catalog) *Module { return &Module{catalog: catalog} }

// Commands implements modules.Module.
func (m *Module) Commands() []modules.Command {
	return []modules.Command{{
		Name: "start", Usage: "/start", Description: "Say hello and list the commands",
		Handler: modules.HandlerFunc(m.handle),
	}}
}

func (m *Module) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	var b strings.Builder
	b.WriteString("👋 <b>Hi! I am a crypto market bot.</b>\n")
	b.WriteString("I quote live prices from Binance, Bybit and OKX.\n\n")
	for _, c := range m.catalog.Available(ctx, req) {
		if c.Name == "start" {
			continue
		}
		b.WriteString("/" + c.Name + " — " + html.EscapeString(c.Description) + "\n")
	}
	b.WriteString("\nTry <code>/price BTC</code>.")
	return modules.Reply{Text: b.String()}, nil
}
