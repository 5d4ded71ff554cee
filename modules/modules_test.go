package modules

import (
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

func TestRegisterRejectsProgrammerErrors(t *testing.T) {
	noop := func(Deps) (Module, error) { return nil, nil }
	for _, tc := range []struct {
		name string
		info Info
	}{
		{"bad id", Info{ID: "Price", New: noop}},
		{"no new", Info{ID: "core.x"}},
		{"enhanced without flag", Info{ID: "enhanced.x", Cost: Cost{Resident: 1}, New: noop}},
		{"enhanced without cost", Info{ID: "enhanced.x", Flag: "x", New: noop}},
		{"core with flag", Info{ID: "core.x", Flag: "x", New: noop}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.info.validate(); err == nil {
				t.Error("accepted")
			}
		})
	}
	if !ValidCommandName("price") || ValidCommandName("Price") || ValidCommandName("") {
		t.Error("command name rules")
	}
}

func TestMarketModule(t *testing.T) {
	var gotNow func() time.Time
	info := MarketModule("enhanced.x", "x", Cost{Resident: 1}, func(src market.Source, now func() time.Time) Module {
		gotNow = now
		return nil
	})
	if err := info.validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := info.New(Deps{}); err == nil || err.Error() != "enhanced.x: no market source" {
		t.Errorf("New without a market = %v, want an error naming the module", err)
	}
	if _, err := info.New(Deps{Market: stubSource{}, Now: time.Now}); err != nil || gotNow == nil {
		t.Errorf("New = %v, clock passed: %v", err, gotNow != nil)
	}
}

// stubSource is a market.Source that is never called.
type stubSource struct{ market.Source }
