// Package admin answers /status and /flags in the configured admin chats only;
// the router hides both commands everywhere else.
package admin

import (
	"context"
	"html"
	"strings"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Inspector reports the bot's own state (cmd/server's app).
type Inspector interface {
	Status(ctx context.Context) []Fact
	Flags(ctx context.Context, req modules.Request) []FlagValue
}

// Fact is one labelled line of /status.
type Fact struct{ Name, Value string }

// FlagValue is one flag as evaluated for a chat, with the reason.
type FlagValue struct {
	Key, Variant, Reason string
	On                   bool
	Err                  string
}

// Info describes the module; cmd/server builds it over its own inspector.
func Info(inspect Inspector) modules.Info {
	return modules.Info{
		ID:  "core.admin",
		New: func(modules.Deps) (modules.Module, error) { return New(inspect), nil },
	}
}

// Module holds the admin commands.
type Module struct{ inspect Inspector }

// New returns the module over the bot's inspector.
func New(inspect Inspector) *Module { return &Module{inspect: inspect} }

// Commands implements modules.Module.
func (m *Module) Commands() []modules.Command {
	return []modules.Command{
		{Name: "status", Usage: "/status", Description: "Bot health, modules, memory and flag files (admins)", Admin: true, Handler: modules.HandlerFunc(m.status)},
		{Name: "flags", Usage: "/flags", Description: "Every flag's value for this chat and why (admins)", Admin: true, Handler: modules.HandlerFunc(m.flags)},
	}
}

func (m *Module) status(ctx context.Context, _ modules.Request) (modules.Reply, error) {
	facts := m.inspect.Status(ctx)
	width := reply.Widest(facts, func(f Fact) string { return f.Name })
	var b strings.Builder
	b.WriteString("<b>Status</b>\n<pre>")
	for _, f := range facts {
		b.WriteString(html.EscapeString(f.Name + strings.Repeat(" ", width-len(f.Name)) + "  " + f.Value))
		b.WriteByte('\n')
	}
	b.WriteString("</pre>")
	return modules.Reply{Text: b.String()}, nil
}

func (m *Module) flags(ctx context.Context, req modules.Request) (modules.Reply, error) {
	var b strings.Builder
	b.WriteString("<b>Flags for this chat</b>\n")
	for _, f := range m.inspect.Flags(ctx, req) {
		mark := "⚪ off"
		if f.On {
			mark = "🟢 on"
		}
		b.WriteString("<code>" + html.EscapeString(f.Key) + "</code>: " + mark +
			" (variant " + html.EscapeString(orDash(f.Variant)) + ", reason " + html.EscapeString(orDash(f.Reason)) + ")")
		if f.Err != "" {
			b.WriteString(" — " + html.EscapeString(f.Err))
		}
		b.WriteByte('\n')
	}
	return modules.Reply{Text: strings.TrimRight(b.String(), "\n")}, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
