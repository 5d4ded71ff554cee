package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
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

// TestInlinePerpetual: "@bot btc" answers the spot pair and the perpetual
// (from the venues' fapi/linear/SWAP tickers), and the perpetual's result
// sends what /price BTC-PERP answers.
func TestInlinePerpetual(t *testing.T) {
	b := startBot(t, "polling")
	eventually(t, "a long poll waiting at the fake", b.tg.Polling)
	if id := b.tg.Inline(31, "btc", "private"); id == "" {
		t.Fatal("the bot does not receive inline queries")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	as, err := b.tg.WaitInline(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var perp *telegramtest.InlineResult
	for i, r := range as[0].Results {
		ids = append(ids, r.ID)
		if r.ID == "BTC-USDT-PERP" {
			perp = &as[0].Results[i]
		}
	}
	if len(ids) < 2 || ids[0] != "BTC-USDT" || perp == nil {
		t.Fatalf("inline btc: results %v, want BTC-USDT then the perpetual", ids)
	}
	if !strings.HasPrefix(perp.Title, "BTC-USDT perp 97,123.40 ▲ +2.2") {
		t.Errorf("perpetual title %q", perp.Title)
	}
	if as[0].CacheTime > 10 {
		t.Errorf("cache_time %d", as[0].CacheTime)
	}
	got := b.ask(32, "/price BTC-PERP")
	// Both end in the data's age, which may differ by a second.
	head := func(s string) string { h, _, _ := strings.Cut(s, "<i>data"); return h }
	if !strings.HasPrefix(got, "<b>BTC-USDT perp</b> · ") || head(got) != head(perp.Content.Text) {
		t.Errorf("/price BTC-PERP\n%s\nthe inline result sends\n%s", got, perp.Content.Text)
	}
	if n := b.venues.Binance.Hits("ticker") + b.venues.Bybit.Hits("ticker") + b.venues.OKX.Hits("ticker"); n == 0 {
		t.Error("no venue ticker requested")
	}
}
