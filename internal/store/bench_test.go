package store

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store/pgtest"
)

// benchBody is the size of a typical /price message update.
var benchBody = []byte(fmt.Sprintf(`{"update_id":1,"message":{"message_id":1,"from":{"id":1,"is_bot":false,"first_name":"A"},"chat":{"id":1,"type":"private"},"date":%d,"text":"/price btc"}}`, time.Now().Unix()))

func benchDrivers(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, d := range []struct {
		name, url string
		sync      Sync
	}{
		{"sqlite", "sqlite:" + b.TempDir() + "/bench.db", SyncNormal},
		{"sqlite-full", "sqlite:" + b.TempDir() + "/bench-full.db", SyncFull},
		{"postgres", "", ""},
	} {
		b.Run(d.name, func(b *testing.B) {
			url := d.url
			if url == "" {
				url = pgtest.Start(b)
			}
			s, err := Open(b.Context(), url, Options{JournalSync: d.sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fn(b, s)
		})
	}
}

// BenchmarkJournalAppend: intake's cost per update, written and committed.
func BenchmarkJournalAppend(b *testing.B) {
	benchDrivers(b, func(b *testing.B, s *Store) {
		var id int64
		for b.Loop() {
			id++
			if _, err := s.Append(b.Context(), []Update{{ID: id, ChatID: 1, Body: benchBody, Received: time.Now()}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkJournalSettle: marking one answered update, committed (on
// SQLite Settle only queues the write: flush waits for its commit).
func BenchmarkJournalSettle(b *testing.B) {
	benchDrivers(b, func(b *testing.B, s *Store) {
		// Unanswered entries are journaled in blocks outside the timer, so
		// every timed Settle updates one row.
		const block = 2000
		var id, journaled int64
		for b.Loop() {
			if id++; id > journaled {
				b.StopTimer()
				us := make([]Update, block)
				for i := range us {
					us[i] = Update{ID: journaled + int64(i) + 1, ChatID: 1, Body: benchBody, Received: time.Now()}
				}
				if _, err := s.Append(b.Context(), us); err != nil {
					b.Fatal(err)
				}
				journaled += block
				b.StartTimer()
			}
			if err := s.Settle(b.Context(), Answered, id); err != nil {
				b.Fatal(err)
			}
			if err := s.flush(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreateAlert: one /alert's store cost with 100,000 live alerts
// already stored (the scale), limits on: both counts are read.
func BenchmarkCreateAlert(b *testing.B) {
	benchDrivers(b, func(b *testing.B, s *Store) {
		if _, err := s.w.ExecContext(b.Context(), `INSERT INTO alerts (chat_id, pair, kind, state, rule, status, created_at)
			WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100000)
			SELECT n % 2000, 'BTC-USDT', 'above', 'armed', $1, $1, $2 FROM g`,
			[]byte("{}"), s.d.time(time.Now())); err != nil {
			b.Fatal(err)
		}
		if _, err := s.w.ExecContext(b.Context(), "UPDATE alert_totals SET live = 100000"); err != nil {
			b.Fatal(err)
		}
		// What autovacuum (Postgres) would have done by then.
		for _, q := range []string{"VACUUM", "ANALYZE"} {
			if _, err := s.w.ExecContext(b.Context(), q); err != nil {
				b.Fatal(err)
			}
		}
		a := AlertRow{ChatID: -1, Pair: "BTC-USDT", Kind: "above", Rule: []byte("{}"), Status: []byte("{}")}
		for b.Loop() {
			if _, err := s.CreateAlert(b.Context(), a, 1<<30, 1<<30); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFire: one evaluator tick firing 1,000 alerts across 250 chats in
// one transaction (alert updates, outbox rows, counters).
func BenchmarkFire(b *testing.B) {
	const n = 1000
	benchDrivers(b, func(b *testing.B, s *Store) {
		var round int
		for b.Loop() {
			b.StopTimer()
			round++
			if _, err := s.w.ExecContext(b.Context(), `INSERT INTO alerts (chat_id, pair, kind, state, rule, status, created_at)
				WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $3)
				SELECT n % 250, 'BTC-USDT', 'above', 'armed', $1, $1, $2 FROM g`, []byte("{}"), s.d.time(time.Now()), n); err != nil {
				b.Fatal(err)
			}
			var first int64
			if err := s.w.QueryRowContext(b.Context(), "SELECT MIN(id) FROM alerts WHERE state = 'armed'").Scan(&first); err != nil {
				b.Fatal(err)
			}
			fs := make([]Firing, n)
			for i := range fs {
				id := first + int64(i)
				fs[i] = Firing{AlertID: id, Trigger: fmt.Sprint(id, ":", round), State: "fired", Status: []byte(`{}`),
					Message: OutMessage{Text: "BTC-USDT is above 98,000: now 98,012.50 (Binance)"}}
			}
			b.StartTimer()
			fired, err := s.Fire(b.Context(), fs)
			if err != nil || !fired[n-1] {
				b.Fatal(fired[n-1], err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/firing")
	})
}

// BenchmarkJournalIntake: intake's pattern on SQLite, 32 callers each
// journaling one update and settling it, so the group committer shares
// commits between them; ns/op is per update (append + settle).
func BenchmarkJournalIntake(b *testing.B) {
	s, err := Open(b.Context(), "sqlite:"+b.TempDir()+"/bench.db", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var id atomic.Int64
	b.SetParallelism(16) // × GOMAXPROCS callers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			u := Update{ID: id.Add(1), ChatID: 1, Body: benchBody, Received: time.Now()}
			if _, err := s.Append(b.Context(), []Update{u}); err != nil {
				b.Error(err)
				return
			}
			if err := s.Settle(b.Context(), Answered, u.ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
