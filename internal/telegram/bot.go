package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/telegram/webhooksecret"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// Handler is the pipeline's consumer: the command router, which owns the
// work deadline, panic recovery and failure texts. An empty Reply means send
// nothing.
type Handler interface {
	Handle(ctx context.Context, req modules.Request) modules.Reply
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req modules.Request) modules.Reply

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req modules.Request) modules.Reply {
	return f(ctx, req)
}

// Mode is how updates reach the bot; readiness checks the matching intake.
type Mode string

// Intake modes.
const (
	ModeWebhook Mode = "webhook"
	ModePolling Mode = "polling"
)

// Rate holds the outbound limits, in messages per second. Zero means the
// default; the defaults follow Telegram's published guidance.
type Rate struct {
	Global        float64 // all chats together; default 30
	GlobalBurst   int     // default 1: any one-second window sees at most Global+1 sends
	PerChat       float64 // one private chat; default 1
	PerChatBurst  int     // default 3, so a reply split in three goes out at once
	PerGroup      float64 // one group, supergroup or channel; default 20/min
	PerGroupBurst int     // default 3
}

// Config configures a Bot. Zero values take the documented defaults.
type Config struct {
	Mode          Mode          // default ModePolling
	Workers       int           // most updates handled at once, default 32: a worker waiting on a venue must not hold up cache hits
	QueueSize     int           // default 1024
	ReplyTimeout  time.Duration // intake to reply; default 5 s
	Rate          Rate          // outbound limits
	BotUsername   string        // overwritten from getMe by Start
	MaxBody       int64         // webhook body cap; default 1 MiB
	WebhookSecret string        // required in webhook mode: 1–256 of A-Z a-z 0-9 _ -
	PollTimeout   time.Duration // getUpdates long-poll timeout; default DefaultPollTimeout
	StallAfter    time.Duration // readiness fails when updates wait this long; default 10 s
	// UnreachableSize bounds how many refused chats are remembered; default 10000.
	UnreachableSize int
	// OnMigrate, if set, is told when a group became the supergroup to and
	// a reply was resent there, so chat state can follow. It must be quick.
	OnMigrate func(from, to int64)
	// Chats keeps the chats that refused the bot (403, chat not found)
	// across restarts, and pauses their alerts; nil remembers them in memory
	// only. The store implements it.
	Chats ChatStates
	// Journal records accepted updates durably; nil means an in-memory
	// journal (NewMemoryJournal) that deduplicates but survives no restart.
	Journal Journal
	// MaxAge is how old an unanswered journal entry may be at Start to
	// still be answered; older ones are settled expired. Default 10m.
	MaxAge time.Duration
	// PressRate and PressBurst limit button presses per user: a token
	// bucket, default 1/s with a burst of 3. Over it, a press is answered
	// "Slow down" and the handler is not called.
	PressRate  float64
	PressBurst int
	// Orphans, when set, replaces the start-up replay: replicas share the
	// journal, so at start and at each Sweep the bot claims the entries no
	// live replica holds instead of reading every unanswered one. OnReclaim
	// is told how many it took.
	Orphans   OrphanClaimer
	OnReclaim func(n int)
	// Commands are the known command names. They, and only they, label
	// metrics; any other command is labelled "unknown" and plain text "text",
	// so user input never becomes a label value.
	Commands []string
}

