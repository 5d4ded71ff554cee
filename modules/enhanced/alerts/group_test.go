package alerts

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// groupAdmins is an admin check where only the listed users administer.
type groupAdmins struct {
	users map[int64]bool
	err   error
	asked int
}

func (g *groupAdmins) IsAdmin(_ context.Context, _, user int64) (bool, error) {
	g.asked++
	return g.users[user], g.err
}

// groupCmd runs a command from user in group chat.
func (h *harness) groupCmd(chat, user int64, line string) string {
	h.t.Helper()
	f := strings.Fields(line)
	name := strings.TrimPrefix(f[0], "/")
	for _, c := range h.m.Commands() {
		if c.Name == name {
			rep, err := c.Handler.Handle(h.t.Context(), modules.Request{ChatID: chat, UserID: user, Command: name, Args: f[1:], ChatType: "supergroup"})
			if err != nil {
				h.t.Fatalf("%s: %v", line, err)
			}
			return rep.Text
		}
	}
	h.t.Fatalf("no command %s", name)
	return ""
}

// In a group whose /settings say admins, a member who is no administrator
// can neither set nor delete alerts; an administrator can. With the
// default (anyone), the member can, and nobody's status is asked.
func TestGroupAlertPermission(t *testing.T) {
	const group, admin, member = -1001234567890, 11, 22
	ad := &groupAdmins{users: map[int64]bool{admin: true}}
	h := newHarness(t, Config{})
	h.admins = ad
	h.restart(Config{})

	wantReply(t, h.groupCmd(group, member, "/alert btc above 98k"), "Alert #1 set")
	wantReply(t, h.groupCmd(group, member, "/unalert 1"), "Deleted alert #1")
	if ad.asked != 0 {
		t.Errorf("admin status asked %d times with the default setting", ad.asked)
	}

	h.st.alertsBy = map[int64]string{group: "admins"}
	wantReply(t, h.groupCmd(group, member, "/alert btc above 98k"), "only administrators can set and delete alerts")
	if n := len(h.st.alerts); n != 0 {
		t.Errorf("%d alerts stored after a member's refused /alert, want none", n)
	}
	wantReply(t, h.groupCmd(group, admin, "/alert btc above 98k"), "Alert #2 set")
	wantReply(t, h.groupCmd(group, member, "/unalert 2"), "only administrators")
	wantReply(t, h.groupCmd(group, member, "/unalert all"), "only administrators")
	if got := h.st.state(2); got != "armed" {
		t.Errorf("alert #2 %s after a member's /unalert, want armed", got)
	}
	wantReply(t, h.groupCmd(group, member, "/alerts"), "#2 BTC-USDT above 98,000") // reading stays open
	ad.err = errors.New("telegram down")
	wantReply(t, h.groupCmd(group, admin, "/unalert 2"), "Could not check your admin rights")
	ad.err = nil
	wantReply(t, h.groupCmd(group, admin, "/unalert 2"), "Deleted alert #2")
	// A private chat has no such setting.
	wantReply(t, h.cmd(member, "/alert btc above 98k"), "set")
}
