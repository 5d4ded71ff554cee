package grafana

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// boards declares the four dashboards. Metric names are the contract in
// internal/metrics; the generator's tests check every name against it.
func boards() []board {
	return []board{overview(), upstreams(), rollout(), resources()}
}

// Thresholds shared with deploy/prometheus/alerts.yml.
const (
	shedAt      = 0.85 // memory guard sheds enhanced work at this pressure
	resumeAt    = 0.70 // and resumes at this one
	errorRatio  = 0.10 // CommandErrorRatio
	lateRatio   = 0.05 // RepliesLateOrFailed
	venueRatio  = 0.5  // VenueFailing
	rate429     = 0.5  // TelegramRateLimitStorm, per second
	lateSeconds = 5    // a reply later than this after intake counts as late
	backlogAge  = 30   // CryptobotJournalBacklog, seconds
	staleAge    = 10   // CryptobotStaleData: p99 age of data served, seconds
	rejectRate  = 0.05 // CryptobotExchangeRejecting, per second and venue
	outboxAge   = 60   // CryptobotOutboxBacklog, seconds
	tickAge     = 30   // CryptobotAlertsStalled, seconds since the last tick
)

// overview is the Overview dashboard. It is one long literal on purpose: a
// dashboard reads top to bottom as its rows do, and splitting it would only
// scatter the layout an operator reviews as a whole.
func overview() board {
	answered := `outcome=~"sent|late"`
	return board{
		file: "overview.json", uid: "cryptobot-overview", title: "cryptobot / Overview",
		description: "Is the bot answering? Updates in, replies out, RED per command, the update queue, workers, the update journal, alerts and replicas.",
		rows: []row{
			{title: "Now", panels: []panel{
				{kind: statPanel, title: "Updates accepted / s", unit: "reqps", w: 4, h: 4,
					targets: []target{{expr: sumRate("", "cryptobot_updates_received_total", `outcome="accepted"`)}}},
				{kind: statPanel, title: "Replies sent / s", unit: "reqps", w: 4, h: 4,
					description: "Sent and late replies. Zero while updates are accepted is the silent failure UpdatesNotAnswered alerts on.",
					targets:     []target{{expr: orZero(sumRate("", "cryptobot_replies_total", answered))}}},
				{kind: statPanel, title: "Command error ratio", unit: "percentunit", w: 4, h: 4,
					thresholds: []step{base("green"), at("red", errorRatio)},
					targets:    []target{{expr: ratio("", "cryptobot_commands_total", `outcome=~"error|panic"`)}}},
				{kind: statPanel, title: "Late or failed replies", unit: "percentunit", w: 4, h: 4,
					thresholds: []step{base("green"), at("red", lateRatio)},
					targets:    []target{{expr: ratio("", "cryptobot_replies_total", `outcome=~"late|failed"`)}}},
				{kind: statPanel, title: "Reply latency p95", unit: "s", w: 4, h: 4,
					thresholds: []step{base("green"), at("orange", 1), at("red", lateSeconds)},
					targets:    []target{{expr: quantile(0.95, "", "cryptobot_command_duration_seconds")}}},
				{kind: statPanel, title: "Queue depth", unit: "short", w: 4, h: 4,
					targets: []target{{expr: "sum(" + sel("cryptobot_queue_depth") + ")"}}},
			}},
			{title: "Commands (RED)", panels: []panel{
				{title: "Commands / s by command", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("command", "cryptobot_commands_total"), legend: "{{command}}"}}},
				{title: "Commands / s by outcome", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("outcome", "cryptobot_commands_total"), legend: "{{outcome}}"}}},
				{title: "Error ratio by command", unit: "percentunit", w: 12, h: 8, min: ptr(0),
					description:    "Errors and recovered panics over all outcomes, per command.",
					thresholds:     []step{base("green"), at("red", errorRatio)},
					thresholdLines: true,
					targets:        []target{{expr: ratio("command", "cryptobot_commands_total", `outcome=~"error|panic"`), legend: "{{command}}"}}},
				{title: "Reply latency (intake to reply sent)", unit: "s", w: 12, h: 8,
					thresholds:     []step{base("green"), at("red", lateSeconds)},
					thresholdLines: true,
					targets: []target{
						{expr: quantile(0.50, "", "cryptobot_command_duration_seconds"), legend: "p50"},
						{expr: quantile(0.95, "", "cryptobot_command_duration_seconds"), legend: "p95"},
						{expr: quantile(0.99, "", "cryptobot_command_duration_seconds"), legend: "p99"},
					}},
				p95By("Reply latency p95 by command", 12, "command", "cryptobot_command_duration_seconds"),
				{title: "Handler panics / s", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("", "cryptobot_handler_panics_total"), legend: "panics"}}},
			}},
			{title: "Updates and replies", panels: []panel{
				{title: "Updates in vs answered", unit: "reqps", w: 12, h: 8,
					description: "Accepted updates against replies sent (on time or late). The lines should overlap.",
					targets: []target{
						{expr: sumRate("", "cryptobot_updates_received_total", `outcome="accepted"`), legend: "accepted"},
						{expr: orZero(sumRate("", "cryptobot_replies_total", answered)), legend: "answered"},
					}},
				{title: "Updates / s by source and outcome", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("source, outcome", "cryptobot_updates_received_total"), legend: "{{source}} {{outcome}}"}}},
				{title: "Late and failed replies / s", unit: "reqps", w: 12, h: 8,
					targets: []target{
						{expr: sumRate("outcome", "cryptobot_replies_total", `outcome=~"late|failed"`), legend: "{{outcome}}"},
						{expr: orZero(sumRate("", "cryptobot_replies_total", `outcome=~"late|failed"`)), legend: "late + failed"},
					}},
				{title: "HTTP requests / s by route and code", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("route, code", "cryptobot_http_requests_total"), legend: "{{route}} {{code}}"}}},
			}},
			{title: "Pipeline", panels: []panel{
				{title: "Update queue", unit: "short", w: 6, h: 8, min: ptr(0),
					targets: []target{
						{expr: "sum(" + sel("cryptobot_queue_depth") + ")", legend: "depth"},
						{expr: "sum(" + sel("cryptobot_queue_capacity") + ")", legend: "capacity"},
					}},
				{title: "Oldest queued update age", unit: "s", w: 6, h: 8, min: ptr(0),
					targets: []target{{expr: "max(" + sel("cryptobot_queue_oldest_age_seconds") + ")", legend: "oldest"}}},
				{title: "Workers busy", unit: "short", w: 6, h: 8, min: ptr(0),
					targets: []target{{expr: "sum(" + sel("cryptobot_workers_busy") + ")", legend: "busy"}}},
				p95By("HTTP latency p95 by route", 6, "route", "cryptobot_http_request_duration_seconds"),
			}},
			journalRow(),
			alertsRow(),
			replicasRow(),
		},
	}
}

