package funding_test

import (
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// TestMemoryCost: every request asks every venue, one fetch goroutine each.
func TestMemoryCost(t *testing.T) {
	src := newSource()
	modulestest.CheckMemoryCost(t, modulestest.MemoryCost{
		ID:         "enhanced.funding",
		Deps:       modules.Deps{Market: src, Now: clock},
		Request:    modules.Request{Command: "funding", Args: []string{"btc"}},
		Goroutines: src.Calls,
	})
}
