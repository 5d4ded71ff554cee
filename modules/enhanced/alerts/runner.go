package alerts

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/engine"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// maxBacklog bounds the firings and changes a runner keeps retrying while
// the store refuses them.
const maxBacklog = 100_000

// runner is one Run's state. Only the Run goroutine touches it.
type runner struct {
	m        *Module
	eng      *engine.Engine
	last     map[market.Pair]float64 // last observed prices, to re-seed a rebuilt engine
	lastAt   time.Time
	pins     map[market.Pair]func()
	nextSlow time.Time
	nextSync time.Time
	fs       []engine.Firing
	retry    []pending // firings for the store, with the ones it refused before
	changes  []engine.Change
	pairs    []market.Pair
	since    map[market.Pair]time.Time // per pair with level alerts: when the newest was created or last fired
	chats    map[int64]bool            // chats with live alerts: true while paused (the alerts flag is off there)
	nextFlag time.Time                 // every flag_check the runner asks the flag of each chat with alerts
	picked   time.Time                 // when pickUpNew last read the store
}

// Run evaluates the alerts every poll until ctx ends: it loads the live
// alerts from the store, applies the commands' changes, feeds the engine
// and stores what fires. A failed load returns the error, and the router
// starts Run again after a backoff.
func (m *Module) Run(ctx context.Context) error {
	if !m.once.TryLock() {
		return errors.New("alerts: runner already running")
	}
	defer m.once.Unlock()
	r := m.newRunner()
	defer r.unpinAll()
	if err := r.load(ctx); err != nil {
		return err
	}
	r.recoverGap(ctx)
	var digests sync.WaitGroup
	defer digests.Wait()
	digests.Go(func() { m.digestLoop(ctx) })
	t := time.NewTicker(m.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case o := <-m.ops:
			r.apply(o)
		case <-t.C:
			r.tick(ctx)
		}
	}
}

func (m *Module) newRunner() *runner {
	return &runner{m: m, eng: engine.New(), last: map[market.Pair]float64{}, pins: map[market.Pair]func(){}}
}

// load fills a fresh engine with the store's live alerts, seeded with the
// last prices this runner saw so a crossing right after a rebuild counts.
func (r *runner) load(ctx context.Context) error {
	rows, err := r.m.st.LiveAlerts(ctx)
	if err != nil {
		r.m.met.tickErrors.WithLabelValues("load").Inc()
		return errors.New("alerts: load live alerts: " + err.Error())
	}
	r.m.met.countLive(rows)
	eng := engine.New()
	r.since = map[market.Pair]time.Time{}
	r.chats = make(map[int64]bool, len(r.chats))
	paused := 0
	for _, row := range rows {
		if _, seen := r.chats[row.ChatID]; !seen {
			r.chats[row.ChatID] = !r.m.on(ctx, row.ChatID)
		}
		if r.chats[row.ChatID] {
			paused++
			continue // the flag is off there: kept in the store, not evaluated
		}
		a, err := fromRow(row)
		if err == nil {
			err = eng.Add(a)
		}
		if err != nil {
			r.m.log.WarnContext(ctx, "alerts: skipping unreadable alert", "err", err)
			continue
		}
		if a.Rule.Kind.IsLevel() {
			r.since[a.Pair] = latest(r.since[a.Pair], a.Created, a.LastFired)
		}
	}
	for p, v := range r.last {
		eng.ObservePrice(nil, p, v, r.lastAt) // baseline only: nothing lies between a price and itself
	}
	r.eng = eng
	r.m.met.paused.Set(float64(paused))
	r.m.met.live.Set(float64(eng.Len()))
	r.nextSync = r.m.now().Add(reconcileEvery)
	r.nextFlag = r.m.now().Add(r.m.cfg.FlagCheck)
	r.picked = r.m.now()
	return nil
}

// applyQueued applies the commands' changes waiting in the channel.
func (r *runner) applyQueued() {
	for {
		select {
		case o := <-r.m.ops:
			r.apply(o)
		default:
			return
		}
	}
}

// Gap recovery reads closed 1 m candles: at most gapCandles of them per
// pair (12 h; a venue may serve fewer, OKX 299), for gapBatch pairs at a
// time so a restart with thousands of pairs holds a few hundred kB of
// candles, not tens of MB.
const (
	gapInterval = market.M1
	gapCandles  = 720
	gapBatch    = 4 * fetchers
)

