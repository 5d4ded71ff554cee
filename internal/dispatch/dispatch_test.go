package dispatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// flagsOn is a Gate fake: a flag is on for the listed chats.
type flagsOn map[string][]int64

func (f flagsOn) Enabled(_ context.Context, key string, req modules.Request) bool {
	return slices.Contains(f[key], req.ChatID)
}

// guard is a Guard fake.
type guard struct {
	mu       sync.Mutex
	budget   uint64
	shedding bool
	inflight int
	released int
	reserved []string
}

func (g *guard) Reserve(module string, resident uint64) error {
	if resident > g.budget {
		return errors.New("does not fit")
	}
	g.budget -= resident
	g.reserved = append(g.reserved, module)
	return nil
}

func (g *guard) Admit(string, uint64) (func(), error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.shedding {
		return nil, errors.New("shedding")
	}
	g.inflight++
	return func() { g.mu.Lock(); g.released++; g.mu.Unlock() }, nil
}

// feature is a test-only module: one command and an optional section.
type feature struct {
	cmd     string
	reply   func(context.Context, modules.Request) (modules.Reply, error)
	section func(context.Context) (string, error)
}

func (f *feature) Commands() []modules.Command {
	return []modules.Command{{Name: f.cmd, Usage: "/" + f.cmd, Description: f.cmd + " things", Handler: modules.HandlerFunc(f.reply)}}
}

type sectionFeature struct{ *feature }

func (f sectionFeature) Section(ctx context.Context, _ modules.Request, _ market.Pair) (string, error) {
	return f.section(ctx)
}

func text(s string) func(context.Context, modules.Request) (modules.Reply, error) {
	return func(context.Context, modules.Request) (modules.Reply, error) { return modules.Reply{Text: s}, nil }
}

