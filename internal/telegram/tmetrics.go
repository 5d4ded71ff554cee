package telegram

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// transportMetrics are the collectors this package registers itself
// (node_exporter style) on the registry it is given.
type transportMetrics struct {
	unreachable *prometheus.CounterVec // reason
	skipped     *prometheus.CounterVec // reason
	migrations  prometheus.Counter

	replayed      prometheus.Counter
	expired       prometheus.Counter
	undecodable   prometheus.Counter
	journalErrors *prometheus.CounterVec // op

	callbacks *prometheus.CounterVec // outcome
	inline    *prometheus.CounterVec // outcome
	edits     *prometheus.CounterVec // outcome

	limitShare prometheus.Gauge   // this replica's fraction of telegram.rate.*
	limitWaits prometheus.Counter // sends that waited for the outbound limiter
}

// Journal operations, the "op" label of the journal error counter.
const (
	opAppend     = "append"
	opSettle     = "settle"
	opUnanswered = "unanswered"
)

// JournalOps are the values of the "op" label of the journal error counter.
func JournalOps() []string { return []string{opAppend, opSettle, opUnanswered} }

func newTransportMetrics(reg prometheus.Registerer) *transportMetrics {
	counter := func(name, help string) prometheus.Counter {
		return register(reg, prometheus.NewCounter(prometheus.CounterOpts{Namespace: "cryptobot", Name: name, Help: help}))
	}
	counterVec := func(name, help, label string) *prometheus.CounterVec {
		return register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "cryptobot", Name: name, Help: help}, []string{label}))
	}
	tm := &transportMetrics{
		unreachable: counterVec("telegram_unreachable_total",
			"Replies Telegram refused for good, by reason (blocked, chat_not_found, rate_limited beyond the reply deadline).", "reason"),
		skipped: counterVec("telegram_replies_skipped_total",
			"Replies not sent because the chat was known to be unreachable, by reason.", "reason"),
		migrations: counter("telegram_chat_migrations_total",
			"Replies resent to the supergroup a group became (migrate_to_chat_id)."),
		replayed: counter("telegram_journal_replayed_total",
			"Unanswered journal entries queued again at start; a reply sent just before a crash may go out twice."),
		expired: counter("telegram_journal_expired_total",
			"Unanswered journal entries older than journal.max_age at start, settled without an answer."),
		undecodable: counter("telegram_journal_undecodable_total",
			"Journal entries whose body no longer decodes, settled as skipped."),
		journalErrors: counterVec("telegram_journal_errors_total",
			"Journal calls that failed, by operation (append, settle, unanswered).", "op"),
		callbacks: counterVec("telegram_callbacks_total",
			"Button presses by how their callback query was answered (answered, rate_limited, late, expired, failed).", "outcome"),
		inline: counterVec("telegram_inline_queries_total",
			"Inline queries by how they were answered (answered, empty, expired, failed).", "outcome"),
		limitShare: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "cryptobot", Name: "telegram_limit_share",
			Help: "This replica's fraction of the telegram.rate.* limits: 1 / live replicas (1 alone)."})),
		limitWaits: counter("telegram_limit_waits_total",
			"Sends that waited for the outbound limiter (this replica's share of the global or the chat's limit)."),
		edits: counterVec("telegram_edits_total",
			"Messages edited in place after a press, by outcome (ok, not_modified, too_old, failed).", "outcome"),
	}
	tm.limitShare.Set(1)
	for _, o := range CallbackOutcomes() {
		tm.callbacks.WithLabelValues(o)
	}
	for _, o := range InlineOutcomes() {
		tm.inline.WithLabelValues(o)
	}
	for _, o := range EditOutcomes() {
		tm.edits.WithLabelValues(o)
	}
	for _, op := range JournalOps() {
		tm.journalErrors.WithLabelValues(op)
	}
	for _, r := range UnreachableReasons() {
		tm.unreachable.WithLabelValues(r)
		tm.skipped.WithLabelValues(r)
	}
	return tm
}

// register registers c, or returns the collector already registered under
// its name, so two Bots may share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err) // a name clash with another kind of collector is a programming error
}
