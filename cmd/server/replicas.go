package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/config"
	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/replica"
	"github.com/cryptobot-dev/cryptobot/internal/store"
	"github.com/cryptobot-dev/cryptobot/modules/core/admin"
)

// replicaRowAge is how long a replica that stopped heartbeating (killed)
// keeps its row before the leader deletes it; /status lists rows seen within
// replicaSeen.
const (
	replicaRowAge = 24 * time.Hour
	replicaSeen   = 10 * time.Minute
)

// newNode makes this process a replica: on a Postgres store shared with
// others, Append claims updates for it and a Node heartbeats and elects the
// leader; on SQLite, and in console mode, it is the only replica and leads.
func (a *app) newNode() (*replica.Node, error) {
	if !a.store.Replicated() || a.cfg.Telegram.Mode == config.ModeConsole {
		return replica.Solo(a.metrics.Registry)
	}
	r := a.cfg.Replicas
	host, _ := os.Hostname()
	a.store.EnableClaims(r.ID, r.Lease)
	return replica.New(replica.Options{
		Store:     a.store,
		Self:      store.Replica{ID: r.ID, Host: host, Version: version + " (" + commit + ")", Started: a.started},
		Lease:     r.Lease,
		Heartbeat: r.Heartbeat,
		// a.tg is set before the Node runs (runTelegram).
		Sweep:      func() { a.tg.Sweep() },
		OnPeers:    func(n int) { a.tg.SetLimitShare(1 / float64(n)) },
		Registerer: a.metrics.Registry,
		Log:        a.log.With("component", "replica"),
	})
}

// runNode starts the Node's heartbeats; stopNode stops them (the replica
// leaves the peers) and waits. Both are safe to call once each, in order.
func (a *app) runNode() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.stopNodeFn = func() { cancel(); <-done }
	go func() { defer close(done); a.node.Run(ctx) }()
}

func (a *app) stopNode() {
	if a.stopNodeFn != nil {
		a.stopNodeFn()
		a.stopNodeFn = nil
	}
}

// handOver is the end of a graceful stop on a shared store, after the
// drain: stop heartbeating (no more renewals), then release the claims on
// what is left unanswered, so a peer answers it at its next sweep.
func (a *app) handOver() {
	if !a.store.Replicated() {
		return
	}
	a.stopNode()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := a.store.ReleaseClaims(ctx)
	if err != nil {
		a.log.Warn("releasing journal claims failed; peers answer them when the lease runs out", "err", err)
		return
	}
	if n > 0 {
		a.log.Info("journal claims released to the other replicas", "updates", n)
	}
}

// replicaFacts are the /status lines about the replicas.
func (a *app) replicaFacts(ctx context.Context) []admin.Fact {
	if a.node == nil || !a.store.Replicated() {
		return []admin.Fact{{Name: "replicas", Value: "1 (this process, leader)"}}
	}
	ps, err := a.node.Status(ctx, replicaSeen)
	if err != nil {
		return []admin.Fact{{Name: "replicas", Value: "unknown: " + err.Error()}}
	}
	self := a.node.Self().ID
	live, leader := 0, "none"
	var facts []admin.Fact
	for _, p := range ps {
		age := time.Since(p.Heartbeat)
		state := "live"
		if age > a.cfg.Replicas.Lease {
			state = "silent"
		} else {
			live++
		}
		v := fmt.Sprintf("%s, host %s, %s, heartbeat %s ago, %s", state, p.Host, p.Version, format.Duration(age), map[bool]string{true: "leader", false: "standby"}[p.Leader])
		if p.Leader {
			leader = p.ID
		}
		name := "replica " + p.ID
		if p.ID == self {
			name += " (this)"
		}
		facts = append(facts, admin.Fact{Name: name, Value: v})
	}
	return append([]admin.Fact{{Name: "replicas", Value: fmt.Sprintf("%d live, leader %s", live, leader)}}, facts...)
}

// pruneReplicas deletes the rows of replicas silent for a day (killed).
func (a *app) pruneReplicas(ctx context.Context) {
	if !a.store.Replicated() {
		return
	}
	if _, err := a.store.PruneReplicas(ctx, replicaRowAge); err != nil && ctx.Err() == nil {
		a.log.Warn("replica rows prune failed", "err", err)
	}
}
