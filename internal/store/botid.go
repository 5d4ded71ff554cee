package store

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// BindBot records that the journal holds botID's updates. Update ids are
// per bot, so after a token switch to another bot the old rows would
// shadow the new bot's ids as duplicates and its updates would be lost:
// when the store belongs to another bot, BindBot deletes its journal (the
// other bot's unanswered updates cannot be answered with this token) and
// returns how many unanswered entries went with it. Nothing else is chat
// state of a bot, so alerts, settings and watchlists stay.
func (s *Store) BindBot(ctx context.Context, botID int64) (dropped int, err error) {
	defer s.m.observe(opBindBot, time.Now(), &err)
	want := strconv.FormatInt(botID, 10)
	err = s.write(ctx, true, false, func(ex execer) error {
		var have string
		switch err := queryRow(ctx, ex, "SELECT value FROM meta WHERE key = 'bot_id'", nil, &have); {
		case errors.Is(err, errNoRows):
			// A journal from before the key was kept is this bot's: the
			// binary that wrote it ran with one token per store.
		case err != nil:
			return err
		case have == want:
			return nil
		default:
			if err := queryRow(ctx, ex, "SELECT COUNT(*) FROM journal WHERE outcome IS NULL", nil, &dropped); err != nil {
				return err
			}
			if _, err := ex.ExecContext(ctx, "DELETE FROM journal"); err != nil {
				return err
			}
		}
		_, err := ex.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('bot_id', $1)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, want)
		return err
	})
	if err != nil {
		return 0, s.wrap("bind bot", err)
	}
	return dropped, nil
}
