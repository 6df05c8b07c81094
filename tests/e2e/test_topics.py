"""Forum topics of the admin group through the real bot: alerts in an Alerts topic, a sales
feed (delivered and refunded orders, never a key) in an Orders topic, both at one pace; a
plain group gets alerts without a thread and no feed."""

from __future__ import annotations

import asyncio

import pytest

from storage import OrderState
from tests.e2e.flows import eventually, paid_order, settled, wait_text

ADMIN_CHAT = -100500


@pytest.fixture
def shop_env(shop_env):
    return shop_env | {"ALERT_INTERVAL_SECONDS": "0.2"}


async def buy_one_of_each(tg, orders, customer) -> tuple[str, str]:
    """A delivered order (Kinguin) and one the vendor cancels (refunded, with an alert)."""
    delivered = await paid_order(tg, customer, "PC games", "Elden Ring")
    refunded = await paid_order(
        tg, tg.user(customer.id + 50), "Sandbox", "Sandbox: always cancelled"
    )
    await settled(orders, delivered, OrderState.DELIVERED)
    await settled(orders, refunded, OrderState.REFUNDED)
    return delivered, refunded


async def test_alerts_and_the_sales_feed_go_to_topics_of_their_own(tg, shop, orders, kinguin):
    forum = tg.group(ADMIN_CHAT, "Shop admins", is_forum=True)
    customer = tg.user(5301)
    delivered, refunded = await buy_one_of_each(tg, orders, customer)
    key = kinguin.order_by_external_id(delivered).keys[0]

    def thread(name: str) -> int | None:
        return next((t for t, topic in forum.topics.items() if topic == name), None)

    def posted() -> bool:
        alerts, feed = thread("⚠️ Alerts"), thread("🧾 Orders")
        if alerts is None or feed is None:
            return False
        lines = "\n".join(forum.texts(feed))
        shown = all(f"#{order[:8].upper()}" in lines for order in (delivered, refunded))
        return shown and any(refunded in text for text in forum.texts(alerts))

    await eventually(posted)
    feed = "\n".join(forum.texts(thread("🧾 Orders")))
    sold = f"🧾 #{delivered[:8].upper()} delivered: Elden Ring (Steam key) ×1, 420 ⭐ — user 5301"
    assert sold in feed
    assert f"↩️ #{refunded[:8].upper()} refunded: Sandbox: always cancelled ×1" in feed
    assert [m for m in forum.messages() if m.thread_id is None] == []  # nothing in General
    assert not any(key in text for text in forum.texts())
    assert len(tg.calls_of("createForumTopic")) == 2
    assert tg.per_chat_per_minute(forum.id) <= 20
    feed_message = next(m for m in forum.messages(thread("🧾 Orders")))
    assert feed_message.buttons() == []  # the feed is for reading; alerts carry buttons

    mark = await customer.send("/orders")  # the customer opens the key again: no feed line
    await wait_text(tg, customer, "Your orders", since=mark)
    opened = await customer.press(lambda button: "Elden Ring" in button["text"])
    await tg.wait_for("editMessageText", since=opened)
    await customer.press("🔑 Show key")
    await wait_text(tg, customer, key, since=mark)
    await asyncio.sleep(0.5)
    assert all(
        c.params["chat_id"] != ADMIN_CHAT for c in tg.calls[mark:] if c.method == "sendMessage"
    )


async def test_a_plain_group_gets_alerts_without_a_thread_and_no_feed(tg, shop, orders, kinguin):
    plain = tg.group(ADMIN_CHAT, "Shop admins")
    delivered, refunded = await buy_one_of_each(tg, orders, tg.user(5302))
    await eventually(lambda: any(refunded in text for text in plain.texts()))
    await asyncio.sleep(0.5)  # time for a feed line, were there one
    [alert] = tg.calls_of("sendMessage", ADMIN_CHAT)
    assert "message_thread_id" not in alert.params
    assert not any(delivered[:8].upper() in text for text in plain.texts())
    assert tg.calls_of("createForumTopic") == []
