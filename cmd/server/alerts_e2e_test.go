package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
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

// A chat whose reply Telegram refuses (the user blocked the bot) has its
// alerts paused in the store, so a crossing sends nothing; when the chat
// writes again its alerts are re-armed.
func TestRefusedReplyPausesAlerts(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging", "CRYPTOBOT_MODULES__ENHANCED__ALERTS__POLL=200ms")
	const chat = 4343
	if ack := b.ask(chat, "/alert btc above 98k"); !strings.Contains(ack, "Alert #1 set") {
		t.Fatalf("ack %q", ack)
	}
	b.tg.Refuse(chat, telegramtest.Blocked)
	b.tg.SendText(chat, chat, "private", "/price btc")
	b.waitValue(`cryptobot_telegram_unreachable_total{reason="blocked"}`, 1)
	b.waitSettled()

	before := len(b.sentTo(chat))
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	b.venues.Binance.SetLast(btc, "98500")
	b.venues.Bybit.SetLast(btc, "98500")
	b.venues.OKX.SetLast(btc, "98500")
	tick := b.value("cryptobot_alerts_last_tick_timestamp_seconds")
	eventually(t, "two alert polls past the crossing", func() bool {
		return b.value("cryptobot_alerts_last_tick_timestamp_seconds") >= tick+2
	})
	if fired := b.value(`cryptobot_alerts_fired_total{kind="above"}`); fired != 0 {
		t.Errorf("a blocked chat's alert fired (%v)", fired)
	}

	b.tg.Accept(chat)
	if list := b.ask(chat, "/alerts"); !strings.Contains(list, "paused") {
		t.Errorf("/alerts while stored as blocked: %q", list)
	}
	if list := b.ask(chat, "/alerts"); strings.Contains(list, "paused") {
		t.Errorf("/alerts after the chat wrote again: %q, want it re-armed", list)
	}
	if got := len(b.sentTo(chat)) - before; got != 2 {
		t.Errorf("%d messages to the chat after the block, want the two /alerts replies", got)
	}
}

// An alert set ten minutes ago, while the bot was down since: the live
// price is below its level, but the 1 m candles of those minutes reached
// above it, so the runner fires it on start, from the candles. (The alert
// goes into the store file directly, with its creation time in the past;
// 15 m candles could not cover ten minutes.)
func TestAlertCrossedWhileDownFiresOnStart(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "cryptobot.db")
	book := markettest.DefaultBook() // as newRig's: only to read the candles the bot will see
	book.Now = time.Now
	venues := markettest.StartBook(book)
	t.Cleanup(venues.Close)
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	created := time.Now().Add(-10 * time.Minute)
	last, high := binanceSince(t, venues.Binance.URL(), created)
	if high <= last*1.001 {
		t.Fatalf("the fake's 1 m candles since %v reach %v, the price is %v: no room for a level between", created, high, last)
	}
	level := (last + high) / 2
	r, err := rule.Parse([]string{"btc", "above", strconv.FormatFloat(level, 'f', 2, 64)})
	if err != nil {
		t.Fatal(err)
	}
	const chat = 4343
	a := rule.NewAlert(0, chat, btc, r, created)
	ruleJSON, _ := json.Marshal(a.Rule)
	statusJSON, _ := json.Marshal(a.Status)
	st, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateAlert(t.Context(), store.AlertRow{ChatID: chat, Pair: btc.String(), Kind: r.Kind.String(),
		Rule: ruleJSON, Status: statusJSON, Created: created}, 0, 0); err != nil {
		t.Fatal(err)
	}
	st.Close()

	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging", "CRYPTOBOT_MODULES__ENHANCED__ALERTS__POLL=200ms", "CRYPTOBOT_STORE__URL="+url)
	msg := b.waitReply(chat, 0)
	if !strings.Contains(msg, "BTC-USDT is above") {
		t.Fatalf("message on start %q, want the alert", msg)
	}
	b.waitValue("cryptobot_store_outbox_depth", 0)
	if n := len(b.sentTo(chat)); n != 1 {
		t.Errorf("%d messages, want the one alert: %+v", n, b.sentTo(chat))
	}
}

// binanceSince is the fake Binance's BTC-USDT last price and the highest
// high of its closed 1 m candles opened at or after since, the ones the
// runner's gap recovery reads.
func binanceSince(t *testing.T, base string, since time.Time) (last, high float64) {
	t.Helper()
	get := func(path string, v any) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var tick struct {
		Price string `json:"price"`
	}
	get("/api/v3/ticker/price?symbol=BTCUSDT", &tick)
	last, _ = strconv.ParseFloat(tick.Price, 64)
	var rows [][]any
	get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=30", &rows)
	for _, row := range rows[:len(rows)-1] { // the last one is still open
		open := time.UnixMilli(int64(row[0].(float64)))
		h, _ := strconv.ParseFloat(row[2].(string), 64)
		if !open.Before(since) {
			high = max(high, h)
		}
	}
	return last, high
}

