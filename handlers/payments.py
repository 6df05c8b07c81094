"""Telegram Stars: vet the pre-checkout query, then record the payment before anything else."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.types import Message, PreCheckoutQuery
from aiogram.utils.i18n import gettext as _

from bot.orders.checkout import Checkout, PaymentRefused
from bot.runtime.signals import Signals
from bot.texts import short_id
from handlers.filters import Is


def register(r: Router) -> None:
    """The payments handlers, on the customers' router."""
    r.pre_checkout_query.register(pre_checkout)
    r.message.register(paid, Is(F.successful_payment))


async def pre_checkout(query: PreCheckoutQuery, checkout: Checkout) -> None:
    try:
        await checkout.vet_payment(
            query.invoice_payload, query.from_user.id, query.currency, query.total_amount
        )
    except PaymentRefused as refusal:
        await query.answer(ok=False, error_message=str(refusal))
        return
    await query.answer(ok=True)


async def paid(message: Message, checkout: Checkout, signals: Signals) -> None:
    payment = message.successful_payment
    assert payment is not None and message.from_user is not None
    order = await checkout.record_payment(
        payment.invoice_payload,
        payment.telegram_payment_charge_id,
        message.from_user.id,
        payment.total_amount,
    )
    signals.wake_workers()
    if order is None:
        return  # a repeated update, or a stray payment the worker refunds
    await message.answer(
        _(
            "💫 Payment received for order #{id}. We are getting <b>{title}</b> for you; "
            "it will arrive in this chat in a moment."
        ).format(id=short_id(order), title=html.escape(order.title))
    )
