package market

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// op is a cached market call; its String is the cache metric's kind label.
type op uint8

const (
	opTicker op = iota
	opOpenInterest
	opOIHistory
	opFunding
	opCandles
	opPerpTicker // perp.go
	numOps
)

func (o op) String() string {
	switch o {
	case opTicker:
		return "ticker"
	case opOpenInterest:
		return "open_interest"
	case opOIHistory:
		return "oi_history"
	case opFunding:
		return "funding"
	case opCandles:
		return "candles"
	case opPerpTicker:
		return "perp_ticker"
	}
	return "unknown"
}

// kind is the instrument list that decides which venues can answer.
func (o op) kind() Kind {
	if o == opTicker || o == opCandles {
		return Spot
	}
	return Perp
}

// Cache results, the label values of CacheRequests.
const (
	resultHit = iota
	resultMiss
	resultCoalesced
	numResults
)

// anyVenue marks a failover call in a key.
const anyVenue = -1

// key identifies one call: its arguments are everything fetch needs, so the
// hit path builds no closure and allocates nothing.
type key struct {
	op     op
	venue  int // index into Options.Exchanges, or anyVenue
	pair   Pair
	period time.Duration
	iv     Interval
	limit  int
}

func (k key) String() string {
	return fmt.Sprintf("%s|%d|%s|%d|%s|%d", k.op, k.venue, k.pair, k.period, k.iv, k.limit)
}

// entry is a cached result: a value, or an ErrUnknownSymbol error.
type entry struct {
	val   any
	err   error
	fresh time.Time // served as a plain hit until then
	stale time.Time // then served stale, with a background refresh, until then; later callers wait
	size  int64
	meta  *meta
}

// meta is a key's mutable state, shared by its successive entries and
// updated without the cache lock, so a hit stays a read lock and a few
// atomics.
type meta struct {
	used  atomic.Int64 // unix nanoseconds of the last request for the key
	busy  atomic.Bool  // a background refresh is running
	retry atomic.Int64 // unix nanoseconds before which a failed refresh is not retried
}

// touchEvery spares the hot path a store per hit: the hot set needs the
// last use to well under a second, not to the nanosecond.
const touchEvery = int64(100 * time.Millisecond)

func (mt *meta) touch(now time.Time) {
	if n := now.UnixNano(); n-mt.used.Load() >= touchEvery {
		mt.used.Store(n)
	}
}

// Approximate bytes held, for the cache bound: a map slot with key and entry,
// and one element of each cached slice type.
const (
	entryBytes   = 256
	candleBytes  = 64 // time.Time + 5 float64
	oiPointBytes = 40 // time.Time + 2 float64
)

func sizeOf(v any) int64 {
	switch s := v.(type) {
	case []Candle:
		return entryBytes + int64(cap(s))*candleBytes
	case []OIPoint:
		return entryBytes + int64(cap(s))*oiPointBytes
	}
	return entryBytes
}

// fetchTimeout bounds a shared fetch whose first caller set no deadline.
const fetchTimeout = 10 * time.Second

// cache is a TTL cache in front of singleflight, serving stale values while
// it revalidates them. A value is a plain hit for ttl; after that, until
// staleLimit, it is still served at once (with the venue's own timestamp, so
// its age shows) while one background refresh runs; only past staleLimit
// does a caller wait for the venue. A failed refresh keeps the stale value
// and is retried after ttl. ErrUnknownSymbol is cached for unknownTTL, so a
// new listing shows up soon, and never served stale; other errors are not
// cached at all. It holds at most maxBytes (approximately): entries past
// staleLimit are swept on insert at most once per ttl, and when that is not
// enough, arbitrary live entries are evicted.
type cache struct {
	now            func() time.Time
	ttl            time.Duration
	staleLimit     time.Duration
	unknownTTL     time.Duration
	refreshTimeout time.Duration
	maxBytes       int64
	counters       [numOps][numResults]prometheus.Counter
	tel            *telemetry
	ahead          *refresher
	sanity         sanity
	fetch          func(context.Context, key) (any, error) // on a miss or a refresh; triggerOf(ctx) says which
	group          singleflight.Group

	mu      sync.RWMutex
	entries map[key]entry
	pins    map[key]*pin
	bytes   int64
	swept   time.Time
}

