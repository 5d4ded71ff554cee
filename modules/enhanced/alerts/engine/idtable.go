package engine

// idTable maps alert ids to slots in 4 bytes a bucket, where a Go map of
// int64 to uint32 takes about 23 bytes an entry: at 100,000 alerts that is
// 0.5 MB instead of 2.3 MB of the 16 MB budget. It is open addressing with
// linear probing over slot+1 (0 = empty); the keys are read from the
// records themselves, and deletion shifts the probe run back instead of
// leaving tombstones, so lookups never degrade.
type idTable struct {
	b     []uint32
	count int
}

const idTableMinSize = 64

func home(id int64, mask uint64) uint64 { return (uint64(id) * 0x9E3779B97F4A7C15 >> 32) & mask }

// find is the bucket holding id, or the empty bucket where it would go.
func (t *idTable) find(recs []rec, id int64) (i uint64, found bool) {
	if len(t.b) == 0 {
		return 0, false
	}
	mask := uint64(len(t.b) - 1)
	for i = home(id, mask); ; i = (i + 1) & mask {
		s := t.b[i]
		if s == 0 {
			return i, false
		}
		if recs[s-1].id == id {
			return i, true
		}
	}
}

func (t *idTable) get(recs []rec, id int64) (uint32, bool) {
	i, ok := t.find(recs, id)
	if !ok {
		return 0, false
	}
	return t.b[i] - 1, true
}

// put adds id → slot; recs[slot].id must already be id and id not present.
func (t *idTable) put(recs []rec, id int64, slot uint32) {
	if (t.count+1)*5 > len(t.b)*4 { // keep the load at most 0.8
		t.grow(recs)
	}
	i, _ := t.find(recs, id)
	t.b[i] = slot + 1
	t.count++
}

func (t *idTable) grow(recs []rec) {
	old := t.b
	t.b = make([]uint32, max(idTableMinSize, 2*len(old)))
	mask := uint64(len(t.b) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := home(recs[s-1].id, mask)
		for t.b[i] != 0 {
			i = (i + 1) & mask
		}
		t.b[i] = s
	}
}

// del removes id, shifting later members of its probe run back.
func (t *idTable) del(recs []rec, id int64) {
	i, ok := t.find(recs, id)
	if !ok {
		return
	}
	mask := uint64(len(t.b) - 1)
	for j := (i + 1) & mask; t.b[j] != 0; j = (j + 1) & mask {
		h := home(recs[t.b[j]-1].id, mask)
		// Move j into the hole at i unless its home lies cyclically in (i, j].
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.b[i] = t.b[j]
			i = j
		}
	}
	t.b[i] = 0
	t.count--
}