// alertsRow is the alerts module and the outbox its firings and digests go
// through. The store's outbox gauges are read at scrape (shared by
// replicas: max); the module keeps no outbox gauge of its own.
// Module series exist only while enhanced.alerts is loaded.
func alertsRow() row {
	return row{title: "Alerts / outbox", panels: []panel{
		{kind: statPanel, title: "Live alerts", unit: "short", w: 4, h: 4,
			description: "Alerts the runner evaluates (armed or cooling down).",
			targets:     []target{{expr: "sum(" + sel("cryptobot_alerts_live") + ")"}}},
		{kind: statPanel, title: "Since last alerts tick", unit: "s", w: 4, h: 4,
			description: "CryptobotAlertsStalled fires above 30 s.",
			thresholds:  []step{base("green"), at("red", tickAge)},
			targets:     []target{{expr: "time() - max(" + sel("cryptobot_alerts_last_tick_timestamp_seconds") + ")"}}},
		{kind: statPanel, title: "Outbox messages waiting", unit: "short", w: 4, h: 4,
			targets: []target{{expr: "max(" + sel("cryptobot_store_outbox_depth") + ")"}}},
		{kind: statPanel, title: "Oldest unsent message", unit: "s", w: 4, h: 4,
			thresholds: []step{base("green"), at("red", outboxAge)},
			targets:    []target{{expr: "max(" + sel("cryptobot_store_outbox_oldest_age_seconds") + ")"}}},
		{kind: statPanel, title: "Alerts fired (1h)", unit: "short", w: 4, h: 4,
			targets: []target{{expr: "sum(increase(" + sel("cryptobot_store_alerts_fired_total") + "[1h]))"}}},
		{kind: statPanel, title: "Digests sent (1h)", unit: "short", w: 4, h: 4,
			targets: []target{{expr: "sum(increase(" + sel("cryptobot_alerts_digests_sent_total") + "[1h]))"}}},
		{title: "Live alerts by kind and state", unit: "short", w: 12, h: 8, min: ptr(0),
			description: "paused: alerts of chats whose alerts flag is off, kept but not evaluated.",
			targets: []target{
				{expr: "sum by (kind, state) (" + sel("cryptobot_alerts") + ")", legend: "{{kind}} {{state}}"},
				{expr: "sum(" + sel("cryptobot_alerts_flag_paused") + ")", legend: "paused (flag off)"},
			}},
		{title: "Alerts created and fired / s by kind", unit: "reqps", w: 12, h: 8, min: ptr(0),
			description: "fired (store): firings committed with their outbox message, all kinds.",
			targets: []target{
				{expr: sumRate("kind", "cryptobot_alerts_created_total"), legend: "created {{kind}}"},
				{expr: sumRate("kind", "cryptobot_alerts_fired_total"), legend: "fired {{kind}}"},
				{expr: sumRate("", "cryptobot_store_alerts_fired_total"), legend: "fired (store)"},
			}},
		{title: "Outbox depth", unit: "short", w: 8, h: 8, min: ptr(0),
			targets: []target{
				{expr: "max(" + sel("cryptobot_store_outbox_depth") + ")", legend: "store"},
			}},
		{title: "Oldest unsent outbox message age", unit: "s", w: 8, h: 8, min: ptr(0),
			description:    "CryptobotOutboxBacklog fires above 60 s: firings and digests are committed but not delivered.",
			thresholds:     []step{base("green"), at("red", outboxAge)},
			thresholdLines: true,
			targets: []target{
				{expr: "max(" + sel("cryptobot_store_outbox_oldest_age_seconds") + ")", legend: "store"},
			}},
		{title: "Evaluation lag p50 / p99", unit: "s", w: 8, h: 8, min: ptr(0),
			description: "From the observation that fired an alert to its outbox commit.",
			targets: []target{
				{expr: quantile(0.50, "", "cryptobot_alerts_evaluation_lag_seconds"), legend: "p50"},
				{expr: quantile(0.99, "", "cryptobot_alerts_evaluation_lag_seconds"), legend: "p99"},
			}},
		{title: "Seconds since last evaluation tick", unit: "s", w: 8, h: 8, min: ptr(0),
			thresholds:     []step{base("green"), at("red", tickAge)},
			thresholdLines: true,
			targets:        []target{{expr: "time() - max(" + sel("cryptobot_alerts_last_tick_timestamp_seconds") + ")", legend: "since tick"}}},
		perSecond("Runner errors / s by stage", 8, "stage", "cryptobot_alerts_tick_errors_total",
			"Runner steps that failed: price, funding or open-interest reads, firing, updates, loads, digests, outbox stats."),
		{title: "Digests sent and declined / s", unit: "reqps", w: 8, h: 8, min: ptr(0),
			description: "Daily digests enqueued to the outbox; declined: the memory guard was shedding, the digest stays due.",
			targets: []target{
				{expr: sumRate("", "cryptobot_alerts_digests_sent_total"), legend: "sent"},
				{expr: sumRate("", "cryptobot_alerts_digests_declined_total"), legend: "declined"},
			}},
	}}
}

