// Package dispatch routes a command to the module that owns it, and a button
// press to the command its data names (modules/callback), an inline query to
// the module that answers them, a change of the bot's membership to a hook
// and a hello. It builds the
// registered modules (skipping enhanced ones the memory budget cannot hold),
// gates enhanced commands and /price sections per chat by their flag and the
// memory guard, enforces the reply deadline, and turns every outcome into a
// reply: a chat never meets silence.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// Gate decides a module's flag for one chat. Any error must read as off.
type Gate interface {
	Enabled(ctx context.Context, key string, req modules.Request) bool
}

// Guard is the memory guard as the router sees it.
type Guard interface {
	Reserve(module string, resident uint64) error
	Admit(module string, bytes uint64) (release func(), err error)
}

// Outcome labels of cryptobot_commands_total.
const (
	OutcomeOK       = "ok"
	OutcomeError    = "error"
	OutcomePanic    = "panic"
	OutcomeDisabled = "disabled"
	OutcomeShed     = "shed"
	OutcomeUnknown  = "unknown"
	OutcomeDenied   = "denied"
)

// CommandOutcomes lists every outcome label the router records, for metrics.Init.
func CommandOutcomes() []string {
	return []string{OutcomeOK, OutcomeError, OutcomePanic, OutcomeDisabled, OutcomeShed, OutcomeUnknown, OutcomeDenied}
}

// Replies for outcomes that are not the module's to answer.
const (
	hintText     = "I answer commands. Try /price BTC or /help."
	unknownText  = "Unknown command. Send /help to see what I can do."
	disabledText = "This feature is not available in this chat yet."
	shedText     = "This feature is paused for a moment while the bot is busy. /price still works."
	failedText   = "Sorry, something went wrong on our side. Please try again in a moment."
	failedToast  = "Sorry, something went wrong. Try again in a moment."
)

// Options configure a Router.
type Options struct {
	Gate         Gate
	Guard        Guard
	Admins       []int64
	ReplyTimeout time.Duration // from Request.Received; default 5 s
	// SectionsWait is how long /price waits for its sections once the core
	// quote is ready (default 250 ms); a section not ready by then is left
	// out and counted late, and its fetch goes on in the background, bounded
	// by ReplyTimeout, so the next request finds its data cached.
	SectionsWait time.Duration
	Metrics      *metrics.Metrics
	Log          *slog.Logger
	// OnMembership, if set, is told of every change of the bot's own status
	// in a chat ("member", "administrator", "left", "kicked", …), before
	// any hello: cmd/server pauses the chat's alerts and digests when the
	// bot is removed or blocked, and resumes them when it is back.
	OnMembership func(ctx context.Context, chat int64, status string)
}

type entry struct {
	info modules.Info
	cmd  modules.Command
}

type sectioner struct {
	info modules.Info
	s    modules.Sectioner
}

// Loaded is a built module.
type Loaded struct {
	Info   modules.Info
	Module modules.Module
}

// Skipped is a module that was not built, with the reason.
type Skipped struct {
	Info   modules.Info
	Cause  SkipCause
	Reason string // for people: the cause and the error
}

// SkipCause is why a module was not built; its value is the reason label of
// cryptobot_module_skipped.
type SkipCause string

// Skip causes.
const (
	SkipMemoryBudget SkipCause = "memory_budget" // its resident cost does not fit
	SkipError        SkipCause = "error"         // its New failed
)

// SkipCauses lists every SkipCause, for metrics.Init.
func SkipCauses() []string { return []string{string(SkipMemoryBudget), string(SkipError)} }

// Router dispatches requests. Build it with New, then Load the modules.
type Router struct {
	opts     Options
	admins   map[int64]bool
	commands map[string]entry
	order    []string // command names in registration order, for /help
	sections []sectioner
	loaded   []Loaded
	skipped  []Skipped
	inliner  Inliner
}

// New returns a router with no modules yet; pass it as Deps.Catalog and
// Deps.Sections before Load so modules can list commands and gather sections.
func New(opts Options) *Router {
	if opts.ReplyTimeout <= 0 {
		opts.ReplyTimeout = 5 * time.Second
	}
	if opts.SectionsWait <= 0 {
		opts.SectionsWait = 250 * time.Millisecond
	}
	r := &Router{opts: opts, admins: map[int64]bool{}, commands: map[string]entry{}}
	for _, id := range opts.Admins {
		r.admins[id] = true
	}
	return r
}

