package market

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

func TestFanOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b, c := newStub("binance"), newStub("bybit"), newStub("okx")
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		release := make(chan struct{})
		defer close(release)
		start := time.Now()
		rs := FanOut(ctx, []Exchange{a, b, c}, func(ctx context.Context, v Exchange) (string, error) {
			switch v.Name() {
			case "bybit":
				return "", fmt.Errorf("bybit: %w", ErrUnavailable)
			case "okx": // stalls past the deadline
				<-release
				return "late", nil
			}
			return v.Name(), nil
		})
		if d := time.Since(start); d != time.Second {
			t.Errorf("FanOut returned after %v, want at the 1s deadline", d)
		}
		if len(rs) != 3 || rs[0].Value != "binance" || rs[0].Err != nil || !errors.Is(rs[1].Err, ErrUnavailable) ||
			!errors.Is(rs[2].Err, context.DeadlineExceeded) || rs[2].Value != "" {
			t.Errorf("FanOut = %+v", rs)
		}
	})
}

func TestWaitPrefersResult(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c := Start(ctx, func(context.Context) (int, error) { return 7, nil })
	<-c.done // the result is in; put it back and end ctx before waiting
	c.done <- Result[int]{Value: 7}
	cancel()
	if v, err := c.Wait(ctx); v != 7 || err != nil {
		t.Errorf("Wait = %d, %v; want the result that was already there", v, err)
	}
}

func TestUnavailable(t *testing.T) {
	ok, unknown, down := Result[int]{}, Result[int]{Err: ErrUnknownSymbol}, Result[int]{Err: ErrUnavailable}
	for _, tc := range []struct {
		name string
		rs   []Result[int]
		want bool
	}{
		{"none", nil, false},
		{"one answered", []Result[int]{down, ok}, false},
		{"all not listed", []Result[int]{unknown, unknown}, false},
		{"all failed", []Result[int]{down, down}, true},
		{"failed or not listed", []Result[int]{unknown, down}, true},
	} {
		if got := Unavailable(tc.rs); got != tc.want {
			t.Errorf("%s: Unavailable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
