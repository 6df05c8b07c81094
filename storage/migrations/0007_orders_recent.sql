-- Admins list recent orders (filtered by state or vendor) and export periods.
CREATE INDEX orders_recent ON orders (created_at);
