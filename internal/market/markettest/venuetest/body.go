package venuetest

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/cryptobot-dev/cryptobot/internal/market"
)

// Body GETs url (a fake's batch endpoint) and returns the raw answer, for
// decoding benchmarks over the fakes' real shapes.
func Body(tb testing.TB, url string) []byte {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return b
}

// BenchDecodePrices measures decode over body, a batch answer of want rows,
// failing on an error or another row count.
func BenchDecodePrices(b *testing.B, body []byte, want int, decode func([]byte) ([]market.Price, error)) {
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ps, err := decode(body)
		if err != nil || len(ps) != want {
			b.Fatal(len(ps), err)
		}
	}
}

// FuzzDecode fuzzes decode from seeds: whatever it returns must be nil or
// wrap one of want (market.ErrBadResponse when want is empty).
func FuzzDecode(f *testing.F, seeds [][]byte, decode func([]byte) error, want ...error) {
	if len(want) == 0 {
		want = []error{market.ErrBadResponse}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := decode(b)
		if err == nil || slices.ContainsFunc(want, func(w error) bool { return errors.Is(err, w) }) {
			return
		}
		t.Errorf("error %v wraps none of %v", err, want)
	})
}
