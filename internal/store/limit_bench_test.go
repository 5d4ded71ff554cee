package store

import (
	"testing"

	"golang.org/x/time/rate"

	"github.com/cryptobot-dev/cryptobot/internal/store/pgtest"
)

// The two ways to share the bot token's outbound limit between replicas
// (issue 14), per send: a token bucket row in Postgres taken with one
// UPDATE … RETURNING, against the split the bot uses (each replica an
// in-memory limiter at 1/peers of the rate; peers come from the heartbeat
// rows it writes anyway, so a send costs no round trip).
//
//	go test ./internal/store -run '^$' -bench SharedLimit -benchtime 2000x
func BenchmarkSharedLimit(b *testing.B) {
	b.Run("postgres-bucket", func(b *testing.B) {
		s, err := Open(b.Context(), pgtest.Start(b), Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if _, err := s.w.ExecContext(b.Context(), `CREATE TABLE bucket (name TEXT PRIMARY KEY, tokens DOUBLE PRECISION NOT NULL,
			rate DOUBLE PRECISION NOT NULL, burst DOUBLE PRECISION NOT NULL, at TIMESTAMPTZ NOT NULL);
			INSERT INTO bucket VALUES ('global', 30, 1e9, 30, now())`); err != nil {
			b.Fatal(err)
		}
		// Refill by the time passed, take one token if there is one; the
		// caller waits (and asks again) when none is left. The row lock
		// serialises every send of every replica.
		const take = `UPDATE bucket SET
			tokens = LEAST(burst, tokens + rate * EXTRACT(EPOCH FROM clock_timestamp() - at)) - 1, at = clock_timestamp()
			WHERE name = 'global' AND LEAST(burst, tokens + rate * EXTRACT(EPOCH FROM clock_timestamp() - at)) >= 1
			RETURNING tokens`
		b.SetParallelism(4) // 4 × GOMAXPROCS senders: workers of several replicas
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				var left float64
				if err := s.w.QueryRowContext(b.Context(), take).Scan(&left); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("split-in-memory", func(b *testing.B) {
		l := rate.NewLimiter(1e9, 30) // the sender's global limiter at its share
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !l.Allow() {
					continue
				}
			}
		})
	})
}
