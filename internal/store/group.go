package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit for SQLite's journal writes.
//
// SQLite has one writer, and with synchronous=FULL every commit is an fsync
// of the WAL. At 200 updates/s each update was one commit for its Append and
// one for its Settle, each parsed afresh by the driver: the journal cost the
// bot 2.4× the CPU of the build before it, and under I/O contention Appends
// queued behind each other's fsync one by one.
//
// The group committer is one goroutine that owns the journal's writes: it
// takes every Append and Settle waiting for the writer and runs them in one
// transaction (BEGIN IMMEDIATE … COMMIT, one fsync), then answers each
// caller. A caller returns only after the transaction holding its write
// committed, so "committed before acknowledged" holds for every Append, and
// Settle keeps its meaning (recorded on return). A batch that fails is run
// again one request per transaction, so one caller's error (a full disk, a
// bad row) is never another's.
//
// Settles do not wait: Settle queues its write and returns, and the
// committer records it with the next transaction. A batch of settles only
// waits up to settleWait for a write somebody waits for (an Append) to share
// its commit (and, at journal.sync=full, its fsync)
// before it commits alone at synchronous=NORMAL. Workers were blocked on
// every settle's commit before: with a slow disk (another process syncing)
// each one waited for an fsync per update, the workers fell behind intake
// and the queue filled. A settle's caller has already had its reply
// accepted by Telegram, so a crash before the settle commits (settleWait
// plus the commits ahead of it, milliseconds) answers the update again after
// the restart, counted as a replay, like the crash window the journal always
// had between the reply and its settle. Close commits what is queued; a
// settle that fails is logged and counted (store errors, op settle). Reads
// of the journal (Unanswered, JournalStats) first wait for the settles
// queued before them, so a Settle is visible to the next read.
//
// The statements each request runs are prepared once and kept (stmtCache):
// the driver otherwise parses and plans every INSERT and UPDATE again.

const (
	// settleWait bounds how long a batch of settles waits for an Append to
	// commit with (at 200 updates/s one arrives every 5 ms on average).
	settleWait = 10 * time.Millisecond
	// groupMax bounds the requests in one transaction.
	groupMax = 256
)

// errStoreClosed answers a write offered after Close.
var errStoreClosed = errors.New("store is closed")

// groupReq is one caller's write waiting for the committer.
type groupReq struct {
	fn      func(execer) error
	relaxed bool // a settle: may commit at synchronous=NORMAL
	state   atomic.Int32
	done    chan error  // buffered: the committer never blocks on a caller
	after   func(error) // instead of done for a request nobody waits for
}

// answer tells the request's caller how its transaction ended.
func (r *groupReq) answer(err error) {
	if r.after != nil {
		r.after(err)
		return
	}
	r.done <- err
}

// groupReq states: a caller whose context ends may withdraw a request the
// committer has not taken yet; a taken one is answered.
const (
	reqWaiting int32 = iota
	reqTaken
	reqWithdrawn
)

type committer struct {
	s      *Store
	wake   chan struct{} // capacity 1: something was queued
	stop   chan struct{}
	exited chan struct{}
	stmts  stmtCache

	mu     sync.Mutex
	queue  []*groupReq
	closed bool
}

