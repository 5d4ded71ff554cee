package engine

import "math"

// The move window history: per-minute buckets for the last hour and, once a
// window longer than an hour asks for it, quarter-hour buckets for the last
// day: 0.5 KB a series, 1.25 KB with the day. Windows up to 1 h are exact to
// the minute; longer ones reach back in 15-minute steps, so their far edge
// is up to 14 minutes older.
const (
	minuteSlots  = 60
	quarterMins  = 15
	quarterSlots = 96
	prefixSteps  = minuteSlots + quarterSlots
)

// bucket is the range seen in one slot; hi == 0 marks it empty (prices and
// open interest are positive). float32 keeps 7 digits: plenty for percents.
type bucket struct{ lo, hi float32 }

func (b *bucket) merge(lo, hi float64) {
	l, h := float32(lo), float32(hi)
	if b.hi == 0 {
		b.lo, b.hi = l, h
		return
	}
	b.lo, b.hi = min(b.lo, l), max(b.hi, h)
}

// union merges o into b; an empty o changes nothing.
func (b *bucket) union(o bucket) {
	if o.hi != 0 {
		b.merge(float64(o.lo), float64(o.hi))
	}
}

type ring struct {
	newest int64  // minute number (Unix minutes) of the newest slot; 0 before the first observation
	gen    uint32 // changes whenever a slot other than the newest minute changes
	minute [minuteSlots]bucket
	qtr    *[quarterSlots]bucket // nil until a window over an hour needs it
}

// add merges an observation's range into the slots of its minute at (Unix
// minutes, positive). Older observations still inside the ring are merged
// too (gap recovery replays candles); anything older is dropped.
func (g *ring) add(lo, hi float64, at int64) {
	if g.newest == 0 {
		g.newest = at
	}
	if at > g.newest {
		for m := g.newest + 1; m <= at && m <= g.newest+minuteSlots; m++ {
			g.minute[m%minuteSlots] = bucket{}
		}
		if g.qtr != nil {
			oq, nq := g.newest/quarterMins, at/quarterMins
			for q := oq + 1; q <= nq && q <= oq+quarterSlots; q++ {
				g.qtr[q%quarterSlots] = bucket{}
			}
		}
		g.newest = at
		g.gen++
	} else if at < g.newest {
		g.gen++
	}
	if at > g.newest-minuteSlots {
		g.minute[at%minuteSlots].merge(lo, hi)
	}
	if q := at / quarterMins; g.qtr != nil && q > g.newest/quarterMins-quarterSlots {
		g.qtr[q%quarterSlots].merge(lo, hi)
	}
}

// latest is the newest minute's bucket.
func (g *ring) latest() bucket { return g.minute[g.newest%minuteSlots] }

// step is the prefix step that covers a window of w minutes back from the
// newest minute: steps 0…59 are minutes, then quarters older than the hour.
func (g *ring) step(w int64) int {
	if w <= minuteSlots || g.qtr == nil {
		return int(min(w, minuteSlots) - 1)
	}
	q0 := (g.newest - minuteSlots) / quarterMins
	oldest := g.newest - w + 1
	return min(minuteSlots+int(q0-oldest/quarterMins), prefixSteps-1)
}

// prefix holds the running low and high of a ring walked back from the
// minute before its newest, computed only as far as the longest window
// asked for. The newest minute is left out: it changes on every tick, the
// rest only when a minute passes, so callers cache these extremes and merge
// the newest bucket themselves.
type prefix struct {
	g      *ring
	n      int // steps computed
	mi, qi int // slot of the newest minute and of the newest quarter past the hour
	lo, hi [prefixSteps]float64
}

func (p *prefix) reset(g *ring) {
	p.g, p.n = g, 0
	p.mi = int(g.newest % minuteSlots)
	p.qi = int((g.newest - minuteSlots) / quarterMins % quarterSlots)
}

// extremes are the low and high over the last w minutes but the newest; ok
// is false when they hold no data.
func (p *prefix) extremes(w int64) (lo, hi float64, ok bool) {
	s := p.g.step(w)
	for p.n <= s {
		lo, hi := math.Inf(1), math.Inf(-1)
		var b bucket
		if p.n > 0 {
			lo, hi = p.lo[p.n-1], p.hi[p.n-1]
			if p.n < minuteSlots {
				b = p.g.minute[wrap(p.mi-p.n, minuteSlots)]
			} else {
				b = p.g.qtr[wrap(p.qi-(p.n-minuteSlots), quarterSlots)]
			}
		}
		if b.hi != 0 {
			lo, hi = min(lo, float64(b.lo)), max(hi, float64(b.hi))
		}
		p.lo[p.n], p.hi[p.n] = lo, hi
		p.n++
	}
	return p.lo[s], p.hi[s], !math.IsInf(p.lo[s], 1)
}

// wrap is i mod n for i in (-n, n).
func wrap(i, n int) int {
	if i < 0 {
		return i + n
	}
	return i
}

