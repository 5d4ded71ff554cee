package alerts

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/internal/testkit"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// fakeStore is the store's alert API in memory, with the addendum's
// semantics: limits counted in the call, Fire taking armed alerts only and
// one outbox row per trigger.
type fakeStore struct {
	mu       sync.Mutex
	nextID   int64
	alerts   map[int64]AlertRow
	outbox   []OutMessage
	triggers map[string]bool
	watch    map[int64][]string
	digests  map[int64]DigestRow
	failFire int // Fire calls still to fail
	fires    int
	quiet    map[int64]bool   // chats whose settings ask for silent alerts
	zones    map[int64]string // chats' /settings time zones
	alertsBy map[int64]string // chats' /settings of who sets alerts
}

func newFakeStore() *fakeStore {
	return &fakeStore{alerts: map[int64]AlertRow{}, triggers: map[string]bool{}, watch: map[int64][]string{}, digests: map[int64]DigestRow{}}
}

var _ Store = (*fakeStore)(nil)

func live(state string) bool { return state == "armed" || state == "cooling" || state == "paused" }

func (s *fakeStore) CreateAlert(_ context.Context, a AlertRow, perChat, global int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat, all := 0, 0
	for _, r := range s.alerts {
		if live(r.State) {
			all++
			if r.ChatID == a.ChatID {
				chat++
			}
		}
	}
	switch {
	case chat >= perChat:
		return 0, fmt.Errorf("create alert: %w", &store.LimitError{Limit: store.LimitPerChat, Max: perChat})
	case all >= global:
		return 0, fmt.Errorf("create alert: %w", &store.LimitError{Limit: store.LimitGlobal, Max: global})
	}
	s.nextID++
	a.ID = s.nextID
	if a.Created.IsZero() {
		a.Created = time.Now() // as the store does
	}
	s.alerts[a.ID] = a
	return a.ID, nil
}

func (s *fakeStore) Alerts(_ context.Context, chat int64) ([]AlertRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AlertRow
	for _, id := range slices.Sorted(maps.Keys(s.alerts)) {
		if r := s.alerts[id]; r.ChatID == chat {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *fakeStore) LiveAlerts(context.Context) ([]AlertRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AlertRow
	for _, id := range slices.Sorted(maps.Keys(s.alerts)) {
		if r := s.alerts[id]; r.State == "armed" || r.State == "cooling" {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *fakeStore) LiveAlertsSince(ctx context.Context, since time.Time) ([]AlertRow, error) {
	rows, _ := s.LiveAlerts(ctx)
	return slices.DeleteFunc(rows, func(r AlertRow) bool { return r.Created.Before(since) }), nil
}

func (s *fakeStore) DeleteAlerts(_ context.Context, chat int64, ids ...int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, r := range s.alerts {
		if r.ChatID == chat && (len(ids) == 0 || slices.Contains(ids, id)) {
			delete(s.alerts, id)
			n++
		}
	}
	return n, nil
}

func (s *fakeStore) UpdateAlerts(_ context.Context, us []AlertUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range us {
		if r, ok := s.alerts[u.ID]; ok {
			r.State, r.Status = u.State, u.Status
			s.alerts[u.ID] = r
		}
	}
	return nil
}

func (s *fakeStore) Fire(_ context.Context, fs []Firing) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fires++
	if s.failFire > 0 {
		s.failFire--
		return nil, errors.New("store down")
	}
	out := make([]bool, len(fs))
	for i, f := range fs {
		r, ok := s.alerts[f.AlertID]
		if !ok || r.State != "armed" || s.triggers[f.Trigger] {
			continue
		}
		r.State, r.Status = f.State, f.Status
		s.alerts[f.AlertID] = r
		s.triggers[f.Trigger] = true
		m := f.Message
		m.ID = int64(len(s.outbox) + 1)
		s.outbox = append(s.outbox, m)
		out[i] = true
	}
	return out, nil
}

func (s *fakeStore) Enqueue(_ context.Context, m OutMessage, trigger string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.triggers[trigger] {
		return false, nil
	}
	s.triggers[trigger] = true
	m.ID = int64(len(s.outbox) + 1)
	s.outbox = append(s.outbox, m)
	return true, nil
}

func (s *fakeStore) OutboxStats(context.Context) (int, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.outbox) == 0 {
		return 0, time.Time{}, nil
	}
	return len(s.outbox), s.outbox[0].Created, nil
}

func (s *fakeStore) Watch(_ context.Context, chat int64, pairs []string, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	have := s.watch[chat]
	var add []string
	for _, p := range pairs {
		if !slices.Contains(have, p) {
			add = append(add, p)
		}
	}
	if len(have)+len(add) > limit {
		return 0, fmt.Errorf("watch: %w", &store.LimitError{Limit: store.LimitWatchlist, Max: limit})
	}
	s.watch[chat] = append(have, add...)
	return len(add), nil
}

func (s *fakeStore) Unwatch(_ context.Context, chat int64, pairs []string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before := len(s.watch[chat])
	s.watch[chat] = slices.DeleteFunc(s.watch[chat], func(p string) bool { return slices.Contains(pairs, p) })
	return before - len(s.watch[chat]), nil
}

func (s *fakeStore) Watchlist(_ context.Context, chat int64) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.watch[chat]), nil
}

