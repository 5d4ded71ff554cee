package telegram

import (
	"errors"
	"fmt"
	"time"
)

// Ready reports whether the pipeline works end to end, for /readyz. The
// error names the first failing component: the bot identity (getMe), the
// intake (webhook registered, or poller running and succeeding), the
// journal (its last append failed), the workers, or a stall: an update
// queued longer than StallAfter, or updates waiting while nothing has been
// answered for StallAfter. A bot that receives updates but does not answer
// them is not ready.
func (b *Bot) Ready() error {
	now := time.Now()
	b.life.Lock()
	state := b.state
	b.life.Unlock()
	q := b.q.snapshot()
	username := b.botUsername()

	switch {
	case state == stateStopping:
		return errors.New("telegram: shutting down: workers stopped or stopping")
	case username == "" || state == stateNew:
		return errors.New("telegram: bot identity not fetched (getMe): not started")
	}
	switch b.cfg.Mode {
	case ModeWebhook:
		if !b.webhookOn.Load() {
			return errors.New("telegram: webhook not registered")
		}
	case ModePolling:
		if b.standby.Load() && !b.pollerOn.Load() {
			break // another replica polls; this one answers what it hands over
		}
		if !b.pollerOn.Load() {
			return errors.New("telegram: poller not running")
		}
		if ok := time.Unix(0, b.lastPollOK.Load()); now.Sub(ok) > b.cfg.PollTimeout+b.cfg.StallAfter {
			last := "none"
			if p := b.lastPollErr.Load(); p != nil {
				last = *p
			}
			return fmt.Errorf("telegram: poller failing: no successful getUpdates for %s: last error: %s",
				now.Sub(ok).Round(time.Second), last)
		}
	}
	if p := b.journalErr.Load(); p != nil {
		return fmt.Errorf("telegram: journal failing, updates not acknowledged: %s", *p)
	}
	if q.Depth > 0 && now.Sub(q.Oldest) > b.cfg.StallAfter {
		return fmt.Errorf("telegram: queue stalled: oldest update waiting %s (updates received but not answered)",
			now.Sub(q.Oldest).Round(time.Second))
	}
	if q.InFlight > 0 && now.Sub(q.LastProgress) > b.cfg.StallAfter {
		return fmt.Errorf("telegram: %d updates accepted but no reply sent for %s", q.InFlight,
			now.Sub(q.LastProgress).Round(time.Second))
	}
	return nil
}

// SetStandby tells a bot in polling mode whether another replica polls
// (this one does not lead): readiness then does not ask for a poller.
func (b *Bot) SetStandby(on bool) { b.standby.Store(on) }

// SetLimitShare sends at fraction f of the configured outbound limits:
// 1/peers when replicas share the bot token.
func (b *Bot) SetLimitShare(f float64) { b.out.setShare(f) }

// Status is a snapshot of the pipeline for the /status command.
type Status struct {
	BotUsername   string
	Mode          Mode
	Workers       int // running now: at most Config.Workers, none while idle
	WorkersBusy   int
	QueueDepth    int
	QueueCapacity int
	OldestQueued  time.Duration // age of the oldest queued update; 0 when empty
	PacedChats    int           // chats with a per-chat limiter in memory

	// Updates since start.
	Accepted, Duplicates, QueueFull, Ignored, Rejected uint64
	// Replies since start.
	Sent, Late, Failed, Panics uint64
	// Journal entries from an earlier run: queued again, too old, undecodable.
	Replayed, Expired, Undecodable uint64
	UnreachableChats               int       // chats remembered as refusing sends
	LastAnswered                   time.Time // zero before the first answer
}

// Status returns a snapshot of the pipeline's counters and gauges.
func (b *Bot) Status() Status {
	q := b.q.snapshot()
	s := Status{
		BotUsername:   b.botUsername(),
		Mode:          b.cfg.Mode,
		QueueDepth:    q.Depth,
		QueueCapacity: q.Capacity,
		LastAnswered:  q.LastAnswered,
		Workers:       q.Workers,
		WorkersBusy:   int(b.busy.Load()),
		PacedChats:    b.out.chats.len(),
		Accepted:      b.stats.accepted.Load(),
		Duplicates:    b.stats.duplicate.Load(),
		QueueFull:     b.stats.queueFull.Load(),
		Ignored:       b.stats.ignored.Load(),
		Rejected:      b.stats.rejected.Load(),
		Sent:          b.out.sent.Load(),
		Late:          b.out.late.Load(),
		Failed:        b.out.failed.Load(),
		Panics:        b.stats.panics.Load(),

		Replayed:         b.stats.replayed.Load(),
		Expired:          b.stats.expired.Load(),
		Undecodable:      b.stats.undecodable.Load(),
		UnreachableChats: b.out.gone.len(),
	}
	if q.Depth > 0 {
		s.OldestQueued = time.Since(q.Oldest)
	}
	return s
}
