-- The update journal. outcome is NULL while an update is unanswered;
-- claimed_by/claimed_until are for replica leases (FOR UPDATE SKIP LOCKED
-- claims compared against now()), unused until replicas land.
CREATE TABLE journal (
    update_id     BIGINT      PRIMARY KEY,
    chat_id       BIGINT      NOT NULL DEFAULT 0,
    body          BYTEA       NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    outcome       TEXT CHECK (outcome IN ('answered', 'failed', 'expired', 'skipped')),
    settled_at    TIMESTAMPTZ,
    claimed_by    TEXT,
    claimed_until TIMESTAMPTZ
);
CREATE INDEX journal_unanswered ON journal (received_at, update_id) WHERE outcome IS NULL;
CREATE INDEX journal_settled ON journal (settled_at) WHERE outcome IS NOT NULL;
