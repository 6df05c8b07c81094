-- Jobs that run once for the whole shop, whichever of its processes runs them (the Stars
-- ledger check, invoice expiry, vendor health, the alert sender, a broadcast): a process
-- runs one only while it holds its lease (a crashed holder's lease runs out), and a
-- periodic job rests until next_run_at after a run.
CREATE TABLE job_leases (
    name         TEXT PRIMARY KEY,
    owner        TEXT,
    until        REAL NOT NULL DEFAULT 0,
    next_run_at  REAL NOT NULL DEFAULT 0
);
