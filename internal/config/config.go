// Package config loads the bot's configuration with koanf: defaults, then an
// optional YAML file, then CRYPTOBOT_* environment variables (with __ for
// nesting) and TELEGRAM_BOT_TOKEN. Validate names the key of the first problem.
package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/cryptobot-dev/cryptobot/internal/telegram/webhooksecret"
)

// Modes of the Telegram transport.
const (
	ModePolling = "polling"
	ModeWebhook = "webhook"
	ModeConsole = "console"
)

// Config is the whole configuration. Keys are documented in README.md.
type Config struct {
	Env          string        `koanf:"env"`
	Workers      int           `koanf:"workers"`
	QueueSize    int           `koanf:"queue_size"`
	ReplyTimeout time.Duration `koanf:"reply_timeout"`
	LogLevel     string        `koanf:"log_level"`
	// ShutdownTimeout is how long SIGTERM drains accepted updates; what is
	// left stays in the journal for the next start.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`

	Telegram  Telegram  `koanf:"telegram"`
	HTTP      Listener  `koanf:"http"`
	Metrics   Listener  `koanf:"metrics"`
	Exchanges Exchanges `koanf:"exchanges"`
	Cache     Cache     `koanf:"cache"`
	Price     Price     `koanf:"price"`
	Flags     Flags     `koanf:"flags"`
	Memory    Memory    `koanf:"memory"`
	Admin     Admin     `koanf:"admin"`
	Store     Store     `koanf:"store"`
	Journal   Journal   `koanf:"journal"`
	Replicas  Replicas  `koanf:"replicas"`

	// Modules holds each module's own settings under its id, such as
	// modules.enhanced.analysis; a module reads them with DecodeModule.
	Modules map[string]any `koanf:"modules"`
}

// Telegram is telegram.*: the Bot API, the transport mode and the send limits.
type Telegram struct {
	Token   string  `koanf:"token"`
	APIURL  string  `koanf:"api_url"`
	Mode    string  `koanf:"mode"`
	Webhook Webhook `koanf:"webhook"`
	Rate    Rate    `koanf:"rate"`
}

// Webhook is telegram.webhook.*.
type Webhook struct {
	URL     string `koanf:"url"`
	Path    string `koanf:"path"`
	Secret  string `koanf:"secret"`
	MaxBody int64  `koanf:"max_body"`
}

// Rate is telegram.rate.*, in the units Telegram documents its limits in.
type Rate struct {
	Global   float64 `koanf:"global"`    // messages per second, all chats
	PerChat  float64 `koanf:"per_chat"`  // messages per second in one private chat
	PerGroup float64 `koanf:"per_group"` // messages per minute in one group
}

// PerGroupPerSecond is PerGroup in messages per second.
func (r Rate) PerGroupPerSecond() float64 { return r.PerGroup / 60 }

// Listener is http.* and metrics.*: one listen address.
type Listener struct {
	Listen string `koanf:"listen"`
}

// Exchanges is exchanges.*: failover order, timeout and each venue's base URLs.
type Exchanges struct {
	Order   []string      `koanf:"order"`
	Timeout time.Duration `koanf:"timeout"`
	Binance Binance       `koanf:"binance"`
	Bybit   Venue         `koanf:"bybit"`
	OKX     Venue         `koanf:"okx"`
}

// Binance has separate spot and USDⓈ-M futures hosts.
type Binance struct {
	SpotURL    string `koanf:"spot_url"`
	FuturesURL string `koanf:"futures_url"`
}

// Venue is an exchange with one base URL.
type Venue struct {
	URL string `koanf:"url"`
}

// Cache is cache.*.
type Cache struct {
	TTL time.Duration `koanf:"ttl"`
	// StaleLimit is the age up to which a value past its TTL is still served
	// while one background refresh runs; at most the TTL turns that off.
	StaleLimit time.Duration `koanf:"stale_limit"`
	// RefreshLead is how long before expiry a hot key is refreshed ahead.
	RefreshLead time.Duration `koanf:"refresh_lead"`
	// HotWindow: a key asked for within it counts as hot.
	HotWindow time.Duration `koanf:"hot_window"`
}

