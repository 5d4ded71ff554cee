package modules

import (
	"fmt"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// MarketModule is the Info of an enhanced module that reads nothing but the
// market source and the clock: New fails when Deps has no market source and
// otherwise hands both to build.
func MarketModule(id, flag string, cost Cost, build func(src market.Source, now func() time.Time) Module) Info {
	return Info{ID: id, Flag: flag, Cost: cost, New: func(d Deps) (Module, error) {
		if d.Market == nil {
			return nil, fmt.Errorf("%s: no market source", id)
		}
		return build(d.Market, d.Now), nil
	}}
}

// Clock is now, or time.Now when now is nil: the clock a module's New
// defaults to.
func Clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// One is the command list of a module that answers a single command.
func One(name, usage, description string, h HandlerFunc) []Command {
	return []Command{{Name: name, Usage: usage, Description: description, Handler: h}}
}
