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
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/store/pgtest"
	"github.com/cryptobot-dev/cryptobot/internal/testkit"
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
	p := &replicaProc{id: fmt.Sprintf("r%d.%d", i, gen), addr: testkit.FreeAddr(r.b.t)}
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
	r.loadText(first, n, perSecond, "/price btc", at)
}

func (r *replicaRig) loadText(first int64, n int, perSecond int, text string, at func(i int)) {
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	for i := range n {
		if at != nil {
			at(i)
		}
		<-tick.C
		chat := first + int64(i)
		r.b.tg.SendText(chat, chat, "private", text)
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
	leader := r.leader()
	// /status on any replica lists the replicas and the leader; the victim
	// is silent once its heartbeat is older than the lease.
	r.b.tg.SendText(999, 999, "private", "/status")
	status := ""
	eventually(t, "a /status reply", func() bool {
		for _, m := range r.b.tg.Sent() {
			if m.ChatID == 999 {
				status = m.Text
			}
		}
		return status != ""
	})
	for _, want := range []string{"2 live, leader " + leader.id, "replica " + victim.id, "silent", "replica r1.0", "replica r2.0", "leader"} {
		if !strings.Contains(status, want) {
			t.Errorf("/status lacks %q:\n%s", want, status)
		}
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

// leader waits until exactly one running replica reports leader=1 and
// returns it.
func (r *replicaRig) leader() *replicaProc {
	r.b.t.Helper()
	var id string
	eventually(r.b.t, "exactly one leader", func() bool {
		l := r.leaders()
		if len(l) == 1 {
			id = l[0]
		}
		return len(l) == 1
	})
	for _, p := range r.procs {
		if p.id == id {
			return p
		}
	}
	panic("leader not among the replicas")
}

const (
	polls200 = `cryptobot_telegram_requests_total{method="getUpdates",status="200"}`
	polls409 = `cryptobot_telegram_requests_total{method="getUpdates",status="409"}`
)

// (c) Polling mode with two replicas: only the leader polls (no 409 from
// two pollers); SIGKILL it and the other polls within the lease, with
// nothing lost.
func TestReplicasPollingFailover(t *testing.T) {
	r := newReplicaRig(t, "polling")
	r.start(0)
	r.start(1)
	for _, p := range r.procs {
		p.ready(t)
	}
	poller := r.leader()
	standby := r.procs[0]
	if standby == poller {
		standby = r.procs[1]
	}

	const n, rate, killAt = 200, 40, 80
	var killed time.Time
	r.load(50000, n, rate, func(i int) {
		if i != killAt {
			return
		}
		if got := standby.value(polls200) + standby.value(polls409); got != 0 {
			t.Errorf("the standby called getUpdates %v times while the leader polled", got)
		}
		if err := poller.c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-poller.c.exited
		killed = time.Now()
	})
	// Both at most the rest of the load's duration late: measured after it.
	eventually(t, "the standby leading", func() bool { return standby.value("cryptobot_replica_leader") == 1 })
	led := time.Since(killed)
	eventually(t, "the standby polling", func() bool { return standby.value(polls200) > 0 })
	took := time.Since(killed)
	twice := r.answered(50000, n)
	t.Logf("polling failover: the standby led within %s and polled within %s of the SIGKILL (lease %s); %d updates, %d answered twice",
		led.Round(time.Millisecond), took.Round(time.Millisecond), testLease, n, twice)
	if c := standby.value(polls409) + poller.value(polls409); c != 0 {
		t.Errorf("%v getUpdates answered 409: two pollers at once", c)
	}
	if twice > maxTwice {
		t.Errorf("%d answered twice, want at most %d", twice, maxTwice)
	}
	if standby.value("cryptobot_replica_leader") != 1 || standby.value("cryptobot_replica_takeovers_total") != 1 {
		t.Error("the standby does not report the takeover")
	}
}

// (d) 1,000 alerts crossing at once with two replicas: each fires exactly
// once (the leader evaluates, the per-trigger claim holds, both drain the
// outbox with SKIP LOCKED), and the combined send rate the fake Bot API
// sees stays within telegram.rate.global, plus the token bucket's burst, in
// every one-second window.
func TestReplicasAlertsFireOnceWithinTheGlobalLimit(t *testing.T) {
	const global, burst = 200, 1 // burst: telegram.Rate.GlobalBurst's default, per replica
	r := newReplicaRig(t, "webhook", "CRYPTOBOT_ENV=staging", "CRYPTOBOT_MODULES__ENHANCED__ALERTS__POLL=200ms",
		"CRYPTOBOT_TELEGRAM__RATE__GLOBAL="+strconv.Itoa(global))
	// The alerts are set before the second replica starts, so the limit
	// share is measured with the firings alone (a standby's /alert is
	// picked up by the leader's next poll: TestRunPicksUpAlertsFromOtherReplicas).
	r.start(0).ready(t)
	r.leader()
	const n, first = 1000, 60000
	// Paced: every creation locks the one alert_totals row.
	r.loadText(first, n, 150, "/alert btc above 98k", nil)
	eventually(t, "every alert acknowledged", func() bool {
		acks := 0
		for _, m := range r.b.tg.Sent() {
			if strings.Contains(m.Text, "set: BTC-USDT above 98,000") {
				acks++
			}
		}
		return acks >= n
	})
	r.start(1).ready(t)
	eventually(t, "two peers sharing the limit", func() bool {
		return r.procs[0].value("cryptobot_telegram_limit_share") == 0.5 && r.procs[1].value("cryptobot_telegram_limit_share") == 0.5
	})
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	crossed := time.Now()
	r.b.venues.Binance.SetLast(btc, "98500")
	r.b.venues.Bybit.SetLast(btc, "98500")
	r.b.venues.OKX.SetLast(btc, "98500")
	fired := map[int64]int{}
	eventually(t, "every alert fired", func() bool {
		clear(fired)
		for _, m := range r.b.tg.Sent() {
			if strings.Contains(m.Text, "is above 98,000") {
				fired[m.ChatID]++
			}
		}
		return len(fired) == n
	})
	took := time.Since(crossed)
	// Let the leader evaluate on past the crossing, then check nothing more came.
	leader := r.leader()
	tick := leader.value("cryptobot_alerts_last_tick_timestamp_seconds")
	eventually(t, "two more seconds of alert polls", func() bool {
		return leader.value("cryptobot_alerts_last_tick_timestamp_seconds") >= tick+2
	})
	for _, p := range r.procs {
		eventually(t, p.id+" outbox drained", func() bool { return p.value("cryptobot_outbox_depth") == 0 })
	}
	twice := 0
	for _, m := range r.b.tg.Sent() {
		if strings.Contains(m.Text, "is above 98,000") {
			fired[m.ChatID]--
		}
	}
	for chat, k := range fired {
		if k != 0 {
			twice++
			t.Errorf("chat %d: alert fired %d more times than counted", chat, -k)
		}
	}
	// The firings' span, counted where the fake receives them: two
	// replicas that each took the whole limit would send the n firings in
	// half the time. A span is immune to the arrival bunching a starved
	// machine adds to one-second windows (a stalled sender delivers a few
	// granted sends at once), which only moves its two ends by a stall.
	var times []time.Time
	for _, m := range r.b.tg.Sent() {
		if strings.Contains(m.Text, "is above 98,000") {
			times = append(times, m.Time)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	span := times[len(times)-1].Sub(times[0])
	least := time.Duration(n-2*burst) * time.Second / global
	t.Logf("%d alerts on 2 replicas: all fired once within %s of the crossing, sent over %s (global %d/s, burst %d per replica: at least %s)",
		n, took.Round(time.Millisecond), span.Round(time.Millisecond), global, burst, least)
	if span < least*95/100 {
		t.Errorf("%d firings sent in %s, faster than the global limit %d/s allows (%s)", n, span, global, least)
	}
	for _, p := range r.procs {
		if p.value(`cryptobot_alerts_fired_total{kind="above"}`) > 0 && p != leader {
			t.Errorf("%s, not the leader, evaluated alerts", p.id)
		}
	}
}

// Reply latency at 200 updates/s with 1, 2 and 3 replicas behind the proxy,
// for the README (not a check: the figure depends on the machine). Run it
// without -race:
//
//	CRYPTOBOT_REPLICA_FIGURES=1 go test -run ReplicaLatency -v ./cmd/server
func TestReplicaLatencyFigures(t *testing.T) {
	if os.Getenv("CRYPTOBOT_REPLICA_FIGURES") == "" {
		t.Skip("figures only: set CRYPTOBOT_REPLICA_FIGURES=1")
	}
	const rate, seconds = 200, 10
	for k := 1; k <= 3; k++ {
		t.Run(strconv.Itoa(k), func(t *testing.T) {
			r := newReplicaRig(t, "webhook")
			for i := range k {
				r.start(i)
			}
			for _, p := range r.procs {
				p.ready(t)
			}
			first := int64(70000)
			r.b.tg.SendText(1, 1, "private", "/price btc") // warm the cache
			r.answered(1, 1)
			sent := make([]time.Time, rate*seconds)
			r.load(first, len(sent), rate, func(i int) { sent[i] = time.Now() })
			twice := r.answered(first, len(sent))
			got := map[int64]time.Time{}
			for _, m := range r.b.tg.Sent() {
				if m.ChatID >= first && m.ChatID < first+int64(len(sent)) {
					if _, ok := got[m.ChatID]; !ok {
						got[m.ChatID] = m.Time
					}
				}
			}
			lat := make([]time.Duration, 0, len(sent))
			for i, at := range sent {
				lat = append(lat, got[first+int64(i)].Sub(at))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond) }
			t.Logf("%d replica(s), %d/s for %ds: %d answered, %d twice; p50 %s, p95 %s, p99 %s, max %s",
				k, rate, seconds, len(lat), twice, q(.5), q(.95), q(.99), lat[len(lat)-1].Round(10*time.Microsecond))
		})
	}
}

// (e) Postgres restarted under load with two replicas: the webhooks answer
// 503 while it is down (Telegram redelivers), and once it is back
// everything is answered without a restart of the bots, with one leader.
func TestReplicasPostgresRestart(t *testing.T) {
	srv := pgtest.NewServer(t)
	b := journalRig(t)
	r := &replicaRig{b: b, url: srv.URL("postgres"), proxy: newProxy(t), mode: "webhook"}
	r.start(0)
	r.start(1)
	for _, p := range r.procs {
		p.ready(t)
	}
	const n, rate, stopAt, restartAt = 300, 50, 100, 200
	var down time.Duration
	var stopped time.Time
	r.load(80000, n, rate, func(i int) {
		switch i {
		case stopAt:
			srv.Stop(t)
			stopped = time.Now()
		case restartAt:
			srv.Restart(t)
			down = time.Since(stopped)
		}
	})
	twice := r.answered(80000, n)
	for _, p := range r.procs {
		p.ready(t)
	}
	t.Logf("Postgres down %s under %d/s with 2 replicas: %d updates answered, %d twice", down.Round(time.Millisecond), rate, n, twice)
	if twice > maxTwice {
		t.Errorf("%d answered twice, want at most %d", twice, maxTwice)
	}
	r.leader()
}
