package market

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// op is a cached market call; its String is the cache metric's kind label.
type op uint8

const (
	opTicker op = iota
	opOpenInterest
	opOIHistory
	opFunding
	opCandles
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
	val     any
	err     error
	expires time.Time
	size    int64
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

// cache is a TTL cache in front of singleflight. Values are cached for ttl;
// ErrUnknownSymbol for unknownTTL so a new listing shows up soon; other
// errors not at all. It holds at most maxBytes (approximately): expired
// entries are swept on insert at most once per ttl, and when that is not
// enough, arbitrary live entries are evicted.
type cache struct {
	now        func() time.Time
	ttl        time.Duration
	unknownTTL time.Duration
	maxBytes   int64
	counters   [numOps][numResults]prometheus.Counter
	fetch      func(context.Context, key) (any, error) // on a miss
	group      singleflight.Group

	mu      sync.RWMutex
	entries map[key]entry
	bytes   int64
	swept   time.Time
}

func newCache(fetch func(context.Context, key) (any, error), now func() time.Time, ttl time.Duration, maxBytes int64, m *metrics.Metrics) *cache {
	c := &cache{
		fetch:      fetch,
		now:        now,
		ttl:        ttl,
		unknownTTL: min(ttl, time.Second),
		maxBytes:   maxBytes,
		entries:    make(map[key]entry),
	}
	results := [numResults]string{"hit", "miss", "coalesced"}
	for o := range numOps {
		for r, name := range results {
			c.counters[o][r] = m.CacheRequests.WithLabelValues(o.String(), name)
		}
	}
	return c
}

// get returns the cached entry for k, or fetches it once for all concurrent
// callers. The fetch runs detached from the first caller's cancellation (but
// within its deadline), so one caller giving up does not fail the others;
// each caller stops waiting when its own ctx ends.
func (c *cache) get(ctx context.Context, k key) entry {
	if e, ok := c.lookup(k); ok {
		c.counters[k.op][resultHit].Inc()
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
		c.store(k, v, err)
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

func (c *cache) lookup(k key) (entry, bool) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return entry{}, false
	}
	return e, true
}

func (c *cache) store(k key, v any, err error) {
	ttl := c.ttl
	if err != nil {
		if !errors.Is(err, ErrUnknownSymbol) {
			return
		}
		ttl, v = c.unknownTTL, nil
	}
	now := c.now()
	e := entry{val: v, err: err, expires: now.Add(ttl), size: sizeOf(v)}
	if e.size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[k]; ok {
		c.bytes -= old.size
		delete(c.entries, k)
	}
	if now.Sub(c.swept) >= c.ttl || c.bytes+e.size > c.maxBytes {
		c.swept = now
		for k2, e2 := range c.entries {
			if !now.Before(e2.expires) {
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
