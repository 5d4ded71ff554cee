package market

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// kinds are the instrument lists the catalog keeps per venue.
var kinds = [...]Kind{Spot, Perp}

// maxSuggestions caps UnknownPairError.Suggestions.
const maxSuggestions = 3

// minRunWait keeps Run from spinning when a list is due again at once.
const minRunWait = time.Second

// catalog holds each venue's listed pairs per kind and when to load them next.
type catalog struct {
	mu   sync.RWMutex
	sets map[Kind][]map[Pair]struct{} // per venue; nil until loaded once
	due  map[Kind][]time.Time         // per venue; zero means now
}

func newCatalog(venues int) *catalog {
	c := &catalog{sets: make(map[Kind][]map[Pair]struct{}), due: make(map[Kind][]time.Time)}
	for _, k := range kinds {
		c.sets[k] = make([]map[Pair]struct{}, venues)
		c.due[k] = make([]time.Time, venues)
	}
	return c
}

// listed reports whether venue lists p, and whether its list is known at all.
func (c *catalog) listed(kind Kind, venue int, p Pair) (listed, known bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	set := c.sets[kind][venue]
	_, listed = set[p]
	return listed, set != nil
}

// lookup reports whether any venue lists p, and whether any list is loaded.
func (c *catalog) lookup(kind Kind, p Pair) (listed, loaded bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, set := range c.sets[kind] {
		if set == nil {
			continue
		}
		loaded = true
		if _, ok := set[p]; ok {
			return true, true
		}
	}
	return false, loaded
}

// venuesFor returns, in configured order, the venues that list p; when none
// does, the venues whose list is not loaded, which decide themselves. It is
// empty when every list is loaded and none has p: asking would only cost a
// request per second per key (unknown symbols are cached for a second) to
// hear "unknown symbol", as /price doge does for its perpetual sections.
func (c *catalog) venuesFor(kind Kind, p Pair) []int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out, unknown []int
	for v, set := range c.sets[kind] {
		if _, ok := set[p]; ok {
			out = append(out, v)
		} else if set == nil {
			unknown = append(unknown, v)
		}
	}
	if len(out) == 0 {
		return unknown
	}
	return out
}

func (c *catalog) set(kind Kind, venue int, set map[Pair]struct{}, due time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if set != nil {
		c.sets[kind][venue] = set
	}
	c.due[kind][venue] = due
}

// dueBy returns the lists to load at now and the earliest due time after now.
func (c *catalog) dueBy(now time.Time) (lists []listRef, next time.Time) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, k := range kinds {
		for v, due := range c.due[k] {
			switch {
			case !due.After(now):
				lists = append(lists, listRef{k, v})
			case next.IsZero() || due.Before(next):
				next = due
			}
		}
	}
	return lists, next
}

type listRef struct {
	kind  Kind
	venue int
}

type candidate struct {
	pair      Pair
	sameQuote bool
	prefix    bool
	dist      int
}

