package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

// webhookSecret is the secret the bot registers; the fake sends it back.
const webhookSecret = "loadgen_secret-1"

// moduleRoot walks up from dir to the directory holding go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run loadgen inside the repository or pass -bot and -flags", dir)
		}
	}
}

// buildBot compiles cmd/server into dir and returns the binary's path.
func buildBot(ctx context.Context, root, dir string, log *slog.Logger) (string, error) {
	bin := filepath.Join(dir, "cryptobot")
	log.Info("building the bot", "out", bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/server")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/server: %w\n%s", err, out)
	}
	return bin, nil
}

// limits are the bot's outbound Telegram limits.
type limits struct {
	Global   float64 `json:"global_per_s"`
	PerChat  float64 `json:"per_chat_per_s"`
	PerGroup float64 `json:"per_group_per_min"`
}

// Telegram's published limits, the bot's defaults.
var realLimits = limits{Global: 30, PerChat: 1, PerGroup: 20}

// raisedLimits keep the limiter out of the way of a throughput measurement.
var raisedLimits = limits{Global: 100000, PerChat: 1000, PerGroup: 60000}

// rigConfig is what a rig needs from the command line.
type rigConfig struct {
	bin             string
	flagsSrc        string
	mode            string
	enhanced        bool
	limits          limits
	exchangeLatency time.Duration
	extraEnv        []string
	readyTimeout    time.Duration
	stopTimeout     time.Duration
}

// rig is one measurement's world: the fake Bot API and venues in-process
// and the bot as a subprocess pointed at them.
type rig struct {
	tg      *telegramtest.Server
	venues  *markettest.Venues
	bot     *botProcess
	base    string // http://host:port of the bot
	hc      *http.Client
	tmp     string
	stopBot time.Duration
	log     *slog.Logger
	press   []pressTarget // messages the press category presses Refresh on, seeded once
}

// inlineAnswers is every answerInlineQuery the fake accepted so far.
func (r *rig) inlineAnswers() []telegramtest.InlineAnswer {
	as, _ := r.tg.WaitInline(context.Background(), 0) // 0: at once
	return as
}

// startRig starts the fakes and the bot and waits until /readyz answers 200.
// On error everything already started is stopped.
func startRig(ctx context.Context, cfg rigConfig, log *slog.Logger) (_ *rig, err error) {
	r := &rig{hc: &http.Client{Timeout: 10 * time.Second}, stopBot: cfg.stopTimeout, log: log}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.tmp, err = os.MkdirTemp("", "loadgen-"); err != nil {
		return nil, err
	}
	if r.tg, err = telegramtest.Start(telegramtest.Options{Log: log}); err != nil {
		return nil, err
	}
	book := markettest.DefaultBook()
	book.Now = time.Now // live timestamps, so data is fresh and candles close
	r.venues = markettest.StartBook(book)
	if cfg.exchangeLatency > 0 {
		r.venues.Binance.Delay(cfg.exchangeLatency)
		r.venues.Bybit.Delay(cfg.exchangeLatency)
		r.venues.OKX.Delay(cfg.exchangeLatency)
	}
	flagsDir := filepath.Join(r.tmp, "flags")
	if err := os.Mkdir(flagsDir, 0o755); err != nil {
		return nil, err
	}
	if err := writeFlags(cfg.flagsSrc, flagsDir, cfg.enhanced); err != nil {
		return nil, fmt.Errorf("flags: %w", err)
	}
	if err := validateFlags(flagsDir); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	r.base = "http://" + addr
	env := botEnv(os.Environ(), map[string]string{
		"TELEGRAM_BOT_TOKEN":                        r.tg.Token(),
		"CRYPTOBOT_TELEGRAM__API_URL":               r.tg.URL(),
		"CRYPTOBOT_TELEGRAM__MODE":                  cfg.mode,
		"CRYPTOBOT_TELEGRAM__WEBHOOK__URL":          r.base + "/webhook",
		"CRYPTOBOT_TELEGRAM__WEBHOOK__SECRET":       webhookSecret,
		"CRYPTOBOT_TELEGRAM__RATE__GLOBAL":          formatFloat(cfg.limits.Global),
		"CRYPTOBOT_TELEGRAM__RATE__PER_CHAT":        formatFloat(cfg.limits.PerChat),
		"CRYPTOBOT_TELEGRAM__RATE__PER_GROUP":       formatFloat(cfg.limits.PerGroup),
		"CRYPTOBOT_HTTP__LISTEN":                    addr,
		"CRYPTOBOT_METRICS__LISTEN":                 addr,
		"CRYPTOBOT_EXCHANGES__BINANCE__SPOT_URL":    r.venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BINANCE__FUTURES_URL": r.venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BYBIT__URL":           r.venues.Bybit.URL(),
		"CRYPTOBOT_EXCHANGES__OKX__URL":             r.venues.OKX.URL(),
		"CRYPTOBOT_FLAGS__DIR":                      flagsDir,
		"CRYPTOBOT_LOG_LEVEL":                       "warn",
	}, cfg.extraEnv)
	if r.bot, err = startBot(cfg.bin, r.tmp, env); err != nil {
		return nil, err
	}
	if err := r.waitReady(ctx, cfg.readyTimeout); err != nil {
		return nil, err
	}
	log.Info("bot ready", "pid", r.bot.pid, "mode", cfg.mode, "addr", addr)
	return r, nil
}

