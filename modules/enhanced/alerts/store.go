package alerts

import (
	"context"
	"errors"
	"time"
)

// The row types of the store's alert API (BRIEF addendum, internal/store).
// They mirror internal/store until it lands on main; then they become
// aliases of the store's own types and nothing else here changes.
type (
	// AlertRow is one alert as the store keeps it; Rule and Status are JSON.
	AlertRow struct {
		ID, ChatID int64
		Pair       string
		Kind       string
		State      string
		Rule       []byte
		Status     []byte
		Created    time.Time
		Expires    time.Time
	}
	// AlertUpdate is a status change that is not a firing.
	AlertUpdate struct {
		ID     int64
		State  string
		Status []byte
	}
	// Firing is one alert's state change and outbound message, stored together.
	Firing struct {
		AlertID int64
		Trigger string
		State   string
		Status  []byte
		Message OutMessage
	}
	// OutMessage is one outbox row.
	OutMessage struct {
		ID       int64
		ChatID   int64
		Text     string
		Silent   bool
		Created  time.Time
		Attempts int
	}
	// DigestRow is one chat's daily digest schedule.
	DigestRow struct {
		ChatID       int64
		Hour, Minute int
		Zone         string
		LastSent     time.Time
	}
)

// errLimit is the store's ErrLimit: a per-chat or global limit refused a write.
var errLimit = errors.New("store: limit reached")

// Store is the part of the store the module uses.
type Store interface {
	CreateAlert(ctx context.Context, a AlertRow, perChat, global int) (int64, error)
	Alerts(ctx context.Context, chatID int64) ([]AlertRow, error)
	LiveAlerts(ctx context.Context) ([]AlertRow, error)
	DeleteAlerts(ctx context.Context, chatID int64, ids ...int64) (int, error)
	UpdateAlerts(ctx context.Context, us []AlertUpdate) error
	Fire(ctx context.Context, fs []Firing) ([]bool, error)
	Enqueue(ctx context.Context, m OutMessage, trigger string) (bool, error)
	OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error)

	Watch(ctx context.Context, chatID int64, pairs []string, limit int) (int, error)
	Unwatch(ctx context.Context, chatID int64, pairs []string) (int, error)
	Watchlist(ctx context.Context, chatID int64) ([]string, error)

	SetDigest(ctx context.Context, d DigestRow) error
	DeleteDigest(ctx context.Context, chatID int64) error
	Digests(ctx context.Context) ([]DigestRow, error)
	MarkDigestSent(ctx context.Context, chatID int64, at time.Time) error
}
