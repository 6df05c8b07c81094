"""Admins on orders: the order card, retry, refund (with confirmation), keys on request."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Literal

from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _

from bot.admin.access import Role
from bot.admin.desk import AdminDesk, Outcome
from bot.catalog.pricing import margin
from bot.config import CatalogSettings
from bot.orders.notify import Notifier
from bot.texts import short_id, stars, state_label
from handlers.admin.common import AdminCb, cancel_button, find_order, owners_order
from handlers.admin.recovery import recover_button
from storage.models import TELEGRAM, Order, OrderState

# ---------------------------------------------------------------- /order


async def order_command(
    message: Message, command: CommandObject, desk: AdminDesk, settings: CatalogSettings
) -> None:
    order = await find_order(message, command, desk, _("Usage: /order <order id>"))
    if order is not None:
        card = await _order_card(desk, order, settings)
        await message.answer(card, reply_markup=_order_buttons(order))


async def _order_card(desk: AdminDesk, order: Order, settings: CatalogSettings) -> str:
    kept = margin(
        settings, order.price_stars, order.vendor_price * order.quantity, order.vendor_currency
    )
    lines = [
        _("Order <code>{id}</code> · {state}").format(id=order.id, state=state_label(order.state)),
        _("Customer: <code>{user}</code>").format(user=order.user_id)
        if order.channel == TELEGRAM
        else _("Sold on {channel}: their order <code>{ref}</code>").format(
            channel=order.channel.upper(), ref=html.escape(order.external_ref or "-")
        ),
        _("Offer: {title} ({sku}) × {quantity}").format(
            title=html.escape(order.title), sku=html.escape(order.sku), quantity=order.quantity
        ),
        _("Paid: {charged} by Telegram, {credit} from shop credit").format(
            charged=stars(order.charged_stars), credit=stars(order.credit_stars)
        ),
        _(
            "Vendor: {vendor}, cost {cost:.2f} {currency}"
            " ({unit:.2f} per unit, at most {limit:.2f})"
        ).format(
            vendor=order.vendor,
            cost=order.vendor_price * order.quantity,
            currency=html.escape(order.vendor_currency),
            unit=order.vendor_price,
            limit=order.max_vendor_price,
        ),
        _("Margin: {margin}").format(margin=kept if kept else _("unknown")),
        _("Vendor order: {ref}").format(ref=html.escape(order.vendor_order_id or "-")),
    ]
    if order.failure_reason:
        lines.append(_("Last problem: {reason}").format(reason=html.escape(order.failure_reason)))
    lines.append(_("History:"))
    for _from, to, note, at in await desk.events(order.id):
        when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"  {when} → {to}" + (f" ({html.escape(note)})" if note else ""))
    return "\n".join(lines)


def _order_buttons(order: Order) -> InlineKeyboardMarkup:
    row = []
    if order.delivers_key and order.state in (OrderState.FULFILLED, OrderState.DELIVERED):
        row.append(
            InlineKeyboardButton(
                text=_("🔑 Show key"), callback_data=AdminCb(action="key", ref=order.id).pack()
            )
        )
    if order.state is OrderState.KEY_LOST:
        row.append(recover_button(order))
    return InlineKeyboardMarkup(inline_keyboard=[row + _order_buttons_row(order.id)])


async def open_button(
    query: CallbackQuery, callback_data: AdminCb, desk: AdminDesk, settings: CatalogSettings
) -> None:
    order = await desk.find(callback_data.ref)
    if not isinstance(order, Order) or not isinstance(query.message, Message):
        await query.answer(_("Order not found."), show_alert=True)
        return
    await query.answer()
    card = await _order_card(desk, order, settings)
    await query.message.answer(card, reply_markup=_order_buttons(order))


def alert_buttons(order_ids: list[str]) -> InlineKeyboardMarkup:
    """Buttons under an alert: open each order; for a lone order also retry and refund."""
    rows = [
        [
            InlineKeyboardButton(
                text=_("📄 Open {id}").format(id=order_id[:8].upper()),
                callback_data=AdminCb(action="open", ref=order_id).pack(),
            )
        ]
        for order_id in order_ids
    ]
    if len(order_ids) == 1:
        rows[0] += _order_buttons_row(order_ids[0])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _order_buttons_row(order_id: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            text=_("🔁 Retry"), callback_data=AdminCb(action="ask_retry", ref=order_id).pack()
        ),
        InlineKeyboardButton(
            text=_("↩ Refund"), callback_data=AdminCb(action="ask_refund", ref=order_id).pack()
        ),
    ]


# ---------------------------------------------------------------- refund and retry


async def refund_command(
    message: Message, command: CommandObject, desk: AdminDesk, role: Role, state: FSMContext
) -> None:
    if role is not Role.OWNER:
        await message.reply(_("Only the shop owner can refund."))
        return
    reference, _space, reason = (command.args or "").strip().partition(" ")
    usage = _("Usage: /refund <order id> [reason]")
    order = await find_order(message, reference, desk, usage)
    if order is not None:
        await _ask(message, "refund", order, desk, state, reason.strip())


async def retry_command(
    message: Message, command: CommandObject, desk: AdminDesk, state: FSMContext
) -> None:
    order = await find_order(message, command, desk, _("Usage: /retry <order id>"))
    if order is not None:
        await _ask(message, "retry", order, desk, state)


async def ask_button(
    query: CallbackQuery, callback_data: AdminCb, desk: AdminDesk, role: Role, state: FSMContext
) -> None:
    action: Literal["refund", "retry"] = (
        "refund" if callback_data.action == "ask_refund" else "retry"
    )
    if action == "refund" and role is not Role.OWNER:
        await query.answer(_("Only the shop owner can refund."), show_alert=True)
        return
    order = await desk.find(callback_data.ref)
    await query.answer()
    if isinstance(order, Order) and isinstance(query.message, Message):
        await _ask(query.message, action, order, desk, state)


async def _ask(
    message: Message,
    action: Literal["refund", "retry"],
    order: Order,
    desk: AdminDesk,
    state: FSMContext,
    reason: str = "",
) -> None:
    """The confirmation, only for what would then go ahead: otherwise why not, at once.
    A refund's reason waits in the admin's conversation data for their Confirm."""
    allowed = desk.may_refund(order, reason) if action == "refund" else desk.may_retry(order)
    if allowed is not Outcome.DONE:
        await message.answer(_refusal(allowed, order))
        return
    if action == "refund":
        await state.update_data(refund=(order.id, reason))
    if action == "refund" and order.channel != TELEGRAM:
        text = _(
            "Close order {id} ({title}), sold on {channel}? Cancel their order there first:"
            " {channel} refunds its buyer."
        )
    elif action == "refund" and order.state is OrderState.DELIVERED:
        text = _(
            "Refund order {id} ({title}), delivered, because: {reason}? {charged} go back to"
            " the customer's Telegram balance and {credit} to their shop credit. The key stays"
            " on record; what the shop paid the vendor is not returned."
        )
    elif action == "refund":
        text = _(
            "Refund order {id} ({title}): {charged} back to the customer's Telegram balance and"
            " {credit} to their shop credit? If the vendor still delivers, the shop has paid"
            " for nothing."
        )
    else:
        text = _("Retry order {id} ({title}) now, in state {state}?")
    confirm = InlineKeyboardButton(
        text=_("✅ Confirm"), callback_data=AdminCb(action=action, ref=order.id).pack()
    )
    await message.answer(
        text.format(
            id=short_id(order),
            title=html.escape(order.title),
            charged=stars(order.charged_stars),
            credit=stars(max(0, order.refund_credit)),
            state=state_label(order.state),
            channel=order.channel.upper(),
            reason=html.escape(reason),
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[confirm, cancel_button()]]),
    )


def _refusal(outcome: Outcome, order: Order) -> str:
    if outcome is Outcome.NEEDS_REASON:
        return _("Order {id} was delivered: say why it is refunded, /refund {id} <reason>.").format(
            id=short_id(order)
        )
    if outcome is Outcome.OTHER_CHANNEL:
        return _(
            "Order {id} was delivered to a buyer on {channel}: {channel} settles disputes"
            " with its buyer, there is nothing to refund here."
        ).format(id=short_id(order), channel=order.channel.upper())
    return _("Not possible in state {state}.").format(state=state_label(order.state))


async def confirm_button(
    query: CallbackQuery, callback_data: AdminCb, desk: AdminDesk, role: Role, state: FSMContext
) -> None:
    if callback_data.action == "refund" and role is not Role.OWNER:
        await query.answer(_("Only the shop owner can refund."), show_alert=True)
        return
    order = await desk.find(callback_data.ref)
    if not isinstance(order, Order):
        await query.answer(_("Order not found."), show_alert=True)
        return
    admin = query.from_user.id
    if callback_data.action == "refund":
        pending = (await state.get_data()).get("refund")
        if not pending or pending[0] != order.id:  # another order's question since
            await query.answer(_("This confirmation has expired."), show_alert=True)
            return
        await state.update_data(refund=None)
        outcome = await desk.refund(order, admin, pending[1])
        done = _("Order {id}: refund started by {admin}.")
    else:
        outcome = await desk.retry(order, admin)
        done = _("Order {id}: retried by {admin}.")
    if outcome is not Outcome.DONE:  # it changed since the question
        await query.answer(_refusal(outcome, order), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(done.format(id=short_id(order), admin=admin))


async def cancel_pressed(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()  # e.g. a recovered key's dialog waiting for the next message
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Cancelled: nothing changed."))


# ---------------------------------------------------------------- keys


async def key_button(
    query: CallbackQuery,
    callback_data: AdminCb,
    desk: AdminDesk,
    notifier: Notifier,
    role: Role,
) -> None:
    """An owner asked to see a key: logged, then shown in the group."""
    refusal = _("Only the shop owner can see keys.")
    found = await owners_order(query, callback_data, desk, role, refusal)
    if found is None:
        return
    order, message = found
    keys = await desk.show_keys(order, query.from_user.id)
    await query.answer()
    await notifier.show_keys_to(message.chat.id, order, keys)
