"""Inline mode: `@shopbot elden` in any chat lists matching offers; each result posts a
short card whose button opens the offer in the bot by deep link (`?start=offer-<sku>`)."""

from __future__ import annotations

import html

from aiogram import Bot, Router
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
)
from aiogram.utils.deep_linking import create_deep_link
from aiogram.utils.i18n import gettext as _

from bot.catalog import Catalog
from bot.i18n import current_locale
from bot.offers import OfferService
from bot.texts import stars
from handlers.catalog import DEEP_LINK_PREFIX
from storage.models import Offer

PAGE = 20  # results per answer; Telegram asks for the next page with `offset`
CACHE_SECONDS = 30


def register(r: Router) -> None:
    """The inline handlers, on the customers' router."""
    r.inline_query.register(inline_offers)


async def inline_offers(
    inline_query: InlineQuery, bot: Bot, catalog: Catalog, offers: OfferService
) -> None:
    words = inline_query.query.strip()[:100]
    offset = int(inline_query.offset) if inline_query.offset.isdigit() else 0
    found = (
        catalog.search(words, limit=PAGE, offset=offset)
        if words
        else catalog.offers(limit=PAGE, offset=offset)
    )
    username = (await bot.me()).username or ""
    results = [_result(catalog, username, offer, offers) for offer in found]
    await inline_query.answer(
        results,  # type: ignore[arg-type]
        cache_time=CACHE_SECONDS,
        is_personal=True,  # texts are in the asker's language
        next_offset=str(offset + PAGE) if len(found) == PAGE else "",
        button=InlineQueryResultsButton(text=_("🛍 Open the shop"), start_parameter="inline"),
    )


def _result(
    catalog: Catalog, username: str, offer: Offer, offers: OfferService
) -> InlineQueryResultArticle:
    """An offer as an inline result, built once per language and cover image."""
    seen = offers.last_seen(offer)
    image = seen.image_url if seen and seen.image_url else None
    key = ("inline", current_locale(), username, offer.sku, image)
    return catalog.memo(key, lambda: _article(username, offer, image))


def _article(username: str, offer: Offer, image: str | None) -> InlineQueryResultArticle:
    link = create_deep_link(username, "start", DEEP_LINK_PREFIX + offer.sku)
    price = stars(offer.price_stars)
    return InlineQueryResultArticle(
        id=offer.sku,
        title=offer.title,
        description=f"{price} · {offer.category}",
        thumbnail_url=image,
        input_message_content=InputTextMessageContent(
            message_text=f"<b>{html.escape(offer.title)}</b>\n{price}"
            + (f"\n{html.escape(offer.description)}" if offer.description else ""),
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=_("🛒 Open in the shop"), url=link)]]
        ),
    )
