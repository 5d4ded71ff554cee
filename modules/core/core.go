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
)

// Modules returns the core modules sorted by id, like modules.Registered.
func Modules(catalog help.Catalog, sections price.Sections, inspect admin.Inspector) []modules.Info {
	out := append(help.Infos(catalog), price.Info(sections), admin.Info(inspect))
	slices.SortFunc(out, func(a, b modules.Info) int { return strings.Compare(a.ID, b.ID) })
	return out
}
