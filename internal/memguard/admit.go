package memguard

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Admission results, the values of the result label.
const (
	resultAdmitted = "admitted"
	resultRejected = "rejected"
	resultShed     = "shed"
)

// AdmissionResults lists every result label Admit records, for metrics.Init.
func AdmissionResults() []string { return []string{resultAdmitted, resultRejected, resultShed} }

// admissionCounters caches a module's counters: WithLabelValues allocates
// its variadic slice on every call.
type admissionCounters struct {
	admitted, rejected, shed prometheus.Counter
}

// Admit asks to hold bytes for one request of module. It never blocks: it
// returns ErrShedding while memory pressure is high and ErrBusy while the
// in-flight budget is used up (wrapped with the numbers when bytes alone
// exceed it). On success the caller calls release once the request's memory
// is gone; release is idempotent and safe from any goroutine. release is
// never nil: after an error it is a no-op.
//
// Shedding and busy refusals do not allocate; an admission allocates its
// release closure (48 B), which must be distinct per admission for release
// to be idempotent.
func (g *Guard) Admit(module string, bytes uint64) (release func(), err error) {
	if err := g.acquire(module, bytes); err != nil {
		return noop, err
	}
	t := g.tickets.Get().(*ticket)
	gen := t.gen.Load()
	return func() {
		if t.gen.CompareAndSwap(gen, gen+1) {
			g.inFlight.Add(-bytes)
			g.m.MemoryInFlight.Sub(float64(bytes))
			g.tickets.Put(t)
		}
	}, nil
}

// ticket holds an admission's released flag. Tickets are pooled to save an
// allocation per admission; the generation captured by each release closure
// tells a late second call from the ticket's next holder.
type ticket struct {
	gen atomic.Uint64
}

func noop() {}

func (g *Guard) acquire(module string, bytes uint64) error {
	if module == "" {
		return errors.New("memguard: admit needs a module id")
	}
	c := g.countersFor(module)
	if g.shedding.Load() {
		c.shed.Inc()
		return ErrShedding
	}
	if bytes > g.inFlightCap {
		c.rejected.Inc()
		return fmt.Errorf("memguard: module %s asks %d bytes, more than the whole in-flight budget of %d: %w",
			module, bytes, g.inFlightCap, ErrBusy)
	}
	for {
		cur := g.inFlight.Load()
		// cur ≤ cap and bytes ≤ cap, both ≤ MaxInt64: the sum cannot overflow.
		if cur+bytes > g.inFlightCap {
			c.rejected.Inc()
			return ErrBusy
		}
		if g.inFlight.CompareAndSwap(cur, cur+bytes) {
			break
		}
	}
	c.admitted.Inc()
	g.m.MemoryInFlight.Add(float64(bytes))
	return nil
}

func (g *Guard) countersFor(module string) *admissionCounters {
	g.ctrMu.RLock()
	c := g.counters[module]
	g.ctrMu.RUnlock()
	if c != nil {
		return c
	}
	g.ctrMu.Lock()
	defer g.ctrMu.Unlock()
	if c = g.counters[module]; c == nil {
		v := g.m.MemoryAdmissions
		c = &admissionCounters{
			admitted: v.WithLabelValues(module, resultAdmitted),
			rejected: v.WithLabelValues(module, resultRejected),
			shed:     v.WithLabelValues(module, resultShed),
		}
		g.counters[module] = c
	}
	return c
}
