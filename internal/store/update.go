package store

import "time"

// Update is one journaled Telegram update.
type Update struct {
	ID       int64  // Telegram update_id (the journal's primary key)
	ChatID   int64  // 0 when the update has no chat
	Body     []byte // the raw update JSON as received
	Received time.Time
}

// Outcome is a settled state of a journal entry.
type Outcome string

// Settled states.
const (
	Answered Outcome = "answered" // reply accepted by Telegram, or nothing to send
	Failed   Outcome = "failed"   // failed for good (400/403, or gave up)
	Expired  Outcome = "expired"  // older than journal.max_age at replay: not answered
	Skipped  Outcome = "skipped"  // body no longer decodes
)
