package flags

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// ProviderName is the provider's name in OpenFeature metadata and events.
const ProviderName = "flagfile"

// ErrNoValidFlags is returned (wrapped) by Init when no valid flag set has
// loaded yet. Evaluations then return code defaults until one does.
var ErrNoValidFlags = errors.New("flags: no valid flag set loaded")

// Options configures a Provider.
type Options struct {
	Dir      string           // directory holding the *.yaml / *.yml flag files; required
	Log      *slog.Logger     // nil: discard
	Metrics  *metrics.Metrics // required
	Debounce time.Duration    // quiet time after a file event before reloading; 0: 100 ms
	Poll     time.Duration    // content-hash re-read interval, the safety net for missed events; 0: 30 s
	Now      func() time.Time // clock for timestamps and $flagd.timestamp; nil: time.Now
	Limits   Limits           // caps on the files and flags of a set; zero fields: the defaults
}

// Status describes the flag files for /status and /readyz.
type Status struct {
	Valid      bool      // the files on disk are the ones in force
	Files      []string  // files of the set in force
	LastError  string    // why the last reload was rejected; "" when Valid
	LastReload time.Time // last successful reload; zero if none
	Flags      []string  // flag keys in force, sorted
}

// Provider is an OpenFeature provider over flagd-format flag files. It keeps
// the last good flag set when a reload is rejected and stays READY.
// Evaluation reads one atomic pointer and takes no lock.
type Provider struct {
	dir      string
	log      *slog.Logger
	m        *metrics.Metrics
	debounce time.Duration
	poll     time.Duration
	now      func() time.Time
	limits   Limits

	set    atomic.Pointer[flagSet]
	events chan of.Event

	reloadMu   sync.Mutex // one reload at a time; guards the fields below
	lastHash   [sha256.Size]byte
	hashed     bool
	initFailed bool // Init returned an error; emit READY when a set loads

	statusMu sync.Mutex
	status   Status

	running atomic.Bool
}

var (
	_ of.FeatureProvider = (*Provider)(nil)
	_ of.StateHandler    = (*Provider)(nil)
	_ of.EventHandler    = (*Provider)(nil)
)

// NewProvider builds a provider and loads dir once. A bad flag set is not an
// error here: it is logged, counted and shown by Status, and Init reports it.
// Call Run to follow changes.
func NewProvider(opts Options) (*Provider, error) {
	switch {
	case opts.Dir == "":
		return nil, errors.New("flags: provider needs a directory")
	case opts.Metrics == nil:
		return nil, errors.New("flags: provider needs metrics")
	case opts.Debounce < 0 || opts.Poll < 0:
		return nil, errors.New("flags: negative debounce or poll interval")
	case opts.Limits.MaxFileBytes < 0 || opts.Limits.MaxFlags < 0:
		return nil, errors.New("flags: negative file or flag limit")
	}
	p := &Provider{
		dir:      opts.Dir,
		log:      opts.Log,
		m:        opts.Metrics,
		debounce: opts.Debounce,
		poll:     opts.Poll,
		now:      opts.Now,
		limits:   opts.Limits.withDefaults(),
		events:   make(chan of.Event, 16),
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.debounce == 0 {
		p.debounce = 100 * time.Millisecond
	}
	if p.poll == 0 {
		p.poll = 30 * time.Second
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.reload(context.Background())
	return p, nil
}

// Metadata names the provider.
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: ProviderName} }

// Hooks returns no provider hooks.
func (p *Provider) Hooks() []of.Hook { return nil }

// Init succeeds when a valid flag set is loaded, retrying the load once if
// none is. On failure the SDK marks the provider ERROR but keeps calling it;
// the first good reload then emits PROVIDER_READY.
func (p *Provider) Init(of.EvaluationContext) error {
	if p.set.Load() == nil {
		p.reload(context.Background())
	}
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if p.set.Load() != nil {
		p.initFailed = false
		return nil
	}
	p.initFailed = true
	return fmt.Errorf("%w: %s", ErrNoValidFlags, p.Status().LastError)
}

// Shutdown does nothing: the watch belongs to Run and ends with its context.
func (p *Provider) Shutdown() {}

// EventChannel carries PROVIDER_CONFIGURATION_CHANGED (and PROVIDER_READY
// after a failed Init). Rejected reloads emit nothing.
func (p *Provider) EventChannel() <-chan of.Event { return p.events }

// Status reports the flag files' state.
func (p *Provider) Status() Status {
	p.statusMu.Lock()
	defer p.statusMu.Unlock()
	s := p.status
	s.Files = slices.Clone(s.Files)
	s.Flags = slices.Clone(s.Flags)
	return s
}

