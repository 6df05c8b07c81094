"""Crashes: `python -m bot` is killed with SIGKILL mid-order and started again.

The key still arrives exactly once, and the vendor is never paid twice.
"""

from __future__ import annotations

import asyncio
import signal

from storage import OrderState
from tests.e2e.flows import eventually, messages_with, paid_order, settled, started, wait_text
from vendors.simulators.codegames import CodeGamesSimulator


async def test_killed_while_the_vendor_processes(tg, sim: CodeGamesSimulator, bot_process, orders):
    sim.set_outcome(3001, "COMPLETED", processing_seconds=3600)  # stays PROCESSING
    await started(tg, bot_process)
    user = tg.user(2001)
    order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 5 USD")
    await eventually(lambda: sum(p.endswith("order-status") for p, _ in sim.requests) >= 1)
    assert await bot_process.stop(signal.SIGKILL) == -signal.SIGKILL

    vendor_order = sim.order_by_transaction(order_id)
    assert vendor_order is not None and vendor_order.key is not None
    sim.force_status(vendor_order.order_id, "COMPLETED")
    await started(tg, bot_process)
    await wait_text(tg, user, vendor_order.key)
    await settled(orders, order_id, OrderState.DELIVERED)
    await asyncio.sleep(1.0)  # a few more worker rounds: nothing is sent again
    assert messages_with(tg, user, vendor_order.key) == 1
    assert sim.orders_created == 1
    await bot_process.stop(signal.SIGTERM)
    assert "Traceback" not in bot_process.output()


async def test_killed_while_placing_asks_the_vendor_before_buying(
    tg, sim: CodeGamesSimulator, bot_process, orders
):
    """The vendor took the order but its answer never came: after the restart the same
    transactionId is sent again, the vendor returns the order it has, nothing is bought twice."""
    sim.set_outcome(3002, "COMPLETED", processing_seconds=0)
    sim.fail_next("create-order", "timeout", after_commit=True)
    await started(tg, bot_process)
    user = tg.user(2002)
    order_id = await paid_order(tg, user, "Gift cards", "Steam Wallet 10 USD")
    await eventually(lambda: sim.order_by_transaction(order_id) is not None)
    assert (await orders.get(order_id)).state is OrderState.PLACING
    await bot_process.stop(signal.SIGKILL)

    await started(tg, bot_process)
    vendor_order = sim.order_by_transaction(order_id)
    assert vendor_order is not None and vendor_order.key is not None
    await wait_text(tg, user, vendor_order.key, since=0)
    await settled(orders, order_id, OrderState.DELIVERED)
    assert sim.orders_created == 1 and vendor_order.create_calls == 2
    assert messages_with(tg, user, vendor_order.key) == 1
