"""Create slots: one create per product whose outcome is unknown, freed by the holder's
state alone (no release call a crash could skip)."""

from __future__ import annotations

import asyncio

import pytest

from storage import CreateSlotRepo, OrderRepo, OrderState
from tests.storage.test_orders import new_order

S = OrderState
VENDOR = "kinguin-integration"


@pytest.fixture
def slots(db):
    return CreateSlotRepo(db)


async def paid(repo: OrderRepo, order_id: str) -> None:
    await new_order(repo, order_id)
    await repo.record_payment(order_id, f"charge-{order_id}")


async def test_a_slot_is_held_while_the_holders_create_is_unknown(repo, slots):
    await paid(repo, "a")
    await paid(repo, "b")
    assert await slots.take(VENDOR, "18", "a") is None
    assert await slots.take(VENDOR, "18", "a") is None  # the holder takes it again
    assert await slots.take(VENDOR, "18", "b") == "a"  # paid, about to create
    assert await slots.take(VENDOR, "19", "b") is None  # another product: free
    await repo.transition("a", S.PLACING)
    assert await slots.take(VENDOR, "18", "b") == "a"  # created, no answer yet
    assert await slots.take("kinguin", "18", "b") is None  # another vendor's product


async def test_a_slot_is_free_once_the_vendor_order_is_known(repo, slots):
    await paid(repo, "a")
    await paid(repo, "b")
    await slots.take(VENDOR, "18", "a")
    await repo.transition("a", S.PLACING)
    await repo.remember_vendor_order("a", "v-1")  # remembered mid-way (still placing)
    assert await slots.take(VENDOR, "18", "b") is None
    assert await slots.take(VENDOR, "18", "a") == "b"


@pytest.mark.parametrize("leaves_by", ["processing", "refunding"])
async def test_a_slot_is_free_once_the_holder_leaves_placement(repo, slots, leaves_by):
    await paid(repo, "a")
    await paid(repo, "b")
    await slots.take(VENDOR, "18", "a")
    await repo.transition("a", S.PLACING)
    if leaves_by == "processing":
        await repo.transition("a", S.PROCESSING, vendor_order_id="v-1")
    else:  # the vendor refused: nothing was created
        await repo.transition("a", S.REFUNDING, failure_reason="refused")
    assert await slots.take(VENDOR, "18", "b") is None


async def test_a_slot_whose_holder_is_gone_is_free(repo, slots):
    await paid(repo, "b")
    assert await slots.take(VENDOR, "18", "no-such-order") is None
    assert await slots.take(VENDOR, "18", "b") is None


async def test_of_many_at_once_one_takes_the_slot(repo, slots):
    ids = [f"o{i}" for i in range(8)]
    for order_id in ids:
        await paid(repo, order_id)
    held = await asyncio.gather(*(slots.take(VENDOR, "18", order_id) for order_id in ids))
    winners = [order_id for order_id, holder in zip(ids, held, strict=True) if holder is None]
    assert len(winners) == 1
    assert all(holder == winners[0] for holder in held if holder is not None)
