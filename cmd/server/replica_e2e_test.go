package main

// End-to-end tests of replicas (issue 14): bot processes (this test binary
// re-executed) on one Postgres, behind a round-robin proxy that, like a
// load balancer with health checks, tries the next replica when one refuses
// the connection or answers 503; the fake Bot API pushes webhooks to the
// proxy. The lease is 2 s and the heartbeat 500 ms (harness environ).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/store/pgtest"
)

const (
	testLease     = 2 * time.Second
	testHeartbeat = 500 * time.Millisecond
)

// rrProxy forwards each request to the next replica in turn.
type rrProxy struct {
	mu    sync.Mutex
	addrs []string
	next  int
	srv   *httptest.Server
	hc    *http.Client
}

func newProxy(t *testing.T) *rrProxy {
	p := &rrProxy{hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *rrProxy) set(i int, addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.addrs) <= i {
		p.addrs = append(p.addrs, "")
	}
	p.addrs[i] = addr
}

func (p *rrProxy) order() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	out := make([]string, 0, len(p.addrs))
	for i := range p.addrs {
		out = append(out, p.addrs[(p.next+i)%len(p.addrs)])
	}
	return out
}

func (p *rrProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	for _, addr := range p.order() {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, "http://"+addr+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := p.hc.Do(req)
		if errors.Is(err, syscall.ECONNREFUSED) {
			continue
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			continue // not ready (stopping, starting): a health-checked balancer skips it
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
		return
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, "no replica", http.StatusServiceUnavailable)
}

// replicaRig is n replicas of the bot on one Postgres.
type replicaRig struct {
	b     *bot
	url   string
	proxy *rrProxy
	mode  string
	extra []string
	procs []*replicaProc
}

type replicaProc struct {
	id   string
	addr string
	c    *child
}

func newReplicaRig(t *testing.T, mode string, extra ...string) *replicaRig {
	t.Helper()
	url := pgtest.Start(t)
	b := journalRig(t)
	r := &replicaRig{b: b, url: url, proxy: newProxy(t), mode: mode, extra: extra}
	return r
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs replica i (a new process with a new id when it ran before).
func (r *replicaRig) start(i int, env ...string) *replicaProc {
	r.b.t.Helper()
	for len(r.procs) <= i {
		r.procs = append(r.procs, nil)
	}
	gen := 0
	if old := r.procs[i]; old != nil {
		gen, _ = strconv.Atoi(old.id[strings.LastIndexByte(old.id, '.')+1:])
		gen++
	}
	p := &replicaProc{id: fmt.Sprintf("r%d.%d", i, gen), addr: freeAddr(r.b.t)}
	all := append([]string{
		"CRYPTOBOT_STORE__URL=" + r.url,
		"CRYPTOBOT_REPLICAS__ID=" + p.id,
		"CRYPTOBOT_HTTP__LISTEN=" + p.addr,
		"CRYPTOBOT_METRICS__LISTEN=" + p.addr,
		"CRYPTOBOT_TELEGRAM__WEBHOOK__URL=" + r.proxy.srv.URL + "/webhook",
		"CRYPTOBOT_LOG_LEVEL=info",
	}, r.extra...)
	p.c = r.b.spawn(r.mode, append(all, env...)...)
	r.procs[i] = p
	r.proxy.set(i, p.addr)
	return p
}

func (p *replicaProc) ready(t *testing.T) {
	t.Helper()
	eventually(t, p.id+" /readyz 200", func() bool {
		select {
		case <-p.c.exited:
			t.Fatalf("%s exited before ready: %v\n%s", p.id, p.c.err, p.c.stderr.String())
		default:
		}
		res, err := httpGet("http://" + p.addr + "/readyz")
		return err == nil && res.code == http.StatusOK
	})
}

// value reads one series from p's /metrics; 0 when absent or unreachable.
func (p *replicaProc) value(series string) float64 {
	res, err := httpGet("http://" + p.addr + "/metrics")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(res.body, "\n") {
		if strings.HasPrefix(l, series+" ") {
			v, _ := strconv.ParseFloat(l[len(series)+1:], 64)
			return v
		}
	}
	return 0
}

// load sends n updates, each from its own chat, at perSecond; at is called
// before update i is sent.
func (r *replicaRig) load(first int64, n int, perSecond int, at func(i int)) {
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	for i := range n {
		if at != nil {
			at(i)
		}
		<-tick.C
		chat := first + int64(i)
		r.b.tg.SendText(chat, chat, "private", "/price btc")
	}
}

// answered waits until each of the n chats from first has a reply and
// returns how many chats were answered more than once, and how often.
func (r *replicaRig) answered(first int64, n int) (twice int) {
	r.b.t.Helper()
	replies := map[int64]int{}
	eventually(r.b.t, fmt.Sprintf("all %d updates answered", n), func() bool {
		clear(replies)
		for _, m := range r.b.tg.Sent() {
			if m.ChatID >= first && m.ChatID < first+int64(n) {
				replies[m.ChatID]++
			}
		}
		return len(replies) == n
	})
	for _, k := range replies {
		twice += k - 1
	}
	return twice
}

// leaders returns the ids of the running replicas reporting leader=1.
func (r *replicaRig) leaders() []string {
	var ids []string
	for _, p := range r.procs {
		if p == nil {
			continue
		}
		select {
		case <-p.c.exited:
			continue
		default:
		}
		if p.value("cryptobot_replica_leader") == 1 {
			ids = append(ids, p.id)
		}
	}
	sort.Strings(ids)
	return ids
}

// (a) Steady load on three replicas, one SIGKILLed mid-way: every update is
// answered, the survivors take over its orphans within the lease, and only
// a handful (replies out but not yet settled at the kill) go out twice.
func TestReplicasSurviveKill(t *testing.T) {
	r := newReplicaRig(t, "webhook")
	// The victim sends slowly, so it holds a backlog when it dies.
	victim := r.start(0, "CRYPTOBOT_TELEGRAM__RATE__GLOBAL=24")
	for i := 1; i < 3; i++ {
		r.start(i)
	}
	for _, p := range r.procs {
		p.ready(t)
	}
	eventually(t, "three peers seen", func() bool { return r.procs[1].value("cryptobot_replica_peers") == 3 })

	const n, rate, killAt = 400, 50, 150
	var killed time.Time
	var tookOver atomic.Int64 // ns after the kill when a survivor first reclaimed
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	r.load(30000, n, rate, func(i int) {
		if i != killAt {
			return
		}
		if err := victim.c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-victim.c.exited
		killed = time.Now()
		go func() {
			defer close(watched)
			for {
				select {
				case <-stopWatch:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if r.procs[1].value("cryptobot_replica_orphans_reclaimed_total")+r.procs[2].value("cryptobot_replica_orphans_reclaimed_total") > 0 {
					tookOver.Store(int64(time.Since(killed)))
					return
				}
			}
		}()
	})
	twice := r.answered(30000, n)
	close(stopWatch)
	<-watched
	all := time.Since(killed)
	reclaimed := r.procs[1].value("cryptobot_replica_orphans_reclaimed_total") + r.procs[2].value("cryptobot_replica_orphans_reclaimed_total")
	took := time.Duration(tookOver.Load())
	t.Logf("SIGKILL of 1 of 3 replicas at %d/s: %d updates, %v orphans reclaimed %s after the kill (lease %s), %d answered twice; all answered %s after the kill",
		rate, n, reclaimed, took.Round(time.Millisecond), testLease, twice, all.Round(time.Millisecond))
	if reclaimed == 0 || took == 0 {
		t.Fatal("the survivors reclaimed nothing: the victim had no backlog to test")
	}
	if took > testLease+2*testHeartbeat+time.Second {
		t.Errorf("orphans taken over %s after the kill, want within the lease %s (plus a heartbeat)", took, testLease)
	}
	if twice > maxTwice {
		t.Errorf("%d updates answered twice, want at most %d", twice, maxTwice)
	}
	if l := r.leaders(); len(l) != 1 {
		t.Errorf("leaders after the kill: %v, want one", l)
	}
}

// (b) A rolling restart under load, SIGTERM one replica at a time and the
// next once the new one is ready: nothing lost, nothing answered twice.
func TestReplicasRollingRestart(t *testing.T) {
	r := newReplicaRig(t, "webhook")
	for i := range 3 {
		r.start(i)
	}
	for _, p := range r.procs {
		p.ready(t)
	}
	const n, rate = 300, 30
	loaded := make(chan struct{})
	start := time.Now()
	go func() { defer close(loaded); r.load(40000, n, rate, nil) }()
	for i := range 3 {
		old := r.procs[i]
		old.c.stop(r.b, syscall.SIGTERM) // exit 0 within waitFor
		r.start(i).ready(t)
	}
	rolled := time.Since(start)
	<-loaded
	if rolled > time.Since(start) {
		t.Errorf("the restart (%s) outlasted the load", rolled)
	}
	twice := r.answered(40000, n)
	t.Logf("rolling restart of 3 replicas under %d/s: %d updates, restart done %s into the load, %d answered twice",
		rate, n, rolled.Round(time.Millisecond), twice)
	if twice != 0 {
		t.Errorf("%d updates answered twice during a rolling restart, want 0", twice)
	}
	if l := r.leaders(); len(l) != 1 {
		t.Errorf("leaders after the restart: %v, want one", l)
	}
}
