package market

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// minAttempt is the least time one venue gets, however little of the
// caller's budget is left: below it a venue cannot answer at all.
const minAttempt = 250 * time.Millisecond

// failover calls the venues that list k.pair, in configured order, until one
// answers plausibly. It moves on after any error (an implausible answer
// included) except ErrUnknownSymbol, which it
// returns at once: another venue would not know the pair either, and asking
// would only spend budget.
func (m *Market) failover(ctx context.Context, k key) (any, error) {
	if len(m.exchanges) == 0 {
		return nil, fmt.Errorf("%s %s: no venues configured: %w", k.op, k.pair, ErrUnavailable)
	}
	order := m.catalog.venuesFor(k.op.kind(), k.pair)
	if len(order) == 0 {
		return nil, fmt.Errorf("%s %s: no venue lists it: %w", k.op, k.pair, ErrUnknownSymbol)
	}
	order = m.health.order(order, m.now())
	fe := &venuesError{}
	for i, idx := range order {
		ex := m.exchanges[idx]
		actx, cancel := attemptContext(ctx, len(order)-i)
		v, err := m.ask(actx, k, idx)
		cancel()
		if err == nil {
			m.health.ok(idx)
			return v, nil
		}
		if errors.Is(err, ErrUnknownSymbol) {
			return nil, err
		}
		fe.add(ex.Name(), err)
		if ctx.Err() != nil { // the caller's budget ran out, not necessarily the venue's fault
			fe.errs = append(fe.errs, ctx.Err())
			break
		}
		if !errors.Is(err, ErrUnsupported) && m.health.failed(idx, err, m.now()) { // a request it cannot serve says nothing of its health
			m.log.Warn("venue failing; trying it last for a while", "venue", ex.Name(), "op", k.op.String(), "err", err)
		}
		if i+1 < len(order) {
			next := m.exchanges[order[i+1]].Name()
			m.metrics.Failovers.WithLabelValues(ex.Name(), next).Inc()
			m.log.Debug("market failover", "op", k.op.String(), "from", ex.Name(), "to", next, "err", err)
		}
	}
	fe.what = fmt.Sprintf("%s %s", k.op, k.pair)
	return nil, fe
}

// attemptContext gives one attempt its share of the time left: the remaining
// budget divided by the venues still to try, but at least minAttempt, so a
// hanging first venue leaves time for the others.
func attemptContext(ctx context.Context, left int) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok || left <= 1 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, max(time.Until(dl)/time.Duration(left), minAttempt))
}

// call is the one place a key becomes a venue request.
func call(ctx context.Context, ex Exchange, k key) (any, error) {
	switch k.op {
	case opTicker:
		return ex.Ticker(ctx, k.pair)
	case opOpenInterest:
		return ex.OpenInterest(ctx, k.pair)
	case opOIHistory:
		return ex.OIHistory(ctx, k.pair, k.period, k.limit)
	case opFunding:
		return ex.Funding(ctx, k.pair)
	case opCandles:
		return ex.Candles(ctx, k.pair, k.iv, k.limit)
	case opPerpTicker:
		return perpTicker(ctx, ex, k.pair)
	}
	return nil, fmt.Errorf("unknown market call %d", k.op)
}

// venuesError is every venue's failure of one query (failover) or batch
// (Prices); errors.Is(err, ErrUnavailable) holds, as does errors.Is for each
// venue's own error.
type venuesError struct {
	what string // "ticker BTC-USDT", "all_prices"
	errs []error
}

func (e *venuesError) add(venue string, err error) {
	if !strings.HasPrefix(err.Error(), venue) {
		err = fmt.Errorf("%s: %w", venue, err)
	}
	e.errs = append(e.errs, err)
}

func (e *venuesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v", e.what, ErrUnavailable)
	for i, err := range e.errs {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *venuesError) Unwrap() []error {
	return append([]error{ErrUnavailable}, e.errs...)
}
