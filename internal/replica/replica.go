// Package replica runs a bot process as one of several replicas on one
// Postgres store: it writes a heartbeat row, keeps this replica's journal
// claims alive, elects one leader with a lease (fencing token) for the
// one-of-a-kind jobs (alert evaluator, digest scheduler, journal pruning,
// the poller) and tells the bot how many peers share the outbound limits.
// On SQLite the process is the only replica: Solo always leads.
package replica

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// LeaderLease is the name of the leader's lease row.
const LeaderLease = "leader"

// Store is what a Node needs from the store (internal/store implements it).
type Store interface {
	Heartbeat(ctx context.Context, r store.Replica) error
	Replicas(ctx context.Context, within time.Duration) ([]store.Replica, error)
	ForgetReplica(ctx context.Context, id string) error
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (token int64, held bool, err error)
	ReleaseLease(ctx context.Context, name, holder string) error
	LeaseHolder(ctx context.Context, name string) (store.Lease, bool, error)
	RenewClaims(ctx context.Context) (int, error)
}

// Options configure New.
type Options struct {
	Store     Store
	Self      store.Replica // ID, Host, Version, Started
	Lease     time.Duration // leader lease and journal claim lease; default 15 s
	Heartbeat time.Duration // default 5 s; must be below Lease/2
	// Sweep is called after each heartbeat to take over orphaned journal
	// entries; it must not block (the bot queues a sweep of its own).
	Sweep func()
	// OnPeers is told the number of live replicas (self included) whenever
	// it changes, to share the outbound limits.
	OnPeers    func(n int)
	Registerer prometheus.Registerer
	Log        *slog.Logger
	// now is the clock for the lease deadline; tests replace it.
	now func() time.Time
}

// Node is this process as a replica. Run it; WhileLeader runs the jobs only
// one replica may run.
type Node struct {
	o   Options
	m   *nodeMetrics
	log *slog.Logger

	leadMu   sync.Mutex // serialises lead and Resign: no term begins once resigned
	mu       sync.Mutex
	term     context.Context // the current leadership's context; nil while not leading
	endTerm  context.CancelFunc
	termCh   chan struct{} // closed when a term begins
	token    int64
	deadline time.Time // the term ends if the lease is not renewed by then
	resigned bool
	peers    int
	jobs     sync.WaitGroup // WhileLeader jobs inside a term
	solo     bool
}

// New checks o and registers the metrics.
func New(o Options) (*Node, error) {
	if o.Store == nil || o.Self.ID == "" {
		return nil, errors.New("replica: store and self id are required")
	}
	if o.Lease == 0 {
		o.Lease = 15 * time.Second
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 5 * time.Second
	}
	if o.Heartbeat <= 0 || o.Lease <= 0 || 2*o.Heartbeat >= o.Lease {
		return nil, errors.New("replica: heartbeat must be positive and below lease/2")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	n := &Node{o: o, log: o.Log, termCh: make(chan struct{}), peers: 1}
	var err error
	if n.m, err = newNodeMetrics(o.Registerer); err != nil {
		return nil, err
	}
	return n, nil
}

// Solo is the only replica (SQLite): it always leads and shares nothing.
func Solo(reg prometheus.Registerer) (*Node, error) {
	m, err := newNodeMetrics(reg)
	if err != nil {
		return nil, err
	}
	m.leader.Set(1)
	m.peers.Set(1)
	return &Node{m: m, solo: true, peers: 1, log: slog.New(slog.DiscardHandler)}, nil
}

// Replicated reports whether this is one of several replicas (not Solo).
func (n *Node) Replicated() bool { return !n.solo }

// Self is this replica's identity.
func (n *Node) Self() store.Replica { return n.o.Self }

// Leading reports whether this replica holds the leader lease now.
func (n *Node) Leading() bool {
	if n.solo {
		return true
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.term != nil
}

// Peers is the number of live replicas seen at the last heartbeat.
func (n *Node) Peers() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peers
}

// Reclaimed counts journal entries taken over from dead replicas.
func (n *Node) Reclaimed(k int) { n.m.orphans.Add(float64(k)) }

// WhileLeader runs job with a context that ends when this replica stops
// leading, again each time it leads, until ctx ends. On Solo it runs job
// once with ctx.
func (n *Node) WhileLeader(ctx context.Context, job func(ctx context.Context)) {
	if n.solo {
		job(ctx)
		return
	}
	for {
		term, ok := n.waitTerm(ctx)
		if !ok {
			return
		}
		job(term)
		n.jobs.Done()
		if ctx.Err() != nil {
			return
		}
	}
}

// waitTerm blocks until a term begins (and counts the caller in jobs).
func (n *Node) waitTerm(ctx context.Context) (context.Context, bool) {
	for {
		n.mu.Lock()
		term, ch := n.term, n.termCh
		if term != nil && term.Err() == nil {
			n.jobs.Add(1)
			n.mu.Unlock()
			return mergeDone(ctx, term), true
		}
		n.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, false
		case <-ch:
		}
	}
}

