package main

import (
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// An alert set through the Bot API fires once when every venue's price
// crosses its level: the runner commits the firing to the store's outbox
// and the drainer delivers it, exactly one message however many polls
// follow.
func TestAlertFiresOnceEndToEnd(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging", "CRYPTOBOT_MODULES__ENHANCED__ALERTS__POLL=200ms")
	const chat = 4242
	ack := b.ask(chat, "/alert btc above 98k")
	if !strings.Contains(ack, "Alert #1 set: BTC-USDT above 98,000") {
		t.Fatalf("ack %q", ack)
	}
	before := len(b.sentTo(chat))
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	b.venues.Binance.SetLast(btc, "98500")
	b.venues.Bybit.SetLast(btc, "98500")
	b.venues.OKX.SetLast(btc, "98500")
	msg := b.waitReply(chat, before)
	if !strings.Contains(msg, "BTC-USDT is above 98,000: now 98,500") {
		t.Fatalf("alert message %q", msg)
	}
	// Let the runner poll on, past the crossing, for two more seconds of its own ticks.
	tick := b.value("cryptobot_alerts_last_tick_timestamp_seconds")
	eventually(t, "two more seconds of alert polls", func() bool {
		return b.value("cryptobot_alerts_last_tick_timestamp_seconds") >= tick+2
	})
	b.waitValue("cryptobot_store_outbox_depth", 0)
	if got := len(b.sentTo(chat)) - before; got != 1 {
		t.Errorf("%d alert messages, want exactly 1: %+v", got, b.sentTo(chat)[before:])
	}
	if fired := b.value(`cryptobot_alerts_fired_total{kind="above"}`); fired != 1 {
		t.Errorf("fired_total %v, want 1", fired)
	}
	if list := b.ask(chat, "/alerts"); !strings.Contains(list, "#1 BTC-USDT above 98,000 — fired") {
		t.Errorf("/alerts after the firing: %q", list)
	}
}
