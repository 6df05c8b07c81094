-- Forum topics the bot opened in the admin group ("Alerts", "Orders", one per customer who
-- wrote to /support), remembered so a restart or another replica posts into the same ones.
CREATE TABLE forum_topics (
    chat_id      BIGINT NOT NULL,
    topic        TEXT NOT NULL,              -- 'alerts', 'orders' or 'customer:<user id>'
    thread_id    BIGINT NOT NULL,            -- its message_thread_id
    customer_id  BIGINT,                     -- a support topic's customer
    created_at   REAL NOT NULL,
    PRIMARY KEY (chat_id, topic)
);
CREATE UNIQUE INDEX forum_topics_by_thread ON forum_topics (chat_id, thread_id);

-- Support messages the bot posted into an admin group without topics: an admin's reply to
-- one of them goes to its customer.
CREATE TABLE support_messages (
    chat_id      BIGINT NOT NULL,
    message_id   BIGINT NOT NULL,
    customer_id  BIGINT NOT NULL,
    created_at   REAL NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);

-- Alerts and the sales feed share one sender and its pace; each goes to its own topic.
ALTER TABLE admin_alerts ADD COLUMN topic TEXT NOT NULL DEFAULT 'alerts';
CREATE INDEX admin_alerts_by_order ON admin_alerts (order_id);
