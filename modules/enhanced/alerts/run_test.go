package alerts

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// The runner as the router starts it: commands reach its engine through the
// channel, it polls on its own ticker, and it stops with ctx.
func TestRunEvaluatesEveryPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, mkt := newFakeStore(), newFakeMarket()
		m := newOnFakes(t, st, mkt)
		ctx, stop := startRun(t, m) // Run has loaded the alerts and waits for its ticker
		setBTCAlert(t, ctx, m)
		if err := m.Run(ctx); err == nil {
			t.Error("a second Run started, want it refused")
		}
		time.Sleep(2 * time.Second) // a poll: the baseline
		synctest.Wait()
		crossBTC(t, st, mkt, "one firing")
		stop()
	})
}

func TestRegistered(t *testing.T) {
	info := modulestest.Registered(t, "enhanced.alerts")
	if info.Flag != "alerts" {
		t.Errorf("flag %q", info.Flag)
	}
	if _, err := info.New(modules.Deps{Market: newFakeMarket()}); err == nil {
		t.Error("New without a store succeeded")
	}
}

// An alert another replica stored (its /alert went to a standby, whose
// runner does not run) is evaluated by the leader's runner from its next
// poll, not only at the next reconcile minutes later.
func TestRunPicksUpAlertsFromOtherReplicas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, mkt := newFakeStore(), newFakeMarket()
		leader, standby := newOnFakes(t, st, mkt), newOnFakes(t, st, mkt)
		ctx, stop := startRun(t, leader)
		time.Sleep(2 * time.Second) // a poll: the baseline
		synctest.Wait()
		setBTCAlert(t, ctx, standby)
		time.Sleep(2 * time.Second) // the leader's next poll reads it
		synctest.Wait()
		crossBTC(t, st, mkt, "the standby's alert fired by the leader")
		stop()
	})
}

// newOnFakes returns a module with the default config on st and mkt.
func newOnFakes(t *testing.T, st *fakeStore, mkt *fakeMarket) *Module {
	t.Helper()
	m, err := New(Options{Store: st, Market: mkt})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// startRun starts m.Run in the bubble as the router does and waits until it
// is idle; stop cancels it and checks that Run returned nil.
func startRun(t *testing.T, m *Module) (ctx context.Context, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	synctest.Wait()
	return ctx, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil at shutdown", err)
		}
	}
}

// setBTCAlert sets alert #1, btc above 98k, in chat 5 through m's /alert.
func setBTCAlert(t *testing.T, ctx context.Context, m *Module) {
	t.Helper()
	alert := m.Commands()[0].Handler
	if rep, _ := alert.Handle(ctx, modules.Request{ChatID: 5, Command: "alert", Args: strings.Fields("btc above 98k")}); !strings.Contains(rep.Text, "Alert #1 set") {
		t.Fatalf("reply %q", rep.Text)
	}
}

// crossBTC moves btc above 98k, lets a poll pass and checks that chat 5 got
// one message (want says why).
func crossBTC(t *testing.T, st *fakeStore, mkt *fakeMarket, want string) {
	t.Helper()
	mkt.set(btc, 98_500)
	time.Sleep(2 * time.Second)
	synctest.Wait()
	if got := st.sent(5); len(got) != 1 {
		t.Errorf("sent %q, want %s", got, want)
	}
}
