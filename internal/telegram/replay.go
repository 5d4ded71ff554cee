package telegram

import (
	"context"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// replayRetry is the wait after a failed Unanswered before trying again.
const replayRetry = time.Second

// replay queues again, oldest first, what a previous run journaled but did
// not answer (received before this Start: live intake stamps no earlier), a queue's worth at a time, until the journal has nothing
// unanswered that this run has not queued. Entries older than MaxAge are
// settled expired, bodies that no longer decode skipped; neither blocks the
// rest. It stops when Shutdown begins.
func (b *Bot) replay(ctx context.Context) {
	defer b.workers.Done()
	queued := map[int64]bool{}
	var total replayCounts
	defer func() {
		if total != (replayCounts{}) {
			b.log.InfoContext(ctx, "telegram journal replayed", "queued", total.queued, "expired", total.expired,
				"skipped", total.skipped)
		}
	}()
	for fails := 0; ; {
		page, err := b.journal.Unanswered(ctx, b.cfg.QueueSize)
		if err != nil {
			fails++
			b.tm.journalErrors.WithLabelValues(opUnanswered).Inc()
			b.log.WarnContext(ctx, "telegram journal: reading unanswered updates failed", "err", err)
			if !b.pause(ctx, min(replayRetry*time.Duration(fails), pollBackoffMax)) {
				return
			}
			continue
		}
		fails = 0
		var todo []store.Update
		live := false
		for _, su := range page {
			switch {
			case queued[su.ID]:
			case !su.Received.Before(b.started):
				live = true // this run's intake queued it; all older ones are on the page
			default:
				todo = append(todo, su)
			}
		}
		if len(todo) == 0 {
			// Everything on the page is ours: done unless the page was full
			// and some of it is still being answered.
			if live || len(page) < b.cfg.QueueSize || b.q.snapshot().InFlight == 0 {
				return
			}
			if !b.waitFor(ctx, b.q.wait()) {
				return
			}
			continue
		}
		n, ok := b.replayPage(ctx, todo, queued)
		total.queued += n.queued
		total.expired += n.expired
		total.skipped += n.skipped
		if !ok {
			return
		}
	}
}

type replayCounts struct{ queued, expired, skipped int }

// replayPage settles the entries it will not answer and queues the rest,
// waiting for room; every entry it dealt with is marked in queued. It
// reports false when Shutdown began.
func (b *Bot) replayPage(ctx context.Context, page []store.Update, queued map[int64]bool) (n replayCounts, ok bool) {
	var tooOld, broken []int64
	defer func() { // also when Shutdown cuts the page short
		b.settle(ctx, store.Expired, tooOld...)
		b.settle(ctx, store.Skipped, broken...)
		n.expired, n.skipped = len(tooOld), len(broken)
		b.tm.expired.Add(float64(n.expired))
		b.tm.undecodable.Add(float64(n.skipped))
		b.stats.expired.Add(uint64(n.expired))
		b.stats.undecodable.Add(uint64(n.skipped))
		if n.expired > 0 {
			b.log.WarnContext(ctx, "telegram journal: unanswered updates too old to answer, expired",
				"count", n.expired, "max_age", b.cfg.MaxAge.String(), "update_ids", tooOld)
		}
	}()
	for _, su := range page {
		queued[su.ID] = true
		if time.Since(su.Received) > b.cfg.MaxAge {
			tooOld = append(tooOld, su.ID)
			continue
		}
		u, err := decodeBody(su.Body)
		if err != nil {
			broken = append(broken, su.ID)
			b.log.WarnContext(ctx, "telegram journal: entry does not decode, skipped", "update_id", su.ID, "err", err)
			continue
		}
		if tooOldToReplay(u, su) {
			tooOld = append(tooOld, su.ID)
			continue
		}
		// The reply deadline starts now: the original one passed while the
		// bot was down, and the router would cancel the work at once.
		req, wanted := b.request(u, time.Now())
		if !wanted {
			b.settle(ctx, store.Answered, su.ID) // e.g. addressed to a bot name we no longer have
			continue
		}
		for {
			got, open, room := b.q.reserve(1)
			if !open {
				return n, false
			}
			if got == 1 {
				break
			}
			if !b.waitFor(ctx, room) {
				return n, false
			}
		}
		if !b.q.push(item{req: req}) {
			return n, false
		}
		n.queued++
		b.tm.replayed.Inc()
		b.stats.replayed.Add(1)
		b.updateQueueGauges()
	}
	return n, true
}

// waitFor waits until ch is closed; false when Shutdown began first.
func (b *Bot) waitFor(ctx context.Context, ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-b.drain:
		return false
	case <-ctx.Done():
		return false
	}
}

// pause waits d; false when Shutdown began first.
func (b *Bot) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.drain:
		return false
	case <-ctx.Done():
		return false
	}
}
