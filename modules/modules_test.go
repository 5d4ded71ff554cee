package modules

import "testing"

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
