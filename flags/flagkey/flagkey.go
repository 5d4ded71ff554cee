// Package flagkey declares the feature flag keys, once. It imports nothing, so
// a feature names its flag without pulling in the flag provider (OpenFeature,
// fsnotify, YAML).
package flagkey

// Flag keys. Every enhanced module names one of these.
const (
	OpenInterest   = "open-interest"
	FundingRates   = "funding-rates"
	MarketAnalysis = "market-analysis"
	Charts         = "charts"
	Alerts         = "alerts"
)

// Catalog describes every flag key in one line; a test fails when an enhanced
// module names a key missing here.
var Catalog = map[string]string{
	OpenInterest:   "open-interest module: /oi and the OI line in /price",
	FundingRates:   "funding module: /funding and the funding line in /price",
	MarketAnalysis: "analysis module: /analysis with indicators and the analysis line in /price",
	Charts:         "chart module: /chart renders a candlestick PNG with EMA20 and volume",
	Alerts:         "alerts module: /alert, /alerts, /unalert, /watch, /unwatch, /watchlist, /digest and the alert runner",
}
