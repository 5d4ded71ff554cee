package tick_test

import (
	"context"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/tick"
)

// Every keeps calling f, and once it has returned after ctx ended, f is
// not called again.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	called := make(chan struct{})
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick.Every(ctx, time.Millisecond, func() {
			calls++
			if calls == 3 {
				cancel()
			}
			called <- struct{}{}
		})
	}()
	for range 3 {
		<-called
	}
	<-done
	if calls != 3 {
		t.Errorf("%d calls, want 3: none after ctx ended", calls)
	}
}

func TestSleep(t *testing.T) {
	if !tick.Sleep(t.Context(), time.Millisecond) {
		t.Error("Sleep = false after the full wait, want true")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if tick.Sleep(ctx, time.Hour) {
		t.Error("Sleep = true with ctx ended, want false")
	}
}
