"""/paysupport and /terms: what Telegram requires of a bot that sells for Stars. The shop
owner may set their own texts (PAYSUPPORT_TEXT, TERMS_TEXT); otherwise these defaults."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings


def register(r: Router) -> None:
    """The policies handlers, on the customers' router."""
    r.message.register(paysupport, Command("paysupport"))
    r.message.register(terms, Command("terms"))


async def _answer(message: Message, own: str | None, default: str) -> None:
    """The owner's text, shown as written, or the built-in one in the customer's language."""
    await message.answer(html.escape(own) if own else default)


async def paysupport(message: Message, settings: Settings) -> None:
    await _answer(
        message,
        settings.paysupport_text,
        _(
            "💬 Help with a payment\n"
            "If an order did not arrive or you were charged by mistake, write here with the"
            " order number from /orders. Orders the supplier cannot complete are refunded"
            " automatically to your Telegram balance; units a supplier could not deliver go"
            " to your shop credit. Refunds of Telegram Stars are made with Telegram's refund"
            " function, usually within a day of your request."
        ),
    )


async def terms(message: Message, settings: Settings) -> None:
    await _answer(
        message,
        settings.terms_text,
        _(
            "📄 Terms of sale\n"
            "• You buy digital goods (keys, gift cards, top-ups) paid in Telegram Stars.\n"
            "• A key is delivered in this chat as soon as the supplier hands it over and"
            " stays available in /orders.\n"
            "• An order the supplier cannot complete is refunded in full; a partial delivery"
            " turns the missing units into shop credit for your next purchase.\n"
            "• Delivered keys cannot be returned: check the product's region and platform"
            " before buying.\n"
            "• Questions about a payment: /paysupport."
        ),
    )
