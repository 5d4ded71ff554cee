package memguard

import (
	"context"
	"math"
	rtmetrics "runtime/metrics"

	"github.com/cryptobot-dev/cryptobot/internal/tick"
)

// Run samples memory pressure every Interval until ctx ends, then returns nil.
func (g *Guard) Run(ctx context.Context) error {
	tick.Every(ctx, g.interval, func() { g.Sample() })
	return nil
}

// Sample reads memory use once, updates pressure and the shedding state
// (shed at ≥ High, resume at ≤ Low, keep the state in between) and returns
// the pressure: used / Go memory limit. With no limit in force the pressure
// cannot be judged and reads 0.
func (g *Guard) Sample() float64 {
	g.sampleMu.Lock()
	defer g.sampleMu.Unlock()
	used, limit := g.sampler()
	g.used.Store(used)
	g.limit.Store(limit)

	var p float64
	if limit == 0 || limit >= math.MaxInt64 {
		if !g.noLimit {
			g.noLimit = true
			g.log.Warn("no Go memory limit in force, memory pressure reads 0")
		}
	} else {
		if g.noLimit {
			g.noLimit = false
			g.log.Info("Go memory limit back in force", "limit_bytes", limit)
		}
		p = float64(used) / float64(limit)
	}
	g.pressure.Store(math.Float64bits(p))
	g.m.MemoryPressure.Set(p)

	switch shedding := g.shedding.Load(); {
	case !shedding && p >= g.high:
		g.shedding.Store(true)
		g.m.MemoryShedding.Set(1)
		g.log.Warn("memory pressure high, shedding enhanced work",
			"pressure", p, "used_bytes", used, "limit_bytes", limit)
	case shedding && p <= g.low:
		g.shedding.Store(false)
		g.m.MemoryShedding.Set(0)
		g.log.Info("memory pressure back to normal, resuming enhanced work",
			"pressure", p, "used_bytes", used, "limit_bytes", limit)
	}
	return p
}

// Shedding reports whether enhanced work is being shed.
func (g *Guard) Shedding() bool { return g.shedding.Load() }

// Pressure returns the pressure at the last sample.
func (g *Guard) Pressure() float64 { return math.Float64frombits(g.pressure.Load()) }

// runtimeSampler reads the memory the Go limit counts; its sample slice is
// reused so a tick does not allocate. Callers serialise read.
type runtimeSampler struct {
	s [3]rtmetrics.Sample
}

func newRuntimeSampler() *runtimeSampler {
	r := &runtimeSampler{}
	r.s[0].Name = "/memory/classes/total:bytes"
	r.s[1].Name = "/memory/classes/heap/released:bytes"
	r.s[2].Name = "/gc/gomemlimit:bytes"
	return r
}

func (r *runtimeSampler) read() (used, limit uint64) {
	rtmetrics.Read(r.s[:])
	for i := range r.s {
		if r.s[i].Value.Kind() != rtmetrics.KindUint64 {
			return 0, 0 // unsupported by this runtime: report no limit
		}
	}
	total, released := r.s[0].Value.Uint64(), r.s[1].Value.Uint64()
	if released < total {
		used = total - released
	}
	return used, r.s[2].Value.Uint64()
}