// Price is price.*: how /price composes its sections.
type Price struct {
	// SectionsWait is how long /price waits for its sections once the core
	// quote is ready; a section not ready by then is left out (and counted).
	SectionsWait time.Duration `koanf:"sections_wait"`
}

// Flags is flags.*: the directory and the caps applied before parsing.
type Flags struct {
	Dir          string `koanf:"dir"`
	MaxFileBytes int64  `koanf:"max_file_bytes"`
	MaxFlags     int    `koanf:"max_flags"`
}

// Store is store.*. URL is empty unless set by the file or the
// environment; StoreURL resolves the default, which depends on the mode.
type Store struct {
	URL string `koanf:"url"`
}

// Store URLs used when store.url is not set.
const (
	DefaultStoreURL = "sqlite:data/cryptobot.db"
	ConsoleStoreURL = "sqlite::memory:" // console mode writes nothing to disk
)

// Journal is journal.*: how long unanswered updates stay worth answering,
// how long answered ones are kept, and how hard SQLite syncs each intake
// commit (store.Sync: normal or full).
type Journal struct {
	MaxAge    time.Duration `koanf:"max_age"`
	Retention time.Duration `koanf:"retention"`
	Sync      string        `koanf:"sync"`
}

// Replicas is replicas.*: several processes on one Postgres store.url.
// With SQLite the process is the only replica and always leads.
type Replicas struct {
	// ID names this process among the replicas; default
	// "<hostname>-<pid>-<random>", new with every start.
	ID string `koanf:"id"`
	// Lease is the leader lease and the journal-claim lease: a replica that
	// dies is replaced as leader, and its accepted updates answered by
	// another, within it.
	Lease time.Duration `koanf:"lease"`
	// Heartbeat is how often a replica renews its row, claims and lease;
	// below Lease/2.
	Heartbeat time.Duration `koanf:"heartbeat"`
}

// DefaultReplicaID is "<hostname>-<pid>-<random>", the same for the life
// of the process and new with every start. The random part matters in
// containers, where the pid is always 1 and a restarted container keeps its
// hostname: a successor with its predecessor's id would renew the dead
// process's journal claims, and no replica would ever take them over.
func DefaultReplicaID() string { return processReplicaID }

var processReplicaID = func() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "cryptobot"
	}
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + rand.Text()[:6]
}()

// Memory is memory.*.
type Memory struct {
	Limit string `koanf:"limit"` // bytes or 256MiB; empty = from the cgroup limit
}

// Admin is admin.*.
type Admin struct {
	ChatIDs []int64 `koanf:"chat_ids"`
}

// Defaults are the values used when neither the file nor the environment sets
// a key. store.url has none here: StoreURL picks one by mode.
func Defaults() map[string]any {
	return map[string]any{
		"env":                           "production",
		"workers":                       32,
		"queue_size":                    1024,
		"reply_timeout":                 "5s",
		"log_level":                     "info",
		"telegram.api_url":              "https://api.telegram.org",
		"telegram.mode":                 ModePolling,
		"telegram.webhook.path":         "/webhook",
		"telegram.webhook.max_body":     1 << 20,
		"telegram.rate.global":          30.0,
		"telegram.rate.per_chat":        1.0,
		"telegram.rate.per_group":       20.0,
		"http.listen":                   "127.0.0.1:8080",
		"metrics.listen":                "", // empty: serve /metrics on http.listen
		"exchanges.order":               []string{"binance", "bybit", "okx"},
		"exchanges.timeout":             "3s",
		"exchanges.binance.spot_url":    "https://api.binance.com",
		"exchanges.binance.futures_url": "https://fapi.binance.com",
		"exchanges.bybit.url":           "https://api.bybit.com",
		"exchanges.okx.url":             "https://www.okx.com",
		"cache.ttl":                     "2s",
		"cache.stale_limit":             "15s",
		"cache.refresh_lead":            "500ms",
		"cache.hot_window":              "1m",
		"price.sections_wait":           "250ms",
		"flags.dir":                     "flags",
		"flags.max_file_bytes":          1 << 20,
		"flags.max_flags":               1000,
		"journal.max_age":               "10m",
		"journal.retention":             "24h",
		"journal.sync":                  "normal",
		"shutdown_timeout":              "10s",
		"replicas.id":                   DefaultReplicaID(),
		"replicas.lease":                "15s",
		"replicas.heartbeat":            "5s",
		"memory.limit":                  "",
		"admin.chat_ids":                []int64{},
	}
}

