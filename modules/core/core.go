// Package core lists the core modules: always loaded, no flag. They answer
// from the pipeline's own state (the command catalog, the /price sections,
// the bot's status), which cmd/server hands each one in its constructor; so
// they are built by cmd/server rather than registered from init, and no
// module reaches back into the router through Deps.
package core

import (
	"slices"
	"strings"

	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/core/admin"
	"github.com/cryptobot-dev/cryptobot/modules/core/help"
	"github.com/cryptobot-dev/cryptobot/modules/core/price"
	"github.com/cryptobot-dev/cryptobot/modules/core/settings"
)

// Modules returns the core modules sorted by id, like modules.Registered,
// without /settings (every chat has the defaults).
func Modules(catalog help.Catalog, sections price.Sections, inspect admin.Inspector) []modules.Info {
	return WithSettings(catalog, sections, inspect, nil)
}

// WithSettings is Modules with /settings over prefs, whose settings /price
// applies; nil prefs leaves /settings out.
func WithSettings(catalog help.Catalog, sections price.Sections, inspect admin.Inspector, prefs *settings.Service) []modules.Info {
	out := append(help.Infos(catalog), admin.Info(inspect))
	if prefs != nil {
		out = append(out, price.Info(sections, prefs), settings.Info(prefs))
	} else {
		out = append(out, price.Info(sections, nil))
	}
	slices.SortFunc(out, func(a, b modules.Info) int { return strings.Compare(a.ID, b.ID) })
	return out
}