// replicasRow is the replicas on one Postgres store (deploy/README.md, "High
// availability"): who holds the leader lease (the alert evaluator, digests,
// journal pruning and the poller run there), how many replicas each sees,
// takeovers and the orphaned journal entries reclaimed from dead replicas,
// lease errors, and each replica's share of Telegram's outbound limit. A
// single SQLite process reads 1 leader, 1 peer, share 1.
func replicasRow() row {
	return row{title: "Replicas", panels: []panel{
		{kind: statPanel, title: "Leaders", unit: "short", w: 4, h: 4,
			description: "Replicas holding the leader lease: 1 is right. 0 for a minute fires CryptobotNoLeader; 2 for a moment (a long GC pause) is safe, fencing and per-trigger claims keep alerts single.",
			thresholds:  []step{base("red"), at("green", 1), at("orange", 2)},
			targets:     []target{{expr: orZero("sum(" + sel("cryptobot_replica_leader") + ")")}}},
		{kind: statPanel, title: "Live replicas", unit: "short", w: 4, h: 4,
			description: "Replicas with a heartbeat within replicas.lease, as the replicas see it (the most any one sees).",
			targets:     []target{{expr: "max(" + sel("cryptobot_replica_peers") + ")"}}},
		{kind: statPanel, title: "Leader takeovers (1h)", unit: "short", w: 4, h: 4,
			description: "Leader leases won from a holder whose lease expired: a replica died, stopped or lost Postgres. Each rolling restart adds one.",
			targets:     []target{{expr: "sum(increase(" + sel("cryptobot_replica_takeovers_total") + "[1h]))"}}},
		{kind: statPanel, title: "Orphans reclaimed (1h)", unit: "short", w: 4, h: 4,
			description: "Journal entries a dead replica had claimed and another answered after the claim lease ran out.",
			targets:     []target{{expr: "sum(increase(" + sel("cryptobot_replica_orphans_reclaimed_total") + "[1h]))"}}},
		{kind: statPanel, title: "Lease errors (1h)", unit: "short", w: 4, h: 4,
			thresholds: []step{base("green"), at("red", 1)},
			targets:    []target{{expr: "sum(increase(" + sel("cryptobot_replica_lease_errors_total") + "[1h]))"}}},
		{kind: statPanel, title: "Limit waits / s", unit: "reqps", w: 4, h: 4,
			description: "Sends that waited for the outbound limiter, over all replicas.",
			targets:     []target{{expr: orZero(sumRate("", "cryptobot_telegram_limit_waits_total"))}}},
		{title: "Leader by replica", unit: "short", w: 12, h: 8, min: ptr(0), max: ptr(1),
			description: "1 while the replica holds the leader lease. A handover shows as one line dropping and another rising within replicas.lease.",
			targets: []target{
				{expr: "max by (instance) (" + sel("cryptobot_replica_leader") + ")", legend: "{{instance}}"},
			}},
		{title: "Live replicas seen by each replica", unit: "short", w: 12, h: 8, min: ptr(0),
			description: "Every line should read the number of replicas running; one that reads less has stale heartbeats or cannot reach Postgres.",
			targets: []target{
				{expr: "max by (instance) (" + sel("cryptobot_replica_peers") + ")", legend: "{{instance}}"},
			}},
		perSecond("Takeovers / s by replica", 8, "instance", "cryptobot_replica_takeovers_total",
			"The replica that won the leader lease from an expired holder."),
		perSecond("Orphans reclaimed / s by replica", 8, "instance", "cryptobot_replica_orphans_reclaimed_total",
			"Journal entries this replica took over from a dead one; each is answered once, by the journal's update_id key."),
		perSecond("Lease errors / s by op", 8, "op", "cryptobot_replica_lease_errors_total",
			"Heartbeat, leader-lease and journal-claim writes that failed: Postgres is slow or unreachable from that replica."),
		{title: "Telegram limit share by replica", unit: "percentunit", w: 12, h: 8, min: ptr(0), max: ptr(1),
			description: "Each replica's fraction of telegram.rate.* (1 / live replicas): the shares add up to 1, so the token's combined send rate stays within Telegram's limits.",
			targets: []target{
				{expr: "max by (instance) (" + sel("cryptobot_telegram_limit_share") + ")", legend: "{{instance}}"},
				{expr: "sum(" + sel("cryptobot_telegram_limit_share") + ")", legend: "sum"},
			}},
		perSecond("Limiter waits / s by replica", 12, "instance", "cryptobot_telegram_limit_waits_total",
			"Sends that waited for this replica's share of the outbound limit; rising waits with flat traffic mean a share too small (a peer count that is too high)."),
	}}
}

