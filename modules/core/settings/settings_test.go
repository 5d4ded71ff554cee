package settings

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/callback"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// memStore is a Store fake.
type memStore struct {
	mu    sync.Mutex
	rows  map[int64]store.ChatSettings
	reads int
	err   error
}

func (m *memStore) ChatSettings(_ context.Context, chat int64) (store.ChatSettings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	return m.rows[chat], m.err
}

func (m *memStore) SetChatSettings(_ context.Context, chat int64, s store.ChatSettings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.rows[chat] = s
	return nil
}

// admins is an Admins fake: the listed users administer every group.
type admins struct {
	users map[int64]bool
	err   error
}

func (a admins) IsAdmin(_ context.Context, chat, user int64) (bool, error) {
	return chat == user || a.users[user], a.err
}

func newService() (*Service, *memStore, *admins) {
	st := &memStore{rows: map[int64]store.ChatSettings{}}
	ad := &admins{users: map[int64]bool{1: true}}
	return New(st, ad, nil), st, ad
}

func pressed(chat, user int64, typ string, args ...string) modules.Request {
	data, _ := callback.Encode("settings", args...)
	return modules.Request{ChatID: chat, UserID: user, ChatType: typ, Command: "settings", Args: args,
		Callback: &modules.Callback{ID: "q", Data: data, MessageID: 3}}
}

func TestMenu(t *testing.T) {
	s, _, _ := newService()
	r, err := s.handle(context.Background(), modules.Request{ChatID: -5, UserID: 2, ChatType: "group", Command: "settings"})
	if err != nil {
		t.Fatal(err)
	}
	modulestest.CheckHTML(t, r.Text)
	for _, want := range []string{"Default quote: <b>USDT</b>", "Numbers: <b>1,234.56</b>", "Time zone: <b>UTC</b>", "Alerts set and deleted by: <b>anyone</b>", "administrators"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("menu lacks %q:\n%s", want, r.Text)
		}
	}
	if len(r.Buttons) != 6 || r.Buttons[5][1].Data != "1|settings|alertsby|admins" || r.Buttons[0][0].Text != "• USDT" || r.Buttons[0][1].Data != "1|settings|quote|USDC" {
		t.Errorf("keyboard %+v", r.Buttons)
	}
	for _, row := range r.Buttons {
		for _, b := range row {
			if _, err := callback.Decode(b.Data); err != nil || len(b.Data) > callback.MaxData {
				t.Errorf("button %q: %v", b.Data, err)
			}
		}
	}
}

func TestChange(t *testing.T) {
	s, st, ad := newService()
	ctx := context.Background()
	// An admin changes the group's quote: stored, and the menu shows it.
	r, _ := s.handle(ctx, pressed(-5, 1, "supergroup", "quote", "USDC"))
	if r.Toast != savedToast || !strings.Contains(r.Text, "<b>USDC</b>") || r.Buttons[0][1].Text != "• USDC" {
		t.Errorf("admin change: %+v", r)
	}
	if got := s.For(ctx, -5); got.DefaultQuoteOr() != "USDC" || st.rows[-5].Quote != "USDC" {
		t.Errorf("stored %+v", st.rows[-5])
	}
	// A member who is no admin is refused, nothing stored.
	r, _ = s.handle(ctx, pressed(-5, 2, "supergroup", "numbers", "eu"))
	if r.Text != notAdminText || len(r.Buttons) != 0 || st.rows[-5].Numbers != "" {
		t.Errorf("non-admin: %+v, stored %+v", r, st.rows[-5])
	}
	// The admin check failing is said so.
	ad.err = errors.New("telegram down")
	if r, _ = s.handle(ctx, pressed(-5, 1, "supergroup", "numbers", "eu")); r.Text != noCheckText {
		t.Errorf("admin check failed: %+v", r)
	}
	ad.err = nil
	// Who may set alerts in the group: an admin's setting, refused to others.
	if r, _ = s.handle(ctx, pressed(-5, 1, "supergroup", "alertsby", "admins")); r.Toast != savedToast ||
		!strings.Contains(r.Text, "Alerts set and deleted by: <b>administrators only</b>") || st.rows[-5].AlertsBy != AlertsByAdmins {
		t.Errorf("alertsby admins: %+v, stored %+v", r, st.rows[-5])
	}
	if r, _ = s.handle(ctx, pressed(-5, 2, "supergroup", "alertsby", "anyone")); r.Text != notAdminText || st.rows[-5].AlertsBy != AlertsByAdmins {
		t.Errorf("alertsby by a non-admin: %+v, stored %+v", r, st.rows[-5])
	}
	if r, _ = s.handle(ctx, pressed(7, 7, "private", "alertsby", "admins")); r.Text != usageText {
		t.Errorf("alertsby in a private chat: %+v", r)
	}
	// In a private chat the user changes their own; each setting applies.
	for _, args := range [][]string{{"numbers", "eu"}, {"price", "compact"}, {"alerts", "silent"}, {"tz", "Asia/Kolkata"}} {
		if r, _ := s.handle(ctx, pressed(7, 7, "private", args...)); r.Toast != savedToast {
			t.Errorf("%v: %+v", args, r)
		}
	}
	got := s.For(ctx, 7)
	if got != (Settings{Numbers: NumbersEU, Compact: true, Silent: true, Zone: "Asia/Kolkata"}) || got.Location().String() != "Asia/Kolkata" {
		t.Errorf("private settings %+v", got)
	}
	if got.Number("97,123.40") != "97.123,40" {
		t.Errorf("number format %q", got.Number("97,123.40"))
	}
	for _, args := range [][]string{{"quote", "DOGE"}, {"tz", "Mars/Olympus"}, {"tz", "Local"}, {"colour", "red"}, {"price"}} {
		if r, _ := s.handle(ctx, pressed(7, 7, "private", args...)); r.Text != usageText {
			t.Errorf("%v: %+v", args, r)
		}
	}
	unchecked := New(st, nil, nil)
	if r, _ := unchecked.handle(ctx, pressed(-5, 1, "group", "quote", "BTC")); r.Text != noCheckText {
		t.Errorf("no admin check: %+v", r)
	}
	st.err = errors.New("disk full")
	if r, _ := s.handle(ctx, pressed(8, 8, "private", "quote", "BTC")); r.Text != failedText {
		t.Errorf("store failure: %+v", r)
	}
}

func TestForCachesAndDefaults(t *testing.T) {
	s, st, _ := newService()
	ctx := context.Background()
	st.rows[3] = store.ChatSettings{Quote: "BTC"}
	for range 3 {
		if s.For(ctx, 3).Quote != "BTC" {
			t.Fatal("settings not read")
		}
	}
	if st.reads != 1 {
		t.Errorf("%d store reads, want 1 (cached)", st.reads)
	}
	st.err = errors.New("down")
	if got := s.For(ctx, 4); got != (Settings{}) {
		t.Errorf("a failed read must give the defaults, got %+v", got)
	}
	var none *Service
	if none.For(ctx, 1) != (Settings{}) || (Settings{Zone: "Nowhere/Else"}).Location().String() != "UTC" {
		t.Error("defaults")
	}
}