// newCache builds the cache of a Market from its Options, TTL, CacheBytes,
// Metrics and Now already defaulted.
func newCache(fetch func(context.Context, key) (any, error), opts Options) *cache {
	f := opts.Freshness.withDefaults()
	names := make([]string, len(opts.Exchanges))
	for i, ex := range opts.Exchanges {
		names[i] = ex.Name()
	}
	c := &cache{
		fetch:          fetch,
		now:            opts.Now,
		ttl:            opts.TTL,
		staleLimit:     max(f.StaleLimit, opts.TTL),
		unknownTTL:     min(opts.TTL, time.Second),
		refreshTimeout: f.RefreshTimeout,
		maxBytes:       opts.CacheBytes,
		tel:            newTelemetry(cmp.Or[prometheus.Registerer](opts.Registerer, opts.Metrics.Registry), names),
		ahead:          newRefresher(f, opts.TTL, names),
		sanity:         opts.Plausibility.withDefaults(),
		entries:        make(map[key]entry),
		pins:           make(map[key]*pin),
	}
	results := [numResults]string{"hit", "miss", "coalesced"}
	for o := range numOps {
		for r, name := range results {
			c.counters[o][r] = opts.Metrics.CacheRequests.WithLabelValues(o.String(), name)
		}
	}
	return c
}

type triggerKey struct{}

// triggerOf is why a fetch runs: triggerWait unless a refresh said otherwise.
func triggerOf(ctx context.Context) int {
	if t, ok := ctx.Value(triggerKey{}).(int); ok {
		return t
	}
	return triggerWait
}

// get returns the cached entry for k, or fetches it once for all concurrent
// callers. A stale entry counts as a hit (and as stale served): the caller
// does not wait. The fetch runs detached from the first caller's
// cancellation (but within its deadline), so one caller giving up does not
// fail the others; each caller stops waiting when its own ctx ends.
func (c *cache) get(ctx context.Context, k key) entry {
	now := c.now()
	e := c.serve(ctx, k, now)
	if k.op == opTicker && k.venue == anyVenue && e.err == nil {
		if t, _ := e.val.(Ticker); !t.Time.IsZero() {
			c.tel.age.Observe(max(now.Sub(t.Time), 0).Seconds())
		}
	}
	return e
}

// serve is get without the data-age histogram.
func (c *cache) serve(ctx context.Context, k key, now time.Time) entry {
	if e, ok := c.lookup(k, now); ok {
		e.meta.touch(now)
		c.counters[k.op][resultHit].Inc()
		if !now.Before(e.fresh) {
			c.tel.stale[k.op].Inc()
			c.revalidate(k, e.meta, now, triggerRevalidate)
		}
		return e
	}
	if ctx.Err() != nil {
		return entry{err: gaveUp(ctx, k)}
	}
	var ran atomic.Bool
	ch := c.group.DoChan(k.String(), func() (any, error) {
		ran.Store(true)
		c.counters[k.op][resultMiss].Inc()
		fctx, cancel := detach(ctx)
		defer cancel()
		v, err := c.fetch(fctx, k)
		c.store(k, v, err, true)
		return v, err
	})
	select {
	case r := <-ch:
		if !ran.Load() {
			c.counters[k.op][resultCoalesced].Inc()
		}
		return entry{val: r.Val, err: r.Err}
	case <-ctx.Done():
		// A first caller leaving before its fetch even started is counted
		// here and as a miss; that window is a few instructions wide.
		if !ran.Load() {
			c.counters[k.op][resultCoalesced].Inc()
		}
		return entry{err: gaveUp(ctx, k)}
	}
}

