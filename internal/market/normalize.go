package market

import (
	"fmt"
	"strings"
)

// MaxSymbolLen bounds both the user's input and the canonical pair (BASE-QUOTE).
const MaxSymbolLen = 30

// DefaultQuote is the quote assumed when the input names only a base.
const DefaultQuote = "USDT"

// knownQuotes are the suffixes a glued symbol (BTCUSDT) is split on, longest
// first so that FDUSD wins over any shorter suffix. Never written.
var knownQuotes = [...]string{"FDUSD", "USDT", "USDC", "TUSD", "DAI", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL"}

// SymbolError reports input that cannot be a pair at all (empty, too long,
// stray characters). errors.Is(err, ErrUnknownSymbol) holds, so callers that
// answer "unknown pair" need no special case for it.
type SymbolError struct {
	Input  string
	Reason string
}

func (e *SymbolError) Error() string {
	in := e.Input
	if len(in) > MaxSymbolLen {
		in = in[:MaxSymbolLen] + "…"
	}
	return fmt.Sprintf("invalid symbol %q: %s", in, e.Reason)
}

// Is makes errors.Is(err, ErrUnknownSymbol) true.
// Is makes errors.Is hold for ErrInvalidSymbol and, so callers that only
// know "unknown" still reply sensibly, for ErrUnknownSymbol.
func (e *SymbolError) Is(target error) bool {
	return target == ErrInvalidSymbol || target == ErrUnknownSymbol
}

// Normalize turns user input into a pair: btc, BTC, $btc, btcusdt, BTC/USDT,
// btc-usdt and BTC_USDT all give BTC-USDT; ethbtc and ETH-BTC give ETH-BTC.
// A glued symbol is split on the longest known quote that leaves a base; a
// bare base gets DefaultQuote. Anything else is a *SymbolError.
func Normalize(input string) (Pair, error) {
	p, _, err := parse(input)
	return p, err
}

// parse returns the pair Normalize gives and, for a glued symbol that was
// split on a quote, the reading of the whole symbol as a base (WBTC is
// W-BTC first, WBTC-USDT second), so Resolve can check both against the
// instrument lists. alt is the zero Pair when there is no second reading.
func parse(input string) (p, alt Pair, err error) {
	fail := func(reason string) (Pair, Pair, error) {
		return Pair{}, Pair{}, &SymbolError{Input: input, Reason: reason}
	}
	s := strings.TrimSpace(input)
	if len(s) > MaxSymbolLen {
		return fail(fmt.Sprintf("longer than %d characters", MaxSymbolLen))
	}
	s = strings.TrimPrefix(s, "$")
	if s == "" {
		return fail("empty")
	}
	b := []byte(s)
	sep := -1
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '/' || c == '-' || c == '_':
			if sep >= 0 {
				return fail("more than one separator")
			}
			sep = i
		default:
			return fail("use letters and digits, optionally split by one of / - _")
		}
	}
	u := string(b)
	if sep >= 0 {
		p = Pair{Base: u[:sep], Quote: u[sep+1:]}
		switch {
		case p.Base == "":
			return fail("missing base")
		case p.Quote == "":
			return fail("missing quote")
		}
	} else {
		p = Pair{Base: u, Quote: DefaultQuote}
		for _, q := range knownQuotes {
			if len(u) > len(q) && strings.HasSuffix(u, q) {
				p = Pair{Base: u[:len(u)-len(q)], Quote: q}
				alt = Pair{Base: u, Quote: DefaultQuote}
				break
			}
		}
	}
	if p.Base == p.Quote {
		return fail("base and quote are the same")
	}
	if len(p.Base)+1+len(p.Quote) > MaxSymbolLen {
		return fail(fmt.Sprintf("longer than %d characters", MaxSymbolLen))
	}
	if len(alt.Base)+1+len(alt.Quote) > MaxSymbolLen {
		alt = Pair{}
	}
	return p, alt, nil
}
