// Command loadgen drives the bot with synthetic Telegram traffic and
// measures it. It starts the fake Bot API and fake venues in-process, builds
// the bot (unless -bot names a binary), runs it as a subprocess against the
// fakes with every enhanced flag on, injects updates open-loop at -rate per
// second over -chats chats, matches each reply to its request and reports
// sent, answered, lost, duplicated, latency percentiles (injection to the
// fake's receipt of the reply), throughput, the bot's peak RSS and CPU
// time, the requests each fake venue received, and late replies and market
// cache counters from the bot's /metrics; -burst adds N updates injected at
// once after the run, reported apart. Linux only (/proc).
//
//	go run ./cmd/loadgen -rate 200 -duration 60s -chats 5000 -warm   # one run
//	go run ./cmd/loadgen -rate 200 -duration 20s -chats 100 -warm -exchange-latency 150ms -burst 500
//	go run ./cmd/loadgen -find-max -warm                             # highest rate with p99 < 1 s
//	go run ./cmd/loadgen -soak 10m                                   # leak check at 50/s
//	go run ./cmd/loadgen -rate 200 -duration 30s -chats 2000 -warm -mix price=6,inline=2,press=2
//	go run ./cmd/loadgen -rate 300 -duration 34s -chats 2000 -mix alert=1   # 10,200 alerts, counted in the store
//
// Exit status: 0 when every update got exactly one reply (soak: and nothing
// grew past tolerance; find-max: and some rate passed), 1 otherwise or on a
// failure, 2 for bad flags. A short run is a CI smoke test.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	rig          rigConfig
	limitsName   string
	load         loadSpec
	warm         bool
	burst        int
	jsonFile     string
	findMax      bool
	findStart    float64
	findLimit    float64
	findRefine   int
	findP99      time.Duration
	soak         time.Duration
	soakEvery    time.Duration
	soakTol      soakTolerance
	warmTimeout  time.Duration
	buildTimeout time.Duration
}

// envList collects repeated -bot-env KEY=VALUE flags.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(s string) error {
	if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	*e = append(*e, s)
	return nil
}

const usageHead = `loadgen drives the bot with synthetic Telegram traffic and measures it.

It starts a fake Telegram Bot API and fake Binance/Bybit/OKX in-process, builds
./cmd/server (or runs -bot PATH) as a subprocess against them with every
enhanced flag forced on, injects updates open-loop at -rate per second, matches
each reply to its request and reports lost, duplicated, latency p50/p95/p99/max,
throughput, the bot's peak RSS (VmHWM) and CPU seconds, and late replies.

Usage:
  go run ./cmd/loadgen [flags]                          one run
  go run ./cmd/loadgen -find-max [flags]                step the rate up (100, 200, 400, … for 15 s
                                                        each, then bisect) and report the highest rate
                                                        with p99 < -find-p99 and nothing lost
  go run ./cmd/loadgen -soak 10m [flags]                soak: 10 minutes at 50/s (unless -rate), sample
                                                        go_goroutines, heap and RSS every -soak-every and
                                                        fail if the last third's median exceeds the
                                                        first third's by more than max(-soak-growth ×
                                                        first, slack); also scripts/soak.sh

Examples:
  go run ./cmd/loadgen -rate 200 -duration 60s -chats 5000 -warm -json /tmp/run.json
  go run ./cmd/loadgen -telegram-limits real -rate 60 -duration 20s -chats 1000 -grace 60s
  go run ./cmd/loadgen -rate 20 -duration 2s -chats 50          # CI smoke test
  go run ./cmd/loadgen -rate 200 -duration 20s -chats 100 -warm -exchange-latency 150ms -burst 500
                                                        venues answering in 150 ms, then 500 at once

Exit status: 0 all answered exactly once (and soak/find-max criteria met),
1 lost or duplicated replies, soak growth or a failure, 2 bad flags.

Flags:
`

