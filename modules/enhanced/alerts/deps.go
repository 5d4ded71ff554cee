package alerts

import "github.com/cryptobot-dev/cryptobot/modules"

// storeOf is the store in d, or nil: a nil *store.Store must not become a
// non-nil Store.
func storeOf(d modules.Deps) Store {
	if d.Store == nil {
		return nil
	}
	return d.Store
}
