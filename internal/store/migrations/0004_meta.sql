-- Facts about the deployment the store belongs to, one row a key: bot_id
-- is the Telegram bot whose update ids the journal holds.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
