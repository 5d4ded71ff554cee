package telegram

import (
	"sync"
	"time"

	"github.com/cryptobot-dev/cryptobot/modules"
)

// item is one accepted update, already parsed into a Request.
type item struct{ req modules.Request }

// queue is the bounded FIFO between intake and the workers. It has its own
// lock; intake reserves a slot before the (slow) journal write, so memory
// stays bounded and a reserved update always finds room.
type queue struct {
	mu         sync.Mutex
	open       bool   // accepting: between Start and Shutdown
	start      func() // starts a worker; nil until the workers may run
	workers    int    // running: counted up by push, down by next
	maxWorkers int
	ring       ring
	reserved   int           // slots promised to intake, not yet pushed
	inFlight   int           // queued plus being handled
	pending    time.Time     // when the pipeline last went from idle to busy
	answered   time.Time     // when an update was last answered; zero before the first
	room       chan struct{} // closed when a slot frees up while someone waits
	waiting    bool
}

func newQueue(size, workers int) *queue {
	return &queue{ring: newRing(size), maxWorkers: workers, room: make(chan struct{})}
}

// freed wakes whoever waits for room; q.mu must be held.
func (q *queue) freed() {
	if q.waiting {
		close(q.room)
		q.room, q.waiting = make(chan struct{}), false
	}
}

// queueSnapshot is the queue's state for readiness, status and gauges.
type queueSnapshot struct {
	Depth        int
	Capacity     int
	InFlight     int
	Workers      int       // running now
	Oldest       time.Time // Received of the oldest queued update; zero when empty
	LastProgress time.Time // the later of the last answer and going busy
	LastAnswered time.Time
}

func (q *queue) snapshot() queueSnapshot {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := queueSnapshot{
		Depth: q.ring.n, Capacity: q.ring.size, InFlight: q.inFlight, Workers: q.workers,
		LastProgress: later(q.answered, q.pending), LastAnswered: q.answered,
	}
	if q.ring.n > 0 {
		s.Oldest = q.ring.peek().req.Received
	}
	return s
}

func (q *queue) setOpen(open bool) {
	q.mu.Lock()
	q.open = open
	q.mu.Unlock()
}

// wait returns a channel closed when a slot frees or an item is done.
func (q *queue) wait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.waiting = true
	return q.room
}

// reserve promises up to n slots and returns how many it could; open is
// false once Shutdown began. Each slot must be pushed or released. When it
// got none, room is closed as soon as a slot frees up.
func (q *queue) reserve(n int) (got int, open bool, room <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.open {
		return 0, false, nil
	}
	got = min(n, q.ring.size-q.ring.n-q.reserved)
	q.reserved += got
	if got == 0 {
		q.waiting = true
	}
	return got, true, q.room
}

func (q *queue) release(n int) {
	if n == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reserved -= n
	q.freed()
}

// startWorkers lets workers run: from now on a push that finds fewer than
// maxWorkers running calls start, and it does so now for what intake queued
// before.
//
// Workers come and go with the work instead of idling as a fixed pool: a
// worker that has handled an update keeps the stack it grew (6–8 KiB after
// one SQLite statement), and a channel hands work to its parked receivers
// in turn, so 32 idle workers would each hold one while a few do the work.
// Counting them under mu, where push and next also look at the ring, means
// no push can miss a worker that is just leaving.
func (q *queue) startWorkers(start func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.start = start
	for range q.ring.n {
		if !q.startWorker() {
			break
		}
	}
}

// startWorker starts a worker unless maxWorkers run or workers may not run
// yet; q.mu must be held.
func (q *queue) startWorker() bool {
	if q.start == nil || q.workers >= q.maxWorkers {
		return false
	}
	q.workers++
	q.start()
	return true
}

// push queues an item into a reserved slot and starts a worker if fewer than
// maxWorkers run. It reports false when the queue closed meanwhile
// (Shutdown began): the update then stays in the journal for the next start.
func (q *queue) push(it item) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reserved--
	if !q.open {
		q.freed()
		return false
	}
	q.ring.push(it)
	if q.inFlight == 0 {
		q.pending = it.req.Received
	}
	q.inFlight++
	// Under the lock, so Shutdown, which closes the queue under it before
	// it waits for the workers, always sees the one started here.
	q.startWorker()
	return true
}

// next pops the oldest item for a worker. When there is none the worker is
// counted out and must leave.
func (q *queue) next() (item, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.ring.pop()
	if ok {
		q.freed()
	} else {
		q.workers--
	}
	return it, ok
}

// leave counts out a worker that stops with work left (Shutdown aborted).
func (q *queue) leave() {
	q.mu.Lock()
	q.workers--
	q.mu.Unlock()
}

// done records that a popped item is finished.
func (q *queue) done(answered bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight--
	if answered {
		q.answered = time.Now()
	}
	q.freed() // the replayer waits for its page of the journal to settle
}

// drop empties the queue (Shutdown out of time) and returns the update ids;
// they stay unanswered in the journal.
func (q *queue) drop() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ids []int64
	for it, ok := q.ring.pop(); ok; it, ok = q.ring.pop() {
		q.inFlight--
		ids = append(ids, it.req.UpdateID)
	}
	return ids
}

// ring is the bounded FIFO behind the queue; guarded by queue.mu. Its
// storage grows with the backlog up to size and stays there: 1,024 slots
// allocated up front are 160 KB of heap that a bot keeping up never uses.
type ring struct {
	items   []item
	head, n int
	size    int // the bound; reserve keeps n within it
}

func newRing(size int) ring { return ring{items: make([]item, min(size, 64)), size: size} }

func (r *ring) push(it item) {
	if r.n == len(r.items) {
		items := make([]item, min(2*len(r.items), r.size))
		for i := range r.n {
			items[i] = r.items[(r.head+i)%len(r.items)]
		}
		r.items, r.head = items, 0
	}
	r.items[(r.head+r.n)%len(r.items)] = it
	r.n++
}

func (r *ring) peek() item { return r.items[r.head] }

func (r *ring) pop() (item, bool) {
	if r.n == 0 {
		return item{}, false
	}
	it := r.items[r.head]
	r.items[r.head] = item{} // drop references for the GC
	r.head = (r.head + 1) % len(r.items)
	r.n--
	return it, true
}
