package telegram

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// Callback outcomes, the "outcome" label of the callbacks metric.
const (
	callbackAnswered    = "answered"
	callbackRateLimited = "rate_limited" // over the per-user press limit: "Slow down", no handler call
	callbackLate        = "late"         // answered at the deadline while the handler was still busy
	callbackExpired     = "expired"      // Telegram no longer takes an answer: query too old
	callbackFailed      = "failed"
)

// CallbackOutcomes are the values of the "outcome" label of the callbacks metric.
func CallbackOutcomes() []string {
	return []string{callbackAnswered, callbackRateLimited, callbackLate, callbackExpired, callbackFailed}
}

// Inline query outcomes, the "outcome" label of the inline queries metric.
const (
	inlineAnswered = "answered"
	inlineEmpty    = "empty" // answered with no results, and the hint
	inlineExpired  = "expired"
	inlineFailed   = "failed"
)

// InlineOutcomes are the values of the "outcome" label of the inline queries metric.
func InlineOutcomes() []string {
	return []string{inlineAnswered, inlineEmpty, inlineExpired, inlineFailed}
}

// Edit outcomes, the "outcome" label of the edits metric.
const (
	editOK          = "ok"
	editNotModified = "not_modified" // same content: the message is already up to date
	editTooOld      = "too_old"      // deleted, too old or otherwise not editable
	editFailed      = "failed"
)

// EditOutcomes are the values of the "outcome" label of the edits metric.
func EditOutcomes() []string { return []string{editOK, editNotModified, editTooOld, editFailed} }

// Toasts the transport shows on its own account.
const (
	ToastUpToDate = "Already up to date"
	ToastTooOld   = "This message is too old to update. Send the command again."
	ToastFailed   = "Could not update it. Try again."
	ToastSlowDown = "Slow down a little."
	// InlineHint is the button over an empty inline answer; it opens the
	// private chat with "/start inline".
	InlineHint = "Nothing found. Open the bot"
)

// Telegram's limits on answers.
const (
	maxToastLen        = 200
	maxInlineResults   = 50
	maxInlineCacheTime = 10 * time.Second // prices must not be served stale
	// answerTimeout bounds an answer made after the work context ended, so
	// the client's spinner still stops.
	answerTimeout = 2 * time.Second
	// interactiveMaxAge is how old a press or inline query may be at replay:
	// Telegram takes no answer to older ones, and the user has moved on.
	interactiveMaxAge = 30 * time.Second
	pressUsers        = 10000 // users whose press limiters are remembered
)

// presses limits button presses per user, so a user hammering Refresh
// costs the upstream nothing beyond its cache.
type presses struct {
	limit rate.Limit
	burst int

	mu sync.Mutex
	m  *lru[int64, *rate.Limiter]
}

func newPresses(perSecond float64, burst int) *presses {
	return &presses{limit: rate.Limit(perSecond), burst: burst, m: newLRU[int64, *rate.Limiter](pressUsers)}
}

func (p *presses) allow(user int64, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.m.get(user)
	if !ok {
		l = rate.NewLimiter(p.limit, p.burst)
		p.m.put(user, l)
	}
	return l.AllowN(now, 1)
}

// pressAnswer answers one callback query exactly once: by the worker with
// its toast, or by a timer at the reply deadline if the handler is still
// busy then, because the client's spinner must stop.
type pressAnswer struct {
	s     *sender
	ctx   context.Context
	id    string
	once  sync.Once
	timer *time.Timer
}

func (s *sender) answerBy(ctx context.Context, id string, deadline time.Time) *pressAnswer {
	a := &pressAnswer{s: s, ctx: ctx, id: id}
	a.timer = time.AfterFunc(time.Until(deadline), func() { a.answer("", callbackLate) })
	return a
}

