package openinterest_test

import (
	"context"
	"fmt"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/openinterest"
)

// /oi answers with the failover venue's open interest and its change; the
// source here is the tests' fake with canned Bybit data.
func Example() {
	m := openinterest.New(newSource(), clock)
	reply, _ := m.Commands()[0].Handler.Handle(context.Background(), modules.Request{Command: "oi", Args: []string{"btc"}})
	fmt.Println(reply.Text)
	// Output:
	// <b>BTC-USDT perp</b> open interest on Bybit
	// <b>$5.24B (61,647 BTC)</b>
	// <pre>1h   +0.2%
	// 4h   +0.8%
	// 24h  +4.8%</pre>
	// Data 12s old. Every venue: <code>/oi BTC-USDT all</code>
}

func ExampleModule_Section() {
	m := openinterest.New(newSource(), clock)
	line, err := m.Section(context.Background(), modules.Request{Command: "price"}, btc)
	fmt.Println(line, err)
	// Output: OI $5.24B (24h +4.8%) <nil>
}
