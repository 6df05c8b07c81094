-- Customers who blocked the bot (learned from a 403): broadcasts skip them.
ALTER TABLE users ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;
CREATE INDEX users_reachable ON users (id) WHERE blocked = 0 AND banned = 0;
