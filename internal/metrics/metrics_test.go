package metrics

import (
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLintClean(t *testing.T) {
	m := New("v1", "abc")
	m.Init(Known{
		Sources: []string{"webhook"}, Commands: []string{"price"}, Modules: []string{"enhanced.funding"},
		Enhanced: []string{"enhanced.funding"}, Venues: []string{"binance", "bybit"}, Endpoints: []string{"ticker"},
		Flags: []string{"funding-rates"}, Routes: []string{"/webhook"}, Methods: []string{"sendMessage"},
	})
	problems, err := testutil.GatherAndLint(m.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestInitCreatesZeroSeries(t *testing.T) {
	m := New("v1", "abc")
	outcomes := []string{"ok", "error"}
	m.Init(Known{Commands: []string{"price"}, Venues: []string{"binance", "bybit", "okx"}, Endpoints: []string{"ticker"},
		CommandOutcomes: outcomes, Modules: []string{"core.price", "enhanced.funding"}, SkipCauses: []string{"memory_budget", "error"}})
	if n := testutil.CollectAndCount(m.Commands); n != 2*len(outcomes) {
		t.Errorf("commands series = %d, want %d (price and unknown)", n, 2*len(outcomes))
	}
	if n := testutil.CollectAndCount(m.ModuleSkipped); n != 4 {
		t.Errorf("module_skipped series = %d, want 4 (every module and cause, at 0)", n)
	}
	if v := testutil.ToFloat64(m.ModuleSkipped.WithLabelValues("enhanced.funding", "memory_budget")); v != 0 {
		t.Errorf("skipped starts at %v", v)
	}
	if n := testutil.CollectAndCount(m.Failovers); n != 3 {
		t.Errorf("failover pairs = %d, want 3 (forward order only)", n)
	}
	m.Init(Known{ReplyOutcomes: []string{"late"}})
	if v := testutil.ToFloat64(m.Replies.WithLabelValues("late")); v != 0 {
		t.Errorf("late replies start at %v", v)
	}
}

func TestBuildInfoAndRuntimeCollectors(t *testing.T) {
	m := New("v1.2.3", "abc")
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		seen[mf.GetName()] = true
	}
	for _, want := range []string{"cryptobot_build_info", "go_memory_classes_total_bytes", "go_memory_classes_heap_released_bytes", "go_gc_gomemlimit_bytes", "process_resident_memory_bytes", "go_goroutines"} {
		if !seen[want] {
			t.Errorf("missing %s", want)
		}
	}
	want := `cryptobot_build_info{commit="abc",goversion="` + strings.TrimSpace(goVersion()) + `",version="v1.2.3"} 1`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader("# HELP cryptobot_build_info Build information; always 1.\n# TYPE cryptobot_build_info gauge\n"+want+"\n"), "cryptobot_build_info"); err != nil {
		t.Error(err)
	}
}

// The registry with every series the bot creates stays well inside the
// 3 MB the metrics may add to the process.
func TestFootprint(t *testing.T) {
	known := Known{
		Sources:   []string{"webhook"},
		Commands:  []string{"start", "help", "price", "status", "flags", "oi", "funding", "analysis"},
		Modules:   []string{"core.admin", "core.help", "core.price", "core.start", "enhanced.analysis", "enhanced.funding", "enhanced.openinterest"},
		Enhanced:  []string{"enhanced.analysis", "enhanced.funding", "enhanced.openinterest"},
		Venues:    []string{"binance", "bybit", "okx"},
		Endpoints: []string{"ticker", "instruments", "open_interest", "oi_history", "funding", "funding_info", "candles"},
		Flags:     []string{"open-interest", "funding-rates", "market-analysis"},
		Routes:    []string{"/healthz", "/readyz", "/metrics", "/webhook", "other"},
		Methods:   []string{"getMe", "setWebhook", "deleteWebhook", "getUpdates", "sendMessage", "sendPhoto", "setMyCommands"},

		CommandOutcomes:  []string{"ok", "error", "panic", "disabled", "shed", "unknown", "denied"},
		SectionOutcomes:  []string{"ok", "off", "shed", "failed", "late", "empty"},
		SkipCauses:       []string{"memory_budget", "error"},
		AdmissionResults: []string{"admitted", "rejected", "shed"},
		ExchangeOutcomes: []string{"ok", "unknown_symbol", "rate_limited", "unavailable", "bad_response"},
		UpdateOutcomes:   []string{"accepted", "duplicate", "unauthorized", "too_large", "malformed", "queue_full", "ignored", "unavailable", "journal_error"},
		ReplyOutcomes:    []string{"sent", "late", "failed"},
		TelegramStatuses: []string{"200", "400", "401", "403", "409", "429", "4xx", "5xx", "error"},
	}
	live := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := live()
	m := New("v1", "abc")
	m.Init(known)
	if _, err := m.Registry.Gather(); err != nil {
		t.Fatal(err)
	}
	after := live()
	runtime.KeepAlive(m)
	var used uint64
	if after > before {
		used = after - before
	}
	t.Logf("registry with every known series: %d KiB live heap", used>>10)
	if used > 3<<20 {
		t.Errorf("metrics hold %d bytes, over the 3 MB budget", used)
	}
}
