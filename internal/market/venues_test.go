package market

import (
	"slices"
	"testing"
)

func TestVenueTable(t *testing.T) {
	if got := VenueNames(); !slices.Equal(got, []string{"binance", "bybit", "okx"}) {
		t.Errorf("VenueNames() = %v", got)
	}
	VenueNames()[0] = "mutated"
	if VenueNames()[0] != Binance {
		t.Error("VenueNames shares its slice")
	}
	for name, want := range map[string]string{"binance": "Binance", "bybit": "Bybit", "okx": "OKX", "kraken": "kraken"} {
		if got := VenueTitle(name); got != want {
			t.Errorf("VenueTitle(%q) = %q, want %q", name, got, want)
		}
	}
}