func newRouter(t *testing.T, g *guard, gate flagsOn, infos ...modules.Info) (*Router, *metrics.Metrics) {
	t.Helper()
	m := metrics.New("test", "none")
	r := New(Options{Gate: gate, Guard: g, Admins: []int64{7}, Metrics: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := r.Load(infos, func(modules.Info) modules.Deps { return modules.Deps{} }); err != nil {
		t.Fatal(err)
	}
	return r, m
}

func info(id, flag string, cost uint64, m modules.Module) modules.Info {
	return modules.Info{ID: id, Flag: flag, Cost: modules.Cost{Resident: cost, PerRequest: 1}, New: func(modules.Deps) (modules.Module, error) { return m, nil }}
}

func TestHandleOutcomes(t *testing.T) {
	boom := &feature{cmd: "boom", reply: func(context.Context, modules.Request) (modules.Reply, error) { panic("kaboom") }}
	fail := &feature{cmd: "fail", reply: func(context.Context, modules.Request) (modules.Reply, error) {
		return modules.Reply{}, errors.New("upstream broke")
	}}
	empty := &feature{cmd: "empty", reply: text("")}
	adminOnly := &adminModule{}
	g := &guard{budget: 100}
	r, m := newRouter(t, g, flagsOn{"beta": {42}},
		info("core.ping", "", 0, &feature{cmd: "ping", reply: text("pong")}),
		info("core.boom", "", 0, boom),
		info("core.fail", "", 0, fail),
		info("core.empty", "", 0, empty),
		info("core.admin", "", 0, adminOnly),
		info("enhanced.beta", "beta", 10, &feature{cmd: "beta", reply: text("beta!")}),
	)
	for _, tc := range []struct {
		name    string
		req     modules.Request
		want    string
		outcome [2]string
	}{
		{"core", modules.Request{ChatID: 1, Command: "ping"}, "pong", [2]string{"ping", OutcomeOK}},
		{"no command", modules.Request{ChatID: 1}, hintText, [2]string{}},
		{"unknown", modules.Request{ChatID: 1, Command: "lambo"}, unknownText, [2]string{"unknown", OutcomeUnknown}},
		{"panic", modules.Request{ChatID: 1, Command: "boom"}, failedText, [2]string{"boom", OutcomePanic}},
		{"error", modules.Request{ChatID: 1, Command: "fail"}, failedText, [2]string{"fail", OutcomeError}},
		{"empty reply", modules.Request{ChatID: 1, Command: "empty"}, failedText, [2]string{"empty", OutcomeError}},
		{"enhanced off", modules.Request{ChatID: 1, Command: "beta"}, disabledText, [2]string{"beta", OutcomeDisabled}},
		{"enhanced on", modules.Request{ChatID: 42, Command: "beta"}, "beta!", [2]string{"beta", OutcomeOK}},
		{"admin hidden", modules.Request{ChatID: 1, Command: "secret"}, unknownText, [2]string{"unknown", OutcomeDenied}},
		{"admin", modules.Request{ChatID: 7, Command: "secret"}, "for admins", [2]string{"secret", OutcomeOK}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := 0.0
			if tc.outcome[0] != "" {
				before = testutil.ToFloat64(m.Commands.WithLabelValues(tc.outcome[0], tc.outcome[1]))
			}
			got := r.Handle(context.Background(), tc.req)
			if got.Text != tc.want {
				t.Errorf("reply %q, want %q", got.Text, tc.want)
			}
			if tc.outcome[0] != "" {
				if d := testutil.ToFloat64(m.Commands.WithLabelValues(tc.outcome[0], tc.outcome[1])) - before; d != 1 {
					t.Errorf("commands_total{%s,%s} grew by %v, want 1", tc.outcome[0], tc.outcome[1], d)
				}
			}
		})
	}
	if testutil.ToFloat64(m.Panics) != 1 {
		t.Errorf("panics = %v, want 1", testutil.ToFloat64(m.Panics))
	}
	if g.released != g.inflight {
		t.Errorf("admissions %d, releases %d", g.inflight, g.released)
	}
}

type adminModule struct{}

func (adminModule) Commands() []modules.Command {
	return []modules.Command{{Name: "secret", Admin: true, Handler: modules.HandlerFunc(text("for admins"))}}
}

func TestShedding(t *testing.T) {
	g := &guard{budget: 100, shedding: true}
	r, m := newRouter(t, g, flagsOn{"beta": {42}},
		info("core.ping", "", 0, &feature{cmd: "ping", reply: text("pong")}),
		info("enhanced.beta", "beta", 10, &feature{cmd: "beta", reply: text("beta!")}))
	if got := r.Handle(context.Background(), modules.Request{ChatID: 42, Command: "beta"}); got.Text != shedText {
		t.Errorf("enhanced under pressure: %q", got.Text)
	}
	if got := r.Handle(context.Background(), modules.Request{ChatID: 42, Command: "ping"}); got.Text != "pong" {
		t.Errorf("core under pressure: %q", got.Text)
	}
	if v := testutil.ToFloat64(m.Commands.WithLabelValues("beta", OutcomeShed)); v != 1 {
		t.Errorf("shed count %v", v)
	}
}

func TestLoadSkipsOverBudget(t *testing.T) {
	g := &guard{budget: 15}
	r, m := newRouter(t, g, flagsOn{},
		info("enhanced.small", "a", 10, &feature{cmd: "small", reply: text("s")}),
		info("enhanced.big", "b", 10, &feature{cmd: "big", reply: text("b")}))
	loaded, skipped := r.Modules()
	if len(loaded) != 1 || loaded[0].Info.ID != "enhanced.small" {
		t.Fatalf("loaded %+v", loaded)
	}
	if len(skipped) != 1 || skipped[0].Info.ID != "enhanced.big" || skipped[0].Cause != SkipMemoryBudget || !strings.Contains(skipped[0].Reason, "memory budget") {
		t.Fatalf("skipped %+v", skipped)
	}
	if testutil.ToFloat64(m.ModuleLoaded.WithLabelValues("enhanced.big")) != 0 ||
		testutil.ToFloat64(m.ModuleSkipped.WithLabelValues("enhanced.big", "memory_budget")) != 1 {
		t.Error("skip not visible in metrics")
	}
	if got := r.Handle(context.Background(), modules.Request{ChatID: 1, Command: "big"}); got.Text != unknownText {
		t.Errorf("skipped module answered %q", got.Text)
	}
}

func TestLoadRejectsDuplicateCommand(t *testing.T) {
	r := New(Options{Gate: flagsOn{}, Guard: &guard{}, Metrics: metrics.New("t", "t"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	err := r.Load([]modules.Info{
		info("core.a", "", 0, &feature{cmd: "x", reply: text("a")}),
		info("core.b", "", 0, &feature{cmd: "x", reply: text("b")}),
	}, func(modules.Info) modules.Deps { return modules.Deps{} })
	if err == nil || !strings.Contains(err.Error(), "/x") {
		t.Fatalf("err = %v", err)
	}
}

func TestAvailable(t *testing.T) {
	r, _ := newRouter(t, &guard{budget: 100}, flagsOn{"beta": {42}},
		info("core.ping", "", 0, &feature{cmd: "ping", reply: text("pong")}),
		info("core.admin", "", 0, adminModule{}),
		info("enhanced.beta", "beta", 10, &feature{cmd: "beta", reply: text("beta!")}))
	names := func(chat int64) string {
		var out []string
		for _, c := range r.Available(context.Background(), modules.Request{ChatID: chat}) {
			out = append(out, c.Name)
		}
		return strings.Join(out, ",")
	}
	for chat, want := range map[int64]string{1: "ping", 42: "ping,beta", 7: "ping,secret"} {
		if got := names(chat); got != want {
			t.Errorf("chat %d: %s, want %s", chat, got, want)
		}
	}
}

func TestSections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		line := func(s string) func(context.Context) (string, error) {
			return func(context.Context) (string, error) { return s, nil }
		}
		slow := func(ctx context.Context) (string, error) { // ready after the wait
			select {
			case <-time.After(time.Second):
				return "slow", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		hung := func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() }
		broken := func(context.Context) (string, error) { return "", errors.New("venue down") }
		empty := line("")
		sec := func(id string, f func(context.Context) (string, error)) modules.Info {
			return info(id, strings.TrimPrefix(id, "enhanced."), 1, sectionFeature{&feature{cmd: strings.TrimPrefix(id, "enhanced."), reply: text("x"), section: f}})
		}
		on := flagsOn{}
		for _, f := range []string{"oi", "fund", "slow", "hung", "bad", "empty"} {
			on[f] = []int64{42}
		}
		g := &guard{budget: 100}
		r, m := newRouter(t, g, on,
			sec("enhanced.oi", line("OI $1B")),
			sec("enhanced.fund", line("Funding +0.01%")),
			sec("enhanced.slow", slow),
			sec("enhanced.hung", hung),
			sec("enhanced.bad", broken),
			sec("enhanced.empty", empty),
			sec("enhanced.off", line("never")))
		pair := market.Pair{Base: "BTC", Quote: "USDT"}

		start := time.Now()
		got := r.Sections(t.Context(), modules.Request{ChatID: 42}, pair)
		if waited := time.Since(start); waited != 250*time.Millisecond {
			t.Errorf("waited %s for sections, want the 250ms default", waited)
		}
		if strings.Join(got, "|") != "OI $1B|Funding +0.01%" {
			t.Errorf("sections = %q", got)
		}
		want := map[string]string{"enhanced.oi": SectionOK, "enhanced.fund": SectionOK, "enhanced.slow": SectionLate,
			"enhanced.hung": SectionLate, "enhanced.bad": SectionFailed, "enhanced.empty": SectionEmpty, "enhanced.off": SectionOff}
		for module, outcome := range want {
			if v := testutil.ToFloat64(m.SectionsTotal.WithLabelValues(module, outcome)); v != 1 {
				t.Errorf("%s %s = %v, want 1", module, outcome, v)
			}
		}
		// The late ones keep fetching, detached from the request, within
		// their own bound; each is counted once, and their memory is
		// released when they end.
		synctest.Wait()
		g.mu.Lock()
		if g.released == g.inflight {
			t.Error("late sections were stopped with the request")
		}
		g.mu.Unlock()
		time.Sleep(5 * time.Second) // fake time: past the sections' own bound
		synctest.Wait()
		g.mu.Lock()
		if g.released != g.inflight {
			t.Errorf("admissions %d, releases %d", g.inflight, g.released)
		}
		g.mu.Unlock()
		if v := testutil.ToFloat64(m.SectionsTotal.WithLabelValues("enhanced.slow", SectionOK)); v != 0 {
			t.Errorf("a late section was counted twice (ok = %v)", v)
		}

		if got := r.Sections(t.Context(), modules.Request{ChatID: 1}, pair); len(got) != 0 {
			t.Errorf("sections for a chat with every flag off: %q", got)
		}
		g.shedding = true
		r.Sections(t.Context(), modules.Request{ChatID: 42}, pair)
		outcomes := slices.Sorted(slices.Values(SectionOutcomes()))
		if got := recorded(t, m.SectionsTotal, "outcome"); !slices.Equal(got, outcomes) {
			t.Errorf("recorded outcomes %v, SectionOutcomes %v", got, outcomes)
		}
	})
}

// A request whose own deadline comes first stops the wait there.
func TestSectionsNeverOutwaitTheRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hung := func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() }
		r, m := newRouter(t, &guard{budget: 10}, flagsOn{"hung": {42}},
			info("enhanced.hung", "hung", 1, sectionFeature{&feature{cmd: "hung", reply: text("x"), section: hung}}))
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		r.Sections(ctx, modules.Request{ChatID: 42}, market.Pair{Base: "BTC", Quote: "USDT"})
		if waited := time.Since(start); waited != 100*time.Millisecond {
			t.Errorf("waited %s, want the request's 100ms", waited)
		}
		if v := testutil.ToFloat64(m.SectionsTotal.WithLabelValues("enhanced.hung", SectionLate)); v != 1 {
			t.Errorf("late = %v", v)
		}
		time.Sleep(5 * time.Second) // let the detached fetch reach its own bound
	})
}

