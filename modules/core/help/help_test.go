package help

import (
	"context"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

type catalog []modules.Command

func (c catalog) Available(context.Context, modules.Request) []modules.Command { return c }

func answer(t *testing.T, c catalog, command string) string {
	t.Helper()
	for _, cmd := range New(c).Commands() {
		if cmd.Name == command {
			reply, err := cmd.Handler.Handle(context.Background(), modules.Request{Command: command})
			if err != nil {
				t.Fatal(err)
			}
			return reply.Text
		}
	}
	t.Fatalf("no /%s", command)
	return ""
}

func TestHelpListsAvailableCommandsEscaped(t *testing.T) {
	text := answer(t, catalog{
		{Name: "price", Usage: "/price SYMBOL", Description: "Last price"},
		{Name: "oi", Usage: "/oi SYMBOL [all]", Description: "Open interest <coin & USD>"},
	}, "help")
	for _, want := range []string{"<code>/price SYMBOL</code>", "<code>/oi SYMBOL [all]</code>", "Open interest &lt;coin &amp; USD&gt;"} {
		if !strings.Contains(text, want) {
			t.Errorf("help lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "/funding") {
		t.Error("help lists a command the catalog did not offer")
	}
}

func TestStartGreetsAndListsCommands(t *testing.T) {
	text := answer(t, catalog{{Name: "start", Description: "hi"}, {Name: "price", Description: "Last price"}, {Name: "help", Description: "How to"}}, "start")
	if !strings.HasPrefix(text, "👋") || !strings.Contains(text, "/price — Last price") || !strings.Contains(text, "/help — How to") {
		t.Errorf("start reply lacks the greeting or the commands:\n%s", text)
	}
	if strings.Contains(text, "/start —") {
		t.Error("start lists itself")
	}
}
