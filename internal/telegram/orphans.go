package telegram

import (
	"context"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// OrphanClaimer takes over journal entries that no replica holds: their
// claim expired (the replica that accepted them died) or was released (it
// stopped). internal/store implements it on Postgres.
type OrphanClaimer interface {
	ClaimOrphans(ctx context.Context, limit int) ([]store.Update, error)
}

var _ OrphanClaimer = (*store.Store)(nil)

// Sweep asks the bot to take over orphaned journal entries now (with
// Config.Orphans); it returns at once, and a sweep already asked for
// covers it.
func (b *Bot) Sweep() {
	select {
	case b.sweepCh <- struct{}{}:
	default:
	}
}

// sweeper replaces replay when replicas share the journal: at start and at
// each Sweep it claims orphans, as many as the queue has room for, and
// queues them as replay does (too old ones expire, broken ones are
// skipped). A live peer's entries are never taken: they are claimed.
func (b *Bot) sweeper(ctx context.Context) {
	defer b.workers.Done()
	for {
		b.reclaim(ctx)
		select {
		case <-b.sweepCh:
		case <-b.drain:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (b *Bot) reclaim(ctx context.Context) {
	var total replayCounts
	taken := 0
	defer func() {
		if taken > 0 {
			if b.cfg.OnReclaim != nil {
				b.cfg.OnReclaim(taken)
			}
			b.log.InfoContext(ctx, "telegram journal: took over orphaned updates", "claimed", taken, "queued", total.queued,
				"expired", total.expired, "skipped", total.skipped)
		}
	}()
	for more := false; ; {
		room, open, freed := b.q.reserve(b.cfg.QueueSize)
		b.q.release(room) // replayPage reserves each slot itself
		switch {
		case !open:
			return
		case room == 0 && !more:
			return // full of live updates: the next sweep looks again
		case room == 0:
			// The last page was full, so more orphans wait: take them as
			// the queue frees up.
			if !b.waitFor(ctx, freed) {
				return
			}
			continue
		}
		page, err := b.cfg.Orphans.ClaimOrphans(ctx, room)
		if err != nil {
			if ctx.Err() == nil {
				b.tm.journalErrors.WithLabelValues(opUnanswered).Inc()
				b.log.WarnContext(ctx, "telegram journal: claiming orphaned updates failed", "err", err)
			}
			return
		}
		taken += len(page)
		n, ok := b.replayPage(ctx, page, map[int64]bool{})
		total.queued += n.queued
		total.expired += n.expired
		total.skipped += n.skipped
		if !ok || len(page) < room {
			return
		}
		more = true
	}
}
