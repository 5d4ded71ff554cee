package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
	"github.com/cryptobot-dev/cryptobot/internal/testkit"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// bot is the real run() started against the fake Bot API and fake venues.
type bot struct {
	t        *testing.T
	tg       *telegramtest.Server
	venues   *markettest.Venues
	addr     string // http.listen
	flagsDir string
	secret   string
	cancel   context.CancelFunc
	done     chan int
	stderr   *syncBuffer
}

type syncBuffer = testkit.SyncBuffer

// listen binds a free port and returns its address with the option that hands
// the listener to run, so the port is never released and re-bound.
func listen(t *testing.T) (string, option) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() }) // in case run never serves it
	return ln.Addr().String(), withListener(ln.Addr().String(), ln)
}

// testModules are the compiled-in modules plus the test-only /boom.
func testModules() []modules.Info { return append(modules.Registered(), chaosPanicModule) }

// copyFlags copies the shipped flag files so a test can edit them.
func copyFlags(t *testing.T) string {
	t.Helper()
	return testkit.CopyFlags(t, "../../flags")
}

// startBot runs the bot in mode with env on top of the fakes' addresses. It
// waits until /readyz is 200 unless the env makes that impossible.
func startBot(t *testing.T, mode string, env ...string) *bot {
	t.Helper()
	b, ln := newRig(t, telegramtest.Options{})
	environ := append(b.environ(mode), env...)
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() {
		b.done <- run(ctx, testModules(), nil, environ, strings.NewReader(""), io.Discard, b.stderr, ln)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-b.done:
		case <-time.After(20 * time.Second):
			t.Error("bot did not stop within 20 s")
		}
		if t.Failed() {
			t.Logf("bot log:\n%s", b.stderr.String())
		}
	})
	b.waitReady()
	return b
}

// newRig starts the fake Bot API (with tgOpts) and the fake venues, and binds
// the bot's port; the bot is not started.
func newRig(t *testing.T, tgOpts telegramtest.Options) (*bot, option) {
	t.Helper()
	tg := telegramtest.New(tgOpts)
	t.Cleanup(tg.Close)
	book := markettest.DefaultBook()
	book.Now = time.Now
	venues := markettest.StartBook(book)
	t.Cleanup(venues.Close)
	addr, ln := listen(t)
	return &bot{t: t, tg: tg, venues: venues, addr: addr, flagsDir: copyFlags(t), secret: "test_secret-123", done: make(chan int, 1), stderr: &syncBuffer{}}, ln
}

// environ is the bot's environment in mode against the rig's fakes.
func (b *bot) environ(mode string) []string {
	return []string{
		"TELEGRAM_BOT_TOKEN=" + b.tg.Token(),
		"CRYPTOBOT_TELEGRAM__API_URL=" + b.tg.URL(),
		"CRYPTOBOT_TELEGRAM__MODE=" + mode,
		"CRYPTOBOT_TELEGRAM__WEBHOOK__URL=http://" + b.addr + "/webhook",
		"CRYPTOBOT_TELEGRAM__WEBHOOK__SECRET=" + b.secret,
		"CRYPTOBOT_TELEGRAM__RATE__GLOBAL=1000",
		"CRYPTOBOT_TELEGRAM__RATE__PER_CHAT=100",
		"CRYPTOBOT_HTTP__LISTEN=" + b.addr,
		"CRYPTOBOT_METRICS__LISTEN=" + b.addr,
		"CRYPTOBOT_EXCHANGES__BINANCE__SPOT_URL=" + b.venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BINANCE__FUTURES_URL=" + b.venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BYBIT__URL=" + b.venues.Bybit.URL(),
		"CRYPTOBOT_EXCHANGES__OKX__URL=" + b.venues.OKX.URL(),
		"CRYPTOBOT_FLAGS__DIR=" + b.flagsDir,
		"CRYPTOBOT_MEMORY__LIMIT=512MiB",
		"CRYPTOBOT_ADMIN__CHAT_IDS=999",
		"CRYPTOBOT_LOG_LEVEL=debug",
		"CRYPTOBOT_STORE__URL=sqlite::memory:",
		// On Postgres a killed bot's claims on what it accepted run out
		// after the lease: short, so the tests wait little.
		"CRYPTOBOT_REPLICAS__LEASE=2s",
		"CRYPTOBOT_REPLICAS__HEARTBEAT=500ms",
	}
}

