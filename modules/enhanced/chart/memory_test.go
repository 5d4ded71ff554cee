package chart

import (
	"runtime"
	"sync"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// TestMemoryCost keeps the declared Cost honest: measured and declared must
// be within a factor of two of each other.
func TestMemoryCost(t *testing.T) {
	var info modules.Info
	for _, i := range modules.Registered() {
		if i.ID == "enhanced.chart" {
			info = i
		}
	}
	if info.New == nil {
		t.Fatal("enhanced.chart is not registered")
	}
	src := &fakeMarket{candles: series(Limit, market.H1, 97000)}
	deps := modules.Deps{Market: src, Now: after(Limit, market.H1)}
	req := modules.Request{Command: "chart", Args: []string{"btc"}}

	t.Run("resident", func(t *testing.T) {
		// A loaded module is a few words plus the PNG buffers it keeps warm:
		// build many to average the first, run concurrent requests on one to
		// warm every buffer for the second.
		const n = 10_000
		held := make([]modules.Module, n)
		before := modulestest.HeapInUse()
		for i := range held {
			m, err := info.New(deps)
			if err != nil {
				t.Fatal(err)
			}
			held[i] = m
		}
		module := (modulestest.HeapInUse() - before) / n
		before = modulestest.HeapInUse()
		h := held[0].Commands()[0].Handler
		var wg sync.WaitGroup
		for range 2 * pooledBuffers {
			wg.Go(func() {
				if _, err := h.Handle(t.Context(), req); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		pools := max(modulestest.HeapInUse(), before) - before
		runtime.KeepAlive(held)
		t.Logf("resident: module %d B, warm pools %d B", module, pools)
		modulestest.Within2x(t, "resident", module+pools, info.Cost.Resident)
	})

	t.Run("per request", func(t *testing.T) {
		// With warm buffers, bytes allocated per request bound what one holds
		// at its peak: the canvas, the deflate state and the PNG copy.
		m, err := info.New(deps)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Commands()[0].Handler
		if _, err := h.Handle(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		const runs = 20
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			if _, err := h.Handle(t.Context(), req); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		modulestest.Within2x(t, "per request", (after.TotalAlloc-before.TotalAlloc)/runs, info.Cost.PerRequest)
	})
}
