package main

import (
	"testing"

	"github.com/cryptobot-dev/cryptobot/flags"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// Every compiled-in enhanced module names a flag declared in flags/flagkey and
// an honest cost; every declared flag is used by a module.
func TestEnhancedModulesNameDeclaredFlags(t *testing.T) {
	used := map[string]bool{}
	enhanced := 0
	for _, info := range modules.Registered() {
		if !info.Enhanced() {
			if info.Flag != "" {
				t.Errorf("core module %s names flag %q", info.ID, info.Flag)
			}
			continue
		}
		enhanced++
		if _, ok := flags.Catalog[info.Flag]; !ok {
			t.Errorf("enhanced module %s names flag %q, which flags.Catalog does not declare", info.ID, info.Flag)
		}
		if info.Cost.Resident == 0 || info.Cost.PerRequest == 0 {
			t.Errorf("enhanced module %s declares cost %+v", info.ID, info.Cost)
		}
		used[info.Flag] = true
	}
	if enhanced < 3 {
		t.Errorf("%d enhanced modules compiled in, want open interest, funding and analysis", enhanced)
	}
	for key := range flags.Catalog {
		if !used[key] {
			t.Errorf("flag %q is declared but no module uses it", key)
		}
	}
}