// recoverGap fires the level alerts whose level the market crossed while
// the bot was away: the closed 1 m candles since the newest of a pair's
// level alerts was created or last fired (so no alert sees a crossing from
// before it existed, nor one it already fired on) go to the engine as
// ranges, oldest first; their high and low decide. The minute still open
// is left to the first poll, and so is the minute an alert was created or
// fired in: its candle may hold a crossing from just before.
func (r *runner) recoverGap(ctx context.Context) {
	pairs := make([]market.Pair, 0, len(r.since))
	for p := range r.since {
		pairs = append(pairs, p)
	}
	now := r.m.now()
	for len(pairs) > 0 {
		batch := pairs[:min(gapBatch, len(pairs))]
		pairs = pairs[len(batch):]
		candles := make([][]market.Candle, len(batch))
		r.m.each(ctx, len(batch), func(ctx context.Context, i int) {
			if n := gapLimit(r.since[batch[i]], now); n > 0 {
				candles[i], _ = r.m.mkt.Candles(ctx, batch[i], gapInterval, n)
			}
		})
		for i, p := range batch {
			for _, c := range candles[i] {
				if !c.Open.Before(r.since[p]) && c.L > 0 && c.H >= c.L {
					r.fs = r.eng.ObserveRange(r.fs, p, c.L, c.H, c.Open.Add(gapInterval.Duration()))
				}
			}
		}
	}
	r.store(ctx)
}