func (s *fakeStore) SetDigest(_ context.Context, d DigestRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.digests[d.ChatID] = d
	return nil
}

func (s *fakeStore) DeleteDigest(_ context.Context, chat int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.digests, chat)
	return nil
}

func (s *fakeStore) Digests(context.Context) ([]DigestRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.digests)), nil
}

func (s *fakeStore) MarkDigestSent(_ context.Context, chat int64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.digests[chat]; ok {
		d.LastSent = at
		s.digests[chat] = d
	}
	return nil
}

// sent returns the outbox texts for chat.
func (s *fakeStore) sent(chat int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.outbox {
		if m.ChatID == chat {
			out = append(out, m.Text)
		}
	}
	return out
}

func (s *fakeStore) state(id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alerts[id].State
}

func (s *fakeStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.alerts)
}

// fakeMarket lists a few pairs and serves prices, funding and open
// interest that tests move.
type fakeMarket struct {
	mu      sync.Mutex
	last    map[market.Pair]float64
	change  map[market.Pair]float64
	funding map[market.Pair]map[string]float64 // by venue
	oi      map[market.Pair]float64
	candles map[market.Pair][]market.Candle
	calls   atomic.Int64
	venues  []market.Exchange
}

var (
	btc  = market.Pair{Base: "BTC", Quote: "USDT"}
	eth  = market.Pair{Base: "ETH", Quote: "USDT"}
	spot = market.Pair{Base: "XYZ", Quote: "USDT"} // spot only
)

func newFakeMarket() *fakeMarket {
	m := &fakeMarket{
		last:    map[market.Pair]float64{btc: 97_000, eth: 3_000, spot: 1.5},
		change:  map[market.Pair]float64{btc: 1.25, eth: -0.5, spot: 3},
		funding: map[market.Pair]map[string]float64{btc: {"binance": 0.0001, "bybit": 0.0001}, eth: {"binance": 0.0001}},
		oi:      map[market.Pair]float64{btc: 10e9, eth: 4e9},
	}
	for _, n := range []string{"binance", "bybit"} {
		m.venues = append(m.venues, fakeVenue{name: n, m: m})
	}
	return m
}

// update changes the market under its lock.
func (m *fakeMarket) update(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f()
}

func (m *fakeMarket) set(p market.Pair, v float64) { m.update(func() { m.last[p] = v }) }

func (m *fakeMarket) Resolve(_ context.Context, input string, kind market.Kind) (market.Pair, error) {
	m.calls.Add(1)
	switch p := strings.ToUpper(strings.TrimSuffix(strings.ToLower(input), "usdt")); p {
	case "BTC", "ETH":
		return market.Pair{Base: p, Quote: "USDT"}, nil
	case "XYZ":
		if kind == market.Spot {
			return spot, nil
		}
	case "BTCC":
		return market.Pair{}, &market.UnknownPairError{Input: input, Suggestions: []market.Pair{btc}}
	}
	return market.Pair{}, &market.UnknownPairError{Input: input}
}

func (m *fakeMarket) Ticker(_ context.Context, p market.Pair) (market.Ticker, error) {
	return quote(m, m.last, p, func(v float64) market.Ticker {
		return market.Ticker{Pair: p, Venue: "binance", Last: v, ChangePct: m.change[p]}
	})
}

func (m *fakeMarket) Funding(ctx context.Context, p market.Pair) (market.Funding, error) {
	return m.venues[0].Funding(ctx, p)
}

func (m *fakeMarket) OpenInterest(_ context.Context, p market.Pair) (market.OpenInterest, error) {
	return quote(m, m.oi, p, func(v float64) market.OpenInterest {
		return market.OpenInterest{Pair: p, Venue: "binance", USD: v}
	})
}

// quote counts a market call and answers p's value in set, under m.mu, as
// the reading build makes; a pair not in set is an unknown symbol.
func quote[T any](m *fakeMarket, set map[market.Pair]float64, p market.Pair, build func(float64) T) (T, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := set[p]
	if !ok {
		var zero T
		return zero, market.ErrUnknownSymbol
	}
	return build(v), nil
}

