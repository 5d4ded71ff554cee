// Package promcheck holds test helpers shared by the deploy/ tests: running
// promtool, and checking the metric selectors in PromQL expressions against
// the collectors the bot registers (internal/metrics, and the store,
// transport and market collectors), without linking the Prometheus server's
// PromQL parser into the bot's go.mod.
package promcheck

import (
	"bytes"
	"context"
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
)

// Promtool runs `promtool args...` in dir and returns its combined output,
// with an error when promtool exits non-zero. When promtool is not on PATH
// the test is skipped, or fails when CI=true so CI cannot pass silently.
func Promtool(ctx context.Context, t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not on PATH and CI=true: install it (apt-get install prometheus): %v", err)
		}
		t.Skipf("promtool not on PATH (set CI=true to make this a failure): %v", err)
	}
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
// as cmd/server wires them. Names come from the registry's descriptors, so
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
	known := names(m.Registry)
	known["up"] = true
	return known
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
