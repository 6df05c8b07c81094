"""Browsing: /start (with `offer-<sku>` deep links), categories, offer cards."""

from __future__ import annotations

import html
from dataclasses import dataclass

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message
from aiogram.utils.i18n import gettext as _

from bot.catalog import Catalog
from bot.config import Settings
from bot.offers import Availability, LiveOffer, OfferService
from bot.texts import stars
from handlers import keyboards
from handlers.callbacks import CategoryCb, MenuCb, OfferCb
from handlers.replies import edit_or_send

DEEP_LINK_PREFIX = "offer-"


def register(r: Router) -> None:
    """The catalog handlers, on the customers' router."""
    r.message.register(start, CommandStart())
    r.message.register(start, Command("catalog"))
    r.callback_query.register(show_menu, MenuCb.filter())
    r.callback_query.register(show_category, CategoryCb.filter())
    r.callback_query.register(show_offer, OfferCb.filter())


def menu_text() -> str:
    return _(
        "👋 Welcome! Game keys, gift cards and top-ups, paid with Telegram Stars.\nPick a category:"
    )


async def start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    catalog: Catalog,
    offers: OfferService,
    settings: Settings,
) -> None:
    if await state.get_state() is not None:  # a purchase or support conversation left open
        await state.clear()  # (a customer's conversation data lives only while one is)
    argument = command.args or ""
    if argument.startswith(DEEP_LINK_PREFIX):
        offer = catalog.offer(argument.removeprefix(DEEP_LINK_PREFIX))
        if offer is not None:
            card = offer_view(catalog, await offers.live(offer), test_keys=settings.sandbox)
            await message.answer(
                card.text, reply_markup=card.markup, link_preview_options=card.cover
            )
            return
        await message.answer(_("This offer is not sold any more. Here is what we have:"))
    menu = keyboards.main_menu(catalog, 0, settings.webapp_url)
    await message.answer(menu_text(), reply_markup=menu)


async def show_menu(
    query: CallbackQuery, callback_data: MenuCb, catalog: Catalog, settings: Settings
) -> None:
    menu = keyboards.main_menu(catalog, callback_data.page, settings.webapp_url)
    await edit_or_send(query, menu_text(), menu)


async def show_category(
    query: CallbackQuery, callback_data: CategoryCb, catalog: Catalog, settings: Settings
) -> None:
    category = catalog.category(callback_data.key)
    if category is None:
        text = _("This category is gone. Here is the catalog.") + "\n\n" + menu_text()
        await edit_or_send(query, text, keyboards.main_menu(catalog, 0, settings.webapp_url))
        return
    await edit_or_send(
        query,
        _("<b>{category}</b>\nPick an offer:").format(category=html.escape(category.title)),
        keyboards.category_menu(catalog, category, callback_data.page),
    )


async def show_offer(
    query: CallbackQuery,
    callback_data: OfferCb,
    catalog: Catalog,
    offers: OfferService,
    settings: Settings,
) -> None:
    offer = catalog.offer(callback_data.sku)
    if offer is None:
        await query.answer(_("This offer is not sold any more."), show_alert=True)
        return
    live = await offers.live(offer, fresh=callback_data.refresh)
    card = offer_view(catalog, live, callback_data.qty, test_keys=settings.sandbox)
    await edit_or_send(query, card.text, card.markup, card.cover)


@dataclass(frozen=True)
class OfferCard:
    text: str
    markup: InlineKeyboardMarkup
    # the product's cover as the link preview above the text: the card stays a text
    # message, so every screen after it is an edit in place, as before
    cover: LinkPreviewOptions


def offer_view(
    catalog: Catalog, live: LiveOffer, qty: int = 1, *, test_keys: bool = False
) -> OfferCard:
    offer = live.offer
    availability = {
        Availability.AVAILABLE: _("✅ In stock"),
        Availability.SOLD_OUT: _("❌ Sold out right now"),
        Availability.UNKNOWN: _("⚠️ Could not check with the supplier; try Refresh"),
    }[live.availability]
    lines = [f"<b>{html.escape(offer.title)}</b>"]
    if offer.description:
        lines.append(html.escape(offer.description))
    lines += [
        _("Price: {price}").format(price=stars(offer.price_stars)),
        _("Availability: {availability}").format(availability=availability),
    ]
    if live.vendor is not None and live.vendor.release_date:
        lines.append(
            _("🗓 Pre-order: released on {date}").format(date=live.vendor.release_date[:10])
        )
    if test_keys:
        lines.append(_("🧪 Sandbox: a simulated supplier sells this, and its keys are test keys."))
    can_buy = live.availability is Availability.AVAILABLE
    qty = min(max(qty, 1), live.max_units)  # a forged or stale quantity is clamped
    markup = keyboards.offer_card(catalog, offer, can_buy, qty, live.max_units)
    image = live.vendor.image_url if live.vendor is not None else None
    cover = (
        LinkPreviewOptions(url=image, prefer_large_media=True, show_above_text=True)
        if image
        else LinkPreviewOptions(is_disabled=True)
    )
    return OfferCard("\n".join(lines), markup, cover)


__all__ = ["offer_view", "register"]
