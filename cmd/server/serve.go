package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cryptobot-dev/cryptobot/flags"
	"github.com/cryptobot-dev/cryptobot/internal/config"
	"github.com/cryptobot-dev/cryptobot/internal/dispatch"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/binance"
	"github.com/cryptobot-dev/cryptobot/internal/market/bybit"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/market/okx"
	"github.com/cryptobot-dev/cryptobot/internal/memguard"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/replica"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/telegram"
	"github.com/cryptobot-dev/cryptobot/internal/tick"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/core"
	"github.com/cryptobot-dev/cryptobot/modules/core/settings"
)

// consoleChatID is the chat console mode speaks as; it counts as an admin chat.
const consoleChatID = 1

// app is the wired bot: everything serve builds, for the HTTP routes and /status.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	metrics *metrics.Metrics
	guard   *memguard.Guard
	market  *market.Market
	flags   *flags.Provider
	gate    *flags.Gate
	router  *dispatch.Router
	store   *store.Store
	node    *replica.Node       // this process among the replicas (Solo on SQLite)
	api     *telegram.BotClient // nil in console mode
	tg      *telegram.Bot       // nil in console mode
	started time.Time
	opts    options

	// The HTTP servers start before the store opens, so /readyz can say
	// why the bot is not up yet; wired is set once the fields above are,
	// and handlers read nothing else until then.
	servers     []*httpServer
	webhookH    http.Handler
	httpDone    chan error
	wired       atomic.Bool
	storeHealth storeHealth
	stopNodeFn  func()
}

// options are what tests hand run besides configuration.
type options struct {
	listeners map[string]net.Listener // by listen address: used instead of binding it
}

type option func(*options)

// withListener serves addr on ln, already bound by the test, so no port is
// released and re-bound in between.
func withListener(addr string, ln net.Listener) option {
	return func(o *options) {
		if o.listeners == nil {
			o.listeners = map[string]net.Listener{}
		}
		o.listeners[addr] = ln
	}
}

// serve builds the bot and runs it until ctx ends, then shuts down in order:
// intake stops, accepted updates are answered for up to shutdown_timeout
// (the rest stays in the journal), servers close, the store closes.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, mods []modules.Info, stdin io.Reader, stdout io.Writer, opts ...option) error {
	a := &app{cfg: cfg, log: log, metrics: metrics.New(version, commit), started: time.Now()}
	for _, o := range opts {
		o(&a.opts)
	}
	a.storeHealth.set(errors.New("opening"))
	if cfg.Telegram.Mode != config.ModeConsole {
		if err := a.startHTTP(); err != nil {
			return err
		}
		defer a.stopHTTP()
	}
	st, err := a.openStore(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while waiting for the store: nothing accepted yet
		}
		return err
	}
	a.store = st
	defer closeStore(st, log)
	if err := a.build(ctx, mods); err != nil {
		return err
	}
	warnWithoutZones(log, time.LoadLocation)
	if a.node, err = a.newNode(); err != nil {
		return fmt.Errorf("replicas: %w", err)
	}
	defer a.stopNode()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = a.gate.Close(closeCtx)
	}()

	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	if cfg.Telegram.Mode == config.ModeConsole {
		// Load instrument lists before the first prompt; failures are logged per venue.
		warm, cancel := context.WithTimeout(bg, 10*time.Second)
		_ = a.market.Warm(warm)
		cancel()
	}
	go func() { _ = a.guard.Run(bg) }()
	go a.keepStore(bg)
	go func() { _ = a.flags.Run(bg) }()
	go func() { _ = a.market.Run(bg) }() // loads what Warm did not, then refreshes
	runners := make(chan struct{})
	// The alert evaluator and digest scheduler: on the leader only.
	go func() { defer close(runners); a.node.WhileLeader(bg, a.router.Run) }()
	defer func() { stopBG(); <-runners }() // modules' background work has returned

	if cfg.Telegram.Mode == config.ModeConsole {
		return runConsole(ctx, a.router, stdin, stdout)
	}
	return a.runTelegram(ctx)
}