// The alerts flag turned off live pauses a chat's alerts: a crossing then
// sends nothing and the commands are not answered; turned on again, the
// alert resumes without firing for the crossing it missed, and fires on
// the next one.
func TestAlertsPauseWhileFlagOff(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging", "CRYPTOBOT_MODULES__ENHANCED__ALERTS__POLL=200ms",
		"CRYPTOBOT_MODULES__ENHANCED__ALERTS__FLAG_CHECK=500ms",
		"CRYPTOBOT_CACHE__TTL=50ms") // so each poll sees the price the test just set
	const chat = 4444
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	setBTC := func(v string) {
		b.venues.Binance.SetLast(btc, v)
		b.venues.Bybit.SetLast(btc, v)
		b.venues.OKX.SetLast(btc, v)
	}
	polls := func(n float64) { // n more seconds of the runner's own ticks
		tick := b.value("cryptobot_alerts_last_tick_timestamp_seconds")
		eventually(t, "more alert polls", func() bool {
			return b.value("cryptobot_alerts_last_tick_timestamp_seconds") >= tick+n
		})
	}
	if ack := b.ask(chat, "/alert btc above 98k"); !strings.Contains(ack, "Alert #1 set") {
		t.Fatalf("ack %q", ack)
	}
	file := filepath.Join(b.flagsDir, "alerts.yaml")
	on, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	replaceFile(t, file, strings.Replace(string(on), "state: ENABLED", "state: DISABLED", 1))
	b.waitValue("cryptobot_alerts_flag_paused", 1)
	before := len(b.sentTo(chat))
	setBTC("98500")
	polls(2)
	if got := b.ask(chat, "/alerts"); !strings.Contains(got, "not available in this chat") {
		t.Errorf("/alerts with the flag off: %q", got)
	}
	replaceFile(t, file, string(on))
	b.waitValue("cryptobot_alerts_flag_paused", 0)
	polls(2)
	if got := b.sentTo(chat)[before+1:]; len(got) != 0 { // +1: the /alerts refusal
		t.Fatalf("messages for a crossing while paused: %+v", got)
	}
	if list := b.ask(chat, "/alerts"); !strings.Contains(list, "#1 BTC-USDT above 98,000 — armed") {
		t.Errorf("/alerts after resuming: %q", list)
	}
	setBTC("97000")
	polls(2)
	n := len(b.sentTo(chat))
	setBTC("98200")
	if msg := b.waitReply(chat, n); !strings.Contains(msg, "BTC-USDT is above 98,000") {
		t.Errorf("message after resuming %q", msg)
	}
}

// In a group, /settings alertsby admins (set by an administrator) lets only
// administrators set alerts, checked with getChatMember; alertsby anyone
// lets every member again.
func TestGroupAlertsByAdmins(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging")
	const group, admin, member = -1005550001, 71, 72
	b.tg.SetMember(group, admin, "administrator")
	b.tg.SetMember(group, member, "member")
	say := func(user int64, text string) string {
		t.Helper()
		before := len(b.sentTo(group))
		b.tg.SendText(group, user, "supergroup", text)
		return b.waitReply(group, before)
	}
	// Each step needs the ones before it: the first wrong reply ends the test.
	for _, st := range []struct {
		user       int64
		text, want string
	}{
		{member, "/alert btc above 98k", "Alert #1 set"}, // anyone, by default
		{member, "/settings alertsby admins", "Only the group's administrators can change"},
		{admin, "/settings alertsby admins", "Alerts set and deleted by: <b>administrators only</b>"},
		{member, "/alert eth above 5k", "only administrators can set and delete alerts"},
		{member, "/unalert 1", "only administrators"},
		{admin, "/alert eth above 5k", "Alert #2 set"},
		{admin, "/settings alertsby anyone", "Alerts set and deleted by: <b>anyone</b>"},
		{member, "/unalert 1", "Deleted alert #1"},
	} {
		if got := say(st.user, st.text); !strings.Contains(got, st.want) {
			t.Fatalf("user %d's %s: %q, want %q in it", st.user, st.text, got, st.want)
		}
	}
}

// While the memory guard sheds, /watchlist is declined like other enhanced
// work, but alerts are still evaluated and delivered; once the pressure
// passes, /watchlist answers again.
func TestAlertsWhileShedding(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging", "CRYPTOBOT_MODULES__ENHANCED__ALERTS__POLL=200ms")
	const chat = 4545
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	b.ask(chat, "/watch btc")
	if ack := b.ask(chat, "/alert btc above 98k"); !strings.Contains(ack, "Alert #1 set") {
		t.Fatalf("ack %q", ack)
	}
	// As TestChaosMemoryPressure: a tenth of what the runtime holds now.
	s := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	rtmetrics.Read(s)
	prev := debug.SetMemoryLimit(int64(s[0].Value.Uint64()-s[1].Value.Uint64()) / 10)
	var once sync.Once
	restore := func() { once.Do(func() { debug.SetMemoryLimit(prev) }) }
	t.Cleanup(restore)
	b.waitValue("cryptobot_memory_shedding", 1)

	if got := b.ask(chat, "/watchlist"); !strings.Contains(got, paused) {
		t.Errorf("/watchlist while shedding: %q, want the paused note", got)
	}
	n := len(b.sentTo(chat))
	b.venues.Binance.SetLast(btc, "98500")
	b.venues.Bybit.SetLast(btc, "98500")
	b.venues.OKX.SetLast(btc, "98500")
	if msg := b.waitReply(chat, n); !strings.Contains(msg, "BTC-USDT is above 98,000") {
		t.Errorf("alert while shedding: %q", msg)
	}

	restore()
	b.waitValue("cryptobot_memory_shedding", 0)
	if got := b.ask(chat, "/watchlist"); !strings.Contains(got, "<b>Watchlist</b>") {
		t.Errorf("/watchlist after the pressure passed: %q", got)
	}
}
