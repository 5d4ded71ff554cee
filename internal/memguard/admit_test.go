package memguard

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestReserve(t *testing.T) {
	// Budget 256 MiB, module share 50 %: 128 MiB for modules.
	type step struct {
		module   string
		resident uint64
		wantErr  string // "" for success
		over     bool   // error wraps ErrOverBudget
	}
	tests := []struct {
		name         string
		share        float64
		steps        []step
		wantReserved uint64
	}{
		{
			name:         "modules that fit",
			steps:        []step{{module: "enhanced.funding", resident: 8 * mib}, {module: "enhanced.chart", resident: 60 * mib}},
			wantReserved: 68 * mib,
		},
		{
			name:         "exact fit",
			steps:        []step{{module: "enhanced.chart", resident: 128 * mib}},
			wantReserved: 128 * mib,
		},
		{
			name:         "zero cost always fits",
			steps:        []step{{module: "enhanced.big", resident: 128 * mib}, {module: "enhanced.free"}},
			wantReserved: 128 * mib,
		},
		{
			name: "refused when the share is used up, later small module still fits",
			steps: []step{
				{module: "enhanced.analysis", resident: 100 * mib},
				{module: "enhanced.chart", resident: 40 * mib, over: true,
					wantErr: "memguard: module enhanced.chart needs 41943040 resident bytes, 29360128 of 134217728 module bytes left: module memory over budget"},
				{module: "enhanced.funding", resident: 20 * mib},
			},
			wantReserved: 120 * mib,
		},
		{
			name:         "configured module share",
			share:        0.25,
			steps:        []step{{module: "enhanced.chart", resident: 65 * mib, over: true, wantErr: "67108864 of 67108864 module bytes left"}, {module: "enhanced.funding", resident: 64 * mib}},
			wantReserved: 64 * mib,
		},
		{
			name:         "empty module id",
			steps:        []step{{module: "", resident: mib, wantErr: "memguard: reserve needs a module id"}},
			wantReserved: 0,
		},
		{
			name: "same module twice",
			steps: []step{
				{module: "enhanced.chart", resident: mib},
				{module: "enhanced.chart", resident: mib, wantErr: "memguard: module enhanced.chart reserved twice"},
			},
			wantReserved: mib,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGuard(t, Options{Limit: 256 * mib, ModuleShare: tt.share})
			for _, s := range tt.steps {
				err := g.Reserve(s.module, s.resident)
				switch {
				case s.wantErr == "" && err != nil:
					t.Fatalf("Reserve(%q, %d) = %v, want success", s.module, s.resident, err)
				case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
					t.Fatalf("Reserve(%q, %d) = %v, want error containing %q", s.module, s.resident, err, s.wantErr)
				}
				if got := errors.Is(err, ErrOverBudget); got != s.over {
					t.Errorf("Reserve(%q, %d): errors.Is(err, ErrOverBudget) = %v, want %v", s.module, s.resident, got, s.over)
				}
			}
			if got := g.Reserved(); got != tt.wantReserved {
				t.Errorf("Reserved() = %d, want %d", got, tt.wantReserved)
			}
			if got := g.Status().Reserved; got != tt.wantReserved {
				t.Errorf("Status().Reserved = %d, want %d", got, tt.wantReserved)
			}
		})
	}
}

func TestAdmit(t *testing.T) {
	const mod = "enhanced.chart"
	type step struct {
		name     string
		shed     bool   // pressure high before this step
		bytes    uint64 // admit; 0 with release >= 0 means release only
		release  int    // index of an earlier admission to release instead, -1 for none
		wantErr  error
		wantFlow uint64 // bytes in flight after the step
	}
	g := newTestGuard(t, Options{Limit: 64 * mib, InFlight: 100})
	steps := []step{
		{name: "admitted", bytes: 60, release: -1, wantFlow: 60},
		{name: "busy when it does not fit", bytes: 50, release: -1, wantErr: ErrBusy, wantFlow: 60},
		{name: "exact fit admitted", bytes: 40, release: -1, wantFlow: 100},
		{name: "busy when full", bytes: 1, release: -1, wantErr: ErrBusy, wantFlow: 100},
		{name: "release frees room", release: 0, wantFlow: 40},
		{name: "admitted after release", bytes: 50, release: -1, wantFlow: 90},
		{name: "larger than the whole budget", bytes: 101, release: -1, wantErr: ErrBusy, wantFlow: 90},
		{name: "shed under pressure even when it fits", shed: true, bytes: 1, release: -1, wantErr: ErrShedding, wantFlow: 90},
		{name: "release while shedding", release: 2, wantFlow: 50},
	}
	var releases []func()
	for _, s := range steps {
		if s.shed {
			g.sampler.setRatio(95, 100)
			g.Sample()
		}
		if s.release >= 0 {
			releases[s.release]()
		} else {
			rel, err := g.Admit(mod, s.bytes)
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("%s: Admit(%d) err = %v, want %v", s.name, s.bytes, err, s.wantErr)
			}
			if rel == nil {
				t.Fatalf("%s: Admit returned a nil release", s.name)
			}
			releases = append(releases, rel)
		}
		if got := g.Status().InFlight; got != s.wantFlow {
			t.Errorf("%s: in flight = %d, want %d", s.name, got, s.wantFlow)
		}
		if got := testutil.ToFloat64(g.m.MemoryInFlight); got != float64(s.wantFlow) {
			t.Errorf("%s: memory_inflight_bytes = %v, want %d", s.name, got, s.wantFlow)
		}
	}
	recorded := map[string]float64{"admitted": 3, "rejected": 3, "shed": 1}
	if got := AdmissionResults(); len(got) != len(recorded) {
		t.Errorf("AdmissionResults = %v, want every result recorded here: %v", got, recorded)
	}
	for _, r := range AdmissionResults() {
		if _, ok := recorded[r]; !ok {
			t.Errorf("AdmissionResults lists %q, which Admit does not record", r)
		}
	}
	for result, want := range recorded {
		if got := testutil.ToFloat64(g.m.MemoryAdmissions.WithLabelValues(mod, result)); got != want {
			t.Errorf("memory_admissions_total{result=%q} = %v, want %v", result, got, want)
		}
	}

	// Releases returned with an error do nothing.
	for i, rel := range releases {
		if i != 1 && i != 3 && i != 5 && i != 6 {
			continue
		}
		rel()
	}
	if got := g.Status().InFlight; got != 50 {
		t.Errorf("after calling releases of refused admissions: in flight = %d, want 50", got)
	}
	g.sampler.setRatio(10, 100)
	g.Sample()

	t.Run("too large error gives the numbers", func(t *testing.T) {
		_, err := g.Admit(mod, 101)
		want := "memguard: module enhanced.chart asks 101 bytes, more than the whole in-flight budget of 100"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("err = %v, want prefix %q", err, want)
		}
	})
	t.Run("empty module id", func(t *testing.T) {
		rel, err := g.Admit("", 1)
		if err == nil || err.Error() != "memguard: admit needs a module id" {
			t.Errorf("err = %v, want the module id error", err)
		}
		rel()
	})
}

