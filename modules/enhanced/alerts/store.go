package alerts

import (
	"context"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// The store's row types, by the names this package uses.
type (
	AlertRow    = store.AlertRow
	AlertUpdate = store.AlertUpdate
	Firing      = store.Firing
	OutMessage  = store.OutMessage
	DigestRow   = store.DigestRow
	Settings    = store.ChatSettings
)

var _ Store = (*store.Store)(nil)

// Store is the part of the store the module uses.
type Store interface {
	CreateAlert(ctx context.Context, a AlertRow, perChat, global int) (int64, error)
	Alerts(ctx context.Context, chatID int64) ([]AlertRow, error)
	LiveAlerts(ctx context.Context) ([]AlertRow, error)
	LiveAlertsSince(ctx context.Context, since time.Time) ([]AlertRow, error)
	DeleteAlerts(ctx context.Context, chatID int64, ids ...int64) (int, error)
	UpdateAlerts(ctx context.Context, us []AlertUpdate) error
	Fire(ctx context.Context, fs []Firing) ([]bool, error)
	Enqueue(ctx context.Context, m OutMessage, trigger string) (bool, error)

	Watch(ctx context.Context, chatID int64, pairs []string, limit int) (int, error)
	Unwatch(ctx context.Context, chatID int64, pairs []string) (int, error)
	Watchlist(ctx context.Context, chatID int64) ([]string, error)

	SetDigest(ctx context.Context, d DigestRow) error
	DeleteDigest(ctx context.Context, chatID int64) error
	Digests(ctx context.Context) ([]DigestRow, error)
	MarkDigestSent(ctx context.Context, chatID int64, at time.Time) error

	ChatSettings(ctx context.Context, chatID int64) (Settings, error) // /settings: Silent alerts
}
