package engine

import (
	"math"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// ObservePrice feeds the last price of pair at at and appends what fired.
// An above level fires when the price rises to it or through it since the
// previous observation (previous < level ≤ price), a below level on the
// way down; the first observation of a pair only sets the baseline.
func (e *Engine) ObservePrice(dst []Firing, pair market.Pair, price float64, at time.Time) []Firing {
	return e.observe(dst, pair, price, price, true, at)
}

// ObserveRange feeds the low and high a pair traded at since the previous
// observation (the 1 m candles of a gap after a restart or an outage), so a
// level crossed while the bot was away still fires: above levels in
// (previous, high], below levels in [low, previous); with no previous price
// (after a restart) every level inside (low, high) counts as crossed. The
// previous price is kept, so call it once per candle, oldest first, then
// ObservePrice with the current price.
func (e *Engine) ObserveRange(dst []Firing, pair market.Pair, low, high float64, at time.Time) []Firing {
	return e.observe(dst, pair, low, high, false, at)
}

func (e *Engine) observe(dst []Firing, pair market.Pair, lo, hi float64, point bool, at time.Time) []Firing {
	pi, ok := e.pairs[pair]
	if !ok || !(lo > 0) || !(hi >= lo) || math.IsInf(hi, 0) {
		return dst
	}
	p := &e.ps[pi]
	now := at.UnixNano()
	e.rearmLevels(p, lo, hi, now)
	fromUp, fromDown := lo, hi
	if p.last > 0 {
		fromUp, fromDown = p.last, p.last
	}
	if hi > fromUp {
		i, j := upper(p.aboveLv, fromUp), upper(p.aboveLv, hi)
		dst = e.fireLevels(dst, &p.aboveLv, &p.aboveIx, i, j, hi, fromUp, true, now)
	}
	if lo < fromDown {
		i, j := lower(p.belowLv, lo), lower(p.belowLv, fromDown)
		dst = e.fireLevels(dst, &p.belowLv, &p.belowIx, i, j, lo, fromDown, false, now)
	}
	if point {
		p.last = lo
	}
	if p.price != nil {
		p.price.add(lo, hi, at.Unix()/60)
		dst = e.evalMoves(dst, p.price, lo, hi, now)
	}
	return dst
}

// ObserveFunding feeds a venue's current funding rate for pair (a fraction
// per interval). An alert fires when the rate crosses its level between two
// observations from the same venue, on any venue unless it names one.
func (e *Engine) ObserveFunding(dst []Firing, pair market.Pair, venue string, rate float64, at time.Time) []Firing {
	pi, ok := e.pairs[pair]
	v := rule.VenueIndex(venue)
	if !ok || v == 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		return dst
	}
	p := &e.ps[pi]
	now := at.UnixNano()
	prev, seen := p.fund[v], p.fundSeen&(1<<v) != 0
	p.fund[v], p.fundSeen = rate, p.fundSeen|1<<v
	for i := 0; i < len(p.funding); i++ {
		f := &p.funding[i]
		if f.venue != 0 && f.venue != v {
			continue
		}
		if f.cooling {
			if !e.cool(&e.recs[f.slot], rate, rate, now) {
				continue
			}
			f.cooling = false
		}
		if !seen || !((f.up && prev < f.level && rate >= f.level) || (!f.up && prev > f.level && rate <= f.level)) {
			continue
		}
		var stays bool
		if dst, stays = e.fire(dst, f.slot, rate, prev, f.up, venue, now); stays {
			f.cooling = true
		} else {
			p.funding = dropAt(p.funding, i)
			i--
		}
	}
	return dst
}

// ObserveOI feeds a pair's open interest in USD.
func (e *Engine) ObserveOI(dst []Firing, pair market.Pair, usd float64, at time.Time) []Firing {
	pi, ok := e.pairs[pair]
	if !ok || !(usd > 0) || math.IsInf(usd, 0) {
		return dst
	}
	p := &e.ps[pi]
	if p.oi == nil {
		return dst
	}
	p.oi.add(usd, usd, at.Unix()/60)
	return e.evalMoves(dst, p.oi, usd, usd, at.UnixNano())
}

// rearmLevels runs the hysteresis of a pair's cooling level alerts and puts
// the re-armed ones back into the sorted index.
func (e *Engine) rearmLevels(p *pairState, lo, hi float64, now int64) {
	for i := 0; i < len(p.cooling); i++ {
		slot := p.cooling[i]
		r := &e.recs[slot]
		if !e.cool(r, lo, hi, now) {
			continue
		}
		p.cooling = dropAt(p.cooling, i)
		i--
		if r.kind == rule.Above {
			p.aboveLv, p.aboveIx = insertLevel(p.aboveLv, p.aboveIx, r.level, slot)
		} else {
			p.belowLv, p.belowIx = insertLevel(p.belowLv, p.belowIx, r.level, slot)
		}
	}
}

// fireLevels fires the armed levels at positions [i, j) of one side's
// index and takes them out of it in one move; repeating ones go cooling.
func (e *Engine) fireLevels(dst []Firing, lv *[]float64, ix *[]uint32, i, j int, value, from float64, up bool, now int64) []Firing {
	if i >= j {
		return dst
	}
	for _, slot := range (*ix)[i:j] {
		var stays bool
		if dst, stays = e.fire(dst, slot, value, from, up, "", now); stays {
			p := &e.ps[e.recs[slot].pair]
			p.cooling = append(p.cooling, slot)
		}
	}
	*lv = append((*lv)[:i], (*lv)[j:]...)
	*ix = append((*ix)[:i], (*ix)[j:]...)
	return dst
}

// evalMoves checks the move alerts of a series against their windows'
// extremes: the cached older part, refreshed once a minute, merged with the
// newest minute. While no move is cooling, the series keeps bounds on what
// could fire (see calm), so a tick that moves no alert far enough skips
// the alerts altogether.
func (e *Engine) evalMoves(dst []Firing, s *series, lo, hi float64, now int64) []Firing {
	if s.gen != s.ring.gen+1 {
		e.pre.reset(&s.ring)
		for i := range s.moves {
			m := &s.moves[i]
			var c bucket
			w, join := s.reach(m)
			if w > 1 { // fewer minutes hold nothing before the newest (and extremes wants w ≥ 1)
				if l, h, ok := e.pre.extremes(w); ok {
					c = bucket{float32(l), float32(h)}
				}
			}
			if join && int64(m.since) < s.newest {
				c.union(m.own) // its join minute, now past
			}
			m.lo, m.hi = c.lo, c.hi
		}
		s.gen = s.ring.gen + 1
		s.calm = false
	}
	if s.joining {
		s.noteJoined(lo, hi, now/int64(time.Minute))
	}
	if s.calm && s.quiet(lo, hi) {
		return dst
	}
	for i := 0; i < len(s.moves); i++ {
		m := &s.moves[i]
		if m.cooling {
			if !e.cool(&e.recs[m.slot], lo, hi, now) {
				continue
			}
			m.cooling = false
		}
		wlo, whi, ok := s.window(*m)
		if !ok {
			continue
		}
		frac := m.frac
		rise, fall := hi/wlo-1, 1-lo/whi
		var up bool
		switch {
		case rise >= frac && rise >= fall:
			up = true
		case fall >= frac:
		default:
			continue
		}
		value, from := lo, whi
		if up {
			value, from = hi, wlo
		}
		var stays bool
		if dst, stays = e.fire(dst, m.slot, value, from, up, "", now); stays {
			m.cooling = true
		} else {
			s.moves = dropAt(s.moves, i)
			i--
		}
	}
	s.settle()
	return dst
}
