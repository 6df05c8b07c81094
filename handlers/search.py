"""A customer's plain text message searches the catalog and answers with offers as buttons."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.catalog import Catalog
from bot.texts import stars
from handlers import keyboards
from handlers.callbacks import OfferCb


def router() -> Router:
    r = Router(name="search")
    r.message.register(search, StateFilter(None), F.text, ~F.text.startswith("/"))
    return r


async def search(message: Message, catalog: Catalog) -> None:
    query = (message.text or "").strip()[:100]
    found = catalog.search(query)
    if not found:
        await message.answer(
            _("Nothing found for “{query}”. Try another word, or browse the catalog.").format(
                query=html.escape(query)
            ),
            reply_markup=keyboards.back_to_catalog(),
        )
        return
    rows = [
        [
            InlineKeyboardButton(
                text=f"{offer.title} · {stars(offer.price_stars)}",
                callback_data=OfferCb(sku=offer.sku).pack(),
            )
        ]
        for offer in found
    ]
    rows += keyboards.back_to_catalog().inline_keyboard
    await message.answer(
        _("Found for “{query}”:").format(query=html.escape(query)),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )
