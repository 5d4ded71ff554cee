-- Per-chat settings (/settings, modules/core/settings). Empty strings and
-- FALSE are the defaults: quote '' is USDT, zone '' is UTC, numbers '' is
-- 1,234.56 ('eu' is 1.234,56). A chat without a row has the defaults.
CREATE TABLE chat_settings (
    chat_id    {{int64}} PRIMARY KEY,
    quote      TEXT NOT NULL DEFAULT '',
    zone       TEXT NOT NULL DEFAULT '',
    numbers    TEXT NOT NULL DEFAULT '',
    compact    BOOLEAN NOT NULL DEFAULT FALSE,
    silent     BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at {{time}} NOT NULL
);
