package httpjson

import (
	"errors"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

func TestFirst(t *testing.T) {
	if got, err := First([]string{"a", "b"}, "rows"); got != "a" || err != nil {
		t.Errorf("First(a, b) = %q, %v; want a, nil", got, err)
	}
	got, err := First([]string(nil), "ticker list")
	if got != "" || !errors.Is(err, market.ErrUnknownSymbol) || err.Error() != market.ErrUnknownSymbol.Error()+": empty ticker list" {
		t.Errorf("First(nil) = %q, %v; want ErrUnknownSymbol: empty ticker list", got, err)
	}
}