// journalRow is the state store and its update journal: every accepted
// update stays there until it is settled, so depth and age say whether
// intake and answering keep pace.
func journalRow() row {
	const latency = "cryptobot_store_operation_duration_seconds"
	return row{title: "State / journal", panels: []panel{
		// Replicas sharing Postgres all report the same journal: max, not sum.
		{title: "Journal depth (unanswered)", unit: "short", w: 6, h: 8, min: ptr(0),
			targets: []target{{expr: "max(" + sel("cryptobot_store_journal_depth") + ")", legend: "unanswered"}}},
		{title: "Oldest unanswered update age", unit: "s", w: 6, h: 8, min: ptr(0),
			description:    "Age of the oldest journal entry not yet settled; CryptobotJournalBacklog fires above 30 s.",
			thresholds:     []step{base("green"), at("red", backlogAge)},
			thresholdLines: true,
			targets:        []target{{expr: "max(" + sel("cryptobot_store_journal_oldest_unanswered_age_seconds") + ")", legend: "oldest"}}},
		perSecond("Journal entries settled / s by outcome", 6, "outcome", "cryptobot_store_journal_settled_total",
			"answered: reply accepted or nothing to send; failed: refused for good; expired: too old at replay; skipped: body no longer decodes."),
		perSecond("Updates journaled / s: fresh vs duplicate", 6, "result", "cryptobot_store_journal_appended_total",
			"duplicate: an update_id already journaled (a Telegram redelivery, or another replica took it)."),
		{title: "Store latency p50 / p99 by operation", unit: "s", w: 12, h: 8,
			targets: []target{
				{expr: quantile(0.50, "operation", latency), legend: "{{operation}} p50"},
				{expr: quantile(0.99, "operation", latency), legend: "{{operation}} p99"},
			}},
		perSecond("Store errors / s by operation", 12, "operation", "cryptobot_store_errors_total",
			"Failed store operations (a cancelled caller is not one); CryptobotStoreErrors fires at 5 in 5 minutes."),
		{title: "Journal at start: replayed, expired, undecodable", unit: "short", w: 12, h: 8, min: ptr(0),
			description: "Counted by the replay that runs at start, so the value is what this process found: unanswered entries queued again, " +
				"entries past journal.max_age settled without an answer, bodies that no longer decode.",
			targets: []target{
				{expr: "sum(" + sel("cryptobot_telegram_journal_replayed_total") + ")", legend: "replayed"},
				{expr: "sum(" + sel("cryptobot_telegram_journal_expired_total") + ")", legend: "expired"},
				{expr: "sum(" + sel("cryptobot_telegram_journal_undecodable_total") + ")", legend: "undecodable"},
			}},
		perSecond("Journal calls failed / s (transport)", 12, "op", "cryptobot_telegram_journal_errors_total",
			"Journal calls the transport saw fail, by operation; a failed append answers 503 so Telegram redelivers."),
	}}
}

// upstreams is the Upstreams dashboard; one literal for the reason given at
// overview.
func upstreams() board {
	const tg, ex, cache = "cryptobot_telegram_requests_total", "cryptobot_exchange_requests_total", "cryptobot_market_cache_requests_total"
	// unknown_symbol is a valid answer from a healthy venue, not a failure.
	failed := `outcome!~"ok|unknown_symbol"`
	return board{
		file: "upstreams.json", uid: "cryptobot-upstreams", title: "cryptobot / Upstreams",
		description: "Telegram Bot API and exchange APIs: rate, errors, latency, rate limits, unreachable chats, failovers, the market cache and data freshness.",
		rows: []row{
			{title: "Telegram Bot API", panels: []panel{
				rateBy("Calls / s by method", 8, "method", tg),
				rateBy("Calls / s by status", 8, "status", tg),
				{title: "Error ratio by method", unit: "percentunit", w: 8, h: 8, min: ptr(0),
					description: "Calls not answered with 200 (4xx, 429, 5xx, network errors) over all calls.",
					targets:     []target{{expr: ratio("method", tg, `status!="200"`), legend: "{{method}}"}}},
				p95By("Latency p95 by method", 8, "method", "cryptobot_telegram_request_duration_seconds"),
				{title: "429 answers / s", unit: "reqps", w: 8, h: 8, min: ptr(0),
					thresholds:     []step{base("green"), at("red", rate429)},
					thresholdLines: true,
					targets:        []target{{expr: sumRate("", "cryptobot_telegram_rate_limited_total"), legend: "429"}}},
				{title: "Time spent waiting (s / s)", unit: "s", w: 8, h: 8, min: ptr(0),
					description: "Seconds per second spent honouring Telegram retry_after and the bot's own outbound limits.",
					targets: []target{
						{expr: sumRate("", "cryptobot_telegram_retry_wait_seconds_total"), legend: "retry_after"},
						{expr: sumRate("", "cryptobot_outbound_limiter_wait_seconds_total"), legend: "outbound limiter"},
					}},
			}},
			{title: "Telegram chats", panels: []panel{
				perSecond("Unreachable chats / s by reason", 8, "reason", "cryptobot_telegram_unreachable_total",
					"Replies Telegram refused for good: the user blocked the bot, the chat is gone, or a 429 beyond the reply deadline."),
				perSecond("Replies skipped / s by reason", 8, "reason", "cryptobot_telegram_replies_skipped_total",
					"Replies not sent at all because the chat was already known to be unreachable."),
				perSecond("Chat migrations / s", 8, "", "cryptobot_telegram_chat_migrations_total",
					"Replies resent to the supergroup a group became (migrate_to_chat_id)."),
			}},
			interactionsRow(),
			{title: "Exchanges", panels: []panel{
				rateBy("Requests / s by venue", 8, "venue", ex),
				rateBy("Requests / s by venue and outcome", 8, "venue, outcome", ex),
				{title: "Failure ratio by venue", unit: "percentunit", w: 8, h: 8, min: ptr(0),
					description:    "Rate-limited, unavailable and bad responses over all requests; unknown symbols are not failures.",
					thresholds:     []step{base("green"), at("red", venueRatio)},
					thresholdLines: true,
					targets:        []target{{expr: ratio("venue", ex, failed), legend: "{{venue}}"}}},
				p95By("Latency p95 by venue", 8, "venue", "cryptobot_exchange_request_duration_seconds"),
				p95By("Latency p95 by venue and endpoint", 8, "venue, endpoint", "cryptobot_exchange_request_duration_seconds"),
				{title: "Failovers / s", unit: "reqps", w: 8, h: 8, min: ptr(0),
					targets: []target{
						{expr: sumRate("from, to", "cryptobot_exchange_failovers_total"), legend: "{{from}} → {{to}}"},
						{expr: orZero(sumRate("", "cryptobot_exchange_failovers_total")), legend: "total"},
					}},
			}},
			{title: "Market cache", panels: []panel{
				{title: "Cache hit ratio by kind", unit: "percentunit", w: 8, h: 8, min: ptr(0), max: ptr(1),
					targets: []target{{expr: ratio("kind", cache, `result="hit"`), legend: "{{kind}}"}}},
				{title: "Coalesced look-ups / s by kind", unit: "reqps", w: 8, h: 8, min: ptr(0),
					description: "Look-ups that joined an upstream request already in flight (singleflight).",
					targets:     []target{{expr: sumRate("kind", cache, `result="coalesced"`) + " or " + sumRate("kind", cache) + " * 0", legend: "{{kind}}"}}},
				rateBy("Look-ups / s by kind and result", 8, "kind, result", cache),
			}},
			{title: "Market freshness", panels: []panel{
				{title: "Age of data served p50 / p99", unit: "s", w: 12, h: 8, min: ptr(0),
					description:    "Now minus the venue's timestamp of the spot tickers served, what /price shows as \"data Ns old\"; CryptobotStaleData fires when p99 stays above 10 s.",
					thresholds:     []step{base("green"), at("red", staleAge)},
					thresholdLines: true,
					targets: []target{
						{expr: quantile(0.50, "", "cryptobot_market_data_age_seconds"), legend: "p50"},
						{expr: quantile(0.99, "", "cryptobot_market_data_age_seconds"), legend: "p99"},
					}},
				perSecond("Stale values served / s by kind", 12, "kind", "cryptobot_market_stale_served_total",
					"Cached values served past their TTL while one background refresh runs (stale-while-revalidate)."),
				perSecond("Upstream requests / s by venue and trigger", 12, "venue, trigger", "cryptobot_market_upstream_requests_total",
					"Venue requests the cache made: wait (a caller waits), revalidate (after serving stale), ahead (hot keys refreshed before they expire)."),
				{title: "Rejected answers / s by venue and reason", unit: "reqps", w: 12, h: 8, min: ptr(0),
					description:    "Venue answers rejected as implausible and never cached; CryptobotExchangeRejecting fires when a venue stays above 0.05 / s.",
					thresholds:     []step{base("green"), at("red", rejectRate)},
					thresholdLines: true,
					targets:        []target{{expr: sumRate("venue, reason", "cryptobot_exchange_rejected_total"), legend: "{{venue}} {{reason}}"}}},
			}},
		},
	}
}