func (c Config) withDefaults() (Config, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defF := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Mode == "" {
		c.Mode = ModePolling
	}
	def(&c.Workers, 32)
	def(&c.QueueSize, 1024)
	def(&c.UnreachableSize, 10000)
	defD(&c.ReplyTimeout, 5*time.Second)
	defD(&c.PollTimeout, DefaultPollTimeout)
	defD(&c.StallAfter, 10*time.Second)
	defD(&c.MaxAge, 10*time.Minute)
	if c.MaxBody == 0 {
		c.MaxBody = 1 << 20
	}
	defF(&c.PressRate, 1)
	def(&c.PressBurst, 3)
	defF(&c.Rate.Global, 30)
	def(&c.Rate.GlobalBurst, 1) // a bucket of 30 let 60 through in the first second
	defF(&c.Rate.PerChat, 1)
	def(&c.Rate.PerChatBurst, 3)
	defF(&c.Rate.PerGroup, 20.0/60)
	def(&c.Rate.PerGroupBurst, 3)

	switch {
	case c.Mode != ModeWebhook && c.Mode != ModePolling:
		return c, fmt.Errorf("unknown mode %q", c.Mode)
	case c.Workers < 0 || c.QueueSize < 0 || c.UnreachableSize < 0:
		return c, errors.New("workers, queue size and unreachable size must be positive")
	case c.ReplyTimeout < 0 || c.PollTimeout < 0 || c.StallAfter < 0 || c.MaxBody < 0 || c.MaxAge < 0:
		return c, errors.New("timeouts and body cap must be positive")
	case c.Rate.Global < 0 || c.Rate.PerChat < 0 || c.Rate.PerGroup < 0 || c.PressRate < 0 || c.PressBurst < 0 ||
		c.Rate.GlobalBurst < 0 || c.Rate.PerChatBurst < 0 || c.Rate.PerGroupBurst < 0:
		return c, errors.New("rates and bursts must be positive")
	case c.Mode == ModeWebhook && !webhooksecret.Valid(c.WebhookSecret):
		return c, errors.New("webhook mode needs a secret of 1-256 characters from A-Z a-z 0-9 _ -")
	case c.WebhookSecret != "" && !webhooksecret.Valid(c.WebhookSecret):
		return c, errors.New("webhook secret must be 1-256 characters from A-Z a-z 0-9 _ -")
	}
	return c, nil
}

// Bot coordinates the update pipeline: intake (webhook or long polling) into
// the bounded queue, drained by up to Config.Workers workers that call the
// Handler and hand its reply to the sender. Create it with New, then Start it.
type Bot struct {
	cfg     Config
	api     API
	h       Handler
	m       *metrics.Metrics
	log     *slog.Logger
	labels  commandLabels
	q       *queue
	out     *sender
	presses *presses
	journal Journal
	tm      *transportMetrics

	username atomic.Pointer[string]

	life  sync.Mutex // guards state and cancel
	state runState
	// started is when Start opened the queue (set before it opens, so
	// intake reads it safely): journal entries received before it belong
	// to an earlier run and are replayed.
	started time.Time

	pollerOn    atomic.Bool
	webhookOn   atomic.Bool
	busy        atomic.Int64
	lastPollOK  atomic.Int64 // unix nanoseconds of the last good getUpdates
	lastPollErr atomic.Pointer[string]
	journalErr  atomic.Pointer[string] // the last Append error; nil once one succeeds
	standby     atomic.Bool            // polling mode: another replica polls (SetStandby)
	sweepCh     chan struct{}          // Sweep's request to the sweeper
	stats       intakeCounters

	drain    chan struct{} // closed by Shutdown after intake stops
	abort    chan struct{} // closed when Shutdown's ctx ends first
	stopped  chan struct{} // closed when Shutdown is complete
	cancel   context.CancelFunc
	workers  sync.WaitGroup
	shutOnce sync.Once
}

type runState int

const (
	stateNew runState = iota
	stateRunning
	stateStopping
)