func (b *bot) waitReady() {
	b.t.Helper()
	eventually(b.t, "/readyz 200", func() bool {
		select {
		case code := <-b.done:
			b.t.Fatalf("bot exited with %d before ready:\n%s", code, b.stderr.String())
		default:
		}
		res, err := httpGet("http://" + b.addr + "/readyz")
		return err == nil && res.code == http.StatusOK
	})
}

// eventually waits for cond, checking every few milliseconds. waitFor is
// only how long it gives up after, never a speed target: the events tests
// wait on are the bot's own counters and the fakes' records.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, what, waitFor, 5*time.Millisecond, cond)
}

// waitSettled waits until the pipeline is idle: every accepted update has
// its reply counted (sent, late or failed) and no worker or queue holds
// one. A duplicate or a late second reply would need another accepted update,
// so checking reply counts after this is not a bet on timing.
func (b *bot) waitSettled() {
	b.t.Helper()
	eventually(b.t, "every accepted update answered or counted failed", func() bool {
		accepted := b.total(`cryptobot_updates_received_total{outcome="accepted"`)
		return b.total("cryptobot_replies_total{") == accepted &&
			b.total("cryptobot_queue_depth ") == 0 && b.total("cryptobot_workers_busy ") == 0
	})
}

// noLateReplies fails if the bot counted a reply late once it has settled:
// the bot times its own replies against the deadline from intake, so tests
// need no clock of their own.
func (b *bot) noLateReplies() {
	b.t.Helper()
	b.waitSettled()
	if late := b.value(`cryptobot_replies_total{outcome="late"}`); late != 0 {
		b.t.Errorf("%v replies late", late)
	}
}

// total sums the values of the exposed series whose line starts with prefix.
func (b *bot) total(prefix string) float64 {
	b.t.Helper()
	sum := 0.0
	for _, l := range strings.Split(b.metric(prefix), "\n") {
		if l == "" {
			continue
		}
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err != nil {
			b.t.Fatalf("series %q: %v", l, err)
		}
		sum += v
	}
	return sum
}

// ask sends text from chat and returns the first reply to that chat.
func (b *bot) ask(chat int64, text string) string {
	b.t.Helper()
	before := len(b.sentTo(chat))
	b.tg.SendText(chat, chat, "private", text)
	return b.waitReply(chat, before)
}

func (b *bot) sentTo(chat int64) []telegramtest.SentMessage {
	var out []telegramtest.SentMessage
	for _, m := range b.tg.Sent() {
		if m.ChatID == chat {
			out = append(out, m)
		}
	}
	return out
}

func (b *bot) waitReply(chat int64, before int) string {
	b.t.Helper()
	var got []telegramtest.SentMessage
	eventually(b.t, fmt.Sprintf("a reply to chat %d", chat), func() bool {
		got = b.sentTo(chat)
		return len(got) > before
	})
	return got[before].Text
}

// post sends a raw webhook request.
func (b *bot) post(body []byte, secret string) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.addr+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func update(id, chat int64, text string) []byte {
	return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,"first_name":"T"},"chat":{"id":%d,"type":"private"},"date":%d,"text":%q}}`,
		id, id, chat, chat, time.Now().Unix(), text)
}

// metric returns the exposition lines of /metrics that start with prefix.
func (b *bot) metric(prefix string) string {
	b.t.Helper()
	resp, err := http.Get("http://" + b.addr + "/metrics")
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func httpGet(url string) (httpResult, error) {
	resp, err := http.Get(url)
	if err != nil {
		return httpResult{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return httpResult{resp.StatusCode, string(body)}, nil
}

func newTestMetrics() *metrics.Metrics { return metrics.New("test", "test") }
