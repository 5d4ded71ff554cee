package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// TestAlertsFire8000 is issue #11's scale figure: one move fires 8,000
// alerts across 2,000 chats, delivered completely with raised outbound
// limits, none twice. It logs the seconds from the move to the last
// delivery at the fake Bot API; it asserts no wall-clock time. The alerts
// go into the store file directly before the bot starts (8,000 /alert
// commands would measure the intake, which cmd/loadgen's alert category
// does). Opt in, it takes a minute:
//
//	CRYPTOBOT_SCALE=1 go test -run TestAlertsFire8000 -v ./cmd/server/
func TestAlertsFire8000(t *testing.T) {
	if os.Getenv("CRYPTOBOT_SCALE") != "1" {
		t.Skip("set CRYPTOBOT_SCALE=1 to run the 8,000-alert delivery figure")
	}
	const chats, perChat = 2000, 4
	url := "sqlite:" + filepath.Join(t.TempDir(), "cryptobot.db")
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	st, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	setup := time.Now()
	for c := range chats {
		chat := int64(100_001 + c)
		for k := range perChat {
			r, err := rule.Parse([]string{"btc", "above", strconv.Itoa(98_000 + 100*k)})
			if err != nil {
				t.Fatal(err)
			}
			a := rule.NewAlert(0, chat, btc, r, time.Now())
			rj, _ := json.Marshal(a.Rule)
			sj, _ := json.Marshal(a.Status)
			if _, err := st.CreateAlert(t.Context(), store.AlertRow{ChatID: chat, Pair: btc.String(), Kind: r.Kind.String(),
				Rule: rj, Status: sj, Created: a.Created}, 0, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()
	t.Logf("setup: %d alerts stored in %v", chats*perChat, time.Since(setup).Round(time.Millisecond))

	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging", "CRYPTOBOT_STORE__URL="+url,
		"CRYPTOBOT_MODULES__ENHANCED__ALERTS__POLL=500ms",
		"CRYPTOBOT_TELEGRAM__RATE__GLOBAL=10000", "CRYPTOBOT_TELEGRAM__RATE__PER_CHAT=100", "CRYPTOBOT_LOG_LEVEL=info")
	b.waitValue("cryptobot_alerts_live", chats*perChat)
	tick := b.value("cryptobot_alerts_last_tick_timestamp_seconds")
	eventually(t, "the runner polling with the alerts loaded", func() bool {
		return b.value("cryptobot_alerts_last_tick_timestamp_seconds") > tick
	})
	if n := len(b.tg.Sent()); n != 0 {
		t.Fatalf("%d messages before the move", n)
	}

	moved := time.Now()
	b.venues.Binance.SetLast(btc, "99000")
	b.venues.Bybit.SetLast(btc, "99000")
	b.venues.OKX.SetLast(btc, "99000")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if _, err := b.tg.WaitSent(ctx, chats*perChat); err != nil {
		t.Fatalf("%v after %d deliveries", err, len(b.tg.Sent()))
	}
	took := time.Since(moved)
	b.waitValue("cryptobot_store_outbox_depth", 0)
	tick = b.value("cryptobot_alerts_last_tick_timestamp_seconds")
	eventually(t, "two more seconds of alert polls", func() bool {
		return b.value("cryptobot_alerts_last_tick_timestamp_seconds") >= tick+2
	})

	id := regexp.MustCompile(`Alert #(\d+)`)
	seen := map[string]int{}
	for _, m := range b.tg.Sent() {
		sm := id.FindStringSubmatch(m.Text)
		if sm == nil {
			t.Errorf("not an alert message to %d: %q", m.ChatID, m.Text)
			continue
		}
		seen[fmt.Sprint(m.ChatID, "#", sm[1])]++
	}
	twice := 0
	for k, n := range seen {
		if n > 1 {
			twice++
			if twice <= 5 {
				t.Errorf("%s delivered %d times", k, n)
			}
		}
	}
	if len(seen) != chats*perChat || twice != 0 {
		t.Errorf("%d distinct alerts delivered, %d of them more than once; want %d, none twice", len(seen), twice, chats*perChat)
	}
	t.Logf("8,000 alerts over 2,000 chats: all delivered %.1f s after the move (%d messages, %d distinct, %d twice)",
		took.Seconds(), len(b.tg.Sent()), len(seen), twice)
}
