-- Stars that reached us for no open order (e.g. an invoice paid twice): refunded by the worker.
CREATE TABLE stray_payments (
    charge_id        TEXT PRIMARY KEY,            -- telegram_payment_charge_id
    user_id          INTEGER NOT NULL,
    amount           INTEGER NOT NULL,
    invoice_payload  TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL,                        -- NULL once settled
    outcome          TEXT,                        -- 'refunded' or why it could not be
    created_at       REAL NOT NULL
);
CREATE INDEX stray_payments_due ON stray_payments (next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;

-- How far background jobs have read an append-only outside log (e.g. the Stars ledger).
CREATE TABLE cursors (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
