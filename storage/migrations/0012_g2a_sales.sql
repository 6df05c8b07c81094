-- Selling on G2A. Orders now come from more than one channel: Telegram customers, and
-- G2A buyers whose orders G2A hands us (one order row per G2A order: external_ref).
ALTER TABLE orders ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE orders ADD COLUMN external_ref TEXT;
CREATE UNIQUE INDEX orders_by_external_ref ON orders (channel, external_ref)
    WHERE external_ref IS NOT NULL;

-- The G2A product a catalog offer may be sold as (catalog.toml: g2a_product_id).
ALTER TABLE offers ADD COLUMN g2a_product_id TEXT;

-- The shop's offers on G2A's marketplace, one per catalog offer.
CREATE TABLE g2a_listings (
    sku          TEXT PRIMARY KEY,
    product_id   TEXT NOT NULL,              -- G2A's product id
    offer_id     TEXT,                       -- G2A's offer id, once its job completed
    job_id       TEXT,
    price        DOUBLE PRECISION NOT NULL,  -- EUR, what G2A buyers pay
    state        TEXT NOT NULL,              -- creating, active, paused, failed
    last_error   TEXT,
    created_by   BIGINT,
    updated_at   DOUBLE PRECISION NOT NULL
);
CREATE INDEX g2a_listings_by_product ON g2a_listings (product_id);

-- G2A's reservations: stock held for a G2A order until it is confirmed or expires.
CREATE TABLE g2a_reservations (
    id            TEXT PRIMARY KEY,
    g2a_order_id  TEXT NOT NULL UNIQUE,
    product_id    TEXT NOT NULL,
    sku           TEXT NOT NULL,
    quantity      INTEGER NOT NULL,
    unit_cost     DOUBLE PRECISION NOT NULL, -- the source vendor's price when reserved
    currency      TEXT NOT NULL,
    price         DOUBLE PRECISION NOT NULL, -- our listing's price (EUR) when reserved
    state         TEXT NOT NULL,             -- reserved, confirmed, expired
    order_id      TEXT,                      -- our order, once confirmed
    expires_at    DOUBLE PRECISION NOT NULL,
    created_at    DOUBLE PRECISION NOT NULL
);
CREATE INDEX g2a_reservations_due ON g2a_reservations (state, expires_at);
