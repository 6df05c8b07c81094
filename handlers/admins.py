"""The admin group: orders, refunds, retries, credit and vendor health.

Only updates from the group ADMIN_CHAT_ID, from its administrators, reach these handlers
(`AdminOnly`); anyone else, anywhere else, changes nothing and learns nothing. Owners
(OWNER_IDS) may also refund and grant credit. Every change asks for confirmation first
and is written to the audit log by `bot.admin_desk`.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any, Literal

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    User,
)
from aiogram.utils.i18n import gettext as _

from bot.admin_desk import AdminDesk, Outcome
from bot.admins import AdminAccess, Role
from bot.notify import Notifier
from bot.texts import short_id, stars, state_label
from storage.models import Order, OrderState

Action = Literal["refund", "retry", "key", "credit", "ask_refund", "ask_retry", "cancel", "open"]


class AdminCb(CallbackData, prefix="adm"):
    action: Action
    ref: str = ""


class AdminOnly(Filter):
    """Passes the admin group's administrators and hands handlers their `role`."""

    async def __call__(
        self, event: TelegramObject, access: AdminAccess, event_from_user: User | None = None
    ) -> bool | dict[str, Any]:
        chat = event.chat if isinstance(event, Message) else None
        if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
            chat = event.message.chat
        if chat is None or event_from_user is None:
            return False
        role = await access.role(chat.id, event_from_user.id)
        return {"role": role} if role is not None else False


def router() -> Router:
    r = Router(name="admins")
    r.message.filter(AdminOnly())
    r.callback_query.filter(AdminOnly())
    r.message.register(order_command, Command("order"))
    r.message.register(refund_command, Command("refund"))
    r.message.register(retry_command, Command("retry"))
    r.message.register(credit_command, Command("credit"))
    r.message.register(vendors_command, Command("vendors"))
    r.callback_query.register(cancel_button, AdminCb.filter(F.action == "cancel"))
    r.callback_query.register(ask_button, AdminCb.filter(F.action.in_({"ask_refund", "ask_retry"})))
    r.callback_query.register(key_button, AdminCb.filter(F.action == "key"))
    r.callback_query.register(open_button, AdminCb.filter(F.action == "open"))
    r.callback_query.register(credit_button, AdminCb.filter(F.action == "credit"))
    r.callback_query.register(confirm_button, AdminCb.filter())
    return r


# ---------------------------------------------------------------- /order


async def order_command(message: Message, command: CommandObject, desk: AdminDesk) -> None:
    order = await _find(message, command, desk, _("Usage: /order <order id>"))
    if order is not None:
        await message.answer(await _order_card(desk, order), reply_markup=_order_buttons(order))


async def _order_card(desk: AdminDesk, order: Order) -> str:
    lines = [
        _("Order <code>{id}</code> · {state}").format(id=order.id, state=state_label(order.state)),
        _("Customer: <code>{user}</code>").format(user=order.user_id),
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
    return InlineKeyboardMarkup(inline_keyboard=[row + _order_buttons_row(order.id)])


async def open_button(query: CallbackQuery, callback_data: AdminCb, desk: AdminDesk) -> None:
    order = await desk.find(callback_data.ref)
    if not isinstance(order, Order) or not isinstance(query.message, Message):
        await query.answer(_("Order not found."), show_alert=True)
        return
    await query.answer()
    await query.message.answer(await _order_card(desk, order), reply_markup=_order_buttons(order))


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
    message: Message, command: CommandObject, desk: AdminDesk, role: Role
) -> None:
    if role is not Role.OWNER:
        await message.reply(_("Only the shop owner can refund."))
        return
    order = await _find(message, command, desk, _("Usage: /refund <order id>"))
    if order is not None:
        await _ask(message, "refund", order)


async def retry_command(message: Message, command: CommandObject, desk: AdminDesk) -> None:
    order = await _find(message, command, desk, _("Usage: /retry <order id>"))
    if order is not None:
        await _ask(message, "retry", order)


async def ask_button(
    query: CallbackQuery, callback_data: AdminCb, desk: AdminDesk, role: Role
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
        await _ask(query.message, action, order)


async def _ask(message: Message, action: Literal["refund", "retry"], order: Order) -> None:
    if action == "refund":
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
            credit=stars(order.credit_stars),
            state=state_label(order.state),
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[confirm, _cancel_button()]]),
    )


