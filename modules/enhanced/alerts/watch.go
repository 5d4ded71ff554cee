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
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// fetchers bounds the market calls one command makes at a time.
const fetchers = 8

// each calls f(ctx, i) for i in [0, n), at most fetchers at a time, and
// returns when all have.
func each(ctx context.Context, n int, f func(ctx context.Context, i int)) {
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

// resolveAll resolves spot symbols; msg is the reply for the first that
// does not resolve (nothing is stored then).
func (m *Module) resolveAll(ctx context.Context, syms []string) (names []string, msg string) {
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
	syms, err := rule.ParseWatch(req.Args)
	if err != nil {
		return usageOr(err)
	}
	names, msg := m.resolveAll(ctx, syms)
	if msg != "" {
		return text(msg)
	}
	added, err := m.st.Watch(ctx, req.ChatID, names, m.cfg.MaxWatch)
	switch {
	case errors.Is(err, errLimit):
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
	syms, err := rule.ParseUnwatch(req.Args)
	if err != nil {
		return usageOr(err)
	}
	names, msg := m.resolveAll(ctx, syms)
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
	rows := make([][]string, len(names)+1)
	rows[0] = []string{"Pair", "Last", "24h", "Funding"}
	each(ctx, len(names), func(ctx context.Context, i int) { rows[i+1] = m.watchRow(ctx, names[i]) })
	return "<b>Watchlist</b>\n<pre>" + html.EscapeString(reply.Table(rows)) + "</pre>", nil
}

// watchRow is one pair's row: last, 24 h change and funding, each "–"
// when the market does not say.
func (m *Module) watchRow(ctx context.Context, name string) []string {
	row := []string{name, "–", "–", "–"}
	base, quote, _ := strings.Cut(name, "-")
	p := market.Pair{Base: base, Quote: quote}
	tick := market.Start(ctx, func(ctx context.Context) (market.Ticker, error) { return m.mkt.Ticker(ctx, p) })
	fund := market.Start(ctx, func(ctx context.Context) (market.Funding, error) { return m.mkt.Funding(ctx, p) })
	if t, err := tick.Wait(ctx); err == nil {
		row[1], row[2] = format.Price(t.Last), format.Percent(t.ChangePct, 2)
	}
	if f, err := fund.Wait(ctx); err == nil {
		row[3] = format.Percent(f.Rate*100, 4) + "/" + format.Duration(f.Interval)
	}
	return row
}

func (m *Module) digest(ctx context.Context, req modules.Request) (modules.Reply, error) {
	d, err := rule.ParseDigest(req.Args)
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
