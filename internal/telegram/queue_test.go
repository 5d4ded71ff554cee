package telegram

import (
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// The ring starts small and grows with the backlog, keeping FIFO order
// across a wrapped head, and never past its bound.
func TestRingGrowsInOrder(t *testing.T) {
	r := newRing(200)
	if len(r.items) != 64 {
		t.Fatalf("initial storage %d, want 64", len(r.items))
	}
	next, want := int64(0), int64(0)
	push := func(n int) {
		for range n {
			r.push(item{req: modules.Request{UpdateID: next}})
			next++
		}
	}
	pop := func(n int) {
		for range n {
			it, ok := r.pop()
			if !ok || it.req.UpdateID != want {
				t.Fatalf("pop = %d, %v; want %d", it.req.UpdateID, ok, want)
			}
			want++
		}
	}
	push(50)
	pop(30) // the head is now inside the storage, so growth must unwrap it
	push(180)
	if r.n != 200 || len(r.items) != 200 {
		t.Errorf("%d queued in %d slots, want 200 in 200 (the bound)", r.n, len(r.items))
	}
	pop(200)
	if _, ok := r.pop(); ok {
		t.Error("pop from an empty ring succeeded")
	}
}
