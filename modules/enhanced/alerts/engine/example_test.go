package engine_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/engine"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// The runner's loop in miniature: parse, load, feed ticks, turn firings into
// outbox messages and store each firing's status with its message.
func Example() {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	btc := market.Pair{Base: "BTC", Quote: "USDT"}
	r, err := rule.Parse(strings.Fields("btc above 98k repeat every 30m"))
	if err != nil {
		fmt.Println(err.(*rule.UsageError).Text())
		return
	}
	e := engine.New()
	if err := e.Add(rule.NewAlert(12, 4242, btc, r, t0)); err != nil {
		fmt.Println(err)
		return
	}
	var fs []engine.Firing
	for i, price := range []float64{97432.10, 97990, 98012.50, 97990, 98010} {
		fs = e.ObservePrice(fs, btc, price, t0.Add(time.Duration(i)*2*time.Second))
	}
	for _, f := range fs {
		fmt.Printf("chat %d, status %s:\n%s\n", f.ChatID, f.Status.State, rule.Message(f.AlertID, f.Pair.String(), f.Rule, f.Price, f.From, f.Venue))
	}
	// Output:
	// chat 4242, status cooling:
	// 🚨 BTC-USDT is above 98,000: now 98,012.50
	// <i>Alert #12, repeats after 30m</i>
}