// gapLimit is how many closed 1 m candles cover since → now: 0 when no
// minute has closed since, at most gapCandles.
func gapLimit(since, now time.Time) int {
	if since.IsZero() {
		return gapCandles
	}
	n := int(now.Truncate(time.Minute).Sub(since.Truncate(time.Minute)) / time.Minute)
	return min(max(n, 0), gapCandles)
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// reconcileEvery is how often the runner adds live alerts the store has
// and its engine lacks.
const reconcileEvery = 5 * time.Minute

// reconcile adds the store's live alerts the engine does not hold: those
// of a chat unblocked again (the store re-arms them) or created while the
// runner was behind. It keeps the ones the engine has, whose status is
// newer than the store's.
func (r *runner) reconcile(ctx context.Context) {
	rows, err := r.m.st.LiveAlerts(ctx)
	if err != nil {
		r.m.met.tickErrors.WithLabelValues("load").Inc()
		return
	}
	r.m.met.countLive(rows)
	r.addMissing(rows)
}

// pickSlack is how far back each poll looks for alerts created elsewhere:
// their creation time is another replica's clock, and its insert may
// commit a little after that time.
const pickSlack = time.Minute

// pickUpNew adds the live alerts created since the last poll that the
// engine lacks: those another replica's /alert stored (its own arrive
// through the command queue). Without it they would wait for the next
// reconcile, minutes away, and miss the crossings in between.
func (r *runner) pickUpNew(ctx context.Context, now time.Time) {
	since := r.picked.Add(-pickSlack)
	rows, err := r.m.st.LiveAlertsSince(ctx, since)
	if err != nil {
		r.m.met.tickErrors.WithLabelValues("load").Inc()
		return
	}
	r.picked = now
	r.addMissing(rows)
}

// addMissing adds the rows the engine does not hold, unless their chat is
// paused; the engine's own are newer than the store's.
func (r *runner) addMissing(rows []AlertRow) {
	for _, row := range rows {
		paused, seen := r.chats[row.ChatID]
		if !seen {
			// A chat new to the runner: checkFlags asks about it next.
			r.chats[row.ChatID], paused = false, false
		}
		if _, ok := r.eng.Status(row.ID); ok || paused {
			continue
		}
		if a, err := fromRow(row); err == nil {
			_ = r.eng.Add(a) // a row the engine refuses was logged at load
		}
	}
}

// checkFlags pauses the alerts of the chats whose alerts flag went off and
// resumes those whose flag is back. A paused chat's alerts stay in the
// store as they were (armed or cooling) and leave the engine, so nothing
// fires there and a restart keeps them paused while the flag stays off. A
// resumed chat's alerts go back into the engine after a fresh observation
// of their pairs, watching from now, so only crossings and moves from then
// on count, none that happened while they were paused. A chat whose alerts
// or prices cannot be read stays as it was until the next check.
func (r *runner) checkFlags(ctx context.Context, now time.Time) {
	for chat, paused := range r.chats {
		on := r.m.on(ctx, chat)
		if on == !paused {
			continue
		}
		as, err := r.chatAlerts(ctx, chat)
		if err != nil {
			r.m.met.tickErrors.WithLabelValues("load").Inc()
			continue
		}
		if len(as) == 0 {
			delete(r.chats, chat) // no live alerts left: forget it
			continue
		}
		if !on {
			for _, a := range as {
				r.eng.Remove(a.ID)
			}
			r.chats[chat] = true
			r.m.met.paused.Add(float64(len(as)))
			continue
		}
		if !r.baseline(ctx, as, now) {
			continue
		}
		for _, a := range as {
			if err := r.eng.AddFrom(a, now); err != nil {
				r.m.log.WarnContext(ctx, "alerts: engine refused a resumed alert", "err", err)
			}
		}
		r.chats[chat] = false
		r.m.met.paused.Sub(float64(len(as)))
	}
}

// chatAlerts is the chat's live alerts in the store.
func (r *runner) chatAlerts(ctx context.Context, chat int64) ([]rule.Alert, error) {
	rows, err := r.m.st.Alerts(ctx, chat)
	if err != nil {
		return nil, err
	}
	var out []rule.Alert
	for _, row := range rows {
		if a, err := fromRow(row); err == nil && a.State.Live() {
			out = append(out, a)
		}
	}
	return out, nil
}

// baseline observes, now, the markets the alerts as watch, so the engine's
// previous value of each is current before they join: what fires here is
// other chats' alerts, on a real crossing. It reports false when one
// could not be read.
func (r *runner) baseline(ctx context.Context, as []rule.Alert, now time.Time) bool {
	ctx, cancel := context.WithTimeout(ctx, r.m.cfg.Poll)
	defer cancel()
	seen := map[[2]any]bool{}
	for _, a := range as {
		k := a.Rule.Kind
		feed := 0
		switch {
		case k.IsFunding():
			feed = 1
		case k == rule.OIMove:
			feed = 2
		}
		if seen[[2]any{a.Pair, feed}] {
			continue
		}
		seen[[2]any{a.Pair, feed}] = true
		switch feed {
		case 0:
			t, err := r.m.mkt.Ticker(ctx, a.Pair)
			if err != nil || !(t.Last > 0) {
				return false
			}
			r.fs = r.eng.ObservePrice(r.fs, a.Pair, t.Last, now)
			r.last[a.Pair] = t.Last
		case 1:
			for _, v := range r.m.mkt.Venues() {
				if f, err := v.Funding(ctx, a.Pair); err == nil {
					r.fs = r.eng.ObserveFunding(r.fs, a.Pair, v.Name(), f.Rate, now)
				}
			}
		case 2:
			oi, err := r.m.mkt.OpenInterest(ctx, a.Pair)
			if err != nil || !(oi.USD > 0) {
				return false
			}
			r.fs = r.eng.ObserveOI(r.fs, a.Pair, oi.USD, now)
		}
	}
	return true
}

// apply runs one command's change on the engine.
func (r *runner) apply(o op) {
	if o.add != nil && r.chats[o.add.ChatID] {
		return // set in a paused chat just as its flag went off: resumed with the chat
	}
	if o.add != nil {
		if _, seen := r.chats[o.add.ChatID]; !seen {
			r.chats[o.add.ChatID] = false
		}
		if err := r.eng.Add(*o.add); err != nil {
			r.m.log.Warn("alerts: engine refused a new alert", "err", err)
		}
		// The price the chat was shown is the baseline of a pair not seen
		// yet, so a crossing before the next poll counts.
		if o.seed > 0 && r.eng.Last(o.add.Pair) == 0 {
			r.fs = r.eng.ObservePrice(r.fs, o.add.Pair, o.seed, o.add.Created)
		}
	}
	for _, id := range o.remove {
		r.eng.Remove(id)
	}
}

// tick is one evaluation: expiries, prices, (every slow_poll) funding and
// open interest, then the firings and changes go to the store.
func (r *runner) tick(ctx context.Context) {
	if r.m.resync.Swap(false) {
		if err := r.load(ctx); err != nil {
			r.m.resync.Store(true)
		}
	}
	r.applyQueued()
	now := r.m.now()
	r.eng.Expire(now)
	r.fs = r.fs[:0]
	if !now.Before(r.nextFlag) {
		r.nextFlag = now.Add(r.m.cfg.FlagCheck)
		r.checkFlags(ctx, now)
	}
	if now.Before(r.nextSync) {
		r.pickUpNew(ctx, now) // before observing: the first price read is its baseline
	}
	r.observePrices(ctx, now)
	if !now.Before(r.nextSlow) {
		r.nextSlow = now.Add(r.m.cfg.SlowPoll)
		r.observeSlow(ctx, now)
	}
	if !now.Before(r.nextSync) {
		r.nextSync = now.Add(reconcileEvery)
		r.reconcile(ctx)
	}
	r.store(ctx)
	r.m.met.live.Set(float64(r.eng.Len()))
	r.m.met.lastTick.Set(float64(now.Unix()))
}

// observePrices feeds the last price of every pair with a price alert:
// one batch call when the market offers it, and one cached ticker per pair
// the batch lacks (or when the batch failed), fetchers at a time.
func (r *runner) observePrices(ctx context.Context, now time.Time) {
	r.pairs = r.eng.Pairs(r.pairs[:0], engine.Prices)
	r.repin()
	if len(r.pairs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.m.cfg.Poll)
	defer cancel()
	prices := map[market.Pair]float64{}
	if r.m.prices != nil {
		batch, err := r.m.prices(ctx)
		if err != nil {
			r.m.met.tickErrors.WithLabelValues("prices").Inc()
		}
		prices = batch
	}
	var missing []market.Pair
	for _, p := range r.pairs {
		if prices[p] <= 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		if prices == nil {
			prices = make(map[market.Pair]float64, len(missing))
		}
		last := make([]float64, len(missing))
		r.m.each(ctx, len(missing), func(ctx context.Context, i int) {
			if t, err := r.m.mkt.Ticker(ctx, missing[i]); err == nil {
				last[i] = t.Last
			}
		})
		for i, p := range missing {
			prices[p] = last[i]
		}
	}
	for _, p := range r.pairs {
		if v, ok := prices[p]; ok && v > 0 {
			r.fs = r.eng.ObservePrice(r.fs, p, v, now)
			r.last[p] = v
		}
	}
	r.lastAt = now
}

// observeSlow feeds funding from every venue and open interest from the
// failover for the pairs with such alerts.
func (r *runner) observeSlow(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, r.m.cfg.Poll)
	defer cancel()
	fund := r.eng.Pairs(nil, engine.FundingRates)
	venues := r.m.mkt.Venues()
	rates := make([][]market.Result[market.Funding], len(fund))
	r.m.each(ctx, len(fund), func(ctx context.Context, i int) {
		rates[i] = market.FanOut(ctx, venues, func(ctx context.Context, v market.Exchange) (market.Funding, error) {
			return v.Funding(ctx, fund[i])
		})
	})
	for i, rs := range rates {
		for j, res := range rs {
			if res.Err == nil {
				r.fs = r.eng.ObserveFunding(r.fs, fund[i], venues[j].Name(), res.Value.Rate, now)
			}
		}
	}
	oi := r.eng.Pairs(nil, engine.OpenInterest)
	usd := make([]float64, len(oi))
	r.m.each(ctx, len(oi), func(ctx context.Context, i int) {
		if v, err := r.m.mkt.OpenInterest(ctx, oi[i]); err == nil {
			usd[i] = v.USD
		}
	})
	for i, p := range oi {
		if usd[i] > 0 {
			r.fs = r.eng.ObserveOI(r.fs, p, usd[i], now)
		}
	}
}