func (a *app) build(ctx context.Context, mods []modules.Info) error {
	cfg := a.cfg
	limit, _ := cfg.MemoryLimit() // validated
	guard, err := memguard.New(memguard.Options{Limit: limit, Metrics: a.metrics, Log: a.log})
	if err != nil {
		return fmt.Errorf("memory guard: %w", err)
	}
	a.guard = guard

	a.market = market.New(market.Options{
		Exchanges: a.exchanges(), TTL: cfg.Cache.TTL, Metrics: a.metrics, Log: a.log.With("component", "market"),
		Freshness: market.Freshness{StaleLimit: cfg.Cache.StaleLimit, RefreshLead: cfg.Cache.RefreshLead, HotWindow: cfg.Cache.HotWindow},
	})

	a.flags, err = flags.NewProvider(flags.Options{
		Dir: cfg.Flags.Dir, Log: a.log.With("component", "flags"), Metrics: a.metrics,
		Limits: flags.Limits{MaxFileBytes: cfg.Flags.MaxFileBytes, MaxFlags: cfg.Flags.MaxFlags},
	})
	if err != nil {
		return fmt.Errorf("flags: %w", err)
	}
	a.gate, err = flags.NewGate(ctx, a.flags, a.metrics, cfg.Env)
	if err != nil {
		return fmt.Errorf("flags: %w", err)
	}

	admins := cfg.Admin.ChatIDs
	if cfg.Telegram.Mode == config.ModeConsole {
		admins = append(admins, consoleChatID)
	}
	groupAdmins, err := a.groupAdmins()
	if err != nil {
		return err
	}
	prefs := settings.New(a.store, groupAdmins, a.log.With("component", "settings"))
	a.router = dispatch.New(dispatch.Options{
		Gate:         a.gate,
		Guard:        a.guard,
		Admins:       admins,
		ReplyTimeout: cfg.ReplyTimeout,
		SectionsWait: cfg.Price.SectionsWait,
		Metrics:      a.metrics,
		Log:          a.log.With("component", "dispatch"),
		OnMembership: a.onMembership,
	})
	infos := append(core.WithSettings(a.router, a.router, a, prefs), mods...)
	err = a.router.Load(infos, func(info modules.Info) modules.Deps {
		return modules.Deps{
			Log:    a.log.With("module", info.ID),
			Market: a.market,
			Store:  a.store,
			Decode: func(v any) error { return cfg.DecodeModule(info.ID, v) },
			Now:    time.Now,
			Flags:  a.gate,
			Admit:  func(n uint64) (func(), error) { return a.guard.Admit(info.ID, n) },
			Admins: groupAdmins,
		}
	})
	if err != nil {
		return err
	}
	loaded, _ := a.router.Modules()
	for _, l := range loaded {
		if c, ok := l.Module.(interface{ Collectors() []prometheus.Collector }); ok {
			a.metrics.Registry.MustRegister(c.Collectors()...) // a module's own metrics (the alerts runner's)
		}
	}
	a.metrics.Init(a.knownLabels(infos))
	return nil
}

// exchanges builds the venue clients in failover order.
func (a *app) exchanges() []market.Exchange {
	cfg := a.cfg.Exchanges
	hc := &http.Client{Timeout: cfg.Timeout, Transport: newTransport()}
	var out []market.Exchange
	for _, name := range cfg.Order {
		switch name {
		case market.Binance:
			out = append(out, binance.New(binance.Config{SpotURL: cfg.Binance.SpotURL, FuturesURL: cfg.Binance.FuturesURL, HTTP: hc, Metrics: a.metrics}))
		case market.Bybit:
			out = append(out, bybit.New(bybit.Config{BaseURL: cfg.Bybit.URL, HTTP: hc, Metrics: a.metrics}))
		case market.OKX:
			out = append(out, okx.New(okx.Config{BaseURL: cfg.OKX.URL, HTTP: hc, Metrics: a.metrics}))
		}
	}
	return out
}

