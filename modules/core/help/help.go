// Package help answers /start and /help: a greeting or usage, each listing the
// commands this chat may use right now.
package help

import (
	"context"
	"html"
	"strings"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// Catalog lists the commands a chat may use now (the router).
type Catalog interface {
	Available(ctx context.Context, req modules.Request) []modules.Command
}

// Infos describes core.start and core.help, one command each (module ids and
// command order stay as they were when they were two packages); cmd/server
// builds them over the router's catalog.
func Infos(catalog Catalog) []modules.Info {
	cmds := New(catalog).Commands()
	one := func(id string, c modules.Command) modules.Info {
		return modules.Info{ID: id, New: func(modules.Deps) (modules.Module, error) { return only{c}, nil }}
	}
	return []modules.Info{one("core.start", cmds[0]), one("core.help", cmds[1])}
}

type only []modules.Command

func (o only) Commands() []modules.Command { return o }

// Module holds /start and /help.
type Module struct{ catalog Catalog }

// New returns the module over catalog.
func New(catalog Catalog) *Module { return &Module{catalog: catalog} }

// Commands implements modules.Module.
func (m *Module) Commands() []modules.Command {
	return []modules.Command{
		{Name: "start", Usage: "/start", Description: "Say hello and list the commands", Handler: m.page(start)},
		{Name: "help", Usage: "/help", Description: "How to use each command", Handler: m.page(usage)},
	}
}

// A layout is one page: its text around the list of commands.
type layout struct {
	head, tail string
	line       func(modules.Command) string // "" leaves the command out
}

var (
	start = layout{
		head: "👋 <b>Hi! I am a crypto market bot.</b>\nI quote live prices from Binance, Bybit and OKX.\n\n",
		tail: "\nTry <code>/price BTC</code>.",
		line: func(c modules.Command) string {
			if c.Name == "start" {
				return ""
			}
			return "/" + c.Name + " — " + html.EscapeString(c.Description) + "\n"
		},
	}
	usage = layout{
		head: "<b>Commands</b>\n",
		tail: "\nPairs can be written <code>btc</code>, <code>BTCUSDT</code>, <code>btc/usdt</code> or <code>BTC-USDT</code>; the quote defaults to USDT.",
		line: func(c modules.Command) string {
			return "<code>" + html.EscapeString(c.Usage) + "</code>\n    " + html.EscapeString(c.Description) + "\n"
		},
	}
)

func (m *Module) page(l layout) modules.HandlerFunc {
	return func(ctx context.Context, req modules.Request) (modules.Reply, error) {
		var b strings.Builder
		b.WriteString(l.head)
		for _, c := range m.catalog.Available(ctx, req) {
			b.WriteString(l.line(c))
		}
		b.WriteString(l.tail)
		return modules.Reply{Text: b.String()}, nil
	}
}
