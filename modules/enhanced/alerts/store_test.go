package alerts

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// The module over the real store (SQLite): what the fake stands in for holds.
func TestOverTheStore(t *testing.T) {
	st := openStore(t)
	h := newHarness(t, Config{MaxPerChat: 2})
	h.store = st
	h.restart(Config{MaxPerChat: 2})
	wantReply(t, h.cmd(1, "/alert btc above 98k"), "Alert #1 set")
	wantReply(t, h.cmd(1, "/alert btc above 99k repeat"), "Alert #2 set")
	wantReply(t, h.cmd(1, "/alert btc above 100k"), "the limit per chat")
	wantReply(t, h.cmd(2, "/unalert 1"), "No such alert in this chat: #1")
	h.prices(btc, 97_000, 98_500)
	h.restart(Config{MaxPerChat: 2}) // the fired alert stays fired
	h.prices(btc, 97_000, 99_500)
	msgs, err := st.PendingOutbox(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || !strings.Contains(msgs[0].Text, "above 98,000") || !strings.Contains(msgs[1].Text, "above 99,000") {
		t.Fatalf("outbox %+v, want #1 then #2 once each", msgs)
	}
	rows, err := st.Alerts(t.Context(), 1)
	if err != nil || len(rows) != 2 || rows[0].State != "fired" || rows[1].State != "cooling" {
		t.Fatalf("alerts %+v, %v; want fired and cooling", rows, err)
	}
	h.cmd(1, "/watch btc")
	h.cmd(1, "/digest 13:00")
	h.clk.Add(2 * time.Hour)
	h.m.sendDueDigests(t.Context(), h.clk.Now())
	h.m.sendDueDigests(t.Context(), h.clk.Now())
	if depth, _, err := st.OutboxStats(t.Context()); err != nil || depth != 3 {
		t.Errorf("outbox depth %d, %v; want the two firings and one digest", depth, err)
	}
}

// openStore opens a fresh SQLite store closed at cleanup.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "bot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
