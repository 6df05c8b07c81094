-- One create with an unknown outcome per product, at a vendor without idempotency keys
-- (Kinguin's integration API). The order that creates holds its product's slot until its
-- vendor order id is known or it leaves placement; another order of the same product waits
-- meanwhile. A lost answer then leaves exactly one unattributed candidate to adopt.
CREATE TABLE create_slots (
    vendor    TEXT NOT NULL,
    product   TEXT NOT NULL,
    order_id  TEXT NOT NULL,
    PRIMARY KEY (vendor, product)
);
