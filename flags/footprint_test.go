package flags

import (
	"runtime"
	"testing"

	"github.com/cryptobot-dev/cryptobot/flags/flagkey"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// The provider with the shipped flags and its OpenFeature gate hold far less
// than the 2 MB they may add to the process.
func TestFootprint(t *testing.T) {
	m := metrics.New("test", "test")
	live := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	// Twenty of them, so the per-provider figure rises above GC noise.
	const n = 20
	providers := make([]*Provider, n)
	gates := make([]*Gate, n)
	before := live()
	for i := range n {
		p, err := NewProvider(Options{Dir: ".", Metrics: m, Log: testLog(t)})
		if err != nil {
			t.Fatal(err)
		}
		g, err := NewGate(t.Context(), p, m, "production")
		if err != nil {
			t.Fatal(err)
		}
		for id := int64(1); id <= 1000; id++ {
			g.Enabled(t.Context(), flagkey.MarketAnalysis, modules.Request{ChatID: id, ChatType: "private"})
		}
		providers[i], gates[i] = p, g
	}
	after := live()
	runtime.KeepAlive(providers)
	for _, g := range gates {
		if err := g.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	var used uint64
	if after > before {
		used = (after - before) / n
	}
	t.Logf("one provider with the shipped flags and its gate, after 1,000 evaluations: %d KiB live heap", used>>10)
	if used > 2<<20 {
		t.Errorf("flags hold %d bytes, over the 2 MB budget", used)
	}
}
