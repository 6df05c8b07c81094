-- Offers an owner imported from a vendor's product list (/import, python -m bot.catalog):
-- they live in the database only, so re-reading catalog.toml at start keeps them.
ALTER TABLE offers ADD COLUMN imported_by BIGINT;   -- NULL: the catalog file lists it
ALTER TABLE offers ADD COLUMN imported_at REAL;