func newCommitter(s *Store) *committer {
	c := &committer{s: s, wake: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
	c.stmts.db = s.w
	go c.run()
	return c
}

// grouped runs fn on the writer through the committer (SQLite) and returns
// once the transaction holding it committed, or directly (Postgres, whose
// writers run side by side). fn may run twice (the batch failed and is
// retried alone): it must reset what it records at its start. tx (for
// Postgres) and relaxed are Store.write's; fn always runs in a transaction
// on SQLite, and its statements run without its caller's context.
func (s *Store) grouped(ctx context.Context, tx, relaxed bool, fn func(execer) error) error {
	c := s.group
	if c == nil {
		return s.write(ctx, tx, relaxed, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &groupReq{fn: fn, relaxed: relaxed, done: make(chan error, 1)}
	if !c.enqueue(r) {
		return errStoreClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqWaiting, reqWithdrawn) {
			return ctx.Err()
		}
		return <-r.done // taken: it commits or fails as a whole, and we say which
	}
}

// deferred queues fn like grouped but returns at once (nil) on SQLite;
// after runs on the committer with the transaction's outcome and must be
// quick. Without a committer fn runs now and deferred returns what after
// returns.
func (s *Store) deferred(ctx context.Context, tx, relaxed bool, fn func(execer) error, after func(error) error) error {
	c := s.group
	if c == nil {
		return after(s.write(ctx, tx, relaxed, fn))
	}
	r := &groupReq{fn: fn, relaxed: relaxed, after: func(err error) { _ = after(err) }}
	if !c.enqueue(r) {
		return after(errStoreClosed)
	}
	return nil
}

// flush returns once every write queued before it has committed or failed.
// It asks for visibility, not durability: its empty write is relaxed, so a
// read (a metrics scrape, /status) does not cost an fsync of its own.
func (s *Store) flush(ctx context.Context) error {
	if s.group == nil {
		return nil
	}
	return s.grouped(ctx, false, true, func(execer) error { return nil })
}

func (c *committer) enqueue(r *groupReq) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// close commits what is queued and stops the committer; later writes fail.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	<-c.exited
	c.stmts.close()
}

func (c *committer) run() {
	defer close(c.exited)
	timer := time.NewTimer(settleWait)
	timer.Stop()
	for {
		batch := c.take(nil)
		if len(batch) == 0 {
			select {
			case <-c.wake:
				continue
			case <-c.stop:
				if batch = c.take(nil); len(batch) == 0 {
					return
				}
			}
		}
		if onlyDeferred(batch) {
			timer.Reset(settleWait)
		wait:
			for len(batch) < groupMax {
				select {
				case <-c.wake:
					n := len(batch)
					if batch = c.take(batch); !onlyDeferred(batch[n:]) {
						break wait
					}
				case <-timer.C:
					break wait
				case <-c.stop:
					break wait
				}
			}
			timer.Stop()
		}
		c.commit(batch)
		c.stmts.prepareWanted()
	}
}

// take moves up to groupMax-len(batch) waiting requests onto batch.
func (c *committer) take(batch []*groupReq) []*groupReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.queue {
		if len(batch) == groupMax {
			break
		}
		n++
		if r.state.CompareAndSwap(reqWaiting, reqTaken) {
			batch = append(batch, r)
		}
	}
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	return batch
}

func onlyRelaxed(batch []*groupReq) bool {
	for _, r := range batch {
		if !r.relaxed {
			return false
		}
	}
	return true
}

// onlyDeferred reports whether nobody waits for batch's commit (settles).
func onlyDeferred(batch []*groupReq) bool {
	for _, r := range batch {
		if r.after == nil {
			return false
		}
	}
	return true
}

// commit runs batch in one transaction and answers each request; a failed
// batch of several is retried one request at a time.
func (c *committer) commit(batch []*groupReq) {
	err := c.run1(batch)
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			r.answer(c.run1([]*groupReq{r}))
		}
		return
	}
	for _, r := range batch {
		r.answer(err)
	}
}

func (c *committer) run1(batch []*groupReq) error {
	// Always a transaction, even for one request: the prepared statements
	// run through it (database/sql binds them to a Tx, not to a Conn).
	return c.s.write(context.Background(), true, onlyRelaxed(batch), func(ex execer) error {
		t := cachedTx{ex.(*sql.Tx), &c.stmts}
		for _, r := range batch {
			if err := r.fn(t); err != nil {
				return err
			}
		}
		return nil
	})
}

// stmtCache keeps the writer's prepared statements by SQL text. A statement
// is prepared after the transaction that first ran it twice (preparing on
// the pool inside a transaction would wait for the pool's one connection),
// and at most stmtCacheMax are kept: the journal's one-row append and
// settle are the ones that matter.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	seen   map[string]int
	wanted []string
}

const stmtCacheMax = 16

func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[q]; st != nil {
		return st
	}
	if len(c.stmts) >= stmtCacheMax {
		return nil
	}
	if c.seen == nil || len(c.seen) > 256 {
		c.seen = map[string]int{}
	}
	if c.seen[q]++; c.seen[q] == 2 {
		c.wanted = append(c.wanted, q)
	}
	return nil
}

// prepareWanted prepares the statements seen twice, outside any
// transaction; one that fails to prepare is left uncached.
func (c *stmtCache) prepareWanted() {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = nil
	c.mu.Unlock()
	for _, q := range wanted {
		st, err := c.db.PrepareContext(context.Background(), q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts == nil {
			c.stmts = map[string]*sql.Stmt{}
		}
		c.stmts[q] = st
		delete(c.seen, q)
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// cachedTx runs statements in tx through the cache's prepared ones. It
// ignores the caller's context: one caller going away must not interrupt
// the others' statements in the batch (a withdrawn request is never taken),
// and no context spares the driver a watcher goroutine per statement.
type cachedTx struct {
	tx *sql.Tx
	c  *stmtCache
}

func (t cachedTx) ExecContext(_ context.Context, q string, args ...any) (sql.Result, error) {
	ctx := context.Background()
	if st := t.c.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

func (t cachedTx) QueryContext(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx := context.Background()
	if st := t.c.get(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}
