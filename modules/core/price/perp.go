package price

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// PerpSource is the perpetual ticker (market.Market has it). A Source
// without it quotes spot only: /price BTC-PERP says perpetuals are not
// available, and inline answers list no perpetual.
type PerpSource interface {
	PerpTicker(ctx context.Context, pair market.Pair) (market.Ticker, error)
}

// perpSuffix marks a perpetual in /price input: BTC-PERP (the USDT
// perpetual), BTC-USDT-PERP, btcusdt-perp, eth/perp. The suffix form keeps
// "/price btc perp" what it always was, two symbols (PERP is a spot token).
const perpSuffix = "-PERP"

// perpLabel follows the pair in titles: "BTC-USDT perp".
const perpLabel = " perp"

// perpQuote is the quote a bare perpetual input takes: the perpetuals the
// venues list for the bot are USDT-margined.
const perpQuote = "USDT"

// errNoPerps is a Source that cannot quote perpetuals.
var errNoPerps = errors.New("perpetual prices are not available")

// perpInput reports input naming a perpetual and returns it without the
// suffix ("BTC-PERP" → "BTC", "eth/usdt-perp" → "eth/usdt").
func perpInput(input string) (string, bool) {
	up := strings.ToUpper(input)
	for _, sfx := range []string{perpSuffix, "/PERP", "_PERP"} {
		if rest, ok := strings.CutSuffix(up, sfx); ok && rest != "" {
			return input[:len(rest)], true
		}
	}
	return "", false
}

// perpArg is the /price argument that names pair's perpetual, as the
// Refresh button and inline results carry it.
func perpArg(p market.Pair) string { return p.String() + perpSuffix }

// resolvePerp reads input (without the suffix) as a perpetual: a bare base
// takes USDT.
func (m *Module) resolvePerp(ctx context.Context, input string) (market.Pair, error) {
	if bare(input) {
		input += "-" + perpQuote
	}
	return m.src.Resolve(ctx, input, market.Perp)
}

// perpTicker is the perpetual's ticker, or errNoPerps.
func (m *Module) perpTicker(ctx context.Context, p market.Pair) (market.Ticker, error) {
	ps, ok := m.src.(PerpSource)
	if !ok {
		return market.Ticker{}, fmt.Errorf("perp ticker %s: %w", p, errNoPerps)
	}
	return ps.PerpTicker(ctx, p)
}

// hasPerps reports whether the source can quote perpetuals at all.
func (m *Module) hasPerps() bool {
	_, ok := m.src.(PerpSource)
	return ok
}

// title names a quoted instrument: "BTC-USDT", or "BTC-USDT perp".
func title(p market.Pair, perp bool) string {
	if perp {
		return p.String() + perpLabel
	}
	return p.String()
}
