// Package memguard keeps the bot inside its memory budget. It derives the
// budget (GOMEMLIMIT, config, cgroup limit or a fallback) and applies it as
// the Go memory limit, refuses modules whose resident cost does not fit,
// bounds the per-request bytes in flight, and sheds enhanced work while the
// process is close to its limit.
package memguard

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// Source says where the budget came from.
type Source string

// Budget sources, in order of precedence.
const (
	SourceGOMEMLIMIT Source = "GOMEMLIMIT" // the GOMEMLIMIT environment variable, read back from the runtime
	SourceConfig     Source = "config"     // Options.Limit (config memory.limit)
	SourceCgroup     Source = "cgroup"     // the cgroup memory limit × Ratio
	SourceFallback   Source = "fallback"   // Options.Fallback × Ratio when no cgroup limit is found
)

const (
	defaultRatio       = 0.9
	defaultFallback    = 256 << 20
	defaultHigh        = 0.85
	defaultLow         = 0.70
	defaultInterval    = 500 * time.Millisecond
	defaultModuleShare = 0.5
	defaultInFlightDiv = 8

	// minBudget rejects configured budgets so small the GC would run
	// continuously: almost certainly a unit mistake (MiB written as bytes).
	minBudget = 16 << 20
)

// Errors callers branch on; match them with errors.Is.
var (
	// ErrOverBudget refuses a module whose resident cost does not fit.
	ErrOverBudget = errors.New("module memory over budget")
	// ErrBusy refuses a request while the in-flight budget is used up.
	ErrBusy = errors.New("memguard: in-flight memory budget in use")
	// ErrShedding refuses a request while memory pressure is high.
	ErrShedding = errors.New("memguard: shedding under memory pressure")
)

// Options configure a Guard. Zero values take the documented defaults.
type Options struct {
	// Limit is the budget in bytes (config memory.limit); 0 derives it from
	// the cgroup limit. An explicit GOMEMLIMIT environment variable wins.
	Limit uint64
	// Ratio of the cgroup (or fallback) limit used as the budget, in (0, 1]; default 0.9.
	Ratio float64
	// Fallback is the limit assumed when no cgroup limit is found; default 256 MiB.
	Fallback uint64
	// High is the pressure at which shedding starts; default 0.85.
	High float64
	// Low is the pressure at which shedding stops; default 0.70. Must be below High.
	Low float64
	// Interval between pressure samples in Run; default 500 ms.
	Interval time.Duration
	// ModuleShare is the fraction of the budget modules may hold resident, in (0, 1]; default 0.5.
	ModuleShare float64
	// InFlight is the per-request byte budget shared by all admitted
	// requests; default 1/8 of the budget. It may not exceed the budget.
	InFlight uint64

	// Metrics receives the memory gauges and admission counters; required.
	Metrics *metrics.Metrics
	// Log receives budget and pressure transitions; nil discards them.
	Log *slog.Logger

	// Hooks for tests; nil means the real thing.

	// LookupEnv reads the environment (os.LookupEnv).
	LookupEnv func(key string) (string, bool)
	// CgroupLimit returns the cgroup memory limit (memlimit.FromCgroup);
	// an error, including memlimit.ErrNoLimit, selects the fallback.
	CgroupLimit func() (uint64, error)
	// SetMemoryLimit sets the Go memory limit and returns the previous one;
	// a negative limit only reads it (debug.SetMemoryLimit).
	SetMemoryLimit func(limit int64) int64
	// Sampler returns the bytes the Go memory limit counts (total −
	// released) and the limit in force (runtime/metrics).
	Sampler func() (used, limit uint64)
}

