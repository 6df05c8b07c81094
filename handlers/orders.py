"""/orders: the customer's orders, one order's details, and its key shown again."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import format_datetime

from bot.orders.notify import Notifier
from bot.texts import field_label, short_id, stars, state_label
from handlers import keyboards
from handlers.callbacks import OrderCb, OrdersCb
from handlers.replies import edit_or_send
from storage.credit import CreditRepo
from storage.models import Order, OrderState
from storage.orders import OrderRepo

KEY_STATES = (OrderState.FULFILLED, OrderState.DELIVERED)


def register(r: Router) -> None:
    """The orders handlers, on the customers' router."""
    r.message.register(list_command, Command("orders"))
    r.callback_query.register(list_page, OrdersCb.filter())
    r.callback_query.register(show_key, OrderCb.filter(F.action == "key"))
    r.callback_query.register(show_order, OrderCb.filter())


async def list_command(message: Message, orders: OrderRepo, credit: CreditRepo) -> None:
    assert message.from_user is not None
    text, markup = await _orders_page(orders, credit, message.from_user.id, 0)
    await message.answer(text, reply_markup=markup)


async def list_page(
    query: CallbackQuery, callback_data: OrdersCb, orders: OrderRepo, credit: CreditRepo
) -> None:
    text, markup = await _orders_page(orders, credit, query.from_user.id, callback_data.page)
    await edit_or_send(query, text, markup)


_CREDIT_REASONS = {
    "partial": __("units the vendor did not deliver"),
    "spent": __("spent on an order"),
    "returned": __("unpaid order cancelled"),
    "refund": __("order refunded"),
}


async def _credit_lines(credit: CreditRepo, user_id: int) -> list[str]:
    """The customer's shop credit and its latest moves (nothing if they never had any)."""
    entries = await credit.entries(user_id, limit=5)
    if not entries:
        return []
    lines = [_("💰 Shop credit: {stars}").format(stars=stars(await credit.balance(user_id)))]
    for entry in entries:
        reason = _CREDIT_REASONS.get(entry.reason)
        sign = "+" if entry.delta > 0 else "−"
        lines.append(
            f"  {sign}{abs(entry.delta)} ⭐ · {reason if reason else entry.reason}"
            + (f" · #{entry.order_id[:8].upper()}" if entry.order_id else "")
        )
    return lines


async def _orders_page(
    orders: OrderRepo, credit: CreditRepo, user_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    shown, page, pages = await orders.page_for_user(
        user_id, size=keyboards.ORDERS_PAGE_SIZE, page=max(page, 0)
    )
    text = _("🧾 Your orders:") if shown else _("You have no orders yet.")
    credit_lines = await _credit_lines(credit, user_id)
    if credit_lines:
        text = "\n".join([*credit_lines, "", text])
    return text, keyboards.orders_list(shown, page, pages)


async def show_order(
    query: CallbackQuery, callback_data: OrderCb, orders: OrderRepo, i18n: I18n
) -> None:
    order = await _own_order(query, orders, callback_data.order_id)
    if order is None:
        return
    lines = [
        _("Order #{id}").format(id=short_id(order)),
        f"<b>{html.escape(order.title)}</b>",
        _("Date: {date}").format(
            date=format_datetime(
                datetime.fromtimestamp(order.created_at, UTC), "medium", locale=i18n.current_locale
            )
            + " UTC"
        ),
        _("Price: {price}").format(price=stars(order.price_stars)),
        _("Status: {status}").format(status=state_label(order.state)),
    ]
    if order.quantity > 1:
        lines.insert(2, _("Quantity: {count}").format(count=order.quantity))
    if order.credit_stars:
        lines.append(_("Paid from shop credit: {stars}").format(stars=stars(order.credit_stars)))
    if order.delivered_units is not None:
        lines.append(
            _("Delivered {delivered} of {count}; the rest became shop credit.").format(
                delivered=order.delivered_units, count=order.quantity
            )
        )
    if order.release_date and order.state is OrderState.PROCESSING:
        lines.append(_("🗓 Pre-order: released on {date}").format(date=order.release_date[:10]))
    lines += [
        f"{field_label(name)}: <code>{html.escape(value)}</code>"
        for name, value in order.customer_fields.items()
    ]
    has_keys = order.delivers_key and order.state in KEY_STATES
    await edit_or_send(query, "\n".join(lines), keyboards.order_card(order, has_keys))


async def show_key(
    query: CallbackQuery, callback_data: OrderCb, orders: OrderRepo, notifier: Notifier
) -> None:
    order = await _own_order(query, orders, callback_data.order_id)
    if order is None:
        return
    keys = await orders.keys(order.id) if order.state in KEY_STATES else []
    if not keys:
        await query.answer(_("This order has no key to show."), show_alert=True)
        return
    await query.answer()
    await notifier.send_keys(order, keys)


async def _own_order(query: CallbackQuery, orders: OrderRepo, order_id: str) -> Order | None:
    """The order if it belongs to whoever pressed the button (buttons can be forged)."""
    order = await orders.get(order_id)
    if order is None or order.user_id != query.from_user.id:
        await query.answer(_("Order not found."), show_alert=True)
        return None
    return order
