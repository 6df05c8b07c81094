"""Inline keyboards: the catalog levels (paginated), the offer card, orders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.catalog import Category
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


def _pager(
    builder: InlineKeyboardBuilder, page: int, pages: int, make: type[CallbackData], **fixed: str
) -> None:
    if pages <= 1:
        return
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(
                text="‹ " + _("Back"), callback_data=make(page=page - 1, **fixed).pack()
            )
        )
    row.append(
        InlineKeyboardButton(
            text=f"{page + 1}/{pages}", callback_data=make(page=page, **fixed).pack()
        )
    )
    if page < pages - 1:
        row.append(
            InlineKeyboardButton(
                text=_("Next") + " ›", callback_data=make(page=page + 1, **fixed).pack()
            )
        )
    builder.row(*row)


def main_menu(categories: Sequence[Category], page: int) -> InlineKeyboardMarkup:
    shown, pages = page_of(categories, page)
    page = min(max(page, 0), pages - 1)
    builder = InlineKeyboardBuilder()
    for category in shown:
        builder.row(
            InlineKeyboardButton(
                text=category.title, callback_data=CategoryCb(key=category.key).pack()
            )
        )
    _pager(builder, page, pages, MenuCb)
    builder.row(
        InlineKeyboardButton(text=_("🧾 My orders"), callback_data=OrdersCb().pack()),
        InlineKeyboardButton(text=_("🌐 Language"), callback_data=LanguageMenuCb().pack()),
    )
    builder.row(support_button())
    return builder.as_markup()


def category_menu(category: Category, page: int) -> InlineKeyboardMarkup:
    shown, pages = page_of(category.offers, page)
    page = min(max(page, 0), pages - 1)
    builder = InlineKeyboardBuilder()
    for offer in shown:
        builder.row(
            InlineKeyboardButton(
                text=f"{offer.title} · {stars(offer.price_stars)}",
                callback_data=OfferCb(sku=offer.sku).pack(),
            )
        )
    _pager(builder, page, pages, CategoryCb, key=category.key)
    builder.row(InlineKeyboardButton(text="« " + _("Catalog"), callback_data=MenuCb().pack()))
    return builder.as_markup()


def offer_card(
    offer: Offer, category: Category, can_buy: bool, qty: int = 1, max_units: int = 1
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if can_buy and max_units > 1:  # pick how many with buttons: − n +
        row = []
        if qty > 1:
            row.append(
                InlineKeyboardButton(
                    text="➖", callback_data=OfferCb(sku=offer.sku, qty=qty - 1).pack()
                )
            )
        row.append(
            InlineKeyboardButton(
                text=_("{count} pcs").format(count=qty),
                callback_data=OfferCb(sku=offer.sku, qty=qty).pack(),
            )
        )
        if qty < max_units:
            row.append(
                InlineKeyboardButton(
                    text="➕", callback_data=OfferCb(sku=offer.sku, qty=qty + 1).pack()
                )
            )
        builder.row(*row)
    if can_buy:
        price = stars(offer.price_stars * qty)
        text = (
            _("🛒 Buy for {price}").format(price=price)
            if qty == 1
            else _("🛒 Buy {count} for {price}").format(count=qty, price=price)
        )
        builder.row(
            InlineKeyboardButton(text=text, callback_data=BuyCb(sku=offer.sku, qty=qty).pack())
        )
    builder.row(
        InlineKeyboardButton(
            text=_("🔄 Refresh"),
            callback_data=OfferCb(sku=offer.sku, refresh=True, qty=qty).pack(),
        ),
        InlineKeyboardButton(
            text="« " + category.title, callback_data=CategoryCb(key=category.key).pack()
        ),
    )
    return builder.as_markup()


def cancel_only() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("✖ Cancel"), callback_data=FormCb(action="cancel").pack())]
        ]
    )


def confirm_form(price_stars: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(
        InlineKeyboardButton(
            text=_("✅ Confirm and pay {price}").format(price=stars(price_stars)),
            callback_data=FormCb(action="pay").pack(),
        )
    )
    builder.row(
        InlineKeyboardButton(text=_("✏️ Change"), callback_data=FormCb(action="edit").pack()),
        InlineKeyboardButton(text=_("✖ Cancel"), callback_data=FormCb(action="cancel").pack()),
    )
    return builder.as_markup()


def back_to_catalog() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="« " + _("Catalog"), callback_data=MenuCb().pack())]
        ]
    )


def orders_list(orders: Sequence[Order], page: int, pages: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for order in orders:
        builder.row(
            InlineKeyboardButton(
                text=f"#{short_id(order)} · {order.title} · {state_label(order.state)}",
                callback_data=OrderCb(order_id=order.id).pack(),
            )
        )
    _pager(builder, page, pages, OrdersCb)
    builder.row(InlineKeyboardButton(text="« " + _("Catalog"), callback_data=MenuCb().pack()))
    return builder.as_markup()


def order_card(order: Order, has_keys: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if has_keys:
        builder.row(
            InlineKeyboardButton(
                text=_("🔑 Show key"), callback_data=OrderCb(order_id=order.id, action="key").pack()
            )
        )
    builder.row(InlineKeyboardButton(text="« " + _("My orders"), callback_data=OrdersCb().pack()))
    return builder.as_markup()


def languages() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in LANGUAGES.items():
        builder.button(text=name, callback_data=LanguageCb(code=code))
    return builder.as_markup()