// series is one watched value (a pair's price or its open interest): its
// history and the move alerts reading it, each with the window extremes
// cached until the ring's older slots change.
type series struct {
	ring
	moves []moveRef
	gen   uint32 // ring.gen+1 when the cached extremes were computed; 0 = stale
	// calm: no move is cooling and the bounds below hold for the moves'
	// cached extremes, so quiet can tell when none of them can fire. Any
	// change that could let a move fire on less (a refresh, an added or
	// re-armed move) clears it until the next full pass; removals leave
	// the bounds conservative.
	calm    bool
	joining bool    // a move joined this minute or is about to: noteJoined feeds its own bucket
	minFrac float64 // the smallest move
	upAt    float64 // no move fires up on its cached low unless hi ≥ upAt
	downAt  float64 // no move fires down on its cached high unless lo ≤ downAt
}

// moveRef is a move alert as its series evaluates it: with the threshold
// and state at hand, a tick reads no alert record unless one fires or cools.
type moveRef struct {
	slot    uint32
	lo, hi  float32 // window extremes before the newest minute; hi == 0: none
	own     bucket  // what this move observed in minute since
	since   uint32  // Unix minute it joined the series' history (resumed or new); 0: it reads all of it
	frac    float64 // the move, 0.05 for 5 %
	cooling bool
	window  uint16 // minutes, as in the record
}

func (m moveRef) ref() uint32 { return m.slot }

// boundSlack widens the bounds of settle well past any rounding of the
// exact test in evalMoves, so they only ever let through too much.
const boundSlack = 1e-6

// settle recomputes the bounds after a full pass over the moves.
//
// A move fires when rise = hi/wlo-1 or fall = 1-lo/whi reaches its frac,
// wlo and whi being the newest minute's bucket merged with its cached
// extremes. As division is monotonic, hi/min(a, b) = max(hi/a, hi/b) and
// lo/max(a, b) = min(lo/a, lo/b) exactly, so a move fires only if the
// newest bucket alone, or its cached extremes alone, make it fire. quiet
// tests the first exactly against the smallest frac and the second against
// bounds taken over all moves.
func (s *series) settle() {
	s.calm, s.minFrac, s.upAt, s.downAt = true, math.Inf(1), math.Inf(1), math.Inf(-1)
	for i := range s.moves {
		m := &s.moves[i]
		if m.cooling {
			s.calm = false
			return
		}
		s.minFrac = min(s.minFrac, m.frac)
		if m.hi == 0 {
			continue
		}
		l, h := float64(m.lo), float64(m.hi)
		s.upAt = min(s.upAt, l*(1+m.frac)*(1-boundSlack))
		if math.IsInf(h, 1) {
			s.downAt = math.Inf(1)
		} else {
			s.downAt = max(s.downAt, h*(1-m.frac+boundSlack))
		}
	}
}

// quiet reports that no move can fire on an observation spanning lo…hi,
// the series being calm.
func (s *series) quiet(lo, hi float64) bool {
	b := s.latest()
	if hi/float64(b.lo)-1 >= s.minFrac || 1-lo/float64(b.hi) >= s.minFrac {
		return false
	}
	return hi < s.upAt && lo > s.downAt
}

// reach is how many minutes back from the newest one the cached extremes
// of m cover: its window, or for a move that joined since, the minutes after
// since (and, reaching into quarter hours, only whole quarters after it).
// join reports that the move joined within its window, so its own bucket
// counts; a move whose since left the window reads the whole window again.
func (s *series) reach(m *moveRef) (w int64, join bool) {
	w = int64(m.window)
	if m.since == 0 {
		return w, false
	}
	since := int64(m.since)
	if since <= s.newest-w {
		m.since, m.own = 0, bucket{}
		return w, false
	}
	w = s.newest - since // minutes since+1 … newest
	if w > minuteSlots && s.qtr != nil {
		first := (since + quarterMins) / quarterMins * quarterMins // the first whole quarter after since
		w = s.newest - first + 1
	}
	return w, true
}

// noteJoined merges an observation in minute into the own bucket of the
// moves that joined in that minute, and keeps joining while any has a
// since not yet past.
func (s *series) noteJoined(lo, hi float64, minute int64) {
	s.joining = false
	for i := range s.moves {
		m := &s.moves[i]
		switch since := int64(m.since); {
		case since == minute:
			m.own.merge(lo, hi)
			s.joining = true
		case since > minute:
			s.joining = true
		}
	}
}

// window is the low and high over w minutes including the newest minute;
// for a move that joined this very minute, only what it has observed.
func (s *series) window(m moveRef) (lo, hi float64, ok bool) {
	b := s.latest()
	if m.since != 0 && int64(m.since) >= s.newest {
		b = m.own
	}
	b.union(bucket{m.lo, m.hi})
	return float64(b.lo), float64(b.hi), b.hi != 0
}
