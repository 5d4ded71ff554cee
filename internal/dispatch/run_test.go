package dispatch

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// worker is a module with background work: its first run panics, the later
// ones run until their context ends.
type worker struct {
	feature
	starts  atomic.Int32
	running chan struct{}
	stopped atomic.Bool
}

func (w *worker) Run(ctx context.Context) error {
	if w.starts.Add(1) == 1 {
		panic("first run breaks")
	}
	close(w.running)
	<-ctx.Done()
	w.stopped.Store(true)
	return ctx.Err()
}

func TestRunRestartsAPanickedRunnerAndWaitsForItOnShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &worker{feature: feature{cmd: "work", reply: text("ok")}, running: make(chan struct{})}
		r, m := newRouter(t, &guard{budget: 10}, nil, info("core.work", "", 0, w))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()

		<-w.running // restarted after the backoff (fake time inside the bubble)
		if got := testutil.ToFloat64(m.Panics); got != 1 {
			t.Errorf("panics = %v, want 1", got)
		}
		cancel()
		<-done
		if !w.stopped.Load() {
			t.Error("Run returned before the runner did")
		}
		if got := w.starts.Load(); got != 2 {
			t.Errorf("runner started %d times, want 2", got)
		}
	})
}

var _ modules.Runner = (*worker)(nil)
