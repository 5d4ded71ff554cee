package telegram

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Member cache defaults.
const (
	DefaultMemberTTL  = 5 * time.Minute
	defaultMemberSize = 10000
)

// MemberCache answers "is this user an admin here?" for features that
// restrict group settings to administrators, with getChatMember results
// kept for minutes in a bounded LRU, so a settings menu costs one call per
// user and TTL. Errors are not cached. It is safe for concurrent use.
type MemberCache struct {
	api interface {
		ChatMember(ctx context.Context, chat, user int64) (string, error)
	}
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries *lru[[2]int64, memberEntry]
}

type memberEntry struct {
	status string
	at     time.Time
}

// NewMemberCache caches api's ChatMember for ttl (0: DefaultMemberTTL),
// for at most size chat members (0: 10000).
func NewMemberCache(api API, ttl time.Duration, size int) *MemberCache {
	if ttl <= 0 {
		ttl = DefaultMemberTTL
	}
	if size <= 0 {
		size = defaultMemberSize
	}
	return &MemberCache{api: api, ttl: ttl, now: time.Now, entries: newLRU[[2]int64, memberEntry](size)}
}

// Status returns user's status in chat: creator, administrator, member,
// restricted, left or kicked.
func (c *MemberCache) Status(ctx context.Context, chat, user int64) (string, error) {
	key := [2]int64{chat, user}
	c.mu.Lock()
	e, ok := c.entries.get(key)
	c.mu.Unlock()
	if ok && c.now().Sub(e.at) < c.ttl {
		return e.status, nil
	}
	status, err := c.api.ChatMember(ctx, chat, user)
	if err != nil {
		return "", fmt.Errorf("telegram: chat member: %w", err)
	}
	c.mu.Lock()
	c.entries.put(key, memberEntry{status: status, at: c.now()})
	c.mu.Unlock()
	return status, nil
}

// IsAdmin reports whether user administers chat. In a private chat the
// user is its only member and counts as its admin, without a call.
func (c *MemberCache) IsAdmin(ctx context.Context, chat, user int64) (bool, error) {
	if chat == user {
		return true, nil
	}
	status, err := c.Status(ctx, chat, user)
	return status == "creator" || status == "administrator", err
}
