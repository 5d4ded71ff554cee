package dispatch

import (
	"testing"
	"time"
)

func TestWorkDeadline(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		waited time.Duration
		want   time.Duration // after now
	}{
		{"fresh update: the reply deadline less the send reserve", 0, 4500 * time.Millisecond},
		{"short wait: the reply deadline less the send reserve", 1 * time.Second, 3500 * time.Millisecond},
		{"long wait gets half the budget", 4 * time.Second, 2500 * time.Millisecond},
		{"expired update still gets half the budget", 30 * time.Second, 2500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0.Add(tc.waited)
			if got := WorkDeadline(t0, 5*time.Second, now).Sub(now); got != tc.want {
				t.Errorf("deadline in %s, want %s", got, tc.want)
			}
		})
	}
}
