package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/cryptobot-dev/cryptobot/internal/metrics"
	"github.com/cryptobot-dev/cryptobot/modules"
)

const parseModeHTML = "HTML"

// Reply outcomes, the "outcome" label of m.Replies.
const (
	replySent   = "sent"
	replyLate   = "late"
	replyFailed = "failed"
)

// ReplyOutcomes are the values of the "outcome" label of the replies metric.
func ReplyOutcomes() []string { return []string{replySent, replyLate, replyFailed} }

// result is what became of one reply, for the journal.
type result int

const (
	resultAnswered result = iota // sent (maybe late), or nothing to send
	resultRefused                // Telegram refused it for good (400/403) or we gave up
	resultAborted                // shutdown cancelled it: answer it at the next start
)

// sender delivers replies: global, per-chat and per-group rate limits,
// splitting, plain-text fallback and retries of 429s and 5xx while the reply
// deadline allows. It is safe for concurrent use.
type sender struct {
	api          API
	replyTimeout time.Duration
	global       *rate.Limiter
	chats        *chatLimiters
	m            *metrics.Metrics
	log          *slog.Logger
	labels       commandLabels

	sent, late, failed atomic.Uint64
}

func newSender(api API, cfg Config, labels commandLabels, m *metrics.Metrics, log *slog.Logger) *sender {
	return &sender{
		api:          api,
		replyTimeout: cfg.ReplyTimeout,
		global:       rate.NewLimiter(rate.Limit(cfg.Rate.Global), cfg.Rate.GlobalBurst),
		chats:        newChatLimiters(cfg.Rate),
		m:            m,
		log:          log,
		labels:       labels,
	}
}

// deliver sends one reply and counts it: sent, late (after deadline) or
// failed. Our own pacing may push a reply past the deadline (it is then
// late), but never more than ReplyTimeout past it; Telegram's 429s are
// retried only while the deadline allows. A reply that is empty or only
// whitespace sends and counts nothing.
func (s *sender) deliver(ctx context.Context, req modules.Request, reply modules.Reply, deadline time.Time) result {
	if reply.Photo == nil && strings.TrimSpace(StripHTML(reply.Text)) == "" {
		return resultAnswered // nothing to send; Telegram rejects an empty message
	}
	sctx, cancel := context.WithDeadline(ctx, later(deadline, time.Now()).Add(s.replyTimeout))
	defer cancel()
	err := s.sendReply(sctx, req, reply, deadline)
	done := time.Now()
	cmd := s.labels.label(req.Command)
	switch {
	case err != nil && ctx.Err() != nil:
		s.log.WarnContext(ctx, "telegram reply cancelled by shutdown; left for the next start",
			"command", cmd, "chat_id", req.ChatID, "update_id", req.UpdateID)
		return resultAborted
	case err != nil:
		s.m.Replies.WithLabelValues(replyFailed).Inc()
		s.failed.Add(1)
		s.log.ErrorContext(ctx, "telegram reply failed", "command", cmd, "chat_id", req.ChatID,
			"update_id", req.UpdateID, "err", err)
		return resultRefused
	case done.After(deadline):
		s.m.Replies.WithLabelValues(replyLate).Inc()
		s.late.Add(1)
	default:
		s.m.Replies.WithLabelValues(replySent).Inc()
		s.sent.Add(1)
	}
	s.m.CommandDuration.WithLabelValues(cmd).Observe(done.Sub(req.Received).Seconds())
	return resultAnswered
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sendReply sends a photo with its caption, or the text split into
// messages. A caption too long for Telegram follows the photo as text.
func (s *sender) sendReply(ctx context.Context, req modules.Request, reply modules.Reply, deadline time.Time) error {
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
		if err := s.sendOne(ctx, req, deadline, func(ctx context.Context, plain bool) error {
			if plain {
				p.Caption, p.ParseMode = StripHTML(p.Caption), ""
			}
			return s.api.SendPhoto(ctx, p)
		}); err != nil {
			return fmt.Errorf("send photo: %w", err)
		}
	}
	for i, chunk := range SplitHTML(text, MaxMessageLen) {
		if strings.TrimSpace(StripHTML(chunk)) == "" {
			continue // Telegram rejects an empty message
		}
		msg := OutMessage{ChatID: req.ChatID, Text: chunk, ParseMode: parseModeHTML}
		if err := s.sendOne(ctx, req, deadline, func(ctx context.Context, plain bool) error {
			if plain {
				msg.Text, msg.ParseMode = StripHTML(msg.Text), ""
			}
			return s.api.SendMessage(ctx, msg)
		}); err != nil {
			return fmt.Errorf("send message part %d: %w", i+1, err)
		}
	}
	return nil
}

// sendOne waits on our limiters, then calls send, retrying a 429 after
// retry_after while the deadline allows and, once, as plain text when
// Telegram cannot parse our HTML.
func (s *sender) sendOne(ctx context.Context, req modules.Request, deadline time.Time, send func(ctx context.Context, plain bool) error) error {
	if err := s.pace(ctx, req); err != nil {
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
			s.m.TelegramRetryWait.Add(time.Since(start).Seconds())
			if !ok {
				return fmt.Errorf("waiting to retry: %w", ctx.Err())
			}
		case apiErr.Code == 400 && !plain && strings.Contains(strings.ToLower(apiErr.Description), "can't parse entities"):
			s.log.WarnContext(ctx, "telegram rejected reply HTML, resending as plain text",
				"command", s.labels.label(req.Command), "err", err)
			plain = true
		default:
			return err
		}
	}
}

// pace waits on the chat's limiter, then the global one, so a slow chat
// does not hold a global token while it waits.
func (s *sender) pace(ctx context.Context, req modules.Request) error {
	start := time.Now()
	defer func() { s.m.OutboundWait.Add(time.Since(start).Seconds()) }()
	if err := s.chats.get(req.ChatID, req.ChatType != "private").Wait(ctx); err != nil {
		return fmt.Errorf("chat rate limit: %w", err)
	}
	if err := s.global.Wait(ctx); err != nil {
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
