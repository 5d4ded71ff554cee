package main

// The chaos suite: the real run() against fakes that misbehave. Every test is
// bounded by waitFor deadlines; the only timing assertion is the bot's own
// promise, a reply within the 5 s reply deadline.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// chaosPanicText is what /boom panics with; the chat must never see it.
const chaosPanicText = "chaos: boom"

// A core module the tests hand to run (never the global registry): /boom panics.
var chaosPanicModule = modules.Info{
	ID:  "core.chaospanic",
	New: func(modules.Deps) (modules.Module, error) { return panicModule{}, nil },
}

type panicModule struct{}

func (panicModule) Commands() []modules.Command {
	return []modules.Command{{
		Name: "boom", Usage: "/boom", Description: "Panics (chaos tests only)",
		Handler: modules.HandlerFunc(func(context.Context, modules.Request) (modules.Reply, error) {
			panic(chaosPanicText)
		}),
	}}
}

// Replies the suite recognises.
const (
	quoteBTC    = "<b>BTC-USDT</b> · "
	unavailable = "unavailable"
	apology     = "Sorry, something went wrong"
	paused      = "paused"
	oiAnswer    = "perp</b> open interest on"
	oiOff       = "not available in this chat yet"
	oiSection   = "OI $"
)

func TestChaosExchanges(t *testing.T) {
	// Binance sits behind a proxy that can dribble bodies; the other venues
	// are the harness's own fakes.
	book := markettest.DefaultBook()
	book.Now = time.Now
	binance := markettest.NewBinanceBook(book)
	t.Cleanup(binance.Close)
	proxy := newSlowProxy(t, binance.URL())
	b := startBot(t, "polling",
		"CRYPTOBOT_EXCHANGES__BINANCE__SPOT_URL="+proxy.srv.URL,
		"CRYPTOBOT_EXCHANGES__BINANCE__FUTURES_URL="+proxy.srv.URL,
		"CRYPTOBOT_CACHE__TTL=1ms",         // every ask reaches the venues,
		"CRYPTOBOT_CACHE__STALE_LIMIT=1ms", // and no stale quote stands in for them
	)
	b.waitWarm()
	venues := [3]*markettest.Server{binance.Server, b.venues.Bybit.Server, b.venues.OKX.Server}

	type fault func(*markettest.Server)
	var (
		status500 fault = func(s *markettest.Server) { s.Fail(http.StatusInternalServerError, 1000) }
		limited   fault = func(s *markettest.Server) { s.RateLimit(30*time.Second, 1000) }
		malformed fault = func(s *markettest.Server) { s.Malformed(1000) }
		hanging   fault = func(s *markettest.Server) { s.Delay(time.Minute) }
		slowBody  fault = func(*markettest.Server) { proxy.slow.Store(true) } // Binance only
	)
	tests := []struct {
		name   string
		faults [3]fault // Binance, Bybit, OKX; nil is healthy
		want   string
	}{
		{name: "500 fails over", faults: [3]fault{status500}, want: quoteBTC + "Bybit"},
		{name: "429 with Retry-After fails over", faults: [3]fault{limited}, want: quoteBTC + "Bybit"},
		{name: "malformed JSON fails over", faults: [3]fault{malformed}, want: quoteBTC + "Bybit"},
		{name: "hanging connection fails over", faults: [3]fault{hanging}, want: quoteBTC + "Bybit"},
		{name: "slow body fails over", faults: [3]fault{slowBody}, want: quoteBTC + "Bybit"},
		{name: "two venues down", faults: [3]fault{status500, limited}, want: quoteBTC + "OKX"},
		{name: "every venue 500", faults: [3]fault{status500, status500, status500}, want: unavailable},
		{name: "every venue 429", faults: [3]fault{limited, limited, limited}, want: unavailable},
		{name: "every venue malformed", faults: [3]fault{malformed, malformed, malformed}, want: unavailable},
		{name: "every venue broken differently", faults: [3]fault{slowBody, malformed, limited}, want: unavailable},
		{name: "every venue hanging", faults: [3]fault{hanging, hanging, hanging}, want: unavailable},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				proxy.slow.Store(false)
				for _, v := range venues {
					v.Reset()
				}
			}()
			for j, f := range tt.faults {
				if f != nil {
					f(venues[j])
				}
			}
			got := b.ask(int64(300+i), "/price btc")
			if !strings.Contains(got, tt.want) {
				t.Errorf("reply lacks %q:\n%s", tt.want, got)
			}
			if strings.Contains(got, apology) {
				t.Errorf("an outage is not our error, yet the reply apologises:\n%s", got)
			}
		})
	}
	b.noLateReplies()
}

func TestChaosTelegramErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		count      int
		retryAfter time.Duration
	}{
		{name: "429 storm", status: http.StatusTooManyRequests, count: 20, retryAfter: time.Second},
		{name: "5xx", status: http.StatusBadGateway, count: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := startBot(t, "polling")
			b.waitWarm()
			b.tg.FailNext("sendMessage", tt.status, tt.count, tt.retryAfter)
			want := map[int64]int{}
			for chat := int64(100); chat < 120; chat++ {
				b.tg.SendText(chat, chat, "private", "/price btc")
				want[chat] = 1
			}
			// Settled: every update answered, or its reply counted failed.
			eventually(t, "all twenty updates accepted", func() bool {
				return b.value(`cryptobot_updates_received_total{outcome="accepted",source="polling"}`) >= float64(len(want))
			})
			b.waitSettled()
			got, failed := b.repliesByChat(), b.value(`cryptobot_replies_total{outcome="failed"}`)
			for chat, replies := range got {
				if len(replies) != 1 || !strings.Contains(replies[0], quoteBTC) {
					t.Errorf("chat %d: replies %q, want one quote", chat, replies)
				}
			}
			if tt.status == http.StatusTooManyRequests {
				if n := b.value("cryptobot_telegram_rate_limited_total"); n != float64(tt.count) {
					t.Errorf("rate_limited_total %v, want %d", n, tt.count)
				}
			}
			if lost := len(want) - len(got); lost > 0 {
				if float64(lost) != failed {
					t.Errorf("%d replies lost but %v counted failed: a loss went silent", lost, failed)
				}
				t.Errorf("%d of %d replies lost", lost, len(want))
			}
		})
	}
}

func TestChaosWebhookBurst(t *testing.T) {
	b := startBot(t, "webhook",
		"CRYPTOBOT_QUEUE_SIZE=4",
		"CRYPTOBOT_WORKERS=1",
		"CRYPTOBOT_CACHE__TTL=1ms", "CRYPTOBOT_CACHE__STALE_LIMIT=1ms", // every /price reaches the slow venue
	)
	b.waitWarm()
	b.venues.Binance.Delay(100 * time.Millisecond)

	t.Run("full queue answers 503 with Retry-After", func(t *testing.T) {
		// Direct posts, ids far from the fake's own: one worker and four
		// slots cannot take twelve slow updates at once.
		want := map[int64]int{}
		busy := 0
		for i := range int64(12) {
			id, chat := 900_000+i, 9_000+i
			res, err := postRaw(t.Context(), b.addr, b.secret, update(id, chat, "/price btc"))
			switch {
			case err != nil:
				t.Fatal(err)
			case res.status == http.StatusOK:
				want[chat] = 1
			case res.status == http.StatusServiceUnavailable:
				busy++
				if res.retryAfter != "1" {
					t.Errorf("503 with Retry-After %q, want 1", res.retryAfter)
				}
			default:
				t.Errorf("update %d: status %d", id, res.status)
			}
		}
		if busy == 0 {
			t.Fatal("no 503 while twelve slow updates met a queue of four")
		}
		got := b.waitAnswered(want)
		checkOnce(t, got, want)
	})

	t.Run("Telegram redelivers until every update is answered once", func(t *testing.T) {
		before := b.value(`cryptobot_updates_received_total{outcome="queue_full",source="webhook"}`)
		want := map[int64]int{}
		for chat := int64(100); chat < 120; chat++ {
			b.tg.SendText(chat, chat, "private", "/price btc")
			want[chat] = 1
		}
		got := b.waitAnswered(want)
		checkOnce(t, got, want)
		if after := b.value(`cryptobot_updates_received_total{outcome="queue_full",source="webhook"}`); after <= before {
			t.Error("the burst never filled the queue: nothing was redelivered")
		}
	})
}

