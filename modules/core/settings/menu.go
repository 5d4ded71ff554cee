package settings

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
)

// Info describes core.settings; cmd/server builds it over the store and the
// member cache, and hands the same Service to /price.
func Info(s *Service) modules.Info {
	return modules.Info{ID: "core.settings", New: func(modules.Deps) (modules.Module, error) { return s, nil }}
}

// Commands implements modules.Module.
func (s *Service) Commands() []modules.Command {
	return []modules.Command{{
		Name: "settings", Usage: "/settings [tz Area/City]",
		Description: "This chat's settings: default quote, compact /price, number format, time zone, alerts",
		Handler:     modules.HandlerFunc(s.handle),
	}}
}

// Setting keys, as the buttons carry them: "1|settings|quote|USDC".
const (
	keyQuote    = "quote"
	keyPrice    = "price"
	keyNumbers  = "numbers"
	keyZone     = "tz"
	keySilent   = "alerts"
	keyAlertsBy = "alertsby"
)

// zones are the time zones the menu offers; /settings tz takes any other.
var zones = [...]struct{ label, zone string }{
	{"UTC", ""}, {"London", "Europe/London"}, {"Berlin", "Europe/Berlin"}, {"New York", "America/New_York"}, {"Singapore", "Asia/Singapore"},
}

// Replies of /settings.
const (
	usageText    = "Usage: <code>/settings</code> for the menu, <code>/settings tz Area/City</code> (an IANA time zone such as <code>Asia/Kolkata</code>), or in a group <code>/settings alertsby anyone|admins</code>."
	notAdminText = "Only the group's administrators can change its settings."
	noCheckText  = "Could not check your admin rights just now. Please try again."
	failedText   = "Could not save the setting. Please try again."
	savedToast   = "Saved"
)

func (s *Service) handle(ctx context.Context, req modules.Request) (modules.Reply, error) {
	cur := s.For(ctx, req.ChatID)
	if len(req.Args) == 0 {
		return s.menu(cur, req), nil
	}
	group := req.ChatType == "group" || req.ChatType == "supergroup"
	next, ok := apply(cur, req.Args)
	if !ok || req.Args[0] == keyAlertsBy && !group {
		return modules.Reply{Text: usageText}, nil
	}
	switch err := s.set(ctx, req.ChatID, req.UserID, group, next); {
	case errors.Is(err, errNotAdmin):
		return modules.Reply{Text: notAdminText}, nil
	case errors.Is(err, errAdminCheck):
		s.log.WarnContext(ctx, "settings admin check failed", "err", err)
		return modules.Reply{Text: noCheckText}, nil
	case err != nil:
		s.log.ErrorContext(ctx, "settings save failed", "err", err)
		return modules.Reply{Text: failedText}, nil
	}
	r := s.menu(next, req)
	r.Toast = savedToast
	return r, nil
}

// apply returns cur changed by "key value", false when either is unknown.
func apply(cur Settings, args []string) (Settings, bool) {
	if len(args) != 2 {
		return cur, false
	}
	v := args[1]
	switch args[0] {
	case keyQuote:
		v = strings.ToUpper(v)
		if !slices.Contains(quotes[:], v) {
			return cur, false
		}
		cur.Quote = v
		if v == DefaultQuote {
			cur.Quote = ""
		}
	case keyPrice:
		return cur, choose(v, "full", "compact", &cur.Compact)
	case keyNumbers:
		return cur, chooseWord(v, "en", NumbersEU, &cur.Numbers)
	case keySilent:
		return cur, choose(v, "sound", "silent", &cur.Silent)
	case keyAlertsBy:
		return cur, chooseWord(v, "anyone", AlertsByAdmins, &cur.AlertsBy)
	case keyZone:
		if strings.EqualFold(v, "utc") {
			cur.Zone = ""
			return cur, true
		}
		loc, err := time.LoadLocation(v)
		if err != nil || v == "" || v == "Local" {
			return cur, false
		}
		cur.Zone = loc.String()
	default:
		return cur, false
	}
	return cur, true
}

// choose sets *on to whether v is the on word of a two-way setting; false
// (and *on untouched) when v is neither word.
func choose(v, off, onWord string, on *bool) bool {
	if v != off && v != onWord {
		return false
	}
	*on = v == onWord
	return true
}

