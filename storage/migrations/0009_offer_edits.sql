-- An admin's changes to catalog offers. They overlay the offers the catalog file seeds,
-- so a restart (which re-reads catalog.toml) never overwrites them.
CREATE TABLE offer_edits (
    sku               TEXT PRIMARY KEY,
    active            INTEGER,                  -- NULL: as the file says
    price_stars       INTEGER,
    max_vendor_price  REAL,
    max_quantity      INTEGER,
    edited_by         INTEGER NOT NULL,
    edited_at         REAL NOT NULL
);
