package market

// Venue names: what Exchange.Name returns, the venue metric label and the
// spelling of config's exchanges.order.
const (
	Binance = "binance"
	Bybit   = "bybit"
	OKX     = "okx"
)

// venueTable lists every venue the bot has a client for, in the default
// failover order, with the name users see.
var venueTable = [...]struct{ name, title string }{
	{Binance, "Binance"},
	{Bybit, "Bybit"},
	{OKX, "OKX"},
}

// VenueNames returns every venue name in the default failover order: the
// label set of the venue label. The slice is the caller's own.
func VenueNames() []string {
	out := make([]string, len(venueTable))
	for i, v := range venueTable {
		out[i] = v.name
	}
	return out
}

// VenueTitle returns a venue's display name ("OKX" for "okx"), or name
// itself for a venue it does not know.
func VenueTitle(name string) string {
	for _, v := range venueTable {
		if v.name == name {
			return v.title
		}
	}
	return name
}
