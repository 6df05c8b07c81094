-- Alerts for the admin group, kept until sent: merged into digests at Telegram's pace
-- (about 20 messages a minute into one group), never dropped, also across a crash.
CREATE TABLE admin_alerts (
    id           ${AUTO_ID},
    text         TEXT NOT NULL,              -- never a key
    order_id     TEXT,
    created_at   REAL NOT NULL,
    lease_owner  TEXT,
    lease_until  REAL,
    sent_at      REAL
);
CREATE INDEX admin_alerts_pending ON admin_alerts (id) WHERE sent_at IS NULL;
