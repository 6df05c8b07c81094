"""Admins on the catalog: /catalog lists every offer with the vendor's price, stock and our
margin now; /offer changes one; /import adds offers from a vendor's own product list. Edits
and imports are kept in the database over what catalog.toml says, and reach customers at
once."""

from __future__ import annotations

import html

from aiogram.filters import CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.admin.access import Role
from bot.catalog.desk import CatalogDesk, Listed
from bot.catalog.importer import Candidate, ImportRefused, Refusal
from bot.offers import Availability
from bot.texts import stars
from handlers.replies import edit_or_send
from vendors import REGISTRY
from vendors.base import VendorError

PAGE = 10  # offers per /catalog page: each asks its vendor (cached briefly)


class CatalogPageCb(CallbackData, prefix="adc"):
    page: int


class ImportCb(CallbackData, prefix="adi"):
    vendor: str
    offer_id: str


async def catalog_command(
    message: Message, command: CommandObject, catalog_desk: CatalogDesk
) -> None:
    """/catalog [page]"""
    argument = (command.args or "1").strip()
    page = int(argument) - 1 if argument.isdigit() and int(argument) > 0 else 0
    text, markup = await _catalog_page(catalog_desk, page)
    await message.answer(text, reply_markup=markup)


async def catalog_page(
    query: CallbackQuery, callback_data: CatalogPageCb, catalog_desk: CatalogDesk
) -> None:
    text, markup = await _catalog_page(catalog_desk, max(0, callback_data.page))
    await edit_or_send(query, text, markup)


