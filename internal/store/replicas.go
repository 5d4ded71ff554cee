package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Replica is one running bot process sharing the store.
type Replica struct {
	ID        string
	Host      string
	Version   string
	Started   time.Time
	Heartbeat time.Time // when its last heartbeat was written (the database's clock on Postgres)
}

// Lease is the current holder of a named lease.
type Lease struct {
	Name    string
	Holder  string
	Token   int64 // grows whenever the holder changes: a fencing token
	Expires time.Time
}

// claimant is who this store claims journal entries for, and for how long.
type claimant struct {
	by    string
	lease time.Duration
}

// Replicated reports whether the store is shared by replicas (Postgres);
// a SQLite file belongs to one process, which is the only replica.
func (s *Store) Replicated() bool { return s.info.Driver == "postgres" }

// EnableClaims makes every later Append claim the updates it journals for
// replica by, for lease: another replica takes an update over (ClaimOrphans)
// only once the claim has expired. RenewClaims extends this replica's
// claims and ReleaseClaims gives them up. Call it before the first Append;
// it does nothing on SQLite, where one process owns the journal.
func (s *Store) EnableClaims(by string, lease time.Duration) {
	if !s.Replicated() || by == "" || lease <= 0 {
		return
	}
	s.claims.Store(&claimant{by: by, lease: lease})
}

// claimer returns the claimant set by EnableClaims, or nil.
func (s *Store) claimer() *claimant { return s.claims.Load() }

// sortUpdates orders us as the journal is replayed: oldest received first,
// ties in update_id order (RETURNING keeps no order).
func sortUpdates(us []Update) {
	slices.SortFunc(us, func(a, b Update) int {
		return cmp.Or(a.Received.Compare(b.Received), cmp.Compare(a.ID, b.ID))
	})
}

// nowPlus appends to args what "now + d" needs and returns its SQL: the
// database's clock on Postgres (replicas' clocks may disagree), the
// process's on SQLite (one process).
func (s *Store) nowPlus(args *[]any, d time.Duration) string {
	if s.Replicated() {
		*args = append(*args, d.Microseconds())
		return fmt.Sprintf("(now() + $%d::bigint * interval '1 microsecond')", len(*args))
	}
	*args = append(*args, time.Now().Add(d).UnixMicro())
	return fmt.Sprintf("$%d", len(*args))
}

// control runs a replica upkeep statement: on Postgres on the replicas'
// own pool, so a busy main pool cannot delay it past the lease.
func (s *Store) control(ctx context.Context, fn func(execer) error) error {
	if s.ctl != nil {
		return fn(s.ctl)
	}
	return s.write(ctx, false, true, fn)
}

// reader is the pool replica upkeep reads from.
func (s *Store) reader() *sql.DB {
	if s.ctl != nil {
		return s.ctl
	}
	return s.r
}

// Heartbeat records that r is alive now (its Heartbeat field is ignored).
func (s *Store) Heartbeat(ctx context.Context, r Replica) (err error) {
	defer s.m.observe(opReplicas, time.Now(), &err)
	args := []any{r.ID, r.Host, r.Version, s.d.time(r.Started)}
	now := s.nowPlus(&args, 0)
	err = s.control(ctx, func(ex execer) error {
		_, err := ex.ExecContext(ctx, `INSERT INTO replicas (id, host, version, started_at, heartbeat_at)
			VALUES ($1, $2, $3, $4, `+now+`)
			ON CONFLICT (id) DO UPDATE SET host = excluded.host, version = excluded.version, heartbeat_at = excluded.heartbeat_at`, args...)
		return err
	})
	if err != nil {
		return s.wrap("heartbeat", err)
	}
	return nil
}

// Replicas returns the replicas whose last heartbeat is within the last
// within, ordered by id.
func (s *Store) Replicas(ctx context.Context, within time.Duration) (rs []Replica, err error) {
	defer s.m.observe(opReplicas, time.Now(), &err)
	args := []any{}
	since := s.nowPlus(&args, -within)
	rs, err = queryAll(ctx, s.reader(), `SELECT id, host, version, started_at, heartbeat_at FROM replicas
		WHERE heartbeat_at >= `+since+` ORDER BY id`, args,
		func(rows *sql.Rows, r *Replica) error {
			return rows.Scan(&r.ID, &r.Host, &r.Version, timeScanner{&r.Started}, timeScanner{&r.Heartbeat})
		})
	if err != nil {
		return nil, s.wrap("replicas", err)
	}
	return rs, nil
}

// ForgetReplica deletes replica id's row, at its graceful stop: its peers
// stop counting it at once.
func (s *Store) ForgetReplica(ctx context.Context, id string) (err error) {
	defer s.m.observe(opReplicas, time.Now(), &err)
	err = s.control(ctx, func(ex execer) error {
		_, err := ex.ExecContext(ctx, "DELETE FROM replicas WHERE id = $1", id)
		return err
	})
	if err != nil {
		return s.wrap("forget replica", err)
	}
	return nil
}

// PruneReplicas deletes the rows of replicas silent for longer than age
// (killed ones, which never said goodbye) and returns how many.
func (s *Store) PruneReplicas(ctx context.Context, age time.Duration) (n int, err error) {
	defer s.m.observe(opReplicas, time.Now(), &err)
	args := []any{}
	before := s.nowPlus(&args, -age)
	err = s.write(ctx, false, true, func(ex execer) error {
		return execCount(ctx, ex, &n, "DELETE FROM replicas WHERE heartbeat_at < "+before, args...)
	})
	if err != nil {
		return 0, s.wrap("prune replicas", err)
	}
	return n, nil
}

