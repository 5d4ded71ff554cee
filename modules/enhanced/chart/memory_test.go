package chart

import (
	"sync"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// TestMemoryCost: a loaded module also keeps its PNG buffers warm, filled by
// concurrent requests; one request holds the canvas, the deflate state and
// the PNG copy.
func TestMemoryCost(t *testing.T) {
	req := modules.Request{Command: "chart", Args: []string{"btc"}}
	modulestest.CheckMemoryCost(t, modulestest.MemoryCost{
		ID:      "enhanced.chart",
		Deps:    modules.Deps{Market: &fakeMarket{candles: series(Limit, market.H1, 97000)}, Now: after(Limit, market.H1)},
		Request: req,
		Runs:    20,
		Warm: func(t *testing.T, m modules.Module) {
			h := m.Commands()[0].Handler
			var wg sync.WaitGroup
			for range 2 * pooledBuffers {
				wg.Go(func() {
					if _, err := h.Handle(t.Context(), req); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		},
	})
}
