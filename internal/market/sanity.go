package market

import (
	"context"
	"fmt"
	"math"
)

// Defaults for the plausibility checks in Options.
const (
	DefaultRangeTolerance = 0.01 // last may sit 1 % outside the 24 h low–high: the two fields are not read at one instant
	DefaultMaxDeviation   = 1.5  // last may differ from another venue's by this factor either way
	DefaultMaxFundingRate = 0.05 // ±5 % per interval: beyond any venue's cap
)

// Reasons a venue answer is rejected: the reason label of
// cryptobot_exchange_rejected_total.
const (
	reasonNotPositive = "not_positive"      // a price or open interest ≤ 0, NaN or infinite
	reasonOutOfRange  = "outside_24h_range" // last outside the ticker's own 24 h low–high
	reasonOffVenues   = "off_other_venues"  // last too far from every other venue's cached price
	reasonFunding     = "funding_out_of_range"
	reasonSeries      = "invalid_series" // candles or OI history with an impossible row
)

// RejectReasons are the reason label values this package records.
var RejectReasons = []string{reasonNotPositive, reasonOutOfRange, reasonOffVenues, reasonFunding, reasonSeries}

// Plausibility configures the checks every venue answer passes before it is
// served or cached. Zero values take the defaults.
type Plausibility struct {
	// RangeTolerance is how far a ticker's last price may sit outside its own
	// 24 h low–high, as a fraction; default DefaultRangeTolerance.
	RangeTolerance float64
	// MaxDeviation is the factor (> 1) by which a last price may differ from
	// every other venue's cached one; default DefaultMaxDeviation.
	MaxDeviation float64
	// MaxFundingRate is the largest plausible |funding rate| per interval;
	// default DefaultMaxFundingRate.
	MaxFundingRate float64
}

// sanity holds the limits of the checks.
type sanity struct {
	rangeTol     float64
	maxDeviation float64
	maxFunding   float64
}

func (p Plausibility) withDefaults() sanity {
	s := sanity{rangeTol: p.RangeTolerance, maxDeviation: p.MaxDeviation, maxFunding: p.MaxFundingRate}
	if !(s.rangeTol > 0) {
		s.rangeTol = DefaultRangeTolerance
	}
	if !(s.maxDeviation > 1) {
		s.maxDeviation = DefaultMaxDeviation
	}
	if !(s.maxFunding > 0) {
		s.maxFunding = DefaultMaxFundingRate
	}
	return s
}

// RejectedError is a venue answer that parsed but cannot be real: a zero or
// negative price, a last price outside its own 24 h range or far from the
// other venues, an impossible funding rate. errors.Is(err, ErrBadResponse)
// holds, so failover moves on and the cache never stores it.
type RejectedError struct {
	Venue, Reason, Detail string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("%s: implausible answer (%s): %s", e.Venue, e.Reason, e.Detail)
}

// Is makes errors.Is(err, ErrBadResponse) true.
func (e *RejectedError) Is(target error) bool { return target == ErrBadResponse }

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

// nonNegative is false for NaN too.
func nonNegative(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }

// check returns the reason v is implausible for k, and a detail, or "".
// peers are other venues' cached last prices for a ticker's pair.
func (s sanity) check(k key, v any, peers []float64) (reason, detail string) {
	switch x := v.(type) {
	case Ticker:
		return s.ticker(x, peers)
	case OpenInterest:
		if !positive(x.Coin) || !nonNegative(x.USD) {
			return reasonNotPositive, fmt.Sprintf("open interest %g coin, %g USD", x.Coin, x.USD)
		}
	case Funding:
		if !(math.Abs(x.Rate) <= s.maxFunding) {
			return reasonFunding, fmt.Sprintf("funding rate %g per interval, limit ±%g", x.Rate, s.maxFunding)
		}
		if !nonNegative(x.Mark) || !nonNegative(x.Index) {
			return reasonNotPositive, fmt.Sprintf("mark %g, index %g", x.Mark, x.Index)
		}
	case []Candle:
		if !ValidCandles(x) {
			return reasonSeries, fmt.Sprintf("%d %s candles with a non-positive price, negative volume or low above high", len(x), k.iv)
		}
	case []OIPoint:
		for _, p := range x {
			if !nonNegative(p.Coin) || !nonNegative(p.USD) {
				return reasonSeries, fmt.Sprintf("open interest row %g coin, %g USD", p.Coin, p.USD)
			}
		}
	}
	return "", ""
}

func (s sanity) ticker(t Ticker, peers []float64) (reason, detail string) {
	if !positive(t.Last) {
		return reasonNotPositive, fmt.Sprintf("last price %g", t.Last)
	}
	// A venue that leaves the range out (0) is only checked against peers.
	if positive(t.Low) && positive(t.High) {
		if t.Low > t.High || t.Last < t.Low*(1-s.rangeTol) || t.Last > t.High*(1+s.rangeTol) {
			return reasonOutOfRange, fmt.Sprintf("last price %g outside its 24h low %g – high %g", t.Last, t.Low, t.High)
		}
	}
	if len(peers) == 0 {
		return "", ""
	}
	for _, p := range peers {
		if r := t.Last / p; r <= s.maxDeviation && r >= 1/s.maxDeviation {
			return "", ""
		}
	}
	return reasonOffVenues, fmt.Sprintf("last price %g, other venues %v", t.Last, peers)
}

// ask is one request of venue idx for k: counted by why it runs, and vetted.
func (m *Market) ask(ctx context.Context, k key, idx int) (any, error) {
	m.cache.tel.upstream[idx][triggerOf(ctx)].Inc()
	v, err := call(ctx, m.exchanges[idx], k)
	if err != nil {
		return nil, err
	}
	if err := m.vet(k, idx, v); err != nil {
		return nil, err
	}
	return v, nil
}

// vet rejects an implausible answer of venue idx for k: counted, logged and
// returned as a *RejectedError.
func (m *Market) vet(k key, idx int, v any) error {
	var peers []float64
	if k.op == opTicker || k.op == opPerpTicker {
		peers = m.cache.peerPrices(k.op, k.pair, m.exchanges[idx].Name(), len(m.exchanges), m.now())
	}
	reason, detail := m.cache.sanity.check(k, v, peers)
	if reason == "" {
		return nil
	}
	venue := m.exchanges[idx].Name()
	m.cache.tel.rejected.WithLabelValues(venue, k.op.String(), reason).Inc()
	m.log.Warn("venue answer rejected as implausible", "venue", venue, "op", k.op.String(), "pair", k.pair.String(), "reason", reason, "detail", detail)
	return &RejectedError{Venue: venue, Reason: reason, Detail: detail}
}
