package engine

// upper is the first position whose level is above v.
func upper(lv []float64, v float64) int {
	lo, hi := 0, len(lv)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if lv[m] > v {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// lower is the first position whose level is at or above v.
func lower(lv []float64, v float64) int {
	lo, hi := 0, len(lv)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if lv[m] >= v {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// insertLevel keeps lv ascending; equal levels keep insertion order.
func insertLevel(lv []float64, ix []uint32, v float64, slot uint32) ([]float64, []uint32) {
	i := upper(lv, v)
	lv = append(lv, 0)
	copy(lv[i+1:], lv[i:])
	lv[i] = v
	ix = append(ix, 0)
	copy(ix[i+1:], ix[i:])
	ix[i] = slot
	return lv, ix
}

func removeLevel(lv []float64, ix []uint32, v float64, slot uint32) ([]float64, []uint32) {
	for i := lower(lv, v); i < len(lv) && lv[i] == v; i++ {
		if ix[i] == slot {
			return append(lv[:i], lv[i+1:]...), append(ix[:i], ix[i+1:]...)
		}
	}
	return lv, ix
}

// dropAt removes position i without keeping order (the lists it serves are
// unordered).
func dropAt[T any](s []T, i int) []T {
	last := len(s) - 1
	s[i] = s[last]
	return s[:last]
}

func dropSlot(s []uint32, slot uint32) []uint32 {
	for i, v := range s {
		if v == slot {
			return dropAt(s, i)
		}
	}
	return s
}

// dropRef removes the entry of slot from a list of refs.
func dropRef[T interface{ ref() uint32 }](s []T, slot uint32) []T {
	for i, v := range s {
		if v.ref() == slot {
			return dropAt(s, i)
		}
	}
	return s
}

// fundRef is a funding alert with what a tick compares at hand.
type fundRef struct {
	slot    uint32
	venue   uint8 // rule.VenueIndex; 0 = any
	up      bool  // funding above
	cooling bool
	level   float64
}

func (f fundRef) ref() uint32 { return f.slot }

// expiry is one alert's end of life; entries of removed alerts stay in the
// heap until popped and are then ignored.
type expiry struct {
	at int64
	id int64
}

// expiryHeap is a binary min-heap on at, without container/heap's boxing.
type expiryHeap []expiry

func (h *expiryHeap) len() int    { return len(*h) }
func (h *expiryHeap) top() expiry { return (*h)[0] }

func (h *expiryHeap) push(x expiry) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].at <= s[i].at {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *expiryHeap) pop() expiry {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	*h = s[:last]
	h.down(0)
	return top
}

func (h expiryHeap) down(i int) {
	for {
		l, m := 2*i+1, i
		if l < len(h) && h[l].at < h[m].at {
			m = l
		}
		if r := l + 1; r < len(h) && h[r].at < h[m].at {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// keep drops the entries live rejects and restores the heap order.
func (h *expiryHeap) keep(live func(expiry) bool) {
	s := (*h)[:0]
	for _, x := range *h {
		if live(x) {
			s = append(s, x)
		}
	}
	*h = s
	for i := len(s)/2 - 1; i >= 0; i-- {
		s.down(i)
	}
}
