package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func alertRow(chat int64, pair string) AlertRow {
	return AlertRow{ChatID: chat, Pair: pair, Kind: "above", Rule: []byte(`{"level":98000}`), Status: []byte(`{}`), Created: base}
}

func mustCreate(t *testing.T, s *Store, a AlertRow) int64 {
	t.Helper()
	id, err := s.CreateAlert(t.Context(), a, 0, 0)
	noErr(t, "CreateAlert", err)
	return id
}

func noErr(t *testing.T, op string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

func alertsOf(t *testing.T, s *Store, chat int64) []AlertRow {
	t.Helper()
	as, err := s.Alerts(t.Context(), chat)
	noErr(t, "Alerts", err)
	return as
}

// column maps the chat's alerts to one field each.
func column[T any](t *testing.T, s *Store, chat int64, field func(AlertRow) T) []T {
	t.Helper()
	var out []T
	for _, a := range alertsOf(t, s, chat) {
		out = append(out, field(a))
	}
	return out
}

func alertIDs(t *testing.T, s *Store, chat int64) []int64 {
	return column(t, s, chat, func(a AlertRow) int64 { return a.ID })
}

func states(t *testing.T, s *Store, chat int64) []string {
	return column(t, s, chat, func(a AlertRow) string { return a.State })
}

func firing(id int64, trigger, state string) Firing {
	return Firing{AlertID: id, Trigger: trigger, State: state, Status: []byte(`{"fired":true}`),
		Message: OutMessage{Text: "<b>BTC-USDT</b> is above 98,000", Silent: true, Created: base}}
}

func mustFire(t *testing.T, s *Store, fs ...Firing) []bool {
	t.Helper()
	fired, err := s.Fire(t.Context(), fs)
	noErr(t, "Fire", err)
	return fired
}

func pending(t *testing.T, s *Store, limit int) []OutMessage {
	t.Helper()
	ms, err := s.PendingOutbox(t.Context(), limit)
	noErr(t, "PendingOutbox", err)
	return ms
}

func outboxRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.r.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM outbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantLimit(t *testing.T, err error, limit string) {
	t.Helper()
	var le *LimitError
	if !errors.Is(err, ErrLimit) || !errors.As(err, &le) || le.Limit != limit {
		t.Errorf("error %v, want ErrLimit %q", err, limit)
	}
}

// stateCases run against every driver with the same expectations.
var stateCases = []struct {
	name string
	run  func(t *testing.T, s *Store)
}{
	{"alerts round-trip in id order per chat", func(t *testing.T, s *Store) {
		a := alertRow(1, "BTC-USDT")
		a.Expires = base.Add(24 * time.Hour)
		id1 := mustCreate(t, s, a)
		id2 := mustCreate(t, s, alertRow(2, "ETH-USDT"))
		id3 := mustCreate(t, s, alertRow(1, "SOL-USDT"))
		if !(id1 < id2 && id2 < id3) {
			t.Errorf("ids %d %d %d, want increasing", id1, id2, id3)
		}
		as, err := s.Alerts(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 2 || as[0].ID != id1 || as[1].ID != id3 {
			t.Fatalf("Alerts(1) = %+v, want ids %d, %d", as, id1, id3)
		}
		g := as[0]
		if g.ChatID != 1 || g.Pair != "BTC-USDT" || g.Kind != "above" || g.State != "armed" || string(g.Rule) != `{"level":98000}` ||
			string(g.Status) != "{}" || !g.Created.Equal(base) || !g.Expires.Equal(a.Expires) {
			t.Errorf("stored %+v, want %+v armed", g, a)
		}
		if !as[1].Expires.IsZero() {
			t.Errorf("no expiry read back as %v", as[1].Expires)
		}
		live, err := s.LiveAlerts(t.Context())
		if err != nil || len(live) != 3 {
			t.Errorf("LiveAlerts = %d alerts (%v), want 3", len(live), err)
		}
	}},
	{"create refuses past the per-chat and global limits", func(t *testing.T, s *Store) {
		ctx := t.Context()
		for range 2 {
			if _, err := s.CreateAlert(ctx, alertRow(1, "BTC-USDT"), 2, 3); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.CreateAlert(ctx, alertRow(1, "BTC-USDT"), 2, 3)
		wantLimit(t, err, LimitPerChat)
		if _, err := s.CreateAlert(ctx, alertRow(2, "BTC-USDT"), 2, 3); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateAlert(ctx, alertRow(3, "BTC-USDT"), 2, 3)
		wantLimit(t, err, LimitGlobal)
		// A fired alert no longer counts; a paused one does.
		ids := alertIDs(t, s, 1)
		if err := s.UpdateAlerts(ctx, []AlertUpdate{{ID: ids[0], State: "fired"}, {ID: ids[1], State: "paused"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateAlert(ctx, alertRow(1, "BTC-USDT"), 2, 3); err != nil {
			t.Errorf("after one fired: %v", err)
		}
		_, err = s.CreateAlert(ctx, alertRow(1, "BTC-USDT"), 2, 0)
		wantLimit(t, err, LimitPerChat)
	}},
	{"delete never touches another chat's alerts", func(t *testing.T, s *Store) {
		a1 := mustCreate(t, s, alertRow(1, "BTC-USDT"))
		a2 := mustCreate(t, s, alertRow(1, "ETH-USDT"))
		b1 := mustCreate(t, s, alertRow(2, "BTC-USDT"))
		if n, err := s.DeleteAlerts(t.Context(), 2, a1); err != nil || n != 0 {
			t.Errorf("chat 2 deleting chat 1's alert: %d, %v; want 0", n, err)
		}
		if n, err := s.DeleteAlerts(t.Context(), 1, a1, b1, 999); err != nil || n != 1 {
			t.Errorf("DeleteAlerts(1, own, other's, unknown) = %d, %v; want 1", n, err)
		}
		if got := alertIDs(t, s, 1); !slices.Equal(got, []int64{a2}) {
			t.Errorf("chat 1 keeps %v, want [%d]", got, a2)
		}
		mustCreate(t, s, alertRow(1, "SOL-USDT"))
		if n, err := s.DeleteAlerts(t.Context(), 1); err != nil || n != 2 {
			t.Errorf("DeleteAlerts(1) all = %d, %v; want 2", n, err)
		}
		if got := alertIDs(t, s, 2); !slices.Equal(got, []int64{b1}) {
			t.Errorf("chat 2 has %v after chat 1 deleted all, want [%d]", got, b1)
		}
	}},
	{"fire once per trigger and only from armed", func(t *testing.T, s *Store) {
		id := mustCreate(t, s, alertRow(7, "BTC-USDT"))
		f := firing(id, fmt.Sprintf("%d:1000", id), "cooling")
		// The same crossing twice in one batch, then again in another.
		if got := mustFire(t, s, f, f); !slices.Equal(got, []bool{true, false}) {
			t.Errorf("Fire(f, f) = %v, want [true false]", got)
		}
		if got := mustFire(t, s, f); got[0] {
			t.Error("replayed trigger fired again")
		}
		// Cooling: a later crossing is refused until the evaluator re-arms.
		later := firing(id, fmt.Sprintf("%d:2000", id), "cooling")
		if got := mustFire(t, s, later); got[0] {
			t.Error("cooling alert fired")
		}
		if err := s.UpdateAlerts(t.Context(), []AlertUpdate{{ID: id, State: "armed", Status: []byte(`{"rearmed":true}`)}}); err != nil {
			t.Fatal(err)
		}
		if got := mustFire(t, s, later); !got[0] {
			t.Error("re-armed alert did not fire")
		}
		ms := pending(t, s, 0)
		if len(ms) != 2 || ms[0].ChatID != 7 || ms[0].Text != f.Message.Text || ms[0].Attempts != 0 {
			t.Fatalf("outbox %+v, want two messages to chat 7", ms)
		}
		as, _ := s.Alerts(t.Context(), 7)
		if as[0].State != "cooling" || string(as[0].Status) != `{"fired":true}` {
			t.Errorf("alert after firing %+v, want cooling with the firing's status", as[0])
		}
		// A deleted alert and a one-shot that fired never fire.
		one := mustCreate(t, s, alertRow(7, "ETH-USDT"))
		gone := mustCreate(t, s, alertRow(7, "SOL-USDT"))
		s.DeleteAlerts(t.Context(), 7, gone)
		got := mustFire(t, s, firing(one, "one:1", "fired"), firing(gone, "gone:1", "fired"), firing(one, "one:2", "fired"))
		if !slices.Equal(got, []bool{true, false, false}) {
			t.Errorf("Fire(one, deleted, one again) = %v, want [true false false]", got)
		}
		if n := outboxRows(t, s); n != 3 {
			t.Errorf("%d outbox rows, want 3", n)
		}
	}},
	{"update alerts keeps final states", func(t *testing.T, s *Store) {
		id := mustCreate(t, s, alertRow(1, "BTC-USDT"))
		mustFire(t, s, firing(id, "t", "fired"))
		if err := s.UpdateAlerts(t.Context(), []AlertUpdate{{ID: id, State: "armed"}, {ID: 999, State: "armed"}}); err != nil {
			t.Fatal(err)
		}
		if as := alertsOf(t, s, 1); as[0].State != "fired" || string(as[0].Status) != `{"fired":true}` {
			t.Errorf("a stale re-arm revived a fired alert: %+v", as[0])
		}
		keep := mustCreate(t, s, alertRow(1, "XRP-USDT"))
		if err := s.UpdateAlerts(t.Context(), []AlertUpdate{{ID: keep, State: "paused"}}); err != nil {
			t.Fatal(err)
		}
		if as := alertsOf(t, s, 1); as[1].State != "paused" || string(as[1].Status) != "{}" {
			t.Errorf("update without a status: %+v, want paused with the stored status", as[1])
		}
		armed := mustCreate(t, s, alertRow(1, "ETH-USDT"))
		if err := s.UpdateAlerts(t.Context(), []AlertUpdate{{ID: armed, State: "bogus"}}); err != nil {
			// The CHECK constraint refuses unknown states.
			return
		}
		t.Error("UpdateAlerts to an unknown state: no error")
	}},
	{"outbox drains oldest first with retries and give-ups", func(t *testing.T, s *Store) {
		ctx := t.Context()
		// An hour old, so the sends and failures below are later.
		t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		for i, trig := range []string{"digest:1:2026-12-01", "digest:2:2026-12-01", "digest:3:2026-12-01", "digest:1:2026-12-01"} {
			added, err := s.Enqueue(ctx, OutMessage{ChatID: int64(i%3 + 1), Text: trig, Silent: i == 1, Created: t0.Add(time.Duration(-i) * time.Second)}, trig)
			if err != nil || added != (i < 3) {
				t.Fatalf("Enqueue %d %s = %v, %v", i, trig, added, err)
			}
		}
		ms := pending(t, s, 0)
		if len(ms) != 3 || ms[0].Text != "digest:3:2026-12-01" || ms[2].Text != "digest:1:2026-12-01" || !ms[1].Silent || ms[0].Silent {
			t.Fatalf("pending %+v, want the 3 digests oldest first", ms)
		}
		if again := pending(t, s, 0); len(again) != 0 {
			t.Errorf("claimed messages handed out again: %+v", again)
		}
		if depth, oldest, err := s.OutboxStats(ctx); err != nil || depth != 3 || !oldest.Equal(t0.Add(-2*time.Second)) {
			t.Errorf("OutboxStats = %d, %v, %v; want 3, oldest", depth, oldest, err)
		}
		if err := s.MarkSent(ctx, ms[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkOutboxFailed(ctx, ms[1].ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkOutboxFailed(ctx, ms[2].ID, false); err != nil {
			t.Fatal(err)
		}
		retry := pending(t, s, 0)
		if len(retry) != 1 || retry[0].ID != ms[2].ID || retry[0].Attempts != 1 {
			t.Fatalf("after sent, permanent and transient failures: %+v, want only the transient one, 1 attempt", retry)
		}
		for range MaxAttempts - 1 {
			if err := s.MarkOutboxFailed(ctx, ms[2].ID, false); err != nil {
				t.Fatal(err)
			}
		}
		if left := pending(t, s, 0); len(left) != 0 {
			t.Errorf("message tried %d times still pending: %+v", MaxAttempts, left)
		}
		if depth, oldest, err := s.OutboxStats(ctx); err != nil || depth != 0 || !oldest.IsZero() {
			t.Errorf("OutboxStats = %d, %v, %v; want empty", depth, oldest, err)
		}
		// Sent, failed and given up: all three pruned, in batches of 2.
		if n, err := s.PruneOutbox(ctx, t0.Add(time.Second), 2); err != nil || n != 1 {
			t.Errorf("PruneOutbox(before the sends) = %d, %v; want the given-up one", n, err)
		}
		if n, err := s.PruneOutbox(ctx, time.Now().Add(time.Minute), 2); err != nil || n != 2 {
			t.Errorf("PruneOutbox(now) = %d, %v; want 2", n, err)
		}
		if added, err := s.Enqueue(ctx, OutMessage{ChatID: 1, Text: "again"}, "digest:1:2026-12-01"); err != nil || !added {
			t.Errorf("Enqueue of a pruned trigger = %v, %v; want added", added, err)
		}
	}},
	{"a dead drainer's claim expires", func(t *testing.T, s *Store) {
		if _, err := s.Enqueue(t.Context(), OutMessage{ChatID: 1, Text: "x"}, "t"); err != nil {
			t.Fatal(err)
		}
		first := pending(t, s, 1)
		if len(first) != 1 || len(pending(t, s, 1)) != 0 {
			t.Fatalf("claim: %+v then more", first)
		}
		// The drainer died; its lease ran out.
		if _, err := s.w.ExecContext(t.Context(), "UPDATE outbox SET claimed_until = $1", s.d.time(time.Now().Add(-time.Second))); err != nil {
			t.Fatal(err)
		}
		if again := pending(t, s, 1); len(again) != 1 || again[0].ID != first[0].ID {
			t.Errorf("after the lease: %+v, want message %d again", again, first[0].ID)
		}
	}},
	{"watchlist limits, ignores duplicates, keeps order", func(t *testing.T, s *Store) {
		ctx := t.Context()
		if n, err := s.Watch(ctx, 1, []string{"ETH-USDT", "BTC-USDT", "ETH-USDT"}, 3); err != nil || n != 2 {
			t.Fatalf("Watch = %d, %v; want 2", n, err)
		}
		_, err := s.Watch(ctx, 1, []string{"SOL-USDT", "XRP-USDT", "BTC-USDT"}, 3)
		wantLimit(t, err, LimitWatchlist)
		if n, err := s.Watch(ctx, 1, []string{"BTC-USDT", "SOL-USDT"}, 3); err != nil || n != 1 {
			t.Errorf("Watch to the limit = %d, %v; want 1", n, err)
		}
		if n, err := s.Watch(ctx, 2, []string{"ADA-USDT", "BTC-USDT"}, 0); err != nil || n != 2 {
			t.Errorf("Watch without limit = %d, %v", n, err)
		}
		if got, _ := s.Watchlist(ctx, 1); !slices.Equal(got, []string{"ETH-USDT", "BTC-USDT", "SOL-USDT"}) {
			t.Errorf("Watchlist(1) = %v", got)
		}
		if got, _ := s.WatchedPairs(ctx); !slices.Equal(got, []string{"ADA-USDT", "BTC-USDT", "ETH-USDT", "SOL-USDT"}) {
			t.Errorf("WatchedPairs = %v", got)
		}
		if n, err := s.Unwatch(ctx, 1, []string{"BTC-USDT", "DOGE-USDT"}); err != nil || n != 1 {
			t.Errorf("Unwatch = %d, %v; want 1", n, err)
		}
		if got, _ := s.Watchlist(ctx, 1); !slices.Equal(got, []string{"ETH-USDT", "SOL-USDT"}) {
			t.Errorf("Watchlist(1) after unwatch = %v", got)
		}
	}},
	{"digest schedules", func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, d := range []DigestRow{{ChatID: 2, Hour: 8, Minute: 30, Zone: "Europe/Berlin"}, {ChatID: 1, Hour: 21, Zone: "UTC"}} {
			if err := s.SetDigest(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.MarkDigestSent(ctx, 2, base); err != nil {
			t.Fatal(err)
		}
		// Rescheduling keeps when it was last sent.
		if err := s.SetDigest(ctx, DigestRow{ChatID: 2, Hour: 9, Zone: "America/New_York"}); err != nil {
			t.Fatal(err)
		}
		ds, err := s.Digests(ctx)
		want := []DigestRow{{ChatID: 1, Hour: 21, Zone: "UTC"}, {ChatID: 2, Hour: 9, Zone: "America/New_York", LastSent: base}}
		if err != nil || len(ds) != 2 || ds[0] != want[0] || ds[1].ChatID != 2 || ds[1].Hour != 9 || ds[1].Zone != want[1].Zone || !ds[1].LastSent.Equal(base) {
			t.Errorf("Digests = %+v, %v; want %+v", ds, err, want)
		}
		if err := s.DeleteDigest(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if ds, _ := s.Digests(ctx); len(ds) != 1 || ds[0].ChatID != 2 {
			t.Errorf("after delete: %+v", ds)
		}
		if err := s.SetDigest(ctx, DigestRow{ChatID: 3, Hour: 24, Zone: "UTC"}); err == nil {
			t.Error("hour 24 stored")
		}
	}},
	{"a blocked chat pauses and resumes", func(t *testing.T, s *Store) {
		ctx := t.Context()
		armed := mustCreate(t, s, alertRow(1, "BTC-USDT"))
		cooling := mustCreate(t, s, alertRow(1, "ETH-USDT"))
		mustFire(t, s, firing(cooling, "c", "cooling"))
		done := mustCreate(t, s, alertRow(1, "SOL-USDT"))
		mustFire(t, s, firing(done, "d", "fired"))
		flagOff := mustCreate(t, s, alertRow(1, "XRP-USDT"))
		other := mustCreate(t, s, alertRow(2, "BTC-USDT"))
		if err := s.UpdateAlerts(ctx, []AlertUpdate{{ID: flagOff, State: "paused"}}); err != nil {
			t.Fatal(err)
		}
		s.SetDigest(ctx, DigestRow{ChatID: 1, Hour: 8, Zone: "UTC"})
		if err := s.SetChatBlocked(ctx, 1, true); err != nil {
			t.Fatal(err)
		}
		if got := states(t, s, 1); !slices.Equal(got, []string{"paused", "paused", "fired", "paused"}) {
			t.Errorf("blocked chat's alerts %v", got)
		}
		if b, err := s.ChatBlocked(ctx, 1); err != nil || !b {
			t.Errorf("ChatBlocked = %v, %v", b, err)
		}
		if ids, err := s.BlockedChats(ctx, 10); err != nil || !slices.Equal(ids, []int64{1}) {
			t.Errorf("BlockedChats = %v, %v, want [1]", ids, err)
		}
		if ds, _ := s.Digests(ctx); len(ds) != 0 {
			t.Errorf("blocked chat's digest still scheduled: %+v", ds)
		}
		// An evaluator that missed the block cannot fire or revive them.
		if got := mustFire(t, s, firing(armed, "a", "fired")); got[0] {
			t.Error("paused alert fired")
		}
		if err := s.UpdateAlerts(ctx, []AlertUpdate{{ID: cooling, State: "armed"}}); err != nil {
			t.Fatal(err)
		}
		if got := states(t, s, 2); !slices.Equal(got, []string{"armed"}) {
			t.Errorf("another chat's alert %d: %v", other, got)
		}
		if err := s.SetChatBlocked(ctx, 1, false); err != nil {
			t.Fatal(err)
		}
		if got := states(t, s, 1); !slices.Equal(got, []string{"armed", "armed", "fired", "paused"}) {
			t.Errorf("unblocked chat's alerts %v, want the block's re-armed, the flag's still paused", got)
		}
		if ids, err := s.BlockedChats(ctx, 10); err != nil || len(ids) != 0 {
			t.Errorf("BlockedChats after unblocking = %v, %v, want none", ids, err)
		}
		if ds, _ := s.Digests(ctx); len(ds) != 1 {
			t.Errorf("digest not resumed: %+v", ds)
		}
	}},
	{"a migrated chat keeps everything", func(t *testing.T, s *Store) {
		ctx := t.Context()
		const from, to = -100, -1001234
		a := mustCreate(t, s, alertRow(from, "BTC-USDT"))
		b := mustCreate(t, s, alertRow(from, "ETH-USDT"))
		s.Watch(ctx, from, []string{"BTC-USDT", "ETH-USDT"}, 0)
		s.Watch(ctx, to, []string{"ETH-USDT", "SOL-USDT"}, 0)
		s.SetDigest(ctx, DigestRow{ChatID: from, Hour: 7, Zone: "UTC"})
		mustFire(t, s, firing(a, "a", "fired"))
		if err := s.SetChatBlocked(ctx, from, true); err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateChat(ctx, from, to); err != nil {
			t.Fatal(err)
		}
		if got := alertIDs(t, s, to); !slices.Equal(got, []int64{a, b}) {
			t.Errorf("Alerts(to) = %v, want [%d %d]", got, a, b)
		}
		if got := alertIDs(t, s, from); len(got) != 0 {
			t.Errorf("Alerts(from) = %v, want none", got)
		}
		if got, _ := s.Watchlist(ctx, to); !slices.Equal(got, []string{"ETH-USDT", "SOL-USDT", "BTC-USDT"}) {
			t.Errorf("Watchlist(to) = %v", got)
		}
		if b, _ := s.ChatBlocked(ctx, to); !b {
			t.Error("blocked state did not follow")
		}
		if err := s.SetChatBlocked(ctx, to, false); err != nil {
			t.Fatal(err)
		}
		if ds, _ := s.Digests(ctx); len(ds) != 1 || ds[0].ChatID != to {
			t.Errorf("Digests = %+v, want one for %d", ds, to)
		}
		if ms := pending(t, s, 0); len(ms) != 1 || ms[0].ChatID != to {
			t.Errorf("unsent outbox %+v, want one for %d", ms, to)
		}
	}},
}

func TestState(t *testing.T) {
	for _, tc := range stateCases {
		t.Run(tc.name, func(t *testing.T) {
			forEachDriver(t, func(t *testing.T, url string) {
				s := open(t, url, Options{})
				tc.run(t, s)
				checkCounts(t, s)
			})
		})
	}
}

// checkCounts compares the live-alert counters with a count of the rows.
func checkCounts(t *testing.T, s *Store) {
	t.Helper()
	var bad, total, live int
	if err := s.r.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM chats c WHERE live_alerts !=
		(SELECT COUNT(*) FROM alerts a WHERE a.chat_id = c.chat_id AND a.state IN ('armed', 'cooling', 'paused'))`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRowContext(t.Context(), `SELECT (SELECT live FROM alert_totals),
		(SELECT COUNT(*) FROM alerts WHERE state IN ('armed', 'cooling', 'paused'))`).Scan(&total, &live); err != nil {
		t.Fatal(err)
	}
	if bad != 0 || total != live {
		t.Errorf("live-alert counters drifted: %d chats wrong, total %d for %d live alerts", bad, total, live)
	}
}

// pair opens two stores on one database, like two replicas; SQLite allows
// one process per file, so there both are the same store.
func pair(t *testing.T, driver, url string) (*Store, *Store) {
	s1 := open(t, url, Options{})
	if driver == "sqlite" {
		return s1, s1
	}
	return s1, open(t, url, Options{})
}

func forEachPair(t *testing.T, fn func(t *testing.T, s1, s2 *Store)) {
	for _, d := range backends() {
		t.Run(d.name, func(t *testing.T) {
			s1, s2 := pair(t, d.name, d.url(t))
			fn(t, s1, s2)
		})
	}
}

// TestFireTwoLeaders fires every alert from two evaluators at once, with the
// same trigger and with triggers of different observations: each alert
// fires exactly once.
func TestFireTwoLeaders(t *testing.T) {
	forEachPair(t, func(t *testing.T, s1, s2 *Store) {
		const n = 40
		var same, differ [2][]Firing
		for i := range n {
			id := mustCreate(t, s1, alertRow(int64(i%5), "BTC-USDT"))
			for l := range 2 {
				same[l] = append(same[l], firing(id, fmt.Sprintf("%d:1000", id), "cooling"))
			}
			id = mustCreate(t, s1, alertRow(int64(i%5), "ETH-USDT"))
			for l := range 2 {
				differ[l] = append(differ[l], firing(id, fmt.Sprintf("%d:%d", id, 1000+l), "cooling"))
			}
		}
		// The two leaders see the batch in opposite orders.
		slices.Reverse(same[1])
		slices.Reverse(differ[1])
		var (
			wg      sync.WaitGroup
			results [2][][]bool
		)
		start := make(chan struct{})
		for l, s := range []*Store{s1, s2} {
			wg.Go(func() {
				<-start
				for _, fs := range [][]Firing{same[l], differ[l]} {
					fired, err := s.Fire(t.Context(), fs)
					if err != nil {
						t.Errorf("leader %d: Fire: %v", l, err)
						return
					}
					results[l] = append(results[l], fired)
				}
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
		count := map[int64]int{}
		for l := range 2 {
			for b, fs := range [][]Firing{same[l], differ[l]} {
				for i, f := range fs {
					if results[l][b][i] {
						count[f.AlertID]++
					}
				}
			}
		}
		if len(count) != 2*n {
			t.Errorf("%d alerts fired, want %d", len(count), 2*n)
		}
		for id, c := range count {
			if c != 1 {
				t.Errorf("alert %d fired %d times", id, c)
			}
		}
		if got := outboxRows(t, s1); got != 2*n {
			t.Errorf("%d outbox rows, want %d", got, 2*n)
		}
		checkCounts(t, s1)
	})
}

// TestFireSurvivesCrash closes the store right after Fire returned: the
// message is in the outbox after the restart, unsent, and the alert fired.
func TestFireSurvivesCrash(t *testing.T) {
	forEachDriver(t, func(t *testing.T, url string) {
		s := open(t, url, Options{})
		id := mustCreate(t, s, alertRow(9, "BTC-USDT"))
		if got := mustFire(t, s, firing(id, "crash:1", "fired")); !got[0] {
			t.Fatal("did not fire")
		}
		s.Close()
		s = open(t, url, Options{})
		ms := pending(t, s, 0)
		if len(ms) != 1 || ms[0].ChatID != 9 || ms[0].Attempts != 0 || !ms[0].Silent || !ms[0].Created.Equal(base) {
			t.Fatalf("after restart outbox %+v, want the message", ms)
		}
		if got := states(t, s, 9); !slices.Equal(got, []string{"fired"}) {
			t.Errorf("after restart alert %v, want fired", got)
		}
		if got := mustFire(t, s, firing(id, "crash:1", "fired")); got[0] {
			t.Error("fired again after the restart")
		}
	})
}

// TestOutboxDrainersShareNothing drains one outbox from two stores at once:
// every message is handed out exactly once.
func TestOutboxDrainersShareNothing(t *testing.T) {
	forEachPair(t, func(t *testing.T, s1, s2 *Store) {
		const n = 150
		for i := range n {
			if _, err := s1.Enqueue(t.Context(), OutMessage{ChatID: int64(i), Text: "x", Created: base.Add(time.Duration(i) * time.Millisecond)}, fmt.Sprint("t", i)); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[int64]int{}
		drainTogether(t, []*Store{s1, s2}, func(s *Store) ([]OutMessage, error) {
			ms, err := s.PendingOutbox(t.Context(), 7)
			if err != nil || len(ms) == 0 {
				return nil, err
			}
			ids := make([]int64, len(ms))
			for i, m := range ms {
				ids[i] = m.ID
			}
			return ms, s.MarkSent(t.Context(), ids...)
		}, func(_ *Store, ms []OutMessage) {
			for _, m := range ms {
				seen[m.ID]++
			}
		})
		if len(seen) != n {
			t.Errorf("%d messages drained, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("message %d handed out %d times", id, c)
			}
		}
	})
}

// TestCreateAlertLimitsUnderConcurrency creates alerts for one chat from two
// stores at once: exactly the limit gets in.
func TestCreateAlertLimitsUnderConcurrency(t *testing.T) {
	forEachPair(t, func(t *testing.T, s1, s2 *Store) {
		const perChat, global, tries = 5, 8, 12
		var (
			wg             sync.WaitGroup
			mu             sync.Mutex
			ok, chat, glob int
		)
		for i := range tries {
			s := []*Store{s1, s2}[i%2]
			wg.Go(func() {
				// Chat 1 hits its own limit; chats 2 and 3 share what is left globally.
				c := int64(1 + i%3)
				_, err := s.CreateAlert(t.Context(), alertRow(c, "BTC-USDT"), perChat, global)
				mu.Lock()
				defer mu.Unlock()
				var le *LimitError
				switch {
				case err == nil:
					ok++
				case errors.As(err, &le) && le.Limit == LimitPerChat:
					chat++
				case errors.As(err, &le) && le.Limit == LimitGlobal:
					glob++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if ok != global {
			t.Errorf("%d alerts created, want the global limit %d (per chat %d, global %d refused)", ok, global, chat, glob)
		}
		for c := int64(1); c <= 3; c++ {
			if n := len(alertIDs(t, s1, c)); n > perChat {
				t.Errorf("chat %d has %d alerts, over the limit %d", c, n, perChat)
			}
		}
		checkCounts(t, s1)
	})
}

func TestOutboxMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	s := open(t, "sqlite::memory:", Options{Registerer: reg})
	id := mustCreate(t, s, alertRow(1, "BTC-USDT"))
	f := firing(id, "m:1", "fired")
	f.Message.Created = time.Now().Add(-2 * time.Minute)
	mustFire(t, s, f, f)
	if _, err := s.Enqueue(t.Context(), OutMessage{ChatID: 1, Text: "digest"}, "digest:1"); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP cryptobot_store_alerts_fired_total Alert firings committed with their outbox message (replayed or refused ones not counted).
# TYPE cryptobot_store_alerts_fired_total counter
cryptobot_store_alerts_fired_total 1
# HELP cryptobot_store_outbox_depth Outbox messages waiting to be sent, read at scrape.
# TYPE cryptobot_store_outbox_depth gauge
cryptobot_store_outbox_depth 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "cryptobot_store_alerts_fired_total", "cryptobot_store_outbox_depth"); err != nil {
		t.Error(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "cryptobot_store_outbox_oldest_age_seconds" {
			found = true
			if age := mf.GetMetric()[0].GetGauge().GetValue(); age < 120 {
				t.Errorf("oldest outbox age %v s, want ≥ 120", age)
			}
		}
	}
	if !found {
		t.Error("no outbox oldest age gauge")
	}
	// A limit refusing a write is not a store error.
	mustCreate(t, s, alertRow(1, "ETH-USDT"))
	if _, err := s.CreateAlert(t.Context(), alertRow(1, "BTC-USDT"), 1, 0); !errors.Is(err, ErrLimit) {
		t.Fatalf("CreateAlert over the limit = %v", err)
	}
	if v := testutil.ToFloat64(s.m.errors.WithLabelValues(opCreateAlert)); v != 0 {
		t.Errorf("errors_total{operation=create_alert} = %v after a refusal, want 0", v)
	}
}

// TestWritersBesideFire runs a firing batch, blocks, updates and creations
// for the same chats at once from two stores: none fails (no deadlock on
// Postgres) and the live-alert counters still match the rows.
func TestWritersBesideFire(t *testing.T) {
	forEachPair(t, func(t *testing.T, s1, s2 *Store) {
		const chats, perChat = 4, 10
		var fs []Firing
		var us []AlertUpdate
		for i := range chats * perChat {
			id := mustCreate(t, s1, alertRow(int64(i%chats), "BTC-USDT"))
			fs = append(fs, firing(id, fmt.Sprint(id), []string{"fired", "cooling"}[i%2]))
			us = append(us, AlertUpdate{ID: id, State: []string{"expired", "paused", "armed"}[i%3]})
		}
		slices.Reverse(us)
		var wg sync.WaitGroup
		start := make(chan struct{})
		run := func(name string, fn func() error) {
			wg.Go(func() {
				<-start
				if err := fn(); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			})
		}
		run("fire", func() error { _, err := s1.Fire(t.Context(), fs); return err })
		run("update", func() error { return s2.UpdateAlerts(t.Context(), us) })
		for c := range int64(chats) {
			run("block", func() error { return s2.SetChatBlocked(t.Context(), c, c%2 == 0) })
			run("create", func() error { _, err := s1.CreateAlert(t.Context(), alertRow(c, "ETH-USDT"), 0, 0); return err })
			run("delete", func() error { _, err := s2.DeleteAlerts(t.Context(), c, fs[c].AlertID); return err })
		}
		close(start)
		wg.Wait()
		checkCounts(t, s1)
	})
}
