package alerts

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

func text(s string) (modules.Reply, error) { return modules.Reply{Text: s}, nil }

// usageOr answers bad input with its usage; any other error is the bot's.
func usageOr(err error) (modules.Reply, error) {
	if ue, ok := errors.AsType[*rule.UsageError](err); ok {
		return text(ue.Text())
	}
	return modules.Reply{}, err
}

// alert is /alert: parse, resolve, check against the market now, store
// within the limits, hand to the runner, acknowledge.
func (m *Module) alert(ctx context.Context, req modules.Request) (modules.Reply, error) {
	if msg := m.mayChange(ctx, req); msg != "" {
		return text(msg)
	}
	r, err := rule.Parse(req.Args)
	if err != nil {
		return usageOr(err)
	}
	pair, msg := m.resolveFor(ctx, r)
	if msg != "" {
		return text(msg)
	}
	now := m.reading(ctx, pair, r)
	if err := rule.CheckLevel(r, now.Value); err != nil {
		return usageOr(err)
	}
	a := rule.NewAlert(0, req.ChatID, pair, r, m.now())
	row, err := toRow(a)
	if err != nil {
		return modules.Reply{}, fmt.Errorf("alerts: %w", err)
	}
	id, err := m.st.CreateAlert(ctx, row, m.cfg.MaxPerChat, m.cfg.MaxGlobal)
	switch {
	case errors.Is(err, store.ErrLimit):
		return text(m.limitText(err))
	case err != nil:
		return modules.Reply{}, fmt.Errorf("alerts: create: %w", err)
	}
	a.ID = id
	m.met.created.WithLabelValues(r.Kind.String()).Inc()
	o := op{add: &a}
	if !r.Kind.IsFunding() && r.Kind != rule.OIMove {
		o.seed = now.Value
	}
	m.send(o)
	return text(rule.Ack(id, pair.String(), r, now))
}

// Replies of the group permission check.
const (
	adminsOnlyText = "🛡 In this group only administrators can set and delete alerts (<code>/settings</code>)."
	noAdminCheck   = "Could not check your admin rights just now. Please try again."
)

// mayChange is "" when req's sender may set and delete alerts in its chat:
// anyone, except in a group whose /settings say admins, where the sender
// must be an administrator (getChatMember, cached). Otherwise it is the
// reply. A settings read that fails lets the change through: the default
// is anyone, and a refusal the group did not ask for is worse.
func (m *Module) mayChange(ctx context.Context, req modules.Request) string {
	if req.ChatType != "group" && req.ChatType != "supergroup" {
		return ""
	}
	cs, err := m.st.ChatSettings(ctx, req.ChatID)
	if err != nil || cs.AlertsBy != settingAdmins {
		return ""
	}
	if m.admins == nil {
		return noAdminCheck
	}
	ok, err := m.admins.IsAdmin(ctx, req.ChatID, req.UserID)
	switch {
	case err != nil:
		m.log.WarnContext(ctx, "alerts: admin check failed", "err", err)
		return noAdminCheck
	case !ok:
		return adminsOnlyText
	}
	return ""
}

// settingAdmins is store.ChatSettings.AlertsBy for "administrators only"
// (settings.AlertsByAdmins; the core module is not imported here).
const settingAdmins = "admins"

// resolveFor resolves the rule's symbol: a perpetual for funding and open
// interest, spot otherwise. msg is the reply when it does not resolve.
func (m *Module) resolveFor(ctx context.Context, r rule.Rule) (market.Pair, string) {
	kind := market.Spot
	if r.Kind.IsFunding() || r.Kind == rule.OIMove {
		kind = market.Perp
	}
	pair, err := m.mkt.Resolve(ctx, r.Symbol, kind)
	if err == nil {
		return pair, ""
	}
	if kind == market.Perp && errors.Is(err, market.ErrUnknownSymbol) {
		if spot, serr := m.mkt.Resolve(ctx, r.Symbol, market.Spot); serr == nil {
			what := "Funding"
			if r.Kind == rule.OIMove {
				what = "Open-interest"
			}
			return pair, "<code>" + html.EscapeString(spot.String()) + "</code> trades spot only: " + what +
				" alerts need a perpetual. Price alerts work: <code>/alert " + html.EscapeString(strings.ToLower(spot.Base)) + " above PRICE</code>"
		}
	}
	return pair, reply.MarketError(r.Symbol, err)
}

// reading is the market's value for r now, or a zero Reading when the
// venues do not answer (the alert is still set; the absurd-level check
// needs a price and is skipped).
func (m *Module) reading(ctx context.Context, pair market.Pair, r rule.Rule) rule.Reading {
	switch {
	case r.Kind.IsFunding():
		f, err := m.fundingOn(ctx, pair, r.Venue)
		if err != nil {
			return rule.Reading{}
		}
		return rule.Reading{Value: f.Rate, Venue: f.Venue, Interval: f.Interval}
	case r.Kind == rule.OIMove:
		oi, err := m.mkt.OpenInterest(ctx, pair)
		if err != nil {
			return rule.Reading{}
		}
		return rule.Reading{Value: oi.USD, Venue: oi.Venue}
	}
	t, err := m.mkt.Ticker(ctx, pair)
	if err != nil {
		return rule.Reading{}
	}
	return rule.Reading{Value: t.Last, Venue: t.Venue}
}

// fundingOn is the funding on the named venue, or from the failover.
func (m *Module) fundingOn(ctx context.Context, pair market.Pair, venue string) (market.Funding, error) {
	if venue == "" {
		return m.mkt.Funding(ctx, pair)
	}
	for _, v := range m.mkt.Venues() {
		if v.Name() == venue {
			return v.Funding(ctx, pair)
		}
	}
	return market.Funding{}, market.ErrUnavailable
}

