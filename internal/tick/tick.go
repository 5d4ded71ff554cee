// Package tick holds the context-aware waits the background loops share:
// running a function on a ticker until a context ends (digests,
// refresh-ahead, memory sampling) and sleeping unless it ends (retries and
// backoffs).
package tick

import (
	"context"
	"time"
)

// Every calls f every d until ctx ends; the first call comes after d. Once
// ctx has ended f is not called again (even when a tick is due at the same
// moment), and Every returns.
func Every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ctx.Err() != nil {
				return
			}
			f()
		}
	}
}

// Sleep waits d or until ctx ends; it reports whether the full wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
