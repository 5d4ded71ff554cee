-- Alerts, their outbox, watchlists, digest schedules and per-chat state
-- (issue 11). {{serial}} is an id that is never reused (SQLite
-- AUTOINCREMENT, a Postgres identity): alert ids are shown to users.
-- States are rule.State's String forms; live ones are armed, cooling and
-- paused (they count against the limits), evaluated ones armed and cooling.

-- One row per chat the store keeps anything for. CreateAlert and Watch
-- upsert it first: on Postgres that locks the row, so two concurrent
-- creations for one chat count in turn. live_alerts and alert_totals.live
-- count the live alerts, kept by every write that changes them (counting
-- 100,000 rows per /alert would cost milliseconds).
CREATE TABLE chats (
    chat_id     {{int64}} PRIMARY KEY,
    blocked     BOOLEAN NOT NULL DEFAULT FALSE,
    live_alerts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE alert_totals (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    live INTEGER NOT NULL
);
INSERT INTO alert_totals (id, live) VALUES (1, 0);

CREATE TABLE alerts (
    id            {{serial}},
    chat_id       {{int64}} NOT NULL,
    pair          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('armed', 'cooling', 'fired', 'paused', 'expired')),
    -- the chat blocked the bot: paused by SetChatBlocked, re-armed by it only
    block_paused  BOOLEAN NOT NULL DEFAULT FALSE,
    rule          {{bytes}} NOT NULL,
    status        {{bytes}} NOT NULL,
    created_at    {{time}} NOT NULL,
    expires_at    {{time}}
);
CREATE INDEX alerts_chat ON alerts (chat_id, id);
CREATE INDEX alerts_live ON alerts (state, id) WHERE state IN ('armed', 'cooling', 'paused');

-- Messages to send, written in the transaction that decided them.
-- trigger_key is unique per crossing (or digest day): the claim that makes a
-- firing happen once, even with two evaluators for a moment. A row is
-- pending while sent_at and failed_at are NULL and attempts < 10;
-- claimed_until is a drainer's lease on it.
CREATE TABLE outbox (
    id            {{serial}},
    trigger_key   TEXT NOT NULL UNIQUE,
    alert_id      {{int64}},
    chat_id       {{int64}} NOT NULL,
    text          TEXT NOT NULL,
    silent        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    {{time}} NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_until {{time}},
    sent_at       {{time}},
    failed_at     {{time}}
);
CREATE INDEX outbox_pending ON outbox (created_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE watchlist (
    chat_id   {{int64}} NOT NULL,
    pair      TEXT NOT NULL,
    position  INTEGER NOT NULL,
    PRIMARY KEY (chat_id, pair)
);
CREATE INDEX watchlist_pair ON watchlist (pair);

CREATE TABLE digests (
    chat_id    {{int64}} PRIMARY KEY,
    hour       INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    minute     INTEGER NOT NULL CHECK (minute BETWEEN 0 AND 59),
    zone       TEXT NOT NULL,
    last_sent  {{time}},
    paused     BOOLEAN NOT NULL DEFAULT FALSE
);
