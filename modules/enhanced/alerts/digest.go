package alerts

import (
	"context"
	"strconv"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/tick"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// digestEvery is how often the digest loop looks for due digests.
const digestEvery = 30 * time.Second

// digestLoop sends the due digests every digestEvery until ctx ends. It is
// apart from the evaluation tick: a digest reads the market for a whole
// watchlist, which must not delay alerts.
func (m *Module) digestLoop(ctx context.Context) {
	tick.Every(ctx, digestEvery, func() { m.sendDueDigests(ctx, m.now()) })
}

// sendDueDigests enqueues every digest whose local time has come since it
// was last sent. The trigger digest:<chat>:<local date> makes it once a
// day even when a restart comes between the enqueue and MarkDigestSent.
// A digest is enhanced work like a command: while the memory guard sheds
// (or is busy) it is declined and stays due, sent on a later round once
// the guard admits it; in a chat whose alerts flag is off it is skipped
// for the day (marked sent), as the chat's alerts are paused.
func (m *Module) sendDueDigests(ctx context.Context, now time.Time) {
	rows, err := m.st.Digests(ctx)
	if err != nil {
		m.met.tickErrors.WithLabelValues("digest").Inc()
		return
	}
	zones := map[string]*time.Location{}
	for _, row := range rows {
		loc, ok := zones[row.Zone]
		if !ok {
			var err error
			if loc, err = time.LoadLocation(row.Zone); err != nil {
				loc = time.UTC // ParseDigest checked it; a zone gone from tzdata falls back
			}
			zones[row.Zone] = loc
		}
		d := rule.Digest{Hour: row.Hour, Minute: row.Minute, Zone: row.Zone, Loc: loc}
		due := d.Next(row.LastSent)
		if now.Before(due) {
			continue
		}
		if !m.on(ctx, row.ChatID) {
			if err := m.st.MarkDigestSent(ctx, row.ChatID, now); err != nil {
				m.met.tickErrors.WithLabelValues("digest").Inc()
			}
			continue
		}
		release, err := m.admit(perRequestBytes)
		if err != nil {
			m.met.digestsDeclined.Inc()
			continue
		}
		err = m.sendDigest(ctx, row.ChatID, due.In(loc).Format(time.DateOnly), now, loc)
		release()
		if err != nil {
			m.met.tickErrors.WithLabelValues("digest").Inc()
			m.log.WarnContext(ctx, "alerts: digest failed", "chat_id", row.ChatID, "err", err)
		}
	}
}

func (m *Module) sendDigest(ctx context.Context, chat int64, date string, now time.Time, loc *time.Location) error {
	body, err := m.digestText(ctx, chat, now, loc)
	if err != nil {
		return err
	}
	fresh, err := m.st.Enqueue(ctx, OutMessage{ChatID: chat, Text: body, Created: now}, "digest:"+strconv.FormatInt(chat, 10)+":"+date)
	if err != nil {
		return err
	}
	if fresh {
		m.met.digests.Inc()
	}
	return m.st.MarkDigestSent(ctx, chat, now)
}