// interactionsRow is buttons and inline mode: each counter by outcome.
func interactionsRow() row {
	var ps []panel
	for _, c := range []struct{ title, metric, outcomes string }{
		{"Button presses / s by outcome", "cryptobot_telegram_callbacks_total", "Callback queries by how they were answered: answered, rate_limited, late, expired, failed."},
		{"Inline queries / s by outcome", "cryptobot_telegram_inline_queries_total", "Inline queries by how they were answered: answered, empty, expired, failed."},
		{"Message edits / s by outcome", "cryptobot_telegram_edits_total", "Messages edited in place after a press: ok, not_modified, too_old, failed."},
	} {
		ps = append(ps, perSecond(c.title, 8, "outcome", c.metric, c.outcomes))
	}
	return row{title: "Telegram interactions", panels: ps}
}

func rollout() board {
	return board{
		file: "rollout.json", uid: "cryptobot-rollout", title: "cryptobot / Rollout",
		description: "Feature flags and modules: who gets which variant, what is loaded, whether the flag files are valid, /price sections.",
		rows: []row{
			{title: "Flag files", panels: []panel{
				{kind: statPanel, title: "Flag files valid", unit: "bool_yes_no", w: 6, h: 4, min: ptr(0), max: ptr(1),
					description: "No: the files on disk were rejected and the last good set is still in force.",
					thresholds:  []step{base("red"), at("green", 1)},
					targets:     []target{{expr: "min(" + sel("cryptobot_flag_config_valid") + ")"}}},
				{kind: statPanel, title: "Since last good reload", unit: "s", w: 6, h: 4,
					targets: []target{{expr: "time() - max(" + sel("cryptobot_flag_last_reload_success_timestamp_seconds") + ")"}}},
				{kind: statPanel, title: "Rejected reloads (1h)", unit: "short", w: 6, h: 4,
					thresholds: []step{base("green"), at("red", 1)},
					targets:    []target{{expr: "sum(increase(" + sel("cryptobot_flag_reload_failures_total") + "[1h]))"}}},
				{kind: statPanel, title: "Modules loaded", unit: "short", w: 6, h: 4,
					targets: []target{{expr: "sum(" + sel("cryptobot_module_loaded") + ")"}}},
				{title: "Flag reloads / s by result", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("result", "cryptobot_flag_reloads_total"), legend: "{{result}}"}}},
				{title: "Flag files valid over time", unit: "bool_yes_no", w: 12, h: 8, min: ptr(0), max: ptr(1),
					targets: []target{{expr: "min(" + sel("cryptobot_flag_config_valid") + ")", legend: "valid"}}},
			}},
			{title: "Flag evaluations", panels: []panel{
				{title: "Evaluations / s by flag and variant", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("flag, variant", "cryptobot_flag_evaluations_total"), legend: "{{flag}} = {{variant}}"}}},
				{title: "Evaluations / s by flag and reason", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("flag, reason", "cryptobot_flag_evaluations_total"), legend: "{{flag}} {{reason}}"}}},
			}},
			{title: "Modules", panels: []panel{
				{kind: statPanel, title: "Module loaded", unit: "bool_yes_no", w: 12, h: 6,
					thresholds: []step{base("red"), at("green", 1)},
					targets:    []target{{expr: "max by (module) (" + sel("cryptobot_module_loaded") + ")", legend: "{{module}}"}}},
				{kind: statPanel, title: "Module skipped", unit: "none", w: 12, h: 6, noValue: "none skipped",
					description: "Modules not built at start, with the reason (flag off, memory budget, config).",
					thresholds:  []step{base("orange")},
					targets: []target{
						{expr: orZero("count(" + sel("cryptobot_module_skipped") + " == 1)"), legend: "skipped"},
						{expr: "max by (module, reason) (" + sel("cryptobot_module_skipped") + " == 1)", legend: "{{module}}: {{reason}}"},
					}},
			}},
			{title: "/price sections", panels: []panel{
				{title: "Sections / s by module and outcome", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("module, outcome", "cryptobot_price_sections_total"), legend: "{{module}} {{outcome}}"}}},
				{title: "Sections delivered ratio by module", unit: "percentunit", w: 12, h: 8, min: ptr(0), max: ptr(1),
					description: "ok over all outcomes (off, shed, failed, late, empty).",
					targets:     []target{{expr: ratio("module", "cryptobot_price_sections_total", `outcome="ok"`), legend: "{{module}}"}}},
			}},
		},
	}
}

