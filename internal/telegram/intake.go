package telegram

import (
	"time"

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
	outcomeUnavailable  = "unavailable" // not started yet, or shutting down
)

// IntakeOutcomes are the values of the "outcome" label of the
// updates-received metric.
func IntakeOutcomes() []string {
	return []string{outcomeAccepted, outcomeDuplicate, outcomeUnauthorized, outcomeTooLarge, outcomeMalformed,
		outcomeQueueFull, outcomeIgnored, outcomeUnavailable}
}

// Enqueue offers an update to the pipeline, as the webhook and the poller
// do; it is counted under source "direct". It returns nil when the update is
// queued or deliberately ignored (not a message, not for us, group chatter),
// ErrDuplicate for an update_id seen recently, ErrQueueFull when the queue is
// full (offer it again later) and ErrNotRunning before Start or after
// Shutdown began.
func (b *Bot) Enqueue(u Update) error {
	return outcomeErr(b.enqueue(u, sourceDirect, time.Now()))
}

func outcomeErr(outcome string) error {
	switch outcome {
	case outcomeDuplicate:
		return ErrDuplicate
	case outcomeQueueFull:
		return ErrQueueFull
	case outcomeUnavailable:
		return ErrNotRunning
	}
	return nil
}

// enqueue classifies, deduplicates and queues one update, and counts it.
func (b *Bot) enqueue(u Update, source string, received time.Time) string {
	outcome := b.admit(u, received)
	b.m.UpdatesReceived.WithLabelValues(source, outcome).Inc()
	switch outcome {
	case outcomeAccepted:
		b.stats.accepted.Add(1)
		b.updateQueueGauges()
	case outcomeDuplicate:
		b.stats.duplicate.Add(1)
	case outcomeQueueFull:
		b.stats.queueFull.Add(1)
	case outcomeIgnored:
		b.stats.ignored.Add(1)
	}
	return outcome
}

func (b *Bot) admit(u Update, received time.Time) string {
	// A slot first: a full queue must not remember the update as seen, so
	// Telegram's redelivery gets in.
	n, open := b.q.reserve(1)
	switch {
	case !open:
		return outcomeUnavailable
	case n == 0:
		return outcomeQueueFull
	}
	req, ok := b.request(u, received)
	switch {
	case !ok:
		b.q.release(1)
		return outcomeIgnored
	case !b.seen.add(u.UpdateID):
		b.q.release(1)
		return outcomeDuplicate
	case !b.q.push(item{req: req}):
		return outcomeUnavailable
	}
	return outcomeAccepted
}

// request turns an update into a Request, or reports that the bot ignores
// it: anything but a text message, a message from a bot, a command
// addressed to another bot, and non-command text outside private chats. Plain text in a private chat goes
// to the handler with an empty Command, so the user gets a hint.
func (b *Bot) request(u Update, received time.Time) (modules.Request, bool) {
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
		UpdateID: u.UpdateID,
		ChatID:   msg.Chat.ID,
		ChatType: msg.Chat.Type,
		Command:  cmd,
		Args:     args,
		Received: received,
	}
	if msg.From != nil {
		req.UserID = msg.From.ID
		req.Lang = msg.From.LanguageCode
	}
	return req, true
}
