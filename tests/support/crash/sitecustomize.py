"""Crash injection for `python -m bot`, loaded through PYTHONPATH by the crash tests.

STOREFRONT_CRASH_AFTER=<state> kills the process with SIGKILL right after the order
transition into <state> is committed; `before:paid` kills it just before a payment is
recorded (after Telegram has handed over the update); `remembered` kills it right after a
vendor order id is stored mid-placement (G2A: created, not paid); `key-message` kills it
right after the message with the keys went out, before `delivered` is recorded. Nothing
else is changed.
"""

from __future__ import annotations

import os
import signal
from typing import Any

TARGET = os.environ.get("STOREFRONT_CRASH_AFTER")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if TARGET:
    from storage.orders import OrderRepo

    _transition = OrderRepo.transition
    _record_payment = OrderRepo.record_payment

    async def transition(self: OrderRepo, order_id: str, to: Any, **kwargs: Any) -> Any:
        order = await _transition(self, order_id, to, **kwargs)
        if to == TARGET:
            _die()
        return order

    async def record_payment(self: OrderRepo, order_id: str, charge_id: str) -> Any:
        if TARGET == "before:paid":
            _die()
        order = await _record_payment(self, order_id, charge_id)
        if TARGET == "paid":
            _die()
        return order

    _remember = OrderRepo.remember_vendor_order

    async def remember_vendor_order(self: OrderRepo, order_id: str, vendor_order_id: str) -> Any:
        await _remember(self, order_id, vendor_order_id)
        if TARGET == "remembered":  # a vendor order exists, not paid yet (G2A)
            _die()

    OrderRepo.remember_vendor_order = remember_vendor_order  # type: ignore[method-assign]
    OrderRepo.transition = transition  # type: ignore[method-assign]
    OrderRepo.record_payment = record_payment  # type: ignore[method-assign]

    if TARGET == "key-message":
        from bot.orders.notify import Notifier

        _send_keys = Notifier.send_keys

        async def send_keys(self: Notifier, order: Any, keys: Any) -> None:
            await _send_keys(self, order, keys)
            _die()

        Notifier.send_keys = send_keys  # type: ignore[method-assign]
