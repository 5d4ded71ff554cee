// Package flags evaluates the bot's feature flags: flagd-format files in
// flags/*.yaml, read live by an OpenFeature provider of our own. The keys
// themselves live in package flagkey, which imports nothing.
package flags

import "github.com/cryptobot-dev/cryptobot/flags/flagkey"

// Catalog is flagkey.Catalog, for Lint and flaglint.
var Catalog = flagkey.Catalog
