// Package tick runs a function on a ticker until a context ends: the loop
// the background jobs (digests, refresh-ahead, memory sampling) share.
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