func resources() board {
	used := "(" + sel("go_memory_classes_total_bytes") + " - " + sel("go_memory_classes_heap_released_bytes") + ")"
	// Without GOMEMLIMIT the runtime reports math.MaxInt64; hide it.
	limit := "(" + sel("go_gc_gomemlimit_bytes") + " < 1e18)"
	pressureSteps := []step{base("green"), at("orange", resumeAt), at("red", shedAt)}
	return board{
		file: "resources.json", uid: "cryptobot-resources", title: "cryptobot / Resources",
		description: "Memory against GOMEMLIMIT and the budget, the memory guard (pressure, shedding, admissions), GC, goroutines, RSS, CPU.",
		rows: []row{
			{title: "Memory", panels: []panel{
				{kind: statPanel, title: "Memory pressure", unit: "percentunit", w: 6, h: 4, thresholds: pressureSteps,
					targets: []target{{expr: "max(" + sel("cryptobot_memory_pressure_ratio") + ")"}}},
				{kind: statPanel, title: "Shedding", unit: "bool_yes_no", w: 6, h: 4,
					thresholds: []step{base("green"), at("red", 1)},
					targets:    []target{{expr: "max(" + sel("cryptobot_memory_shedding") + ")"}}},
				{kind: statPanel, title: "GOMEMLIMIT", unit: "bytes", w: 6, h: 4, noValue: "not set",
					targets: []target{{expr: "max" + limit}}},
				{kind: statPanel, title: "RSS", unit: "bytes", w: 6, h: 4,
					targets: []target{{expr: "sum(" + sel("process_resident_memory_bytes") + ")"}}},
				{title: "Memory used vs GOMEMLIMIT and budget", unit: "bytes", w: 12, h: 8, min: ptr(0),
					description: "used = total - heap released (what GOMEMLIMIT counts).",
					targets: []target{
						{expr: "sum(" + used + ")", legend: "used"},
						{expr: "max" + limit, legend: "GOMEMLIMIT"},
						{expr: "max(" + sel("cryptobot_memory_budget_bytes") + ")", legend: "budget"},
					}},
				{title: "Memory pressure (shed 0.85, resume 0.70)", unit: "percentunit", w: 12, h: 8, min: ptr(0),
					thresholds:     pressureSteps,
					thresholdLines: true,
					targets: []target{
						{expr: "max(" + sel("cryptobot_memory_pressure_ratio") + ")", legend: "guard"},
						{expr: "max(" + used + " / " + limit + ")", legend: "used / GOMEMLIMIT"},
					}},
				{title: "Heap and RSS", unit: "bytes", w: 12, h: 8, min: ptr(0),
					targets: []target{
						{expr: "sum(" + sel("go_gc_heap_live_bytes") + ")", legend: "live heap"},
						{expr: "sum(" + sel("go_gc_heap_goal_bytes") + ")", legend: "heap goal"},
						{expr: "sum(" + sel("process_resident_memory_bytes") + ")", legend: "RSS"},
					}},
				{title: "Shedding over time", unit: "bool_yes_no", w: 12, h: 8, min: ptr(0), max: ptr(1),
					targets: []target{{expr: "max(" + sel("cryptobot_memory_shedding") + ")", legend: "shedding"}}},
			}},
			{title: "Admission", panels: []panel{
				{title: "Admissions / s by module and result", unit: "reqps", w: 12, h: 8,
					targets: []target{{expr: sumRate("module, result", "cryptobot_memory_admissions_total"), legend: "{{module}} {{result}}"}}},
				{title: "Per-request memory in flight", unit: "bytes", w: 12, h: 8, min: ptr(0),
					targets: []target{{expr: "sum(" + sel("cryptobot_memory_inflight_bytes") + ")", legend: "in flight"}}},
			}},
			{title: "Runtime", panels: []panel{
				{title: "GC cycles / s", unit: "short", w: 8, h: 8, min: ptr(0),
					targets: []target{{expr: sumRate("", "go_gc_cycles_total_gc_cycles_total"), legend: "cycles"}}},
				{title: "GC stop-the-world pause p99", unit: "s", w: 8, h: 8,
					targets: []target{{expr: quantile(0.99, "", "go_sched_pauses_total_gc_seconds"), legend: "p99"}}},
				{title: "Goroutines", unit: "short", w: 8, h: 8, min: ptr(0),
					targets: []target{{expr: "sum(" + sel("go_goroutines") + ")", legend: "goroutines"}}},
				{title: "CPU (cores)", unit: "short", w: 12, h: 8, min: ptr(0),
					targets: []target{{expr: sumRate("", "process_cpu_seconds_total"), legend: "cores"}}},
				{title: "Heap allocation rate", unit: "Bps", w: 12, h: 8, min: ptr(0),
					targets: []target{{expr: sumRate("", "go_gc_heap_allocs_bytes_total"), legend: "allocated"}}},
			}},
		},
	}
}

