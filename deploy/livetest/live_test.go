// Package livetest proves the dashboards and alert rules against a real
// Prometheus scraping the real binary: it builds cmd/server, runs it against
// the fake Bot API and fake venues, drives traffic with errors, 429s, a
// failover, a flag flip and a rejected flag file, then runs every dashboard
// panel query and every alert expression through Prometheus' HTTP API.
package livetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cryptobot-dev/cryptobot/deploy/grafana"
	"github.com/cryptobot-dev/cryptobot/deploy/prometheus/promcheck"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
	"github.com/cryptobot-dev/cryptobot/internal/testkit"
)

const secret = "live_secret"

// start runs a command until the test ends, then stops it with SIGTERM.
func start(t *testing.T, name string, cmd *exec.Cmd) *bytes.Buffer {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", name, tail(out.String(), 4000))
		}
	})
	return &out
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	testkit.Eventually(t, what, d, 100*time.Millisecond, ok)
}

func copyFlags(t *testing.T) string {
	t.Helper()
	return testkit.CopyFlags(t, "../../flags")
}

func replace(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func TestDashboardsAndAlertsAgainstRealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary and Prometheus")
	}
	// The same major version as the deploy kit's image (3.x); .ci/run builds both.
	prom, promtool := promcheck.Tool(t, "prometheus"), promcheck.Tool(t, "promtool")
	dir := t.TempDir()

	bin := filepath.Join(dir, "cryptobot")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	tg := telegramtest.New(telegramtest.Options{})
	t.Cleanup(tg.Close)
	book := markettest.DefaultBook()
	book.Now = time.Now
	venues := markettest.StartBook(book)
	t.Cleanup(venues.Close)
	flagsDir := copyFlags(t)
	botAddr := testkit.FreeAddr(t)

	bot := exec.Command(bin)
	bot.Dir = dir // the default store, data/cryptobot.db, lives and dies with the test
	bot.Env = append(os.Environ(),
		"TELEGRAM_BOT_TOKEN="+tg.Token(),
		"CRYPTOBOT_TELEGRAM__API_URL="+tg.URL(),
		"CRYPTOBOT_TELEGRAM__MODE=webhook",
		"CRYPTOBOT_TELEGRAM__WEBHOOK__URL=http://"+botAddr+"/webhook",
		"CRYPTOBOT_TELEGRAM__WEBHOOK__SECRET="+secret,
		"CRYPTOBOT_TELEGRAM__RATE__PER_CHAT=50",
		"CRYPTOBOT_HTTP__LISTEN="+botAddr,
		"CRYPTOBOT_METRICS__LISTEN="+botAddr,
		"CRYPTOBOT_EXCHANGES__BINANCE__SPOT_URL="+venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BINANCE__FUTURES_URL="+venues.Binance.URL(),
		"CRYPTOBOT_EXCHANGES__BYBIT__URL="+venues.Bybit.URL(),
		"CRYPTOBOT_EXCHANGES__OKX__URL="+venues.OKX.URL(),
		"CRYPTOBOT_FLAGS__DIR="+flagsDir,
		"CRYPTOBOT_ENV=staging",
		"CRYPTOBOT_MEMORY__LIMIT=256MiB",
		"CRYPTOBOT_ADMIN__CHAT_IDS=1",
	)
	start(t, "cryptobot", bot)
	waitFor(t, 15*time.Second, "bot ready", func() bool {
		resp, err := http.Get("http://" + botAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// Prometheus scrapes every second and evaluates the real alert rules.
	alerts, err := filepath.Abs("../prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	promAddr := testkit.FreeAddr(t)
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: [%q]\nscrape_configs: [{job_name: cryptobot, static_configs: [{targets: [%q]}]}]\n", alerts, botAddr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", cfgPath).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	start(t, "prometheus", exec.Command(prom, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--log.level=warn"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	drive(ctx, t, tg, venues, botAddr, flagsDir)

	api := promAPI{base: "http://" + promAddr}
	waitFor(t, 30*time.Second, "Prometheus scraping the bot", func() bool {
		res, err := api.query(`up{job="cryptobot"} == 1`)
		return err == nil && len(res) > 0
	})

	t.Run("promtool check metrics", func(t *testing.T) {
		resp, err := http.Get("http://" + botAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})

	t.Run("every panel shows data", func(t *testing.T) {
		// A panel shows data when any of its targets returns a series; a
		// target Prometheus rejects is an error whatever the others do.
		panels := map[string][]grafana.Query{}
		var order []string
		for _, q := range grafana.Queries() {
			key := q.Dashboard + " / " + q.Panel
			if panels[key] == nil {
				order = append(order, key)
			}
			panels[key] = append(panels[key], q)
		}
		if len(order) < 20 {
			t.Fatalf("only %d panels", len(order))
		}
		pending := order
		deadline := time.Now().Add(45 * time.Second)
		for len(pending) > 0 && time.Now().Before(deadline) {
			var still []string
			for _, key := range pending {
				shown := false
				for _, q := range panels[key] {
					res, err := api.query(q.Expand("15s", "cryptobot"))
					var perr *promError
					if asPromError(err, &perr) {
						t.Errorf("%s / %s: query error: %v\n%s", key, q.RefID, err, q.Expr)
					}
					shown = shown || err == nil && len(res) > 0
				}
				if !shown {
					still = append(still, key)
				}
			}
			pending = still
			if len(pending) > 0 {
				time.Sleep(time.Second)
			}
		}
		for _, key := range pending {
			t.Errorf("panel %s shows no data; its queries:", key)
			for _, q := range panels[key] {
				t.Errorf("  %s: %s", q.RefID, q.Expr)
			}
		}
		t.Logf("%d of %d panels show data (%d queries)", len(order)-len(pending), len(order), len(grafana.Queries()))
	})

	t.Run("every alert expression evaluates", func(t *testing.T) {
		raw, err := os.ReadFile(alerts)
		if err != nil {
			t.Fatal(err)
		}
		var rules struct {
			Groups []struct {
				Rules []struct {
					Alert string `yaml:"alert"`
					Expr  string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(raw, &rules); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				n++
				if _, err := api.query(r.Expr); err != nil {
					t.Errorf("alert %s: %v", r.Alert, err)
				}
			}
		}
		if n < 10 {
			t.Errorf("only %d alert rules", n)
		}
		// The rules are loaded and healthy in the running Prometheus too.
		var body struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						Name, Health, LastError string
					}
				}
			}
		}
		if err := api.get("/api/v1/rules", &body); err != nil {
			t.Fatal(err)
		}
		loaded := 0
		for _, g := range body.Data.Groups {
			for _, r := range g.Rules {
				loaded++
				if r.Health == "err" {
					t.Errorf("rule %s unhealthy: %s", r.Name, r.LastError)
				}
			}
		}
		if loaded != n {
			t.Errorf("Prometheus loaded %d rules, alerts.yml has %d", loaded, n)
		}
	})
}

// drive sends the traffic every panel needs to show data, then keeps a
// trickle going (rates need two samples in the window) until ctx ends.
func drive(ctx context.Context, t *testing.T, tg *telegramtest.Server, venues *markettest.Venues, botAddr, flagsDir string) {
	t.Helper()
	post := func(body string, secretHeader string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+botAddr+"/webhook", strings.NewReader(body))
		if secretHeader != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secretHeader)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`{"update_id":1}`, "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	if code := post(`{"update_id":`, secret); code != http.StatusBadRequest {
		t.Fatalf("malformed: %d", code)
	}
	if code := post(`{"update_id":2,"message":{"text":"`+strings.Repeat("x", 2<<20)+`"}}`, secret); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize: %d", code)
	}

	tg.FailNext("sendMessage", http.StatusTooManyRequests, 1, time.Second)
	venues.Binance.Fail(http.StatusInternalServerError, 3)
	for i, text := range []string{"/price sol", "/start", "/help", "/price btc", "/oi btc", "/oi eth all", "/funding btc", "/analysis btc", "/price btcc", "/lambo", "/status", "hello"} {
		tg.SendText(int64(i+1), int64(i+1), "private", text)
	}
	// A flag flip, then a rejected file, then the good file back.
	oi := filepath.Join(flagsDir, "open-interest.yaml")
	good, err := os.ReadFile(oi)
	if err != nil {
		t.Fatal(err)
	}
	replace(t, oi, strings.Replace(string(good), `- - "0"`, `- - "0"`+"\n        - \"42\"", 1))
	time.Sleep(300 * time.Millisecond)
	replace(t, oi, "flags: {broken")
	time.Sleep(300 * time.Millisecond)
	replace(t, oi, string(good))

	if _, err := tg.WaitSent(ctx, 8); err != nil {
		t.Fatalf("bot answered fewer than 8 messages: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		cmds := []string{"/price btc", "/oi btc", "/funding eth", "/analysis sol", "/price pepe", "/nope"}
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				tg.SendText(int64(100+i%50), int64(100+i%50), "private", cmds[i%len(cmds)])
			}
		}
	})
	t.Cleanup(wg.Wait)
}

type promAPI struct{ base string }

// promError is a query Prometheus rejected (syntax or type error): never retried.
type promError struct{ msg string }

func (e *promError) Error() string { return e.msg }

func asPromError(err error, target **promError) bool {
	pe, ok := err.(*promError)
	if ok {
		*target = pe
	}
	return ok
}

func (p promAPI) query(expr string) ([]json.RawMessage, error) {
	resp, err := http.PostForm(p.base+"/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status, Error, ErrorType string
		Data                     struct {
			Result []json.RawMessage
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, &promError{body.ErrorType + ": " + body.Error}
	}
	return body.Data.Result, nil
}

func (p promAPI) get(path string, v any) error {
	resp, err := http.Get(p.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