// rawFlags are the flag values parseFlags turns into config fields.
type rawFlags struct {
	mix                             string
	env                             envList
	rateGlobal, rateChat, rateGroup float64
	soakMiB                         float64
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var raw rawFlags
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	c.define(fs, &raw)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var err error
	if c.load.mix, err = parseMix(raw.mix); err != nil {
		return c, err
	}
	switch c.limitsName {
	case "raised":
		c.rig.limits = raisedLimits
	case "real":
		c.rig.limits = realLimits
	default:
		return c, fmt.Errorf("-telegram-limits must be raised or real, got %q", c.limitsName)
	}
	for _, o := range []struct {
		v   float64
		dst *float64
	}{{raw.rateGlobal, &c.rig.limits.Global}, {raw.rateChat, &c.rig.limits.PerChat}, {raw.rateGroup, &c.rig.limits.PerGroup}} {
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	c.rig.extraEnv = raw.env
	c.soakTol.bytes = raw.soakMiB * (1 << 20)
	if c.findMax && !set["duration"] {
		c.load.duration = 15 * time.Second
	}
	if c.soak > 0 {
		c.load.duration = c.soak
		if !set["rate"] {
			c.load.rate = 50
		}
	}
	c.warmTimeout, c.buildTimeout = 30*time.Second, 5*time.Minute
	return c, c.validate(raw)
}

// define declares every flag on fs, into c or raw.
func (c *config) define(fs *flag.FlagSet, raw *rawFlags) {
	fs.StringVar(&c.rig.mode, "mode", "webhook", "how updates reach the bot: webhook or polling")
	fs.StringVar(&c.rig.bin, "bot", "", "bot binary to run (default: go build ./cmd/server into a temp dir)")
	fs.StringVar(&c.rig.flagsSrc, "flags", "", "flag files to copy and force (default: flags/ of the repository)")
	fs.BoolVar(&c.rig.enhanced, "enhanced", true, "force every enhanced flag on for every chat (false: off)")
	fs.DurationVar(&c.rig.exchangeLatency, "exchange-latency", 0, "delay every fake exchange response by this much")
	fs.StringVar(&c.limitsName, "telegram-limits", "raised", "outbound limits: raised (100000/s, 1000/s per chat, 60000/min per group) or real (30/s, 1/s, 20/min)")
	fs.Float64Var(&raw.rateGlobal, "rate-global", 0, "outbound messages per second, all chats (0: from -telegram-limits)")
	fs.Float64Var(&raw.rateChat, "rate-chat", 0, "outbound messages per second to one private chat (0: from -telegram-limits)")
	fs.Float64Var(&raw.rateGroup, "rate-group", 0, "outbound messages per minute to one group (0: from -telegram-limits)")
	fs.Var(&raw.env, "bot-env", "extra KEY=VALUE for the bot's environment, repeatable (e.g. CRYPTOBOT_WORKERS=16)")
	fs.DurationVar(&c.rig.readyTimeout, "ready-timeout", 30*time.Second, "how long to wait for the bot's /readyz")
	fs.DurationVar(&c.rig.stopTimeout, "stop-timeout", 15*time.Second, "how long the bot may take to exit after SIGTERM before SIGKILL")
	fs.Float64Var(&c.load.rate, "rate", 100, "updates injected per second")
	fs.DurationVar(&c.load.duration, "duration", 30*time.Second, "how long to inject (find-max: per step, default 15s)")
	fs.IntVar(&c.load.chats, "chats", 1000, "distinct private chats the updates come from")
	fs.DurationVar(&c.load.grace, "grace", 10*time.Second, "wait this long after the last injection for replies; later ones count as lost")
	fs.StringVar(&raw.mix, "mix", defaultMix, "command mix as category=weight; categories: "+categoryNames()+
		" (inline: an inline query, timed to answerInlineQuery; press: Refresh on a /price the bot sent, timed to answerCallbackQuery;"+
		" alert: /alert PAIR above|below a level near the price)")
	fs.Uint64Var(&c.load.seed, "seed", 1, "random seed for chats and commands")
	fs.BoolVar(&c.warm, "warm", false, "send one /price per symbol and wait for the replies before measuring")
	fs.IntVar(&c.burst, "burst", 0, "after the run, inject this many updates at once and report them apart")
	fs.StringVar(&c.jsonFile, "json", "", "also write the result as JSON to this file")
	fs.BoolVar(&c.findMax, "find-max", false, "find the highest rate with p99 under -find-p99 and nothing lost")
	fs.Float64Var(&c.findStart, "find-start", 100, "find-max: first rate")
	fs.Float64Var(&c.findLimit, "find-limit", 12800, "find-max: highest rate to try")
	fs.IntVar(&c.findRefine, "find-refine", 2, "find-max: bisection steps between the last pass and the first failure")
	fs.DurationVar(&c.findP99, "find-p99", time.Second, "find-max: p99 latency limit")
	fs.DurationVar(&c.soak, "soak", 0, "run a soak of this length (e.g. 10m) instead of one run")
	fs.DurationVar(&c.soakEvery, "soak-every", 5*time.Second, "soak: sampling interval of /metrics and RSS")
	fs.Float64Var(&c.soakTol.growth, "soak-growth", 0.20, "soak: allowed growth as a fraction of the first third's median")
	fs.Float64Var(&raw.soakMiB, "soak-bytes", 5, "soak: allowed heap and RSS growth in MiB when larger than -soak-growth")
	fs.Float64Var(&c.soakTol.goroutines, "soak-goroutines", 10, "soak: allowed goroutine growth when larger than -soak-growth")
}

// validate checks the settled configuration and the raw values it keeps no
// field for.
func (c *config) validate(raw rawFlags) error {
	switch {
	case c.rig.mode != "webhook" && c.rig.mode != "polling":
		return fmt.Errorf("-mode must be webhook or polling, got %q", c.rig.mode)
	case c.load.rate <= 0 || c.load.rate > 1e6:
		return fmt.Errorf("-rate must be in (0, 1e6], got %g", c.load.rate)
	case c.load.duration <= 0:
		return errors.New("-duration must be positive")
	case c.load.chats < 1 || c.load.chats > 10_000_000:
		return fmt.Errorf("-chats must be in [1, 1e7], got %d", c.load.chats)
	case c.load.grace < 0 || c.rig.exchangeLatency < 0 || raw.rateGlobal < 0 || raw.rateChat < 0 || raw.rateGroup < 0 || c.burst < 0:
		return errors.New("-grace, -exchange-latency, -burst and the -rate-* limits must not be negative")
	case c.rig.readyTimeout <= 0 || c.rig.stopTimeout <= 0:
		return errors.New("-ready-timeout and -stop-timeout must be positive")
	case c.findMax && c.soak > 0:
		return errors.New("-find-max and -soak are exclusive")
	case c.soak < 0:
		return errors.New("-soak must not be negative")
	case c.findMax && (c.findStart <= 0 || c.findLimit < c.findStart || c.findRefine < 0 || c.findP99 <= 0):
		return errors.New("-find-start must be positive, -find-limit at least -find-start, -find-refine ≥ 0, -find-p99 positive")
	case c.soak > 0 && (c.soakEvery <= 0 || c.soakTol.growth < 0 || raw.soakMiB < 0 || c.soakTol.goroutines < 0):
		return errors.New("-soak-every must be positive and the soak tolerances not negative")
	case c.soak > 0 && c.soak < minSoakSamples*c.soakEvery:
		return fmt.Errorf("-soak %s is too short for %d samples every %s", c.soak, minSoakSamples, c.soakEvery)
	}
	return nil
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cleanup, err := prepare(ctx, &c, log)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	defer cleanup()
	var out any
	ok := false
	switch {
	case c.findMax:
		f, ferr := findMax(ctx, c.findStart, c.findLimit, c.findRefine, c.findP99, func(ctx context.Context, rate float64) (Result, error) {
			spec := c.load
			spec.rate = rate
			log.Info("find-max step", "rate", rate, "duration", spec.duration)
			r, err := measure(ctx, c, spec, log)
			if err == nil {
				log.Info("find-max step done", "rate", rate, "lost", r.Lost, "p99_ms", r.LatencyMS.P99)
			}
			return r, err
		})
		writeFindMax(stdout, f)
		out, ok, err = f, f.MaxRate > 0, ferr
	case c.soak > 0:
		s, serr := soak(ctx, c, log)
		if s.Load.Sent > 0 {
			writeResult(stdout, s.Load)
		}
		if len(s.Checks) > 0 {
			writeSoak(stdout, s)
		}
		out, ok, err = s, s.Passed, serr
	default:
		r, rerr := measure(ctx, c, c.load, log)
		if rerr == nil {
			writeResult(stdout, r)
		}
		out, ok, err = r, r.Passed(), rerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if c.jsonFile != "" {
		if err := writeJSON(c.jsonFile, out); err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
	}
	if !ok {
		return 1
	}
	return 0
}

// prepare finds the flag files and, without -bot, builds the bot into a
// temp dir that cleanup removes.
func prepare(ctx context.Context, c *config, log *slog.Logger) (cleanup func(), err error) {
	cleanup = func() {}
	if c.rig.flagsSrc != "" && c.rig.bin != "" {
		return cleanup, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return cleanup, err
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return cleanup, err
	}
	if c.rig.flagsSrc == "" {
		c.rig.flagsSrc = filepath.Join(root, "flags")
	}
	if c.rig.bin != "" {
		return cleanup, nil
	}
	dir, err := os.MkdirTemp("", "loadgen-bot-")
	if err != nil {
		return cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	bctx, cancel := context.WithTimeout(ctx, c.buildTimeout)
	defer cancel()
	if c.rig.bin, err = buildBot(bctx, root, dir, log); err != nil {
		cleanup()
		return func() {}, err
	}
	return cleanup, nil
}

// measure runs one load on a fresh rig.
func measure(ctx context.Context, c config, spec loadSpec, log *slog.Logger) (Result, error) {
	r, err := startRig(ctx, c.rig, log)
	if err != nil {
		return Result{}, err
	}
	defer r.Close()
	if c.warm {
		if err := warm(ctx, r, c.warmTimeout); err != nil {
			return Result{}, err
		}
	}
	res, err := runLoad(ctx, r, spec)
	describe(&res, c)
	if err != nil || c.burst == 0 {
		return res, err
	}
	b, err := runLoad(ctx, r, burstSpec(spec, c.burst))
	res.Burst = &Burst{Sent: b.Sent, Answered: b.Answered, Lost: b.Lost, Duplicated: b.Duplicated, LatencyMS: b.LatencyMS}
	return res, err
}

// describe fills in the run's settings.
func describe(r *Result, c config) {
	r.Mode, r.Enhanced, r.Warm, r.Limits = c.rig.mode, c.rig.enhanced, c.warm, c.rig.limits
	r.ExchangeLatencyMS = ms(c.rig.exchangeLatency)
}

// soak runs the load for c.soak on one rig while sampling the bot.
func soak(ctx context.Context, c config, log *slog.Logger) (Soak, error) {
	s := Soak{EveryS: c.soakEvery.Seconds()}
	r, err := startRig(ctx, c.rig, log)
	if err != nil {
		return s, err
	}
	defer r.Close()
	if c.warm {
		if err := warm(ctx, r, c.warmTimeout); err != nil {
			return s, err
		}
	}
	log.Info("soak started", "duration", c.soak, "rate", c.load.rate, "every", c.soakEvery)
	sctx, cancel := context.WithTimeout(ctx, c.soak)
	defer cancel()
	samples := sampleSoak(sctx, r, c.soakEvery)
	s.Load, err = runLoad(ctx, r, c.load)
	describe(&s.Load, c)
	cancel()
	s.Samples = <-samples
	if err != nil {
		return s, err
	}
	if s.Checks, err = judgeSoak(s.Samples, c.soakTol); err != nil {
		return s, err
	}
	s.Passed = s.Load.Passed()
	for _, ch := range s.Checks {
		s.Passed = s.Passed && ch.OK
	}
	return s, nil
}
