"""Selling on G2A in storage: one order per G2A order, reservations G2A may repeat."""

from __future__ import annotations

import asyncio

import pytest

from storage import G2ARepo, OrderRepo, OrderState, ReservationState
from storage.credit import credit_balance
from storage.models import G2A, TELEGRAM


@pytest.fixture
def orders(repo):
    return repo


async def g2a_order(orders: OrderRepo, order_id: str, ref: str = "g2a-1"):
    return await orders.create(
        order_id=order_id,
        user_id=0,
        chat_id=0,
        sku="cs-source",
        title="Counter-Strike: Source",
        vendor="kinguin",
        vendor_offer_id="1949",
        price_stars=0,
        vendor_price=5.79,
        max_vendor_price=6.5,
        vendor_currency="EUR",
        delivers_key=True,
        customer_fields={},
        channel=G2A,
        external_ref=ref,
    )


async def test_a_g2a_order_is_paid_at_once_and_made_once(orders):
    first, second = await asyncio.gather(g2a_order(orders, "a1"), g2a_order(orders, "a2"))
    assert first.id == second.id  # G2A asking twice at once: one order stands
    assert first.state is OrderState.PAID and first.channel == G2A
    assert first.telegram_charge_id is None
    again = await g2a_order(orders, "a3")
    assert again.id == first.id
    assert await orders.by_external_ref(G2A, "g2a-1") == again
    assert await orders.by_external_ref(TELEGRAM, "g2a-1") is None
    other = await g2a_order(orders, "b1", ref="g2a-2")
    assert other.id == "b1"
    events = await orders.events(first.id)
    assert [(e[1], e[2]) for e in events] == [("paid", "paid on g2a")]
    async with orders._db.transaction() as tx:
        assert await credit_balance(tx, 0) == 0  # no credit touched for a G2A buyer


async def test_reservations_repeat_renew_and_confirm_once(db):
    repo = G2ARepo(db)
    args = ("g2a-1", "100", "cs-source", 2, 5.79, "EUR", 9.99, 1800.0)
    first = await repo.reserve("r1", *args)
    again = await repo.reserve("r2", *args)  # G2A repeats its reservation
    assert again.id == "r1" and again.state is ReservationState.RESERVED
    assert await repo.expire_due(now=first.expires_at + 1) == 1
    renewed = await repo.reserve("r3", *args)
    assert renewed.id == "r1" and renewed.state is ReservationState.RESERVED
    assert renewed.expires_at >= first.expires_at
    confirmed = await repo.confirmed("r1", "order-1")
    assert confirmed is not None and confirmed.order_id == "order-1"
    assert await repo.confirmed("r1", "order-1") is not None  # repeating changes nothing
    assert await repo.confirmed("r1", "order-2") is None  # never another order
    assert await repo.expire_due(now=renewed.expires_at + 1) == 0  # confirmed stays
    assert await repo.confirmed("unknown", "order-1") is None
    late = await repo.reserve("r4", "g2a-2", "100", "cs-source", 1, 5.79, "EUR", 9.99, 1800.0)
    await repo.expire_due(now=late.expires_at + 1)  # its order was made just before a crash
    assert (await repo.reservation("r4")).lapsed(late.expires_at + 1)
    after = await repo.confirmed("r4", "order-9")
    assert after is not None and after.state is ReservationState.CONFIRMED


async def test_takings_count_what_g2a_pays_once_it_is_known(db, orders):
    repo = G2ARepo(db)
    delivered = (OrderState.PAID,)  # the orders made here stay paid
    for n, (quantity, payout) in enumerate([(2, 8.79), (1, None), (3, 8.5)]):
        order = await g2a_order(orders, f"o{n}", ref=f"g2a-{n}")
        await repo.reserve(f"r{n}", f"g2a-{n}", "100", "cs-source", quantity, 5.79, "EUR", 9.99, 60)
        await repo.confirmed(f"r{n}", order.id)
        if payout is not None:
            await repo.record_payout(f"r{n}", payout)
    await repo.record_payout("r0", 1.0)  # the first payout told stands
    assert [r.id for r in await repo.without_payout()] == ["r1"]
    takings = await repo.takings(0, delivered)
    assert (takings.units, takings.payout_unknown) == (6, 1)
    assert takings.amount == pytest.approx(6 * 9.99)
    assert takings.payout == pytest.approx(2 * 8.79 + 3 * 8.5)
    assert (await repo.reservation("r0")).payout == 8.79
