"""Telegram Stars: vet the pre-checkout query, then record the payment before anything else."""

from __future__ import annotations

import html
import logging

from aiogram import F, Router
from aiogram.types import Message, PreCheckoutQuery
from aiogram.utils.i18n import gettext as _

from bot.checkout import Checkout, PaymentRefused
from bot.fulfillment import Fulfillment
from bot.notify import Notifier
from bot.texts import short_id
from storage.orders import TransitionError

log = logging.getLogger(__name__)


def router() -> Router:
    r = Router(name="payments")
    r.pre_checkout_query.register(pre_checkout)
    r.message.register(paid, F.successful_payment)
    return r


async def pre_checkout(query: PreCheckoutQuery, checkout: Checkout) -> None:
    try:
        await checkout.vet_payment(
            query.invoice_payload, query.from_user.id, query.currency, query.total_amount
        )
    except PaymentRefused as refusal:
        await query.answer(ok=False, error_message=str(refusal))
        return
    await query.answer(ok=True)


async def paid(
    message: Message, checkout: Checkout, fulfillment: Fulfillment, notifier: Notifier
) -> None:
    payment = message.successful_payment
    assert payment is not None
    try:
        order = await checkout.record_payment(
            payment.invoice_payload, payment.telegram_payment_charge_id
        )
    except TransitionError:
        # Telegram took Stars for an order we cannot fulfil (e.g. paid twice): give them back.
        log.error("payment for unknown or settled order %s: refunding", payment.invoice_payload)
        assert message.from_user is not None and message.bot is not None
        await message.bot.refund_star_payment(
            message.from_user.id, payment.telegram_payment_charge_id
        )
        await notifier.alert_admins(
            f"Payment of {payment.total_amount} Stars for order {payment.invoice_payload}"
            " could not be matched to an open order and was refunded."
        )
        await message.answer(_("This payment did not match an open order and was refunded."))
        return
    if order is None:
        return  # a repeated update for a payment we already recorded
    fulfillment.wake()
    await message.answer(
        _("💫 Payment received for order #{id}. We are getting <b>{title}</b> for you; "
          "it will arrive in this chat in a moment.").format(
            id=short_id(order), title=html.escape(order.title))
    )
