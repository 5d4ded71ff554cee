// Package metrics owns the bot's Prometheus registry and every collector the
// pipeline records into. Names follow Prometheus conventions (base units,
// _total for counters); labels are bounded: never chat ids, user ids or text.
package metrics

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

const ns = "cryptobot"

// Outcome label values shared by several collectors.
const (
	OutcomeOK = "ok"
)

// Metrics holds every collector. Create one per process (or per test) with New.
type Metrics struct {
	Registry *prometheus.Registry

	// Intake and pipeline.
	UpdatesReceived *prometheus.CounterVec   // source, outcome
	Commands        *prometheus.CounterVec   // command, outcome
	CommandDuration *prometheus.HistogramVec // command: intake → reply sent
	Replies         *prometheus.CounterVec   // outcome: sent, late, failed
	QueueDepth      prometheus.Gauge
	QueueOldestAge  prometheus.Gauge // seconds
	QueueCapacity   prometheus.Gauge
	WorkersBusy     prometheus.Gauge
	Panics          prometheus.Counter
	SectionsTotal   *prometheus.CounterVec // module, outcome: ok, off, shed, failed, late, empty

	// Telegram API.
	TelegramRequests  *prometheus.CounterVec   // method, status (HTTP-ish: 200, 400, 429, 5xx, error)
	TelegramDuration  *prometheus.HistogramVec // method
	TelegramRateLimit prometheus.Counter       // 429 answers
	TelegramRetryWait prometheus.Counter       // seconds waited on retry_after
	OutboundWait      prometheus.Counter       // seconds waited on our own outbound limiter

	// HTTP server.
	HTTPRequests *prometheus.CounterVec   // route, code
	HTTPDuration *prometheus.HistogramVec // route

	// Market data.
	ExchangeRequests *prometheus.CounterVec   // venue, endpoint, outcome
	ExchangeDuration *prometheus.HistogramVec // venue, endpoint
	CacheRequests    *prometheus.CounterVec   // kind, result: hit, miss, coalesced
	Failovers        *prometheus.CounterVec   // from, to

	// Flags.
	FlagEvaluations   *prometheus.CounterVec // flag, variant, reason
	FlagReloads       *prometheus.CounterVec // result: ok, rejected, unchanged
	FlagConfigValid   prometheus.Gauge
	FlagLastReload    prometheus.Gauge // unix seconds of the last successful reload
	FlagReloadFailure prometheus.Counter

	// Modules and memory.
	ModuleLoaded     *prometheus.GaugeVec   // module → 1 loaded, 0 skipped
	ModuleSkipped    *prometheus.GaugeVec   // module, reason → 1
	MemoryBudget     prometheus.Gauge       // bytes
	MemoryPressure   prometheus.Gauge       // ratio used / GOMEMLIMIT
	MemoryShedding   prometheus.Gauge       // 1 while shedding
	MemoryAdmissions *prometheus.CounterVec // module, result: admitted, rejected, shed
	MemoryInFlight   prometheus.Gauge       // per-request bytes admitted right now

	BuildInfo *prometheus.GaugeVec
}

