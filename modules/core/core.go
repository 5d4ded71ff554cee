// Package core links the core modules into the binary; each registers itself.
package core

import (
	_ "github.com/cryptobot-dev/cryptobot/modules/core/admin" // /status, /flags
	_ "github.com/cryptobot-dev/cryptobot/modules/core/help"  // /help
	_ "github.com/cryptobot-dev/cryptobot/modules/core/price" // /price
	_ "github.com/cryptobot-dev/cryptobot/modules/core/start" // /start
)