// mergeDone is term, also ended when ctx ends.
func mergeDone(ctx, term context.Context) context.Context {
	c, cancel := context.WithCancel(term)
	stop := context.AfterFunc(ctx, cancel)
	context.AfterFunc(c, func() { stop() })
	return c
}

// Run heartbeats every Heartbeat until ctx ends: the replica row, the
// journal claims, the leader lease, the peer count, then a sweep for
// orphans. When ctx ends it resigns (Resign) and deletes its row.
func (n *Node) Run(ctx context.Context) {
	if n.solo {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(n.o.Heartbeat)
	defer t.Stop()
	for {
		n.beat(ctx)
		select {
		case <-ctx.Done():
			n.Resign()
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := n.o.Store.ForgetReplica(fctx, n.o.Self.ID); err != nil {
				n.m.errors.WithLabelValues(opHeartbeat).Inc()
			}
			cancel()
			return
		case <-t.C:
		}
	}
}

// Lease error ops, the op label of lease_errors_total.
const (
	opHeartbeat = "heartbeat"
	opLease     = "lease"
	opClaim     = "claim"
)

func (n *Node) beat(ctx context.Context) {
	// A slow store may delay a beat up to half the lease: a later renewal
	// still lands in time, a step down would cost a takeover.
	bctx, cancel := context.WithTimeout(ctx, n.o.Lease/2)
	defer cancel()
	n.lead(bctx)
	if _, err := n.o.Store.RenewClaims(bctx); err != nil {
		n.storeErr(ctx, opClaim, err)
	}
	if err := n.o.Store.Heartbeat(bctx, n.o.Self); err != nil {
		n.storeErr(ctx, opHeartbeat, err)
	}
	if rs, err := n.o.Store.Replicas(bctx, n.o.Lease); err != nil {
		n.storeErr(ctx, opHeartbeat, err)
	} else {
		n.setPeers(len(rs))
	}
	if ctx.Err() == nil && n.o.Sweep != nil {
		n.o.Sweep()
	}
}

func (n *Node) storeErr(ctx context.Context, op string, err error) {
	if ctx.Err() != nil {
		return
	}
	n.m.errors.WithLabelValues(op).Inc()
	n.log.Warn("replica: store error", "op", op, "err", err)
}

func (n *Node) setPeers(k int) {
	k = max(k, 1) // self, even before its first heartbeat is visible
	n.mu.Lock()
	changed := k != n.peers
	n.peers = k
	n.mu.Unlock()
	n.m.peers.Set(float64(k))
	if changed && n.o.OnPeers != nil {
		n.o.OnPeers(k)
	}
}

// lead acquires or renews the leader lease. The term ends when the lease
// is refused, or when it could not be renewed for long enough that it may
// have expired (the deadline counts from before the last good renewal was
// sent, one heartbeat early, so two leaders overlap only by clock drift).
func (n *Node) lead(ctx context.Context) {
	n.leadMu.Lock()
	defer n.leadMu.Unlock()
	n.mu.Lock()
	resigned := n.resigned
	n.mu.Unlock()
	if resigned {
		return
	}
	sent := n.o.now()
	token, held, err := n.o.Store.AcquireLease(ctx, LeaderLease, n.o.Self.ID, n.o.Lease)
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case err != nil:
		n.m.errors.WithLabelValues(opLease).Inc()
		if n.term != nil && n.o.now().After(n.deadline) {
			n.log.Warn("replica: leader lease not renewed in time; stepping down", "err", err)
			n.stepDown()
		}
		return
	case !held:
		if n.term != nil {
			n.log.Warn("replica: leader lease taken by another replica; stepping down")
			n.stepDown()
		}
		return
	}
	n.deadline = sent.Add(n.o.Lease - n.o.Heartbeat)
	if n.term != nil && token == n.token {
		return
	}
	if n.term != nil { // token changed under us: someone held it meanwhile
		n.stepDown()
	}
	n.token = token
	if token > 1 {
		n.m.takeovers.Inc()
	}
	n.term, n.endTerm = context.WithCancel(context.Background())
	close(n.termCh)
	n.termCh = make(chan struct{})
	n.m.leader.Set(1)
	n.log.Info("replica: leading", "replica", n.o.Self.ID, "token", token)
}