// Error is a configuration problem tied to one key.
type Error struct {
	Key, Problem string
}

func (e *Error) Error() string { return fmt.Sprintf("config %s: %s", e.Key, e.Problem) }

// Load reads defaults, then path (when non-empty; a missing file is an error
// only when required), then the environment given as KEY=VALUE pairs.
func Load(path string, required bool, environ []string) (Config, error) {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(Defaults(), "."), nil); err != nil {
		return Config{}, fmt.Errorf("load defaults: %w", err)
	}
	if path != "" {
		if _, err := os.Stat(path); err == nil || required {
			if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
				return Config{}, &Error{Key: "-config", Problem: err.Error()}
			}
		}
	}
	envMap := map[string]string{}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if ok {
			envMap[name] = val
		}
	}
	if err := k.Load(env.Provider(".", env.Opt{
		Prefix:      "CRYPTOBOT_",
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(key, v string) (string, any) {
			key = strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(key, "CRYPTOBOT_")), "__", ".")
			if key == "exchanges.order" || key == "admin.chat_ids" {
				return key, splitList(v)
			}
			return key, v
		},
	}), nil); err != nil {
		return Config{}, fmt.Errorf("load environment: %w", err)
	}
	if tok := envMap["TELEGRAM_BOT_TOKEN"]; tok != "" && envMap["CRYPTOBOT_TELEGRAM__TOKEN"] == "" {
		if err := k.Set("telegram.token", tok); err != nil {
			return Config{}, fmt.Errorf("set token: %w", err)
		}
	}
	var c Config
	if err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return Config{}, &Error{Key: keyOf(err), Problem: lastLine(err.Error())}
	}
	if c.Metrics.Listen == "" {
		c.Metrics.Listen = c.HTTP.Listen // one listener unless told otherwise
	}
	return c, nil
}

func splitList(v string) []string {
	var out []string
	for f := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}

// keyOf digs the offending key out of a mapstructure decode error.
var decodeKeyRE = regexp.MustCompile(`'([a-z_.\[\]0-9]+)'`)

func keyOf(err error) string {
	if m := decodeKeyRE.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return "config"
}

// lastLine keeps a decode error to one line: mapstructure lists its errors
// under a header, and the last line holds the reason.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if i := strings.Index(l, "' "); strings.HasPrefix(l, "'") && i > 0 {
		l = l[i+2:]
	}
	return l
}

