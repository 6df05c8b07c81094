-- Every vendor: quantities, text-only keys, a vendor's own sub-offer, webhook state,
-- pre-orders; and shop credit (Stars a customer spends on a later purchase).
ALTER TABLE offers ADD COLUMN max_quantity INTEGER NOT NULL DEFAULT 1;
ALTER TABLE offers ADD COLUMN key_type TEXT;
ALTER TABLE offers ADD COLUMN kinguin_offer_id TEXT;

ALTER TABLE orders ADD COLUMN quantity INTEGER NOT NULL DEFAULT 1;
-- price_stars is the whole order's value; credit_stars of it were paid from shop credit,
-- the rest (if any) by the Telegram charge.
ALTER TABLE orders ADD COLUMN credit_stars INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN key_type TEXT;
ALTER TABLE orders ADD COLUMN variant TEXT;
ALTER TABLE orders ADD COLUMN vendor_status TEXT;        -- last status a vendor pushed
ALTER TABLE orders ADD COLUMN vendor_updated_at TEXT;    -- its updatedAt (ISO 8601, UTC)
ALTER TABLE orders ADD COLUMN release_date TEXT;         -- a pre-order's release date
ALTER TABLE orders ADD COLUMN delivered_units INTEGER;   -- set when fewer than ordered came
CREATE INDEX orders_by_vendor_order ON orders (vendor, vendor_order_id);

-- One row per move of a customer's shop credit; the balance is their sum.
CREATE TABLE credit_entries (
    id          ${AUTO_ID},
    user_id     INTEGER NOT NULL,
    delta       INTEGER NOT NULL,              -- Stars: + credited, - spent
    reason      TEXT NOT NULL,                 -- 'partial', 'spent', 'returned', 'refund'
    order_id    TEXT REFERENCES orders (id),
    created_at  REAL NOT NULL
);
CREATE INDEX credit_entries_by_user ON credit_entries (user_id, id);
