package telegram

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
)

// Update sources, the "source" label of m.UpdatesReceived.
const (
	sourceWebhook = "webhook"
	sourcePolling = "polling"
	sourceDirect  = "direct"
)

// IntakeSources are the values this package records in the "source" label
// of the updates-received metric.
func IntakeSources() []string { return []string{sourceWebhook, sourcePolling, sourceDirect} }

// Intake outcomes, the "outcome" label of m.UpdatesReceived.
const (
	outcomeAccepted     = "accepted"
	outcomeDuplicate    = "duplicate"
	outcomeUnauthorized = "unauthorized"
	outcomeTooLarge     = "too_large"
	outcomeMalformed    = "malformed"
	outcomeQueueFull    = "queue_full"
	outcomeIgnored      = "ignored"
	outcomeUnavailable  = "unavailable"   // not started yet, or shutting down
	outcomeJournalError = "journal_error" // the journal could not commit it
)

// IntakeOutcomes are the values of the "outcome" label of the
// updates-received metric.
func IntakeOutcomes() []string {
	return []string{outcomeAccepted, outcomeDuplicate, outcomeUnauthorized, outcomeTooLarge, outcomeMalformed,
		outcomeQueueFull, outcomeIgnored, outcomeUnavailable, outcomeJournalError}
}

// Errors from Enqueue.
var (
	ErrQueueFull  = errors.New("telegram: update queue full")
	ErrDuplicate  = errors.New("telegram: duplicate update")
	ErrNotRunning = errors.New("telegram: pipeline not running")
)

// Enqueue offers an update to the pipeline, as the webhook and the poller
// do; it is counted under source "direct". It returns nil when the update is
// journaled and queued or deliberately ignored (not a message, not for us,
// group chatter), ErrDuplicate for an update_id already journaled,
// ErrQueueFull when the queue is full (offer it again later), ErrNotRunning
// before Start or after Shutdown began, and the journal's error when it
// could not commit the update.
func (b *Bot) Enqueue(u Update) error {
	a := b.admit(context.Background(), sourceDirect, []Update{u}, time.Now())
	switch a.outcome {
	case outcomeDuplicate:
		return ErrDuplicate
	case outcomeQueueFull:
		return ErrQueueFull
	case outcomeUnavailable:
		return ErrNotRunning
	case outcomeJournalError:
		return fmt.Errorf("telegram: enqueue: %w", a.err)
	}
	return nil
}

// admission is what admit did with a batch.
type admission struct {
	consumed int             // how many of the batch were dealt with, from the front
	outcome  string          // the first update's outcome
	room     <-chan struct{} // consumed == 0 for a full queue: closed when a slot frees
	err      error           // the journal's error (outcome journal_error)
}

// admit journals and queues the front of us, as many as the queue has room
// for, and counts each update. An update is journaled (committed) before it
// is queued, and is queued only if the journal has not seen its update_id:
// the journal's key is the deduplication. Ignored updates are neither
// journaled nor queued. Slots are reserved first, so a full queue costs no
// journal write and memory stays bounded; on a journal error nothing is
// consumed, and the caller offers the batch again later.
func (b *Bot) admit(ctx context.Context, source string, us []Update, received time.Time) admission {
	type offered struct {
		req    modules.Request
		wanted bool
	}
	offers := make([]offered, len(us))
	n := 0
	for i, u := range us {
		offers[i].req, offers[i].wanted = b.request(u, received)
		if offers[i].wanted {
			n++
		}
	}
	got, open, room := b.q.reserve(n)
	if !open {
		b.count(source, outcomeUnavailable, len(us))
		return admission{outcome: outcomeUnavailable}
	}
	// The front that fits: everything before the (got+1)-th wanted update.
	end, k := len(us), 0
	batch := make([]store.Update, 0, got)
	for i, u := range us {
		if !offers[i].wanted {
			continue
		}
		if k == got {
			end = i
			break
		}
		k++
		// Never before Start: replay takes older entries for a previous run's.
		batch = append(batch, store.Update{ID: u.UpdateID, ChatID: offers[i].req.ChatID, Body: u.body(), Received: later(received, b.started)})
	}
	if end == 0 {
		b.count(source, outcomeQueueFull, 1)
		return admission{outcome: outcomeQueueFull, room: room}
	}
	var fresh []bool
	if len(batch) > 0 {
		var err error
		fresh, err = b.journal.Append(ctx, batch)
		if err == nil && len(fresh) != len(batch) {
			err = fmt.Errorf("journal answered %d results for %d updates", len(fresh), len(batch))
		}
		if err != nil {
			msg := err.Error()
			b.journalErr.Store(&msg)
			b.q.release(got)
			b.tm.journalErrors.WithLabelValues(opAppend).Inc()
			b.count(source, outcomeJournalError, len(batch))
			b.log.WarnContext(ctx, "telegram journal append failed; updates not acknowledged", "source", source,
				"count", len(batch), "err", err)
			return admission{outcome: outcomeJournalError, err: err}
		}
	}
	if len(batch) > 0 {
		b.journalErr.Store(nil)
	}
	a := admission{consumed: end}
	j := 0
	for i := range end {
		outcome := outcomeIgnored
		if offers[i].wanted {
			outcome = b.queueJournaled(offers[i].req, fresh[j])
			j++
		}
		if i == 0 {
			a.outcome = outcome
		}
		b.count(source, outcome, 1)
	}
	return a
}

