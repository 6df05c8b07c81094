-- A purchase made in the sandbox (simulated vendors, test keys). Its key messages say so,
-- and on Telegram's production environment its Stars go back once the test key is
-- delivered. Marked per order: switching SANDBOX later never touches real purchases.
ALTER TABLE orders ADD COLUMN test_purchase INTEGER NOT NULL DEFAULT 0;
