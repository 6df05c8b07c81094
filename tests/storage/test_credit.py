"""Shop credit: every move is a ledger row written with the order transition it belongs to."""

from __future__ import annotations

import pytest

from storage import CreditRepo, Key, OrderRepo, OrderState
from tests.support.factories import offer

S = OrderState
USER = 7


@pytest.fixture
def credit(db):
    return CreditRepo(db)


async def order(repo: OrderRepo, order_id: str, stars: int, quantity: int = 1):
    steam = offer()
    return await repo.create(
        order_id=order_id,
        user_id=USER,
        chat_id=USER,
        sku=steam.sku,
        title=steam.title,
        vendor=steam.vendor,
        vendor_offer_id=steam.vendor_offer_id,
        price_stars=stars,
        vendor_price=1.0,
        max_vendor_price=2.0,
        vendor_currency="EUR",
        delivers_key=True,
        customer_fields={},
        quantity=quantity,
    )


async def deliver_partially(repo: OrderRepo, order_id: str, delivered: int) -> None:
    await repo.record_payment(order_id, f"charge-{order_id}")
    await repo.transition(order_id, S.PLACING)
    keys = [Key(kind="text", value=f"K{n}") for n in range(delivered)]
    await repo.transition(
        order_id, S.FULFILLED, keys=keys, vendor_order_id="v", delivered_units=delivered
    )


async def test_missing_units_become_credit_once(repo, credit):
    await order(repo, "a", stars=300, quantity=3)
    await deliver_partially(repo, "a", delivered=1)
    assert await credit.balance(USER) == 200
    [entry] = await credit.entries(USER)
    assert (entry.delta, entry.reason, entry.order_id) == (200, "partial", "a")


async def test_credit_pays_first_and_comes_back_on_cancel_or_refund(repo, credit):
    await order(repo, "a", stars=300, quantity=3)
    await deliver_partially(repo, "a", delivered=1)

    partly = await order(repo, "b", stars=250)  # 200 from credit, 50 by invoice
    assert (partly.state, partly.credit_stars, partly.charged_stars) == (
        S.AWAITING_PAYMENT,
        200,
        50,
    )
    assert await credit.balance(USER) == 0
    await repo.transition("b", S.CANCELLED, note="customer")
    assert await credit.balance(USER) == 200  # the unpaid invoice's credit is back

    whole = await order(repo, "c", stars=150)  # credit covers it: paid, no invoice
    assert (whole.state, whole.credit_stars, whole.charged_stars) == (S.PAID, 150, 0)
    assert await credit.balance(USER) == 50
    await repo.transition("c", S.REFUNDING)
    await repo.transition("c", S.REFUNDED)
    assert await credit.balance(USER) == 200  # a credit-paid refund goes back to credit
    reasons = [e.reason for e in reversed(await credit.entries(USER, limit=10))]
    assert reasons == ["partial", "spent", "returned", "spent", "refund"]


async def test_a_payment_that_honours_a_cancelled_order_spends_its_credit_again(repo, credit):
    await order(repo, "a", stars=200, quantity=2)
    await deliver_partially(repo, "a", delivered=1)  # 100 credit
    await order(repo, "b", stars=150)  # 100 credit + 50 Stars
    await repo.transition("b", S.CANCELLED, note="invoice expired")
    assert await credit.balance(USER) == 100
    await repo.record_payment("b", "late-charge")  # the customer paid the old invoice anyway
    assert await credit.balance(USER) == 0


async def test_refunding_a_partly_delivered_order_takes_its_missing_units_credit_back(repo, credit):
    await order(repo, "a", stars=300, quantity=3)
    await deliver_partially(repo, "a", delivered=1)  # 200 of credit for the two missing
    await repo.transition("a", S.DELIVERED)
    await repo.transition("a", S.REFUNDING)  # an owner refunds it: the whole charge back
    await repo.transition("a", S.REFUNDED)
    assert await credit.balance(USER) == 0
    assert [(e.delta, e.reason) for e in await credit.entries(USER)] == [
        (-200, "refund"),
        (200, "partial"),
    ]


async def test_credit_taken_back_never_below_what_is_left(repo, credit):
    await order(repo, "a", stars=300, quantity=3)
    await deliver_partially(repo, "a", delivered=1)
    await order(repo, "b", stars=150)  # spends 150 of the 200 right away
    await repo.transition("a", S.DELIVERED)
    await repo.transition("a", S.REFUNDING)
    await repo.transition("a", S.REFUNDED)
    assert await credit.balance(USER) == 0  # 50 taken back, not 200
