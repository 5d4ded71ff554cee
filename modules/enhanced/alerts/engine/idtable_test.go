package engine

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestIDTableMatchesMap runs random puts and deletes against a map.
func TestIDTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var tab idTable
	recs := make([]rec, 5000)
	want := map[int64]uint32{}
	free := make([]uint32, 0, len(recs))
	for i := range recs {
		free = append(free, uint32(i))
	}
	for step := range 50_000 {
		if len(free) > 0 && (rng.IntN(3) > 0 || len(want) == 0) {
			slot := free[len(free)-1]
			free = free[:len(free)-1]
			id := rng.Int64N(1 << 40)
			if _, dup := want[id]; dup {
				free = append(free, slot)
				continue
			}
			recs[slot].id = id
			tab.put(recs, id, slot)
			want[id] = slot
		} else {
			for id, slot := range want { // map order: a random victim
				tab.del(recs, id)
				delete(want, id)
				recs[slot] = rec{}
				free = append(free, slot)
				break
			}
		}
		if tab.count != len(want) {
			t.Fatalf("step %d: count %d, want %d", step, tab.count, len(want))
		}
		if step%1000 == 0 {
			for id, slot := range want {
				if got, ok := tab.get(recs, id); !ok || got != slot {
					t.Fatalf("step %d: get(%d) = %d %v, want %d", step, id, got, ok, slot)
				}
			}
			if _, ok := tab.get(recs, -1); ok {
				t.Fatal("found an id never put")
			}
		}
	}
}

// The memory budget counts on 64-byte records.
func TestRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(rec{}); n != 64 {
		t.Errorf("rec is %d bytes, want 64", n)
	}
}
