package telegram

import (
	"errors"
	"fmt"
	"time"
)

// Ready reports whether the pipeline works end to end, for /readyz. The
// error names the first failing component: the bot identity (getMe), the
// intake (webhook registered, or poller running and succeeding), the
// workers, or a stall: an update queued longer than StallAfter, or updates
// waiting while nothing has been answered for StallAfter. A bot that
// receives updates but does not answer them is not ready.
func (b *Bot) Ready() error {
	now := time.Now()
	b.mu.Lock()
	state, username := b.state, b.username
	depth, inFlight := b.q.n, b.inFlight
	var oldest time.Time
	if depth > 0 {
		oldest = b.q.peek().req.Received
	}
	lastProgress := later(b.answered, b.pending)
	b.mu.Unlock()

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
	if live := b.liveWorkers.Load(); live < int64(b.cfg.Workers) {
		return fmt.Errorf("telegram: workers gone: %d of %d running", live, b.cfg.Workers)
	}
	if depth > 0 && now.Sub(oldest) > b.cfg.StallAfter {
		return fmt.Errorf("telegram: queue stalled: oldest update waiting %s (updates received but not answered)",
			now.Sub(oldest).Round(time.Second))
	}
	if inFlight > 0 && now.Sub(lastProgress) > b.cfg.StallAfter {
		return fmt.Errorf("telegram: %d updates accepted but no reply sent for %s", inFlight,
			now.Sub(lastProgress).Round(time.Second))
	}
	return nil
}

// Status is a snapshot of the pipeline for the /status command.
type Status struct {
	BotUsername   string
	Mode          Mode
	Workers       int
	WorkersBusy   int
	QueueDepth    int
	QueueCapacity int
	OldestQueued  time.Duration // age of the oldest queued update; 0 when empty
	PacedChats    int           // chats with a per-chat limiter in memory

	// Updates since start.
	Accepted, Duplicates, QueueFull, Ignored, Rejected uint64
	// Replies since start.
	Sent, Late, Failed, Panics uint64
	LastAnswered               time.Time // zero before the first answer
}

// Status returns a snapshot of the pipeline's counters and gauges.
func (b *Bot) Status() Status {
	b.mu.Lock()
	s := Status{
		BotUsername:   b.username,
		Mode:          b.cfg.Mode,
		QueueDepth:    b.q.n,
		QueueCapacity: len(b.q.items),
	}
	if b.q.n > 0 {
		s.OldestQueued = time.Since(b.q.peek().req.Received)
	}
	s.LastAnswered = b.answered
	b.mu.Unlock()
	s.Workers = int(b.liveWorkers.Load())
	s.WorkersBusy = int(b.busy.Load())
	s.PacedChats = b.chats.len()
	s.Accepted = b.stats.accepted.Load()
	s.Duplicates = b.stats.duplicate.Load()
	s.QueueFull = b.stats.queueFull.Load()
	s.Ignored = b.stats.ignored.Load()
	s.Rejected = b.stats.rejected.Load()
	s.Sent = b.stats.sent.Load()
	s.Late = b.stats.late.Load()
	s.Failed = b.stats.failed.Load()
	s.Panics = b.stats.panics.Load()
	return s
}