type panicGate struct{}

func (panicGate) Enabled(context.Context, string, modules.Request) bool { panic("gate broke") }

// A panic anywhere below Handle, not only in a handler, is answered and counted.
func TestHandleRecoversAPanicOutsideTheHandler(t *testing.T) {
	m := metrics.New("test", "none")
	r := New(Options{Gate: panicGate{}, Guard: &guard{budget: 10}, Metrics: m, Log: slog.New(slog.DiscardHandler)})
	if err := r.Load([]modules.Info{info("enhanced.beta", "beta", 1, &feature{cmd: "beta", reply: text("beta!")})},
		func(modules.Info) modules.Deps { return modules.Deps{} }); err != nil {
		t.Fatal(err)
	}
	if got := r.Handle(t.Context(), modules.Request{ChatID: 1, Command: "beta"}); got.Text != failedText {
		t.Errorf("reply %q, want the apology", got.Text)
	}
	if testutil.ToFloat64(m.Panics) != 1 || testutil.ToFloat64(m.Commands.WithLabelValues("beta", OutcomePanic)) != 1 {
		t.Error("the panic was not counted")
	}
}

// recorded lists the values of label in c's series that have counted something.
func recorded(t *testing.T, c prometheus.Collector, label string) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			if s.GetCounter().GetValue() == 0 {
				continue
			}
			for _, l := range s.GetLabel() {
				if l.GetName() == label && !slices.Contains(out, l.GetValue()) {
					out = append(out, l.GetValue())
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// CommandOutcomes, which metrics.Init creates at zero, is exactly what the
// router records.
func TestCommandOutcomesAreWhatTheRouterRecords(t *testing.T) {
	boom := &feature{cmd: "boom", reply: func(context.Context, modules.Request) (modules.Reply, error) { panic("kaboom") }}
	fail := &feature{cmd: "fail", reply: func(context.Context, modules.Request) (modules.Reply, error) { return modules.Reply{}, errors.New("x") }}
	g := &guard{budget: 100}
	r, m := newRouter(t, g, flagsOn{"beta": {42}},
		info("core.ping", "", 0, &feature{cmd: "ping", reply: text("pong")}),
		info("core.boom", "", 0, boom), info("core.fail", "", 0, fail), info("core.admin", "", 0, adminModule{}),
		info("enhanced.beta", "beta", 10, &feature{cmd: "beta", reply: text("beta!")}))
	for _, req := range []modules.Request{
		{ChatID: 1, Command: "ping"}, {ChatID: 1, Command: "boom"}, {ChatID: 1, Command: "fail"},
		{ChatID: 1, Command: "beta"}, {ChatID: 1, Command: "nope"}, {ChatID: 1, Command: "secret"},
	} {
		r.Handle(t.Context(), req)
	}
	g.shedding = true
	r.Handle(t.Context(), modules.Request{ChatID: 42, Command: "beta"})
	want := slices.Sorted(slices.Values(CommandOutcomes()))
	if got := recorded(t, m.Commands, "outcome"); !slices.Equal(got, want) {
		t.Errorf("recorded outcomes %v, CommandOutcomes %v", got, want)
	}
}
