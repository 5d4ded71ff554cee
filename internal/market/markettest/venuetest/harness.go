package venuetest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cryptobot-dev/cryptobot/internal/market"
	"github.com/cryptobot-dev/cryptobot/internal/market/httpjson"
	"github.com/cryptobot-dev/cryptobot/internal/market/markettest"
	"github.com/cryptobot-dev/cryptobot/internal/metrics"
)

// Harness is one venue client wired to its fake, counting into its own registry.
type Harness struct {
	Client  market.Exchange
	Fake    *markettest.Server
	Metrics *metrics.Metrics
}

// Start closes fake when t ends and returns a fresh registry for the client
// under test to count into.
func Start(t testing.TB, fake *markettest.Server) *metrics.Metrics {
	t.Cleanup(fake.Close)
	return metrics.New("test", "test")
}

// Setup builds a fresh Harness for one (sub)test and closes it at the end.
type Setup func(t *testing.T) Harness

// Requests returns how many requests the client counted for endpoint with outcome.
func (h Harness) Requests(endpoint, outcome string) float64 {
	return testutil.ToFloat64(h.Metrics.ExchangeRequests.WithLabelValues(h.Client.Name(), endpoint, outcome))
}

// counted sums the requests with outcome over every endpoint.
func (h Harness) counted(outcome string) float64 {
	var n float64
	for _, ep := range httpjson.Endpoints() {
		n += h.Requests(ep, outcome)
	}
	return n
}

// hits sums the requests the fake saw over every endpoint.
func (h Harness) hits() int {
	n := 0
	for _, ep := range httpjson.Endpoints() {
		n += h.Fake.Hits(ep)
	}
	return n
}

// Fixture reads testdata/name of the calling package.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// durationSeries counts the latency series the client recorded.
func (h Harness) durationSeries() int { return testutil.CollectAndCount(h.Metrics.ExchangeDuration) }
