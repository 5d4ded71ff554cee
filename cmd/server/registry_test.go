package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/flags"
	"github.com/cryptobot-dev/cryptobot/internal/config"
	"github.com/cryptobot-dev/cryptobot/internal/dispatch"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/memguard"
	"github.com/cryptobot-dev/cryptobot/internal/telegram"
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

// Every label value a recorder exports is created at zero at start, for
// every command and module this configuration serves.
func TestMetricsInitCoversEveryRecordedValue(t *testing.T) {
	cfg, err := config.Load("", false, []string{"CRYPTOBOT_TELEGRAM__MODE=console", "CRYPTOBOT_FLAGS__DIR=../../flags", "CRYPTOBOT_MEMORY__LIMIT=512MiB"})
	if err != nil {
		t.Fatal(err)
	}
	a := &app{cfg: cfg, log: slog.New(slog.DiscardHandler), metrics: newTestMetrics(), started: time.Now()}
	if err := a.build(t.Context(), modules.Registered()); err != nil {
		t.Fatal(err)
	}
	defer a.gate.Close(t.Context())
	m := a.metrics
	loaded, _ := a.router.Modules()
	for _, c := range a.router.Commands() {
		for _, o := range dispatch.CommandOutcomes() {
			requireSeries(t, m.Commands, c.Name, o)
		}
	}
	for _, o := range telegram.ReplyOutcomes() {
		requireSeries(t, m.Replies, o)
	}
	for _, meth := range telegram.Methods() {
		for _, st := range telegram.Statuses() {
			requireSeries(t, m.TelegramRequests, meth, st)
		}
	}
	for _, v := range cfg.Exchanges.Order {
		for _, e := range httpjson.Endpoints() {
			for _, o := range httpjson.Outcomes() {
				requireSeries(t, m.ExchangeRequests, v, e, o)
			}
		}
	}
	for _, l := range loaded {
		for _, c := range dispatch.SkipCauses() {
			requireSeries(t, m.ModuleSkipped, l.Info.ID, c)
		}
		if !l.Info.Enhanced() {
			continue
		}
		for _, o := range dispatch.SectionOutcomes() {
			requireSeries(t, m.SectionsTotal, l.Info.ID, o)
		}
		for _, r := range memguard.AdmissionResults() {
			requireSeries(t, m.MemoryAdmissions, l.Info.ID, r)
		}
	}
}

// requireSeries fails unless vec already has the series with these labels
// (it removes it to find out).
func requireSeries(t *testing.T, vec interface{ DeleteLabelValues(...string) bool }, labels ...string) {
	t.Helper()
	if !vec.DeleteLabelValues(labels...) {
		t.Errorf("no series %v at start", labels)
	}
}
