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
	tm := &transportMetrics{
		unreachable: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cryptobot", Name: "telegram_unreachable_total",
			Help: "Replies Telegram refused for good, by reason (blocked, chat_not_found, rate_limited beyond the reply deadline).",
		}, []string{"reason"})),
		skipped: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cryptobot", Name: "telegram_replies_skipped_total",
			Help: "Replies not sent because the chat was known to be unreachable, by reason.",
		}, []string{"reason"})),
		migrations: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "cryptobot", Name: "telegram_chat_migrations_total",
			Help: "Replies resent to the supergroup a group became (migrate_to_chat_id).",
		})),
	}
	tm.replayed = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "cryptobot", Name: "telegram_journal_replayed_total",
		Help: "Unanswered journal entries queued again at start; a reply sent just before a crash may go out twice.",
	}))
	tm.expired = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "cryptobot", Name: "telegram_journal_expired_total",
		Help: "Unanswered journal entries older than journal.max_age at start, settled without an answer.",
	}))
	tm.undecodable = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "cryptobot", Name: "telegram_journal_undecodable_total",
		Help: "Journal entries whose body no longer decodes, settled as skipped.",
	}))
	tm.journalErrors = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "cryptobot", Name: "telegram_journal_errors_total",
		Help: "Journal calls that failed, by operation (append, settle, unanswered).",
	}, []string{"op"}))
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
