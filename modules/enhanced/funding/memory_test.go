package funding_test

import (
	"runtime"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// stackPerGoroutine is what one fetch goroutine is charged for its stack: the
// heap numbers below cannot see stacks, and a venue call through net/http
// grows past the 2 KiB a goroutine starts with.
const stackPerGoroutine = 8 << 10

// TestMemoryCost keeps the declared Cost honest: measured and declared must
// be within a factor of two of each other.
func TestMemoryCost(t *testing.T) {
	var info modules.Info
	for _, i := range modules.Registered() {
		if i.ID == "enhanced.funding" {
			info = i
		}
	}
	if info.New == nil {
		t.Fatal("enhanced.funding is not registered")
	}
	src := newSource()
	deps := modules.Deps{Market: src, Now: clock}

	t.Run("resident", func(t *testing.T) {
		// One module is a few words: build many and average, keeping what the
		// pipeline keeps (the module and its commands).
		const n = 10_000
		type loaded struct {
			m    modules.Module
			cmds []modules.Command
		}
		held := make([]loaded, n)
		before := heapInUse()
		for i := range held {
			m, err := info.New(deps)
			if err != nil {
				t.Fatal(err)
			}
			held[i] = loaded{m, m.Commands()}
		}
		measured := (heapInUse() - before) / n
		runtime.KeepAlive(held)
		within2x(t, "resident", measured, info.Cost.Resident)
	})

	t.Run("per request", func(t *testing.T) {
		// Every request asks every venue. Bytes allocated per request bound
		// what it holds at its peak.
		m, err := info.New(deps)
		if err != nil {
			t.Fatal(err)
		}
		h := handler(t, m)
		req := modules.Request{Command: "funding", Args: []string{"btc"}}
		const runs = 200
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range runs {
			if _, err := h.Handle(t.Context(), req); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		var calls int64
		for _, v := range src.venues {
			calls += v.calls.Load()
		}
		heap := (after.TotalAlloc - before.TotalAlloc) / runs
		goroutines := uint64(calls) / runs
		t.Logf("per request: %d B heap, %d fetch goroutines", heap, goroutines)
		within2x(t, "per request", heap+goroutines*stackPerGoroutine, info.Cost.PerRequest)
	})
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func within2x(t *testing.T, what string, measured, declared uint64) {
	t.Helper()
	t.Logf("%s: measured %d B, declared %d B", what, measured, declared)
	if measured > 2*declared || declared > 2*measured {
		t.Errorf("%s: measured %d B is not within 2x of the declared %d B", what, measured, declared)
	}
}