// groupAdmins builds the Bot API client early, since /settings checks group
// administrators with getChatMember (cached) before the transport starts;
// NewBotClient does no I/O. Console mode has no groups and no client.
func (a *app) groupAdmins() (settings.Admins, error) {
	cfg := a.cfg.Telegram
	if a.cfg.Telegram.Mode == config.ModeConsole {
		return nil, nil
	}
	api, err := telegram.NewBotClient(telegram.ClientConfig{
		Token: cfg.Token, APIURL: cfg.APIURL, Metrics: a.metrics, Log: a.log.With("component", "telegram"),
	})
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", err)
	}
	a.api = api
	return telegram.NewMemberCache(api, 0, 0), nil
}

// knownLabels lists the label values this configuration can produce.
func (a *app) knownLabels(infos []modules.Info) metrics.Known {
	k := metrics.Known{
		Venues:    a.cfg.Exchanges.Order,
		Endpoints: httpjson.Endpoints(),
		Flags:     slices.Sorted(maps.Keys(flags.Catalog)),
		Methods:   telegram.Methods(),
		Routes:    []string{"/healthz", "/health", "/readyz", "/metrics", "other"},

		CommandOutcomes:  dispatch.CommandOutcomes(),
		SectionOutcomes:  dispatch.SectionOutcomes(),
		SkipCauses:       dispatch.SkipCauses(),
		AdmissionResults: memguard.AdmissionResults(),
		ExchangeOutcomes: httpjson.Outcomes(),
		UpdateOutcomes:   telegram.IntakeOutcomes(),
		ReplyOutcomes:    telegram.ReplyOutcomes(),
		TelegramStatuses: telegram.Statuses(),
	}
	switch a.cfg.Telegram.Mode {
	case config.ModeWebhook:
		k.Sources = []string{"webhook"}
		k.Routes = append(k.Routes, a.cfg.Telegram.Webhook.Path)
	case config.ModePolling:
		k.Sources = []string{"polling"}
	}
	for _, c := range a.router.Commands() {
		k.Commands = append(k.Commands, c.Name)
	}
	for _, info := range infos {
		k.Modules = append(k.Modules, info.ID)
		if info.Enhanced() {
			k.Enhanced = append(k.Enhanced, info.ID)
		}
	}
	return k
}

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	t.ResponseHeaderTimeout = 5 * time.Second
	return t
}

// runTelegram starts the pipeline and the HTTP server, then waits for ctx.
func (a *app) runTelegram(ctx context.Context) error {
	cfg := a.cfg
	mode := telegram.ModePolling
	if cfg.Telegram.Mode == config.ModeWebhook {
		mode = telegram.ModeWebhook
	}
	api := a.api
	var names []string
	for _, c := range a.router.Commands() {
		names = append(names, c.Name)
	}
	var err error
	a.tg, err = telegram.New(telegram.Config{
		Mode:          mode,
		Workers:       cfg.Workers,
		QueueSize:     cfg.QueueSize,
		ReplyTimeout:  cfg.ReplyTimeout,
		MaxBody:       cfg.Telegram.Webhook.MaxBody,
		WebhookSecret: cfg.Telegram.Webhook.Secret,
		Commands:      names,
		Journal:       a.store,
		Chats:         a.store,
		MaxAge:        cfg.Journal.MaxAge,
		Orphans:       a.orphans(),
		OnReclaim:     a.node.Reclaimed,
		OnMigrate:     a.migrateChat,
		Rate: telegram.Rate{
			Global:   cfg.Telegram.Rate.Global,
			PerChat:  cfg.Telegram.Rate.PerChat,
			PerGroup: cfg.Telegram.Rate.PerGroupPerSecond(),
		},
	}, api, a.router, a.metrics, a.log.With("component", "telegram"))
	if err != nil {
		return fmt.Errorf("telegram: %w", err)
	}

	a.runNode()
	a.webhookH = a.tg.WebhookHandler()
	a.wired.Store(true)
	go a.tg.DrainOutbox(ctx, a.store, time.Second) // alert firings and digests the store committed

	// Intake runs until ctx ends; the identity and webhook are retried until they succeed.
	intake, stopIntake := context.WithCancel(context.WithoutCancel(ctx))
	defer stopIntake()
	pollDone := make(chan struct{})
	fatal := make(chan error, 1)
	go func() {
		defer close(pollDone)
		if err := a.startIntake(intake, api); err != nil {
			fatal <- err
		}
	}()

	var stopErr error
	select {
	case <-ctx.Done():
	case err := <-a.httpDone:
		stopIntake()
		return fmt.Errorf("http server: %w", err)
	case stopErr = <-fatal:
	}
	a.log.Info("shutting down: draining accepted updates")
	a.node.Resign() // a standby leads at once
	stopIntake()
	<-pollDone
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := a.tg.Shutdown(drain); err != nil {
		// Not a failure: what was not answered is replayed at the next start.
		a.log.Warn("shutdown_timeout passed; the rest stays in the journal", "err", err)
	}
	a.handOver()
	a.stopHTTP()
	if stopErr != nil {
		return stopErr
	}
	a.log.Info("stopped")
	return nil
}