// New builds a Bot. api, h, m and log are required.
func New(cfg Config, api API, h Handler, m *metrics.Metrics, log *slog.Logger) (*Bot, error) {
	if api == nil || h == nil || m == nil || log == nil {
		return nil, errors.New("telegram: new: api, handler, metrics and logger are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("telegram: config: %w", err)
	}
	labels := newCommandLabels(cfg.Commands)
	if cfg.Journal == nil {
		cfg.Journal = NewMemoryJournal(4 * cfg.QueueSize)
	}
	tm := newTransportMetrics(m.Registry)
	b := &Bot{
		cfg:     cfg,
		api:     api,
		h:       h,
		m:       m,
		log:     log,
		labels:  labels,
		q:       newQueue(cfg.QueueSize, cfg.Workers),
		out:     newSender(api, cfg, labels, m, tm, log),
		presses: newPresses(cfg.PressRate, cfg.PressBurst),
		journal: cfg.Journal,
		tm:      tm,
		drain:   make(chan struct{}),
		abort:   make(chan struct{}),
		stopped: make(chan struct{}),
		sweepCh: make(chan struct{}, 1),
	}
	b.setUsername(cfg.BotUsername)
	m.QueueCapacity.Set(float64(cfg.QueueSize))
	return b, nil
}

func (b *Bot) setUsername(u string) { b.username.Store(&u) }

func (b *Bot) botUsername() string { return *b.username.Load() }

// Start fetches the bot's identity with getMe and starts the workers. The
// workers outlive ctx: they stop only through Shutdown, so a cancelled
// signal context cannot drop accepted updates.
func (b *Bot) Start(ctx context.Context) error {
	b.life.Lock()
	st := b.state
	b.life.Unlock()
	switch st {
	case stateRunning:
		return errors.New("telegram: start: already started")
	case stateStopping:
		return errors.New("telegram: start: already shut down")
	}
	me, err := b.api.GetMe(ctx)
	if err != nil {
		return fmt.Errorf("telegram: start: %w", err)
	}
	if me.Username == "" {
		return errors.New("telegram: start: getMe returned no username")
	}
	b.bindBot(ctx, me.ID)
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.life.Lock()
	if b.state != stateNew {
		b.life.Unlock()
		cancel()
		return errors.New("telegram: start: started or shut down meanwhile")
	}
	b.setUsername(me.Username)
	b.state = stateRunning
	b.cancel = cancel
	// tick and the sweeper (or replay) below, counted before unlocking so a
	// concurrent Shutdown waits for them; workers count themselves as they start.
	b.workers.Add(2)
	b.started = time.Now()
	b.q.setOpen(true)
	b.life.Unlock()

	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	b.out.recall(rctx, b.started, b.cfg.UnreachableSize)
	rcancel()
	b.q.startWorkers(func() {
		b.workers.Add(1)
		go b.worker(base)
	})
	go b.tick()
	if b.cfg.Orphans != nil {
		go b.sweeper(base)
	} else {
		go b.replay(base)
	}
	b.log.InfoContext(ctx, "telegram pipeline started", "bot", me.Username, "mode", string(b.cfg.Mode),
		"workers", b.cfg.Workers, "queue", b.cfg.QueueSize)
	return nil
}

// Shutdown stops intake (the webhook answers 503 with Retry-After and the
// poller returns), lets the workers answer the queued updates until ctx
// ends, then stops them. What is left stays unanswered in the journal for
// the next start (logged with the count, not counted as failed); the error
// then says how many. Calling Shutdown again waits for the first call.
func (b *Bot) Shutdown(ctx context.Context) error {
	first := false
	b.shutOnce.Do(func() {
		first = true
		b.life.Lock()
		started := b.state == stateRunning
		b.state = stateStopping
		b.life.Unlock()
		b.q.setOpen(false) // before drain closes: no push after it
		close(b.drain)
		if !started {
			close(b.stopped)
		}
	})
	if !first {
		select {
		case <-b.stopped:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("telegram: shutdown: %w", ctx.Err())
		}
	}
	select {
	case <-b.stopped:
		return nil // never started
	default:
	}
	done := make(chan struct{})
	go func() { b.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	select {
	case <-done: // also when ctx ended just as the last worker left
		b.cancel()
		close(b.stopped)
		b.log.InfoContext(ctx, "telegram pipeline stopped")
		return nil
	default:
	}
	close(b.abort)
	b.cancel()
	left := b.dropQueued()
	close(b.stopped)
	if left > 0 {
		return fmt.Errorf("telegram: shutdown: %d queued updates left in the journal for the next start: %w", left, ctx.Err())
	}
	return fmt.Errorf("telegram: shutdown: %w", ctx.Err())
}

// dropQueued empties the queue when Shutdown runs out of time. The updates
// stay unsettled in the journal, so the next start answers them.
func (b *Bot) dropQueued() int {
	ids := b.q.drop()
	b.updateQueueGauges()
	if len(ids) > 0 {
		b.log.Warn("telegram shutdown deadline passed; queued updates left in the journal for the next start",
			"count", len(ids), "update_ids", ids)
	}
	return len(ids)
}

// worker handles queued updates until none is left, then exits.
func (b *Bot) worker(ctx context.Context) {
	defer b.workers.Done()
	for {
		select {
		case <-b.abort:
			b.q.leave()
			return
		default:
		}
		it, ok := b.q.next()
		if !ok {
			return
		}
		b.updateQueueGauges()
		b.process(ctx, it.req)
	}
}

// process handles one update: call the handler, send its reply (or
// answer the press or inline query).
func (b *Bot) process(ctx context.Context, req modules.Request) {
	b.busy.Add(1)
	b.m.WorkersBusy.Inc()
	defer func() {
		b.m.WorkersBusy.Dec()
		b.busy.Add(-1)
	}()
	var res result
	switch {
	case req.Callback != nil:
		res = b.processPress(ctx, req)
	case req.Inline != nil:
		res = b.processInline(ctx, req)
	default:
		res = b.processMessage(ctx, req)
	}
	switch res {
	case resultAnswered:
		b.settle(ctx, store.Answered, req.UpdateID)
	case resultRefused:
		b.settle(ctx, store.Failed, req.UpdateID)
	}
	b.q.done(res != resultAborted)
}

// processMessage answers a command, text or membership change.
func (b *Bot) processMessage(ctx context.Context, req modules.Request) result {
	reply, ok := b.call(ctx, req)
	switch {
	case ctx.Err() != nil:
		return resultAborted // Shutdown cut the work short: answer it at the next start
	case !ok:
		return resultAnswered
	}
	return b.out.deliver(ctx, req, reply, req.Received.Add(b.cfg.ReplyTimeout))
}

// settleTimeout bounds a Settle made after an aborted shutdown cancelled
// the worker context, so a reply that went out is still recorded.
const settleTimeout = 5 * time.Second

// settle records outcomes in the journal. A failure is logged and counted;
// the entry stays unanswered and may be answered again after a restart.
// Under the live worker context (which only Shutdown cancels) it costs no
// timer of its own.
func (b *Bot) settle(ctx context.Context, o store.Outcome, ids ...int64) {
	if len(ids) == 0 {
		return
	}
	sctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
		defer cancel()
	}
	if err := b.journal.Settle(sctx, o, ids...); err != nil {
		b.tm.journalErrors.WithLabelValues(opSettle).Inc()
		b.log.ErrorContext(ctx, "telegram journal settle failed; the update may be answered again after a restart",
			"outcome", string(o), "update_ids", ids, "err", err)
	}
}

// call runs the handler. The router recovers panics and answers them; this
// recover is the last resort for a Handler that does not, so one bad update
// cannot kill a worker. Such an update gets no reply.
func (b *Bot) call(ctx context.Context, req modules.Request) (reply modules.Reply, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			ok = false
			b.m.Panics.Inc()
			b.stats.panics.Add(1)
			b.log.ErrorContext(ctx, "handler panic escaped the router", "command", b.labels.label(req.Command),
				"chat_id", req.ChatID, "update_id", req.UpdateID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	return b.h.Handle(ctx, req), true
}

// commandLabels maps a command to a bounded metric label value.
type commandLabels map[string]bool

func newCommandLabels(cmds []string) commandLabels {
	l := make(commandLabels, len(cmds))
	for _, c := range cmds {
		l[c] = true
	}
	return l
}

func (l commandLabels) label(cmd string) string {
	switch {
	case cmd == "":
		return "text"
	case l[cmd]:
		return cmd
	default:
		return "unknown"
	}
}

// tick refreshes the queue-age gauge and evicts idle per-chat limiters.
func (b *Bot) tick() {
	defer b.workers.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.updateQueueGauges()
			b.out.chats.evictIdle(time.Now())
			b.recheckJournal()
		case <-b.drain:
			return
		}
	}
}

func (b *Bot) updateQueueGauges() {
	s := b.q.snapshot()
	var age time.Duration
	if s.Depth > 0 {
		age = time.Since(s.Oldest)
	}
	b.m.QueueDepth.Set(float64(s.Depth))
	b.m.QueueOldestAge.Set(age.Seconds())
}

// intakeCounters back Status; Prometheus holds the same numbers for dashboards.
type intakeCounters struct {
	accepted, duplicate, queueFull, ignored, rejected, panics atomic.Uint64
	replayed, expired, undecodable                            atomic.Uint64
}