// botEnv is base without anything that would steer the bot (CRYPTOBOT_*,
// the token, the Go memory knobs), then set, then extra (KEY=VALUE, last
// wins), sorted for stable output.
func botEnv(base []string, set map[string]string, extra []string) []string {
	m := map[string]string{}
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CRYPTOBOT_") || k == "TELEGRAM_BOT_TOKEN" || k == "GOMEMLIMIT" || k == "GOGC" {
			continue
		}
		m[k] = v
	}
	for k, v := range set {
		m[k] = v
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// freeAddr finds a free 127.0.0.1 port for the bot.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls /readyz every 50 ms until it answers 200, the bot exits
// or timeout passes.
func (r *rig) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := "no answer"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := r.hc.Do(req); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s %s", resp.Status, strings.TrimSpace(string(body)))
		}
		select {
		case <-r.bot.done:
			return fmt.Errorf("bot exited before ready (%v); its log:\n%s", r.bot.waitErr, r.bot.tail.String())
		case <-ctx.Done():
			return fmt.Errorf("bot not ready within %s (last /readyz: %s); its log:\n%s", timeout, last, r.bot.tail.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// metrics scrapes the bot's /metrics.
func (r *rig) metrics(ctx context.Context) (metricSet, error) {
	return scrape(ctx, r.hc, r.base+"/metrics")
}

// Close stops the bot (SIGTERM, then SIGKILL), the fakes and removes the
// temp dir. It is safe on a partly started rig.
func (r *rig) Close() {
	if r.bot != nil {
		if err := r.bot.stop(r.stopBot); err != nil {
			r.log.Warn("stopping the bot", "err", err)
		}
	}
	if r.tg != nil {
		r.tg.Close()
	}
	if r.venues != nil {
		r.venues.Close()
	}
	if r.tmp != "" {
		os.RemoveAll(r.tmp)
	}
}

// botProcess is the bot subprocess.
type botProcess struct {
	cmd     *exec.Cmd
	pid     int
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done
	tail    *tailBuffer
	once    sync.Once
	stopErr error
}

func startBot(bin, dir string, env []string) (*botProcess, error) {
	b := &botProcess{done: make(chan struct{}), tail: &tailBuffer{max: 64 << 10}}
	b.cmd = exec.Command(bin)
	b.cmd.Dir = dir
	b.cmd.Env = env
	b.cmd.Stdout = b.tail
	b.cmd.Stderr = b.tail
	b.cmd.SysProcAttr = sysProcAttr()
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bot: %w", err)
	}
	b.pid = b.cmd.Process.Pid
	go func() {
		b.waitErr = b.cmd.Wait()
		close(b.done)
	}()
	return b, nil
}

// stop sends SIGTERM and waits up to timeout for the bot to exit, then
// kills it. An exit other than 0 after SIGTERM is reported.
func (b *botProcess) stop(timeout time.Duration) error {
	b.once.Do(func() {
		select {
		case <-b.done:
			b.stopErr = fmt.Errorf("bot had already exited: %v", b.waitErr)
			return
		default:
		}
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
			if b.waitErr != nil {
				b.stopErr = fmt.Errorf("bot exit after SIGTERM: %w", b.waitErr)
			}
		case <-time.After(timeout):
			_ = b.cmd.Process.Kill()
			<-b.done
			b.stopErr = fmt.Errorf("bot did not stop within %s of SIGTERM; killed", timeout)
		}
	})
	return b.stopErr
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
