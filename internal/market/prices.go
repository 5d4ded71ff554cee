package market

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// Price is one spot pair's last price from a venue's batched price list.
type Price struct {
	Pair Pair
	Last float64
	At   time.Time // the venue's timestamp, or when the answer arrived where the venue sends none (Binance)
}

// PriceLister is the batched last-price call a venue client may offer beside
// Exchange: one request returns every listed spot pair. Venue symbols are
// mapped back to pairs through the venue's own instrument list; rows of pairs
// it does not list as tradable are left out. Rows are returned as the venue
// sent them: Market drops implausible ones.
type PriceLister interface {
	AllPrices(ctx context.Context) ([]Price, error)
}

// kindPrices is the kind label of batched prices in the cache and
// rejected-answer metrics.
const kindPrices = "all_prices"

// pricesAnyVenue is the key of a batch fetched with failover.
const pricesAnyVenue = anyVenue

// priceBatch is one vetted batch.
type priceBatch struct {
	idx    int // the venue's index in Options.Exchanges
	venue  string
	prices map[Pair]Price
	fresh  time.Time // a plain hit until then
}

// priceCache holds the last batch per venue index (and anyVenue, the
// failover batch) for the Market's TTL, behind singleflight. It serves no
// stale batches: the evaluator that polls them wants a fresh answer or an
// error, and every Price carries its own timestamp anyway.
type priceCache struct {
	group   singleflight.Group
	results [numResults]prometheus.Counter

	mu      sync.Mutex
	batches map[int]priceBatch
}

func newPriceCache(m *Market) *priceCache {
	pc := &priceCache{batches: make(map[int]priceBatch)}
	for r, name := range [numResults]string{"hit", "miss", "coalesced"} {
		pc.results[r] = m.metrics.CacheRequests.WithLabelValues(kindPrices, name)
	}
	return pc
}

// Prices returns the last spot price of every pair listed on the first
// healthy venue in the failover order that serves a batch, with that venue's
// name. One upstream request per TTL (default 2 s) serves every caller: the
// batch is cached and concurrent misses share one fetch. A venue that fails
// cools down and is tried last for a while, as for every other request. The
// map is the caller's own. Pairs the first venue does not list are absent
// even where a later venue lists them: a batch is one venue's view.
func (m *Market) Prices(ctx context.Context) (map[Pair]Price, string, error) {
	b, err := m.prices.get(ctx, m, pricesAnyVenue)
	if err != nil {
		return nil, "", err
	}
	return maps.Clone(b.prices), b.venue, nil
}

// LastPrices is Prices as bare last prices, the shape the alerts module's
// Options.Prices takes (alerts.Options{Prices: m.LastPrices}). The map is
// the caller's own.
func (m *Market) LastPrices(ctx context.Context) (map[Pair]float64, error) {
	b, err := m.prices.get(ctx, m, pricesAnyVenue)
	if err != nil {
		return nil, err
	}
	out := make(map[Pair]float64, len(b.prices))
	for p, v := range b.prices {
		out[p] = v.Last
	}
	return out, nil
}

// PricesOn is Prices from one venue ("binance", "bybit", "okx"), without
// failover; cached like Prices, sharing the batch Prices last fetched from
// that venue.
func (m *Market) PricesOn(ctx context.Context, venue string) (map[Pair]Price, error) {
	for i, ex := range m.exchanges {
		if ex.Name() == venue {
			b, err := m.prices.get(ctx, m, i)
			if err != nil {
				return nil, err
			}
			return maps.Clone(b.prices), nil
		}
	}
	return nil, fmt.Errorf("prices on %q: venue not configured: %w", venue, ErrUnsupported)
}

