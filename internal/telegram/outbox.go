package telegram

import (
	"context"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// OutboxMessage is one unsent outbox row; Silent sends it without a sound.
type OutboxMessage = store.OutMessage

// Outbox is the store's outbox as the drainer uses it: messages the bot
// committed to send (alert firings, digests), sent here under the same
// limits as replies.
type Outbox interface {
	PendingOutbox(ctx context.Context, limit int) ([]OutboxMessage, error)
	MarkSent(ctx context.Context, ids ...int64) error
	MarkOutboxFailed(ctx context.Context, id int64, permanent bool) error
}

// chatBlocker is implemented by an outbox that pauses a chat's alerts and
// digests when the chat refuses the bot (the store's SetChatBlocked).
type chatBlocker interface {
	SetChatBlocked(ctx context.Context, chatID int64, blocked bool) error
}

var (
	_ Outbox      = (*store.Store)(nil)
	_ chatBlocker = (*store.Store)(nil)
)

const (
	outboxBatch = 100
	// outboxRetryWindow is how long one send may wait on Telegram's 429s
	// and 5xx before it is left for a later pass.
	outboxRetryWindow = 30 * time.Second
)

// DrainOutbox sends the outbox every `every` until ctx ends: a batch at a
// time, oldest first, one goroutine per chat (so a chat's messages keep
// their order) and at most Workers chats at once, through the sender's
// global and per-chat limits and retries. A sent message is marked sent; a
// refusal for good (403, chat not found) marks it failed for good and the
// chat blocked; anything else counts an attempt and is retried next pass.
func (b *Bot) DrainOutbox(ctx context.Context, ob Outbox, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		b.drainOutbox(ctx, ob)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drainOutbox sends batches until the outbox is empty or a batch had a
// failure (then the rest waits for the next pass).
func (b *Bot) drainOutbox(ctx context.Context, ob Outbox) {
	for ctx.Err() == nil {
		msgs, err := ob.PendingOutbox(ctx, outboxBatch)
		if err != nil {
			b.log.ErrorContext(ctx, "outbox: reading pending messages failed", "err", err)
			return
		}
		if len(msgs) == 0 {
			return
		}
		sent, failed := b.sendOutboxBatch(ctx, ob, msgs)
		if len(sent) > 0 {
			if err := ob.MarkSent(ctx, sent...); err != nil {
				// They went out: the next pass sends them again. Telegram has
				// no idempotency key; this is the one duplicate the design allows.
				b.log.ErrorContext(ctx, "outbox: marking messages sent failed", "messages", len(sent), "err", err)
				return
			}
		}
		if failed || len(msgs) < outboxBatch {
			return
		}
	}
}

// sendOutboxBatch sends msgs grouped by chat and returns the ids sent and
// whether any send failed.
func (b *Bot) sendOutboxBatch(ctx context.Context, ob Outbox, msgs []OutboxMessage) (sent []int64, failed bool) {
	var byChat [][]OutboxMessage
	index := map[int64]int{}
	for _, m := range msgs {
		i, ok := index[m.ChatID]
		if !ok {
			i = len(byChat)
			index[m.ChatID] = i
			byChat = append(byChat, nil)
		}
		byChat[i] = append(byChat[i], m)
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, max(b.cfg.Workers, 1))
	)
	for _, chat := range byChat {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, bad := b.sendChatOutbox(ctx, ob, chat)
			mu.Lock()
			sent, failed = append(sent, ok...), failed || bad
			mu.Unlock()
		})
	}
	wg.Wait()
	return sent, failed
}

// sendChatOutbox sends one chat's messages in order; after a failure the
// rest of them wait for the next pass, so order holds.
func (b *Bot) sendChatOutbox(ctx context.Context, ob Outbox, msgs []OutboxMessage) (sent []int64, failed bool) {
	for _, m := range msgs {
		chatType := "private"
		if m.ChatID < 0 {
			chatType = "group" // groups, supergroups and channels have negative ids
		}
		d := &delivery{req: modules.Request{ChatID: m.ChatID, ChatType: chatType}, chat: m.ChatID, deadline: time.Now().Add(outboxRetryWindow)}
		sctx, cancel := context.WithTimeout(ctx, 2*outboxRetryWindow)
		err := b.out.sendReply(sctx, d, modules.Reply{Text: m.Text, Silent: m.Silent})
		cancel()
		switch {
		case err == nil:
			sent = append(sent, m.ID)
			continue
		case ctx.Err() != nil:
			return sent, true // shutdown: unsent, not an attempt
		}
		b.outboxFailed(ctx, ob, m, err)
		return sent, true
	}
	return sent, false
}

// outboxFailed records a failed send: for good when Telegram refused the
// chat (then the chat is blocked in the store and remembered as
// unreachable), else as one attempt.
func (b *Bot) outboxFailed(ctx context.Context, ob Outbox, m OutboxMessage, err error) {
	now := time.Now()
	reason, _ := refusal(err, now)
	permanent := lasting(reason) // the store gives up the rest after store.MaxAttempts
	b.log.WarnContext(ctx, "outbox: send failed", "chat_id", m.ChatID, "outbox_id", m.ID,
		"attempts", m.Attempts+1, "permanent", permanent, "err", err)
	if err := ob.MarkOutboxFailed(ctx, m.ID, permanent); err != nil {
		b.log.ErrorContext(ctx, "outbox: marking a message failed failed", "outbox_id", m.ID, "err", err)
	}
	if !permanent {
		return
	}
	b.tm.unreachable.WithLabelValues(reason).Inc()
	b.out.gone.mark(m.ChatID, reason, now, time.Time{})
	if cb, ok := ob.(chatBlocker); ok {
		if err := cb.SetChatBlocked(ctx, m.ChatID, true); err != nil {
			b.log.ErrorContext(ctx, "outbox: pausing a blocked chat failed", "chat_id", m.ChatID, "err", err)
		}
	}
}
