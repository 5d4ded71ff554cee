package format

import (
	"math"
	"testing"
	"time"
)

// floatCase is one input of a float formatter and the text it must give.
type floatCase struct {
	in   float64
	want string
}

func checkFloat(t *testing.T, name string, format func(float64) string, cases []floatCase) {
	t.Helper()
	for _, tc := range cases {
		if got := format(tc.in); got != tc.want {
			t.Errorf("%s(%v) = %q, want %q", name, tc.in, got, tc.want)
		}
	}
}

func TestPrice(t *testing.T) {
	checkFloat(t, "Price", Price, []floatCase{
		{97123.4, "97,123.40"},
		{1234567.891, "1,234,567.89"},
		{3456.78, "3,456.78"},
		{1, "1.00"},
		{0.5123, "0.5123"},
		{0.00001234, "0.00001234"},
		{0.1, "0.1000"},
		{-42.5, "-42.50"},
		{0, "0"},
		{math.NaN(), "n/a"},
		{math.Inf(1), "n/a"},
	})
}

func TestCompact(t *testing.T) {
	checkFloat(t, "Compact", Compact, []floatCase{
		{1.23e9, "1.23B"},
		{999_999_999, "1.00B"},
		{4.5e6, "4.50M"},
		{12_345, "12.35K"},
		{2.5e12, "2.50T"},
		{999, "999.00"},
		{0.005, "0.005000"},
		{-3e6, "-3.00M"},
	})
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		dec  int
		want string
	}{
		{1.254, 2, "+1.25%"},
		{-0.4, 2, "-0.40%"},
		{0, 2, "0.00%"},
		{-0.0001, 2, "0.00%"},
		{0.01, 4, "+0.0100%"},
	} {
		if got := Percent(tc.in, tc.dec); got != tc.want {
			t.Errorf("Percent(%v, %d) = %q, want %q", tc.in, tc.dec, got, tc.want)
		}
	}
	if Arrow(1) != "▲" || Arrow(-1) != "▼" || Arrow(0) != "•" {
		t.Error("Arrow signs wrong")
	}
	if got := BySign(math.NaN(), "+", "-", "0") + BySign(math.Copysign(0, -1), "+", "-", "0") + BySign(1e-300, "+", "-", "0"); got != "00+" {
		t.Errorf("BySign(NaN, -0, 1e-300) = %q, want \"00+\"", got)
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{45 * time.Second, "45s"},
		{12 * time.Minute, "12m"},
		{3*time.Hour + 12*time.Minute, "3h 12m"},
		{2 * time.Hour, "2h"},
		{52 * time.Hour, "2d 4h"},
		{-90 * time.Second, "1m"},
	} {
		if got := Duration(tc.in); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
