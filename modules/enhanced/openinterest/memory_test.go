package openinterest_test

import (
	"runtime"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
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
		if i.ID == "enhanced.openinterest" {
			info = i
		}
	}
	if info.New == nil {
		t.Fatal("enhanced.openinterest is not registered")
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
		before := modulestest.HeapInUse()
		for i := range held {
			m, err := info.New(deps)
			if err != nil {
				t.Fatal(err)
			}
			held[i] = loaded{m, m.Commands()}
		}
		measured := (modulestest.HeapInUse() - before) / n
		runtime.KeepAlive(held)
		modulestest.Within2x(t, "resident", measured, info.Cost.Resident)
	})

	t.Run("per request", func(t *testing.T) {
		// The heaviest request: every venue, with history. Bytes allocated
		// per request bound what it holds at its peak.
		m, err := info.New(deps)
		if err != nil {
			t.Fatal(err)
		}
		h := handler(t, m)
		req := modules.Request{Command: "oi", Args: []string{"btc", "all"}}
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
		for _, v := range src.All {
			calls += v.Calls()
		}
		heap := (after.TotalAlloc - before.TotalAlloc) / runs
		goroutines := uint64(calls) / runs
		t.Logf("per request: %d B heap, %d fetch goroutines", heap, goroutines)
		modulestest.Within2x(t, "per request", heap+goroutines*stackPerGoroutine, info.Cost.PerRequest)
	})
}