// startIntake fetches the bot identity, registers commands and the webhook
// (or long-polls), retrying with backoff: a transient Telegram outage at start
// keeps /readyz red instead of killing the process. A token Telegram refuses
// will never work, so that one is returned as a configuration error.
func (a *app) startIntake(ctx context.Context, api telegram.API) error {
	var refused error
	retry := func(what string, f func(context.Context) error) bool {
		for wait := time.Second; ; wait = min(wait*2, 30*time.Second) {
			err := f(ctx)
			if err == nil {
				return true
			}
			if apiErr, ok := errors.AsType[*telegram.Error](err); ok && (apiErr.Code == 401 || apiErr.Code == 404) {
				refused = &config.Error{Key: "telegram.token", Problem: fmt.Sprintf("Telegram refused the token (%d %s)", apiErr.Code, apiErr.Description)}
				return false
			}
			a.log.Error(what+" failed; retrying", "err", err, "in", wait.String())
			if !tick.Sleep(ctx, wait) {
				return false
			}
		}
	}
	if !retry("telegram start", a.tg.Start) {
		return refused
	}
	var cmds []telegram.BotCommand
	for _, c := range a.router.Commands() {
		if !c.Admin && !a.isEnhancedCommand(c.Name) {
			cmds = append(cmds, telegram.BotCommand{Command: c.Name, Description: c.Description})
		}
	}
	if err := api.SetMyCommands(ctx, cmds); err != nil {
		a.log.Warn("setMyCommands failed", "err", err)
	}
	if a.cfg.Telegram.Mode == config.ModeWebhook {
		if !retry("setWebhook", func(ctx context.Context) error { return a.tg.RegisterWebhook(ctx, a.cfg.Telegram.Webhook.URL) }) {
			return refused
		}
		<-ctx.Done()
		return nil
	}
	if a.store.Replicated() {
		// Only the leader polls (Telegram allows one getUpdates at a time);
		// the others answer what the journal hands over.
		a.tg.SetStandby(true)
	}
	a.node.WhileLeader(ctx, func(term context.Context) {
		if err := a.tg.Poll(term); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("poller stopped", "err", err)
			select { // not at once again: the term may still be on
			case <-term.Done():
			case <-time.After(time.Second):
			}
		}
	})
	return nil
}

// orphans is what the pipeline claims orphaned updates from: the store,
// when replicas share it; nil (replay everything unanswered) on SQLite.
func (a *app) orphans() telegram.OrphanClaimer {
	if !a.store.Replicated() || a.node == nil || !a.node.Replicated() {
		return nil
	}
	return a.store
}

func (a *app) isEnhancedCommand(name string) bool {
	loaded, _ := a.router.Modules()
	for _, l := range loaded {
		if !l.Info.Enhanced() {
			continue
		}
		for _, c := range l.Module.Commands() {
			if c.Name == name {
				return true
			}
		}
	}
	return false
}

// sameAddr reports whether two listen addresses are the same socket.
func sameAddr(a, b string) bool {
	ha, pa, err1 := net.SplitHostPort(a)
	hb, pb, err2 := net.SplitHostPort(b)
	return err1 == nil && err2 == nil && ha == hb && pa == pb
}