// store writes what the engine did. Changes go first: a cooling alert that
// re-armed and fired in one tick must be armed in the store for Fire to
// take it, so while changes are refused the firings wait too.
func (r *runner) store(ctx context.Context) {
	if r.flushChanges(ctx) {
		r.persist(ctx)
	} else {
		r.queue()
	}
}

// persist stores this tick's firings, with the ones the store refused
// before, in one transaction. The engine already moved those alerts on, so
// a refused batch is retried (the triggers make it idempotent) rather than
// lost; past maxBacklog the oldest are added back to the engine armed,
// consistent with the store, to fire on a later crossing.
func (r *runner) persist(ctx context.Context) {
	r.queue()
	if len(r.retry) == 0 {
		return
	}
	batch := make([]Firing, len(r.retry))
	quiet := map[int64]bool{}
	for i := range r.retry {
		batch[i] = r.retry[i].Firing
		batch[i].Message.Silent = r.m.silent(ctx, batch[i].Message.ChatID, quiet)
	}
	fired, err := r.m.st.Fire(ctx, batch)
	if err != nil {
		r.m.met.tickErrors.WithLabelValues("fire").Inc()
		r.m.log.ErrorContext(ctx, "alerts: storing firings failed; retrying next tick", "firings", len(r.retry), "err", err)
		return
	}
	committed := r.m.now()
	for i, ok := range fired {
		if ok {
			f := &r.retry[i]
			r.m.met.fired.WithLabelValues(f.kind).Inc()
			r.m.met.lag.Observe(committed.Sub(f.at).Seconds())
		}
	}
	r.retry = r.retry[:0]
}

