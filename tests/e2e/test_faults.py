"""Faults around a paid order: garbled vendor answers, Telegram refusing, blocked customers."""

from __future__ import annotations

from storage import OrderState
from tests.e2e.flows import paid_order, settled, wait_text


async def test_garbled_and_failing_vendor_answers_are_retried(tg, sim, shop, orders):
    sim.fail_next("order-status", "garbled", times=2)
    sim.fail_next("keys", "500", times=4)
    user = tg.user(4001)
    order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
    await wait_text(tg, user, "Your key")
    await settled(orders, order_id, OrderState.DELIVERED)
    assert sim.orders_created == 1


async def test_refused_refund_is_escalated_to_the_admins_without_the_key(tg, sim, shop, orders):
    tg.fail_next("refundStarPayment", "Bad Request: CHARGE_NOT_FOUND")
    user = tg.user(4002)
    order_id = await paid_order(tg, user, "Sandbox", "Sandbox: always cancelled")
    alert = await tg.wait_for(
        "sendMessage",
        where=lambda c: c.params["chat_id"] == -100500 and "by hand" in c.params["text"],
    )
    assert order_id in alert.params["text"]
    order = await settled(orders, order_id, OrderState.FAILED)
    assert order.telegram_charge_id and not tg.charges[order.telegram_charge_id].refunded


async def test_already_refunded_charge_counts_as_refunded(tg, sim, shop, orders):
    tg.fail_next("refundStarPayment", "Bad Request: CHARGE_ALREADY_REFUNDED")
    user = tg.user(4003)
    order_id = await paid_order(tg, user, "Sandbox", "Sandbox: always cancelled")
    await settled(orders, order_id, OrderState.REFUNDED)


async def test_a_blocked_customer_still_finds_the_key_in_my_orders(tg, sim, shop, orders):
    user = tg.user(4004)
    tg.fail_next(
        "sendMessage",
        "Forbidden: bot was blocked by the user",
        code=403,
        where=lambda params: "Your key" in params.get("text", ""),
    )
    order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
    await settled(orders, order_id, OrderState.DELIVERED)
    assert not any("Your key" in text for text in user.texts())
    mark = await user.send("/orders")
    await wait_text(tg, user, "Your orders", since=mark)
    mark = await user.press(lambda button: "Steam Wallet 5 USD" in button["text"])
    await tg.wait_for("editMessageText", since=mark)
    mark = await user.press("🔑 Show key")
    vendor_order = sim.order_by_transaction(order_id)
    assert vendor_order is not None and vendor_order.key is not None
    assert vendor_order.key in await wait_text(tg, user, "Your key", since=mark)


async def test_a_second_charge_for_a_paid_order_is_refunded(tg, sim, shop, orders):
    user = tg.user(4005)
    order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
    await settled(orders, order_id, OrderState.DELIVERED)
    first = await orders.get(order_id)
    assert first is not None
    mark = tg.mark()
    tg.fail_next("refundStarPayment", "Internal Server Error", code=500)  # retried later
    charge = await user.successful_payment()  # a second charge for the same invoice
    await wait_text(tg, user, "was refunded", since=mark)
    refunds = tg.calls_of("refundStarPayment")[-2:]
    assert [c.params["telegram_payment_charge_id"] for c in refunds] == [charge, charge]
    assert tg.charges[charge].refunded
    assert await orders.get(order_id) == first
    assert sim.orders_created == 1