// Validate returns the first problem as an *Error.
func (c *Config) Validate() error {
	if err := c.Telegram.validate(); err != nil {
		return err
	}
	if c.HTTP.Listen == "" {
		return bad("http.listen", "required")
	}
	if err := c.Exchanges.validate(); err != nil {
		return err
	}
	if c.Workers < 1 || c.Workers > 1024 {
		return bad("workers", "must be between 1 and 1024, got %d", c.Workers)
	}
	if c.QueueSize < 1 {
		return bad("queue_size", "must be positive")
	}
	if c.ReplyTimeout < 100*time.Millisecond || c.ReplyTimeout > time.Minute {
		return bad("reply_timeout", "must be between 100ms and 1m, got %s", c.ReplyTimeout)
	}
	if c.Cache.TTL < 0 {
		return bad("cache.ttl", "must not be negative")
	}
	if c.Cache.StaleLimit < 0 {
		return bad("cache.stale_limit", "must not be negative")
	}
	if c.Price.SectionsWait <= 0 || c.Price.SectionsWait > c.ReplyTimeout {
		return bad("price.sections_wait", "must be positive and at most reply_timeout")
	}
	if c.Cache.RefreshLead < 0 || c.Cache.HotWindow < 0 {
		return bad("cache", "refresh_lead and hot_window must not be negative")
	}
	if err := c.Flags.validate(); err != nil {
		return err
	}
	if err := c.validateState(); err != nil {
		return err
	}
	if _, err := c.MemoryLimit(); err != nil {
		return bad("memory.limit", "%v", err)
	}
	switch c.Env {
	case "production", "staging", "development":
	default:
		return bad("env", "unknown environment %q (want production, staging or development)", c.Env)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "unknown level %q", c.LogLevel)
	}
	return nil
}

func bad(key, format string, a ...any) error {
	return &Error{Key: key, Problem: fmt.Sprintf(format, a...)}
}

func (t Telegram) validate() error {
	switch t.Mode {
	case ModePolling, ModeWebhook, ModeConsole:
	default:
		return bad("telegram.mode", "unknown mode %q (want polling, webhook or console)", t.Mode)
	}
	if t.Mode != ModeConsole {
		if t.Token == "" {
			return bad("telegram.token", "required in %s mode (or set TELEGRAM_BOT_TOKEN)", t.Mode)
		}
		if strings.ContainsAny(t.Token, " /?#") {
			return bad("telegram.token", "malformed token")
		}
	}
	if err := checkURL(t.APIURL); err != nil {
		return bad("telegram.api_url", "%v", err)
	}
	if t.Mode == ModeWebhook {
		if t.Webhook.URL == "" {
			return bad("telegram.webhook.url", "required in webhook mode")
		}
		if err := checkURL(t.Webhook.URL); err != nil {
			return bad("telegram.webhook.url", "%v", err)
		}
		if t.Webhook.Secret == "" {
			return bad("telegram.webhook.secret", "required in webhook mode")
		}
	}
	if t.Webhook.Secret != "" && !webhooksecret.Valid(t.Webhook.Secret) {
		return bad("telegram.webhook.secret", "must be 1-256 characters of A-Z a-z 0-9 _ - (Telegram refuses others)")
	}
	if !strings.HasPrefix(t.Webhook.Path, "/") {
		return bad("telegram.webhook.path", "must start with /")
	}
	if t.Webhook.MaxBody < 1024 {
		return bad("telegram.webhook.max_body", "must be at least 1024 bytes")
	}
	if t.Rate.Global <= 0 || t.Rate.PerChat <= 0 || t.Rate.PerGroup <= 0 {
		return bad("telegram.rate", "global, per_chat and per_group must be positive")
	}
	return nil
}

func (f Flags) validate() error {
	if f.Dir == "" {
		return bad("flags.dir", "required")
	}
	if f.MaxFileBytes < 1024 {
		return bad("flags.max_file_bytes", "must be at least 1024 bytes, got %d", f.MaxFileBytes)
	}
	if f.MaxFlags < 1 {
		return bad("flags.max_flags", "must be positive, got %d", f.MaxFlags)
	}
	return nil
}