async def confirm_button(
    query: CallbackQuery, callback_data: AdminCb, desk: AdminDesk, role: Role
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
        outcome = await desk.refund(order, admin)
        done = _("Order {id}: refund started by {admin}.")
    else:
        outcome = await desk.retry(order, admin)
        done = _("Order {id}: retried by {admin}.")
    if outcome is not Outcome.DONE:
        await query.answer(
            _("Not possible in state {state}.").format(state=state_label(order.state)),
            show_alert=True,
        )
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(done.format(id=short_id(order), admin=admin))


async def cancel_button(query: CallbackQuery) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Cancelled: nothing changed."))


def _cancel_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("✖ Cancel"), callback_data=AdminCb(action="cancel").pack())


# ---------------------------------------------------------------- keys


async def key_button(
    query: CallbackQuery,
    callback_data: AdminCb,
    desk: AdminDesk,
    notifier: Notifier,
    role: Role,
) -> None:
    """An owner asked to see a key: logged, then shown in the group."""
    if role is not Role.OWNER:
        await query.answer(_("Only the shop owner can see keys."), show_alert=True)
        return
    order = await desk.find(callback_data.ref)
    if not isinstance(order, Order) or not isinstance(query.message, Message):
        await query.answer(_("Order not found."), show_alert=True)
        return
    keys = await desk.show_keys(order, query.from_user.id)
    await query.answer()
    await notifier.show_keys_to(query.message.chat.id, order, keys)


# ---------------------------------------------------------------- credit


async def credit_command(
    message: Message, command: CommandObject, state: FSMContext, role: Role
) -> None:
    if role is not Role.OWNER:
        await message.reply(_("Only the shop owner can grant credit."))
        return
    parts = (command.args or "").split(maxsplit=2)
    if len(parts) < 3 or not parts[0].isdigit() or not parts[1].lstrip("-").isdigit():
        await message.reply(_("Usage: /credit <user id> <stars> <reason>"))
        return
    user_id, amount, reason = int(parts[0]), int(parts[1]), parts[2]
    if amount == 0 or abs(amount) > 100_000:
        await message.reply(_("The amount must be between -100000 and 100000, not 0."))
        return
    await state.update_data(credit=(user_id, amount, reason))
    confirm = InlineKeyboardButton(
        text=_("✅ Confirm"), callback_data=AdminCb(action="credit", ref=str(user_id)).pack()
    )
    await message.answer(
        _("Give {amount} of shop credit to customer {user} ({reason})?").format(
            amount=stars(amount), user=user_id, reason=html.escape(reason)
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[confirm, _cancel_button()]]),
    )


async def credit_button(
    query: CallbackQuery,
    callback_data: AdminCb,
    state: FSMContext,
    desk: AdminDesk,
    role: Role,
) -> None:
    pending = (await state.get_data()).get("credit")
    if role is not Role.OWNER or not pending or str(pending[0]) != callback_data.ref:
        await query.answer(_("This confirmation has expired."), show_alert=True)
        return
    await state.update_data(credit=None)
    user_id, amount, reason = pending
    await desk.grant_credit(user_id, amount, reason, query.from_user.id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Customer {user} now has {balance} of shop credit.").format(
                user=user_id, balance=stars(await desk.credit_balance(user_id))
            )
        )


# ---------------------------------------------------------------- vendors


async def vendors_command(message: Message, desk: AdminDesk) -> None:
    lines = [_("Vendors:")]
    for vendor in await desk.vendor_health():
        last = (
            datetime.fromtimestamp(vendor.last_success, UTC).strftime("%H:%M:%S UTC")
            if vendor.last_success
            else "-"
        )
        rate = "-" if vendor.error_rate is None else f"{vendor.error_rate:.0%}"
        balance = "-" if vendor.balance is None else f"{vendor.balance:.2f}"
        lines.append(
            _(
                "<b>{name}</b>: last success {last}, errors in the last hour {rate},"
                " open orders {open}, balance {balance}"
            ).format(
                name=vendor.name, last=last, rate=rate, open=vendor.open_orders, balance=balance
            )
        )
    await message.answer("\n".join(lines))


# ---------------------------------------------------------------- helpers


async def _find(
    message: Message, command: CommandObject, desk: AdminDesk, usage: str
) -> Order | None:
    reference = (command.args or "").strip()
    if not reference:
        await message.reply(usage)
        return None
    found = await desk.find(reference)
    if found is Outcome.AMBIGUOUS:
        await message.reply(
            _("Several orders start with {ref}: give more of the id.").format(
                ref=html.escape(reference)
            )
        )
        return None
    if not isinstance(found, Order):
        await message.reply(_("No order {ref}.").format(ref=html.escape(reference)))
        return None
    return found