// Guard is the memory-budget guard. Its methods are safe for concurrent use.
type Guard struct {
	log      *slog.Logger
	m        *metrics.Metrics
	budget   uint64
	source   Source
	high     float64
	low      float64
	interval time.Duration
	sampler  func() (used, limit uint64)

	moduleShare uint64 // bytes modules may hold resident
	resMu       sync.Mutex
	reserved    uint64              // guarded by resMu
	modules     map[string]struct{} // guarded by resMu; catches double reservations

	inFlightCap uint64
	inFlight    atomic.Uint64 // per-request bytes admitted now
	tickets     sync.Pool     // *ticket
	ctrMu       sync.RWMutex
	counters    map[string]*admissionCounters // guarded by ctrMu

	sampleMu sync.Mutex // serialises samples so each transition is logged once
	noLimit  bool       // guarded by sampleMu
	shedding atomic.Bool
	pressure atomic.Uint64 // math.Float64bits of the last pressure
	used     atomic.Uint64
	limit    atomic.Uint64
}

// New derives the budget, applies it as the Go memory limit (unless it came
// from GOMEMLIMIT, which the runtime already applied), and takes a first
// pressure sample. The memory limit is process-wide: tests that build a
// Guard should pass SetMemoryLimit.
func New(opts Options) (*Guard, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	budget, source, err := resolveBudget(&opts)
	if err != nil {
		return nil, err
	}
	inFlight := opts.InFlight
	switch {
	case inFlight == 0:
		inFlight = budget / defaultInFlightDiv
	case inFlight > budget:
		return nil, fmt.Errorf("memguard: in-flight budget %d exceeds the memory budget %d", inFlight, budget)
	}
	if source != SourceGOMEMLIMIT {
		opts.SetMemoryLimit(int64(budget))
	}

	g := &Guard{
		log:         opts.Log,
		m:           opts.Metrics,
		budget:      budget,
		source:      source,
		high:        opts.High,
		low:         opts.Low,
		interval:    opts.Interval,
		sampler:     opts.Sampler,
		moduleShare: uint64(float64(budget) * opts.ModuleShare),
		modules:     map[string]struct{}{},
		inFlightCap: inFlight,
		counters:    map[string]*admissionCounters{},
	}
	g.tickets.New = func() any { return new(ticket) }
	g.m.MemoryBudget.Set(float64(budget))
	g.m.MemoryShedding.Set(0)
	g.m.MemoryInFlight.Set(0)
	g.log.Info("memory budget", "source", string(source), "budget_bytes", budget,
		"module_bytes", g.moduleShare, "inflight_bytes", inFlight)
	g.Sample()
	return g, nil
}

