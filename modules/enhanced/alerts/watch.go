package alerts

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// fetchers bounds the market calls one command makes at a time.
const fetchers = 8

// each calls f(ctx, i) for i in [0, n), at most fetchers at a time, and
// returns when all have.
func (m *Module) each(ctx context.Context, n int, f func(ctx context.Context, i int)) {
	sem := make(chan struct{}, fetchers)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(ctx, i)
		})
	}
	wg.Wait()
}

// pairsOf parses the symbols of /watch or /unwatch and resolves them as
// spot pairs; msg is the reply when they do not parse or one does not
// resolve (nothing is stored then).
func (m *Module) pairsOf(ctx context.Context, parse func([]string) ([]string, error), args []string) (names []string, msg string) {
	syms, err := parse(args)
	if err != nil {
		if ue, ok := errors.AsType[*rule.UsageError](err); ok {
			return nil, ue.Text()
		}
		return nil, err.Error()
	}
	for _, s := range syms {
		p, err := m.mkt.Resolve(ctx, s, market.Spot)
		if err != nil {
			return nil, reply.MarketError(s, err)
		}
		names = append(names, p.String())
	}
	return names, ""
}

func (m *Module) watch(ctx context.Context, req modules.Request) (modules.Reply, error) {
	names, msg := m.pairsOf(ctx, rule.ParseWatch, req.Args)
	if msg != "" {
		return text(msg)
	}
	added, err := m.st.Watch(ctx, req.ChatID, names, m.cfg.MaxWatch)
	switch {
	case errors.Is(err, store.ErrLimit):
		return text("⚠️ A watchlist holds at most " + strconv.Itoa(m.cfg.MaxWatch) +
			" pairs per chat; nothing was added. Remove some with <code>/unwatch SYMBOL</code>.")
	case err != nil:
		return modules.Reply{}, fmt.Errorf("alerts: watch: %w", err)
	}
	if added == 0 {
		return text("Already watching " + html.EscapeString(strings.Join(names, ", ")) + ".")
	}
	return text("👀 Watching " + html.EscapeString(strings.Join(names, ", ")) + ". <code>/watchlist</code> shows them.")
}

func (m *Module) unwatch(ctx context.Context, req modules.Request) (modules.Reply, error) {
	names, msg := m.pairsOf(ctx, rule.ParseUnwatch, req.Args)
	if msg != "" {
		return text(msg)
	}
	n, err := m.st.Unwatch(ctx, req.ChatID, names)
	if err != nil {
		return modules.Reply{}, fmt.Errorf("alerts: unwatch: %w", err)
	}
	if n == 0 {
		return text("None of these is on the watchlist.")
	}
	return text("Stopped watching " + strconv.Itoa(n) + " of " + strconv.Itoa(len(names)) + " pairs.")
}

func (m *Module) watchlist(ctx context.Context, req modules.Request) (modules.Reply, error) {
	t, err := m.watchTable(ctx, req.ChatID)
	if err != nil {
		return modules.Reply{}, err
	}
	if t == "" {
		return text("The watchlist is empty. Add pairs with <code>/watch btc eth</code>.")
	}
	return text(t)
}