// queueJournaled queues a journaled update into its reserved slot, unless
// the journal already had it.
func (b *Bot) queueJournaled(req modules.Request, fresh bool) string {
	switch {
	case !fresh:
		b.q.release(1)
		return outcomeDuplicate
	case !b.q.push(item{req: req}):
		return outcomeUnavailable // shutting down: it waits in the journal for the next start
	}
	b.updateQueueGauges()
	return outcomeAccepted
}

// count records n updates with one outcome.
func (b *Bot) count(source, outcome string, n int) {
	b.m.UpdatesReceived.WithLabelValues(source, outcome).Add(float64(n))
	var c *atomic.Uint64
	switch outcome {
	case outcomeAccepted:
		c = &b.stats.accepted
	case outcomeDuplicate:
		c = &b.stats.duplicate
	case outcomeQueueFull:
		c = &b.stats.queueFull
	case outcomeIgnored:
		c = &b.stats.ignored
	case outcomeUnauthorized, outcomeTooLarge, outcomeMalformed:
		c = &b.stats.rejected
	default:
		return
	}
	c.Add(uint64(n))
}

// MaxCallbackData is the longest callback_data Telegram lets a button
// carry; a press with more is forged and ignored.
const MaxCallbackData = 64

// request turns an update into a Request, or reports that the bot ignores
// it. Button presses, inline queries and changes of the bot's membership
// are taken whole (the router and features validate the callback data);
// of messages, the bot ignores anything but text, messages from bots, a
// command addressed to another bot, and non-command text outside private
// chats. Plain text in a private chat goes to the handler with an empty
// Command, so the user gets a hint.
func (b *Bot) request(u Update, received time.Time) (modules.Request, bool) {
	switch {
	case u.CallbackQuery != nil:
		return pressRequest(u.UpdateID, u.CallbackQuery, received)
	case u.InlineQuery != nil:
		q := u.InlineQuery
		return modules.Request{UpdateID: u.UpdateID, ChatID: q.From.ID, UserID: q.From.ID, ChatType: "private",
			Lang: q.From.LanguageCode, Received: received,
			Inline: &modules.InlineQuery{ID: q.ID, Query: q.Query, ChatType: q.ChatType}}, !q.From.IsBot
	case u.MyChatMember != nil:
		c := u.MyChatMember
		return modules.Request{UpdateID: u.UpdateID, ChatID: c.Chat.ID, UserID: c.From.ID, ChatType: c.Chat.Type,
			Lang: c.From.LanguageCode, Received: received,
			Member: &modules.MemberChange{Old: c.Old.Status, New: c.New.Status}}, true
	}
	msg := u.Message
	if msg == nil || msg.Text == "" || (msg.From != nil && msg.From.IsBot) {
		return modules.Request{}, false // other bots are ignored: two bots could loop forever
	}
	cmd, args, kind := parseCommand(msg.Text, b.botUsername())
	switch {
	case kind == cmdOtherBot:
		return modules.Request{}, false
	case kind == cmdNone && msg.Chat.Type != "private":
		return modules.Request{}, false
	}
	req := modules.Request{
		UpdateID:  u.UpdateID,
		ChatID:    msg.Chat.ID,
		ChatType:  msg.Chat.Type,
		Command:   cmd,
		Args:      args,
		Received:  received,
		MessageID: msg.MessageID,
		ThreadID:  msg.thread(),
	}
	if msg.From != nil {
		req.UserID = msg.From.ID
		req.Lang = msg.From.LanguageCode
	}
	return req, true
}

// thread is the forum topic a message is in: message_thread_id also marks
// reply threads outside forums, which a send must not name.
func (m *Message) thread() int64 {
	if !m.IsTopicMessage {
		return 0
	}
	return m.MessageThreadID
}

// pressRequest takes a button press on a message of ours. A press without
// data (a game), with more data than a button can hold, or on a message
// sent in inline mode (the bot puts no buttons there) is ignored.
func pressRequest(id int64, q *CallbackQuery, received time.Time) (modules.Request, bool) {
	if q.Data == "" || len(q.Data) > MaxCallbackData || q.Message == nil || q.From.IsBot {
		return modules.Request{}, false
	}
	m := q.Message
	req := modules.Request{UpdateID: id, ChatID: m.Chat.ID, UserID: q.From.ID, ChatType: m.Chat.Type,
		Lang: q.From.LanguageCode, Received: received, MessageID: m.MessageID, ThreadID: m.thread(),
		Callback: &modules.Callback{ID: q.ID, Data: q.Data, MessageID: m.MessageID}}
	if m.Date == 0 {
		req.Callback.MessageID = 0 // an InaccessibleMessage: deleted, or too old to be given
	}
	return req, true
}
