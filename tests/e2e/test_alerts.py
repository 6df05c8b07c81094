"""Admins hear about orders that stop making progress; never the key."""

from __future__ import annotations

import pytest

from tests.e2e.flows import paid_order

ADMINS = -100500


@pytest.fixture
def shop_env(shop_env):
    return {**shop_env, "ORDER_STUCK_ALERT_MINUTES": "0.01"}  # 0.6 s


async def test_an_order_stuck_at_the_vendor_is_reported_once(tg, sim, shop):
    sim.set_outcome(3001, "COMPLETED", processing_seconds=3600)
    user = tg.user(5001)
    order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
    alert = await tg.wait_for("sendMessage", where=lambda c: c.params["chat_id"] == ADMINS)
    assert order_id in alert.params["text"] and "processing" in alert.params["text"]
    polls_before = sum(p.endswith("order-status") for p, _ in sim.requests)
    vendor_order = sim.order_by_transaction(order_id)
    assert vendor_order is not None
    sim.force_status(vendor_order.order_id, "COMPLETED")
    await tg.wait_for("sendMessage", where=lambda c: "Your key" in c.params.get("text", ""))
    assert len(tg.calls_of("sendMessage", chat_id=ADMINS)) == 1
    assert polls_before >= 2
    assert vendor_order.key and all(
        vendor_order.key not in c.params["text"] for c in tg.calls_of("sendMessage", ADMINS)
    )