// BooleanEvaluation resolves a boolean flag.
func (p *Provider) BooleanEvaluation(_ context.Context, key string, def bool, fc of.FlattenedContext) of.BoolResolutionDetail {
	v, d, ok := p.evaluate(key, kindBool, fc)
	if !ok {
		return of.BoolResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	return of.BoolResolutionDetail{Value: v.(bool), ProviderResolutionDetail: d}
}

// StaticBoolean answers a boolean flag whose value is the same for every
// chat (no targeting, or DISABLED) without an evaluation context; ok is false
// when the flag needs one (targeted, missing, another type, no valid set).
func (p *Provider) StaticBoolean(key string) (d of.BoolResolutionDetail, ok bool) {
	set := p.set.Load()
	if set == nil {
		return d, false
	}
	f := set.flags[key]
	if f == nil || f.kind != kindBool || f.rule != nil && !f.disabled {
		return d, false
	}
	return p.BooleanEvaluation(context.Background(), key, false, nil), true
}

// StringEvaluation resolves a string flag.
func (p *Provider) StringEvaluation(_ context.Context, key string, def string, fc of.FlattenedContext) of.StringResolutionDetail {
	v, d, ok := p.evaluate(key, kindString, fc)
	if !ok {
		return of.StringResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	return of.StringResolutionDetail{Value: v.(string), ProviderResolutionDetail: d}
}

// FloatEvaluation resolves a number flag.
func (p *Provider) FloatEvaluation(_ context.Context, key string, def float64, fc of.FlattenedContext) of.FloatResolutionDetail {
	v, d, ok := p.evaluate(key, kindNumber, fc)
	if !ok {
		return of.FloatResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	return of.FloatResolutionDetail{Value: v.(float64), ProviderResolutionDetail: d}
}

// IntEvaluation resolves a number flag whose variants are whole numbers.
func (p *Provider) IntEvaluation(_ context.Context, key string, def int64, fc of.FlattenedContext) of.IntResolutionDetail {
	v, d, ok := p.evaluate(key, kindNumber, fc)
	if !ok {
		return of.IntResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	f := v.(float64)
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return of.IntResolutionDetail{Value: def, ProviderResolutionDetail: errDetail(
			of.NewTypeMismatchResolutionError(fmt.Sprintf("flag %q variant %q is %v, not an integer", key, d.Variant, f)))}
	}
	return of.IntResolutionDetail{Value: int64(f), ProviderResolutionDetail: d}
}

// ObjectEvaluation resolves a flag whose variants are objects or lists.
func (p *Provider) ObjectEvaluation(_ context.Context, key string, def any, fc of.FlattenedContext) of.InterfaceResolutionDetail {
	v, d, ok := p.evaluate(key, kindObject, fc)
	if !ok {
		return of.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	return of.InterfaceResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

func errDetail(e of.ResolutionError) of.ProviderResolutionDetail {
	return of.ProviderResolutionDetail{ResolutionError: e, Reason: of.ErrorReason}
}

// evaluate resolves key; ok false means "answer the caller's default" with
// the detail saying why (DISABLED, DEFAULT or an error).
func (p *Provider) evaluate(key string, want valueKind, fc of.FlattenedContext) (any, of.ProviderResolutionDetail, bool) {
	set := p.set.Load()
	if set == nil {
		return nil, errDetail(of.NewProviderNotReadyResolutionError("no valid flag set loaded")), false
	}
	f := set.flags[key]
	switch {
	case f == nil:
		return nil, errDetail(of.NewFlagNotFoundResolutionError(fmt.Sprintf("flag %q not found", key))), false
	case f.disabled:
		return nil, f.static, false
	case f.kind != want:
		return nil, errDetail(of.NewTypeMismatchResolutionError(
			fmt.Sprintf("flag %q is a %s flag, not %s", key, f.kind, want))), false
	case f.rule == nil:
		if f.defVariant == "" {
			return nil, f.static, false
		}
		return f.variants[f.defVariant], f.static, true
	}
	e := env{flagKey: key, fc: fc, now: p.now}
	var name string
	switch r := f.rule.eval(e).(type) {
	case nil:
	case string:
		name = r
	case bool:
		name = strconv.FormatBool(r)
	default:
		return nil, errDetail(of.NewGeneralResolutionError(
			fmt.Sprintf("flag %q: targeting returned %v, not a variant name", key, r))), false
	}
	if name == "" {
		d := of.ProviderResolutionDetail{Reason: of.DefaultReason, Variant: f.defVariant, FlagMetadata: f.meta}
		if f.defVariant == "" {
			return nil, d, false
		}
		return f.variants[f.defVariant], d, true
	}
	v, ok := f.variants[name]
	if !ok {
		return nil, errDetail(of.NewGeneralResolutionError(
			fmt.Sprintf("flag %q: targeting returned unknown variant %q", key, name))), false
	}
	return v, of.ProviderResolutionDetail{Reason: of.TargetingMatchReason, Variant: name, FlagMetadata: f.meta}, true
}

// reload reads the directory and swaps in the new set if it is valid. Any
// problem keeps the last good set: it is logged and counted, never emitted
// as PROVIDER_ERROR.
func (p *Provider) reload(ctx context.Context) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	srcs, probs, hash, err := readDir(p.dir, p.limits)
	if p.hashed && hash == p.lastHash {
		p.m.FlagReloads.WithLabelValues("unchanged").Inc()
		return
	}
	p.lastHash, p.hashed = hash, true
	if err != nil {
		p.reject(ctx, []Problem{{File: p.dir, Reason: err.Error()}})
		return
	}
	if len(probs) > 0 {
		p.reject(ctx, probs)
		return
	}
	set, probs := compileSet(p.dir, srcs, p.limits.MaxFlags)
	if len(probs) > 0 {
		p.reject(ctx, probs)
		return
	}
	old := p.set.Swap(set)
	now := p.now()
	p.statusMu.Lock()
	p.status = Status{Valid: true, Files: set.files, LastReload: now, Flags: set.keys}
	p.statusMu.Unlock()
	p.m.FlagReloads.WithLabelValues("ok").Inc()
	p.m.FlagConfigValid.Set(1)
	p.m.FlagLastReload.Set(float64(now.Unix()))
	changed := changedKeys(old, set)
	p.log.InfoContext(ctx, "flags loaded", "dir", p.dir, "files", len(set.files), "flags", len(set.keys),
		"changed", len(changed), "changed_first", firstKeys(changed))
	if p.initFailed {
		p.initFailed = false
		p.emit(ctx, of.Event{ProviderName: ProviderName, EventType: of.ProviderReady,
			ProviderEventDetails: of.ProviderEventDetails{Message: "flag set loaded"}})
	}
	if old != nil && len(changed) > 0 {
		p.emit(ctx, of.Event{ProviderName: ProviderName, EventType: of.ProviderConfigChange,
			ProviderEventDetails: of.ProviderEventDetails{Message: "flag files changed", FlagChanges: changed}})
	}
}

func (p *Provider) reject(ctx context.Context, probs []Problem) {
	first := probs[0]
	p.statusMu.Lock()
	p.status.Valid = false
	p.status.LastError = clip(first.String())
	p.statusMu.Unlock()
	p.m.FlagReloads.WithLabelValues("rejected").Inc()
	p.m.FlagReloadFailure.Inc()
	p.m.FlagConfigValid.Set(0)
	keeping := "none"
	if p.set.Load() != nil {
		keeping = "last good set"
	}
	p.log.ErrorContext(ctx, "flag files rejected", "file", first.File, "line", first.Line, "reason", clip(first.Reason),
		"problems", len(probs), "keeping", keeping)
}

// emit never blocks: the SDK drains the channel once the provider is set; an
// unregistered provider drops events rather than stalling reloads.
func (p *Provider) emit(ctx context.Context, ev of.Event) {
	select {
	case p.events <- ev:
	default:
		p.log.WarnContext(ctx, "flag event dropped: channel full", "event", string(ev.EventType))
	}
}

// Log lines name at most logKeys keys, each clipped to logChars: a set may
// hold a thousand flags and a key or reason may be as long as the file.
const (
	logKeys  = 5
	logChars = 200
)

// firstKeys is the head of keys for a log line, the full count logged beside it.
func firstKeys(keys []string) []string {
	out := make([]string, 0, min(len(keys), logKeys))
	for _, k := range keys[:min(len(keys), logKeys)] {
		out = append(out, clip(k))
	}
	return out
}

// clip shortens s to logChars bytes on a rune boundary, marking the cut.
func clip(s string) string {
	if len(s) <= logChars {
		return s
	}
	cut := logChars
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// changedKeys lists keys added, removed or redefined, sorted.
func changedKeys(old, cur *flagSet) []string {
	if old == nil {
		return slices.Clone(cur.keys)
	}
	var out []string
	for k, f := range cur.flags {
		if o, ok := old.flags[k]; !ok || o.fingerprint != f.fingerprint || f.fingerprint == "" {
			out = append(out, k)
		}
	}
	for k := range old.flags {
		if _, ok := cur.flags[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
