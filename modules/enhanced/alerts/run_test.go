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
		m, err := New(Options{Store: st, Market: mkt})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		synctest.Wait() // Run has loaded the alerts and waits for its ticker
		alert := m.Commands()[0].Handler
		if rep, _ := alert.Handle(ctx, modules.Request{ChatID: 5, Command: "alert", Args: strings.Fields("btc above 98k")}); !strings.Contains(rep.Text, "Alert #1 set") {
			t.Fatalf("reply %q", rep.Text)
		}
		if err := m.Run(ctx); err == nil {
			t.Error("a second Run started, want it refused")
		}
		time.Sleep(2 * time.Second) // a poll: the baseline
		synctest.Wait()
		mkt.set(btc, 98_500)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := st.sent(5); len(got) != 1 {
			t.Errorf("sent %q, want one firing", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil at shutdown", err)
		}
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
		leader, err := New(Options{Store: st, Market: mkt})
		if err != nil {
			t.Fatal(err)
		}
		standby, err := New(Options{Store: st, Market: mkt})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- leader.Run(ctx) }()
		synctest.Wait()
		time.Sleep(2 * time.Second) // a poll: the baseline
		synctest.Wait()
		alert := standby.Commands()[0].Handler
		if rep, _ := alert.Handle(ctx, modules.Request{ChatID: 5, Command: "alert", Args: strings.Fields("btc above 98k")}); !strings.Contains(rep.Text, "Alert #1 set") {
			t.Fatalf("reply %q", rep.Text)
		}
		time.Sleep(2 * time.Second) // the leader's next poll reads it
		synctest.Wait()
		mkt.set(btc, 98_500)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := st.sent(5); len(got) != 1 {
			t.Errorf("sent %q, want the standby's alert fired by the leader", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}