// latency buckets fit a bot that promises replies in well under a second and
// counts anything over 5 s as late.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New builds the registry with Go runtime (GC and memory classes) and process
// collectors, and every bot collector.
func New(version, commit string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC, collectors.MetricsMemory, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &Metrics{Registry: reg}
	f := factory{reg}

	m.UpdatesReceived = f.counterVec("updates_received_total", "Telegram updates received, by source (webhook, polling, console) and outcome.", "source", "outcome")
	m.Commands = f.counterVec("commands_total", "Commands handled, by command and outcome.", "command", "outcome")
	m.CommandDuration = f.histogramVec("command_duration_seconds", "Time from intake to reply sent, by command.", latencyBuckets, "command")
	m.Replies = f.counterVec("replies_total", "Replies by outcome: sent, late (sent after the reply deadline), failed.", "outcome")
	m.QueueDepth = f.gauge("queue_depth", "Updates waiting for a worker.")
	m.QueueOldestAge = f.gauge("queue_oldest_age_seconds", "Age of the oldest update waiting for a worker.")
	m.QueueCapacity = f.gauge("queue_capacity", "Capacity of the update queue.")
	m.WorkersBusy = f.gauge("workers_busy", "Workers handling an update right now.")
	m.Panics = f.counter("handler_panics_total", "Handler panics recovered.")
	m.SectionsTotal = f.counterVec("price_sections_total", "/price sections by module and outcome.", "module", "outcome")

	m.TelegramRequests = f.counterVec("telegram_requests_total", "Telegram Bot API calls, by method and status.", "method", "status")
	m.TelegramDuration = f.histogramVec("telegram_request_duration_seconds", "Telegram Bot API call latency, by method.", latencyBuckets, "method")
	m.TelegramRateLimit = f.counter("telegram_rate_limited_total", "Telegram 429 answers.")
	m.TelegramRetryWait = f.counter("telegram_retry_wait_seconds_total", "Seconds spent waiting on Telegram retry_after.")
	m.OutboundWait = f.counter("outbound_limiter_wait_seconds_total", "Seconds replies waited on the bot's own outbound rate limits.")

	m.HTTPRequests = f.counterVec("http_requests_total", "HTTP requests served, by route and status code.", "route", "code")
	m.HTTPDuration = f.histogramVec("http_request_duration_seconds", "HTTP request latency, by route.", latencyBuckets, "route")

	m.ExchangeRequests = f.counterVec("exchange_requests_total", "Exchange API requests, by venue, endpoint and outcome.", "venue", "endpoint", "outcome")
	m.ExchangeDuration = f.histogramVec("exchange_request_duration_seconds", "Exchange API latency, by venue and endpoint.", latencyBuckets, "venue", "endpoint")
	m.CacheRequests = f.counterVec("market_cache_requests_total", "Market cache look-ups, by kind and result (hit, miss, coalesced).", "kind", "result")
	m.Failovers = f.counterVec("exchange_failovers_total", "Requests moved from one venue to the next.", "from", "to")

	m.FlagEvaluations = f.counterVec("flag_evaluations_total", "Feature flag evaluations, by flag, variant and reason.", "flag", "variant", "reason")
	m.FlagReloads = f.counterVec("flag_reloads_total", "Flag directory reloads, by result (ok, rejected, unchanged).", "result")
	m.FlagConfigValid = f.gauge("flag_config_valid", "1 when the flag files on disk are valid and in force, 0 when the last good set is kept.")
	m.FlagLastReload = f.gauge("flag_last_reload_success_timestamp_seconds", "Unix time of the last successful flag reload.")
	m.FlagReloadFailure = f.counter("flag_reload_failures_total", "Flag reloads rejected.")

	m.ModuleLoaded = f.gaugeVec("module_loaded", "1 when a module is loaded, 0 when skipped.", "module")
	m.ModuleSkipped = f.gaugeVec("module_skipped", "1 for a skipped module, with the reason.", "module", "reason")
	m.MemoryBudget = f.gauge("memory_budget_bytes", "Memory budget (GOMEMLIMIT) in bytes.")
	m.MemoryPressure = f.gauge("memory_pressure_ratio", "(total - released) / GOMEMLIMIT, sampled every 500 ms.")
	m.MemoryShedding = f.gauge("memory_shedding", "1 while enhanced work is shed under memory pressure.")
	m.MemoryAdmissions = f.counterVec("memory_admissions_total", "Per-request memory admissions, by module and result (admitted, rejected, shed).", "module", "result")
	m.MemoryInFlight = f.gauge("memory_inflight_bytes", "Per-request bytes admitted and not yet released.")

	m.BuildInfo = f.gaugeVec("build_info", "Build information; always 1.", "version", "commit", "goversion")
	m.BuildInfo.WithLabelValues(version, commit, goVersion()).Set(1)
	return m
}

func goVersion() string { return runtime.Version() }

// Since returns seconds elapsed since t, for histograms.
func Since(t time.Time) float64 { return time.Since(t).Seconds() }

type factory struct{ reg prometheus.Registerer }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}
