// Package alerts is the alerts module: price, move, funding and open-interest
// alerts per chat (/alert, /alerts, /unalert), watchlists (/watch, /unwatch,
// /watchlist) and daily digests (/digest). State lives in the store; the
// module's Runner owns the evaluation engine and writes each firing together
// with its outbound message in one store transaction (the outbox), which the
// Telegram side drains under its rate limits.
package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	flags "github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// Memory cost, checked by TestMemoryCost: the module holds its settings,
// its collectors (most of it) and the runner's command channel; the
// heaviest request is a full /watchlist: 30 pairs, two fetches each, at
// most fetchers goroutines at a time. The engine the runner builds holds
// about 144 B per live alert on top (engine.TestMemoryHeld), bounded by
// max_global: 14 MB at the default 100,000.
const (
	residentBytes   = 20 << 10
	perRequestBytes = 96 << 10
)

func init() {
	modules.Register(modules.Info{
		ID:   "enhanced.alerts",
		Flag: flags.Alerts,
		Cost: modules.Cost{Resident: residentBytes, PerRequest: perRequestBytes},
		New: func(d modules.Deps) (modules.Module, error) {
			st := storeOf(d)
			if d.Market == nil || st == nil {
				return nil, errors.New("alerts: needs a market source and a store")
			}
			var cfg Config
			if d.Decode != nil {
				if err := d.Decode(&cfg); err != nil {
					return nil, fmt.Errorf("alerts: %w", err)
				}
			}
			o := Options{Config: cfg, Store: st, Market: d.Market, Log: d.Log, Now: d.Now, Admit: d.Admit, Admins: d.Admins}
			if b, ok := d.Market.(batcher); ok {
				o.Prices = b.LastPrices
			}
			if d.Flags != nil {
				o.Enabled = func(ctx context.Context, chat int64) bool {
					return d.Flags.Enabled(ctx, flags.Alerts, chatRequest(chat))
				}
			}
			return New(o)
		},
	})
}

// Config is modules.enhanced.alerts.
type Config struct {
	Poll       time.Duration `koanf:"poll"`         // price evaluation period; default 2s
	SlowPoll   time.Duration `koanf:"slow_poll"`    // funding and open interest; default 1m
	MaxPerChat int           `koanf:"max_per_chat"` // live alerts per chat; default 50
	MaxWatch   int           `koanf:"max_watch"`    // watched pairs per chat; default 30
	MaxGlobal  int           `koanf:"max_global"`   // live alerts in all chats; default 100000
	// FlagCheck is how often the runner asks the alerts flag of each chat
	// with alerts, pausing or resuming them; default 10s.
	FlagCheck time.Duration `koanf:"flag_check"`
}

func (c Config) withDefaults() (Config, error) {
	if c.Poll == 0 {
		c.Poll = 2 * time.Second
	}
	if c.SlowPoll == 0 {
		c.SlowPoll = time.Minute
	}
	if c.MaxPerChat == 0 {
		c.MaxPerChat = 50
	}
	if c.MaxWatch == 0 {
		c.MaxWatch = 30
	}
	if c.MaxGlobal == 0 {
		c.MaxGlobal = 100_000
	}
	if c.FlagCheck == 0 {
		c.FlagCheck = 10 * time.Second
	}
	if c.Poll < 100*time.Millisecond || c.SlowPoll < c.Poll || c.MaxPerChat < 0 || c.MaxWatch < 0 || c.MaxGlobal < 0 || c.FlagCheck < c.Poll {
		return c, fmt.Errorf("bad settings %+v: poll ≥ 100ms, slow_poll and flag_check ≥ poll, limits ≥ 0", c)
	}
	return c, nil
}

// Market is the market data the module reads; market.Source has it all.
type Market interface {
	Resolve(ctx context.Context, input string, kind market.Kind) (market.Pair, error)
	Ticker(ctx context.Context, pair market.Pair) (market.Ticker, error)
	Funding(ctx context.Context, pair market.Pair) (market.Funding, error)
	OpenInterest(ctx context.Context, pair market.Pair) (market.OpenInterest, error)
	Candles(ctx context.Context, pair market.Pair, iv market.Interval, limit int) ([]market.Candle, error)
	Venues() []market.Exchange
}

// pinner keeps a pair's ticker hot (market.Market.Pin).
type pinner interface {
	Pin(pair market.Pair) (unpin func())
}

// batcher is the market's batched last prices (market.Market.LastPrices).
type batcher interface {
	LastPrices(ctx context.Context) (map[market.Pair]float64, error)
}

