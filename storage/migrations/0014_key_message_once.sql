-- When the message with an order's keys was first attempted. A step that finds it set (a
-- crash came between sending and recording `delivered`) does not send the keys again: the
-- customer gets a notice pointing to "My orders" instead, so a key message never repeats.
ALTER TABLE orders ADD COLUMN key_message_at REAL;
