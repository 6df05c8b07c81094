"""A payment whose update never reached the bot is found in the Stars ledger."""

from __future__ import annotations

import pytest

from storage import OrderState
from tests.e2e.flows import invoice_for, paid_order, settled, wait_text


@pytest.fixture
def shop_env(shop_env):
    return {**shop_env, "HOUSEKEEPING_SECONDS": "0.3"}


async def test_a_lost_payment_update_is_recovered_and_delivered(tg, sim, shop, orders):
    user = tg.user(6001)
    invoice = await invoice_for(tg, user, "Gift cards", "Steam Wallet 5 USD")
    mark = tg.mark()
    answer = await user.checkout(invoice)
    assert answer.params["ok"] is True
    charge = await user.successful_payment(invoice, deliver=False)  # the update is lost

    await wait_text(tg, user, "Your key", since=mark)
    assert invoice.invoice is not None
    order = await settled(orders, invoice.invoice.payload, OrderState.DELIVERED)
    assert order.telegram_charge_id == charge and sim.orders_created == 1


async def test_the_ledger_never_counts_a_payment_twice(tg, sim, shop, orders):
    user = tg.user(6002)
    order_id = await paid_order(tg, user, "Sandbox", "Sandbox: always cancelled")  # paid, refunded
    await settled(orders, order_id, OrderState.REFUNDED)
    mark = tg.mark()
    for _ in range(2):  # two more full reads of the ledger, refund included
        await tg.wait_for("getStarTransactions", since=mark)
        mark = tg.mark()
    assert len(tg.calls_of("refundStarPayment")) == 1
    assert (await orders.get(order_id)).state is OrderState.REFUNDED
    assert sim.orders_created == 1
