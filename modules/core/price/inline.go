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
// and perpetuals that match, from the venues' catalogs through Resolve, each
// with the /price text of that pair or perpetual (without sections: one
// answer would cost each section's calls per pair), so picking "BTC-USDT
// perp" sends what /price BTC-USDT-PERP would. A query that matches nothing
// answers with no results and the hint, never an error.
func (m *Module) Inline(ctx context.Context, req modules.Request) (*modules.InlineAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, inlineBudget)
	defer cancel()
	st := m.settings(ctx, req.UserID)
	cands := m.candidates(ctx, req.Inline.Query, st)
	tickers := m.tickers(ctx, cands)
	ans := &modules.InlineAnswer{CacheTime: inlineCacheTime, Personal: m.prefs != nil}
	now := m.now()
	for i, t := range tickers {
		if t.Pair.Base == "" {
			continue // failed or late
		}
		perp := cands[i].perp
		q := quote{t: t, perp: perp}
		ans.Results = append(ans.Results, modules.InlineResult{
			ID:          q.arg(),
			Title:       title(t.Pair, perp) + " " + st.Number(format.Price(t.Last)) + " " + format.Arrow(t.ChangePct) + " " + st.Number(format.Percent(t.ChangePct, 2)),
			Description: "24h · High " + st.Number(format.Price(t.High)) + " · Low " + st.Number(format.Price(t.Low)) + " · " + reply.Venue(t.Venue),
			Text:        render(t, perp, nil, now, st),
		})
	}
	if len(ans.Results) == 0 {
		ans.Hint, ans.HintStart = inlineHint, "inline"
	}
	return ans, nil
}

// candidate is one inline result to quote: a spot pair or its perpetual.
type candidate struct {
	pair market.Pair
	perp bool
}

// perpSlot is where a base's perpetual goes among its spot pairs: after the
// first two quotes (BTC-USDT, BTC-USDC, BTC-USDT perp, BTC-USD, …).
const perpSlot = 2

// candidates are what a query names, best first, at most 10:
// "btc" → BTC with the chat's default quote first, then the other common
// quotes the venues list, with BTC's USDT perpetual third; "eth usdt",
// "ETHUSDT" or "eth/btc" → that pair and its perpetual when one is listed;
// "btc perp" or "btc-perp" → the perpetual alone; a near miss → the
// catalog's suggestions; "" → the top spot pairs.
func (m *Module) candidates(ctx context.Context, query string, st settings.Settings) []candidate {
	fields := strings.Fields(query)
	if len(fields) == 0 {
		var out []candidate
		for _, b := range topBases {
			if p, err := m.src.Resolve(ctx, b+"-"+st.DefaultQuoteOr(), market.Spot); err == nil {
				out = append(out, candidate{pair: p})
			}
		}
		return out
	}
	input := strings.Join(fields[:min(len(fields), 2)], "-")
	if rest, ok := perpInput(input); ok {
		if p, err := m.resolvePerp(ctx, rest); err == nil && m.hasPerps() {
			return []candidate{{pair: p, perp: true}}
		}
		return nil
	}
	var out []candidate
	add := func(c candidate) {
		if len(out) < maxInlineResults && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	// withPerp adds the perpetual of base (or of pair) at perpSlot when the
	// venues list one.
	withPerp := func(input string) []candidate {
		if !m.hasPerps() {
			return out
		}
		p, err := m.resolvePerp(ctx, input)
		if err != nil {
			return out
		}
		c := candidate{pair: p, perp: true}
		if slices.Contains(out, c) {
			return out
		}
		out = slices.Insert(out, min(perpSlot, len(out)), c)
		return out[:min(len(out), maxInlineResults)]
	}
	if len(fields) == 1 && bare(input) {
		quotes := append([]string{st.DefaultQuoteOr()}, inlineQuotes...)
		for _, q := range quotes {
			if p, err := m.src.Resolve(ctx, input+"-"+q, market.Spot); err == nil {
				add(candidate{pair: p})
			}
		}
		if len(out) > 0 {
			return withPerp(input)
		}
	}
	p, err := m.src.Resolve(ctx, input, market.Spot)
	if err == nil {
		add(candidate{pair: p})
		return withPerp(p.String())
	}
	var unknown *market.UnknownPairError
	if errors.As(err, &unknown) {
		for _, s := range unknown.Suggestions {
			add(candidate{pair: s})
		}
	}
	return out
}
