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
	"github.com/cryptobot-dev/cryptobot/internal/tick"
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
// deadline allows. It remembers the chats Telegram refused and follows a
// group that became a supergroup. It is safe for concurrent use.
type sender struct {
	api          API
	replyTimeout time.Duration
	rate         Rate // the whole bot token's limits; this replica's share of them applies
	global       *rate.Limiter
	chats        *chatLimiters
	gone         *unreachable
	refusals     ChatStates // nil: refusals live in gone only
	onMigrate    func(from, to int64)
	m            *metrics.Metrics
	tm           *transportMetrics
	log          *slog.Logger
	labels       commandLabels

	sent, late, failed atomic.Uint64
}

func newSender(api API, cfg Config, labels commandLabels, m *metrics.Metrics, tm *transportMetrics, log *slog.Logger) *sender {
	return &sender{
		api:          api,
		replyTimeout: cfg.ReplyTimeout,
		rate:         cfg.Rate,
		global:       rate.NewLimiter(rate.Limit(cfg.Rate.Global), cfg.Rate.GlobalBurst),
		chats:        newChatLimiters(cfg.Rate),
		gone:         newUnreachable(cfg.UnreachableSize),
		refusals:     cfg.Chats,
		onMigrate:    cfg.OnMigrate,
		m:            m,
		tm:           tm,
		log:          log,
		labels:       labels,
	}
}

// delivery is one reply on its way: the chat it goes to follows a
// migration to a supergroup, once.
type delivery struct {
	req      modules.Request
	chat     int64
	deadline time.Time
	migrated bool
}

// deliver sends one reply and counts it: sent, late (after deadline) or
// failed. Our own pacing may push a reply past the deadline (it is then
// late), but never more than ReplyTimeout past it; Telegram's 429s are
// retried only while the deadline allows. A reply that is empty or only
// whitespace sends and counts nothing; one to a chat known to be
// unreachable is skipped and counted as such.
func (s *sender) deliver(ctx context.Context, req modules.Request, reply modules.Reply, deadline time.Time) result {
	if !hasContent(reply) {
		return resultAnswered // nothing to send; Telegram rejects an empty message
	}
	reason, skip, forgot := s.gone.skip(req.ChatID, req.Received, time.Now())
	if skip {
		s.tm.skipped.WithLabelValues(reason).Inc()
		return resultRefused
	}
	if lasting(forgot) {
		s.storeRefusal(ctx, req.ChatID, false) // it wrote again: it is back
	}
	sctx, cancel := context.WithDeadline(ctx, later(deadline, time.Now()).Add(s.replyTimeout))
	defer cancel()
	err := s.sendReply(sctx, &delivery{req: req, chat: req.ChatID, deadline: deadline}, reply)
	done := time.Now()
	cmd := s.labels.label(req.Command)
	if err != nil && ctx.Err() != nil {
		s.log.WarnContext(ctx, "telegram reply cancelled by shutdown; left for the next start",
			"command", cmd, "chat_id", req.ChatID, "update_id", req.UpdateID)
		return resultAborted
	}
	if err != nil {
		return s.refusedOrFailed(ctx, req, cmd, err, done)
	}
	if done.After(deadline) {
		s.m.Replies.WithLabelValues(replyLate).Inc()
		s.late.Add(1)
	} else {
		s.m.Replies.WithLabelValues(replySent).Inc()
		s.sent.Add(1)
	}
	s.m.CommandDuration.WithLabelValues(cmd).Observe(done.Sub(req.Received).Seconds())
	return resultAnswered
}

// failed counts a reply that did not go out. A refusal (blocked, chat not
// found, a rate limit beyond the deadline) marks the chat unreachable and
// is logged at WARN once per chat and reason; anything else is an ERROR.
func (s *sender) refusedOrFailed(ctx context.Context, req modules.Request, cmd string, err error, now time.Time) result {
	reason, until := refusal(err, now)
	if reason == reasonRateLimited {
		s.m.Replies.WithLabelValues(replyLate).Inc()
		s.late.Add(1)
	} else {
		s.m.Replies.WithLabelValues(replyFailed).Inc()
		s.failed.Add(1)
	}
	if reason == "" {
		s.log.ErrorContext(ctx, "telegram reply failed", "command", cmd, "chat_id", req.ChatID,
			"update_id", req.UpdateID, "err", err)
		return resultRefused
	}
	s.tm.unreachable.WithLabelValues(reason).Inc()
	if s.gone.mark(req.ChatID, reason, now, until) {
		s.log.WarnContext(ctx, "telegram chat unreachable; skipping sends to it until it writes again",
			"reason", reason, "chat_id", req.ChatID, "update_id", req.UpdateID, "err", err)
		if lasting(reason) {
			s.storeRefusal(ctx, req.ChatID, true)
		}
	}
	return resultRefused
}

