package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store/pgtest"
)

// benchBody is the size of a typical /price message update.
var benchBody = []byte(fmt.Sprintf(`{"update_id":1,"message":{"message_id":1,"from":{"id":1,"is_bot":false,"first_name":"A"},"chat":{"id":1,"type":"private"},"date":%d,"text":"/price btc"}}`, time.Now().Unix()))

func benchDrivers(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, d := range []struct{ name, url string }{
		{"sqlite", "sqlite:" + b.TempDir() + "/bench.db"},
		{"postgres", ""},
	} {
		b.Run(d.name, func(b *testing.B) {
			url := d.url
			if url == "" {
				url = pgtest.Start(b)
			}
			s, err := Open(b.Context(), url, Options{})
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

// BenchmarkJournalSettle: marking one answered update, committed.
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
		}
	})
}
