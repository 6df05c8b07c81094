"""/g2a: the shop's offers on G2A's marketplace, run from the admin group.

    /g2a [offers]              listings: state, price, sales on G2A
    /g2a bestsellers           what sells on G2A, and which we could list
    /g2a list <sku> <price>    the payout and our margin first, then (on confirmation)
                               the offer is created and its job followed to the offer id
    /g2a price <offer> <price> /g2a pause <offer>  /g2a resume <offer>
    /g2a demo <sku>            sandbox only: a simulated G2A buyer buys one

<offer> is our sku or G2A's offer id; prices are in EUR. Operators may look; only owners
change anything.
"""

from __future__ import annotations

import html

from aiogram.filters import CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.admin.access import Role
from bot.config import Settings
from bot.g2a.channel import G2AChannel
from bot.g2a.demo import DemoFailed, demo_sale
from bot.g2a.listings import ListingRefused, Overview, Problem, Quote
from handlers.admin.common import cancel_button
from handlers.replies import edit_or_send
from storage.g2a import ListingState
from vendors.base import VendorError

CHANGES = ("list", "price", "pause", "resume", "demo")


class G2AListCb(CallbackData, prefix="g2l"):
    sku: str
    cents: int


def _usage() -> str:
    return _(
        "Usage:\n/g2a offers\n/g2a bestsellers\n/g2a list <sku> <price in EUR>\n"
        "/g2a price <offer> <price in EUR>\n/g2a pause <offer>\n/g2a resume <offer>"
    )


async def g2a_command(
    message: Message,
    command: CommandObject,
    role: Role,
    settings: Settings,
    g2a: G2AChannel | None = None,
) -> None:
    if g2a is None:
        await message.reply(
            _(
                "Selling on G2A is off: set G2A_DROPSHIPPING_CLIENT_ID,"
                " G2A_DROPSHIPPING_CLIENT_SECRET and HTTP_PORT, then restart."
            )
        )
        return
    words = (command.args or "offers").split()
    action, args = words[0].lower(), words[1:]
    if action in CHANGES and role is not Role.OWNER:
        await message.reply(_("Only the shop owner can change G2A offers."))
        return
    assert message.from_user is not None
    admin = message.from_user.id
    try:
        if action == "offers" and not args:
            await message.answer(_overview(await g2a.listings.overview()))
        elif action == "bestsellers" and not args:
            await message.answer(await _bestsellers(g2a))
        elif action == "list" and len(args) == 2 and (price := _price(args[1])) is not None:
            await _ask_to_list(message, g2a, args[0], price)
        elif action == "price" and len(args) == 2 and (price := _price(args[1])) is not None:
            listing, quote = await g2a.listings.set_price(args[0], price, admin)
            await message.answer(
                _("G2A offer {sku}: now {price} EUR.").format(
                    sku=listing.sku, price=f"{listing.price:.2f}"
                )
                + "\n"
                + _quote_lines(quote, g2a.listings.min_margin)
            )
        elif action in ("pause", "resume") and len(args) == 1:
            listing = await g2a.listings.set_active(args[0], action == "resume", admin)
            await message.answer(
                _("G2A offer {sku}: {state}.").format(
                    sku=listing.sku, state=_state_label(listing.state)
                )
            )
        elif action == "demo" and len(args) == 1 and settings.sandbox:
            await _demo(message, g2a, settings, args[0])
        else:
            await message.reply(_usage())
    except ListingRefused as refused:
        await message.reply(_refusal(refused, g2a.listings.min_margin))
    except VendorError:
        await message.reply(_("G2A did not answer; try again."))


async def g2a_list_button(
    query: CallbackQuery, callback_data: G2AListCb, role: Role, g2a: G2AChannel | None = None
) -> None:
    if g2a is None or role is not Role.OWNER:
        await query.answer(_("Only the shop owner can change G2A offers."), show_alert=True)
        return
    price = callback_data.cents / 100
    await edit_or_send(
        query,
        _("⏳ Creating the G2A offer for {sku} at {price} EUR…").format(
            sku=callback_data.sku, price=f"{price:.2f}"
        ),
    )
    try:
        listing = await g2a.listings.create(callback_data.sku, price, query.from_user.id)
    except ListingRefused as refused:
        text = _refusal(refused, g2a.listings.min_margin)
    else:
        text = _("✅ {sku} is on G2A: offer {offer} at {price} EUR.").format(
            sku=listing.sku, offer=listing.offer_id, price=f"{listing.price:.2f}"
        )
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


async def _ask_to_list(message: Message, g2a: G2AChannel, sku: str, price: float) -> None:
    quote = await g2a.listings.quote(sku, price)
    lines = [
        _("List {title} on G2A at {price} EUR?").format(
            title=html.escape(quote.offer.title), price=f"{price:.2f}"
        ),
        _quote_lines(quote, g2a.listings.min_margin),
    ]
    if not quote.earns(g2a.listings.min_margin):
        lines.append(_("⚠️ Under the minimum margin: the margin guard will raise the price."))
    button = InlineKeyboardButton(
        text=_("✅ List it"),
        callback_data=G2AListCb(sku=quote.offer.sku, cents=round(price * 100)).pack(),
    )
    await message.answer(
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button, cancel_button()]]),
    )


