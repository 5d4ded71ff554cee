package price

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cryptobot-dev/cryptobot/internal/format"
	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/modules"
	"github.com/cryptobot-dev/cryptobot/modules/core/settings"
	"github.com/cryptobot-dev/cryptobot/modules/reply"
)

// Inline mode: "@bot btc" answers with the pairs that match, each titled
// with its price and sending the /price text.
const (
	maxInlineResults = 10
	inlineCacheTime  = 5 * time.Second // prices move: Telegram must not reuse an answer for long
	// inlineBudget bounds the tickers of one answer: Telegram wants it
	// within about a second, and a pair that is late is left out.
	inlineBudget   = 800 * time.Millisecond
	inlineParallel = 4 // tickers fetched at once: a query costs the venues little
	inlineHint     = "No pair found. Open the bot"
)

// topBases fill the answer to an empty query.
var topBases = []string{"BTC", "ETH", "SOL", "XRP", "BNB", "DOGE"}

// inlineQuotes are tried, in order, for a query that names a base alone.
var inlineQuotes = []string{"USDT", "USDC", "USD", "BTC", "ETH", "EUR"}

// Inline answers an inline query (dispatch.Inliner): up to 10 spot pairs
// that match, from the venues' catalogs through Resolve, each with the
// /price text (without sections: one answer would cost each section's
// calls per pair). A query that matches nothing answers with no results
// and the hint, never an error.
func (m *Module) Inline(ctx context.Context, req modules.Request) (*modules.InlineAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, inlineBudget)
	defer cancel()
	st := m.settings(ctx, req.UserID)
	pairs := m.candidates(ctx, req.Inline.Query, st)
	tickers := m.tickers(ctx, pairs)
	ans := &modules.InlineAnswer{CacheTime: inlineCacheTime, Personal: m.prefs != nil}
	now := m.now()
	for _, t := range tickers {
		if t.Pair.Base == "" {
			continue // failed or late
		}
		ans.Results = append(ans.Results, modules.InlineResult{
			ID:          t.Pair.String(),
			Title:       t.Pair.String() + " " + st.Number(format.Price(t.Last)) + " " + format.Arrow(t.ChangePct) + " " + st.Number(format.Percent(t.ChangePct, 2)),
			Description: "24h · High " + st.Number(format.Price(t.High)) + " · Low " + st.Number(format.Price(t.Low)) + " · " + reply.Venue(t.Venue),
			Text:        render(t, nil, now, st),
		})
	}
	if len(ans.Results) == 0 {
		ans.Hint, ans.HintStart = inlineHint, "inline"
	}
	return ans, nil
}

// candidates are the pairs a query names, best first, at most 10:
// "btc" → BTC with the chat's default quote first, then the other common
// quotes the venues list; "eth usdt", "ETHUSDT" or "eth/btc" → that pair;
// a near miss → the catalog's suggestions; "" → the top pairs.
func (m *Module) candidates(ctx context.Context, query string, st settings.Settings) []market.Pair {
	fields := strings.Fields(query)
	if len(fields) == 0 {
		var out []market.Pair
		for _, b := range topBases {
			if p, err := m.src.Resolve(ctx, b+"-"+st.DefaultQuoteOr(), market.Spot); err == nil {
				out = append(out, p)
			}
		}
		return out
	}
	input := strings.Join(fields[:min(len(fields), 2)], "-")
	var out []market.Pair
	add := func(p market.Pair) {
		if len(out) < maxInlineResults && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(fields) == 1 && bare(input) {
		quotes := append([]string{st.DefaultQuoteOr()}, inlineQuotes...)
		for _, q := range quotes {
			if p, err := m.src.Resolve(ctx, input+"-"+q, market.Spot); err == nil {
				add(p)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	p, err := m.src.Resolve(ctx, input, market.Spot)
	if err == nil {
		add(p)
		return out
	}
	var unknown *market.UnknownPairError
	if errors.As(err, &unknown) {
		for _, s := range unknown.Suggestions {
			add(s)
		}
	}
	return out
}
