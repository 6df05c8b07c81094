"""Admins on the catalog: /catalog lists every offer, /offer changes one. Edits are kept in
the database over what catalog.toml says, and reach customers at once."""

from __future__ import annotations

import html

from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.admin_desk import AdminDesk
from bot.admins import Role
from bot.texts import stars

PAGE = 25


async def catalog_command(message: Message, command: CommandObject, desk: AdminDesk) -> None:
    """/catalog [page]: sku, title, price, the most we pay the vendor, and whether it is on."""
    argument = (command.args or "1").strip()
    page = int(argument) - 1 if argument.isdigit() and int(argument) > 0 else 0
    listing = await desk.catalog_listing()
    shown = listing[page * PAGE : (page + 1) * PAGE]
    pages = max(1, -(-len(listing) // PAGE))
    lines = [_("Catalog, page {page} of {pages}:").format(page=page + 1, pages=pages)]
    lines += [
        f"{'✅' if enabled else '⛔'} <code>{offer.sku}</code> · {html.escape(offer.title)}"
        f" · {stars(offer.price_stars)} · ≤ {offer.max_vendor_price:g} · {offer.vendor}"
        + (f" · ×{offer.max_quantity}" if offer.max_quantity > 1 else "")
        for offer, enabled in shown
    ]
    await message.answer("\n".join(lines))


async def offer_command(
    message: Message, command: CommandObject, desk: AdminDesk, role: Role
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
    result = await desk.edit_offer(sku, message.from_user.id, **changes)  # type: ignore[arg-type]
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
