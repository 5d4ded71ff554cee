package alerts

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cryptobot-dev/cryptobot/modules/enhanced/alerts/rule"
)

// metricSet is the module's own collectors. modules.Deps carries no
// registerer, so Collectors hands them to whoever registers them. The
// outbox is measured once, by the store (cryptobot_store_outbox_*, read at
// scrape), not here.
type metricSet struct {
	live       prometheus.Gauge
	paused     prometheus.Gauge
	byKind     *prometheus.GaugeVec
	created    *prometheus.CounterVec
	fired      *prometheus.CounterVec
	lag        prometheus.Histogram
	lastTick   prometheus.Gauge
	tickErrors *prometheus.CounterVec
	digests    prometheus.Counter
	// digestsDeclined counts due digests the memory guard declined (retried).
	digestsDeclined prometheus.Counter
}

// liveStates are the states of the alerts gauge: those LiveAlerts returns.
var liveStates = []string{rule.Armed.String(), rule.Cooling.String()}

// Tick error stages, the "stage" label of cryptobot_alerts_tick_errors_total.
var tickStages = []string{"prices", "funding", "open_interest", "fire", "update", "load", "digest"}

func newMetricSet() *metricSet {
	const ns = "cryptobot"
	s := &metricSet{
		live: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "alerts_live",
			Help: "Alerts the runner evaluates (armed or cooling down)."}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "alerts_flag_paused",
			Help: "Live alerts the runner holds back because the alerts flag is off in their chat."}),
		byKind: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "alerts",
			Help: "Live alerts in the store by kind and state (armed, cooling), as of the last load or reconcile."}, []string{"kind", "state"}),
		created: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "alerts_created_total",
			Help: "Alerts created, by kind."}, []string{"kind"}),
		fired: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "alerts_fired_total",
			Help: "Alert firings committed to the outbox, by kind."}, []string{"kind"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "alerts_evaluation_lag_seconds",
			Help:    "From the observation that fired an alert to its outbox commit.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		lastTick: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "alerts_last_tick_timestamp_seconds",
			Help: "When the runner last finished an evaluation tick (Unix seconds); stalls show as age."}),
		tickErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "alerts_tick_errors_total",
			Help: "Runner steps that failed, by stage."}, []string{"stage"}),
		digests: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "alerts_digests_sent_total",
			Help: "Daily digests enqueued."}),
		digestsDeclined: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "alerts_digests_declined_total",
			Help: "Due digests the memory guard declined (shedding or busy); each stays due and is tried again."}),
	}
	for _, k := range rule.Kinds() {
		for _, st := range liveStates {
			s.byKind.WithLabelValues(k, st)
		}
		s.created.WithLabelValues(k)
		s.fired.WithLabelValues(k)
	}
	for _, st := range tickStages {
		s.tickErrors.WithLabelValues(st)
	}
	return s
}

// Collectors returns the module's metrics for the caller to register.
func (m *Module) Collectors() []prometheus.Collector {
	s := m.met
	return []prometheus.Collector{s.live, s.paused, s.byKind, s.created, s.fired, s.lag, s.lastTick, s.tickErrors, s.digests, s.digestsDeclined}
}

// countLive sets the alerts gauge from the store's live rows; only the
// kinds and states the gauge was created with count, so no row can add a
// label value.
func (s *metricSet) countLive(rows []AlertRow) {
	n := map[[2]string]int{}
	for _, r := range rows {
		n[[2]string{r.Kind, r.State}]++
	}
	for _, k := range rule.Kinds() {
		for _, st := range liveStates {
			s.byKind.WithLabelValues(k, st).Set(float64(n[[2]string{k, st}]))
		}
	}
}