// answer sends the answer unless it went already. Only the worker that
// made a touches a.timer (the timer may fire before answerBy returns).
func (a *pressAnswer) answer(toast, outcome string) {
	a.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(a.ctx), answerTimeout)
		defer cancel()
		err := a.s.api.AnswerCallbackQuery(ctx, CallbackAnswer{ID: a.id, Text: shorten(toast, maxToastLen)})
		switch {
		case err == nil:
		case queryTooOld(err):
			outcome = callbackExpired
		default:
			outcome = callbackFailed
			a.s.log.WarnContext(a.ctx, "telegram answerCallbackQuery failed", "err", err)
		}
		a.s.tm.callbacks.WithLabelValues(outcome).Inc()
	})
}

// processPress handles a button press: over the user's limit it is only
// answered; otherwise the handler runs, its reply edits the pressed message
// (or is sent anew), and the query is answered with the toast, also when
// the handler failed or Shutdown cut it short.
func (b *Bot) processPress(ctx context.Context, req modules.Request) result {
	if !b.presses.allow(req.UserID, time.Now()) {
		ans := b.out.answerBy(ctx, req.Callback.ID, time.Now().Add(answerTimeout))
		ans.answer(ToastSlowDown, callbackRateLimited)
		ans.timer.Stop()
		return resultAnswered
	}
	deadline := req.Received.Add(b.cfg.ReplyTimeout)
	ans := b.out.answerBy(ctx, req.Callback.ID, deadline)
	reply, ok := b.call(ctx, req)
	res, toast := resultAnswered, reply.Toast
	switch {
	case ctx.Err() != nil:
		res = resultAborted
	case !ok:
	case reply.Edit && hasContent(reply):
		toast = b.out.edit(ctx, req, reply, deadline, toast)
	case hasContent(reply):
		res = b.out.deliver(ctx, req, reply, deadline)
	}
	ans.answer(toast, callbackAnswered)
	ans.timer.Stop()
	if res == resultAborted {
		return resultAnswered // answered: a press is not worth replaying
	}
	return res
}

func hasContent(r modules.Reply) bool {
	return r.Photo != nil || strings.TrimSpace(StripHTML(r.Text)) != ""
}

// edit replaces the pressed message with reply and returns the toast: the
// reply's, or the note for an edit that changed nothing or cannot be made.
// Text beyond one message (or a caption) is cut: an edit is one message.
func (s *sender) edit(ctx context.Context, req modules.Request, reply modules.Reply, deadline time.Time, toast string) string {
	outcome := editTooOld
	if req.Callback.MessageID != 0 {
		d := &delivery{req: req, chat: req.ChatID, deadline: deadline}
		kb := keyboard(reply.Buttons)
		var err error
		if reply.Photo != nil {
			e := EditPhoto{MessageID: req.Callback.MessageID, PNG: reply.Photo, Keyboard: kb}
			if e.Caption = firstPart(reply.Text, MaxCaptionLen); e.Caption != "" {
				e.ParseMode = parseModeHTML
			}
			err = s.sendOne(ctx, d, func(ctx context.Context, chat int64, plain bool) error {
				e.ChatID = chat
				if plain {
					e.Caption, e.ParseMode = StripHTML(e.Caption), ""
				}
				return s.api.EditMessagePhoto(ctx, e)
			})
		} else {
			e := EditText{MessageID: req.Callback.MessageID, Text: firstPart(reply.Text, MaxMessageLen), ParseMode: parseModeHTML, Keyboard: kb}
			err = s.sendOne(ctx, d, func(ctx context.Context, chat int64, plain bool) error {
				e.ChatID = chat
				if plain {
					e.Text, e.ParseMode = StripHTML(e.Text), ""
				}
				return s.api.EditMessageText(ctx, e)
			})
		}
		outcome = editOutcome(err)
		if outcome == editFailed {
			s.log.WarnContext(ctx, "telegram edit failed", "chat_id", req.ChatID, "update_id", req.UpdateID, "err", err)
		}
	}
	s.tm.edits.WithLabelValues(outcome).Inc()
	switch outcome {
	case editNotModified:
		return ToastUpToDate
	case editTooOld:
		return ToastTooOld
	case editFailed:
		return ToastFailed
	}
	return toast
}