// perSecond is a time series of a counter's rate, one line per value of the
// by labels ("" for a single line).
func perSecond(title string, w uint32, by, metric, description string) panel {
	return panel{title: title, description: description, unit: "reqps", w: w, h: 8, min: ptr(0),
		targets: []target{{expr: sumRate(by, metric), legend: legendBy(by)}}}
}

// rateBy is a w-wide panel of metric's per-second rate summed by the labels
// in by, one series each.
func rateBy(title string, w uint32, by, metric string) panel {
	return panel{title: title, unit: "reqps", w: w, h: 8,
		targets: []target{{expr: sumRate(by, metric), legend: legendBy(by)}}}
}

// p95By is a w-wide panel of histogram metric's 95th percentile by the
// labels in by, one series each.
func p95By(title string, w uint32, by, metric string) panel {
	return panel{title: title, unit: "s", w: w, h: 8,
		targets: []target{{expr: quantile(0.95, by, metric), legend: legendBy(by)}}}
}

// legendBy names a series by the labels in by ("venue, outcome" gives
// "{{venue}} {{outcome}}"), or "total" for a sum over everything.
func legendBy(by string) string {
	if by == "" {
		return "total"
	}
	return "{{" + strings.ReplaceAll(by, ", ", "}} {{") + "}}"
}

// sel is a vector selector filtered on the dashboard's job variable.
func sel(metric string, matchers ...string) string {
	return metric + "{" + strings.Join(append([]string{`job=~"$job"`}, matchers...), ",") + "}"
}

// sumRate sums a counter's rate, by the given labels when by is not empty.
func sumRate(by, metric string, matchers ...string) string {
	r := "rate(" + sel(metric, matchers...) + "[$__rate_interval])"
	if by == "" {
		return "sum(" + r + ")"
	}
	return "sum by (" + by + ") (" + r + ")"
}

// ratio is the share of a counter's rate matching part, by labels. Groups
// without a matching series read 0 instead of vanishing, so a healthy
// command or venue still shows a line.
func ratio(by, metric, part string) string {
	whole := sumRate(by, metric)
	return "(" + sumRate(by, metric, part) + " or " + whole + " * 0) / " + whole
}

// orZero shows 0 instead of "No data" for a label-less sum that has no
// series yet (e.g. no reply sent since start).
func orZero(expr string) string { return expr + " or vector(0)" }

// quantile is histogram_quantile over a histogram's buckets, by labels.
func quantile(q float64, by, histogram string) string {
	if by != "" {
		by += ", "
	}
	return fmt.Sprintf("histogram_quantile(%g, sum by (%sle) (rate(%s[$__rate_interval])))", q, by, sel(histogram+"_bucket"))
}

// step is a threshold step; the base step has no value.
type step = dashboard.Threshold

func at(color string, value float64) step { return step{Color: color, Value: &value} }

func base(color string) step { return step{Color: color} }

func ptr(v float64) *float64 { return &v }
