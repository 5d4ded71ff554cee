-- Replicas on one Postgres (issue 14). replicas: one row per running
-- process, its heartbeat refreshed every replicas.heartbeat; the live ones
-- (heartbeat within replicas.lease) share the outbound limits and show in
-- /status. leases: named leases with a fencing token that grows whenever
-- the holder changes ("leader" elects the replica that runs the alert
-- evaluator, the digest scheduler, journal pruning and the poller).
-- On Postgres lease times are the database's clock (now()), so replicas'
-- clocks need not agree.
CREATE TABLE replicas (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    version      TEXT NOT NULL,
    started_at   {{time}} NOT NULL,
    heartbeat_at {{time}} NOT NULL
);
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    token      {{int64}} NOT NULL,
    expires_at {{time}} NOT NULL
);
-- A replica's unsettled journal claims, renewed every heartbeat and
-- released at a graceful stop.
CREATE INDEX journal_claimed ON journal (claimed_by) WHERE outcome IS NULL;