// AcquireLease takes or renews lease name for holder for ttl, in one
// statement: it succeeds when nobody holds it, the holder's lease has
// expired, or holder already holds it. token is the lease's fencing token,
// which grows by one each time the holder changes; held is false (token 0)
// while another holder's lease runs.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (token int64, held bool, err error) {
	defer s.m.observe(opLease, time.Now(), &err)
	args := []any{name, holder}
	until := s.nowPlus(&args, ttl)
	now := s.nowPlus(&args, 0)
	err = s.control(ctx, func(ex execer) error {
		rows, err := ex.QueryContext(ctx, `INSERT INTO leases (name, holder, token, expires_at) VALUES ($1, $2, 1, `+until+`)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
				token = CASE WHEN leases.holder = excluded.holder THEN leases.token ELSE leases.token + 1 END
			WHERE leases.holder = excluded.holder OR leases.expires_at < `+now+`
			RETURNING token`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		if rows.Next() {
			held = true
			if err := rows.Scan(&token); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, false, s.wrap("acquire lease "+name, err)
	}
	return token, held, nil
}

// ReleaseLease ends holder's lease name at once, so another replica may
// take it without waiting for it to expire; it does nothing when holder
// does not hold it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) (err error) {
	defer s.m.observe(opLease, time.Now(), &err)
	args := []any{name, holder}
	past := s.nowPlus(&args, -time.Millisecond)
	err = s.control(ctx, func(ex execer) error {
		_, err := ex.ExecContext(ctx, "UPDATE leases SET expires_at = "+past+" WHERE name = $1 AND holder = $2", args...)
		return err
	})
	if err != nil {
		return s.wrap("release lease "+name, err)
	}
	return nil
}

// LeaseHolder returns lease name as it stands; ok is false when nobody
// holds it (never taken, or expired).
func (s *Store) LeaseHolder(ctx context.Context, name string) (l Lease, ok bool, err error) {
	defer s.m.observe(opLease, time.Now(), &err)
	args := []any{name}
	now := s.nowPlus(&args, 0)
	err = s.reader().QueryRowContext(ctx, "SELECT name, holder, token, expires_at FROM leases WHERE name = $1 AND expires_at >= "+now, args...).
		Scan(&l.Name, &l.Holder, &l.Token, timeScanner{&l.Expires})
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, s.wrap("lease "+name, err)
	}
	return l, true, nil
}

// RenewClaims extends this replica's claims on its unsettled journal
// entries by the claim lease and returns how many it holds. Without
// EnableClaims it does nothing.
func (s *Store) RenewClaims(ctx context.Context) (n int, err error) {
	c := s.claimer()
	if c == nil {
		return 0, nil
	}
	defer s.m.observe(opClaims, time.Now(), &err)
	args := []any{c.by}
	until := s.nowPlus(&args, c.lease)
	err = s.control(ctx, func(ex execer) error {
		return execCount(ctx, ex, &n, "UPDATE journal SET claimed_until = "+until+" WHERE claimed_by = $1 AND outcome IS NULL", args...)
	})
	if err != nil {
		return 0, s.wrap("renew claims", err)
	}
	return n, nil
}

// ReleaseClaims gives up this replica's claims on its unsettled entries
// (at a graceful stop, after the drain), so a peer answers them at its next
// sweep instead of after the lease. Without EnableClaims it does nothing.
func (s *Store) ReleaseClaims(ctx context.Context) (n int, err error) {
	c := s.claimer()
	if c == nil {
		return 0, nil
	}
	defer s.m.observe(opClaims, time.Now(), &err)
	err = s.control(ctx, func(ex execer) error {
		return execCount(ctx, ex, &n, "UPDATE journal SET claimed_until = NULL WHERE claimed_by = $1 AND outcome IS NULL", c.by)
	})
	if err != nil {
		return 0, s.wrap("release claims", err)
	}
	return n, nil
}

// ClaimOrphans claims for this replica up to limit unsettled entries that
// nobody holds (their claim expired or was released: the replica that took
// them died or stopped), oldest first, and returns them. Concurrent sweeps
// on other replicas skip the rows this one is taking (SKIP LOCKED), so
// each orphan goes to one replica. Without EnableClaims it returns nothing.
func (s *Store) ClaimOrphans(ctx context.Context, limit int) (us []Update, err error) {
	c := s.claimer()
	if c == nil || limit <= 0 {
		return nil, nil
	}
	defer s.m.observe(opClaims, time.Now(), &err)
	args := []any{c.by, limit}
	until := s.nowPlus(&args, c.lease)
	now := s.nowPlus(&args, 0)
	err = s.write(ctx, false, false, func(ex execer) error {
		var err error
		us, err = queryAll(ctx, ex, `UPDATE journal SET claimed_by = $1, claimed_until = `+until+` WHERE update_id IN (
			SELECT update_id FROM journal WHERE outcome IS NULL AND (claimed_until IS NULL OR claimed_until < `+now+`)
			ORDER BY received_at, update_id LIMIT $2`+s.d.forUpdate+`)
			RETURNING update_id, chat_id, body, received_at`, args,
			func(rows *sql.Rows, u *Update) error {
				return rows.Scan(&u.ID, &u.ChatID, &u.Body, timeScanner{&u.Received})
			})
		return err
	})
	if err != nil {
		return nil, s.wrap("claim orphans", err)
	}
	sortUpdates(us)
	return us, nil
}
