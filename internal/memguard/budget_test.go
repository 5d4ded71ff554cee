package memguard

import (
	"errors"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

func TestBudgetSources(t *testing.T) {
	cgroup := func(limit uint64) func() (uint64, error) {
		return func() (uint64, error) { return limit, nil }
	}
	failing := func() (uint64, error) { return 0, errors.New("open /proc/self/cgroup: permission denied") }

	tests := []struct {
		name      string
		opts      Options
		runtime   int64 // memory limit the runtime reports before New
		want      uint64
		source    Source
		wantApply bool
	}{
		{
			name:    "GOMEMLIMIT wins over config and cgroup",
			opts:    Options{LookupEnv: env("GOMEMLIMIT", "100MiB"), Limit: 512 * mib, CgroupLimit: cgroup(gib)},
			runtime: 100 * mib,
			want:    100 * mib,
			source:  SourceGOMEMLIMIT,
		},
		{
			name:      "empty GOMEMLIMIT counts as unset",
			opts:      Options{LookupEnv: env("GOMEMLIMIT", ""), Limit: 512 * mib},
			runtime:   math.MaxInt64,
			want:      512 * mib,
			source:    SourceConfig,
			wantApply: true,
		},
		{
			name:      "config wins over cgroup",
			opts:      Options{Limit: 512 * mib, CgroupLimit: cgroup(gib)},
			runtime:   math.MaxInt64,
			want:      512 * mib,
			source:    SourceConfig,
			wantApply: true,
		},
		{
			name:      "cgroup limit times the default ratio",
			opts:      Options{CgroupLimit: cgroup(gib)},
			runtime:   math.MaxInt64,
			want:      times(gib, 0.9),
			source:    SourceCgroup,
			wantApply: true,
		},
		{
			name:      "cgroup limit times a configured ratio",
			opts:      Options{CgroupLimit: cgroup(gib), Ratio: 0.5},
			runtime:   math.MaxInt64,
			want:      512 * mib,
			source:    SourceCgroup,
			wantApply: true,
		},
		{
			name:      "no cgroup limit uses the default fallback",
			opts:      Options{CgroupLimit: noCgroupLimit},
			runtime:   math.MaxInt64,
			want:      times(256*mib, 0.9),
			source:    SourceFallback,
			wantApply: true,
		},
		{
			name:      "unreadable cgroup uses a configured fallback",
			opts:      Options{CgroupLimit: failing, Fallback: 128 * mib},
			runtime:   math.MaxInt64,
			want:      times(128*mib, 0.9),
			source:    SourceFallback,
			wantApply: true,
		},
		{
			name:      "cgroup reporting zero uses the fallback",
			opts:      Options{CgroupLimit: cgroup(0)},
			runtime:   math.MaxInt64,
			want:      times(256*mib, 0.9),
			source:    SourceFallback,
			wantApply: true,
		},
		{
			name:      "cgroup limit beyond int64 after the ratio uses the fallback",
			opts:      Options{CgroupLimit: cgroup(math.MaxUint64), Ratio: 1},
			runtime:   math.MaxInt64,
			want:      256 * mib,
			source:    SourceFallback,
			wantApply: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl := &fakeLimit{cur: tt.runtime}
			tt.opts.SetMemoryLimit = fl.set
			g := newTestGuard(t, tt.opts)
			if got := g.Budget(); got != tt.want {
				t.Errorf("Budget() = %d, want %d", got, tt.want)
			}
			if got := g.Source(); got != tt.source {
				t.Errorf("Source() = %q, want %q", got, tt.source)
			}
			var wantSets []int64
			if tt.wantApply {
				wantSets = []int64{int64(tt.want)}
			}
			if got := fl.applied(); !slices.Equal(got, wantSets) {
				t.Errorf("memory limits applied = %v, want %v", got, wantSets)
			}
			if got := testutil.ToFloat64(g.m.MemoryBudget); got != float64(tt.want) {
				t.Errorf("memory_budget_bytes = %v, want %d", got, tt.want)
			}
			st := g.Status()
			if st.InFlightBudget != tt.want/8 {
				t.Errorf("default in-flight budget = %d, want budget/8 = %d", st.InFlightBudget, tt.want/8)
			}
			if st.ModuleBudget != tt.want/2 {
				t.Errorf("default module budget = %d, want budget/2 = %d", st.ModuleBudget, tt.want/2)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		runtime int64
		want    string
	}{
		{name: "ratio above 1", opts: Options{Ratio: 1.5}, want: "ratio 1.5 outside (0, 1]"},
		{name: "negative ratio", opts: Options{Ratio: -0.1}, want: "ratio -0.1 outside (0, 1]"},
		{name: "NaN ratio", opts: Options{Ratio: math.NaN()}, want: "ratio NaN outside (0, 1]"},
		{name: "module share above 1", opts: Options{ModuleShare: 2}, want: "module share 2 outside (0, 1]"},
		{name: "low above high", opts: Options{High: 0.6, Low: 0.7}, want: "need 0 < low < high, got low 0.7, high 0.6"},
		{name: "low equal to high", opts: Options{High: 0.8, Low: 0.8}, want: "need 0 < low < high"},
		{name: "negative low", opts: Options{Low: -0.1}, want: "need 0 < low < high"},
		{name: "negative interval", opts: Options{Interval: -1}, want: "negative sample interval"},
		{name: "limit written in MiB", opts: Options{Limit: 512}, want: "memory limit 512 bytes outside"},
		{name: "limit beyond int64", opts: Options{Limit: math.MaxUint64}, want: "memory limit 18446744073709551615 bytes outside"},
		{name: "tiny fallback", opts: Options{Fallback: kib}, want: "fallback limit 1024 bytes outside"},
		{name: "in-flight above budget", opts: Options{Limit: 64 * mib, InFlight: 65 * mib}, want: "in-flight budget 68157440 exceeds the memory budget 67108864"},
		{
			name:    "GOMEMLIMIT=off",
			opts:    Options{LookupEnv: env("GOMEMLIMIT", "off")},
			runtime: math.MaxInt64,
			want:    `GOMEMLIMIT="off" leaves no usable memory limit (runtime reports 9223372036854775807)`,
		},
		{
			name:    "GOMEMLIMIT=0",
			opts:    Options{LookupEnv: env("GOMEMLIMIT", "0")},
			runtime: 0,
			want:    `GOMEMLIMIT="0" leaves no usable memory limit (runtime reports 0)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl := &fakeLimit{cur: tt.runtime}
			o := tt.opts
			o.Metrics = metrics.New("test", "test")
			o.SetMemoryLimit = fl.set
			o.CgroupLimit = noCgroupLimit
			if o.LookupEnv == nil {
				o.LookupEnv = env()
			}
			g, err := New(o)
			if err == nil {
				t.Fatalf("New succeeded with budget %d, want error %q", g.Budget(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "memguard: ") {
				t.Errorf("New error = %q, want it to contain %q", err, tt.want)
			}
			if sets := fl.applied(); len(sets) != 0 {
				t.Errorf("a rejected New applied memory limits %v", sets)
			}
		})
	}

	t.Run("missing metrics", func(t *testing.T) {
		_, err := New(Options{Limit: 64 * mib, SetMemoryLimit: (&fakeLimit{}).set})
		if err == nil || err.Error() != "memguard: metrics are required" {
			t.Errorf("New without metrics: err = %v", err)
		}
	})
}

// TestNewAppliesRuntimeLimit uses the real debug.SetMemoryLimit; it must
// not run in parallel with other tests.
func TestNewAppliesRuntimeLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	g, err := New(Options{
		Limit:       768 * mib,
		Metrics:     metrics.New("test", "test"),
		LookupEnv:   env(),
		CgroupLimit: noCgroupLimit,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := debug.SetMemoryLimit(-1); got != 768*mib {
		t.Errorf("runtime memory limit = %d, want %d", got, 768*mib)
	}
	if st := g.Status(); st.Limit != 768*mib {
		t.Errorf("Status().Limit = %d, want the runtime limit %d", st.Limit, 768*mib)
	}

	// With GOMEMLIMIT in the environment the runtime's limit is the budget
	// and is left alone.
	debug.SetMemoryLimit(300 * mib)
	g, err = New(Options{
		Limit:       768 * mib,
		Metrics:     metrics.New("test", "test"),
		LookupEnv:   env("GOMEMLIMIT", "300MiB"),
		CgroupLimit: func() (uint64, error) { return 0, memlimit.ErrNoLimit },
	})
	if err != nil {
		t.Fatalf("New with GOMEMLIMIT: %v", err)
	}
	if g.Budget() != 300*mib || g.Source() != SourceGOMEMLIMIT {
		t.Errorf("budget = %d from %q, want %d from GOMEMLIMIT", g.Budget(), g.Source(), 300*mib)
	}
	if got := debug.SetMemoryLimit(-1); got != 300*mib {
		t.Errorf("runtime memory limit = %d, want it untouched at %d", got, 300*mib)
	}
}

// times is the budget arithmetic: the limit scaled by ratio, truncated.
func times(limit uint64, ratio float64) uint64 { return uint64(float64(limit) * ratio) }