// editOutcome classifies an edit's error by Telegram's description.
func editOutcome(err error) string {
	apiErr, ok := errors.AsType[*Error](err)
	switch {
	case err == nil:
		return editOK
	case !ok || apiErr.Code != 400:
		return editFailed
	}
	desc := strings.ToLower(apiErr.Description)
	switch {
	case strings.Contains(desc, "message is not modified"):
		return editNotModified
	case strings.Contains(desc, "message to edit not found"), strings.Contains(desc, "message can't be edited"),
		strings.Contains(desc, "there is no text in the message"), strings.Contains(desc, "there is no media in the message"):
		return editTooOld
	}
	return editFailed
}

// queryTooOld reports Telegram's refusal of a late or repeated answer.
func queryTooOld(err error) bool {
	apiErr, ok := errors.AsType[*Error](err)
	return ok && apiErr.Code == 400 && strings.Contains(strings.ToLower(apiErr.Description), "query is too old")
}

// processInline answers an inline query, always: with the handler's
// results (at most 50, cached at most 10 s), or with none and a hint that
// opens the private chat.
func (b *Bot) processInline(ctx context.Context, req modules.Request) result {
	reply, ok := b.call(ctx, req)
	if ctx.Err() != nil {
		return resultAborted
	}
	a := InlineAnswer{ID: req.Inline.ID}
	if in := reply.Inline; ok && in != nil {
		for _, r := range in.Results[:min(len(in.Results), maxInlineResults)] {
			a.Results = append(a.Results, InlineArticle{ID: r.ID, Title: r.Title, Description: r.Description,
				Text: r.Text, ParseMode: parseModeHTML})
		}
		a.CacheTime = int(min(max(in.CacheTime, 0), maxInlineCacheTime) / time.Second)
		a.Personal, a.ButtonText, a.ButtonStart = in.Personal, in.Hint, in.HintStart
	}
	outcome := inlineAnswered
	if len(a.Results) == 0 {
		outcome = inlineEmpty
		if a.ButtonText == "" {
			a.ButtonText = InlineHint
		}
	}
	if a.ButtonText != "" && a.ButtonStart == "" {
		a.ButtonStart = "inline"
	}
	actx, cancel := context.WithDeadline(ctx, later(req.Received.Add(b.cfg.ReplyTimeout), time.Now().Add(answerTimeout)))
	defer cancel()
	err := b.api.AnswerInlineQuery(actx, a)
	switch {
	case err == nil:
	case queryTooOld(err):
		outcome = inlineExpired
	default:
		outcome = inlineFailed
		b.log.WarnContext(ctx, "telegram answerInlineQuery failed", "update_id", req.UpdateID, "err", err)
	}
	b.tm.inline.WithLabelValues(outcome).Inc()
	return resultAnswered
}

// keyboard converts the contract's buttons.
func keyboard(rows [][]modules.Button) Keyboard {
	if len(rows) == 0 {
		return nil
	}
	k := make(Keyboard, len(rows))
	for i, row := range rows {
		k[i] = make([]InlineButton, len(row))
		for j, b := range row {
			k[i][j] = InlineButton{Text: b.Text, CallbackData: b.Data, URL: b.URL}
		}
	}
	return k
}

// firstPart is the part of HTML text that fits in limit.
func firstPart(text string, limit int) string {
	if parts := SplitHTML(text, limit); len(parts) > 0 {
		return parts[0]
	}
	return ""
}

// shorten cuts plain text to n characters.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// tooOldToReplay reports a press or inline query that waited in the
// journal longer than Telegram takes answers.
func tooOldToReplay(u Update, su store.Update) bool {
	return (u.CallbackQuery != nil || u.InlineQuery != nil) && time.Since(su.Received) > interactiveMaxAge
}
