package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(holdLockEnv); path != "" {
		os.Exit(holdLock(path))
	}
	if path := os.Getenv(tryOpenEnv); path != "" {
		os.Exit(tryOpen(path))
	}
	os.Exit(pgtest.Main(m))
}

// backend opens a store URL for a test: every journal case runs on each.
type backend struct {
	name string
	url  func(t *testing.T) string
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "state", "cryptobot.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.Start(t) }},
	}
}

// forEachDriver runs fn as a subtest per driver, with a fresh store at url.
func forEachDriver(t *testing.T, fn func(t *testing.T, url string)) {
	for _, d := range backends() {
		t.Run(d.name, func(t *testing.T) { fn(t, d.url(t)) })
	}
}

func open(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// schemaVersion is the number of migrations this binary carries.
const schemaVersion = 7

// base is a fixed, microsecond-aligned instant so stored times compare equal.
var base = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func upd(id int64, at time.Duration) Update {
	return Update{ID: id, ChatID: 1000 + id, Body: fmt.Appendf(nil, `{"update_id":%d}`, id), Received: base.Add(at)}
}

func ids(us []Update) []int64 {
	var out []int64
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func mustAppend(t *testing.T, s *Store, us ...Update) []bool {
	t.Helper()
	fresh, err := s.Append(t.Context(), us)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return fresh
}

func unanswered(t *testing.T, s *Store, limit int) []Update {
	t.Helper()
	us, err := s.Unanswered(t.Context(), limit)
	if err != nil {
		t.Fatalf("Unanswered: %v", err)
	}
	return us
}

// journalCases run against every driver with the same expectations.
var journalCases = []struct {
	name string
	run  func(t *testing.T, s *Store)
}{
	{"append reports fresh and duplicate ids", func(t *testing.T, s *Store) {
		if got := mustAppend(t, s, upd(1, 0), upd(2, time.Second), upd(3, 2*time.Second)); !slices.Equal(got, []bool{true, true, true}) {
			t.Errorf("first batch fresh %v, want all", got)
		}
		// 3 is a redelivery, 4 is new, the second 4 repeats within the batch.
		if got := mustAppend(t, s, upd(3, 0), upd(4, 3*time.Second), upd(4, 3*time.Second)); !slices.Equal(got, []bool{false, true, false}) {
			t.Errorf("second batch fresh %v, want [false true false]", got)
		}
		got := unanswered(t, s, 0)
		want := []Update{upd(1, 0), upd(2, time.Second), upd(3, 2*time.Second), upd(4, 3*time.Second)}
		if len(got) != len(want) {
			t.Fatalf("unanswered %v, want ids %v", ids(got), ids(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.ID != w.ID || g.ChatID != w.ChatID || string(g.Body) != string(w.Body) || !g.Received.Equal(w.Received) {
				t.Errorf("entry %d = %+v, want %+v", i, g, w)
			}
		}
	}},
	{"empty append and settle are no-ops", func(t *testing.T, s *Store) {
		if fresh, err := s.Append(t.Context(), nil); err != nil || fresh != nil {
			t.Errorf("Append(nil) = %v, %v", fresh, err)
		}
		if err := s.Settle(t.Context(), Answered); err != nil {
			t.Errorf("Settle() = %v", err)
		}
		if err := s.Settle(t.Context(), "bogus", 1); err == nil {
			t.Error("Settle with an unknown outcome: no error")
		}
	}},
	{"settle keeps the first outcome", func(t *testing.T, s *Store) {
		mustAppend(t, s, upd(1, 0), upd(2, time.Second), upd(3, 2*time.Second))
		if err := s.Settle(t.Context(), Answered, 1, 2, 99); err != nil {
			t.Fatal(err)
		}
		if err := s.Settle(t.Context(), Failed, 2, 3); err != nil {
			t.Fatal(err)
		}
		if got := ids(unanswered(t, s, 0)); len(got) != 0 {
			t.Errorf("unanswered %v, want none", got)
		}
		var outcome string
		if err := s.r.QueryRowContext(t.Context(), "SELECT outcome FROM journal WHERE update_id = 2").Scan(&outcome); err != nil || outcome != "answered" {
			t.Errorf("entry 2 outcome %q (%v), want answered", outcome, err)
		}
		for o, want := range map[Outcome]float64{Answered: 2, Failed: 1, Expired: 0} {
			if got := testutil.ToFloat64(s.m.settled.WithLabelValues(string(o))); got != want {
				t.Errorf("settled{outcome=%s} = %v, want %v", o, got, want)
			}
		}
	}},
	{"unanswered is oldest received first", func(t *testing.T, s *Store) {
		// Received order differs from id order; equal times fall back to the id.
		mustAppend(t, s, upd(5, 3*time.Second), upd(7, time.Second), upd(6, time.Second), upd(4, 5*time.Second))
		if got := ids(unanswered(t, s, 0)); !slices.Equal(got, []int64{6, 7, 5, 4}) {
			t.Errorf("unanswered %v, want [6 7 5 4]", got)
		}
		if got := ids(unanswered(t, s, 2)); !slices.Equal(got, []int64{6, 7}) {
			t.Errorf("unanswered(limit 2) %v, want [6 7]", got)
		}
	}},
	{"prune deletes settled entries in batches", func(t *testing.T, s *Store) {
		var us []Update
		for id := range int64(10) {
			us = append(us, upd(id+1, 0))
		}
		mustAppend(t, s, us...)
		if err := s.Settle(t.Context(), Answered, 1, 2, 3, 4, 5, 6, 7); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Prune(t.Context(), time.Now().Add(-time.Hour), 3); err != nil || n != 0 {
			t.Errorf("Prune(an hour ago) = %d, %v; want 0", n, err)
		}
		if n, err := s.Prune(t.Context(), time.Now().Add(time.Minute), 3); err != nil || n != 7 {
			t.Errorf("Prune(now) = %d, %v; want 7 in batches of 3", n, err)
		}
		if got := ids(unanswered(t, s, 0)); !slices.Equal(got, []int64{8, 9, 10}) {
			t.Errorf("unanswered after prune %v, want [8 9 10]", got)
		}
		if _, err := s.Prune(t.Context(), time.Now(), 0); err == nil {
			t.Error("Prune(batch 0): no error")
		}
	}},
	{"stats count unanswered entries", func(t *testing.T, s *Store) {
		if depth, oldest, err := s.JournalStats(t.Context()); err != nil || depth != 0 || !oldest.IsZero() {
			t.Errorf("empty: %d, %v, %v", depth, oldest, err)
		}
		mustAppend(t, s, upd(1, 2*time.Second), upd(2, time.Second), upd(3, 3*time.Second))
		if err := s.Settle(t.Context(), Expired, 2); err != nil {
			t.Fatal(err)
		}
		depth, oldest, err := s.JournalStats(t.Context())
		if err != nil || depth != 2 || !oldest.Equal(base.Add(2*time.Second)) {
			t.Errorf("stats = %d, %v, %v; want 2, %v", depth, oldest, err, base.Add(2*time.Second))
		}
	}},
	{"concurrent appends mark each id fresh once", func(t *testing.T, s *Store) {
		// Eight intakes (or replicas) offering overlapping ids at once.
		const writers, perWriter = 8, 20
		fresh := make(chan int64, writers*perWriter)
		errs := make(chan error, writers)
		for w := range writers {
			go func() {
				var us []Update
				for i := range perWriter {
					us = append(us, upd(int64(w/2*perWriter+i+1), 0)) // writers 2k and 2k+1 share ids
				}
				got, err := s.Append(t.Context(), us)
				for i, f := range got {
					if f {
						fresh <- us[i].ID
					}
				}
				errs <- err
			}()
		}
		for range writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		close(fresh)
		seen := map[int64]int{}
		for id := range fresh {
			seen[id]++
		}
		for id := int64(1); id <= writers/2*perWriter; id++ {
			if seen[id] != 1 {
				t.Errorf("id %d fresh %d times, want once", id, seen[id])
			}
		}
	}},
	{"a large batch spans statements in one transaction", func(t *testing.T, s *Store) {
		us := make([]Update, 2*batchRows+1)
		for i := range us {
			us[i] = upd(int64(i+1), time.Duration(i)*time.Millisecond)
		}
		us[len(us)-1].ID = 1 // a duplicate in the last chunk
		fresh := mustAppend(t, s, us...)
		if n := len(slices.DeleteFunc(fresh, func(f bool) bool { return !f })); n != 2*batchRows {
			t.Errorf("%d fresh, want %d", n, 2*batchRows)
		}
		all := make([]int64, 2*batchRows)
		for i := range all {
			all[i] = int64(i + 1)
		}
		if err := s.Settle(t.Context(), Answered, all...); err != nil {
			t.Fatal(err)
		}
		if depth, _, err := s.JournalStats(t.Context()); err != nil || depth != 0 {
			t.Errorf("depth %d (%v), want 0", depth, err)
		}
	}},
}

func TestJournal(t *testing.T) {
	for _, tc := range journalCases {
		t.Run(tc.name, func(t *testing.T) {
			forEachDriver(t, func(t *testing.T, url string) { tc.run(t, open(t, url, Options{})) })
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	forEachDriver(t, func(t *testing.T, url string) {
		s := open(t, url, Options{})
		mustAppend(t, s, upd(1, 0), upd(2, time.Second))
		if err := s.Settle(t.Context(), Answered, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, url, Options{})
		if got := ids(unanswered(t, s, 0)); !slices.Equal(got, []int64{2}) {
			t.Errorf("after reopen unanswered %v, want [2]", got)
		}
		if got := mustAppend(t, s, upd(1, 0)); got[0] {
			t.Error("update 1 fresh again after reopen: dedupe did not survive the restart")
		}
		if v := s.Info().SchemaVersion; v != schemaVersion {
			t.Errorf("schema version %d, want %d", v, schemaVersion)
		}
		var applied int
		if err := s.r.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM schema_version").Scan(&applied); err != nil || applied != schemaVersion {
			t.Errorf("%d migrations recorded (%v), want %d: reopening must not re-apply", applied, err, schemaVersion)
		}
	})
}

func TestNewerSchemaRefused(t *testing.T) {
	forEachDriver(t, func(t *testing.T, url string) {
		s := open(t, url, Options{})
		future := schemaVersion + 1
		if _, err := s.w.ExecContext(t.Context(), "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, 'future.sql', 0)", future); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(t.Context(), url, Options{})
		if !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("Open = %v, want ErrNewerSchema", err)
		}
		if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("version %d", future)) || !strings.Contains(msg, fmt.Sprintf("up to %d", schemaVersion)) {
			t.Errorf("error %q does not name both versions (%d and %d)", msg, future, schemaVersion)
		}
	})
}

func TestInfo(t *testing.T) {
	s := open(t, "sqlite::memory:", Options{})
	if got := s.Info(); got != (Info{Driver: "sqlite", Location: ":memory:", SchemaVersion: schemaVersion, JournalSync: SyncNormal}) {
		t.Errorf("Info = %+v", got)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	url := pgtest.Start(t)
	withPassword := strings.Replace(url, "postgres@", "postgres:s3cret@", 1)
	p := open(t, withPassword, Options{})
	if got := p.Info(); got.Driver != "postgres" || strings.Contains(got.Location, "s3cret") || got.SchemaVersion != schemaVersion || got.JournalSync != "" {
		t.Errorf("Info = %+v, want driver postgres, the current version, no password, no journal sync", got)
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, url := range []string{"", "mysql://u:pw@h/db", "data/cryptobot.db", "sqlite:", "sqlite:a?b"} {
		if s, err := Open(t.Context(), url, Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", url)
		} else if strings.Contains(err.Error(), ":pw@") {
			t.Errorf("Open(%q) error shows the password: %v", url, err)
		}
	}
}

func TestPostgresRefusalIsNotUnavailable(t *testing.T) {
	url := pgtest.Start(t)
	missing := url[:strings.LastIndex(url, "/")] + "/no_such_database"
	_, err := Open(t.Context(), missing, Options{})
	if err == nil || errors.Is(err, ErrUnavailable) {
		t.Errorf("Open of a missing database = %v, want an error that is not ErrUnavailable (no retry)", err)
	}
}

func TestPostgresDownAtOpen(t *testing.T) {
	srv := pgtest.NewServer(t)
	srv.Stop(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	url := strings.Replace(srv.URL("postgres"), "postgres@", "postgres:s3cret@", 1)
	_, err := Open(ctx, url, Options{})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Open with the server down = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}
}

// TestPostgresDownMidRun: with the server stopped every operation fails
// (and is counted); once it is back the same Store works again without a
// reopen, and nothing committed before is lost.
func TestPostgresDownMidRun(t *testing.T) {
	srv := pgtest.NewServer(t)
	reg := prometheus.NewPedanticRegistry()
	s := open(t, srv.URL("postgres"), Options{Registerer: reg})
	mustAppend(t, s, upd(1, 0))

	srv.Stop(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := s.Append(ctx, []Update{upd(2, time.Second)}); err == nil {
		t.Error("Append with the server down: no error")
	}
	if err := s.Settle(ctx, Answered, 1); err == nil {
		t.Error("Settle with the server down: no error")
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping with the server down: no error")
	}
	if got := testutil.ToFloat64(s.m.errors.WithLabelValues(opAppend)); got < 1 {
		t.Errorf("errors_total{operation=append} = %v, want ≥ 1", got)
	}

	srv.Restart(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	if got := mustAppend(t, s, upd(2, time.Second), upd(1, 0)); !slices.Equal(got, []bool{true, false}) {
		t.Errorf("after restart fresh %v, want [true false]", got)
	}
	if got := ids(unanswered(t, s, 0)); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("unanswered %v, want [1 2]", got)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	s := open(t, "sqlite::memory:", Options{Registerer: reg})
	now := time.Now()
	mustAppend(t, s, Update{ID: 1, Received: now.Add(-time.Minute)}, Update{ID: 2, Received: now}, Update{ID: 2})
	if err := s.Settle(t.Context(), Answered, 2); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP cryptobot_store_journal_depth Unanswered journal entries, read at scrape.
# TYPE cryptobot_store_journal_depth gauge
cryptobot_store_journal_depth 1
# HELP cryptobot_store_journal_appended_total Updates offered to the journal, by result (fresh, duplicate).
# TYPE cryptobot_store_journal_appended_total counter
cryptobot_store_journal_appended_total{result="duplicate"} 1
cryptobot_store_journal_appended_total{result="fresh"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "cryptobot_store_journal_depth", "cryptobot_store_journal_appended_total"); err != nil {
		t.Error(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "cryptobot_store_journal_oldest_unanswered_age_seconds" {
			if age := mf.GetMetric()[0].GetGauge().GetValue(); age < 60 {
				t.Errorf("oldest unanswered age %v s, want ≥ 60", age)
			}
		}
	}
	if n := testutil.CollectAndCount(reg, "cryptobot_store_operation_duration_seconds"); n != len(Operations()) {
		t.Errorf("%d duration series, want one per operation (%d)", n, len(Operations()))
	}
	// A second store on the same registry is refused, not a panic.
	if _, err := Open(t.Context(), "sqlite::memory:", Options{Registerer: reg}); err == nil {
		t.Error("second Open on one registry: no error")
	}
}
