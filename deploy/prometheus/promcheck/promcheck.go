// Package promcheck holds test helpers shared by the deploy/ tests: finding
// and running the Prometheus 3 tools, and checking the metric selectors in
// PromQL expressions against the collectors the bot registers
// (internal/metrics, the store, transport and market collectors, and the
// alerts module's),
// without linking the Prometheus server's PromQL parser into the bot's go.mod.
package promcheck

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/telegram"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts"
)

// Module and Version pin the Prometheus the tests run: the major version
// deploy/docker-compose.yml ships (3.x), which the Go module proxy serves
// under v0.3xx tags (v0.316.0 is Prometheus 3.16.0). .ci/run builds promtool
// and prometheus from it; keep the two in step.
const (
	Module  = "github.com/prometheus/prometheus"
	Version = "v0.316.0"
	major   = 3
)

// Install is the command that puts name (promtool or prometheus) on PATH.
func Install(name string) string {
	return fmt.Sprintf("go install %s/cmd/%s@%s", Module, name, Version)
}

// Tool returns the path of name, a Prometheus 3 tool on PATH. A missing tool
// or one of another major version (Debian's 2.42) skips the test, or fails it
// when CI=true so CI cannot pass silently or on the wrong Prometheus.
func Tool(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		err = checkMajor(bin)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v and CI=true: %s", err, Install(name))
		}
		t.Skipf("%v (%s; set CI=true to make this a failure)", err, Install(name))
	}
	return bin
}

var versionRE = regexp.MustCompile(`version (\d+)\.(\d+)\.(\d+)`)

// checkMajor reads the version from the module build info (go install
// leaves --version empty) or, for a release or distribution build, from
// --version.
func checkMajor(bin string) error {
	if bi, err := buildinfo.ReadFile(bin); err == nil && bi.Main.Path == Module && strings.HasPrefix(bi.Main.Version, fmt.Sprintf("v0.%d", major)) {
		return nil
	}
	out, _ := exec.Command(bin, "--version").CombinedOutput()
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("%s: no version in --version output %q", bin, firstLine(out))
	}
	if string(m[1]) != fmt.Sprint(major) {
		return fmt.Errorf("%s is Prometheus %s.%s.%s, not %d.x as the deploy kit ships", bin, m[1], m[2], m[3], major)
	}
	return nil
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

// Promtool runs `promtool args...` in dir (a Prometheus 3 promtool, see
// Tool) and returns its combined output, with an error when promtool exits
// non-zero.
func Promtool(ctx context.Context, t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	bin := Tool(t, "promtool")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("promtool %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), nil
}

// Selector is one metric reference in a PromQL expression: the metric name
// and the text between its braces (empty when it has none).
type Selector struct {
	Metric   string
	Matchers string
}

// selectorRE finds the bot's metric names (cryptobot_, go_, process_ and
// up) with their optional label matchers. A name right after a quote is a
// label value, not a metric; label names never use these prefixes in our
// queries, so no full parser is needed.
var selectorRE = regexp.MustCompile(`(?:^|[^"\w:])(up|(?:cryptobot|go|process)_[a-zA-Z0-9_]+)\b(?:\{([^}]*)\})?`)

// Selectors returns every metric reference in expr, in order.
func Selectors(expr string) []Selector {
	var sels []Selector
	for _, m := range selectorRE.FindAllStringSubmatch(expr, -1) {
		sels = append(sels, Selector{Metric: m[1], Matchers: m[2]})
	}
	return sels
}

// fqNameRE extracts the name from prometheus.Desc.String(), the only public
// view of a descriptor's name.
var fqNameRE = regexp.MustCompile(`fqName: "([^"]+)"`)

// Metrics lists the metric names the bot exposes, plus Prometheus' own
// `up`: the shared collectors of metrics.New and those the store, the
// Telegram transport and the market register themselves on that registry,
// and the alerts module's, as cmd/server wires them. Names come from the registry's descriptors, so
// vector collectors count even before any label values exist.
func Metrics() map[string]bool {
	m := metrics.New("test", "test")
	s, err := store.Open(context.Background(), "sqlite::memory:", store.Options{Registerer: m.Registry})
	if err != nil {
		panic(fmt.Sprintf("promcheck: in-memory store: %v", err))
	}
	defer s.Close()
	// New registers the transport's collectors without calling the API or
	// the handler, so unset ones do.
	if _, err := telegram.New(telegram.Config{}, struct{ telegram.API }{}, struct{ telegram.Handler }{}, m, slog.New(slog.DiscardHandler)); err != nil {
		panic(fmt.Sprintf("promcheck: telegram transport: %v", err))
	}
	market.New(market.Options{Metrics: m})
	// cmd/server registers a loaded module's Collectors; New builds them
	// without a store or market.
	a, err := alerts.New(alerts.Options{})
	if err != nil {
		panic(fmt.Sprintf("promcheck: alerts module: %v", err))
	}
	m.Registry.MustRegister(a.Collectors()...)
	known := names(m.Registry)
	known["up"] = true
	for _, name := range Contract {
		known[name] = true
	}
	return known
}

// Contract lists metrics whose names are agreed with a change that registers
// them in parallel with the rules and dashboards reading them: the replica
// metrics of issue #14 (internal/replica and the outbound limiter). Once
// their collectors are registered in Metrics as cmd/server wires them, the
// entries here are redundant and can go.
var Contract = []string{
	"cryptobot_replica_leader",                  // gauge: 1 while this replica holds the leader lease
	"cryptobot_replica_takeovers_total",         // counter: leader lease won from an expired holder
	"cryptobot_replica_orphans_reclaimed_total", // counter: journal entries taken over from a dead replica
	"cryptobot_replica_peers",                   // gauge: live replicas seen, self included
	"cryptobot_replica_lease_errors_total",      // counter{op}: heartbeat/lease/claim store errors
	"cryptobot_telegram_limit_share",            // gauge: this replica's fraction of telegram.rate.*
	"cryptobot_telegram_limit_waits_total",      // counter: sends that waited for the outbound limiter
}

func names(reg *prometheus.Registry) map[string]bool {
	known := map[string]bool{}
	ch := make(chan *prometheus.Desc)
	go func() {
		reg.Describe(ch)
		close(ch)
	}()
	for d := range ch {
		if sub := fqNameRE.FindStringSubmatch(d.String()); sub != nil {
			known[sub[1]] = true
		}
	}
	return known
}

// Known reports whether name is in known, directly or as the _bucket, _sum
// or _count series of a histogram (the suffix is not checked against the
// collector's type).
func Known(known map[string]bool, name string) bool {
	if known[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && known[base] {
			return true
		}
	}
	return false
}
