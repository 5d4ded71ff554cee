package main

import (
	"strings"
	"testing"
)

// TestSettingsAndMembershipWired checks what cmd/server itself wires for
// buttons and groups: /settings over the store, a Refresh button on /price,
// and the hello when the bot is added to a group.
func TestSettingsAndMembershipWired(t *testing.T) {
	b := startBot(t, "polling")
	eventually(t, "a long poll waiting at the fake", b.tg.Polling)

	if got := b.ask(21, "/settings"); !strings.Contains(got, "Settings for this chat") {
		t.Fatalf("/settings: %q", got)
	}
	b.ask(22, "/price btc")
	sent := b.sentTo(22)
	last := sent[len(sent)-1]
	if len(last.Buttons) == 0 || len(last.Buttons[0]) == 0 || !strings.Contains(last.Buttons[0][0].Text, "Refresh") {
		t.Fatalf("/price keyboard: %+v", last.Buttons)
	}

	const group = -100123
	b.tg.MemberChange(group, "group", 7, "left", "member")
	eventually(t, "a hello in the group", func() bool { return len(b.sentTo(group)) == 1 })
	if hello := b.sentTo(group)[0]; !strings.Contains(hello.Text, "/help") {
		t.Errorf("hello: %q", hello.Text)
	}
	accepted := b.total(`cryptobot_updates_received_total{outcome="accepted"`)
	b.tg.MemberChange(group, "group", 7, "member", "kicked")
	eventually(t, "the removal handled", func() bool {
		return b.total(`cryptobot_updates_received_total{outcome="accepted"`) == accepted+1 &&
			b.total("cryptobot_queue_depth ") == 0 && b.total("cryptobot_workers_busy ") == 0
	})
	if n := len(b.sentTo(group)); n != 1 {
		t.Errorf("being removed sent %d more messages, want none", n-1)
	}
}
