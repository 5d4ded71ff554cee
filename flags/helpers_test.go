package flags

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// waitFor bounds every wait on the watcher; it is a failure deadline, not a speed target.
const waitFor = 10 * time.Second

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// flagDir returns a new temporary flag directory holding files.
func flagDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	return dir
}

// newTestProvider loads dir with a fresh registry.
func newTestProvider(t testing.TB, dir string) (*Provider, *metrics.Metrics) {
	t.Helper()
	m := metrics.New("test", "test")
	p, err := NewProvider(Options{Dir: dir, Metrics: m, Log: testLog(t), Debounce: 20 * time.Millisecond, Poll: time.Hour,
		Now: func() time.Time { return time.Unix(1_700_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

// runProvider runs p's watch until the test ends.
func runProvider(t *testing.T, p *Provider) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func waitEvent(t *testing.T, p *Provider) of.Event {
	t.Helper()
	select {
	case ev := <-p.EventChannel():
		return ev
	case <-time.After(waitFor):
		t.Fatal("no provider event within the deadline")
		return of.Event{}
	}
}

func waitStatus(t *testing.T, p *Provider, cond func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		s := p.Status()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never reached the expected state; last: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func boolEval(p *Provider, key, targetingKey string, attrs map[string]any) of.BoolResolutionDetail {
	fc := of.FlattenedContext{}
	for k, v := range attrs {
		fc[k] = v
	}
	if targetingKey != "" {
		fc[of.TargetingKey] = targetingKey
	}
	return p.BooleanEvaluation(context.Background(), key, false, fc)
}

func errCode(d of.ProviderResolutionDetail) of.ErrorCode {
	return d.ResolutionDetail().ErrorCode
}

// testLog shows the provider's log with a failing test; benchmarks stay quiet.
func testLog(t testing.TB) *slog.Logger {
	if _, ok := t.(*testing.B); ok {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
