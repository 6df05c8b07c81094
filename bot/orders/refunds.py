"""Giving Stars back: a failed order's charge (and its credit), or a payment that matched no
open order. The customer is told before the refund is recorded, so a crash in between
repeats the message, never loses it."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import lazy_gettext as __

from bot.orders.notify import Notifier
from storage.models import Order, OrderState
from storage.orders import OrderRepo
from storage.payments import StrayPayment, StrayPaymentRepo

log = logging.getLogger(__name__)
_ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


class Refunds:
    def __init__(
        self, bot: Bot, orders: OrderRepo, strays: StrayPaymentRepo, notifier: Notifier
    ) -> None:
        self._bot = bot
        self._orders = orders
        self._strays = strays
        self._notifier = notifier

    async def refund_order(self, order: Order) -> None:
        """A `refunding` order: the Telegram charge back to the customer; the credit it
        used returns to their shop credit with the `refunded` transition."""
        refused = None
        if order.telegram_charge_id is not None:
            refused = await self._refund_charge(order.user_id, order.telegram_charge_id)
        if refused:
            await self._orders.transition(order.id, OrderState.FAILED, note=f"refund: {refused}")
            await self._notifier.alert_admins(
                __("Order {id}: the refund of {stars} Stars failed ({reason}). Refund it by hand."),
                order_id=order.id,
                id=order.id,
                stars=order.charged_stars,
                reason=refused,
            )
            return
        with contextlib.suppress(TelegramForbiddenError):
            await self._notifier.refunded(order)
        await self._orders.transition(order.id, OrderState.REFUNDED, note="refunded")
        log.info("order %s refunded (%s)", order.id, order.failure_reason)

    async def refund_stray(self, payment: StrayPayment, retry_in: float) -> None:
        """Give back Stars that matched no open order (e.g. an invoice paid twice)."""
        try:
            refused = await self._refund_charge(payment.user_id, payment.charge_id)
            if not refused:
                with contextlib.suppress(TelegramForbiddenError):
                    await self._notifier.stray_refunded(payment.user_id)
        except Exception:
            log.exception("stray payment %s: refund failed, will retry", payment.charge_id)
            await self._strays.retry_later(payment.charge_id, retry_in)
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
            template,
            order_id=payment.invoice_payload,
            stars=payment.amount,
            id=payment.invoice_payload,
            reason=refused,
        )

    async def _refund_charge(self, user_id: int, charge_id: str) -> str | None:
        """Refund a Stars charge; None when done (now or before), else Telegram's refusal."""
        try:
            await self._bot.refund_star_payment(user_id, charge_id)
        except TelegramBadRequest as exc:
            return None if _ALREADY_REFUNDED in exc.message else exc.message
        return None
