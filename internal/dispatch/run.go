package dispatch

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/tick"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// Run runs the background work of every loaded module (modules.Runner) and
// returns once ctx has ended and every runner has returned. A runner that
// panics or returns before ctx ends is logged (a panic also counted) and
// started again after a backoff, so a bug in one module's loop neither kills
// the process nor stops that work for good.
func (r *Router) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, l := range r.loaded {
		if run, ok := l.Module.(modules.Runner); ok {
			wg.Go(func() { r.keepRunning(ctx, l.Info.ID, run) })
		}
	}
	wg.Wait()
}

func (r *Router) keepRunning(ctx context.Context, module string, run modules.Runner) {
	for wait := time.Second; ; wait = min(wait*2, time.Minute) {
		err := r.runOnce(ctx, module, run)
		if ctx.Err() != nil {
			return
		}
		r.opts.Log.Error("module runner stopped; restarting", "module", module, "err", err, "in", wait.String())
		if !tick.Sleep(ctx, wait) {
			return
		}
	}
}

func (r *Router) runOnce(ctx context.Context, module string, run modules.Runner) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.opts.Metrics.Panics.Inc()
			r.opts.Log.Error("module runner panic", "module", module, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return run.Run(ctx)
}
