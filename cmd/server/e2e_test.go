package main

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

func TestCoreCommandsBothModes(t *testing.T) {
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			b := startBot(t, mode)
			if mode == "webhook" {
				url, secret := b.tg.Webhook()
				if url != "http://"+b.addr+"/webhook" || secret != b.secret {
					t.Fatalf("webhook registered as %q with secret %q", url, secret)
				}
			} else {
				eventually(t, "a long poll waiting at the fake", b.tg.Polling)
			}
			if got := b.ask(10, "/start"); !strings.Contains(got, "/price") {
				t.Errorf("/start: %q", got)
			}
			got := b.ask(11, "/price BTC-USDT")
			for _, want := range []string{"<b>BTC-USDT</b> · Binance", "97,123.40", "▲ +2.23%"} {
				if !strings.Contains(got, want) {
					t.Errorf("/price lacks %q:\n%s", want, got)
				}
			}
			if got := b.ask(12, "/price@CryptoTestBot eth"); !strings.Contains(got, "ETH-USDT") {
				t.Errorf("/price@bot: %q", got)
			}
			if got := b.ask(13, "hello"); !strings.Contains(got, "/help") {
				t.Errorf("plain text: %q", got)
			}
			if got := b.ask(14, "/lambo"); !strings.Contains(got, "Unknown command") {
				t.Errorf("unknown command: %q", got)
			}
		})
	}
}

func TestFailoverToSecondVenue(t *testing.T) {
	b := startBot(t, "polling")
	b.waitWarm() // a venue whose list is not loaded yet is not a failover candidate
	b.venues.Binance.Fail(http.StatusInternalServerError, 1000)
	got := b.ask(20, "/price btc")
	if !strings.Contains(got, "BTC-USDT</b> · Bybit") {
		t.Errorf("expected the Bybit quote after Binance failed:\n%s", got)
	}
	if m := b.metric(`cryptobot_exchange_failovers_total{from="binance",to="bybit"}`); m == "" {
		t.Error("failover not counted")
	}
}

func TestAllVenuesDown(t *testing.T) {
	b := startBot(t, "polling")
	for _, v := range []interface{ Fail(int, int) }{b.venues.Binance, b.venues.Bybit, b.venues.OKX} {
		v.Fail(http.StatusBadGateway, 1000)
	}
	got := b.ask(21, "/price sol")
	if !strings.Contains(got, "unavailable") {
		t.Errorf("reply %q", got)
	}
	b.noLateReplies()
}

func TestUnknownPairSuggests(t *testing.T) {
	b := startBot(t, "polling")
	got := b.ask(22, "/price btcc")
	if !strings.Contains(got, "Unknown pair") || !strings.Contains(got, "BTC-USDT") {
		t.Errorf("reply %q", got)
	}
}

func TestWebhookIntake(t *testing.T) {
	b := startBot(t, "webhook")
	t.Run("wrong secret", func(t *testing.T) {
		for _, secret := range []string{"", "nope", b.secret + "x"} {
			if resp := b.post(update(500, 30, "/start"), secret); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("secret %q: %d, want 401", secret, resp.StatusCode)
			}
		}
		// A 401 is answered before the queue; the chat's next real update
		// then gets the only reply.
		if resp := b.post(update(503, 30, "/start"), b.secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("authorized update: %d", resp.StatusCode)
		}
		b.waitReply(30, 0)
		b.waitSettled()
		if n := len(b.sentTo(30)); n != 1 {
			t.Errorf("chat answered %d times, want once: unauthorized updates were answered", n)
		}
	})
	t.Run("oversize", func(t *testing.T) {
		big := update(501, 31, "/price "+strings.Repeat("x", 2<<20))
		if resp := b.post(big, b.secret); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%d, want 413", resp.StatusCode)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, body := range []string{`{"update_id":`, `[]`, `{"message":{}}`} {
			if resp := b.post([]byte(body), b.secret); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%q: %d, want 400", body, resp.StatusCode)
			}
		}
	})
	t.Run("duplicate answered once", func(t *testing.T) {
		u := update(502, 32, "/start")
		for range 3 {
			if resp := b.post(u, b.secret); resp.StatusCode != http.StatusOK {
				t.Fatalf("%d, want 200", resp.StatusCode)
			}
		}
		b.waitReply(32, 0)
		b.waitSettled()
		if n := len(b.sentTo(32)); n != 1 {
			t.Errorf("duplicate update answered %d times", n)
		}
	})
	if m := b.metric(`cryptobot_updates_received_total{outcome="unauthorized",source="webhook"}`); !strings.HasSuffix(m, " 3") {
		t.Errorf("unauthorized count: %q", m)
	}
}

func TestTelegram429StillDelivers(t *testing.T) {
	b := startBot(t, "polling")
	b.tg.FailNext("sendMessage", http.StatusTooManyRequests, 1, time.Second)
	got := b.ask(40, "/price eth")
	if !strings.Contains(got, "ETH-USDT") {
		t.Errorf("reply after 429: %q", got)
	}
	if m := b.metric("cryptobot_telegram_rate_limited_total "); m != "cryptobot_telegram_rate_limited_total 1" {
		t.Errorf("429 not counted: %q", m)
	}
}