// validateState checks store.*, journal.* and shutdown_timeout.
func (c *Config) validateState() error {
	u := c.StoreURL()
	switch {
	case u == "sqlite:":
		return bad("store.url", "sqlite: needs a path, such as sqlite:data/cryptobot.db or sqlite::memory:")
	case strings.HasPrefix(u, "sqlite:"):
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		if pu, err := url.Parse(u); err != nil || pu.Host == "" {
			return bad("store.url", "malformed Postgres URL: want postgres://user:pass@host:port/db")
		}
	default:
		return bad("store.url", "want sqlite:PATH, sqlite::memory: or postgres://user:pass@host:port/db")
	}
	if c.Journal.MaxAge <= 0 {
		return bad("journal.max_age", "must be positive")
	}
	if c.Journal.Retention < time.Minute {
		return bad("journal.retention", "must be at least 1m, got %s", c.Journal.Retention)
	}
	if c.Journal.Sync != "normal" && c.Journal.Sync != "full" {
		return bad("journal.sync", "want normal or full, got %q", c.Journal.Sync)
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > 10*time.Minute {
		return bad("shutdown_timeout", "must be between 0 and 10m, got %s", c.ShutdownTimeout)
	}
	r := c.Replicas
	switch {
	case r.ID == "" || len(r.ID) > 200:
		return bad("replicas.id", "must be 1-200 characters")
	case r.Lease <= 0:
		return bad("replicas.lease", "must be positive, got %s", r.Lease)
	case r.Heartbeat <= 0 || 2*r.Heartbeat >= r.Lease:
		return bad("replicas.heartbeat", "must be positive and below replicas.lease/2 (%s), got %s", r.Lease/2, r.Heartbeat)
	}
	return nil
}

// StoreURL is store.url, or when it is not set the default for the mode:
// an in-memory store in console mode, DefaultStoreURL otherwise.
func (c *Config) StoreURL() string {
	switch {
	case c.Store.URL != "":
		return c.Store.URL
	case c.Telegram.Mode == ModeConsole:
		return ConsoleStoreURL
	}
	return DefaultStoreURL
}

func (e Exchanges) validate() error {
	if len(e.Order) == 0 {
		return bad("exchanges.order", "name at least one of binance, bybit, okx")
	}
	seen := map[string]bool{}
	for _, v := range e.Order {
		if !slices.Contains([]string{"binance", "bybit", "okx"}, v) {
			return bad("exchanges.order", "unknown exchange %q (want binance, bybit, okx)", v)
		}
		if seen[v] {
			return bad("exchanges.order", "%q listed twice", v)
		}
		seen[v] = true
	}
	for key, u := range map[string]string{
		"exchanges.binance.spot_url":    e.Binance.SpotURL,
		"exchanges.binance.futures_url": e.Binance.FuturesURL,
		"exchanges.bybit.url":           e.Bybit.URL,
		"exchanges.okx.url":             e.OKX.URL,
	} {
		if err := checkURL(u); err != nil {
			return bad(key, "%v", err)
		}
	}
	if e.Timeout <= 0 {
		return bad("exchanges.timeout", "must be positive")
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("malformed URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("malformed URL %q: want http(s)://host", s)
	}
	return nil
}

// DecodeModule decodes the settings under modules.<id> into v (a pointer to a
// struct with koanf tags). A module without settings leaves v untouched.
func (c *Config) DecodeModule(id string, v any) error {
	var sub any = c.Modules
	for _, part := range strings.Split(id, ".") {
		m, ok := sub.(map[string]any)
		if !ok {
			return nil
		}
		if sub, ok = m[part]; !ok {
			return nil
		}
	}
	m, ok := sub.(map[string]any)
	if !ok {
		return &Error{Key: "modules." + id, Problem: "must be a map of settings"}
	}
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(m, ""), nil); err != nil {
		return &Error{Key: "modules." + id, Problem: err.Error()}
	}
	if err := k.UnmarshalWithConf("", v, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return &Error{Key: "modules." + id, Problem: lastLine(err.Error())}
	}
	return nil
}

// MemoryLimit parses memory.limit: bytes, or a number with KiB/MiB/GiB/KB/MB/GB.
// Zero means "derive from the cgroup limit".
func (c *Config) MemoryLimit() (uint64, error) {
	return ParseBytes(c.Memory.Limit)
}

// ParseBytes parses "", "0", "134217728", "128MiB", "1GB".
func ParseBytes(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mul    uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mul := uint64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mul
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("want a size such as 128MiB, got %q", s)
	}
	return uint64(n * float64(mul)), nil
}
