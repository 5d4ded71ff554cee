package market

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Triggers of an upstream request, the trigger label of
// cryptobot_market_upstream_requests_total.
const (
	triggerWait       = iota // a caller waits for it: a miss, or a value past the stale limit
	triggerRevalidate        // a stale value was served; refreshed in the background
	triggerAhead             // a hot or pinned key refreshed before it expires
	numTriggers
)

// UpstreamTriggers are the trigger label values this package records.
var UpstreamTriggers = []string{"wait", "revalidate", "ahead"}

// ageBuckets span fresh data (under the 2 s TTL) to the 15 s stale limit and beyond.
var ageBuckets = []float64{.25, .5, 1, 1.5, 2, 3, 5, 10, 15, 30, 60}

// telemetry holds the collectors this package registers itself, on
// Options.Registerer, beside the shared ones in internal/metrics.
type telemetry struct {
	stale    [numOps]prometheus.Counter
	upstream [][numTriggers]prometheus.Counter // per exchange index
	age      prometheus.Observer
	rejected *prometheus.CounterVec // venue, kind, reason
}

func newTelemetry(reg prometheus.Registerer, venues []string) *telemetry {
	stale := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "cryptobot", Name: "market_stale_served_total",
		Help: "Cached values served past their TTL while a background refresh runs, by kind.",
	}, []string{"kind"}))
	upstream := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "cryptobot", Name: "market_upstream_requests_total",
		Help: "Venue requests made by the market cache, by venue and trigger (wait, revalidate, ahead).",
	}, []string{"venue", "trigger"}))
	age := register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "cryptobot", Name: "market_data_age_seconds",
		Help:    "Age of the spot tickers served (now minus the venue's timestamp), what /price shows as \"data Ns old\".",
		Buckets: ageBuckets,
	}))
	t := &telemetry{
		age: age,
		rejected: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cryptobot", Name: "exchange_rejected_total",
			Help: "Venue answers rejected as implausible and never cached, by venue, kind and reason.",
		}, []string{"venue", "kind", "reason"})),
		upstream: make([][numTriggers]prometheus.Counter, len(venues)),
	}
	for o := range numOps {
		t.stale[o] = stale.WithLabelValues(o.String())
	}
	for i, v := range venues {
		for tr, name := range UpstreamTriggers {
			t.upstream[i][tr] = upstream.WithLabelValues(v, name)
		}
		for _, r := range RejectReasons[:3] { // the ticker reasons, the common case
			t.rejected.WithLabelValues(v, opTicker.String(), r)
		}
	}
	return t
}

// register adds c to reg, or returns the collector already registered under
// its name, so two Markets on one registry share their series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err)
	}
	return c
}
