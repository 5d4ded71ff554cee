package venuetest

import (
	"io"
	"net/http"
	"testing"
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