// chooseWord is choose for a setting stored as "" (the default, off) or the
// on word itself.
func chooseWord(v, off, onWord string, field *string) bool {
	var on bool
	if !choose(v, off, onWord, &on) {
		return false
	}
	*field = ""
	if on {
		*field = onWord
	}
	return true
}

// menu is the settings text and its keyboard, the current choices marked.
func (s *Service) menu(cur Settings, req modules.Request) modules.Reply {
	numbers, silent := "1,234.56", "with sound"
	if cur.Numbers == NumbersEU {
		numbers = "1.234,56"
	}
	if cur.Silent {
		silent = "silent"
	}
	zone, price := "UTC", "full"
	if cur.Zone != "" {
		zone = cur.Zone
	}
	if cur.Compact {
		price = "compact, one line"
	}
	var b strings.Builder
	b.WriteString("⚙️ <b>Settings for this chat</b>\n")
	b.WriteString("Default quote: <b>" + cur.DefaultQuoteOr() + "</b> (<code>/price btc</code> is BTC-" + cur.DefaultQuoteOr() + ")\n")
	b.WriteString("/price: <b>" + price + "</b>\n")
	b.WriteString("Numbers: <b>" + numbers + "</b>\n")
	b.WriteString("Time zone: <b>" + html.EscapeString(zone) + "</b> (any other: <code>/settings tz Area/City</code>)\n")
	b.WriteString("Alert notifications: <b>" + silent + "</b>")
	group := req.ChatType == "group" || req.ChatType == "supergroup"
	if group {
		by := "anyone"
		if cur.AlertsBy == AlertsByAdmins {
			by = "administrators only"
		}
		b.WriteString("\nAlerts set and deleted by: <b>" + by + "</b>")
		b.WriteString("\n<i>Only the group's administrators can change these.</i>")
	}
	choice := func(label, key, value string, on bool) modules.Button {
		if on {
			label = "• " + label
		}
		btn, _ := callback.Button(label, "settings", key, value) // every value here encodes
		return btn
	}
	var quoteRow, zoneRow []modules.Button
	for _, q := range quotes {
		quoteRow = append(quoteRow, choice(q, keyQuote, q, q == cur.DefaultQuoteOr()))
	}
	for _, z := range zones {
		value := z.zone
		if value == "" {
			value = "UTC"
		}
		zoneRow = append(zoneRow, choice(z.label, keyZone, value, z.zone == cur.Zone))
	}
	rows := [][]modules.Button{
		quoteRow,
		{choice("Full /price", keyPrice, "full", !cur.Compact), choice("Compact", keyPrice, "compact", cur.Compact)},
		{choice("1,234.56", keyNumbers, "en", cur.Numbers != NumbersEU), choice("1.234,56", keyNumbers, NumbersEU, cur.Numbers == NumbersEU)},
		zoneRow,
		{choice("🔔 Sound", keySilent, "sound", !cur.Silent), choice("🔕 Silent", keySilent, "silent", cur.Silent)},
	}
	if group {
		rows = append(rows, []modules.Button{choice("👥 Anyone sets alerts", keyAlertsBy, "anyone", cur.AlertsBy != AlertsByAdmins),
			choice("🛡 Admins set alerts", keyAlertsBy, AlertsByAdmins, cur.AlertsBy == AlertsByAdmins)})
	}
	return modules.Reply{Text: b.String(), Buttons: rows}
}

// Errors of set: a group member who is no administrator, and an admin
// check that could not be made (getChatMember failed).
var (
	errNotAdmin   = errors.New("settings: not a chat administrator")
	errAdminCheck = errors.New("settings: admin check")
)

// set stores a change made by user in chat, after the admin check in groups.
func (s *Service) set(ctx context.Context, chat, user int64, group bool, st Settings) error {
	if group {
		if s.admins == nil {
			return errAdminCheck // built without a member cache (console mode has no groups)
		}
		ok, err := s.admins.IsAdmin(ctx, chat, user)
		if err != nil {
			return fmt.Errorf("%w: %w", errAdminCheck, err)
		}
		if !ok {
			return errNotAdmin
		}
	}
	if err := s.st.SetChatSettings(ctx, chat, store.ChatSettings(st)); err != nil {
		return fmt.Errorf("settings: save: %w", err)
	}
	s.remember(chat, st, s.now())
	return nil
}
