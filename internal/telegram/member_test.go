package telegram

import (
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/telegram/telegramtest"
)

func TestMemberCache(t *testing.T) {
	f := newBCFixture(t, telegramtest.Options{})
	ctx := bcCtx(t)
	f.srv.SendText(-5, 7, "group", "/settings")
	f.srv.SetMember(-5, 7, "administrator")
	f.srv.SetMember(-5, 8, "member")
	c := NewMemberCache(f.c, time.Minute, 2)
	now := time.Unix(1_000_000, 0)
	c.now = func() time.Time { return now }

	check := func(chat, user int64, want bool, calls int) {
		t.Helper()
		admin, err := c.IsAdmin(ctx, chat, user)
		if err != nil || admin != want {
			t.Errorf("IsAdmin(%d, %d) = %v, %v; want %v", chat, user, admin, err, want)
		}
		if got := f.srv.Calls("getChatMember"); got != calls {
			t.Errorf("after IsAdmin(%d, %d): %d getChatMember calls, want %d", chat, user, got, calls)
		}
	}
	check(-5, 7, true, 1)
	check(-5, 8, false, 2)
	check(-5, 7, true, 2)  // cached
	check(42, 42, true, 2) // a private chat needs no call

	f.srv.SetMember(-5, 7, "member") // demoted: seen once the entry is older than the TTL
	check(-5, 7, true, 2)
	now = now.Add(time.Minute)
	check(-5, 7, false, 3)

	if _, err := c.IsAdmin(ctx, -99, 7); err == nil {
		t.Error("IsAdmin in an unknown chat: no error")
	}
	check(-5, 8, false, 5) // expired too: fetched again
}