// queue adds this tick's firings to those waiting for the store.
func (r *runner) queue() {
	for _, f := range r.fs {
		r.retry = append(r.retry, stored(f))
	}
	r.fs = r.fs[:0]
	r.rollbackOverflow()
}

// rollbackOverflow drops the oldest refused firings beyond maxBacklog and
// re-adds their alerts armed: the store still has them so.
func (r *runner) rollbackOverflow() {
	n := len(r.retry) - maxBacklog
	if n <= 0 {
		return
	}
	for _, f := range r.retry[:n] {
		_ = r.eng.Add(f.restore) // it was valid when it fired
	}
	r.retry = append(r.retry[:0], r.retry[n:]...)
}

// pending is a firing as the store takes it, with what the runner needs
// for metrics and if the store keeps refusing it.
type pending struct {
	Firing
	kind    string
	at      time.Time
	restore rule.Alert
}

// silent reports whether chat asked for alerts without a sound (/settings),
// remembering the answer in seen for the rest of the batch. A failed read
// is not silent: an alert heard is better than one missed.
func (m *Module) silent(ctx context.Context, chat int64, seen map[int64]bool) bool {
	if s, ok := seen[chat]; ok {
		return s
	}
	cs, err := m.st.ChatSettings(ctx, chat)
	seen[chat] = err == nil && cs.Silent
	return seen[chat]
}

// stored is f for the store. The trigger is unique per crossing: the same
// observation never makes two outbox rows, across retries and restarts.
func stored(f engine.Firing) pending {
	return pending{
		Firing: Firing{
			AlertID: f.AlertID,
			Trigger: strconv.FormatInt(f.AlertID, 10) + ":" + strconv.FormatInt(f.At.UnixMilli(), 10),
			State:   f.Status.State.String(),
			Status:  statusJSON(f.Status),
			Message: OutMessage{ChatID: f.ChatID, Text: rule.Message(f.AlertID, f.Pair.String(), f.Rule, f.Price, f.From, f.Venue), Created: f.At},
		},
		kind:    f.Rule.Kind.String(),
		at:      f.At,
		restore: rule.Alert{ID: f.AlertID, ChatID: f.ChatID, Pair: f.Pair, Rule: f.Rule, Expires: f.Expires, Status: rule.Status{State: rule.Armed}},
	}
}

// flushChanges stores the re-arms and expiries and reports whether the
// store took them; refused ones wait for the next tick.
func (r *runner) flushChanges(ctx context.Context) bool {
	r.changes = r.eng.Changes(r.changes)
	if len(r.changes) == 0 {
		return true
	}
	us := make([]AlertUpdate, len(r.changes))
	for i, c := range r.changes {
		us[i] = AlertUpdate{ID: c.AlertID, State: c.Status.State.String(), Status: statusJSON(c.Status)}
	}
	if err := r.m.st.UpdateAlerts(ctx, us); err != nil {
		r.m.met.tickErrors.WithLabelValues("update").Inc()
		if n := len(r.changes) - maxBacklog; n > 0 {
			r.changes = append(r.changes[:0], r.changes[n:]...)
		}
		return false
	}
	r.changes = r.changes[:0]
	return true
}

// repin keeps the tickers of the pairs with price alerts hot when there is
// no batch call (market.Market.Pin), and lets go of the others.
func (r *runner) repin() {
	p, ok := r.m.mkt.(pinner)
	if !ok || r.m.prices != nil {
		return
	}
	want := make(map[market.Pair]bool, len(r.pairs))
	for _, pair := range r.pairs {
		want[pair] = true
		if _, pinned := r.pins[pair]; !pinned {
			r.pins[pair] = p.Pin(pair)
		}
	}
	for pair, unpin := range r.pins {
		if !want[pair] {
			unpin()
			delete(r.pins, pair)
		}
	}
}

func (r *runner) unpinAll() {
	for pair, unpin := range r.pins {
		unpin()
		delete(r.pins, pair)
	}
}