// limitText names the limit CreateAlert refused.
func (m *Module) limitText(err error) string {
	if le, ok := errors.AsType[*store.LimitError](err); ok && le.Limit == store.LimitGlobal {
		return "⚠️ The bot holds the most alerts it can (" + strconv.Itoa(m.cfg.MaxGlobal) + " in all chats). Please try again later."
	}
	return "⚠️ This chat has " + strconv.Itoa(m.cfg.MaxPerChat) + " alerts, the limit per chat. " +
		"Delete some with <code>/unalert ID</code> (<code>/alerts</code> lists them)."
}

// unalert is /unalert ID…|all. It deletes only this chat's alerts and says
// "no such alert" for any other id, whether it exists elsewhere or not.
func (m *Module) unalert(ctx context.Context, req modules.Request) (modules.Reply, error) {
	u, err := rule.ParseUnalert(req.Args)
	if err != nil {
		return usageOr(err)
	}
	if msg := m.mayChange(ctx, req); msg != "" {
		if req.Callback != nil {
			return modules.Reply{Text: msg, Toast: toast(msg)}, nil
		}
		return text(msg)
	}
	rows, err := m.st.Alerts(ctx, req.ChatID)
	if err != nil {
		return modules.Reply{}, fmt.Errorf("alerts: list: %w", err)
	}
	mine := make(map[int64]bool, len(rows))
	for _, r := range rows {
		mine[r.ID] = true
	}
	var del, missing []int64
	if u.All {
		for _, r := range rows {
			del = append(del, r.ID)
		}
	} else {
		for _, id := range u.IDs {
			if mine[id] {
				del = append(del, id)
			} else {
				missing = append(missing, id)
			}
		}
	}
	if len(del) > 0 {
		if _, err := m.st.DeleteAlerts(ctx, req.ChatID, del...); err != nil {
			return modules.Reply{}, fmt.Errorf("alerts: delete: %w", err)
		}
		m.send(op{remove: del})
	}
	done := unalertText(u.All, del, missing)
	if req.Callback == nil {
		return text(done)
	}
	// A ❌ under /alerts: redraw the list in place, the outcome as a toast.
	rep, err := m.list(ctx, req)
	rep.Toast = toast(done)
	return rep, err
}

// toast is a reply's first line as plain text, short enough for a toast.
func toast(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s = html.UnescapeString(strings.NewReplacer("<code>", "", "</code>", "").Replace(s))
	if r := []rune(s); len(r) > 190 {
		s = string(r[:190]) + "…"
	}
	return s
}

func unalertText(all bool, del, missing []int64) string {
	var parts []string
	switch {
	case all && len(del) == 0:
		return "This chat has no alerts."
	case all:
		parts = append(parts, "🗑 Deleted all "+strconv.Itoa(len(del))+" alerts of this chat.")
	case len(del) == 1:
		parts = append(parts, "🗑 Deleted alert "+ids(del)+".")
	case len(del) > 1:
		parts = append(parts, "🗑 Deleted alerts "+ids(del)+".")
	}
	if len(missing) > 0 {
		parts = append(parts, "No such alert in this chat: "+ids(missing)+". <code>/alerts</code> lists them.")
	}
	return strings.Join(parts, "\n")
}

func ids(v []int64) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = "#" + strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// list is /alerts: every alert of this chat with its state and the market now.
func (m *Module) list(ctx context.Context, req modules.Request) (modules.Reply, error) {
	rows, err := m.st.Alerts(ctx, req.ChatID)
	if err != nil {
		return modules.Reply{}, fmt.Errorf("alerts: list: %w", err)
	}
	if len(rows) == 0 {
		return modules.Reply{Text: "No alerts in this chat. Set one with <code>/alert btc above 98k</code>.",
			Buttons: callback.Keyboard(callback.Refresh("alerts"))}, nil
	}
	// With the flag off here the runner holds this chat's alerts paused,
	// while the store keeps them as they were to resume them.
	paused := !m.on(ctx, req.ChatID)
	as := make([]rule.Alert, 0, len(rows))
	for _, row := range rows {
		a, err := fromRow(row)
		if err != nil {
			m.log.WarnContext(ctx, "alerts: unreadable alert row", "err", err)
			continue
		}
		if paused && a.State.Live() {
			a.State = rule.Paused
		}
		as = append(as, a)
	}
	readings := make([]rule.Reading, len(as))
	m.each(ctx, len(as), func(ctx context.Context, i int) {
		if as[i].State.Live() {
			readings[i] = m.reading(ctx, as[i].Pair, as[i].Rule)
		}
	})
	now := m.now()
	lines := make([]string, 0, len(as)+1)
	lines = append(lines, "<b>Alerts</b>")
	for i, a := range as {
		lines = append(lines, rule.ListLine(a, readings[i], now, nil))
	}
	return modules.Reply{Text: strings.Join(lines, "\n"), Buttons: listButtons(as)}, nil
}

// listButtons is /alerts' keyboard: Refresh, then a ❌ per alert, four to a
// row (Telegram allows 100 buttons; the per-chat limit is 50 alerts).
func listButtons(as []rule.Alert) [][]modules.Button {
	rows := [][]modules.Button{callback.Refresh("alerts")}
	var row []modules.Button
	for _, a := range as {
		id := strconv.FormatInt(a.ID, 10)
		if b, ok := callback.Button("❌ #"+id, "unalert", id); ok {
			row = append(row, b)
		}
		if len(row) == 4 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return callback.Keyboard(rows...)
}
