package market

import (
	"context"
	"errors"
)

// Result is one call's outcome.
type Result[T any] struct {
	Value T
	Err   error
}

// Call is a request running in its own goroutine; see Start.
type Call[T any] struct {
	done chan Result[T]
}

// Start runs f in a goroutine. The buffered channel lets f finish and the
// goroutine exit even when nobody waits any more.
func Start[T any](ctx context.Context, f func(context.Context) (T, error)) *Call[T] {
	c := &Call[T]{done: make(chan Result[T], 1)}
	go func() {
		v, err := f(ctx)
		c.done <- Result[T]{v, err}
	}()
	return c
}

// Wait returns the call's result, or ctx's error once ctx ends. A result that
// is already there wins over a finished ctx.
func (c *Call[T]) Wait(ctx context.Context) (T, error) {
	select {
	case r := <-c.done:
		return r.Value, r.Err
	default:
	}
	select {
	case r := <-c.done:
		return r.Value, r.Err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// FanOut asks every venue at once and returns their results in venue order:
// all calls start before any is waited on, so the slowest venue sets the
// pace, and a venue still busy when ctx ends gets ctx's error.
func FanOut[T any](ctx context.Context, venues []Exchange, f func(context.Context, Exchange) (T, error)) []Result[T] {
	calls := make([]*Call[T], len(venues))
	for i, v := range venues {
		calls[i] = Start(ctx, func(ctx context.Context) (T, error) { return f(ctx, v) })
	}
	out := make([]Result[T], len(calls))
	for i, c := range calls {
		out[i].Value, out[i].Err = c.Wait(ctx)
	}
	return out
}

// Unavailable reports whether a side-by-side view has nothing to show: no
// venue answered and at least one failed. Venues that all do not list the
// pair are an answer, not an outage.
func Unavailable[T any](rs []Result[T]) bool {
	failed := false
	for _, r := range rs {
		switch {
		case r.Err == nil:
			return false
		case !errors.Is(r.Err, ErrUnknownSymbol):
			failed = true
		}
	}
	return failed
}
