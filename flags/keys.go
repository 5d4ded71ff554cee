// Package flags evaluates the bot's feature flags: flagd-format files in
// flags/*.yaml, read live by an OpenFeature provider of our own.
package flags

// Flag keys, declared once. Every enhanced module names one of these.
const (
	OpenInterest   = "open-interest"
	FundingRates   = "funding-rates"
	MarketAnalysis = "market-analysis"
	Charts         = "charts"
)

// Catalog describes every flag key in one line; a test fails when an enhanced
// module names a key missing here.
var Catalog = map[string]string{
	OpenInterest:   "open-interest module: /oi and the OI line in /price",
	FundingRates:   "funding module: /funding and the funding line in /price",
	MarketAnalysis: "analysis module: /analysis with indicators and the analysis line in /price",
	Charts:         "chart module: /chart renders a candlestick PNG with EMA20 and volume",
}
