package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ChatSettings are one chat's preferences (modules/core/settings); empty
// strings and false are the defaults.
type ChatSettings struct {
	Quote   string
	Zone    string
	Numbers string
	Compact bool
	Silent  bool
	// AlertsBy is who may set and delete alerts in a group: "" anyone,
	// "admins" its administrators.
	AlertsBy string
}

// settingsQuery is ChatSettings' query, prepared at Open.
const settingsQuery = "SELECT quote, zone, numbers, compact, silent, alerts_by FROM chat_settings WHERE chat_id = $1"

// ChatSettings returns the chat's settings, the zero value when it has none.
// Settings are chat state: timed and counted as the "chats" operation.
func (s *Store) ChatSettings(ctx context.Context, chatID int64) (cs ChatSettings, err error) {
	defer s.m.observe(opChats, time.Now(), &err)
	err = s.settingsRead.QueryRowContext(ctx, chatID).Scan(&cs.Quote, &cs.Zone, &cs.Numbers, &cs.Compact, &cs.Silent, &cs.AlertsBy)
	if errors.Is(err, sql.ErrNoRows) {
		return ChatSettings{}, nil
	}
	if err != nil {
		return ChatSettings{}, s.wrap("chat settings", err)
	}
	return cs, nil
}

// SetChatSettings stores the chat's settings, replacing any before.
func (s *Store) SetChatSettings(ctx context.Context, chatID int64, cs ChatSettings) (err error) {
	defer s.m.observe(opChats, time.Now(), &err)
	err = s.write(ctx, false, false, func(ex execer) error {
		_, err := ex.ExecContext(ctx, `INSERT INTO chat_settings (chat_id, quote, zone, numbers, compact, silent, alerts_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (chat_id) DO UPDATE SET quote = excluded.quote, zone = excluded.zone, numbers = excluded.numbers,
				compact = excluded.compact, silent = excluded.silent, alerts_by = excluded.alerts_by, updated_at = excluded.updated_at`,
			chatID, cs.Quote, cs.Zone, cs.Numbers, cs.Compact, cs.Silent, cs.AlertsBy, s.d.time(time.Now()))
		return err
	})
	if err != nil {
		return s.wrap("set chat settings", err)
	}
	return nil
}
