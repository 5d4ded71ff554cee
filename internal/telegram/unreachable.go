package telegram

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// Reasons a chat is unreachable, the "reason" label of the unreachable and
// skipped-reply metrics.
const (
	reasonBlocked      = "blocked"        // 403: the user blocked the bot, or it was removed
	reasonChatNotFound = "chat_not_found" // 400: the chat is gone
	reasonRateLimited  = "rate_limited"   // 429 whose retry_after passes the reply deadline
)

// UnreachableReasons are the values of the "reason" label of the
// unreachable-chat and skipped-reply metrics.
func UnreachableReasons() []string {
	return []string{reasonBlocked, reasonChatNotFound, reasonRateLimited}
}

// errRetryTooLate is a 429 whose retry_after is beyond the reply deadline.
type errRetryTooLate struct {
	wait time.Duration
	err  error
}

func (e *errRetryTooLate) Error() string {
	return "retry after " + e.wait.String() + " would pass the reply deadline: " + e.err.Error()
}

func (e *errRetryTooLate) Unwrap() error { return e.err }

// refusal classifies a send error: the reason the chat cannot be reached,
// and until when for a rate limit ("" when the error is not a refusal).
func refusal(err error, now time.Time) (reason string, until time.Time) {
	if late, ok := errors.AsType[*errRetryTooLate](err); ok {
		return reasonRateLimited, now.Add(late.wait)
	}
	apiErr, ok := errors.AsType[*Error](err)
	switch {
	case !ok:
		return "", time.Time{}
	case apiErr.Code == 403:
		return reasonBlocked, time.Time{}
	case apiErr.Code == 400 && strings.Contains(strings.ToLower(apiErr.Description), "chat not found"):
		return reasonChatNotFound, time.Time{}
	}
	return "", time.Time{}
}

// unreachable remembers, in a bounded LRU, the chats Telegram refused. A
// refused chat stays marked until it writes again (an update received after
// the mark); a rate-limited one until its retry_after has passed.
type unreachable struct {
	mu    sync.Mutex
	marks *lru[int64, mark]
}

type mark struct {
	reason string
	at     time.Time // when it was marked
	until  time.Time // rate limits only: when sends may resume
}

// ChatStates is where refusals outlive the process: the store's chats.
type ChatStates interface {
	SetChatBlocked(ctx context.Context, chatID int64, blocked bool) error
	BlockedChats(ctx context.Context, limit int) ([]int64, error)
}

// lasting reports whether a refusal for reason holds until the chat
// writes again (a rate limit ends by itself), so it is worth storing.
func lasting(reason string) bool { return reason == reasonBlocked || reason == reasonChatNotFound }

func newUnreachable(size int) *unreachable {
	return &unreachable{marks: newLRU[int64, mark](size)}
}

// skip reports whether a reply to chat, for an update received at
// received, must not be sent, and why. A mark the chat has outlived is
// forgotten, and its reason returned as forgot.
func (u *unreachable) skip(chat int64, received, now time.Time) (reason string, skip bool, forgot string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	mk, ok := u.marks.get(chat)
	if !ok {
		return "", false, ""
	}
	expired := received.After(mk.at)
	if !mk.until.IsZero() {
		expired = !now.Before(mk.until)
	}
	if expired {
		u.marks.remove(chat)
		return "", false, mk.reason
	}
	return mk.reason, true, ""
}

// mark remembers chat as unreachable and reports whether this is news
// (not already marked for this reason), so it is logged once.
func (u *unreachable) mark(chat int64, reason string, at, until time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	old, known := u.marks.get(chat)
	u.marks.put(chat, mark{reason: reason, at: at, until: until})
	return !known || old.reason != reason
}

func (u *unreachable) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.marks.len()
}
