-- Orders whose next step waits on the shop (place a paid order, deliver a key, refund),
-- apart from the vendor polls: a worker claims these first, and finds them without walking
-- a backlog of thousands of polls (storage.orders.OrderRepo.claim_due).
CREATE INDEX orders_due_on_us ON orders (next_attempt_at)
    WHERE state IN ('paid', 'placing', 'fulfilled', 'refunding');
