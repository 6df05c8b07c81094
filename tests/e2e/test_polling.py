"""How often the worker asks a vendor about an order: often while it is fresh, seldom once
it has waited long (fresh orders keep the vendor's rate limit)."""

from __future__ import annotations

import asyncio
import time

from storage import OrderState
from tests.conftest import open_shop_database
from tests.e2e.flows import eventually, paid_order, settled

HOUR = 3600.0


async def test_an_order_long_at_the_vendor_is_asked_about_seldom(tg, sim, shop, shop_env, orders):
    sim.set_outcome(3001, "COMPLETED", processing_seconds=HOUR)
    order_id = await paid_order(tg, tg.user(5101), "Gift cards", "Steam Wallet 5 USD")
    await settled(orders, order_id, OrderState.PROCESSING)
    db = await open_shop_database(shop_env)
    try:
        due_in = "SELECT next_attempt_at FROM orders WHERE id = ?"
        assert (await db.fetchone(due_in, (order_id,)))[0] - time.time() <= 1.0  # POLL_MAX 0.5
        # as if it had gone to the vendor an hour ago: the next poll is 5 min away (a
        # tenth of the wait, capped by POLL_SLOW_MAX_SECONDS), not half a second
        moved = "UPDATE orders SET updated_at = updated_at - ? WHERE id = ?"
        await db.execute(moved, (HOUR, order_id))

        async def rescheduled() -> float | None:
            (at,) = await db.fetchone(due_in, (order_id,))
            return at - time.time() if at - time.time() > 60 else None

        assert 250 < await eventually(rescheduled) <= 300
        polls = sum(path.endswith("order-status") for path, _ in sim.requests)
        await asyncio.sleep(1.5)  # three polls' time at POLL_MAX_SECONDS 0.5
    finally:
        await db.close()
    assert sum(path.endswith("order-status") for path, _ in sim.requests) == polls
