"""Support mappings and the alerts table's topics."""

from __future__ import annotations

from storage import AlertRepo, ForumTopicRepo, SupportMessageRepo

GROUP = -1009000


async def test_a_topic_opened_twice_keeps_the_first_and_can_be_forgotten(db):
    topics = ForumTopicRepo(db)
    assert await topics.remember(GROUP, "customer:7", 11, customer_id=7) == 11
    assert await topics.remember(GROUP, "customer:7", 12, customer_id=7) == 11  # a replica lost
    assert await topics.customer_of(GROUP, 11) == 7
    assert await topics.customer_of(GROUP, 12) is None
    await topics.forget(GROUP, "customer:7", 99)  # not the remembered one: kept
    assert await topics.thread(GROUP, "customer:7") == 11
    await topics.forget(GROUP, "customer:7", 11)
    assert await topics.thread(GROUP, "customer:7") is None
    assert await topics.remember(GROUP, "alerts", 13) == 13
    assert await topics.customer_of(GROUP, 13) is None


async def test_support_messages_map_to_their_customer(db):
    messages = SupportMessageRepo(db)
    await messages.remember(GROUP, [5, 6], customer_id=7)
    assert [await messages.customer_of(GROUP, m) for m in (5, 6, 8)] == [7, 7, None]
    assert await messages.customer_of(-1, 5) is None


async def test_a_digest_holds_one_topic_oldest_first(db):
    alerts = AlertRepo(db)
    await alerts.add("vendor down", "o1")
    await alerts.add_once("o2 delivered", "o2", "orders")
    await alerts.add_once("o2 delivered", "o2", "orders")  # a repeated step: no second line
    await alerts.add("vendor still down", None)
    await alerts.add_once("o3 refunded", "o3", "orders")
    first = await alerts.claim("me", limit=10, lease_seconds=60)
    assert [(a.text, a.topic) for a in first] == [
        ("vendor down", "alerts"),
        ("vendor still down", "alerts"),
    ]
    second = await alerts.claim("me", limit=10, lease_seconds=60)
    assert [a.text for a in second] == ["o2 delivered", "o3 refunded"]
    assert {a.topic for a in second} == {"orders"}
    assert await alerts.claim("me", limit=10, lease_seconds=60) == []
    await alerts.sent([a.id for a in first + second])
    assert await alerts.pending() == 0
