package openinterest_test

import (
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// TestMemoryCost: the heaviest request is every venue with history, one
// fetch goroutine per call.
func TestMemoryCost(t *testing.T) {
	src := newSource()
	modulestest.CheckMemoryCost(t, modulestest.MemoryCost{
		ID:         "enhanced.openinterest",
		Deps:       modules.Deps{Market: src, Now: clock},
		Request:    modules.Request{Command: "oi", Args: []string{"btc", "all"}},
		Goroutines: src.Calls,
	})
}
