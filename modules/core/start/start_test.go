package start

import (
	"context"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

type catalog []modules.Command

func (c catalog) Available(context.Context, modules.Request) []modules.Command { return c }

func TestStartGreetsAndListsCommands(t *testing.T) {
	m := New(catalog{{Name: "start", Description: "hi"}, {Name: "price", Description: "Last price"}, {Name: "help", Description: "How to"}})
	reply, err := m.Commands()[0].Handler.Handle(context.Background(), modules.Request{Command: "start"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Text, "/price — Last price") || !strings.Contains(reply.Text, "/help — How to") {
		t.Errorf("start reply lacks the commands:\n%s", reply.Text)
	}
	if strings.Contains(reply.Text, "/start —") {
		t.Error("start lists itself")
	}
}