// get returns the batch for venue index v (or anyVenue), fetching it once for
// all concurrent callers on a miss. The fetch runs detached from the first
// caller's cancellation, within its deadline; each caller stops waiting when
// its own ctx ends.
func (pc *priceCache) get(ctx context.Context, m *Market, v int) (priceBatch, error) {
	now := m.now()
	pc.mu.Lock()
	b, ok := pc.batches[v]
	pc.mu.Unlock()
	if ok && now.Before(b.fresh) {
		pc.results[resultHit].Inc()
		return b, nil
	}
	if err := ctx.Err(); err != nil {
		return priceBatch{}, fmt.Errorf("prices: %w: %w", ErrUnavailable, err)
	}
	var ran atomic.Bool
	ch := pc.group.DoChan(strconv.Itoa(v), func() (any, error) {
		ran.Store(true)
		pc.results[resultMiss].Inc()
		fctx, cancel := detach(ctx)
		defer cancel()
		var b priceBatch
		var err error
		if v == pricesAnyVenue {
			b, err = m.pricesFailover(fctx)
		} else {
			b, err = m.pricesFrom(fctx, v)
		}
		if err != nil {
			return priceBatch{}, err
		}
		b.fresh = m.now().Add(m.cache.ttl)
		pc.mu.Lock()
		pc.batches[v] = b
		pc.batches[b.idx] = b // PricesOn that venue shares it
		pc.mu.Unlock()
		return b, nil
	})
	coalesced := func() {
		if !ran.Load() {
			pc.results[resultCoalesced].Inc()
		}
	}
	select {
	case r := <-ch:
		coalesced()
		if r.Err != nil {
			return priceBatch{}, r.Err
		}
		return r.Val.(priceBatch), nil
	case <-ctx.Done():
		coalesced()
		return priceBatch{}, fmt.Errorf("prices: %w: %w", ErrUnavailable, ctx.Err())
	}
}

// pricesFailover asks the venues that serve batches, healthy ones first in
// configured order, until one returns a plausible batch.
func (m *Market) pricesFailover(ctx context.Context) (priceBatch, error) {
	var idx []int
	for i, ex := range m.exchanges {
		if _, ok := ex.(PriceLister); ok {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return priceBatch{}, fmt.Errorf("prices: no venue serves batched prices: %w", ErrUnavailable)
	}
	order := m.health.order(idx, m.now())
	fe := &venuesError{what: kindPrices}
	for i, v := range order {
		ex := m.exchanges[v]
		actx, cancel := attemptContext(ctx, len(order)-i)
		b, err := m.pricesFrom(actx, v)
		cancel()
		if err == nil {
			m.health.ok(v)
			return b, nil
		}
		fe.add(ex.Name(), err)
		if ctx.Err() != nil {
			fe.errs = append(fe.errs, ctx.Err())
			break
		}
		if m.health.failed(v, err, m.now()) {
			m.log.Warn("venue failing; trying it last for a while", "venue", ex.Name(), "op", kindPrices, "err", err)
		}
		if i+1 < len(order) {
			next := m.exchanges[order[i+1]].Name()
			m.metrics.Failovers.WithLabelValues(ex.Name(), next).Inc()
			m.log.Debug("market failover", "op", kindPrices, "from", ex.Name(), "to", next, "err", err)
		}
	}
	return priceBatch{}, fe
}

// pricesFrom is one batch request of venue v, vetted: rows with a price ≤ 0,
// NaN or infinite are dropped and counted as rejected; a batch with no
// plausible row at all is a *RejectedError, so failover moves on.
func (m *Market) pricesFrom(ctx context.Context, v int) (priceBatch, error) {
	ex := m.exchanges[v]
	pl, ok := ex.(PriceLister)
	if !ok {
		return priceBatch{}, fmt.Errorf("%s prices: no batched price list: %w", ex.Name(), ErrUnsupported)
	}
	m.cache.tel.upstream[v][triggerOf(ctx)].Inc()
	rows, err := pl.AllPrices(ctx)
	if err != nil {
		return priceBatch{}, err
	}
	out, dropped := vetPrices(rows)
	venue := ex.Name()
	if dropped > 0 {
		m.cache.tel.rejected.WithLabelValues(venue, kindPrices, reasonNotPositive).Add(float64(dropped))
		m.log.Debug("implausible rows dropped from a price batch", "venue", venue, "dropped", dropped, "kept", len(out))
	}
	if len(out) == 0 {
		err := &RejectedError{Venue: venue, Reason: reasonNotPositive, Detail: fmt.Sprintf("no plausible price in a batch of %d rows", len(rows))}
		m.log.Warn("venue answer rejected as implausible", "venue", venue, "op", kindPrices, "reason", err.Reason, "detail", err.Detail)
		return priceBatch{}, err
	}
	return priceBatch{idx: v, venue: venue, prices: out}, nil
}

// vetPrices indexes rows by pair, dropping rows whose price is not a
// positive finite number or whose pair is empty; a pair sent twice keeps its
// last row.
func vetPrices(rows []Price) (map[Pair]Price, int) {
	out := make(map[Pair]Price, len(rows))
	dropped := 0
	for _, p := range rows {
		if !positive(p.Last) || p.Pair.Base == "" || p.Pair.Quote == "" {
			dropped++
			continue
		}
		out[p.Pair] = p
	}
	return out, dropped
}