// suggest returns up to maxSuggestions listed pairs close to p: same quote
// first, then bases where one is a prefix of the other (BTCC → BTC), then by
// edit distance on the base.
func (c *catalog) suggest(kind Kind, p Pair) []Pair {
	var cands []candidate
	seen := make(map[Pair]bool)
	c.mu.RLock()
	for _, set := range c.sets[kind] {
		for q := range set {
			if seen[q] {
				continue
			}
			seen[q] = true
			if cand, ok := score(p, q); ok {
				cands = append(cands, cand)
			}
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(cands, func(a, b candidate) int {
		if a.sameQuote != b.sameQuote {
			return boolFirst(a.sameQuote)
		}
		if a.prefix != b.prefix {
			return boolFirst(a.prefix)
		}
		if a.dist != b.dist {
			return cmp.Compare(a.dist, b.dist)
		}
		return cmp.Compare(a.pair.String(), b.pair.String())
	})
	out := make([]Pair, 0, min(len(cands), maxSuggestions))
	for _, cand := range cands[:min(len(cands), maxSuggestions)] {
		out = append(out, cand.pair)
	}
	return out
}

func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

// score decides whether listed pair q is worth suggesting for p: bases where
// one is a prefix of the other (at least two letters shared), or within a
// small edit distance that still keeps most of the base.
func score(p, q Pair) (candidate, bool) {
	short, long := p.Base, q.Base
	if len(short) > len(long) {
		short, long = long, short
	}
	cand := candidate{pair: q, sameQuote: p.Quote == q.Quote}
	cand.prefix = len(short) >= 2 && strings.HasPrefix(long, short)
	maxDist := 1
	if len(p.Base) > 4 {
		maxDist = 2
	}
	if !cand.prefix && len(long)-len(short) > maxDist {
		return cand, false
	}
	cand.dist = editDistance(p.Base, q.Base)
	return cand, cand.prefix || (cand.dist <= maxDist && cand.dist < len(p.Base))
}

// editDistance is the optimal-string-alignment distance between two short
// ASCII strings: Levenshtein plus adjacent transpositions (DGOE → DOGE is 1),
// the commonest typo.
func editDistance(a, b string) int {
	pp := make([]int, len(b)+1) // row i-2
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(b)]
}

// Resolve normalises input and checks it against the venues' lists of kind.
// A glued symbol that splits on a quote but is not listed that way is tried
// as a base with DefaultQuote too (WBTC → WBTC-USDT when W-BTC is unlisted).
// Input that is no symbol at all is a *SymbolError; a pair no loaded list
// holds is an *UnknownPairError with suggestions. While no venue's list of
// kind has loaded, the normalised pair is accepted and the venues decide.
func (m *Market) Resolve(_ context.Context, input string, kind Kind) (Pair, error) {
	if kind != Spot && kind != Perp {
		return Pair{}, fmt.Errorf("resolve %q: unknown instrument kind %q", input, kind)
	}
	p, alt, err := parse(input)
	if err != nil {
		return Pair{}, err
	}
	listed, loaded := m.catalog.lookup(kind, p)
	if listed || !loaded {
		return p, nil
	}
	if alt != (Pair{}) {
		if listed, _ := m.catalog.lookup(kind, alt); listed {
			return alt, nil
		}
	}
	return Pair{}, &UnknownPairError{Input: input, Suggestions: m.catalog.suggest(kind, p)}
}

// Warm loads every venue's instrument lists once, concurrently. Partial
// success is fine: failures are logged and retried by Run. It fails only
// when no list at all could be loaded.
func (m *Market) Warm(ctx context.Context) error {
	var refs []listRef
	for _, k := range kinds {
		for v := range m.exchanges {
			refs = append(refs, listRef{k, v})
		}
	}
	errs := m.load(ctx, refs)
	if len(refs) > 0 && len(errs) == len(refs) {
		return fmt.Errorf("load instruments: %w", errors.Join(errs...))
	}
	return nil
}

// Run reloads instrument lists until ctx ends: each list every
// InstrumentRefresh, a list that failed to load sooner; and refreshes hot and
// pinned keys ahead of expiry. It returns nil when ctx ends.
func (m *Market) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { m.runRefresh(ctx) })
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		refs, _ := m.catalog.dueBy(m.now())
		m.load(ctx, refs)
		_, next := m.catalog.dueBy(m.now())
		wait := m.refresh
		if !next.IsZero() {
			wait = next.Sub(m.now())
		}
		t.Reset(max(wait, minRunWait))
	}
}

// load fetches the given lists concurrently and returns the errors.
func (m *Market) load(ctx context.Context, refs []listRef) []error {
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	for i, r := range refs {
		wg.Go(func() { errs[i] = m.loadList(ctx, r) })
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}

func (m *Market) loadList(ctx context.Context, r listRef) error {
	ex := m.exchanges[r.venue]
	ins, err := ex.Instruments(ctx, r.kind)
	set := make(map[Pair]struct{}, len(ins))
	for _, in := range ins {
		if in.Kind == r.kind && in.Pair.Base != "" && in.Pair.Quote != "" {
			set[in.Pair] = struct{}{}
		}
	}
	if err == nil && len(set) == 0 {
		// An empty list would make every symbol unknown; keep the last one.
		err = fmt.Errorf("%s %s instruments: empty list: %w", ex.Name(), r.kind, ErrBadResponse)
	}
	if err != nil {
		m.catalog.set(r.kind, r.venue, nil, m.now().Add(m.retry))
		if ctx.Err() != nil {
			return err // shutting down: not worth a warning
		}
		m.log.Warn("instrument list not loaded", "venue", ex.Name(), "kind", string(r.kind), "err", err)
		return err
	}
	m.catalog.set(r.kind, r.venue, set, m.now().Add(m.refresh))
	m.log.Debug("instrument list loaded", "venue", ex.Name(), "kind", string(r.kind), "pairs", len(set))
	return nil
}
