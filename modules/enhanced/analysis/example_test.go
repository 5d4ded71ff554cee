package analysis_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/enhanced/analysis"
	"github.com/cryptobot-dev/cryptobot/modules/modulestest"
)

// The market is modulestest.Wave: ETH-USDT closes rising along a wave.
func Example() {
	now := func() time.Time { return time.Date(2026, 3, 13, 12, 5, 0, 0, time.UTC) }
	m := analysis.New(modulestest.Wave{}, now)
	reply, _ := m.Commands()[0].Handler.Handle(context.Background(),
		modules.Request{Command: "analysis", Args: []string{"eth"}})
	fmt.Println(reply.Text)
	// Output:
	// <b>📊 ETH-USDT · 1h analysis</b>
	// Close <b>3,578.89</b> · 300 candles · last closed 5m ago
	// <code>▆▅▄▃▃▂▂▁▁▁▁▁▁▁▁▂▂▃▃▄▅▆▇█</code> last 24 closes +0.66%
	//
	// 🟢 Trend ↑ strong uptrend · EMA20 +0.35%/5 bars
	// 🔴 RSI 77.8 <code>[░░░|░░░░|▓░░]</code> overbought
	// 🟢 MACD above signal · hist 6.22
	// 🔴 Bollinger %B 1.11 · above the upper band
	// 🟢 Price above EMA200 (+5.38%)
	// ⚪ Volume 0.68× its 20-bar average
	// <pre>EMA20      3,544.62
	// EMA50      3,530.72
	// EMA200     3,396.06
	// MACD           6.34
	// Signal       0.1210
	// BB upper   3,570.48
	// BB lower   3,496.51
	// ATR14         13.04  0.36%
	// Volatility    12.5%  a year
	// Support    3,511.91  -1.87%
	// Resistance 3,593.93  +0.42%
	// </pre>
	// <b>Summary:</b> ⚪ Neutral: mixed signals, 3 bullish, 2 bearish
}