// watchTable is the chat's watchlist as one <pre> table, every pair's
// ticker and funding fetched concurrently (fetchers pairs at a time); "" for an empty watchlist.
func (m *Module) watchTable(ctx context.Context, chat int64) (string, error) {
	names, err := m.st.Watchlist(ctx, chat)
	if err != nil {
		return "", fmt.Errorf("alerts: watchlist: %w", err)
	}
	if len(names) == 0 {
		return "", nil
	}
	n := len(names)
	pairs := make([]market.Pair, n)
	for i, name := range names {
		base, quote, _ := strings.Cut(name, "-")
		pairs[i] = market.Pair{Base: base, Quote: quote}
	}
	ticks := make([]market.Result[market.Ticker], n)
	funds := make([]market.Result[market.Funding], n)
	m.each(ctx, 2*n, func(ctx context.Context, i int) {
		if i < n {
			ticks[i].Value, ticks[i].Err = m.mkt.Ticker(ctx, pairs[i])
		} else {
			funds[i-n].Value, funds[i-n].Err = m.mkt.Funding(ctx, pairs[i-n])
		}
	})
	rows := make([][]string, 0, n+1)
	rows = append(rows, []string{"Pair", "Last", "24h", "Funding"})
	for i, name := range names {
		row := []string{name, "–", "–", "–"} // what the market does not say
		if t := ticks[i]; t.Err == nil {
			row[1], row[2] = format.Price(t.Value.Last), format.Percent(t.Value.ChangePct, 2)
		}
		if f := funds[i]; f.Err == nil {
			row[3] = format.Percent(f.Value.Rate*100, 4) + "/" + format.Duration(f.Value.Interval)
		}
		rows = append(rows, row)
	}
	return "<b>Watchlist</b>\n<pre>" + html.EscapeString(reply.Table(rows)) + "</pre>", nil
}

func (m *Module) digest(ctx context.Context, req modules.Request) (modules.Reply, error) {
	args := req.Args
	if len(args) == 1 && !strings.EqualFold(args[0], "off") {
		// No zone given: the chat's /settings zone, else UTC.
		if cs, err := m.st.ChatSettings(ctx, req.ChatID); err == nil && cs.Zone != "" {
			args = []string{args[0], cs.Zone}
		}
	}
	d, err := rule.ParseDigest(args)
	if err != nil {
		return usageOr(err)
	}
	if d.Off {
		if err := m.st.DeleteDigest(ctx, req.ChatID); err != nil {
			return modules.Reply{}, fmt.Errorf("alerts: digest off: %w", err)
		}
		return text("Daily digest off.")
	}
	now := m.now()
	// LastSent is the schedule's baseline: the first digest comes at the next HH:MM.
	row := DigestRow{ChatID: req.ChatID, Hour: d.Hour, Minute: d.Minute, Zone: d.Zone, LastSent: now}
	if err := m.st.SetDigest(ctx, row); err != nil {
		return modules.Reply{}, fmt.Errorf("alerts: digest: %w", err)
	}
	next := d.Next(now).In(d.Loc)
	return text(fmt.Sprintf("📰 Daily digest at %02d:%02d %s: the watchlist and the alerts fired in the last 24 h. Next: %s.",
		d.Hour, d.Minute, html.EscapeString(d.Zone), html.EscapeString(next.Format("Mon Jan 2 15:04 MST"))))
}

// digestText is one chat's digest: the watchlist table and the alerts that
// fired in the 24 h before now.
func (m *Module) digestText(ctx context.Context, chat int64, now time.Time, loc *time.Location) (string, error) {
	table, err := m.watchTable(ctx, chat)
	if err != nil {
		return "", err
	}
	rows, err := m.st.Alerts(ctx, chat)
	if err != nil {
		return "", fmt.Errorf("alerts: digest alerts: %w", err)
	}
	var fired []string
	for _, row := range rows {
		a, err := fromRow(row)
		if err != nil || a.LastFired.IsZero() || now.Sub(a.LastFired) > 24*time.Hour {
			continue
		}
		fired = append(fired, html.EscapeString("#"+strconv.FormatInt(a.ID, 10)+" "+rule.Describe(a.Pair.String(), a.Rule)+
			" — fired "+a.LastFired.In(loc).Format("Jan 2 15:04 MST")))
	}
	parts := []string{"📰 <b>Daily digest</b> · " + html.EscapeString(now.In(loc).Format("Mon Jan 2"))}
	if table != "" {
		parts = append(parts, table)
	}
	if len(fired) > 0 {
		parts = append(parts, "<b>Fired in the last 24 h</b>\n"+strings.Join(fired, "\n"))
	} else {
		parts = append(parts, "No alert fired in the last 24 h.")
	}
	return strings.Join(parts, "\n\n"), nil
}
