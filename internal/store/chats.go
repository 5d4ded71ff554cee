package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// lockChat makes sure the chat has its row and, on Postgres, locks it until
// the transaction ends: the writes that count a chat's rows against a limit
// take it first, so they count in turn.
func lockChat(ctx context.Context, ex execer, chatID int64) error {
	_, err := ex.ExecContext(ctx, `INSERT INTO chats (chat_id) VALUES ($1)
		ON CONFLICT (chat_id) DO UPDATE SET blocked = chats.blocked`, chatID)
	return err
}

// SetChatBlocked records that the chat blocked the bot (a 403, the bot
// kicked) or came back. Blocking pauses its armed and cooling alerts and its
// digest; unblocking re-arms the alerts the block paused (not those paused
// for another reason, such as the flag being off) and resumes the digest.
// Unblocking a chat that is not blocked reads and writes nothing more, so
// it can be called for every message a chat sends.
func (s *Store) SetChatBlocked(ctx context.Context, chatID int64, blocked bool) (err error) {
	if !blocked {
		if was, err := s.ChatBlocked(ctx, chatID); err != nil || !was {
			return err
		}
	}
	defer s.m.observe(opChats, time.Now(), &err)
	// Alert rows before the chat row, the order Fire locks them in.
	err = s.write(ctx, true, false, func(ex execer) error {
		q := "UPDATE alerts SET state = 'paused', block_paused = TRUE WHERE chat_id = $1 AND state IN ('armed', 'cooling')"
		if !blocked {
			q = "UPDATE alerts SET state = 'armed', block_paused = FALSE WHERE chat_id = $1 AND block_paused"
		}
		if _, err := ex.ExecContext(ctx, q, chatID); err != nil {
			return err
		}
		if _, err := ex.ExecContext(ctx, "UPDATE digests SET paused = $2 WHERE chat_id = $1", chatID, blocked); err != nil {
			return err
		}
		_, err := ex.ExecContext(ctx, `INSERT INTO chats (chat_id, blocked) VALUES ($1, $2)
			ON CONFLICT (chat_id) DO UPDATE SET blocked = excluded.blocked`, chatID, blocked)
		return err
	})
	if err != nil {
		return s.wrap("set chat blocked", err)
	}
	return nil
}

// ChatBlocked reports whether the chat is recorded as having blocked the bot.
func (s *Store) ChatBlocked(ctx context.Context, chatID int64) (blocked bool, err error) {
	defer s.m.observe(opChats, time.Now(), &err)
	err = s.r.QueryRowContext(ctx, "SELECT blocked FROM chats WHERE chat_id = $1", chatID).Scan(&blocked)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.wrap("chat blocked", err)
	}
	return blocked, nil
}

// MigrateChat moves everything the store keeps for chat from to chat to (a
// group that became a supergroup), in one transaction: alerts, unsent
// outbox messages, the watchlist (merged), the digest (unless to has one)
// and the blocked state.
func (s *Store) MigrateChat(ctx context.Context, from, to int64) (err error) {
	if from == to {
		return nil
	}
	defer s.m.observe(opChats, time.Now(), &err)
	err = s.write(ctx, true, false, func(ex execer) error {
		// Lock both chat rows, lower id first: two migrations never deadlock.
		for _, id := range []int64{min(from, to), max(from, to)} {
			if err := lockChat(ctx, ex, id); err != nil {
				return err
			}
		}
		both, only := []any{from, to}, []any{from}
		for _, st := range []struct {
			q    string
			args []any
		}{
			{"UPDATE alerts SET chat_id = $2 WHERE chat_id = $1", both},
			{"UPDATE outbox SET chat_id = $2 WHERE chat_id = $1 AND sent_at IS NULL AND failed_at IS NULL", both},
			{`INSERT INTO watchlist (chat_id, pair, position)
				SELECT $2, pair, position + COALESCE((SELECT MAX(position) FROM watchlist WHERE chat_id = $2), 0)
				FROM watchlist WHERE chat_id = $1 ON CONFLICT (chat_id, pair) DO NOTHING`, both},
			{"DELETE FROM watchlist WHERE chat_id = $1", only},
			{"UPDATE digests SET chat_id = $2 WHERE chat_id = $1 AND NOT EXISTS (SELECT 1 FROM digests WHERE chat_id = $2)", both},
			{"DELETE FROM digests WHERE chat_id = $1", only},
			{`UPDATE chats SET blocked = (SELECT blocked FROM chats WHERE chat_id = $1),
				live_alerts = live_alerts + (SELECT live_alerts FROM chats WHERE chat_id = $1) WHERE chat_id = $2`, both},
			{"DELETE FROM chats WHERE chat_id = $1", only},
		} {
			if _, err := ex.ExecContext(ctx, st.q, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.wrap("migrate chat", err)
	}
	return nil
}

// BlockedChats returns up to limit chats recorded as blocked, so a new
// process skips replies to them as the last one did.
func (s *Store) BlockedChats(ctx context.Context, limit int) (ids []int64, err error) {
	defer s.m.observe(opChats, time.Now(), &err)
	ids, err = queryAll(ctx, s.r, "SELECT chat_id FROM chats WHERE blocked ORDER BY chat_id LIMIT $1", []any{limit},
		func(rows *sql.Rows, id *int64) error { return rows.Scan(id) })
	if err != nil {
		return nil, s.wrap("blocked chats", err)
	}
	return ids, nil
}
