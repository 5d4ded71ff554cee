package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadLayers(t *testing.T) {
	p := write(t, `
env: staging
workers: 4
reply_timeout: 3s
telegram:
  token: from-file
  mode: webhook
  webhook:
    url: https://bot.example.com/webhook
    secret: s3cr3t_-X
exchanges:
  order: [okx, bybit]
admin:
  chat_ids: [42, -100123]
`)
	c, err := Load(p, true, []string{
		"CRYPTOBOT_TELEGRAM__API_URL=http://127.0.0.1:9/",
		"CRYPTOBOT_WORKERS=16",
		"CRYPTOBOT_EXCHANGES__ORDER=bybit,binance",
		"TELEGRAM_BOT_TOKEN=from-env",
		"UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Env != "staging" || c.Workers != 16 || c.ReplyTimeout != 3*time.Second {
		t.Errorf("env/workers/timeout = %q %d %s", c.Env, c.Workers, c.ReplyTimeout)
	}
	if c.Telegram.APIURL != "http://127.0.0.1:9/" {
		t.Errorf("api_url = %q", c.Telegram.APIURL)
	}
	if c.Telegram.Token != "from-env" {
		t.Errorf("token = %q, want TELEGRAM_BOT_TOKEN to override the file", c.Telegram.Token)
	}
	if got := c.Exchanges.Order; len(got) != 2 || got[0] != "bybit" || got[1] != "binance" {
		t.Errorf("order = %v", got)
	}
	if got := c.Admin.ChatIDs; len(got) != 2 || got[1] != -100123 {
		t.Errorf("admin ids = %v", got)
	}
	if c.Telegram.Webhook.Path != "/webhook" || c.Cache.TTL != 2*time.Second || c.Flags.Dir != "flags" {
		t.Errorf("defaults lost: path %q ttl %s dir %q", c.Telegram.Webhook.Path, c.Cache.TTL, c.Flags.Dir)
	}
}

func TestMetricsListenFollowsHTTPListen(t *testing.T) {
	c, err := Load("", false, []string{"CRYPTOBOT_HTTP__LISTEN=0.0.0.0:9000"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics.Listen != "0.0.0.0:9000" {
		t.Errorf("metrics.listen = %q, want it to follow http.listen", c.Metrics.Listen)
	}
	c, _ = Load("", false, []string{"CRYPTOBOT_HTTP__LISTEN=0.0.0.0:9000", "CRYPTOBOT_METRICS__LISTEN=127.0.0.1:9100"})
	if c.Metrics.Listen != "127.0.0.1:9100" {
		t.Errorf("explicit metrics.listen = %q", c.Metrics.Listen)
	}
}

func TestAdminIDsFromEnv(t *testing.T) {
	c, err := Load("", false, []string{"CRYPTOBOT_ADMIN__CHAT_IDS=1,-2", "CRYPTOBOT_TELEGRAM__MODE=console"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Admin.ChatIDs; len(got) != 2 || got[0] != 1 || got[1] != -2 {
		t.Errorf("admin ids = %v", got)
	}
}

func TestMissingOptionalFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml"), false, nil); err != nil {
		t.Fatalf("optional missing file: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml"), true, nil); err == nil {
		t.Fatal("required missing file: no error")
	}
}

func TestValidateNamesKey(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		env       []string
	}{
		{"unknown mode", "telegram.mode", []string{"CRYPTOBOT_TELEGRAM__MODE=carrier-pigeon"}},
		{"no token", "telegram.token", nil},
		{"webhook without url", "telegram.webhook.url", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_TELEGRAM__MODE=webhook", "CRYPTOBOT_TELEGRAM__WEBHOOK__SECRET=abc"}},
		{"webhook without secret", "telegram.webhook.secret", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_TELEGRAM__MODE=webhook", "CRYPTOBOT_TELEGRAM__WEBHOOK__URL=https://x.example/webhook"}},
		{"secret charset", "telegram.webhook.secret", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_TELEGRAM__MODE=webhook", "CRYPTOBOT_TELEGRAM__WEBHOOK__URL=https://x.example/webhook", "CRYPTOBOT_TELEGRAM__WEBHOOK__SECRET=no spaces!"}},
		{"malformed api url", "telegram.api_url", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_TELEGRAM__API_URL=::nope"}},
		{"exchange url", "exchanges.okx.url", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_EXCHANGES__OKX__URL=ftp://x"}},
		{"unknown exchange", "exchanges.order", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_EXCHANGES__ORDER=binance,kraken"}},
		{"zero workers", "workers", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_WORKERS=0"}},
		{"memory", "memory.limit", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_MEMORY__LIMIT=lots"}},
		{"env", "env", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_ENV=prod"}},
		{"sections wait past the reply", "price.sections_wait", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_PRICE__SECTIONS_WAIT=6s"}},
		{"no sections wait", "price.sections_wait", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_PRICE__SECTIONS_WAIT=0s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("", false, tc.env)
			if err == nil {
				err = c.Validate()
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Fatalf("err = %v, want a problem with %s", err, tc.key)
			}
		})
	}
}

func TestMalformedDuration(t *testing.T) {
	_, err := Load("", false, []string{"CRYPTOBOT_REPLY_TIMEOUT=soon"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "reply_timeout" {
		t.Fatalf("err = %v, want reply_timeout named", err)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{"": 0, "0": 0, "1024": 1024, "128MiB": 128 << 20, "1GB": 1e9, "1.5 KiB": 1536} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseBytes("-1MiB"); err == nil {
		t.Error("negative size accepted")
	}
}

func TestDecodeModule(t *testing.T) {
	p := write(t, `
modules:
  enhanced:
    analysis:
      candles: 200
      interval: 4h
    broken: 7
`)
	c, err := Load(p, true, []string{"CRYPTOBOT_MODULES__ENHANCED__ANALYSIS__CANDLES=250"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Candles  int           `koanf:"candles"`
		Interval time.Duration `koanf:"interval"`
	}
	if err := c.DecodeModule("enhanced.analysis", &got); err != nil {
		t.Fatal(err)
	}
	if got.Candles != 250 || got.Interval != 4*time.Hour {
		t.Errorf("decoded %+v, want the environment's 250 candles and the file's 4h", got)
	}
	untouched := struct{ N int }{N: 3}
	if err := c.DecodeModule("core.price", &untouched); err != nil || untouched.N != 3 {
		t.Errorf("a module without settings: %+v, %v", untouched, err)
	}
	var ce *Error
	if err := c.DecodeModule("enhanced.broken", &got); !errors.As(err, &ce) || ce.Key != "modules.enhanced.broken" {
		t.Errorf("settings that are not a map: %v", err)
	}
	bad := struct {
		Candles int `koanf:"candles"`
	}{}
	c2, _ := Load(p, true, []string{"CRYPTOBOT_MODULES__ENHANCED__ANALYSIS__CANDLES=many"})
	if err := c2.DecodeModule("enhanced.analysis", &bad); !errors.As(err, &ce) || ce.Key != "modules.enhanced.analysis" {
		t.Errorf("a bad value: %v", err)
	}
}

func TestRatePerGroupPerSecond(t *testing.T) {
	c, err := Load("", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Price.SectionsWait != 250*time.Millisecond {
		t.Errorf("price.sections_wait defaults to %s, want 250ms", c.Price.SectionsWait)
	}
	if got := c.Telegram.Rate.PerGroupPerSecond(); got != 20.0/60 {
		t.Errorf("per group = %v messages/s, want 20 a minute", got)
	}
}

func TestStaleLimit(t *testing.T) {
	c, err := Load("", false, []string{"TELEGRAM_BOT_TOKEN=1:a"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Cache.StaleLimit != 15*time.Second {
		t.Errorf("cache.stale_limit defaults to %s, want 15s", c.Cache.StaleLimit)
	}
	c.Cache.StaleLimit = -time.Second
	var ce *Error
	if err := c.Validate(); !errors.As(err, &ce) || ce.Key != "cache.stale_limit" {
		t.Errorf("negative stale limit: %v", err)
	}
}

func TestStoreURLByMode(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"default", []string{"TELEGRAM_BOT_TOKEN=1:a"}, DefaultStoreURL},
		{"console writes nothing", []string{"CRYPTOBOT_TELEGRAM__MODE=console"}, ConsoleStoreURL},
		{"explicit in console", []string{"CRYPTOBOT_TELEGRAM__MODE=console", "CRYPTOBOT_STORE__URL=sqlite:/tmp/x.db"}, "sqlite:/tmp/x.db"},
		{"postgres", []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_STORE__URL=postgres://bot:pw@db:5432/bot"}, "postgres://bot:pw@db:5432/bot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("", false, tc.env)
			if err == nil {
				err = c.Validate()
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.StoreURL(); got != tc.want {
				t.Errorf("StoreURL() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStateDefaults(t *testing.T) {
	c, err := Load("", false, []string{"TELEGRAM_BOT_TOKEN=1:a"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Journal.MaxAge != 10*time.Minute || c.Journal.Retention != 24*time.Hour || c.Journal.Sync != "normal" || c.ShutdownTimeout != 10*time.Second {
		t.Errorf("journal %+v, shutdown_timeout %s", c.Journal, c.ShutdownTimeout)
	}
	if c.Flags.MaxFileBytes != 1<<20 || c.Flags.MaxFlags != 1000 {
		t.Errorf("flag caps %d bytes, %d flags", c.Flags.MaxFileBytes, c.Flags.MaxFlags)
	}
	if c.Cache.RefreshLead != 500*time.Millisecond || c.Cache.HotWindow != time.Minute {
		t.Errorf("cache refresh lead %s, hot window %s", c.Cache.RefreshLead, c.Cache.HotWindow)
	}
	if r := c.Replicas; r.Lease != 15*time.Second || r.Heartbeat != 5*time.Second || r.ID != DefaultReplicaID() {
		t.Errorf("replicas %+v", r)
	}
	c, err = Load("", false, []string{"TELEGRAM_BOT_TOKEN=1:a", "CRYPTOBOT_REPLICAS__ID=bot-a"})
	if err != nil || c.Replicas.ID != "bot-a" {
		t.Errorf("replicas.id from the environment: %q, %v", c.Replicas.ID, err)
	}
}

func TestValidateStateKeys(t *testing.T) {
	for _, tc := range []struct{ name, key, env string }{
		{"unknown scheme", "store.url", "CRYPTOBOT_STORE__URL=mysql://x"},
		{"sqlite without path", "store.url", "CRYPTOBOT_STORE__URL=sqlite:"},
		{"postgres without host", "store.url", "CRYPTOBOT_STORE__URL=postgres:///db"},
		{"zero max age", "journal.max_age", "CRYPTOBOT_JOURNAL__MAX_AGE=0s"},
		{"tiny retention", "journal.retention", "CRYPTOBOT_JOURNAL__RETENTION=1s"},
		{"unknown sync", "journal.sync", "CRYPTOBOT_JOURNAL__SYNC=fast"},
		{"zero shutdown", "shutdown_timeout", "CRYPTOBOT_SHUTDOWN_TIMEOUT=0s"},
		{"tiny flag file cap", "flags.max_file_bytes", "CRYPTOBOT_FLAGS__MAX_FILE_BYTES=10"},
		{"no flags allowed", "flags.max_flags", "CRYPTOBOT_FLAGS__MAX_FLAGS=0"},
		{"negative lead", "cache", "CRYPTOBOT_CACHE__REFRESH_LEAD=-1s"},
		{"zero lease", "replicas.lease", "CRYPTOBOT_REPLICAS__LEASE=0s"},
		{"heartbeat too slow", "replicas.heartbeat", "CRYPTOBOT_REPLICAS__HEARTBEAT=8s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("", false, []string{"TELEGRAM_BOT_TOKEN=1:a", tc.env})
			if err == nil {
				err = c.Validate()
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Fatalf("err = %v, want a problem with %s", err, tc.key)
			}
		})
	}
}
