package memguard

import (
	"context"
	"errors"
	"math"
	"runtime/debug"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

const (
	msgShed   = "memory pressure high, shedding enhanced work"
	msgResume = "memory pressure back to normal, resuming enhanced work"
)

func TestHysteresis(t *testing.T) {
	g := newTestGuard(t, Options{Limit: 64 * mib})
	steps := []struct {
		name         string
		used, limit  uint64
		wantPressure float64
		wantShedding bool
	}{
		{name: "low pressure", used: 50, limit: 100, wantPressure: 0.50},
		{name: "just below high", used: 84, limit: 100, wantPressure: 0.84},
		{name: "at high sheds", used: 85, limit: 100, wantPressure: 0.85, wantShedding: true},
		{name: "between keeps shedding", used: 80, limit: 100, wantPressure: 0.80, wantShedding: true},
		{name: "just above low keeps shedding", used: 71, limit: 100, wantPressure: 0.71, wantShedding: true},
		{name: "at low resumes", used: 70, limit: 100, wantPressure: 0.70},
		{name: "between stays resumed", used: 84, limit: 100, wantPressure: 0.84},
		{name: "over the limit sheds", used: 150, limit: 100, wantPressure: 1.5, wantShedding: true},
		{name: "still high, no second transition", used: 90, limit: 100, wantPressure: 0.90, wantShedding: true},
		{name: "no limit in force reads 0 and resumes", used: 90, limit: math.MaxInt64, wantPressure: 0},
		{name: "zero limit reads 0", used: 90, limit: 0, wantPressure: 0},
		{name: "limit back", used: 10, limit: 100, wantPressure: 0.10},
	}
	for _, s := range steps {
		g.sampler.setRatio(s.used, s.limit)
		if got := g.Sample(); got != s.wantPressure {
			t.Errorf("%s: Sample() = %v, want %v", s.name, got, s.wantPressure)
		}
		if got := g.Pressure(); got != s.wantPressure {
			t.Errorf("%s: Pressure() = %v, want %v", s.name, got, s.wantPressure)
		}
		if got := g.Shedding(); got != s.wantShedding {
			t.Errorf("%s: Shedding() = %v, want %v", s.name, got, s.wantShedding)
		}
		if got := testutil.ToFloat64(g.m.MemoryPressure); got != s.wantPressure {
			t.Errorf("%s: memory_pressure_ratio = %v, want %v", s.name, got, s.wantPressure)
		}
		wantGauge := 0.0
		if s.wantShedding {
			wantGauge = 1
		}
		if got := testutil.ToFloat64(g.m.MemoryShedding); got != wantGauge {
			t.Errorf("%s: memory_shedding = %v, want %v", s.name, got, wantGauge)
		}
	}

	// Each transition is logged once: two sheds, two resumes, one lost
	// limit (New's first sample saw 0 of 1 GiB: no message).
	logs := g.logs.String()
	for msg, want := range map[string]int{
		msgShed:                         2,
		msgResume:                       2,
		"no Go memory limit in force":   1,
		"Go memory limit back in force": 1,
	} {
		if got := strings.Count(logs, msg); got != want {
			t.Errorf("log %q appears %d times, want %d; logs:\n%s", msg, got, want, logs)
		}
	}
}

// TestHysteresisRealRuntime drives the real signal with debug.SetMemoryLimit;
// it must not run in parallel with other tests.
func TestHysteresisRealRuntime(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	m := metrics.New("test", "test")
	g, err := New(Options{Limit: gib, Metrics: m, LookupEnv: env(), CgroupLimit: noCgroupLimit})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if g.Shedding() {
		t.Fatalf("shedding with a 1 GiB limit, pressure %v", g.Pressure())
	}

	// A limit far below what the process already holds: pressure ≫ 0.85.
	debug.SetMemoryLimit(1 * mib)
	p := g.Sample()
	debug.SetMemoryLimit(1 << 40)
	if p < 0.85 || !g.Shedding() {
		t.Fatalf("with a 1 MiB limit: pressure %v, shedding %v; want ≥ 0.85 and shedding", p, g.Shedding())
	}
	if st := g.Status(); st.Limit != 1*mib || st.Used == 0 || !st.Shedding {
		t.Errorf("Status while shedding = %+v, want limit 1 MiB, some use, shedding", st)
	}
	if got := testutil.ToFloat64(m.MemoryShedding); got != 1 {
		t.Errorf("memory_shedding = %v, want 1", got)
	}
	if _, err := g.Admit("enhanced.chart", 1); !errors.Is(err, ErrShedding) {
		t.Errorf("Admit while shedding: err = %v, want ErrShedding", err)
	}

	// A huge limit: pressure ≈ 0 ≤ 0.70, shedding stops.
	if p := g.Sample(); p > 0.70 || g.Shedding() {
		t.Fatalf("with a 1 TiB limit: pressure %v, shedding %v; want ≤ 0.70 and not shedding", p, g.Shedding())
	}
	if got := testutil.ToFloat64(m.MemoryShedding); got != 0 {
		t.Errorf("memory_shedding = %v, want 0", got)
	}
	rel, err := g.Admit("enhanced.chart", 1)
	if err != nil {
		t.Errorf("Admit after resuming: %v", err)
	}
	rel()
}

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newTestGuard(t, Options{Limit: 64 * mib, Interval: time.Second})
		base := g.sampler.calls.Load() // New's first sample

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()

		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		if got := g.sampler.calls.Load() - base; got != 2 {
			t.Errorf("samples after 2.5 intervals = %d, want 2", got)
		}

		g.sampler.setRatio(90, 100)
		time.Sleep(time.Second)
		synctest.Wait()
		if !g.Shedding() {
			t.Errorf("not shedding one interval after pressure reached 0.9")
		}

		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	})
}

func TestStatus(t *testing.T) {
	g := newTestGuard(t, Options{Limit: 128 * mib, InFlight: 8 * mib, ModuleShare: 0.25})
	if err := g.Reserve("enhanced.funding", 3*mib); err != nil {
		t.Fatal(err)
	}
	rel, err := g.Admit("enhanced.funding", 2*mib)
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	g.sampler.setRatio(96*mib, 128*mib)
	g.Sample()

	want := Status{
		Budget:         128 * mib,
		Source:         SourceConfig,
		Limit:          128 * mib,
		Used:           96 * mib,
		Pressure:       0.75,
		Shedding:       false,
		Reserved:       3 * mib,
		ModuleBudget:   32 * mib,
		InFlight:       2 * mib,
		InFlightBudget: 8 * mib,
	}
	if got := g.Status(); got != want {
		t.Errorf("Status() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestSampleAllocations(t *testing.T) {
	// The real runtime sampler; the fake memory limit keeps the process
	// limit untouched.
	g := newTestGuard(t, Options{Limit: 64 * mib, Sampler: newRuntimeSampler().read})
	if got := testing.AllocsPerRun(100, func() { g.Sample() }); got != 0 {
		t.Errorf("allocations per Sample = %v, want 0", got)
	}
}

func TestRuntimeSampler(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	debug.SetMemoryLimit(512 * mib)

	used, limit := newRuntimeSampler().read()
	if limit != 512*mib {
		t.Errorf("limit = %d, want %d", limit, 512*mib)
	}
	if used == 0 || used > 512*mib {
		t.Errorf("used = %d, want some bytes below the limit", used)
	}
}

func BenchmarkSample(b *testing.B) {
	g := newTestGuard(b, Options{Limit: 64 * mib, Sampler: newRuntimeSampler().read})
	b.ReportAllocs()
	for b.Loop() {
		g.Sample()
	}
}
