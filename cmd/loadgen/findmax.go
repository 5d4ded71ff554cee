package main

import (
	"context"
	"math"
	"time"
)

// FindMax is the outcome of -find-max.
type FindMax struct {
	P99LimitMS float64  `json:"p99_limit_ms"`
	MaxRate    float64  `json:"max_rate_per_s"` // 0 when no step passed
	Steps      []Result `json:"steps"`
}

// passes is the -find-max criterion: nothing lost or duplicated and p99
// under the limit.
func (f FindMax) passes(r Result) bool { return r.Passed() && r.LatencyMS.P99 < f.P99LimitMS }

// stepFunc measures one rate.
type stepFunc func(ctx context.Context, rate float64) (Result, error)

// findMax doubles the rate from start while steps pass, up to limit, then
// bisects refine times between the last passing and the first failing rate
// (whole updates per second). At most log2(limit/start)+1+refine steps run.
func findMax(ctx context.Context, start, limit float64, refine int, p99 time.Duration, step stepFunc) (FindMax, error) {
	f := FindMax{P99LimitMS: ms(p99)}
	run := func(rate float64) (bool, error) {
		r, err := step(ctx, rate)
		if err != nil {
			return false, err
		}
		f.Steps = append(f.Steps, r)
		return f.passes(r), nil
	}
	lo, hi := 0.0, 0.0
	for rate := start; rate <= limit; rate *= 2 {
		ok, err := run(rate)
		if err != nil {
			return f, err
		}
		if !ok {
			hi = rate
			break
		}
		lo = rate
	}
	for i := 0; i < refine && lo > 0 && hi > 0; i++ {
		mid := math.Round((lo + hi) / 2)
		if mid <= lo || mid >= hi {
			break
		}
		ok, err := run(mid)
		if err != nil {
			return f, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	f.MaxRate = lo
	return f, nil
}
