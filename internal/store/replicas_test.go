package store

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store/pgtest"
)

// drainTogether has every store take batches at once, each until take
// errs or returns none; record sees every batch, one at a time.
func drainTogether[T any](t *testing.T, stores []*Store, take func(*Store) ([]T, error), record func(*Store, []T)) {
	t.Helper()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, s := range stores {
		wg.Go(func() {
			for {
				batch, err := take(s)
				if err != nil {
					t.Error(err)
					return
				}
				if len(batch) == 0 {
					return
				}
				mu.Lock()
				record(s, batch)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func acquire(t *testing.T, s *Store, holder string, ttl time.Duration) (int64, bool) {
	t.Helper()
	token, held, err := s.AcquireLease(t.Context(), "leader", holder, ttl)
	if err != nil {
		t.Fatalf("AcquireLease(%s): %v", holder, err)
	}
	return token, held
}

func TestLeases(t *testing.T) {
	forEachDriver(t, func(t *testing.T, url string) {
		s := open(t, url, Options{})
		if _, ok, err := s.LeaseHolder(t.Context(), "leader"); err != nil || ok {
			t.Fatalf("LeaseHolder before any: ok %v, err %v", ok, err)
		}
		if tok, held := acquire(t, s, "a", time.Minute); !held || tok != 1 {
			t.Fatalf("first acquire: token %d held %v, want 1 true", tok, held)
		}
		if tok, held := acquire(t, s, "b", time.Minute); held || tok != 0 {
			t.Fatalf("acquire of a held lease: token %d held %v, want 0 false", tok, held)
		}
		if tok, held := acquire(t, s, "a", time.Minute); !held || tok != 1 {
			t.Fatalf("renewal: token %d held %v, want the same token 1", tok, held)
		}
		l, ok, err := s.LeaseHolder(t.Context(), "leader")
		if err != nil || !ok || l.Holder != "a" || l.Token != 1 {
			t.Fatalf("LeaseHolder: %+v ok %v err %v, want a with token 1", l, ok, err)
		}
		// A renewal with a lease already over stands for a holder that
		// stopped renewing: another takes it, with the next token.
		acquire(t, s, "a", -time.Second)
		if _, ok, _ := s.LeaseHolder(t.Context(), "leader"); ok {
			t.Fatal("an expired lease is still reported held")
		}
		if tok, held := acquire(t, s, "b", time.Minute); !held || tok != 2 {
			t.Fatalf("takeover after expiry: token %d held %v, want 2 true", tok, held)
		}
		if _, held := acquire(t, s, "a", time.Minute); held {
			t.Fatal("the old holder renewed a lease another holds")
		}
		// Releasing hands it over at once; releasing one not held is a no-op.
		if err := s.ReleaseLease(t.Context(), "leader", "a"); err != nil {
			t.Fatal(err)
		}
		if _, held := acquire(t, s, "c", time.Minute); held {
			t.Fatal("a release by a non-holder freed the lease")
		}
		if err := s.ReleaseLease(t.Context(), "leader", "b"); err != nil {
			t.Fatal(err)
		}
		if tok, held := acquire(t, s, "c", time.Minute); !held || tok != 3 {
			t.Fatalf("acquire after release: token %d held %v, want 3 true", tok, held)
		}
	})
}

func TestHeartbeats(t *testing.T) {
	forEachDriver(t, func(t *testing.T, url string) {
		s := open(t, url, Options{})
		for _, id := range []string{"b", "a"} {
			if err := s.Heartbeat(t.Context(), Replica{ID: id, Host: "h-" + id, Version: "v1", Started: base}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Heartbeat(t.Context(), Replica{ID: "a", Host: "h-a", Version: "v2", Started: base}); err != nil {
			t.Fatal(err)
		}
		rs, err := s.Replicas(t.Context(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 || rs[0].ID != "a" || rs[0].Version != "v2" || rs[1].Host != "h-b" || !rs[0].Started.Equal(base) ||
			time.Since(rs[0].Heartbeat) > time.Minute {
			t.Fatalf("Replicas: %+v", rs)
		}
		if err := s.ForgetReplica(t.Context(), "b"); err != nil {
			t.Fatal(err)
		}
		if rs, _ := s.Replicas(t.Context(), time.Minute); len(rs) != 1 || rs[0].ID != "a" {
			t.Fatalf("after ForgetReplica(b): %+v", rs)
		}
		if n, err := s.PruneReplicas(t.Context(), time.Hour); err != nil || n != 0 {
			t.Fatalf("PruneReplicas(1h): %d, %v; want 0 (a is live)", n, err)
		}
		if n, err := s.PruneReplicas(t.Context(), -time.Second); err != nil || n != 1 {
			t.Fatalf("PruneReplicas of all: %d, %v; want 1", n, err)
		}
	})
}

// On SQLite one process owns the journal: claims are off and Append works
// as before.
func TestClaimsOffOnSQLite(t *testing.T) {
	s := open(t, "sqlite::memory:", Options{})
	s.EnableClaims("a", time.Minute)
	if s.Replicated() {
		t.Fatal("SQLite reported replicated")
	}
	mustAppend(t, s, upd(1, 0))
	if us, err := s.ClaimOrphans(t.Context(), 10); err != nil || us != nil {
		t.Fatalf("ClaimOrphans on SQLite: %v, %v", us, err)
	}
	if n, err := s.RenewClaims(t.Context()); err != nil || n != 0 {
		t.Fatalf("RenewClaims on SQLite: %d, %v", n, err)
	}
	if got := ids(unanswered(t, s, 0)); !slices.Equal(got, []int64{1}) {
		t.Fatalf("unanswered %v", got)
	}
}

func claim(t *testing.T, s *Store, limit int) []int64 {
	t.Helper()
	us, err := s.ClaimOrphans(t.Context(), limit)
	if err != nil {
		t.Fatalf("ClaimOrphans: %v", err)
	}
	return ids(us)
}

func TestClaimsPostgres(t *testing.T) {
	url := pgtest.Start(t)
	a, b := open(t, url, Options{}), open(t, url, Options{})
	a.EnableClaims("a", time.Minute)
	b.EnableClaims("b", time.Minute)
	if !a.Replicated() {
		t.Fatal("Postgres not replicated")
	}
	mustAppend(t, a, upd(1, 0), upd(2, time.Second), upd(3, 2*time.Second))
	if got := claim(t, b, 10); len(got) != 0 {
		t.Fatalf("b took %v of a's live claims", got)
	}
	if n, err := a.RenewClaims(t.Context()); err != nil || n != 3 {
		t.Fatalf("RenewClaims: %d, %v; want 3", n, err)
	}
	if err := a.Settle(t.Context(), Answered, 2); err != nil {
		t.Fatal(err)
	}
	if n, err := a.ReleaseClaims(t.Context()); err != nil || n != 2 {
		t.Fatalf("ReleaseClaims: %d, %v; want 2 (one is settled)", n, err)
	}
	if got := claim(t, b, 1); !slices.Equal(got, []int64{1}) {
		t.Fatalf("b's first orphan %v, want [1] (oldest first, limit 1)", got)
	}
	if got := claim(t, b, 10); !slices.Equal(got, []int64{3}) {
		t.Fatalf("b's orphans %v, want [3]", got)
	}
	if got := claim(t, a, 10); len(got) != 0 {
		t.Fatalf("a took back %v from b", got)
	}
	if n, _ := b.RenewClaims(t.Context()); n != 2 {
		t.Fatalf("b renews %d claims, want 2", n)
	}

	// A replica that died: its claims run out (a lease already over stands
	// for the time passing) and the survivors share its entries, each
	// taken once even with both sweeping at once.
	dead := open(t, url, Options{})
	dead.EnableClaims("dead", -time.Second)
	var us []Update
	for i := range int64(300) {
		us = append(us, upd(100+i, time.Duration(i)*time.Millisecond))
	}
	mustAppend(t, dead, us...)
	seen := map[int64]string{}
	drainTogether(t, []*Store{a, b}, func(s *Store) ([]Update, error) {
		return s.ClaimOrphans(t.Context(), 7)
	}, func(s *Store, got []Update) {
		for _, u := range got {
			if prev, ok := seen[u.ID]; ok {
				t.Errorf("update %d claimed by %s and %s", u.ID, prev, s.claimer().by)
			}
			seen[u.ID] = s.claimer().by
		}
	})
	if len(seen) != len(us) {
		t.Fatalf("%d of %d orphans claimed", len(seen), len(us))
	}
}