func TestShutdownAnswersEveryAcceptedUpdate(t *testing.T) {
	b := startBot(t, "webhook", "CRYPTOBOT_WORKERS=2")
	// Slow venues keep updates queued when the signal arrives.
	b.venues.Binance.Delay(150 * time.Millisecond)
	const n = 50
	for i := range n {
		if resp := b.post(update(int64(1000+i), int64(5000+i), "/price btc"), b.secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("update %d: %d", i, resp.StatusCode)
		}
	}
	b.cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case code := <-b.done:
		b.done <- code // for the cleanup
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20 s")
	}
	answered := map[int64]bool{}
	for _, m := range b.tg.Sent() {
		if m.ChatID >= 5000 && strings.Contains(m.Text, "BTC-USDT") {
			answered[m.ChatID] = true
		}
	}
	if len(answered) != n {
		t.Errorf("%d of %d accepted updates answered after SIGTERM", len(answered), n)
	}
}

func TestReadyzAndHealthz(t *testing.T) {
	b := startBot(t, "polling")
	// /health is an alias of /healthz for checks written for the bot this replaces.
	for path, want := range map[string]string{"/healthz": `"alive"`, "/health": `"alive"`, "/readyz": `"ready"`} {
		resp, err := http.Get("http://" + b.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(buf.String(), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, buf.String())
		}
	}
	if got := b.metric(`cryptobot_http_requests_total{code="200",route="/health"}`); got != `cryptobot_http_requests_total{code="200",route="/health"} 1` {
		t.Errorf("/health counted as %q, want its own route", got)
	}
}

func TestTokenNeverLogged(t *testing.T) {
	b := startBot(t, "polling")
	b.tg.FailNext("sendMessage", http.StatusInternalServerError, 50, 0)
	b.tg.SendText(60, 60, "private", "/start")
	b.waitValue(`cryptobot_replies_total{outcome="failed"}`, 1) // the 5xx path ran, and logged
	// Network errors from here on carry the request URL; the test must see one.
	b.tg.Close()
	eventually(t, "a network error logged", func() bool {
		return b.value(`cryptobot_telegram_requests_total{method="getUpdates",status="error"}`) > 0 &&
			strings.Contains(b.stderr.String(), "<redacted>")
	})
	if log := b.stderr.String(); strings.Contains(log, b.tg.Token()) || strings.Contains(log, strings.SplitN(b.tg.Token(), ":", 2)[1]) {
		t.Fatalf("token in the log:\n%s", log)
	}
	if m := b.metric(""); strings.Contains(m, b.tg.Token()) {
		t.Fatal("token in metrics")
	}
}

func TestConfigErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"CRYPTOBOT_TELEGRAM__MODE=webhook", "TELEGRAM_BOT_TOKEN=1:x"}, "telegram.webhook.url"},
		{[]string{"CRYPTOBOT_TELEGRAM__MODE=fax"}, "telegram.mode"},
		{[]string{"TELEGRAM_BOT_TOKEN=1:x", "CRYPTOBOT_REPLY_TIMEOUT=5 parsecs"}, "reply_timeout"},
	} {
		var stderr syncBuffer
		code := run(t.Context(), testModules(), nil, tc.env, strings.NewReader(""), &bytes.Buffer{}, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming %s", tc.env, code, stderr.String(), tc.want)
		}
	}
}

func TestConsoleMode(t *testing.T) {
	b, _ := newRig(t, telegramtest.Options{}) // only for its fake venues
	// Without store.url, console mode keeps its store in memory.
	env := slices.DeleteFunc(b.environ("console"), func(kv string) bool { return strings.HasPrefix(kv, "CRYPTOBOT_STORE__") })
	in := strings.NewReader("/price btc\n/help\n/status\n\n/price zzzzz\n")
	var out, stderr syncBuffer
	code := run(t.Context(), testModules(), []string{"-console"}, env, in, &out, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := out.String()
	for _, want := range []string{"BTC-USDT · Binance", "97,123.40", "/price SYMBOL", "module core.price", "Unknown pair ZZZZZ", "sqlite :memory:", "0 unanswered"} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<b>") {
		t.Errorf("console printed HTML tags:\n%s", got)
	}
	fmt.Fprint(&stderr) // keep the buffer used for failure output
}

// A token Telegram refuses will never work: the bot says so and exits 2
// instead of retrying forever.
func TestRefusedTokenExits2(t *testing.T) {
	tg := telegramtest.New(telegramtest.Options{})
	defer tg.Close()
	var stderr syncBuffer
	addr, ln := listen(t)
	code := run(t.Context(), testModules(), nil, []string{
		"TELEGRAM_BOT_TOKEN=123:not-the-token",
		"CRYPTOBOT_TELEGRAM__API_URL=" + tg.URL(),
		"CRYPTOBOT_HTTP__LISTEN=" + addr,
		"CRYPTOBOT_FLAGS__DIR=../../flags",
		"CRYPTOBOT_MEMORY__LIMIT=512MiB",
		"CRYPTOBOT_EXCHANGES__BINANCE__SPOT_URL=http://127.0.0.1:1",
		"CRYPTOBOT_STORE__URL=sqlite::memory:",
	}, strings.NewReader(""), &bytes.Buffer{}, &stderr, ln)
	if code != 2 || !strings.Contains(stderr.String(), "refused the token") {
		t.Fatalf("exit %d, log:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "not-the-token") {
		t.Error("the token is in the log")
	}
}