// Options configures New.
type Options struct {
	Config Config
	Store  Store
	Market Market
	// Prices, when set, returns the last spot prices of every pair one
	// venue lists, in one batch; the runner asks Ticker for the pairs it
	// lacks, and for every pair when Prices is nil.
	Prices func(ctx context.Context) (map[market.Pair]float64, error)
	Log    *slog.Logger
	Now    func() time.Time
	// Enabled, when set, reports whether the alerts flag is on for a chat;
	// the runner pauses the alerts of chats where it is off (nil: on
	// everywhere).
	Enabled func(ctx context.Context, chat int64) bool
	// Admit, when set, asks the memory guard for the bytes of a digest; an
	// error (shedding, busy) declines it until a later round.
	Admit func(bytes uint64) (release func(), err error)
	// Admins checks group administrators for groups whose /settings let
	// only them set and delete alerts; nil refuses those groups' changes
	// (nobody can be checked).
	Admins modules.Admins
}

// chatRequest is how the runner asks the flag gate about a chat it serves
// unasked: the chat id, and the chat type and user the id tells (positive
// ids are private chats with that user; -100… supergroups, or channels;
// other negative ids basic groups).
func chatRequest(chat int64) modules.Request {
	req := modules.Request{ChatID: chat}
	switch {
	case chat > 0:
		req.ChatType, req.UserID = "private", chat
	case chat <= -1_000_000_000_000:
		req.ChatType = "supergroup"
	default:
		req.ChatType = "group"
	}
	return req
}

// Module answers the alert commands and, as a modules.Runner, evaluates
// the alerts.
type Module struct {
	cfg    Config
	st     Store
	mkt    Market
	prices func(ctx context.Context) (map[market.Pair]float64, error)
	log    *slog.Logger
	now    func() time.Time
	met    *metricSet
	on     func(ctx context.Context, chat int64) bool // the alerts flag for a chat
	admit  func(bytes uint64) (release func(), err error)
	admins modules.Admins

	ops    chan op     // to the runner, which owns the engine
	resync atomic.Bool // an op was dropped: reload the engine from the store
	once   sync.Mutex  // one runner at a time
}

// op is a change a command makes to the engine: an alert added or removed.
type op struct {
	add    *rule.Alert
	seed   float64 // the last price the acknowledgement showed, 0 if none
	remove []int64
}

var (
	_ modules.Module = (*Module)(nil)
	_ modules.Runner = (*Module)(nil)
)

// New returns the module.
func New(o Options) (*Module, error) {
	cfg, err := o.Config.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Enabled == nil {
		o.Enabled = func(context.Context, int64) bool { return true }
	}
	if o.Admit == nil {
		o.Admit = func(uint64) (func(), error) { return func() {}, nil }
	}
	return &Module{cfg: cfg, st: o.Store, mkt: o.Market, prices: o.Prices, log: o.Log, now: o.Now,
		met: newMetricSet(), ops: make(chan op, 64), on: o.Enabled, admit: o.Admit, admins: o.Admins}, nil
}

// Commands returns the alert, watchlist and digest commands.
func (m *Module) Commands() []modules.Command {
	return []modules.Command{
		{Name: "alert", Usage: "/alert SYMBOL above|below PRICE", Description: "Alert on a price level, a move, funding or open interest", Handler: modules.HandlerFunc(m.alert)},
		{Name: "alerts", Usage: "/alerts", Description: "This chat's alerts and where they stand", Handler: modules.HandlerFunc(m.list)},
		{Name: "unalert", Usage: rule.UsageUnalert, Description: "Delete an alert, or all of this chat's", Handler: modules.HandlerFunc(m.unalert)},
		{Name: "watch", Usage: rule.UsageWatch, Description: "Add pairs to this chat's watchlist", Handler: modules.HandlerFunc(m.watch)},
		{Name: "unwatch", Usage: rule.UsageUnwatch, Description: "Remove pairs from the watchlist", Handler: modules.HandlerFunc(m.unwatch)},
		{Name: "watchlist", Usage: "/watchlist", Description: "Last price, 24h change and funding of the watched pairs", Handler: modules.HandlerFunc(m.watchlist)},
		{Name: "digest", Usage: rule.UsageDigest, Description: "A daily digest of the watchlist and fired alerts", Handler: modules.HandlerFunc(m.digest)},
	}
}

// send hands an op to the runner without blocking a reply: when the
// runner is behind (or not running), the engine is rebuilt from the store
// on its next tick instead.
func (m *Module) send(o op) {
	select {
	case m.ops <- o:
	default:
		m.resync.Store(true)
	}
}
