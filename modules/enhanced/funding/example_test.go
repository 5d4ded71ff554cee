package funding_test

import (
	"context"
	"fmt"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/funding"
)

// /funding asks every venue at once; the source here is the tests' fake with
// canned Bybit, OKX and Binance funding.
func Example() {
	m := funding.New(newSource(), clock)
	reply, _ := m.Commands()[0].Handler.Handle(context.Background(), modules.Request{Command: "funding", Args: []string{"btc"}})
	fmt.Println(reply.Text)
	// Output:
	// <b>BTC-USDT perp</b> funding
	// <pre>venue           rate  APR, simple
	// Bybit    +0.0100%/8h      +10.95%
	//          next 08:00 UTC in 3h 12m
	// OKX      +0.0053%/8h       +5.83%
	//          next 08:00 UTC in 3h 12m
	// Binance  +0.0075%/4h      +16.43%
	//          next 08:00 UTC in 3h 12m</pre>
	// Positive rate: longs pay shorts.
}

func ExampleModule_Section() {
	m := funding.New(newSource(), clock)
	line, err := m.Section(context.Background(), modules.Request{Command: "price"}, btc)
	fmt.Println(line, err)
	// Output: Funding +0.0100%/8h (APR +10.95%) next in 3h 12m <nil>
}
