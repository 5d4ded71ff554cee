package telegram

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cryptobot-dev/cryptobot/modules"
)

const parseModeHTML = "HTML"

// deliver sends one reply and counts it: sent, late (after deadline) or
// failed. Our own pacing may push a reply past the deadline (it is then
// late), but never more than ReplyTimeout past it; Telegram's 429s are
// retried only while the deadline allows. It reports whether Telegram took
// the update off our hands: the reply was sent, there was nothing to send,
// or Telegram refused it for good (400/403, such as a blocked bot), which
// is not a pipeline failure. A reply that is empty or only whitespace
// sends and counts nothing.
func (b *Bot) deliver(ctx context.Context, req modules.Request, reply modules.Reply, deadline time.Time) bool {
	if reply.Photo == nil && strings.TrimSpace(StripHTML(reply.Text)) == "" {
		return true // nothing to send; Telegram rejects an empty message
	}
	sctx, cancel := context.WithDeadline(ctx, later(deadline, time.Now()).Add(b.cfg.ReplyTimeout))
	defer cancel()
	err := b.sendReply(sctx, req, reply, deadline)
	done := time.Now()
	cmd := b.label(req.Command)
	switch {
	case err != nil:
		b.m.Replies.WithLabelValues("failed").Inc()
		b.stats.failed.Add(1)
		b.log.ErrorContext(ctx, "telegram reply failed", "command", cmd, "chat_id", req.ChatID,
			"update_id", req.UpdateID, "err", err)
		apiErr, ok := errors.AsType[*Error](err)
		return ok && (apiErr.Code == 400 || apiErr.Code == 403)
	case done.After(deadline):
		b.m.Replies.WithLabelValues("late").Inc()
		b.stats.late.Add(1)
	default:
		b.m.Replies.WithLabelValues("sent").Inc()
		b.stats.sent.Add(1)
	}
	b.m.CommandDuration.WithLabelValues(cmd).Observe(done.Sub(req.Received).Seconds())
	return true
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sendReply sends a photo with its caption, or the text split into
// messages. A caption too long for Telegram follows the photo as text.
func (b *Bot) sendReply(ctx context.Context, req modules.Request, reply modules.Reply, deadline time.Time) error {
	text := reply.Text
	if reply.Photo != nil {
		caption := text
		if visibleLen(caption) > MaxCaptionLen {
			caption = ""
		} else {
			text = ""
		}
		p := OutPhoto{ChatID: req.ChatID, PNG: reply.Photo, Caption: caption}
		if caption != "" {
			p.ParseMode = parseModeHTML
		}
		if err := b.sendOne(ctx, req, deadline, func(ctx context.Context, plain bool) error {
			if plain {
				p.Caption, p.ParseMode = StripHTML(p.Caption), ""
			}
			return b.api.SendPhoto(ctx, p)
		}); err != nil {
			return fmt.Errorf("send photo: %w", err)
		}
	}
	for i, chunk := range SplitHTML(text, MaxMessageLen) {
		if strings.TrimSpace(StripHTML(chunk)) == "" {
			continue // Telegram rejects an empty message
		}
		msg := OutMessage{ChatID: req.ChatID, Text: chunk, ParseMode: parseModeHTML}
		if err := b.sendOne(ctx, req, deadline, func(ctx context.Context, plain bool) error {
			if plain {
				msg.Text, msg.ParseMode = StripHTML(msg.Text), ""
			}
			return b.api.SendMessage(ctx, msg)
		}); err != nil {
			return fmt.Errorf("send message part %d: %w", i+1, err)
		}
	}
	return nil
}

// sendOne waits on our limiters, then calls send, retrying a 429 after
// retry_after while the deadline allows and, once, as plain text when
// Telegram cannot parse our HTML.
func (b *Bot) sendOne(ctx context.Context, req modules.Request, deadline time.Time, send func(ctx context.Context, plain bool) error) error {
	if err := b.pace(ctx, req); err != nil {
		return err
	}
	plain := false
	backoff := 100 * time.Millisecond
	for {
		err := send(ctx, plain)
		if err == nil {
			return nil
		}
		apiErr, ok := errors.AsType[*Error](err)
		switch {
		case ctx.Err() != nil:
			return err
		case !ok || apiErr.Code >= 500:
			// A network error or a 5xx means Telegram most likely did not
			// deliver: retry with a short backoff while the deadline allows.
			if time.Now().Add(backoff).After(deadline) {
				return err
			}
			if !sleep(ctx, backoff) {
				return fmt.Errorf("waiting to retry: %w", ctx.Err())
			}
			backoff = min(2*backoff, time.Second)
		case apiErr.Code == 429:
			wait := apiErr.RetryAfter
			if wait <= 0 {
				wait = time.Second
			}
			if time.Now().Add(wait).After(deadline) {
				return fmt.Errorf("retry after %s would pass the reply deadline: %w", wait, err)
			}
			start := time.Now()
			ok := sleep(ctx, wait)
			b.m.TelegramRetryWait.Add(time.Since(start).Seconds())
			if !ok {
				return fmt.Errorf("waiting to retry: %w", ctx.Err())
			}
		case apiErr.Code == 400 && !plain && strings.Contains(strings.ToLower(apiErr.Description), "can't parse entities"):
			b.log.WarnContext(ctx, "telegram rejected reply HTML, resending as plain text",
				"command", b.label(req.Command), "err", err)
			plain = true
		default:
			return err
		}
	}
}

// pace waits on the chat's limiter, then the global one, so a slow chat
// does not hold a global token while it waits.
func (b *Bot) pace(ctx context.Context, req modules.Request) error {
	start := time.Now()
	defer func() { b.m.OutboundWait.Add(time.Since(start).Seconds()) }()
	if err := b.chats.get(req.ChatID, req.ChatType != "private").Wait(ctx); err != nil {
		return fmt.Errorf("chat rate limit: %w", err)
	}
	if err := b.global.Wait(ctx); err != nil {
		return fmt.Errorf("global rate limit: %w", err)
	}
	return nil
}

// chatLimiters holds one limiter per chat. A limiter whose bucket is full
// again is indistinguishable from a new one, so evicting it loses nothing:
// the map holds only chats active in the last few seconds.
type chatLimiters struct {
	rate       rate.Limit
	burst      int
	group      rate.Limit
	groupBurst int

	mu sync.Mutex
	m  map[int64]*rate.Limiter
}

func newChatLimiters(r Rate) *chatLimiters {
	return &chatLimiters{
		rate: rate.Limit(r.PerChat), burst: r.PerChatBurst,
		group: rate.Limit(r.PerGroup), groupBurst: r.PerGroupBurst,
		m: make(map[int64]*rate.Limiter),
	}
}

func (c *chatLimiters) get(chatID int64, group bool) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[chatID]
	if !ok {
		if group {
			l = rate.NewLimiter(c.group, c.groupBurst)
		} else {
			l = rate.NewLimiter(c.rate, c.burst)
		}
		c.m[chatID] = l
	}
	return l
}

func (c *chatLimiters) evictIdle(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, l := range c.m {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(c.m, id)
		}
	}
}

func (c *chatLimiters) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