func (m *fakeMarket) Candles(_ context.Context, p market.Pair, iv market.Interval, limit int) ([]market.Candle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.candles[p]
	if !ok || iv != market.M1 { // gap recovery reads 1 m candles
		return nil, market.ErrUnavailable
	}
	return slices.Clone(c[max(len(c)-limit, 0):]), nil
}

func (m *fakeMarket) OIHistory(context.Context, market.Pair, time.Duration, int) ([]market.OIPoint, error) {
	return nil, market.ErrUnavailable
}

func (m *fakeMarket) Venues() []market.Exchange { return m.venues }

type fakeVenue struct {
	market.Exchange // nil: only Name and Funding are called
	name            string
	m               *fakeMarket
}

func (v fakeVenue) Name() string { return v.name }

func (v fakeVenue) Funding(_ context.Context, p market.Pair) (market.Funding, error) {
	v.m.calls.Add(1)
	v.m.mu.Lock()
	defer v.m.mu.Unlock()
	r, ok := v.m.funding[p][v.name]
	if !ok {
		return market.Funding{}, market.ErrUnknownSymbol
	}
	return market.Funding{Pair: p, Venue: v.name, Rate: r, Interval: 8 * time.Hour}, nil
}

// harness is a module over the fakes with a runner driven tick by tick.
type harness struct {
	t   *testing.T
	st  *fakeStore
	mkt *fakeMarket
	clk *testkit.Clock
	m   *Module
	r   *runner
	// store, when set before restart, replaces st as the module's store.
	store Store
	// batch, when set before restart, is the module's batched prices.
	batch func(ctx context.Context) (map[market.Pair]float64, error)
	// off holds the chats whose alerts flag is off; shed makes the memory
	// guard decline.
	flagMu sync.Mutex
	off    map[int64]bool
	shed   bool
	// admins, when set before restart, is the module's group admin check.
	admins modules.Admins
}

func (h *harness) setFlag(chat int64, on bool) {
	h.flagMu.Lock()
	defer h.flagMu.Unlock()
	if h.off == nil {
		h.off = map[int64]bool{}
	}
	h.off[chat] = !on
}

func (h *harness) setShed(shed bool) {
	h.flagMu.Lock()
	defer h.flagMu.Unlock()
	h.shed = shed
}

func (h *harness) enabled(_ context.Context, chat int64) bool {
	h.flagMu.Lock()
	defer h.flagMu.Unlock()
	return !h.off[chat]
}

func (h *harness) admit(uint64) (func(), error) {
	h.flagMu.Lock()
	defer h.flagMu.Unlock()
	if h.shed {
		return func() {}, errShedding
	}
	return func() {}, nil
}

var errShedding = errors.New("memguard: shedding")

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, cfg Config) *harness {
	h := &harness{t: t, st: newFakeStore(), mkt: newFakeMarket(), clk: testkit.NewClock(t0)}
	h.restart(cfg)
	return h
}

// restart builds a new module and runner over the same store and market,
// as a process restart does.
func (h *harness) restart(cfg Config) {
	h.t.Helper()
	var st Store = h.st
	if h.store != nil {
		st = h.store
	}
	m, err := New(Options{Config: cfg, Store: st, Market: h.mkt, Now: h.clk.Now, Prices: h.batch,
		Enabled: h.enabled, Admit: h.admit, Admins: h.admins})
	if err != nil {
		h.t.Fatal(err)
	}
	h.m, h.r = m, m.newRunner()
	if err := h.r.load(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
	h.r.recoverGap(h.t.Context())
}

// cmd runs a command in chat and returns the reply text.
func (h *harness) cmd(chat int64, line string) string {
	h.t.Helper()
	f := strings.Fields(line)
	name := strings.TrimPrefix(f[0], "/")
	for _, c := range h.m.Commands() {
		if c.Name == name {
			rep, err := c.Handler.Handle(h.t.Context(), modules.Request{ChatID: chat, Command: name, Args: f[1:], ChatType: "private"})
			if err != nil {
				h.t.Fatalf("%s: %v", line, err)
			}
			return rep.Text
		}
	}
	h.t.Fatalf("no command %s", name)
	return ""
}

// tick advances the clock by d and runs one evaluation.
func (h *harness) tick(d time.Duration) {
	h.clk.Add(d)
	h.r.tick(h.t.Context())
}

// prices sets BTC to each price in turn, one poll apart.
func (h *harness) prices(p market.Pair, vs ...float64) {
	for _, v := range vs {
		h.mkt.set(p, v)
		h.tick(2 * time.Second)
	}
}

// ChatSettings makes the chats in s.quiet ask for silent alerts.
func (s *fakeStore) ChatSettings(_ context.Context, chat int64) (Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Settings{Silent: s.quiet[chat], Zone: s.zones[chat], AlertsBy: s.alertsBy[chat]}, nil
}