// stepDown ends the term; n.mu held. The jobs see their context end.
func (n *Node) stepDown() {
	if n.term == nil {
		return
	}
	n.endTerm()
	n.term, n.endTerm = nil, nil
	n.m.leader.Set(0)
}

// Resign stops leading for good: it ends the term, waits for the jobs to
// return, then releases the lease so a standby takes over at its next
// heartbeat instead of after the lease. A graceful stop calls it first.
func (n *Node) Resign() {
	if n.solo {
		return
	}
	n.leadMu.Lock()
	defer n.leadMu.Unlock()
	n.mu.Lock()
	if n.resigned {
		n.mu.Unlock()
		return
	}
	n.resigned = true
	was := n.term != nil
	n.stepDown()
	n.mu.Unlock()
	n.jobs.Wait()
	if !was {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := n.o.Store.ReleaseLease(ctx, LeaderLease, n.o.Self.ID); err != nil {
		n.m.errors.WithLabelValues(opLease).Inc()
		n.log.Warn("replica: releasing the leader lease failed; a standby takes over when it expires", "err", err)
		return
	}
	n.log.Info("replica: resigned the leader lease")
}

// Peer is a live replica for /status.
type Peer struct {
	store.Replica
	Leader bool
}

// Status lists the replicas seen within the last `within` and marks the
// leader; Solo lists itself.
func (n *Node) Status(ctx context.Context, within time.Duration) ([]Peer, error) {
	if n.solo {
		return nil, nil
	}
	rs, err := n.o.Store.Replicas(ctx, within)
	if err != nil {
		return nil, err
	}
	l, ok, err := n.o.Store.LeaseHolder(ctx, LeaderLease)
	if err != nil {
		return nil, err
	}
	ps := make([]Peer, len(rs))
	for i, r := range rs {
		ps[i] = Peer{Replica: r, Leader: ok && l.Holder == r.ID}
	}
	return ps, nil
}

type nodeMetrics struct {
	leader    prometheus.Gauge
	takeovers prometheus.Counter
	orphans   prometheus.Counter
	peers     prometheus.Gauge
	errors    *prometheus.CounterVec
}

func newNodeMetrics(reg prometheus.Registerer) (*nodeMetrics, error) {
	m := &nodeMetrics{
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "cryptobot", Subsystem: "replica", Name: "leader",
			Help: "1 while this replica holds the leader lease, else 0."}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "cryptobot", Subsystem: "replica", Name: "takeovers_total",
			Help: "Leader leases won from another (expired or resigned) holder."}),
		orphans: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "cryptobot", Subsystem: "replica", Name: "orphans_reclaimed_total",
			Help: "Journal entries taken over from a replica that died or stopped."}),
		peers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "cryptobot", Subsystem: "replica", Name: "peers",
			Help: "Live replicas seen (heartbeat within the lease), self included."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "cryptobot", Subsystem: "replica", Name: "lease_errors_total",
			Help: "Heartbeat, lease and claim store errors, by op."}, []string{"op"}),
	}
	for _, op := range []string{opHeartbeat, opLease, opClaim} {
		m.errors.WithLabelValues(op)
	}
	m.peers.Set(1)
	if reg != nil {
		for _, c := range []prometheus.Collector{m.leader, m.takeovers, m.orphans, m.peers, m.errors} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