async def _catalog_page(desk: CatalogDesk, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    listing = await desk.listing()
    pages = max(1, -(-len(listing) // PAGE))
    page = min(page, pages - 1)
    shown = await desk.with_figures(listing[page * PAGE : (page + 1) * PAGE])
    lines = [_("Catalog, page {page} of {pages}:").format(page=page + 1, pages=pages)]
    lines += [_catalog_line(item) for item in shown]
    buttons = []
    if page > 0:
        buttons.append(
            InlineKeyboardButton(text="◀", callback_data=CatalogPageCb(page=page - 1).pack())
        )
    if page + 1 < pages:
        buttons.append(
            InlineKeyboardButton(text="▶", callback_data=CatalogPageCb(page=page + 1).pack())
        )
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None


def _catalog_line(item: Listed) -> str:
    offer, product = item.offer, item.live.vendor
    head = (
        f"{'✅' if item.enabled else '⛔'} <code>{offer.sku}</code> · {html.escape(offer.title)}"
        f" · {stars(offer.price_stars)}"
        + (f" · ×{offer.max_quantity}" if offer.max_quantity > 1 else "")
    )
    if product is None:
        vendor = _("{vendor}: no answer").format(vendor=offer.vendor)
        if item.live.availability is Availability.SOLD_OUT:
            vendor = _("{vendor}: not sold").format(vendor=offer.vendor)
        return f"{head}\n    {vendor}"
    figures = [
        _("{vendor}: {price} {currency} (we pay at most {max:g})").format(
            vendor=offer.vendor,
            price=f"{product.price:.2f}",
            currency=product.currency,
            max=offer.max_vendor_price,
        ),
        _("stock {count}").format(count=product.stock)
        if product.stock is not None
        else _("stock unknown"),
    ]
    if item.live.availability is Availability.SOLD_OUT:
        figures.append(_("sold out"))
    figures.append(
        _("margin {margin}").format(margin=item.margin) if item.margin else _("margin unknown")
    )
    return f"{head}\n    " + " · ".join(figures)


async def offer_command(
    message: Message, command: CommandObject, catalog_desk: CatalogDesk, role: Role
) -> None:
    """/offer <sku> [on|off] [price <stars>] [max <vendor price>] [qty <n>]"""
    usage = _("Usage: /offer <sku> [on|off] [price <stars>] [max <vendor price>] [qty <n>]")
    if role is not Role.OWNER:
        await message.reply(_("Only the shop owner can change offers."))
        return
    words = (command.args or "").split()
    if not words:
        await message.reply(usage)
        return
    sku, rest = words[0], words[1:]
    changes: dict[str, object] = {}
    try:
        while rest:
            word = rest.pop(0).lower()
            if word in ("on", "off"):
                changes["active"] = word == "on"
            elif word == "price":
                changes["price_stars"] = int(rest.pop(0))
            elif word == "max":
                changes["max_vendor_price"] = float(rest.pop(0))
            elif word == "qty":
                changes["max_quantity"] = int(rest.pop(0))
            else:
                raise ValueError(word)
    except (ValueError, IndexError):
        await message.reply(usage)
        return
    assert message.from_user is not None
    result = await catalog_desk.edit_offer(sku, message.from_user.id, **changes)  # type: ignore[arg-type]
    if isinstance(result, str):
        await message.reply(
            _("Offer {sku} was not changed: {reason}").format(
                sku=html.escape(sku), reason=html.escape(result)
            )
        )
        return
    state = "" if "active" not in changes else (_(" (on)") if changes["active"] else _(" (off)"))
    await message.answer(
        _("Offer {sku}{state}: {price}, at most {max} at the vendor, up to {qty} at once.").format(
            sku=result.sku,
            state=state,
            price=stars(result.price_stars),
            max=f"{result.max_vendor_price:g}",
            qty=result.max_quantity,
        )
    )


async def import_command(
    message: Message, command: CommandObject, catalog_desk: CatalogDesk, role: Role
) -> None:
    """/import <vendor> <search words | product id>"""
    if role is not Role.OWNER:
        await message.reply(_("Only the shop owner can import offers."))
        return
    vendor, _sep, words = (command.args or "").strip().partition(" ")
    if vendor not in REGISTRY or not words.strip():
        await message.reply(
            _("Usage: /import <vendor> <search words or product id>\nVendors: {vendors}").format(
                vendors=", ".join(sorted(REGISTRY))
            )
        )
        return
    try:
        found = await catalog_desk.search(vendor, words)
    except ImportRefused as exc:
        await message.reply(_refusal_text(exc))
        return
    except VendorError:
        await message.reply(_("{vendor} did not answer; try again.").format(vendor=vendor))
        return
    if not found:
        await message.reply(
            _("{vendor} has nothing matching “{words}”.").format(
                vendor=vendor, words=html.escape(words.strip())
            )
        )
        return
    lines = [_("{vendor}: tap a number to add it to the shop.").format(vendor=vendor)]
    lines += [_candidate_line(number, item) for number, item in enumerate(found, 1)]
    buttons = [
        InlineKeyboardButton(
            text=f"➕ {number}",
            callback_data=ImportCb(vendor=vendor, offer_id=item.product.offer_id).pack(),
        )
        for number, item in enumerate(found, 1)
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    await message.answer(
        "\n\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


def _candidate_line(number: int, item: Candidate) -> str:
    product = item.product
    suggested = (
        stars(item.price_stars) if item.price_stars is not None else _("no rate for this currency")
    )
    stock = (
        _("stock {count}").format(count=product.stock)
        if product.stock is not None
        else _("stock unknown")
    )
    return _(
        "{number}. {title} ({category})\n    {price} {currency} · {stock} · sell at {suggested}"
    ).format(
        number=number,
        title=html.escape(item.title),
        category=html.escape(item.category),
        price=f"{product.price:.2f}",
        currency=product.currency,
        stock=stock,
        suggested=suggested,
    )


async def import_button(
    query: CallbackQuery, callback_data: ImportCb, catalog_desk: CatalogDesk, role: Role
) -> None:
    if role is not Role.OWNER:
        await query.answer(_("Only the shop owner can import offers."), show_alert=True)
        return
    try:
        offer, added = await catalog_desk.import_offer(
            callback_data.vendor, callback_data.offer_id, query.from_user.id
        )
    except ImportRefused as exc:
        await query.answer(_refusal_text(exc), show_alert=True)
        return
    except VendorError:
        await query.answer(
            _("{vendor} did not answer; try again.").format(vendor=callback_data.vendor),
            show_alert=True,
        )
        return
    await query.answer()
    if not added:
        text = _("Already in the shop as <code>{sku}</code>.").format(sku=offer.sku)
    else:
        text = _(
            "Added <code>{sku}</code>: {title} in “{category}” at {price}; we pay the vendor"
            " at most {max:g}.\nAdjust it with /offer {sku} price &lt;stars&gt;"
        ).format(
            sku=offer.sku,
            title=html.escape(offer.title),
            category=html.escape(offer.category),
            price=stars(offer.price_stars),
            max=offer.max_vendor_price,
        )
    if query.message is not None:
        await query.message.answer(text)


def _refusal_text(exc: ImportRefused) -> str:
    detail = html.escape(exc.detail)
    return {
        Refusal.UNKNOWN_VENDOR: _("No vendor called {detail}."),
        Refusal.NO_CREDENTIALS: _("{detail} has no credentials configured: set its API key first."),
        Refusal.NOT_FOUND: _("The vendor does not sell {detail} (any more)."),
        Refusal.NO_RATE: _(
            "No Stars rate for {detail}: add it to STARS_PER_CURRENCY (e.g. {detail}=80)."
        ),
        Refusal.UNPRICED: _("The vendor gives no price for {detail} now."),
    }[exc.refusal].format(detail=detail)
