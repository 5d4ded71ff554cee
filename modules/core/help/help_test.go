package help

import (
	"context"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

type catalog []modules.Command

func (c catalog) Available(context.Context, modules.Request) []modules.Command { return c }

func TestHelpListsAvailableCommandsEscaped(t *testing.T) {
	m := New(catalog{
		{Name: "price", Usage: "/price SYMBOL", Description: "Last price"},
		{Name: "oi", Usage: "/oi SYMBOL [all]", Description: "Open interest <coin & USD>"},
	})
	reply, err := m.Commands()[0].Handler.Handle(context.Background(), modules.Request{Command: "help"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<code>/price SYMBOL</code>", "<code>/oi SYMBOL [all]</code>", "Open interest &lt;coin &amp; USD&gt;"} {
		if !strings.Contains(reply.Text, want) {
			t.Errorf("help lacks %q:\n%s", want, reply.Text)
		}
	}
	if strings.Contains(reply.Text, "/funding") {
		t.Error("help lists a command the catalog did not offer")
	}
}
