// Package engine evaluates alerts against market observations. It is pure
// and deterministic: no goroutines, no clock (every call carries its time),
// no I/O. The runner feeds it ticks and persists what it returns: each
// Firing together with its outbound message in one store transaction, and
// the Changes (re-arms, expiries) as they come.
//
// Armed price levels are kept sorted per pair, so a tick costs two binary
// searches whatever the number of alerts: the levels crossed between the
// previous and the current observation are one contiguous range. Moves read
// a compact per-pair history (see ring.go). An Engine is not safe for
// concurrent use; one runner owns it.
package engine

import (
	"fmt"
	"math"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// Firing is one alert that fired. Rule is the rule as the engine keeps it:
// Symbol is the resolved pair, Expiry and Confirm are not kept (the store
// has the full rule).
type Firing struct {
	AlertID int64
	ChatID  int64
	Pair    market.Pair
	Rule    rule.Rule
	Price   float64 // the value that fired it: price, funding rate or OI in USD
	From    float64 // the previous value: price or rate before the crossing, a move's window low (rise) or high (fall)
	Venue   string  // funding: the venue whose rate fired it
	At      time.Time
	Expires time.Time   // the alert's end of life (zero: never), to Add it back if the firing cannot be stored
	Status  rule.Status // the alert's status after this firing: store it with the message
}

// Change is a status change that is not a firing: a repeating alert that
// retreated past its margin or re-armed, or an alert that expired (then the
// engine has dropped it).
type Change struct {
	AlertID int64
	Status  rule.Status
}

// Feed is a kind of market data the engine needs for a pair.
type Feed uint8

// The feeds the runner polls.
const (
	Prices Feed = 1 << iota
	FundingRates
	OpenInterest
)

const (
	fRepeat uint8 = 1 << iota
	fRetreated
	fUp
)

// rec is one live alert, 64 bytes: 100,000 alerts hold 6.4 MB.
type rec struct {
	id, chat  int64
	level     float64 // price level, funding rate or move percent
	value     float64 // value of the last firing
	expires   int64   // Unix ns, 0 = never
	lastFired int64   // Unix ns, 0 = never
	cooldown  int32   // seconds
	pair      uint32
	window    uint16 // minutes
	kind      rule.Kind
	state     rule.State
	venue     uint8 // rule.VenueIndex; 0 = any
	flags     uint8
}

func (r *rec) has(f uint8) bool { return r.flags&f != 0 }

func (r *rec) set(f uint8, on bool) {
	if on {
		r.flags |= f
	} else {
		r.flags &^= f
	}
}

func (r *rec) status() rule.Status {
	s := rule.Status{State: r.state, Value: r.value, Up: r.has(fUp), Retreated: r.has(fRetreated)}
	if r.lastFired != 0 {
		s.LastFired = time.Unix(0, r.lastFired).UTC()
	}
	return s
}

// bound is the value a cooling alert must move back to before it re-arms.
func (r *rec) bound() float64 {
	return rule.RearmBound(rule.Rule{Kind: r.kind, Level: r.level, Percent: r.level}, r.value, r.has(fUp))
}

// pairState holds one pair's alerts by the way they are evaluated.
type pairState struct {
	pair             market.Pair
	name             string     // pair.String(), made once for the Firings' rules
	last             float64    // last observed price; 0 = none yet
	aboveLv, belowLv []float64  // armed level alerts, ascending levels…
	aboveIx, belowIx []uint32   // …and their slots, in the same order
	cooling          []uint32   // level alerts cooling down
	funding          []fundRef  // funding alerts, armed or cooling
	price, oi        *series    // history and move alerts, nil until a move alert needs one
	fund             [4]float64 // last rate by rule.VenueIndex
	fundSeen         uint8      // bit per venue index with a rate
	live             [3]int32   // alerts per feed: prices, funding, open interest
}

// Engine holds the live (armed and cooling) alerts.
type Engine struct {
	recs    []rec
	free    []uint32
	ids     idTable
	pairs   map[market.Pair]uint32
	ps      []pairState
	exp     expiryHeap
	pending []Change
	pre     prefix
}

// New returns an empty engine.
func New() *Engine {
	return &Engine{pairs: map[market.Pair]uint32{}}
}

// Len is the number of live alerts.
func (e *Engine) Len() int { return e.ids.count }

// Status is a live alert's current status.
func (e *Engine) Status(id int64) (rule.Status, bool) {
	s, ok := e.ids.get(e.recs, id)
	if !ok {
		return rule.Status{}, false
	}
	return e.recs[s].status(), true
}

// Add loads or creates an alert; one with the same id is replaced. Alerts
// that are not live (fired, paused, expired) are dropped, so the runner can
// Add every row it loads or changes. A move alert counts moves from its
// creation on: AddFrom(a, a.Created).
func (e *Engine) Add(a rule.Alert) error { return e.AddFrom(a, a.Created) }

// AddFrom is Add for an alert that watches from, not from its creation: a
// resumed alert, whose move window must not reach back into its pause. A
// move alert reads no history older than from's minute, and within that
// minute only what it observed itself.
func (e *Engine) AddFrom(a rule.Alert, from time.Time) error {
	if err := validate(a); err != nil {
		return err
	}
	queued := int64(0) // the expiry already in the heap for this id
	if slot, ok := e.ids.get(e.recs, a.ID); ok {
		queued = e.recs[slot].expires
	}
	e.Remove(a.ID)
	if !a.State.Live() {
		return nil
	}
	r := rec{
		id: a.ID, chat: a.ChatID, value: a.Value, kind: a.Rule.Kind, state: a.State,
		cooldown: int32(a.Rule.Cooldown / time.Second), window: uint16(a.Rule.Window / time.Minute),
		venue: rule.VenueIndex(a.Rule.Venue),
	}
	r.level = a.Rule.Level
	if a.Rule.Kind.IsMove() {
		r.level = a.Rule.Percent
	}
	if !a.Expires.IsZero() {
		r.expires = a.Expires.UnixNano()
	}
	if !a.LastFired.IsZero() {
		r.lastFired = a.LastFired.UnixNano()
	}
	r.set(fRepeat, a.Rule.Repeat)
	r.set(fUp, a.Up)
	r.set(fRetreated, a.Retreated)
	r.pair = e.pairIndex(a.Pair)
	var since int64
	if !from.IsZero() {
		since = from.Unix() / 60
	}
	var slot uint32
	if n := len(e.free); n > 0 {
		slot, e.free = e.free[n-1], e.free[:n-1]
		e.recs[slot] = r
	} else {
		slot = uint32(len(e.recs))
		e.recs = append(e.recs, r)
	}
	e.ids.put(e.recs, a.ID, slot)
	e.place(slot, since)
	if r.expires != 0 && r.expires != queued {
		e.exp.push(expiry{at: r.expires, id: r.id})
		if e.exp.len() > 2*e.ids.count+64 { // removed and replaced alerts leave stale entries
			e.exp.keep(e.expiryLive)
		}
	}
	return nil
}

// expiryLive reports whether a heap entry still belongs to a live alert.
func (e *Engine) expiryLive(x expiry) bool {
	slot, ok := e.ids.get(e.recs, x.id)
	return ok && e.recs[slot].expires == x.at
}

func validate(a rule.Alert) error {
	r := a.Rule
	ok := false
	switch {
	case r.Kind.IsLevel():
		ok = r.Level > 0 && !math.IsInf(r.Level, 0)
	case r.Kind.IsFunding():
		ok = !math.IsNaN(r.Level) && !math.IsInf(r.Level, 0)
	case r.Kind.IsMove():
		ok = r.Percent > 0 && r.Percent <= rule.MaxPercent && r.Window >= time.Minute && r.Window <= rule.MaxWindow
	}
	switch {
	case !ok:
		return fmt.Errorf("alert %d: invalid %v rule", a.ID, r.Kind)
	case r.Cooldown < 0 || r.Cooldown > math.MaxInt32*time.Second:
		return fmt.Errorf("alert %d: cooldown %v out of range", a.ID, r.Cooldown)
	}
	return nil
}

func (e *Engine) pairIndex(p market.Pair) uint32 {
	if i, ok := e.pairs[p]; ok {
		return i
	}
	i := uint32(len(e.ps))
	e.ps = append(e.ps, pairState{pair: p, name: p.String()})
	e.pairs[p] = i
	return i
}

// feedOf is the index into pairState.live of a kind's feed.
func feedOf(k rule.Kind) int {
	switch {
	case k.IsFunding():
		return 1
	case k == rule.OIMove:
		return 2
	}
	return 0
}

// place files a slot under its pair by kind and state; a move reads its
// series from the Unix minute since on.
func (e *Engine) place(slot uint32, since int64) {
	r := &e.recs[slot]
	p := &e.ps[r.pair]
	p.live[feedOf(r.kind)]++
	switch r.kind {
	case rule.Above, rule.Below:
		if r.state == rule.Cooling {
			p.cooling = append(p.cooling, slot)
		} else if r.kind == rule.Above {
			p.aboveLv, p.aboveIx = insertLevel(p.aboveLv, p.aboveIx, r.level, slot)
		} else {
			p.belowLv, p.belowIx = insertLevel(p.belowLv, p.belowIx, r.level, slot)
		}
	case rule.Move:
		p.price = addMove(p.price, slot, r, since)
	case rule.OIMove:
		p.oi = addMove(p.oi, slot, r, since)
	case rule.FundingAbove, rule.FundingBelow:
		p.funding = append(p.funding, fundRef{slot: slot, level: r.level, venue: r.venue,
			up: r.kind == rule.FundingAbove, cooling: r.state == rule.Cooling})
	}
}

// addMove files a move alert under its series, creating the series or
// its day of quarter-hour history when the window needs them. A series
// that already holds history (other chats' moves) keeps it; since keeps
// this move from reading what came before it joined.
func addMove(s *series, slot uint32, r *rec, since int64) *series {
	if s == nil {
		s = new(series)
	}
	if r.window > minuteSlots && s.qtr == nil {
		s.qtr = new([quarterSlots]bucket)
	}
	m := moveRef{slot: slot, frac: r.level / 100, cooling: r.state == rule.Cooling, window: r.window}
	if s.newest != 0 && since > s.newest-int64(r.window) { // its window reaches back past since
		m.since = uint32(since)
		s.joining = true
	}
	s.moves = append(s.moves, m)
	s.gen = 0
	return s
}

// Remove drops a live alert (deleted, paused or edited); false if unknown.
func (e *Engine) Remove(id int64) bool {
	slot, ok := e.ids.get(e.recs, id)
	if !ok {
		return false
	}
	e.unlist(slot)
	e.release(slot)
	return true
}

// unlist takes a slot out of its pair's lists.
func (e *Engine) unlist(slot uint32) {
	r := &e.recs[slot]
	p := &e.ps[r.pair]
	switch r.kind {
	case rule.Above, rule.Below:
		switch {
		case r.state == rule.Cooling:
			p.cooling = dropSlot(p.cooling, slot)
		case r.kind == rule.Above:
			p.aboveLv, p.aboveIx = removeLevel(p.aboveLv, p.aboveIx, r.level, slot)
		default:
			p.belowLv, p.belowIx = removeLevel(p.belowLv, p.belowIx, r.level, slot)
		}
	case rule.Move:
		p.price.moves = dropRef(p.price.moves, slot)
	case rule.OIMove:
		p.oi.moves = dropRef(p.oi.moves, slot)
	default:
		p.funding = dropRef(p.funding, slot)
	}
}

// release forgets a slot already taken out of its pair's lists.
func (e *Engine) release(slot uint32) {
	r := &e.recs[slot]
	e.ps[r.pair].live[feedOf(r.kind)]--
	e.ids.del(e.recs, r.id)
	*r = rec{}
	e.free = append(e.free, slot)
}

// Last is the last price observed for pair, 0 before the first.
func (e *Engine) Last(pair market.Pair) float64 {
	if i, ok := e.pairs[pair]; ok {
		return e.ps[i].last
	}
	return 0
}

// Pairs appends the pairs that have live alerts needing feed f: what the
// runner polls.
func (e *Engine) Pairs(dst []market.Pair, f Feed) []market.Pair {
	for i := range e.ps {
		p := &e.ps[i]
		if (f&Prices != 0 && p.live[0] > 0) || (f&FundingRates != 0 && p.live[1] > 0) || (f&OpenInterest != 0 && p.live[2] > 0) {
			dst = append(dst, p.pair)
		}
	}
	return dst
}

// Changes appends and clears the status changes collected since the last
// call. The runner drains them every tick and stores them; they are not
// urgent (a lost one only makes an alert wait for another retreat).
func (e *Engine) Changes(dst []Change) []Change {
	dst = append(dst, e.pending...)
	e.pending = e.pending[:0]
	return dst
}

// Expire drops the alerts whose lifetime ended by now, recording a Change
// for each. Firing paths check expiry too, so an expired alert never fires
// even between two calls.
func (e *Engine) Expire(now time.Time) {
	t := now.UnixNano()
	for e.exp.len() > 0 && e.exp.top().at <= t {
		x := e.exp.pop()
		if e.expiryLive(x) {
			slot, _ := e.ids.get(e.recs, x.id)
			e.unlist(slot)
			e.dropExpired(slot)
		}
	}
}

// dropExpired records an alert's expiry and releases its slot, which is
// out of its lists or about to be.
func (e *Engine) dropExpired(slot uint32) {
	s := e.recs[slot].status()
	s.State = rule.Expired
	e.pending = append(e.pending, Change{AlertID: e.recs[slot].id, Status: s})
	e.release(slot)
}

func (e *Engine) note(r *rec) {
	e.pending = append(e.pending, Change{AlertID: r.id, Status: r.status()})
}

// ruleOf rebuilds the evaluated part of a rule for a Firing.
func (e *Engine) ruleOf(r *rec) rule.Rule {
	out := rule.Rule{Kind: r.kind, Symbol: e.ps[r.pair].name, Repeat: r.has(fRepeat),
		Cooldown: time.Duration(r.cooldown) * time.Second, Venue: rule.VenueName(r.venue)}
	if r.kind.IsMove() {
		out.Percent, out.Window = r.level, time.Duration(r.window)*time.Minute
	} else {
		out.Level = r.level
	}
	return out
}

// fire records a firing of slot with value at now and moves the alert on.
// It reports whether the alert stays live: a repeating alert starts
// cooling and the caller keeps it in (or moves it to) a cooling list; a
// one-shot alert, or one whose lifetime had ended (then it expires instead
// of firing), is released and the caller drops it from its list.
func (e *Engine) fire(dst []Firing, slot uint32, value, from float64, up bool, venue string, now int64) ([]Firing, bool) {
	r := &e.recs[slot]
	if r.expires != 0 && now >= r.expires {
		e.dropExpired(slot)
		return dst, false
	}
	r.lastFired, r.value = now, value
	r.set(fUp, up)
	r.set(fRetreated, false)
	r.state = rule.Fired
	if r.has(fRepeat) {
		r.state = rule.Cooling
	}
	f := Firing{
		AlertID: r.id, ChatID: r.chat, Pair: e.ps[r.pair].pair, Rule: e.ruleOf(r),
		Price: value, From: from, Venue: venue, At: time.Unix(0, now).UTC(), Status: r.status(),
	}
	if r.expires != 0 {
		f.Expires = time.Unix(0, r.expires).UTC()
	}
	dst = append(dst, f)
	if !r.has(fRepeat) {
		e.release(slot)
		return dst, false
	}
	return dst, true
}

// cool runs a cooling alert's hysteresis on an observation spanning lo…hi:
// it notes a retreat past the margin and re-arms once retreated and the
// cooldown is over. It reports whether the alert is armed now.
func (e *Engine) cool(r *rec, lo, hi float64, now int64) bool {
	retreated := false
	if !r.has(fRetreated) {
		b := r.bound()
		retreated = (r.has(fUp) && lo <= b) || (!r.has(fUp) && hi >= b)
		r.set(fRetreated, retreated)
	}
	if r.has(fRetreated) && now >= r.lastFired+int64(r.cooldown)*int64(time.Second) {
		r.state = rule.Armed
		r.set(fRetreated, false)
		e.note(r)
		return true
	}
	if retreated {
		e.note(r)
	}
	return false
}