func (o *Options) defaults() error {
	if o.Metrics == nil {
		return errors.New("memguard: metrics are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Ratio = cmp.Or(o.Ratio, defaultRatio)
	o.Fallback = cmp.Or(o.Fallback, defaultFallback)
	o.High = cmp.Or(o.High, defaultHigh)
	o.Low = cmp.Or(o.Low, defaultLow)
	o.Interval = cmp.Or(o.Interval, defaultInterval)
	o.ModuleShare = cmp.Or(o.ModuleShare, defaultModuleShare)
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.CgroupLimit == nil {
		o.CgroupLimit = memlimit.FromCgroup
	}
	if o.SetMemoryLimit == nil {
		o.SetMemoryLimit = debug.SetMemoryLimit
	}
	if o.Sampler == nil {
		o.Sampler = newRuntimeSampler().read
	}
	switch {
	case !(o.Ratio > 0 && o.Ratio <= 1):
		return fmt.Errorf("memguard: ratio %v outside (0, 1]", o.Ratio)
	case !(o.ModuleShare > 0 && o.ModuleShare <= 1):
		return fmt.Errorf("memguard: module share %v outside (0, 1]", o.ModuleShare)
	case !(o.Low > 0 && o.Low < o.High):
		return fmt.Errorf("memguard: need 0 < low < high, got low %v, high %v", o.Low, o.High)
	case o.Interval < 0:
		return fmt.Errorf("memguard: negative sample interval %v", o.Interval)
	case o.Limit != 0 && (o.Limit < minBudget || o.Limit > math.MaxInt64):
		return fmt.Errorf("memguard: memory limit %d bytes outside [%d, %d]", o.Limit, minBudget, int64(math.MaxInt64))
	case o.Fallback < minBudget || o.Fallback > math.MaxInt64:
		return fmt.Errorf("memguard: fallback limit %d bytes outside [%d, %d]", o.Fallback, minBudget, int64(math.MaxInt64))
	}
	return nil
}

// resolveBudget applies the precedence GOMEMLIMIT > config > cgroup > fallback.
func resolveBudget(o *Options) (uint64, Source, error) {
	if v, ok := o.LookupEnv("GOMEMLIMIT"); ok && v != "" {
		// The runtime parsed GOMEMLIMIT at start-up; read back what it has.
		cur := o.SetMemoryLimit(-1)
		if cur <= 0 || cur == math.MaxInt64 {
			return 0, "", fmt.Errorf("memguard: GOMEMLIMIT=%q leaves no usable memory limit (runtime reports %d): set a size or unset it", v, cur)
		}
		return uint64(cur), SourceGOMEMLIMIT, nil
	}
	if o.Limit != 0 {
		return o.Limit, SourceConfig, nil
	}
	raw, err := o.CgroupLimit()
	if err == nil && raw > 0 {
		if b := float64(raw) * o.Ratio; b < math.MaxInt64 {
			return uint64(b), SourceCgroup, nil
		}
		err = memlimit.ErrNoLimit
	}
	switch {
	case err == nil, errors.Is(err, memlimit.ErrNoLimit):
		o.Log.Info("no cgroup memory limit, using the fallback", "fallback_bytes", o.Fallback)
	default:
		o.Log.Warn("cannot read the cgroup memory limit, using the fallback", "fallback_bytes", o.Fallback, "err", err)
	}
	return uint64(float64(o.Fallback) * o.Ratio), SourceFallback, nil
}

// Budget returns the memory budget in bytes.
func (g *Guard) Budget() uint64 { return g.budget }

// Source returns where the budget came from.
func (g *Guard) Source() Source { return g.source }

// Reserve books a module's resident cost at load time. A module that does
// not fit in the budget's module share is refused with an error wrapping
// ErrOverBudget that gives the numbers; it should not be built. Reserving the
// same module twice is an error.
func (g *Guard) Reserve(module string, resident uint64) error {
	if module == "" {
		return errors.New("memguard: reserve needs a module id")
	}
	g.resMu.Lock()
	defer g.resMu.Unlock()
	if _, dup := g.modules[module]; dup {
		return fmt.Errorf("memguard: module %s reserved twice", module)
	}
	if left := g.moduleShare - g.reserved; resident > left {
		return fmt.Errorf("memguard: module %s needs %d resident bytes, %d of %d module bytes left: %w",
			module, resident, left, g.moduleShare, ErrOverBudget)
	}
	g.modules[module] = struct{}{}
	g.reserved += resident
	return nil
}

// Reserved returns the resident bytes booked by Reserve.
func (g *Guard) Reserved() uint64 {
	g.resMu.Lock()
	defer g.resMu.Unlock()
	return g.reserved
}

// Status is a snapshot for /status.
type Status struct {
	Budget         uint64  `json:"budget_bytes"`
	Source         Source  `json:"source"`
	Limit          uint64  `json:"limit_bytes"` // Go memory limit in force at the last sample
	Used           uint64  `json:"used_bytes"`  // total − released at the last sample
	Pressure       float64 `json:"pressure"`
	Shedding       bool    `json:"shedding"`
	Reserved       uint64  `json:"reserved_bytes"`
	ModuleBudget   uint64  `json:"module_budget_bytes"`
	InFlight       uint64  `json:"inflight_bytes"`
	InFlightBudget uint64  `json:"inflight_budget_bytes"`
}

// Status reports the last sample and the current reservations; call Sample
// first for fresh pressure figures.
func (g *Guard) Status() Status {
	return Status{
		Budget:         g.budget,
		Source:         g.source,
		Limit:          g.limit.Load(),
		Used:           g.used.Load(),
		Pressure:       g.Pressure(),
		Shedding:       g.Shedding(),
		Reserved:       g.Reserved(),
		ModuleBudget:   g.moduleShare,
		InFlight:       g.inFlight.Load(),
		InFlightBudget: g.inFlightCap,
	}
}
