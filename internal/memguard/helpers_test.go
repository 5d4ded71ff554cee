package memguard

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/testkit"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

// fakeLimit stands in for debug.SetMemoryLimit so tests do not change the
// process-wide limit unless they mean to.
type fakeLimit struct {
	mu   sync.Mutex
	cur  int64
	sets []int64
}

func (f *fakeLimit) set(limit int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	prev := f.cur
	if limit >= 0 {
		f.cur = limit
		f.sets = append(f.sets, limit)
	}
	return prev
}

func (f *fakeLimit) applied() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.sets...)
}

// fakeSampler reports whatever the test stores.
type fakeSampler struct {
	used, limit atomic.Uint64
	calls       atomic.Int64
}

func (s *fakeSampler) read() (used, limit uint64) {
	s.calls.Add(1)
	return s.used.Load(), s.limit.Load()
}

func (s *fakeSampler) setRatio(used, limit uint64) {
	s.used.Store(used)
	s.limit.Store(limit)
}

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func noCgroupLimit() (uint64, error) { return 0, memlimit.ErrNoLimit }

// syncBuffer is a log sink safe for the guard's goroutines.
type syncBuffer = testkit.SyncBuffer

type testGuard struct {
	*Guard
	m       *metrics.Metrics
	limit   *fakeLimit
	sampler *fakeSampler
	logs    *syncBuffer
}

// newTestGuard builds a guard with fakes for every hook opts leaves nil: no
// GOMEMLIMIT, no cgroup limit, a fake memory limit, and a sampler reporting
// 0 of 1 GiB used.
func newTestGuard(t testing.TB, opts Options) testGuard {
	t.Helper()
	tg := testGuard{m: metrics.New("test", "test"), limit: &fakeLimit{cur: 1<<63 - 1}, sampler: &fakeSampler{}, logs: &syncBuffer{}}
	tg.sampler.setRatio(0, gib)
	if opts.Metrics == nil {
		opts.Metrics = tg.m
	}
	tg.m = opts.Metrics
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(tg.logs, nil))
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = env()
	}
	if opts.CgroupLimit == nil {
		opts.CgroupLimit = noCgroupLimit
	}
	if opts.SetMemoryLimit == nil {
		opts.SetMemoryLimit = tg.limit.set
	}
	if opts.Sampler == nil {
		opts.Sampler = tg.sampler.read
	}
	g, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tg.Guard = g
	return tg
}
