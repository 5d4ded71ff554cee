package store

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Operations timed and counted by the store, the values of its operation label.
const (
	opAppend     = "append"
	opSettle     = "settle"
	opUnanswered = "unanswered"
	opPrune      = "prune"
	opStats      = "journal_stats"
	opPing       = "ping"
	opMigrate    = "migrate"
	opBindBot    = "bind_bot"

	opCreateAlert   = "create_alert"
	opAlerts        = "alerts"
	opDeleteAlerts  = "delete_alerts"
	opUpdateAlerts  = "update_alerts"
	opFire          = "fire"
	opEnqueue       = "enqueue"
	opPendingOutbox = "pending_outbox"
	opMarkOutbox    = "mark_outbox"
	opOutboxStats   = "outbox_stats"
	opWatch         = "watch"
	opWatchlist     = "watchlist"
	opDigests       = "digests"
	opChats         = "chats"

	opReplicas = "replicas" // heartbeats and the replicas list
	opLease    = "lease"    // acquiring and releasing leases
	opClaims   = "claims"   // renewing, taking and releasing journal claims
)

// Operations lists the operation label values.
func Operations() []string {
	return []string{opAppend, opSettle, opUnanswered, opPrune, opStats, opPing, opMigrate, opBindBot,
		opCreateAlert, opAlerts, opDeleteAlerts, opUpdateAlerts, opFire, opEnqueue, opPendingOutbox,
		opMarkOutbox, opOutboxStats, opWatch, opWatchlist, opDigests, opChats, opReplicas, opLease, opClaims}
}

// AppendResults lists the result label values of the appended counter.
func AppendResults() []string { return []string{"fresh", "duplicate"} }

// Store latencies are milliseconds on SQLite and on a local Postgres; a
// commit near a second means a disk or network problem.
var storeBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// statsTimeout bounds the scrape-time journal query: a slow store must not
// stall /metrics.
const statsTimeout = 2 * time.Second

type storeMetrics struct {
	s        *Store
	duration *prometheus.HistogramVec // operation
	errors   *prometheus.CounterVec   // operation
	settled  *prometheus.CounterVec   // outcome
	appended *prometheus.CounterVec   // result: fresh, duplicate
	fired    prometheus.Counter
	depth    *prometheus.Desc
	oldest   *prometheus.Desc

	outboxDepth, outboxOldest *prometheus.Desc
}

func newStoreMetrics(s *Store) *storeMetrics {
	m := &storeMetrics{
		s: s,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "cryptobot", Subsystem: "store",
			Name: "operation_duration_seconds", Help: "Store operation latency, by operation.", Buckets: storeBuckets}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "cryptobot", Subsystem: "store",
			Name: "errors_total", Help: "Store operations that failed, by operation."}, []string{"operation"}),
		settled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "cryptobot", Subsystem: "store",
			Name: "journal_settled_total", Help: "Journal entries settled, by outcome."}, []string{"outcome"}),
		appended: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "cryptobot", Subsystem: "store",
			Name: "journal_appended_total", Help: "Updates offered to the journal, by result (fresh, duplicate)."}, []string{"result"}),
		fired: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "cryptobot", Subsystem: "store",
			Name: "alerts_fired_total", Help: "Alert firings committed with their outbox message (replayed or refused ones not counted)."}),
		outboxDepth: prometheus.NewDesc("cryptobot_store_outbox_depth", "Outbox messages waiting to be sent, read at scrape.", nil, nil),
		outboxOldest: prometheus.NewDesc("cryptobot_store_outbox_oldest_age_seconds",
			"Age of the oldest outbox message waiting to be sent (0 when none), read at scrape.", nil, nil),
		depth: prometheus.NewDesc("cryptobot_store_journal_depth", "Unanswered journal entries, read at scrape.", nil, nil),
		oldest: prometheus.NewDesc("cryptobot_store_journal_oldest_unanswered_age_seconds",
			"Age of the oldest unanswered journal entry (0 when none), read at scrape.", nil, nil),
	}
	// Every series exists from the start, so rates and alerts see zeros.
	for _, op := range Operations() {
		m.duration.WithLabelValues(op)
		m.errors.WithLabelValues(op)
	}
	for _, o := range Outcomes() {
		m.settled.WithLabelValues(o)
	}
	for _, r := range AppendResults() {
		m.appended.WithLabelValues(r)
	}
	return m
}

// register adds the collectors, or none of them.
func (m *storeMetrics) register(reg prometheus.Registerer) error {
	var done []prometheus.Collector
	for _, c := range []prometheus.Collector{m.duration, m.errors, m.settled, m.appended, m.fired, m} {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return err
		}
		done = append(done, c)
	}
	return nil
}

// observe records one operation; call it deferred with the named error.
// A cancelled caller is not a store error, nor is a limit refusing a write.
func (m *storeMetrics) observe(op string, start time.Time, err *error) {
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if *err != nil && !errors.Is(*err, context.Canceled) && !errors.Is(*err, ErrLimit) {
		m.errors.WithLabelValues(op).Inc()
	}
}

// Describe and Collect make the journal and outbox gauges read
// JournalStats and OutboxStats at scrape (index-only counts of the pending
// rows), node_exporter style, instead of being kept in step by every writer.
func (m *storeMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.depth
	ch <- m.oldest
	ch <- m.outboxDepth
	ch <- m.outboxOldest
}

func (m *storeMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	// A failed read is counted in errors_total and leaves no stale figure.
	if depth, oldest, err := m.s.JournalStats(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(m.depth, prometheus.GaugeValue, float64(depth))
		ch <- prometheus.MustNewConstMetric(m.oldest, prometheus.GaugeValue, ageSeconds(oldest))
	}
	if depth, oldest, err := m.s.OutboxStats(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(m.outboxDepth, prometheus.GaugeValue, float64(depth))
		ch <- prometheus.MustNewConstMetric(m.outboxOldest, prometheus.GaugeValue, ageSeconds(oldest))
	}
}

// ageSeconds is how long ago t was, 0 for the zero time.
func ageSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return max(time.Since(t).Seconds(), 0)
}
