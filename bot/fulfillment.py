"""The background worker: from a paid order to a delivered key (or the Stars refunded).

Each step starts from the order's stored state, so a restart after a crash at any line
resumes where the last committed transition left it:

    paid ─► placing ─► processing ─► fulfilled ─► delivered
                 │            │
                 └────────────┴─► refunding ─► refunded (or failed: a human looks)

`placing` is written before the vendor is called. Finding an order in `placing` means an
answer may have been lost, so the retry sends the same reference (the vendor's
idempotency key) and learns what already happened instead of buying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from bot.notify import Notifier
from storage.models import Order, OrderState
from storage.orders import OrderRepo, TransitionError
from vendors.base import (
    OfferNotFound,
    OrderRejected,
    PlaceOrder,
    Vendor,
    VendorAuthError,
    VendorError,
    VendorOrder,
    VendorOrderStatus,
)

log = logging.getLogger(__name__)
S = OrderState
_ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


class Fulfillment:
    def __init__(
        self,
        bot: Bot,
        orders: OrderRepo,
        vendors: Mapping[str, Vendor],
        notifier: Notifier,
        *,
        poll_min: float,
        poll_max: float,
        idle: float,
        stuck_after: float,
        invoice_ttl: float,
        lease_seconds: float = 60.0,
        concurrency: int = 16,
    ) -> None:
        self._bot = bot
        self._orders = orders
        self._vendors = vendors
        self._notifier = notifier
        self._poll_min = poll_min
        self._poll_max = poll_max
        self._idle = idle
        self._stuck_after = stuck_after
        self._invoice_ttl = invoice_ttl
        self._lease = lease_seconds
        self._concurrency = concurrency
        self._owner = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something became due now (a payment arrived): skip the idle wait."""
        self._wake.set()

    async def run(self) -> None:
        log.info("fulfillment worker %s started", self._owner)
        next_housekeeping = 0.0
        while True:
            try:
                if time.monotonic() >= next_housekeeping:
                    await self._orders.cancel_stale_unpaid(self._invoice_ttl)
                    next_housekeeping = time.monotonic() + 60
                busy = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker must outlive any one bad order or database blip
                log.exception("fulfillment round failed")
                busy = False
            if not busy:
                await self._sleep()

    async def run_due(self) -> bool:
        """Run every step that is due now; True if there was any."""
        claimed = await self._orders.claim_due(
            self._owner, lease_seconds=self._lease, limit=self._concurrency
        )
        if claimed:
            await asyncio.gather(*(self._guarded(order) for order in claimed))
        return bool(claimed)

    async def _sleep(self) -> None:
        self._wake.clear()
        due = await self._orders.next_due_at()
        delay = self._idle if due is None else min(self._idle, max(0.0, due - time.time()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _guarded(self, order: Order) -> None:
        try:
            await self.step(order)
        except TransitionError as exc:
            log.info("order %s moved elsewhere: %s", order.id, exc)
        except Exception as exc:
            log.exception("order %s: step in %s failed", order.id, order.state)
            await self._retry(order, f"{type(exc).__name__}: {exc}")

    async def step(self, order: Order) -> None:
        if order.state is S.PAID:
            order = await self._orders.transition(order.id, S.PLACING, keep_lease=True)
        if order.state is S.PLACING:
            await self._place(order)
        elif order.state is S.PROCESSING:
            await self._poll(order)
        elif order.state is S.FULFILLED:
            await self._deliver(order)
        elif order.state is S.REFUNDING:
            await self._refund(order)

    async def _place(self, order: Order) -> None:
        request = PlaceOrder(
            reference=order.id,
            offer_id=order.vendor_offer_id,
            price=order.vendor_price,
            customer_fields=order.customer_fields,
        )
        try:
            placed = await self._vendor(order).place_order(request)
        except (OrderRejected, OfferNotFound) as exc:
            code = getattr(exc, "code", None) or type(exc).__name__
            await self._start_refund(order, f"vendor refused: {code}")
            return
        except VendorError as exc:
            await self._vendor_trouble(order, exc)
            return
        await self._advance(order, placed)

    async def _poll(self, order: Order) -> None:
        assert order.vendor_order_id is not None
        try:
            status = await self._vendor(order).order_status(order.vendor_order_id)
        except VendorError as exc:
            await self._vendor_trouble(order, exc)
            return
        await self._advance(order, status)

    async def _advance(self, order: Order, vendor_order: VendorOrder) -> None:
        """Act on what the vendor says about an order we placed."""
        if vendor_order.status is VendorOrderStatus.CANCELED:
            await self._start_refund(order, "vendor cancelled the order", vendor_order.order_id)
        elif vendor_order.status is VendorOrderStatus.PROCESSING:
            await self._wait_for_vendor(order, vendor_order.order_id)
        else:
            await self._complete(order, vendor_order)

    async def _complete(self, order: Order, vendor_order: VendorOrder) -> None:
        keys = vendor_order.keys
        if order.delivers_key and not keys:
            try:
                keys = await self._vendor(order).fetch_keys(vendor_order.order_id)
            except VendorError as exc:
                if order.state is S.PLACING:  # remember the vendor order before retrying
                    await self._orders.transition(
                        order.id, S.PROCESSING, vendor_order_id=vendor_order.order_id
                    )
                    return
                await self._vendor_trouble(order, exc)
                return
        # the key is committed with the state; only then is it shown to anyone
        order = await self._orders.transition(
            order.id,
            S.FULFILLED,
            keep_lease=True,
            keys=keys if order.delivers_key else (),
            vendor_order_id=vendor_order.order_id,
        )
        await self._deliver(order)

    async def _wait_for_vendor(self, order: Order, vendor_order_id: str) -> None:
        if order.state is S.PLACING:
            await self._orders.transition(
                order.id, S.PROCESSING, due_in=self._poll_min, vendor_order_id=vendor_order_id
            )
        else:
            await self._orders.reschedule(order.id, due_in=self._backoff(order.attempts))
            await self._maybe_stuck(order)

    async def _deliver(self, order: Order) -> None:
        try:
            if order.delivers_key:
                await self._notifier.send_keys(order, await self._orders.keys(order.id))
            else:
                await self._notifier.topped_up(order)
        except TelegramForbiddenError:
            log.info("order %s: customer blocked the bot; the key waits in /orders", order.id)
        await self._orders.transition(order.id, S.DELIVERED)
        log.info("order %s delivered", order.id)

    async def _start_refund(
        self, order: Order, reason: str, vendor_order_id: str | None = None
    ) -> None:
        extra: dict[str, Any] = {"vendor_order_id": vendor_order_id} if vendor_order_id else {}
        order = await self._orders.transition(
            order.id, S.REFUNDING, keep_lease=True, failure_reason=reason, note=reason, **extra
        )
        await self._refund(order)

    async def _refund(self, order: Order) -> None:
        assert order.telegram_charge_id is not None
        try:
            await self._bot.refund_star_payment(order.user_id, order.telegram_charge_id)
        except TelegramBadRequest as exc:
            if _ALREADY_REFUNDED not in exc.message:
                await self._orders.transition(order.id, S.FAILED, note=f"refund: {exc.message}")
                await self._notifier.alert_admins(
                    f"Order {order.id}: refund of {order.price_stars} Stars failed"
                    f" ({exc.message}). Refund it by hand."
                )
                return
        await self._orders.transition(order.id, S.REFUNDED, note="stars refunded")
        log.info("order %s refunded (%s)", order.id, order.failure_reason)
        with contextlib.suppress(TelegramForbiddenError):
            await self._notifier.refunded(order)

    async def _vendor_trouble(self, order: Order, exc: VendorError) -> None:
        log.warning("order %s: %s", order.id, exc)
        if isinstance(exc, VendorAuthError) and not order.alerted:
            await self._notifier.alert_admins(
                f"Vendor {order.vendor} refused our credentials ({exc}). Orders wait until"
                " the API key is fixed."
            )
            await self._orders.reschedule(order.id, due_in=60.0, note=str(exc), alerted=True)
            return
        await self._retry(order, str(exc))

    async def _retry(self, order: Order, reason: str) -> None:
        await self._orders.reschedule(order.id, due_in=self._backoff(order.attempts), note=reason)
        await self._maybe_stuck(order)

    async def _maybe_stuck(self, order: Order) -> None:
        age = time.time() - order.updated_at
        if age > self._stuck_after and not order.alerted:
            await self._notifier.alert_admins(
                f"Order {order.id} ({order.vendor}) has been {order.state} for"
                f" {age / 60:.0f} min; last problem: {order.failure_reason or 'none'}."
            )
            await self._orders.reschedule(
                order.id, due_in=self._backoff(order.attempts), alerted=True
            )

    def _backoff(self, attempts: int) -> float:
        return float(min(self._poll_max, self._poll_min * 1.5**attempts))

    def _vendor(self, order: Order) -> Vendor:
        return self._vendors[order.vendor]
