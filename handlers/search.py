"""A customer's plain text message searches the catalog and answers with offers as buttons."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.catalog import Catalog
from handlers import keyboards
from handlers.filters import InState, Is


def register(r: Router) -> None:
    """The search handlers, on the customers' router."""
    r.message.register(search, InState(None), Is(F.text), Is(~F.text.startswith("/")))


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
    await message.answer(
        _("Found for “{query}”:").format(query=html.escape(query)),
        reply_markup=keyboards.found(catalog, found),
    )