def _quote_lines(quote: Quote, min_margin: float) -> str:
    income = f"{quote.income:.2f} EUR" if quote.income is not None else _("unknown")
    if quote.source is None:
        cost = _("{vendor} did not answer").format(vendor=quote.offer.vendor)
    else:
        cost = f"{quote.source.price:.2f} {quote.source.currency}"
        if quote.cost is not None and quote.source.currency.upper() != "EUR":
            cost += f" ≈ {quote.cost:.2f} EUR"
    margin = (
        f"{quote.margin:+.2f} EUR ({quote.margin_percent:+.0f}%)"
        if quote.margin is not None and quote.margin_percent is not None
        else _("unknown")
    )
    return _(
        "G2A pays us {income} a unit; {vendor} costs {cost}; margin {margin} (minimum {minimum}%)."
    ).format(
        income=income,
        vendor=quote.offer.vendor,
        cost=cost,
        margin=margin,
        minimum=f"{min_margin:g}",
    )


def _overview(items: list[Overview]) -> str:
    if not items:
        return _("Nothing is listed on G2A yet: /g2a list <sku> <price in EUR>.")
    lines = [_("Our offers on G2A:")]
    for item in items:
        listing = item.listing
        line = _("{sku} · G2A product {product} · offer {offer} · {price} EUR · {state}").format(
            sku=listing.sku,
            product=listing.product_id,
            offer=listing.offer_id or "-",
            price=f"{listing.price:.2f}",
            state=_state_label(listing.state),
        )
        if item.g2a is not None and item.g2a.sold is not None:
            line += " · " + _("sold {count}").format(count=item.g2a.sold)
        if listing.last_error:
            line += "\n    " + html.escape(listing.last_error)
        lines.append(line)
    return "\n".join(lines)


async def _bestsellers(g2a: G2AChannel) -> str:
    found = await g2a.listings.bestsellers()
    if not found:
        return _("G2A lists no bestsellers now.")
    lines = [_("Bestsellers on G2A:")]
    for number, (item, ours) in enumerate(found, 1):
        line = f"{number}. {html.escape(item.name)} · {item.productId}"
        if item.lowestPrice is not None:
            line += " · " + _("from {price} EUR").format(price=f"{item.lowestPrice:.2f}")
        if item.sales is not None:
            line += " · " + _("{count} sold").format(count=item.sales)
        if ours is not None:
            line += "\n    " + _("in our catalog: {sku}").format(sku=ours.sku)
        lines.append(line)
    return "\n".join(lines)


async def _demo(message: Message, g2a: G2AChannel, settings: Settings, sku: str) -> None:
    await message.answer(_("⏳ A simulated G2A buyer is buying {sku}…").format(sku=sku))
    try:
        sale = await demo_sale(g2a, settings, sku)
    except DemoFailed as exc:
        await message.answer(_("The simulated G2A sale failed: {reason}").format(reason=exc))
        return
    await message.answer(
        _(
            "✅ G2A order {order}: reserved, confirmed (HTTP {status}) and {count} key(s)"
            " handed over; the slowest answer took {slowest} s."
        ).format(
            order=sale.order_id,
            status=sale.confirm_status,
            count=sale.keys,
            slowest=f"{sale.slowest:.2f}",
        )
    )


def _price(text: str) -> float | None:
    try:
        price = round(float(text.replace(",", ".")), 2)
    except ValueError:
        return None
    return price if 0 < price <= 100_000 else None


def _state_label(state: ListingState) -> str:
    return {
        ListingState.CREATING: _("being created"),
        ListingState.ACTIVE: _("on sale"),
        ListingState.PAUSED: _("paused"),
        ListingState.FAILED: _("failed"),
    }[state]


def _refusal(refused: ListingRefused, min_margin: float) -> str:
    detail = html.escape(refused.detail)
    return {
        Problem.NO_OFFER: _("No offer {sku} in the catalog.").format(sku=detail),
        Problem.NOT_ON_G2A: _(
            "Offer {sku} names no g2a_product_id in the catalog: add it to sell it on G2A."
        ).format(sku=detail),
        Problem.LISTED: _("This offer is on G2A already ({offer}).").format(offer=detail),
        Problem.NO_LISTING: _("No G2A offer {ref}: see /g2a offers.").format(ref=detail),
        Problem.LOW_MARGIN: _(
            "Not changed: at that price G2A's payout is under our cost plus {minimum}%."
        ).format(minimum=f"{min_margin:g}"),
        Problem.G2A: _("G2A refused: {reason}").format(reason=detail),
    }[refused.problem]
