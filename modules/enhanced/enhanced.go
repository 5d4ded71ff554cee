// Package enhanced links the enhanced modules into the binary. Each registers
// itself with a flag key and a memory cost; flags and the budget decide the rest.
package enhanced

import (
	_ "github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts"       // /alert, /alerts, /watch, /digest …
	_ "github.com/cryptobot-dev/cryptobot/modules/enhanced/analysis"     // /analysis
	_ "github.com/cryptobot-dev/cryptobot/modules/enhanced/chart"        // /chart
	_ "github.com/cryptobot-dev/cryptobot/modules/enhanced/funding"      // /funding
	_ "github.com/cryptobot-dev/cryptobot/modules/enhanced/openinterest" // /oi
)