func TestChaosDuplicateAndOutOfOrder(t *testing.T) {
	b := startBot(t, "webhook")
	for _, id := range []int64{5, 3, 5, 4, 3} {
		if resp := b.post(update(id, 700+id, "/start"), b.secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("update %d: %d, want 200", id, resp.StatusCode)
		}
	}
	want := map[int64]int{703: 1, 704: 1, 705: 1}
	checkOnce(t, b.waitAnswered(want), want)
	if n := b.value(`cryptobot_updates_received_total{outcome="duplicate",source="webhook"}`); n != 2 {
		t.Errorf("%v duplicates counted, want 2", n)
	}
}

func TestChaosFlagRewritesUnderLoad(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging") // staging: the shipped flags are on
	b.waitWarm()
	on, err := os.ReadFile(filepath.Join(b.flagsDir, "open-interest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	off := bytes.Replace(on, []byte("state: ENABLED"), []byte("state: DISABLED"), 1)
	if bytes.Equal(on, off) {
		t.Fatal("open-interest.yaml has no state: ENABLED to flip")
	}

	const perChat = 30 // alternating /price and /oi
	chats := []int64{200, 201, 202, 203}
	load := make(chan struct{})
	go func() {
		defer close(load)
		for i := range perChat {
			for _, chat := range chats {
				cmd := "/price btc"
				if i%2 == 1 {
					cmd = "/oi btc"
				}
				b.tg.SendText(chat, chat, "private", cmd)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	for i := range 100 {
		version := on
		if i%2 == 0 {
			version = off
		}
		writeAtomic(t, b.flagsDir, "open-interest.yaml", version)
		time.Sleep(3 * time.Millisecond)
	}
	<-load

	want := map[int64]int{}
	for _, chat := range chats {
		want[chat] = perChat
	}
	got := b.waitAnswered(want)
	checkOnce(t, got, want)
	for chat, replies := range got {
		quotes, ois := 0, 0
		for _, r := range replies {
			switch {
			case strings.Contains(r, quoteBTC):
				quotes++
			case strings.Contains(r, oiAnswer), strings.Contains(r, oiOff):
				ois++
			default:
				t.Errorf("chat %d: unexpected reply %q", chat, r)
			}
		}
		if quotes != perChat/2 || ois != perChat/2 {
			t.Errorf("chat %d: %d quotes and %d /oi answers, want %d each", chat, quotes, ois, perChat/2)
		}
	}
	if n := b.value("cryptobot_handler_panics_total"); n != 0 {
		t.Errorf("%v handler panics", n)
	}
	if n := b.value(`cryptobot_flag_reloads_total{result="ok"}`); n == 0 {
		t.Error("no flag reload seen: the rewrites were not picked up")
	}
	if n := b.value(`cryptobot_flag_reloads_total{result="rejected"}`); n != 0 {
		t.Errorf("%v reloads rejected: a reader saw a half-written file", n)
	}
}

// TestChaosMemoryPressure squeezes the process-wide Go memory limit under
// the running bot; the guard must shed enhanced work and keep core answering.
func TestChaosMemoryPressure(t *testing.T) {
	b := startBot(t, "polling", "CRYPTOBOT_ENV=staging")
	b.waitWarm()
	if got := b.ask(400, "/price btc"); !strings.Contains(got, oiSection) {
		t.Fatalf("before pressure /price should carry the OI section:\n%s", got)
	}

	// A tenth of what the runtime holds now: far above any hysteresis band.
	s := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	rtmetrics.Read(s)
	squeezed := int64(s[0].Value.Uint64()-s[1].Value.Uint64()) / 10
	prev := debug.SetMemoryLimit(squeezed)
	var restoreOnce sync.Once
	restore := func() { restoreOnce.Do(func() { debug.SetMemoryLimit(prev) }) }
	t.Cleanup(restore)

	b.waitValue("cryptobot_memory_shedding", 1)
	got := b.ask(401, "/price eth")
	if !strings.Contains(got, "<b>ETH-USDT</b> · ") {
		t.Errorf("core /price not answered while shedding:\n%s", got)
	}
	if strings.Contains(got, oiSection) {
		t.Errorf("/price kept the OI section while shedding:\n%s", got)
	}
	if got := b.ask(402, "/oi btc"); !strings.Contains(got, paused) {
		t.Errorf("/oi while shedding: %q, want the paused note", got)
	}

	restore()
	b.waitValue("cryptobot_memory_shedding", 0)
	if got := b.ask(403, "/oi btc"); !strings.Contains(got, oiAnswer) {
		t.Errorf("/oi after the pressure passed: %q", got)
	}
	if got := b.ask(404, "/price btc"); !strings.Contains(got, oiSection) {
		t.Errorf("/price after the pressure passed lacks the OI section:\n%s", got)
	}
}

func TestChaosShutdownDuringLoad(t *testing.T) {
	b := startBot(t, "webhook", "CRYPTOBOT_WORKERS=2", "CRYPTOBOT_CACHE__TTL=1ms", "CRYPTOBOT_CACHE__STALE_LIMIT=1ms")
	b.waitWarm()
	b.venues.Binance.Delay(50 * time.Millisecond)

	var (
		mu       sync.Mutex
		accepted = map[int64]int{}
	)
	streaming := make(chan error, 1)
	thirty := make(chan struct{}) // closed once 30 updates are accepted
	go func() {
		// Stream until intake closes: a 503 (draining) or a refused connection.
		for i := int64(0); ; i++ {
			res, err := postRaw(context.Background(), b.addr, b.secret, update(1+i, 6000+i, "/price btc"))
			if err != nil || res.status != http.StatusOK {
				streaming <- nil
				return
			}
			mu.Lock()
			accepted[6000+i] = 1
			mu.Unlock()
			if i == 29 {
				close(thirty)
			}
			if i > 5000 {
				streaming <- fmt.Errorf("intake still open after %d updates", i)
				return
			}
		}
	}()
	select {
	case <-thirty:
	case err := <-streaming:
		t.Fatalf("intake closed before 30 updates were accepted: %v", err)
	case <-time.After(waitFor):
		t.Fatalf("30 updates not accepted within %s", waitFor)
	}
	b.cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case code := <-b.done:
		b.done <- code // for the harness cleanup
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
	case <-time.After(waitFor + replyDeadline):
		t.Fatal("no exit after SIGTERM")
	}
	if err := <-streaming; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	got := b.repliesByChat()
	checkOnce(t, got, accepted)
	for chat := range accepted {
		for _, r := range got[chat] {
			if !strings.Contains(r, quoteBTC) {
				t.Errorf("chat %d: reply %q", chat, r)
			}
		}
	}
}

func TestChaosHandlerPanic(t *testing.T) {
	b := startBot(t, "polling")
	got := b.ask(500, "/boom")
	if !strings.Contains(got, apology) {
		t.Errorf("/boom reply %q, want the apology", got)
	}
	if strings.Contains(got, chaosPanicText) {
		t.Errorf("the panic value reached the chat: %q", got)
	}
	if n := b.value("cryptobot_handler_panics_total"); n != 1 {
		t.Errorf("handler_panics_total %v, want 1", n)
	}
	if got := b.ask(501, "/price btc"); !strings.Contains(got, quoteBTC) {
		t.Errorf("/price after a panic: %q", got)
	}
}
