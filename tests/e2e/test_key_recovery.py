"""A G2A key lost in transit (it downloads once): nothing is bought again, the customer
hears when the refund would come, an owner enters the key recovered from G2A, or the
order is refunded when KEY_LOST_REFUND_HOURS run out."""

from __future__ import annotations

import pytest

from storage import AdminLog, OrderState
from tests.conftest import running_shop
from tests.e2e.flows import (
    OPERATOR,
    OWNER,
    admin_group,
    paid_order,
    reply_in,
    settled,
    wait_text,
)

S = OrderState


@pytest.fixture
def shop_env(shop_env):
    return shop_env | {"OWNER_IDS": str(OWNER)}


async def lose_a_key(tg, g2a, orders, user_id: int):
    """A purchase whose key G2A handed out while the answer never reached us."""
    g2a.fail_next("/v1/order/key/", "disconnect", after_commit=True)
    user = tg.user(user_id)
    mark = tg.mark()
    order_id = await paid_order(tg, user, "PC games", "Terraria")
    order = await settled(orders, order_id, S.KEY_LOST)
    [bought] = g2a.orders.values()
    return user, order, bought, mark


async def test_the_owner_enters_the_recovered_key_and_the_customer_gets_it(tg, g2a, shop, orders):
    admins = admin_group(tg)
    user, order, bought, mark = await lose_a_key(tg, g2a, orders, 2014)
    alert = await reply_in(tg, admins, mark, "lost in transit")
    assert order.id in alert and bought.order_id in alert and "/order" in alert
    assert "24 hours" in alert and bought.key not in alert  # the order, never a key
    told = await wait_text(tg, user, "is delayed", since=mark)
    assert "24 hours" in told and "come back automatically" in told
    assert order.vendor_order_id == bought.order_id and await orders.keys(order.id) == []
    assert g2a.orders_created == 1 and bought.pay_calls == 1  # nothing bought again
    assert not tg.calls_of("refundStarPayment")

    operator, owner = tg.user(OPERATOR), tg.user(OWNER)
    mark = await operator.send(f"/order {order.id}", chat=admins)
    await reply_in(tg, admins, mark, order.id)
    card = admins.last_message(with_keyboard=True)
    mark = await operator.press("🔑 Enter recovered key", message=card)
    refused = await tg.wait_for("answerCallbackQuery", since=mark)
    assert "owner" in refused.params["text"]  # keys are for owners

    mark = await owner.press("🔑 Enter recovered key", message=card)
    await reply_in(tg, admins, mark, "next message")
    mark = await owner.send("AAAAA-BBBBB\nCCCCC-DDDDD", chat=admins)  # one unit, two keys
    await reply_in(tg, admins, mark, "needs 1 key")
    assert (await orders.get(order.id)).state is S.KEY_LOST  # nothing stored

    mark = await owner.send(f"  {bought.key}  ", chat=admins)
    await reply_in(tg, admins, mark, "on its way to the customer")
    await wait_text(tg, user, bought.key)
    await settled(orders, order.id, S.DELIVERED)
    assert [key.value for key in await orders.keys(order.id)] == [bought.key]
    assert len(tg.deleted_user_messages) == 2  # both messages that held keys are gone
    assert not any(bought.key in text for text in admins.texts())  # the bot never repeats it
    [logged] = await AdminLog(orders._db).for_target(order.id)
    assert (logged.admin_id, logged.action) == (OWNER, "recover_key")
    assert bought.key not in (logged.details or "")
    assert g2a.orders_created == 1 and not tg.calls_of("refundStarPayment")

    mark = await owner.press("🔑 Enter recovered key", message=card)  # a stale card
    refused = await tg.wait_for("answerCallbackQuery", since=mark)
    assert "waits for no recovered key" in refused.params["text"]


async def test_a_key_nobody_recovers_is_refunded_when_its_wait_runs_out(
    tg, g2a, shop_env, orders, monkeypatch
):
    admins = admin_group(tg)
    async with running_shop(shop_env | {"KEY_LOST_REFUND_HOURS": "0.002"}, monkeypatch):
        await tg.wait_for("getUpdates")
        user, order, bought, mark = await lose_a_key(tg, g2a, orders, 2015)
        assert "1 hour," in await wait_text(tg, user, "is delayed", since=mark)
        mark = await tg.user(OWNER).send(f"/retry {order.id}", chat=admins)
        refused = await reply_in(tg, admins, mark, "Not possible")  # recover or refund
        assert "delayed" in refused

        refunded = await settled(orders, order.id, S.REFUNDED)  # 7.2 s after the loss
        assert refunded.failure_reason is not None and "key_lost" in refunded.failure_reason
        told = await wait_text(tg, user, "could not be recovered")
        assert "We refunded" in told
        alert = await reply_in(tg, admins, mark, "nobody entered")
        assert "refunded" in alert and bought.key not in alert
        assert len(tg.calls_of("refundStarPayment")) == 1 and g2a.orders_created == 1