// Load builds each module. An enhanced module whose resident cost does not fit
// the budget, or whose New fails, is skipped with a reason. A command name
// claimed twice is a programmer error and fails the load.
func (r *Router) Load(infos []modules.Info, deps func(modules.Info) modules.Deps) error {
	for _, info := range infos {
		if info.Enhanced() {
			if err := r.opts.Guard.Reserve(info.ID, info.Cost.Resident); err != nil {
				r.skip(info, SkipMemoryBudget, "memory budget: "+err.Error())
				continue
			}
		}
		m, err := info.New(deps(info))
		if err != nil {
			r.skip(info, SkipError, "new: "+err.Error())
			continue
		}
		for _, c := range m.Commands() {
			if !modules.ValidCommandName(c.Name) || c.Handler == nil {
				return fmt.Errorf("module %s: bad command %q", info.ID, c.Name)
			}
			if prev, dup := r.commands[c.Name]; dup {
				return fmt.Errorf("command /%s claimed by %s and %s", c.Name, prev.info.ID, info.ID)
			}
			r.commands[c.Name] = entry{info: info, cmd: c}
			r.order = append(r.order, c.Name)
			r.opts.Metrics.Commands.WithLabelValues(c.Name, OutcomeOK)
		}
		if s, ok := m.(modules.Sectioner); ok && info.Enhanced() {
			r.sections = append(r.sections, sectioner{info, s})
		}
		if in, ok := m.(Inliner); ok && r.inliner == nil {
			r.inliner = in
		}
		r.loaded = append(r.loaded, Loaded{info, m})
		r.opts.Metrics.ModuleLoaded.WithLabelValues(info.ID).Set(1)
		r.opts.Log.Info("module loaded", "module", info.ID, "flag", info.Flag)
	}
	return nil
}

func (r *Router) skip(info modules.Info, cause SkipCause, reason string) {
	r.skipped = append(r.skipped, Skipped{info, cause, reason})
	r.opts.Metrics.ModuleLoaded.WithLabelValues(info.ID).Set(0)
	r.opts.Metrics.ModuleSkipped.WithLabelValues(info.ID, string(cause)).Set(1)
	r.opts.Log.Warn("module skipped", "module", info.ID, "reason", reason)
}

// Modules returns what Load built and skipped.
func (r *Router) Modules() ([]Loaded, []Skipped) { return r.loaded, r.skipped }

// Commands lists every loaded command, admin ones included, for setMyCommands
// filtering by the caller.
func (r *Router) Commands() []modules.Command {
	out := make([]modules.Command, 0, len(r.order))
	for _, name := range r.order {
		out = append(out, r.commands[name].cmd)
	}
	return out
}

// Available lists the commands this chat may use now (modules.Catalog).
func (r *Router) Available(ctx context.Context, req modules.Request) []modules.Command {
	var out []modules.Command
	for _, name := range r.order {
		e := r.commands[name]
		if e.cmd.Admin && !r.admins[req.ChatID] {
			continue
		}
		if e.info.Enhanced() && !r.opts.Gate.Enabled(ctx, e.info.Flag, req) {
			continue
		}
		out = append(out, e.cmd)
	}
	return out
}

// Handle answers one request; it never returns an empty reply for a command.
// It owns the work deadline and recovers any panic below it: a chat never
// meets silence, and the transport only queues and sends. Presses, inline
// queries and membership changes are told apart before commands, so none of
// them gets the plain-text hint.
func (r *Router) Handle(ctx context.Context, req modules.Request) (reply modules.Reply) {
	if req.Received.IsZero() {
		req.Received = time.Now()
	}
	ctx, cancel := context.WithDeadline(ctx, WorkDeadline(req.Received, r.opts.ReplyTimeout, time.Now()))
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			r.opts.Metrics.Panics.Inc()
			r.opts.Log.Error("handler panic", "command", req.Command, "module", r.commands[req.Command].info.ID,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			r.count(r.label(req.Command), OutcomePanic)
			reply = modules.Reply{Text: failedText}
			if req.Callback != nil {
				reply = modules.Reply{Toast: failedToast}
			}
		}
	}()

	switch {
	case req.Callback != nil:
		return r.press(ctx, &req)
	case req.Inline != nil:
		return r.inline(ctx, req)
	case req.Member != nil:
		return r.membership(ctx, req)
	case req.Command == "":
		return modules.Reply{Text: hintText}
	}
	e, ok := r.commands[req.Command]
	if !ok || e.cmd.Admin && !r.admins[req.ChatID] {
		r.countUnknown(ok)
		return modules.Reply{Text: unknownText}
	}
	release, text, outcome := r.admit(ctx, e, req)
	if release == nil {
		r.count(req.Command, outcome)
		return modules.Reply{Text: text}
	}
	defer release()
	reply, outcome = r.call(ctx, e, req)
	r.count(req.Command, outcome)
	return reply
}

// countUnknown counts a command nobody serves here: unknown, or an admin
// command outside the admin chats (denied).
func (r *Router) countUnknown(exists bool) {
	label := OutcomeUnknown
	if exists {
		label = OutcomeDenied
	}
	r.count("unknown", label)
}

// admit applies an enhanced command's flag and the memory guard. A nil
// release means refused, with the text to answer and the outcome to count.
func (r *Router) admit(ctx context.Context, e entry, req modules.Request) (release func(), text, outcome string) {
	if !e.info.Enhanced() {
		return func() {}, "", ""
	}
	if !r.opts.Gate.Enabled(ctx, e.info.Flag, req) {
		return nil, disabledText, OutcomeDisabled
	}
	release, err := r.opts.Guard.Admit(e.info.ID, e.info.Cost.PerRequest)
	if err != nil {
		return nil, shedText, OutcomeShed
	}
	return release, "", ""
}

