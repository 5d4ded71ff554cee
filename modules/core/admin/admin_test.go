package admin

import (
	"context"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

type inspector struct{}

func (inspector) Status(context.Context) []Fact {
	return []Fact{{Name: "version", Value: "v1"}, {Name: "flag files", Value: "invalid: a.yaml:3: <bad>"}}
}

func (inspector) Flags(_ context.Context, req modules.Request) []FlagValue {
	return []FlagValue{
		{Key: "open-interest", On: true, Variant: "on", Reason: "TARGETING_MATCH"},
		{Key: "funding-rates", Variant: "off", Reason: "DEFAULT"},
	}
}

func TestAdminCommands(t *testing.T) {
	m := New(inspector{})
	cmds := m.Commands()
	for _, c := range cmds {
		if !c.Admin {
			t.Errorf("/%s is not marked admin-only", c.Name)
		}
	}
	status, _ := cmds[0].Handler.Handle(context.Background(), modules.Request{})
	if !strings.Contains(status.Text, "version     v1") || !strings.Contains(status.Text, "&lt;bad&gt;") {
		t.Errorf("status not aligned or not escaped:\n%s", status.Text)
	}
	flags, _ := cmds[1].Handler.Handle(context.Background(), modules.Request{ChatID: 5})
	want := "<code>open-interest</code>: 🟢 on (variant on, reason TARGETING_MATCH)\n<code>funding-rates</code>: ⚪ off (variant off, reason DEFAULT)"
	if !strings.HasSuffix(flags.Text, want) {
		t.Errorf("flags reply:\n%s\nwant suffix:\n%s", flags.Text, want)
	}
}
