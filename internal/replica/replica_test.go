package replica

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/store"
)

// flaky is a store whose calls fail while down is set: a replica cut off
// from the database, as good as dead to its peers.
type flaky struct {
	*store.Store
	down atomic.Bool
}

var errDown = errors.New("store down")

func (f *flaky) Heartbeat(ctx context.Context, r store.Replica) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Heartbeat(ctx, r)
}

func (f *flaky) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (int64, bool, error) {
	if f.down.Load() {
		return 0, false, errDown
	}
	return f.Store.AcquireLease(ctx, name, holder, ttl)
}

type node struct {
	*Node
	st     *flaky
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
	terms  chan string // a leader job started ("id") or ended ("-id")
	peers  chan int
}

const (
	lease = 300 * time.Millisecond
	beat  = 50 * time.Millisecond
	wait  = 10 * time.Second
)

func start(t *testing.T, st *store.Store, id string) *node {
	t.Helper()
	n := &node{st: &flaky{Store: st}, reg: prometheus.NewRegistry(), done: make(chan struct{}),
		terms: make(chan string, 16), peers: make(chan int, 16)}
	var err error
	n.Node, err = New(Options{Store: n.st, Self: store.Replica{ID: id, Host: "host", Version: "test", Started: time.Now()},
		Lease: lease, Heartbeat: beat, Registerer: n.reg, OnPeers: func(k int) {
			select {
			case n.peers <- k:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	go func() {
		defer close(n.done)
		go n.WhileLeader(ctx, func(term context.Context) {
			n.terms <- id
			<-term.Done()
			n.terms <- "-" + id
		})
		n.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-n.done })
	return n
}

func next[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within %s", what, wait)
	}
	panic("unreachable")
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite::memory:", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestOneLeaderAndTakeover(t *testing.T) {
	st := openStore(t)
	a := start(t, st, "a")
	if got := next(t, a.terms, "first term"); got != "a" {
		t.Fatalf("term %q, want a", got)
	}
	b := start(t, st, "b")
	if got := next(t, b.peers, "peer count"); got != 2 {
		t.Fatalf("b sees %d peers, want 2", got)
	}
	if b.Leading() {
		t.Fatal("b leads while a holds the lease")
	}

	// a is cut off from the store: it steps down before its lease can have
	// expired, and b takes over once it has.
	a.st.down.Store(true)
	cut := time.Now()
	if got := next(t, a.terms, "a stepping down"); got != "-a" {
		t.Fatalf("got %q, want -a", got)
	}
	stepped := time.Since(cut)
	if got := next(t, b.terms, "b's term"); got != "b" {
		t.Fatalf("got %q, want b", got)
	}
	took := time.Since(cut)
	if stepped >= took {
		t.Errorf("a stepped down after %s, b took over after %s: two leaders", stepped, took)
	}
	if took > lease+2*beat+100*time.Millisecond {
		t.Errorf("takeover after %s, want within the lease %s and a heartbeat", took, lease)
	}
	t.Logf("a stepped down after %s, b led after %s (lease %s, heartbeat %s)", stepped, took, lease, beat)
	if v := testutil.ToFloat64(b.m.takeovers); v != 1 {
		t.Errorf("b's takeovers %v, want 1", v)
	}
	if testutil.ToFloat64(a.m.leader) != 0 || testutil.ToFloat64(b.m.leader) != 1 {
		t.Error("leader gauges do not show b alone")
	}
	a.st.down.Store(false)

	// A graceful stop hands over at once: no waiting for the lease.
	stop := time.Now()
	b.cancel()
	if got := next(t, b.terms, "b ending"); got != "-b" {
		t.Fatalf("got %q, want -b", got)
	}
	if got := next(t, a.terms, "a's second term"); got != "a" {
		t.Fatalf("got %q, want a", got)
	}
	if d := time.Since(stop); d > lease {
		t.Errorf("handover after a graceful stop took %s, want less than the lease %s", d, lease)
	}
	ps, err := a.Status(t.Context(), time.Minute)
	if err != nil || len(ps) != 1 || ps[0].ID != "a" || !ps[0].Leader {
		t.Fatalf("Status after b left: %+v, %v", ps, err)
	}
}

func TestSoloAlwaysLeads(t *testing.T) {
	n, err := Solo(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go n.WhileLeader(ctx, func(context.Context) { close(ran) })
	next(t, ran, "job")
	if !n.Leading() || testutil.ToFloat64(n.m.leader) != 1 {
		t.Fatal("solo does not lead")
	}
}

func TestOptions(t *testing.T) {
	st := openStore(t)
	if _, err := New(Options{Store: st, Self: store.Replica{ID: "a"}, Lease: time.Second, Heartbeat: 600 * time.Millisecond}); err == nil {
		t.Error("heartbeat above lease/2 accepted")
	}
	if _, err := New(Options{Store: st}); err == nil {
		t.Error("missing id accepted")
	}
}
