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
}

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
