-- Times are unix seconds (REAL); JSON documents are TEXT.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,          -- Telegram user id
    language    TEXT,                         -- chosen with /language; NULL follows Telegram
    telegram_language TEXT,                   -- last language_code Telegram sent
    created_at  REAL NOT NULL
);

CREATE TABLE offers (
    sku              TEXT PRIMARY KEY,
    vendor           TEXT NOT NULL,
    vendor_offer_id  TEXT NOT NULL,
    title            TEXT NOT NULL,
    category         TEXT NOT NULL,
    price_stars      INTEGER NOT NULL,
    max_vendor_price REAL NOT NULL,
    field_patterns   TEXT NOT NULL DEFAULT '{}',
    description      TEXT NOT NULL DEFAULT '',
    position         INTEGER NOT NULL,
    active           INTEGER NOT NULL DEFAULT 1,
    updated_at       REAL NOT NULL
);

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY,      -- also our idempotency reference at the vendor
    user_id            INTEGER NOT NULL,
    chat_id            INTEGER NOT NULL,
    sku                TEXT NOT NULL,
    title              TEXT NOT NULL,
    vendor             TEXT NOT NULL,
    vendor_offer_id    TEXT NOT NULL,
    price_stars        INTEGER NOT NULL,
    vendor_price       REAL NOT NULL,
    max_vendor_price   REAL NOT NULL,
    vendor_currency    TEXT NOT NULL DEFAULT '',
    customer_fields    TEXT NOT NULL DEFAULT '{}',
    delivers_key       INTEGER NOT NULL,
    state              TEXT NOT NULL,
    telegram_charge_id TEXT UNIQUE,
    vendor_order_id    TEXT,
    failure_reason     TEXT,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    REAL,
    lease_owner        TEXT,
    lease_until        REAL,
    alerted            INTEGER NOT NULL DEFAULT 0,
    created_at         REAL NOT NULL,
    updated_at         REAL NOT NULL
);
CREATE INDEX orders_by_user ON orders (user_id, created_at);
CREATE INDEX orders_due ON orders (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

CREATE TABLE order_events (
    id          ${AUTO_ID},
    order_id    TEXT NOT NULL REFERENCES orders (id),
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    note        TEXT,
    at          REAL NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (order_id, id);

CREATE TABLE order_keys (
    order_id    TEXT NOT NULL REFERENCES orders (id),
    position    INTEGER NOT NULL,
    kind        TEXT NOT NULL,                -- 'text' or 'image'
    mime        TEXT NOT NULL,
    secret      BLOB NOT NULL,                -- Fernet token of the key
    created_at  REAL NOT NULL,
    PRIMARY KEY (order_id, position)
);
