-- The update journal. Times are unix microseconds. outcome is NULL while an
-- update is unanswered; claimed_by/claimed_until are reserved for replica
-- leases (Postgres only in practice) and stay NULL on SQLite.
CREATE TABLE journal (
    update_id     INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL DEFAULT 0,
    body          BLOB    NOT NULL,
    received_at   INTEGER NOT NULL,
    outcome       TEXT CHECK (outcome IN ('answered', 'failed', 'expired', 'skipped')),
    settled_at    INTEGER,
    claimed_by    TEXT,
    claimed_until INTEGER
);
CREATE INDEX journal_unanswered ON journal (received_at, update_id) WHERE outcome IS NULL;
CREATE INDEX journal_settled ON journal (settled_at) WHERE outcome IS NOT NULL;