// storeRefusal records in the store that chat refused the bot or came
// back, which also pauses or resumes its alerts and digest. A failure is
// logged: the in-memory mark still holds for this process.
func (s *sender) storeRefusal(ctx context.Context, chat int64, blocked bool) {
	if s.refusals == nil {
		return
	}
	if err := s.refusals.SetChatBlocked(ctx, chat, blocked); err != nil {
		s.log.WarnContext(ctx, "telegram chat refusal not stored", "chat_id", chat, "blocked", blocked, "err", err)
	}
}

// recall marks the chats the store holds as blocked, as of at, so a new
// process does not try each of them once more. A marked chat that writes
// after at is tried again.
func (s *sender) recall(ctx context.Context, at time.Time, limit int) {
	if s.refusals == nil {
		return
	}
	ids, err := s.refusals.BlockedChats(ctx, limit)
	if err != nil {
		s.log.WarnContext(ctx, "telegram blocked chats not loaded; each is tried once more", "err", err)
		return
	}
	for _, id := range ids {
		s.gone.mark(id, reasonBlocked, at, time.Time{})
	}
	if len(ids) > 0 {
		s.log.InfoContext(ctx, "telegram blocked chats loaded", "count", len(ids))
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sendReply sends a photo with its caption, or the text split into
// messages. A caption too long for Telegram follows the photo as text.
// The first message replies to the command, every one goes to its forum
// topic, and the last carries the keyboard.
func (s *sender) sendReply(ctx context.Context, d *delivery, reply modules.Reply) error {
	text := reply.Text
	var chunks []string
	for _, chunk := range SplitHTML(text, MaxMessageLen) {
		if strings.TrimSpace(StripHTML(chunk)) != "" { // Telegram rejects an empty message
			chunks = append(chunks, chunk)
		}
	}
	parts, n := len(chunks), 0
	next := func() Send {
		o := Send{ThreadID: d.req.ThreadID, Silent: reply.Silent}
		if n == 0 && d.req.Callback == nil {
			o.ReplyTo = d.req.MessageID // a press's message is ours: no reply to it
		}
		if n++; n == parts {
			o.Keyboard = keyboard(reply.Buttons)
		}
		return o
	}
	if reply.Photo != nil {
		caption := text
		if visibleLen(caption) > MaxCaptionLen {
			caption = ""
		} else {
			chunks = nil
		}
		parts = len(chunks) + 1
		p := OutPhoto{PNG: reply.Photo, Caption: caption, Send: next()}
		if caption != "" {
			p.ParseMode = parseModeHTML
		}
		if err := s.sendOne(ctx, d, func(ctx context.Context, chat int64, plain bool) error {
			return s.api.SendPhoto(ctx, p.to(chat, plain))
		}); err != nil {
			return fmt.Errorf("send photo: %w", err)
		}
	}
	for i, chunk := range chunks {
		msg := OutMessage{Text: chunk, ParseMode: parseModeHTML, Send: next()}
		if err := s.sendOne(ctx, d, func(ctx context.Context, chat int64, plain bool) error {
			return s.api.SendMessage(ctx, msg.to(chat, plain))
		}); err != nil {
			return fmt.Errorf("send message part %d: %w", i+1, err)
		}
	}
	return nil
}

// to addresses m to chat, as plain text if plain.
func (m OutMessage) to(chat int64, plain bool) OutMessage {
	m.ChatID = chat
	if plain {
		m.Text, m.ParseMode = StripHTML(m.Text), ""
	}
	return m
}

// to addresses p to chat, with a plain-text caption if plain.
func (p OutPhoto) to(chat int64, plain bool) OutPhoto {
	p.ChatID = chat
	if plain {
		p.Caption, p.ParseMode = StripHTML(p.Caption), ""
	}
	return p
}

// sendOne waits on our limiters, then calls send, retrying a 429 after
// retry_after while the deadline allows, once as plain text when Telegram
// cannot parse our HTML, and once to the supergroup a group became.
func (s *sender) sendOne(ctx context.Context, d *delivery, send func(ctx context.Context, chat int64, plain bool) error) error {
	if err := s.pace(ctx, d.req); err != nil {
		return err
	}
	plain := false
	backoff := 100 * time.Millisecond
	for {
		err := send(ctx, d.chat, plain)
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
			if time.Now().Add(backoff).After(d.deadline) {
				return err
			}
			if !tick.Sleep(ctx, backoff) {
				return fmt.Errorf("waiting to retry: %w", ctx.Err())
			}
			backoff = min(2*backoff, time.Second)
		case apiErr.Code == 429:
			wait := apiErr.RetryAfter
			if wait <= 0 {
				wait = time.Second
			}
			if time.Now().Add(wait).After(d.deadline) {
				return &errRetryTooLate{wait: wait, err: err}
			}
			start := time.Now()
			ok := tick.Sleep(ctx, wait)
			s.m.TelegramRetryWait.Add(time.Since(start).Seconds())
			if !ok {
				return fmt.Errorf("waiting to retry: %w", ctx.Err())
			}
		case apiErr.MigrateTo != 0 && !d.migrated:
			s.migrate(ctx, d, apiErr.MigrateTo)
		case apiErr.Code == 400 && !plain && strings.Contains(strings.ToLower(apiErr.Description), "can't parse entities"):
			s.log.WarnContext(ctx, "telegram rejected reply HTML, resending as plain text",
				"command", s.labels.label(d.req.Command), "err", err)
			plain = true
		default:
			return err
		}
	}
}

// migrate points the rest of d at the supergroup its group became and
// tells the owner of chat state.
func (s *sender) migrate(ctx context.Context, d *delivery, to int64) {
	s.log.InfoContext(ctx, "telegram group became a supergroup; resending there",
		"chat_id", d.chat, "migrate_to_chat_id", to, "update_id", d.req.UpdateID)
	s.tm.migrations.Inc()
	if s.onMigrate != nil {
		s.onMigrate(d.chat, to)
	}
	d.chat, d.migrated = to, true
}

// pace waits on the chat's limiter, then the global one, so a slow chat
// does not hold a global token while it waits.
func (s *sender) pace(ctx context.Context, req modules.Request) error {
	start := time.Now()
	defer func() { s.m.OutboundWait.Add(time.Since(start).Seconds()) }()
	chat := s.chats.get(req.ChatID, req.ChatType != "private")
	if chat.Tokens() < 1 || s.global.Tokens() < 1 {
		s.tm.limitWaits.Inc()
	}
	if err := chat.Wait(ctx); err != nil {
		return fmt.Errorf("chat rate limit: %w", err)
	}
	if err := s.global.Wait(ctx); err != nil {
		return fmt.Errorf("global rate limit: %w", err)
	}
	return nil
}

// setShare makes this replica send at fraction f (0 < f ≤ 1) of the
// token's limits, its share when f = 1/peers: the limits are Telegram's per
// bot token, whichever replica sends. The global burst shrinks with it; a
// chat's burst does not (a reply in three parts still goes out at once),
// only its rate, so a chat's sustained rate holds across replicas.
func (s *sender) setShare(f float64) {
	f = min(max(f, 1e-3), 1)
	s.global.SetLimit(rate.Limit(s.rate.Global * f))
	s.global.SetBurst(max(1, int(float64(s.rate.GlobalBurst)*f)))
	s.chats.setShare(f)
	s.tm.limitShare.Set(f)
}

// chatLimiters holds one limiter per chat. A limiter whose bucket is full
// again is indistinguishable from a new one, so evicting it loses nothing:
// the map holds only chats active in the last few seconds.
type chatLimiters struct {
	base       Rate // the token's limits; rate and group are its share of them
	rate       rate.Limit
	burst      int
	group      rate.Limit
	groupBurst int

	mu sync.Mutex
	m  map[int64]*rate.Limiter
}

func newChatLimiters(r Rate) *chatLimiters {
	return &chatLimiters{
		base: r,
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

// setShare scales the chats' rates to fraction f of the token's limits,
// the live limiters' too.
func (c *chatLimiters) setShare(f float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	oldGroup := c.group
	c.rate, c.group = rate.Limit(c.base.PerChat*f), rate.Limit(c.base.PerGroup*f)
	for _, l := range c.m {
		if l.Limit() == oldGroup {
			l.SetLimit(c.group)
		} else {
			l.SetLimit(c.rate)
		}
	}
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