// label is the command label for metrics: a served command, or "unknown".
func (r *Router) label(command string) string {
	if _, ok := r.commands[command]; ok {
		return command
	}
	return "unknown"
}

func (r *Router) call(ctx context.Context, e entry, req modules.Request) (modules.Reply, string) {
	reply, err := e.cmd.Handler.Handle(ctx, req)
	if err != nil {
		r.opts.Log.Error("command failed", "command", req.Command, "module", e.info.ID, "chat_id", req.ChatID, "err", err)
		return modules.Reply{Text: failedText}, OutcomeError
	}
	if reply.Text == "" && reply.Photo == nil {
		r.opts.Log.Error("command answered nothing", "command", req.Command, "module", e.info.ID)
		return modules.Reply{Text: failedText}, OutcomeError
	}
	return reply, OutcomeOK
}

func (r *Router) count(command, outcome string) {
	r.opts.Metrics.Commands.WithLabelValues(command, outcome).Inc()
}

// Section outcomes of cryptobot_price_sections_total.
const (
	SectionOK     = "ok"
	SectionOff    = "off"
	SectionShed   = "shed"
	SectionFailed = "failed"
	SectionLate   = "late"
	SectionEmpty  = "empty"
)

// SectionOutcomes lists every section outcome the router records, for metrics.Init.
func SectionOutcomes() []string {
	return []string{SectionOK, SectionOff, SectionShed, SectionFailed, SectionLate, SectionEmpty}
}

// Sections gathers the /price lines of every enhanced module that is on for
// this chat, concurrently, waiting at most SectionsWait (and never past ctx).
// Sections that are off, shed, failing or late are left out; a late one keeps
// fetching under a detached context of its own so its data is cached for the
// next request. Each section is counted once per request.
func (r *Router) Sections(ctx context.Context, req modules.Request, pair market.Pair) []string {
	if len(r.sections) == 0 {
		return nil
	}
	type result struct {
		i             int
		line, outcome string
	}
	type admitted struct {
		i       int
		release func()
	}
	var run []admitted
	for i, s := range r.sections {
		if !r.opts.Gate.Enabled(ctx, s.info.Flag, req) {
			r.section(s.info.ID, SectionOff)
			continue
		}
		release, err := r.opts.Guard.Admit(s.info.ID, s.info.Cost.PerRequest)
		if err != nil {
			r.section(s.info.ID, SectionShed)
			continue
		}
		run = append(run, admitted{i, release})
	}
	if len(run) == 0 {
		return nil
	}
	bg, done := detached(ctx, r.opts.ReplyTimeout, len(run))
	// Buffered for every section, so a late one never blocks after we return.
	results := make(chan result, len(run))
	waiting := make([]bool, len(r.sections))
	for _, a := range run {
		waiting[a.i] = true
		go func() {
			defer done()
			defer a.release()
			line, outcome := r.runSection(bg, r.sections[a.i], req, pair)
			results <- result{a.i, line, outcome}
		}()
	}
	pending := len(run)
	wait := time.NewTimer(r.opts.SectionsWait)
	defer wait.Stop()
	lines := make([]string, len(r.sections))
collect:
	for ; pending > 0; pending-- {
		select {
		case res := <-results:
			waiting[res.i] = false
			r.section(r.sections[res.i].info.ID, res.outcome)
			lines[res.i] = res.line
		case <-wait.C:
			break collect
		case <-ctx.Done():
			break collect
		}
	}
	for i, w := range waiting {
		if w {
			r.section(r.sections[i].info.ID, SectionLate)
		}
	}
	return slices.DeleteFunc(lines, func(s string) bool { return s == "" })
}

// detached returns a context that outlives ctx (keeping its values), ended
// by its bound or once each of its n users has called done: one context for
// a request's sections rather than one each.
func detached(ctx context.Context, bound time.Duration, n int) (_ context.Context, done func()) {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	var left atomic.Int32
	left.Store(int32(n))
	return bg, func() {
		if left.Add(-1) == 0 {
			cancel()
		}
	}
}

func (r *Router) runSection(ctx context.Context, s sectioner, req modules.Request, pair market.Pair) (line, outcome string) {
	defer func() {
		if p := recover(); p != nil {
			r.opts.Metrics.Panics.Inc()
			r.opts.Log.Error("section panic", "module", s.info.ID, "panic", fmt.Sprint(p))
			line, outcome = "", SectionFailed
		}
	}()
	line, err := s.s.Section(ctx, req, pair)
	switch {
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
		return "", SectionLate
	case err != nil:
		r.opts.Log.Warn("section failed", "module", s.info.ID, "pair", pair.String(), "err", err)
		return "", SectionFailed
	case line == "":
		return "", SectionEmpty
	}
	return line, SectionOK
}

func (r *Router) section(module, outcome string) {
	r.opts.Metrics.SectionsTotal.WithLabelValues(module, outcome).Inc()
}
