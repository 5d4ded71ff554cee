package market

import (
	"errors"
	"sync"
	"time"
)

// Cool-down after a venue fails: its Retry-After when it gave one, else
// coolDown, never more than maxCoolDown.
const (
	coolDown    = 10 * time.Second
	maxCoolDown = time.Minute
)

// health remembers venues that just failed, so failover tries them last for
// a short while instead of spending every caller's budget on the same
// hanging or rate-limited venue. It never drops a venue: one that is cooling
// down is still tried when the others fail too.
type health struct {
	mu    sync.Mutex
	until []time.Time // per exchange index; zero when healthy
}

func newHealth(n int) *health { return &health{until: make([]time.Time, n)} }

// order returns idx with the venues cooling down at now moved to the end,
// keeping the configured order within each group.
func (h *health) order(idx []int, now time.Time) []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]int, 0, len(idx))
	for _, i := range idx {
		if !now.Before(h.until[i]) {
			out = append(out, i)
		}
	}
	for _, i := range idx {
		if now.Before(h.until[i]) {
			out = append(out, i)
		}
	}
	return out
}

// failed starts venue i's cool-down and reports whether it was healthy before.
func (h *health) failed(i int, err error, now time.Time) bool {
	d := coolDown
	var rl *RateLimitError
	if errors.As(err, &rl) && rl.RetryAfter > 0 {
		d = min(rl.RetryAfter, maxCoolDown)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	wasHealthy := !now.Before(h.until[i])
	h.until[i] = now.Add(d)
	return wasHealthy
}

// ok ends venue i's cool-down.
func (h *health) ok(i int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.until[i] = time.Time{}
}
