"""Order steps: from a paid order to a delivered key (or the Stars refunded).

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

import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import lazy_gettext as __

from bot.notify import Notifier
from bot.texts import lazy_state_label
from storage.models import Order, OrderState
from storage.orders import OrderRepo, TransitionError
from storage.payments import StrayPayment, StrayPaymentRepo
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
    """The steps that move one order (or one stray payment) forward; `bot.worker` runs them."""

    def __init__(
        self,
        bot: Bot,
        orders: OrderRepo,
        strays: StrayPaymentRepo,
        vendors: Mapping[str, Vendor],
        notifier: Notifier,
        *,
        poll_min: float,
        poll_max: float,
        stuck_after: float,
    ) -> None:
        self._bot = bot
        self._orders = orders
        self._strays = strays
        self._vendors = vendors
        self._notifier = notifier
        self._poll_min = poll_min
        self._poll_max = poll_max
        self._stuck_after = stuck_after

    async def guarded_step(self, order: Order) -> None:
        """One step; whatever goes wrong is logged and the order retried later."""
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
            await self._place(order, resumed=False)
        elif order.state is S.PLACING:
            await self._place(order, resumed=True)
        elif order.state is S.PROCESSING:
            await self._poll(order)
        elif order.state is S.FULFILLED:
            await self._deliver(order)
        elif order.state is S.REFUNDING:
            await self._refund(order)

    async def _place(self, order: Order, *, resumed: bool) -> None:
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
            if resumed:  # an earlier attempt's answer was lost: it may have gone through
                await self._notifier.alert_admins(
                    __(
                        "Order {id}: {vendor} refused a repeated order ({code}) after an earlier"
                        " attempt's answer was lost. The customer is refunded; check the vendor"
                        " for reference {id}."
                    ),
                    id=order.id,
                    vendor=order.vendor,
                    code=code,
                )
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
            await self._retry(order, None)

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
        refused = await self._refund_charge(order.user_id, order.telegram_charge_id)
        if refused:
            await self._orders.transition(order.id, S.FAILED, note=f"refund: {refused}")
            await self._notifier.alert_admins(
                __("Order {id}: the refund of {stars} Stars failed ({reason}). Refund it by hand."),
                id=order.id,
                stars=order.price_stars,
                reason=refused,
            )
            return
        # told before it is recorded: a crash in between repeats the (harmless) message
        with contextlib.suppress(TelegramForbiddenError):
            await self._notifier.refunded(order)
        await self._orders.transition(order.id, S.REFUNDED, note="stars refunded")
        log.info("order %s refunded (%s)", order.id, order.failure_reason)

    async def refund_stray(self, payment: StrayPayment) -> None:
        """Give back Stars that matched no open order (e.g. an invoice paid twice)."""
        try:
            refused = await self._refund_charge(payment.user_id, payment.charge_id)
            if not refused:  # told before it is recorded, as everywhere
                with contextlib.suppress(TelegramForbiddenError):
                    await self._notifier.stray_refunded(payment.user_id)
        except Exception:
            log.exception("stray payment %s: refund failed, will retry", payment.charge_id)
            await self._strays.retry_later(payment.charge_id, self._backoff(payment.attempts))
            return
        await self._strays.settle(payment.charge_id, refused or "refunded")
        if refused:
            template = __(
                "A payment of {stars} Stars for order {id} matched no open order and"
                " its refund failed ({reason}). Refund it by hand."
            )
        else:
            template = __(
                "A payment of {stars} Stars for order {id} matched no open order and was refunded."
            )
        await self._notifier.alert_admins(
            template, stars=payment.amount, id=payment.invoice_payload, reason=refused
        )

    async def _refund_charge(self, user_id: int, charge_id: str) -> str | None:
        """Refund a Stars charge; None when done (now or before), else Telegram's refusal."""
        try:
            await self._bot.refund_star_payment(user_id, charge_id)
        except TelegramBadRequest as exc:
            return None if _ALREADY_REFUNDED in exc.message else exc.message
        return None

    async def _vendor_trouble(self, order: Order, exc: VendorError) -> None:
        log.warning("order %s: %s", order.id, exc)
        if isinstance(exc, VendorAuthError) and not order.alerted:
            await self._notifier.alert_admins(
                __(
                    "Vendor {vendor} refused our credentials ({error}). Orders wait until the"
                    " API key is fixed."
                ),
                vendor=order.vendor,
                error=str(exc),
            )
            await self._orders.reschedule(order.id, due_in=60.0, note=str(exc), alerted=True)
            return
        await self._retry(order, str(exc))

    async def _retry(self, order: Order, reason: str | None) -> None:
        alerted = await self._alert_if_stuck(order, reason)
        await self._orders.reschedule(
            order.id, due_in=self._backoff(order.attempts), note=reason, alerted=alerted
        )

    async def _alert_if_stuck(self, order: Order, reason: str | None) -> bool:
        """Tell the admins once when an order has made no progress for too long."""
        age = time.time() - order.updated_at
        if age <= self._stuck_after or order.alerted:
            return False
        await self._notifier.alert_admins(
            __("Order {id} ({vendor}) has been {state} for {minutes} min; last problem: {reason}."),
            id=order.id,
            vendor=order.vendor,
            state=lazy_state_label(order.state),
            minutes=round(age / 60),
            reason=reason or order.failure_reason or "-",
        )
        return True

    def _backoff(self, attempts: int) -> float:
        return float(min(self._poll_max, self._poll_min * 1.5**attempts))

    def _vendor(self, order: Order) -> Vendor:
        return self._vendors[order.vendor]
