-- Every change an admin makes from the admin group: who, what, on what, when.
CREATE TABLE admin_actions (
    id        ${AUTO_ID},
    admin_id  INTEGER NOT NULL,
    action    TEXT NOT NULL,               -- 'refund', 'retry', 'credit', 'show_key', ...
    target    TEXT,                        -- an order id or a user id
    details   TEXT,
    at        REAL NOT NULL
);
CREATE INDEX admin_actions_by_target ON admin_actions (target, id);
