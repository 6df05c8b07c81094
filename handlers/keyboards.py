"""Inline keyboards: the catalog levels (paginated), the offer card, orders."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _

from bot.catalog import Catalog, Category
from bot.i18n import current_locale
from bot.texts import short_id, stars, state_label
from handlers.callbacks import (
    BuyCb,
    CategoryCb,
    FormCb,
    LanguageCb,
    LanguageMenuCb,
    MenuCb,
    OfferCb,
    OrderCb,
    OrdersCb,
)
from handlers.support import support_button
from storage.models import Offer, Order

PAGE_SIZE = 8
ORDERS_PAGE_SIZE = 5
LANGUAGES = {"en": "English", "ru": "Русский"}
Item = TypeVar("Item")


def page_of(items: Sequence[Item], page: int, size: int = PAGE_SIZE) -> tuple[Sequence[Item], int]:
    """The items of `page` (clamped to the valid range) and the number of pages."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], pages


Row = list[InlineKeyboardButton]


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _offer_button(offer: Offer) -> InlineKeyboardButton:
    return _button(f"{offer.title} · {stars(offer.price_stars)}", OfferCb(sku=offer.sku))


def _markup(rows: list[Row]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _pager(page: int, pages: int, make: type[CallbackData], **fixed: str) -> list[Row]:
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(_button("‹ " + _("Back"), make(page=page - 1, **fixed)))
    row.append(_button(f"{page + 1}/{pages}", make(page=page, **fixed)))
    if page < pages - 1:
        row.append(_button(_("Next") + " ›", make(page=page + 1, **fixed)))
    return [row]


def main_menu(catalog: Catalog, page: int, webapp: str | None = None) -> InlineKeyboardMarkup:
    """The categories, and the Mini App when the shop has one (built once per language and
    page of a catalog snapshot)."""
    return catalog.memo(
        ("menu", current_locale(), page, webapp),
        lambda: _main_menu(catalog.categories, page, webapp),
    )


def _main_menu(
    categories: Sequence[Category], page: int, webapp: str | None
) -> InlineKeyboardMarkup:
    shown, pages = page_of(categories, page)
    page = min(max(page, 0), pages - 1)
    rows = []
    if webapp:
        rows.append(
            [InlineKeyboardButton(text=_("🛍 Open the shop"), web_app=WebAppInfo(url=webapp))]
        )
    rows += [[_button(category.title, CategoryCb(key=category.key))] for category in shown]
    rows += _pager(page, pages, MenuCb)
    rows.append(
        [
            _button(_("🧾 My orders"), OrdersCb()),
            _button(_("🌐 Language"), LanguageMenuCb()),
        ]
    )
    rows.append([support_button()])
    return _markup(rows)


def category_menu(catalog: Catalog, category: Category, page: int) -> InlineKeyboardMarkup:
    """A category's offers (built once per language and page of a catalog snapshot)."""
    key = ("category", current_locale(), category.key, page)
    return catalog.memo(key, lambda: _category_menu(category, page))


def _category_menu(category: Category, page: int) -> InlineKeyboardMarkup:
    shown, pages = page_of(category.offers, page)
    page = min(max(page, 0), pages - 1)
    rows = [[_offer_button(offer)] for offer in shown]
    rows += _pager(page, pages, CategoryCb, key=category.key)
    rows.append([_button("« " + _("Catalog"), MenuCb())])
    return _markup(rows)


def found(catalog: Catalog, offers: Sequence[Offer]) -> InlineKeyboardMarkup:
    """Search results as buttons (built once per language and result)."""
    key = ("found", current_locale(), tuple(offer.sku for offer in offers))
    return catalog.memo(key, lambda: _found(offers))


def _found(offers: Sequence[Offer]) -> InlineKeyboardMarkup:
    rows = [[_offer_button(offer)] for offer in offers]
    rows.append([_button("« " + _("Catalog"), MenuCb())])
    return _markup(rows)


def offer_card(
    catalog: Catalog, offer: Offer, can_buy: bool, qty: int = 1, max_units: int = 1
) -> InlineKeyboardMarkup:
    """An offer card's buttons (built once per language and state of a catalog snapshot)."""
    key = ("offer", current_locale(), offer.sku, can_buy, qty, max_units)
    category = catalog.category_of(offer)
    return catalog.memo(key, lambda: _offer_card(offer, category, can_buy, qty, max_units))


def _offer_card(
    offer: Offer, category: Category, can_buy: bool, qty: int, max_units: int
) -> InlineKeyboardMarkup:
    rows: list[Row] = []
    if can_buy and max_units > 1:  # pick how many with buttons: − n +
        row = []
        if qty > 1:
            row.append(_button("➖", OfferCb(sku=offer.sku, qty=qty - 1)))
        row.append(_button(_("{count} pcs").format(count=qty), OfferCb(sku=offer.sku, qty=qty)))
        if qty < max_units:
            row.append(_button("➕", OfferCb(sku=offer.sku, qty=qty + 1)))
        rows.append(row)
    if can_buy:
        price = stars(offer.price_stars * qty)
        text = (
            _("🛒 Buy for {price}").format(price=price)
            if qty == 1
            else _("🛒 Buy {count} for {price}").format(count=qty, price=price)
        )
        rows.append([_button(text, BuyCb(sku=offer.sku, qty=qty))])
    rows.append(
        [
            _button(_("🔄 Refresh"), OfferCb(sku=offer.sku, refresh=True, qty=qty)),
            _button("« " + category.title, CategoryCb(key=category.key)),
        ]
    )
    return _markup(rows)


def cancel_only() -> InlineKeyboardMarkup:
    return _cancel_only(current_locale())


@cache
def _cancel_only(locale: str) -> InlineKeyboardMarkup:
    return _markup([[_button(_("✖ Cancel"), FormCb(action="cancel"))]])


def confirm_form(price_stars: int) -> InlineKeyboardMarkup:
    return _markup(
        [
            [
                _button(
                    _("✅ Confirm and pay {price}").format(price=stars(price_stars)),
                    FormCb(action="pay"),
                )
            ],
            [
                _button(_("✏️ Change"), FormCb(action="edit")),
                _button(_("✖ Cancel"), FormCb(action="cancel")),
            ],
        ]
    )


def back_to_catalog() -> InlineKeyboardMarkup:
    return _back_to_catalog(current_locale())


@cache
def _back_to_catalog(locale: str) -> InlineKeyboardMarkup:
    return _markup([[_button("« " + _("Catalog"), MenuCb())]])


def orders_list(orders: Sequence[Order], page: int, pages: int) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                f"#{short_id(order)} · {order.title} · {state_label(order.state)}",
                OrderCb(order_id=order.id),
            )
        ]
        for order in orders
    ]
    rows += _pager(page, pages, OrdersCb)
    rows.append([_button("« " + _("Catalog"), MenuCb())])
    return _markup(rows)


def order_card(order: Order, has_keys: bool) -> InlineKeyboardMarkup:
    rows = (
        [[_button(_("🔑 Show key"), OrderCb(order_id=order.id, action="key"))]] if has_keys else []
    )
    rows.append([_button("« " + _("My orders"), OrdersCb())])
    return _markup(rows)


@cache
def languages() -> InlineKeyboardMarkup:
    return _markup([[_button(name, LanguageCb(code=code)) for code, name in LANGUAGES.items()]])
