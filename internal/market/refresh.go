package market

import (
	"cmp"
	"context"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/cryptobot-dev/cryptobot/internal/tick"
)

// Freshness configures stale-while-revalidate and refresh ahead. Zero values
// take the defaults.
type Freshness struct {
	// StaleLimit is the age up to which a value past its TTL is still served
	// while one background refresh runs; older values make callers wait.
	// Default DefaultStaleLimit; at most the TTL turns stale serving off.
	StaleLimit time.Duration
	// RefreshTimeout bounds one background refresh; default DefaultRefreshTimeout.
	RefreshTimeout time.Duration
	// RefreshLead is how long before expiry Run refreshes a hot key (at
	// most TTL/2); default DefaultRefreshLead.
	RefreshLead time.Duration
	// HotWindow: a key asked for within it is hot; default DefaultHotWindow.
	HotWindow time.Duration
	// Budget caps refresh-ahead requests per second per venue name. A venue
	// left out takes its default (binance 20, bybit 30, okx 8, any other
	// DefaultRefreshBudget); a value ≤ 0 turns refresh ahead off for it.
	// Requests callers wait for, and revalidations of stale values, are not
	// budgeted: they are demand.
	Budget map[string]float64
}

func (f Freshness) withDefaults() Freshness {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&f.StaleLimit, DefaultStaleLimit}, {&f.RefreshTimeout, DefaultRefreshTimeout},
		{&f.RefreshLead, DefaultRefreshLead}, {&f.HotWindow, DefaultHotWindow},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	return f
}

// Defaults for Freshness.
const (
	DefaultStaleLimit     = 15 * time.Second
	DefaultRefreshTimeout = fetchTimeout
	DefaultRefreshLead    = 500 * time.Millisecond
	DefaultHotWindow      = time.Minute
	// DefaultRefreshBudget is the refresh-ahead budget of a venue not in
	// defaultBudgets, in requests per second.
	DefaultRefreshBudget = 5.0
)

// defaultBudgets are refresh-ahead requests per second per venue: a fraction
// of each venue's public limit (exchanges.md), so demand traffic keeps the
// rest. Binance: 6000 weight/min spot and 2400/min fapi, 1–2 weight per
// call, so 20/s is at most 40 weight/s of fapi's 40. Bybit: 600 requests per
// 5 s per IP, 120/s. OKX: 20 requests per 2 s per endpoint and IP (10/2 s
// for funding), so 8/s across all endpoints.
var defaultBudgets = map[string]float64{"binance": 20, "bybit": 30, "okx": 8}

// minTick is the shortest refresh-ahead tick; below it (a TTL under 40 ms)
// refresh ahead is off.
const minTick = 10 * time.Millisecond

// refresher keeps hot and pinned keys fresh from Market.Run: every tick it
// refreshes the keys that expire within lead, if their venue's token bucket
// allows.
type refresher struct {
	lead     time.Duration
	window   time.Duration // a key unused this long leaves the hot set
	tick     time.Duration
	limiters []*rate.Limiter // per exchange index; nil: no refresh ahead
}

func newRefresher(f Freshness, ttl time.Duration, venues []string) *refresher {
	r := &refresher{
		lead:     min(f.RefreshLead, ttl/2),
		window:   f.HotWindow,
		limiters: make([]*rate.Limiter, len(venues)),
	}
	r.tick = r.lead / 2
	if r.tick < minTick {
		return r // a TTL this short is a test's "always ask": no refresh ahead
	}
	for i, name := range venues {
		rps, ok := f.Budget[name]
		if !ok {
			rps = cmp.Or(defaultBudgets[name], DefaultRefreshBudget)
		}
		if rps > 0 {
			r.limiters[i] = rate.NewLimiter(rate.Limit(rps), max(1, int(rps)))
		}
	}
	return r
}

// pin is a key kept hot whether or not anyone asks for it.
type pin struct {
	count int
	meta  *meta
}

// Pin keeps pair's spot ticker hot: refreshed ahead of expiry within the
// venues' budget whether or not a chat asked for it in the last minute, for
// alerts and watchlists. Pins nest; unpin undoes one and is idempotent.
func (m *Market) Pin(pair Pair) (unpin func()) {
	k := key{op: opTicker, venue: anyVenue, pair: pair}
	m.cache.pin(k)
	done := false
	return func() {
		if !done {
			done = true
			m.cache.unpin(k)
		}
	}
}

func (c *cache) pin(k key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pins[k]
	if p == nil {
		p = &pin{meta: new(meta)}
		if e, ok := c.entries[k]; ok {
			p.meta = e.meta
		}
		c.pins[k] = p
	}
	p.count++
}

func (c *cache) unpin(k key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pins[k]; p != nil {
		if p.count--; p.count <= 0 {
			delete(c.pins, k)
		}
	}
}

// dueKey is a key to refresh ahead and when its value stops being fresh.
type dueKey struct {
	k     key
	meta  *meta
	fresh time.Time // zero for a pinned key with no value
}

// due returns the keys to refresh ahead at now, the most urgent first:
// values fresh for less than lead whose key was used within window or is
// pinned, and pinned keys with nothing servable. Keys being refreshed or
// backing off after a failure are left out.
func (c *cache) due(now time.Time, lead, window time.Duration) []dueKey {
	var out []dueKey
	idle := func(mt *meta) bool { return mt.busy.Load() || now.UnixNano() < mt.retry.Load() }
	c.mu.RLock()
	for k, e := range c.entries {
		_, pinned := c.pins[k]
		switch {
		case e.err != nil && !pinned, idle(e.meta), e.fresh.Sub(now) > lead:
			continue
		case !pinned && now.Sub(time.Unix(0, e.meta.used.Load())) > window:
			continue // fallen out of the hot set: left to expire
		}
		out = append(out, dueKey{k: k, meta: e.meta, fresh: e.fresh})
	}
	for k, p := range c.pins {
		if _, cached := c.entries[k]; !cached && !idle(p.meta) {
			out = append(out, dueKey{k: k, meta: p.meta})
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b dueKey) int { return a.fresh.Compare(b.fresh) })
	return out
}

// refreshAhead starts the refreshes due at now that their venue's budget
// allows and returns how many it started. A key over budget is tried again
// next tick; if it expires meanwhile, the next request serves it stale and
// revalidates it.
func (m *Market) refreshAhead(now time.Time) int {
	started := 0
	for _, d := range m.cache.due(now, m.cache.ahead.lead, m.cache.ahead.window) {
		v := m.firstVenue(d.k, now)
		if v < 0 || m.cache.ahead.limiters[v] == nil || !m.cache.ahead.limiters[v].AllowN(now, 1) {
			continue
		}
		if m.cache.revalidate(d.k, d.meta, now, triggerAhead) {
			started++
		}
	}
	return started
}

// firstVenue is the venue a fetch of k asks first at now, or -1 for none.
func (m *Market) firstVenue(k key, now time.Time) int {
	if k.venue != anyVenue {
		return k.venue
	}
	order := m.catalog.venuesFor(k.op.kind(), k.pair)
	if len(order) == 0 {
		return -1
	}
	return m.health.order(order, now)[0]
}

// runRefresh calls refreshAhead every tick until ctx ends.
func (m *Market) runRefresh(ctx context.Context) {
	if !slices.ContainsFunc(m.cache.ahead.limiters, func(l *rate.Limiter) bool { return l != nil }) {
		return
	}
	tick.Every(ctx, m.cache.ahead.tick, func() { m.refreshAhead(m.now()) })
}
