-- The update journal. outcome is NULL while an update is unanswered.
-- claimed_by/claimed_until are for replica leases (FOR UPDATE SKIP LOCKED
-- claims on Postgres), unused until replicas land.
-- Type placeholders per driver (migrate.go): {{int64}} is INTEGER on SQLite
-- (update_id becomes the rowid) and BIGINT on Postgres; {{bytes}} BLOB or
-- BYTEA; {{time}} unix microseconds (INTEGER) or TIMESTAMPTZ.
CREATE TABLE journal (
    update_id     {{int64}} PRIMARY KEY,
    chat_id       {{int64}} NOT NULL DEFAULT 0,
    body          {{bytes}} NOT NULL,
    received_at   {{time}}  NOT NULL,
    outcome       TEXT CHECK (outcome IN ('answered', 'failed', 'expired', 'skipped')),
    settled_at    {{time}},
    claimed_by    TEXT,
    claimed_until {{time}}
);
CREATE INDEX journal_unanswered ON journal (received_at, update_id) WHERE outcome IS NULL;
CREATE INDEX journal_settled ON journal (settled_at) WHERE outcome IS NOT NULL;