// revalidate starts a background refresh of k unless one is running or the
// last one failed less than a ttl ago, and reports whether it started one.
func (c *cache) revalidate(k key, mt *meta, now time.Time, trigger int) bool {
	if now.UnixNano() < mt.retry.Load() || !mt.busy.CompareAndSwap(false, true) {
		return false
	}
	go c.refresh(k, mt, trigger)
	return true
}

// refresh fetches k on a context of its own, bounded by refreshTimeout: no
// caller waits for it, and none can cancel it. It shares the singleflight
// call of a caller waiting on the same key. A failure leaves the stale
// value in place.
func (c *cache) refresh(k key, mt *meta, trigger int) {
	defer mt.busy.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), c.refreshTimeout)
	defer cancel()
	fctx := context.WithValue(ctx, triggerKey{}, trigger)
	ch := c.group.DoChan(k.String(), func() (any, error) {
		v, err := c.fetch(fctx, k)
		c.store(k, v, err, false)
		return v, err
	})
	var err error
	select {
	case r := <-ch:
		err = r.Err
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil && !errors.Is(err, ErrUnknownSymbol) {
		mt.retry.Store(c.now().Add(c.ttl).UnixNano())
	}
}

// gaveUp is the error for a caller whose ctx ended first: to it the data was
// unavailable, whether or not the shared fetch later succeeds.
func gaveUp(ctx context.Context, k key) error {
	return fmt.Errorf("%s %s: %w: %w", k.op, k.pair, ErrUnavailable, ctx.Err())
}

func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(fetchTimeout)
	}
	return context.WithDeadline(context.WithoutCancel(ctx), dl)
}

// lookup returns k's entry if it may still be served at now, fresh or stale.
func (c *cache) lookup(k key, now time.Time) (entry, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.stale) {
		return entry{}, false
	}
	return e, true
}

// store caches a fetch's result; asked says a caller waited for it, which
// keeps the key hot like a hit does.
func (c *cache) store(k key, v any, err error, asked bool) {
	now := c.now()
	e := entry{val: v, err: err, fresh: now.Add(c.ttl), stale: now.Add(c.staleLimit)}
	if err != nil {
		if !errors.Is(err, ErrUnknownSymbol) {
			return
		}
		e.val, e.fresh = nil, now.Add(c.unknownTTL)
		e.stale = e.fresh
	}
	e.size = sizeOf(e.val)
	if e.size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[k]; ok {
		e.meta = old.meta
		c.bytes -= old.size
		delete(c.entries, k)
	} else if p := c.pins[k]; p != nil {
		e.meta = p.meta
	} else {
		e.meta = new(meta)
	}
	if asked {
		e.meta.used.Store(now.UnixNano())
	}
	e.meta.retry.Store(0)
	if now.Sub(c.swept) >= c.ttl || c.bytes+e.size > c.maxBytes {
		c.swept = now
		for k2, e2 := range c.entries {
			if !now.Before(e2.stale) {
				delete(c.entries, k2)
				c.bytes -= e2.size
			}
		}
	}
	// Map iteration starts at a random slot, so this evicts arbitrary entries.
	for k2, e2 := range c.entries {
		if c.bytes+e.size <= c.maxBytes {
			break
		}
		delete(c.entries, k2)
		c.bytes -= e2.size
	}
	c.entries[k] = e
	c.bytes += e.size
}

// peerPrices returns the last prices of pair's tickers of op (opTicker or
// opPerpTicker) cached from venues other than venue and still servable at
// now, for the cross-venue check.
func (c *cache) peerPrices(o op, p Pair, venue string, venues int, now time.Time) []float64 {
	var out []float64
	c.mu.RLock()
	defer c.mu.RUnlock()
	for v := anyVenue; v < venues; v++ {
		e, ok := c.entries[key{op: o, venue: v, pair: p}]
		if !ok || !now.Before(e.stale) {
			continue
		}
		if t, ok := e.val.(Ticker); ok && t.Venue != venue {
			out = append(out, t.Last)
		}
	}
	return out
}
