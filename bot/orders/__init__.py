"""An order's life: checkout and payment, the worker and the steps it runs (placing,
following, delivering, refunding), vendor pushes, the Stars ledger, the customer's messages."""
