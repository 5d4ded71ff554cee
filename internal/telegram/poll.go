package telegram

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/tick"
)

// Poll backoff: doubling from pollBackoffMin with jitter, capped.
const (
	pollBackoffMin = 100 * time.Millisecond
	pollBackoffMax = 5 * time.Second
	// confirmTimeout bounds the last getUpdates that confirms what we journaled.
	confirmTimeout = 2 * time.Second
)

// Poll receives updates by long polling until ctx ends or Shutdown begins.
// It deletes any webhook first (getUpdates fails while one is set), then
// calls getUpdates with offset = last journaled update_id + 1, so Telegram
// forgets only what the journal holds. When the queue is full it waits for
// room, and while the journal fails it backs off, offering the same updates
// again; it never drops one. Errors back off
// exponentially with jitter up to 5 s, honouring a 429's retry_after. Only
// one Poll may run; it needs a started Bot in polling mode.
func (b *Bot) Poll(ctx context.Context) error {
	if b.cfg.Mode != ModePolling {
		return errors.New("telegram: poll: bot is in webhook mode")
	}
	b.life.Lock()
	st := b.state
	b.life.Unlock()
	if st != stateRunning {
		return fmt.Errorf("telegram: poll: %w", ErrNotRunning)
	}
	if !b.pollerOn.CompareAndSwap(false, true) {
		return errors.New("telegram: poll: a poller is already running")
	}
	defer b.pollerOn.Store(false)
	b.lastPollOK.Store(time.Now().UnixNano()) // readiness gives a new poller time to succeed

	// Intake stopping ends the poll as a cancelled ctx does.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-b.drain:
			cancel()
		case <-ctx.Done():
		}
	}()

	var fails int
	for {
		err := b.api.DeleteWebhook(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		fails++
		b.pollFailed(ctx, "deleteWebhook", err)
		if !tick.Sleep(ctx, backoff(fails, err)) {
			return nil
		}
	}
	b.log.InfoContext(ctx, "telegram long polling started")

	var offset, confirmed int64
	defer func() { b.confirm(ctx, offset, confirmed) }()
	fails = 0
	for {
		updates, err := b.api.GetUpdates(ctx, offset, b.cfg.PollTimeout)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			fails++
			b.pollFailed(ctx, "getUpdates", err)
			if !tick.Sleep(ctx, backoff(fails, err)) {
				return nil
			}
			continue
		}
		fails = 0
		confirmed = offset
		b.lastPollOK.Store(time.Now().UnixNano())
		n := b.offer(ctx, updates, time.Now())
		for _, u := range updates[:n] {
			offset = max(offset, u.UpdateID+1) // journaled: safe to confirm
		}
		if n < len(updates) {
			return nil
		}
	}
}

// offer journals and queues one polled batch, waiting while the queue is
// full and backing off while the journal fails, and returns how many of
// the batch, from the front, are journaled; the offset moves past those
// only. Fewer than all means polling must stop (ctx ended or intake
// closed); the rest stays unconfirmed and Telegram keeps it.
func (b *Bot) offer(ctx context.Context, updates []Update, received time.Time) int {
	done := 0
	for fails := 0; done < len(updates); {
		a := b.admit(ctx, sourcePolling, updates[done:], received)
		done += a.consumed
		switch {
		case a.err != nil:
			fails++
			if !tick.Sleep(ctx, backoff(fails, nil)) {
				return done
			}
		case a.consumed == 0 && a.outcome == outcomeUnavailable:
			return done
		case a.consumed == 0:
			fails = 0
			select {
			case <-a.room:
			case <-ctx.Done():
				return done
			}
		default:
			fails = 0
		}
	}
	return done
}

// confirm tells Telegram, with a short getUpdates, that everything below
// offset is journaled, so a restart does not deliver it again.
func (b *Bot) confirm(ctx context.Context, offset, confirmed int64) {
	if offset <= confirmed {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), confirmTimeout)
	defer cancel()
	if _, err := b.api.GetUpdates(cctx, offset, 0); err != nil {
		b.log.WarnContext(ctx, "telegram: confirming polled updates failed; they may be delivered again",
			"offset", offset, "err", err)
	}
}

func (b *Bot) pollFailed(ctx context.Context, method string, err error) {
	msg := fmt.Sprintf("%s: %v", method, err)
	b.lastPollErr.Store(&msg)
	b.log.WarnContext(ctx, "telegram polling failed", "method", method, "err", err)
}

// backoff is the wait after the n-th consecutive failure: retry_after for a
// 429, else an exponential delay with jitter in [d/2, d).
func backoff(n int, err error) time.Duration {
	if apiErr, ok := errors.AsType[*Error](err); ok && apiErr.Code == 429 && apiErr.RetryAfter > 0 {
		return apiErr.RetryAfter
	}
	d := pollBackoffMax
	if n < 16 {
		d = min(pollBackoffMax, pollBackoffMin<<(n-1))
	}
	return d/2 + rand.N(d/2)
}