func TestReleaseIsIdempotent(t *testing.T) {
	g := newTestGuard(t, Options{Limit: 64 * mib, InFlight: 1000})
	keep, err := g.Admit("enhanced.funding", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer keep()

	rel, err := g.Admit("enhanced.chart", 300)
	if err != nil {
		t.Fatal(err)
	}
	rel()
	rel()
	if got := g.Status().InFlight; got != 100 {
		t.Fatalf("after releasing twice: in flight = %d, want 100", got)
	}

	// A late second call after the next admission took over the pooled
	// ticket leaves that admission alone.
	for i := range 50 {
		first, err := g.Admit("enhanced.chart", 300)
		if err != nil {
			t.Fatal(err)
		}
		first()
		second, err := g.Admit("enhanced.chart", 200)
		if err != nil {
			t.Fatal(err)
		}
		first()
		if got := g.Status().InFlight; got != 300 {
			t.Fatalf("round %d: stale release changed in flight to %d, want 300", i, got)
		}
		second()
	}

	// Many goroutines releasing the same admission release it once.
	rel, err = g.Admit("enhanced.chart", 300)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(rel)
	}
	wg.Wait()
	if got := g.Status().InFlight; got != 100 {
		t.Errorf("after concurrent releases: in flight = %d, want 100", got)
	}
	if got := testutil.ToFloat64(g.m.MemoryInFlight); got != 100 {
		t.Errorf("memory_inflight_bytes = %v, want 100", got)
	}
}

func TestAdmitConcurrentNeverExceedsBudget(t *testing.T) {
	const budget = 1000
	g := newTestGuard(t, Options{Limit: 64 * mib, InFlight: budget})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var maxSeen uint64
	for range 8 {
		wg.Go(func() {
			for range 500 {
				rel, err := g.Admit("enhanced.chart", 300)
				if err != nil {
					if !errors.Is(err, ErrBusy) {
						t.Errorf("Admit: %v", err)
					}
					continue
				}
				cur := g.Status().InFlight
				mu.Lock()
				maxSeen = max(maxSeen, cur)
				mu.Unlock()
				rel()
			}
		})
	}
	wg.Wait()
	if maxSeen > budget {
		t.Errorf("in flight reached %d, budget %d", maxSeen, budget)
	}
	if got := g.Status().InFlight; got != 0 {
		t.Errorf("in flight after all releases = %d, want 0", got)
	}
}

func TestAdmitAllocations(t *testing.T) {
	g := newTestGuard(t, Options{Limit: 64 * mib, InFlight: 100})
	tests := []struct {
		name  string
		bytes uint64
		shed  bool
		want  float64
	}{
		// The release closure is the one allocation of an admission.
		{name: "admitted", bytes: 10, want: 1},
		{name: "busy", bytes: 100, want: 0},
		{name: "shed", bytes: 10, shed: true, want: 0},
	}
	hold, err := g.Admit("enhanced.chart", 50)
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.shed {
				g.sampler.setRatio(95, 100)
				g.Sample()
			}
			got := testing.AllocsPerRun(100, func() {
				rel, _ := g.Admit("enhanced.chart", tt.bytes)
				rel()
			})
			if got != tt.want {
				t.Errorf("allocations per Admit = %v, want %v", got, tt.want)
			}
		})
	}
}

func BenchmarkAdmit(b *testing.B) {
	for _, bc := range []struct {
		name  string
		bytes uint64
		full  bool // in-flight budget used up
		shed  bool
	}{
		{name: "admitted", bytes: 1 * mib},
		{name: "busy", bytes: 1 * mib, full: true},
		{name: "shed", bytes: 1 * mib, shed: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := newTestGuard(b, Options{Limit: 256 * mib, InFlight: 32 * mib})
			if bc.full {
				hold, err := g.Admit("enhanced.analysis", 32*mib)
				if err != nil {
					b.Fatal(err)
				}
				defer hold()
			}
			if bc.shed {
				g.sampler.setRatio(95, 100)
				g.Sample()
			}
			b.ReportAllocs()
			for b.Loop() {
				rel, _ := g.Admit("enhanced.chart", bc.bytes)
				rel()
			}
		})
	}
	b.Run("admitted-parallel", func(b *testing.B) {
		g := newTestGuard(b, Options{Limit: 256 * mib, InFlight: 32 * mib})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rel, _ := g.Admit("enhanced.chart", 1*mib)
				rel()
			}
		})
	})
}
