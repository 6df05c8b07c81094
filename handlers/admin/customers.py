"""Admins on customers and the shop: credit, the customer summary, bans, maintenance,
vendor health."""

from __future__ import annotations

import html
from datetime import UTC, datetime

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
from bot.admin.broadcast import Broadcaster
from bot.admin.desk import AdminDesk
from bot.texts import stars, state_label
from handlers.admin.common import AdminCb, cancel_button, user_id_argument

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
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[confirm, cancel_button()]]),
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


# ---------------------------------------------------------------- customers and the shop


async def user_command(message: Message, command: CommandObject, desk: AdminDesk) -> None:
    user_id = user_id_argument(command)
    if user_id is None:
        await message.reply(_("Usage: /user <user id>"))
        return
    customer = await desk.customer(user_id)
    lines = [
        _("Customer <code>{user}</code>{banned}").format(
            user=user_id, banned=_(" (banned)") if customer.banned else ""
        ),
        _("Orders: {orders}, delivered for {spent}, refunded {refunded}").format(
            orders=customer.orders, spent=stars(customer.spent_stars), refunded=customer.refunded
        ),
        _("Shop credit: {credit}").format(credit=stars(customer.credit)),
    ]
    lines += [
        f"  <code>{order.id}</code> · {html.escape(order.title)} · {state_label(order.state)}"
        for order in customer.recent
    ]
    await message.answer("\n".join(lines))


async def ban_command(
    message: Message, command: CommandObject, desk: AdminDesk, role: Role
) -> None:
    if role is not Role.OWNER:
        await message.reply(_("Only the shop owner can ban."))
        return
    user_id = user_id_argument(command)
    banning = command.command == "ban"
    if user_id is None:
        await message.reply(_("Usage: /ban <user id> or /unban <user id>"))
        return
    assert message.from_user is not None
    await desk.ban(user_id, banning, message.from_user.id)
    text = (
        _("Customer {user} is banned: their purchases are refused politely.")
        if banning
        else _("Customer {user} may buy again.")
    )
    await message.answer(text.format(user=user_id))


async def maintenance_command(
    message: Message, command: CommandObject, desk: AdminDesk, role: Role
) -> None:
    if role is not Role.OWNER:
        await message.reply(_("Only the shop owner can close the shop."))
        return
    switch = (command.args or "").strip().lower()
    if switch not in ("on", "off"):
        await message.reply(_("Usage: /maintenance on|off"))
        return
    assert message.from_user is not None
    await desk.maintenance(switch == "on", message.from_user.id)
    await message.answer(
        _("Maintenance is on: customers cannot start purchases; paid orders go on.")
        if switch == "on"
        else _("Maintenance is off: the shop is open.")
    )


# ---------------------------------------------------------------- broadcast


async def broadcast_command(
    message: Message, command: CommandObject, state: FSMContext, desk: AdminDesk, role: Role
) -> None:
    """/broadcast <text>: a preview and the audience first; nothing goes out unconfirmed."""
    if role is not Role.OWNER:
        await message.reply(_("Only the shop owner can broadcast."))
        return
    text = (command.args or "").strip()
    if not text:
        await message.reply(_("Usage: /broadcast <text>"))
        return
    await state.update_data(broadcast=text)
    confirm = InlineKeyboardButton(
        text=_("📣 Send to {count} customers").format(count=await desk.audience()),
        callback_data=AdminCb(action="broadcast").pack(),
    )
    await message.answer(
        _("Preview:") + "\n\n" + html.escape(text),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[confirm, cancel_button()]]),
    )


async def broadcast_button(
    query: CallbackQuery,
    state: FSMContext,
    desk: AdminDesk,
    broadcaster: Broadcaster,
    role: Role,
) -> None:
    text = (await state.get_data()).get("broadcast")
    if role is not Role.OWNER or not text or not isinstance(query.message, Message):
        await query.answer(_("This confirmation has expired."), show_alert=True)
        return
    await state.update_data(broadcast=None)
    await query.answer()
    progress = await query.message.edit_text(_("📣 Sending…"))
    message_id = progress.message_id if isinstance(progress, Message) else query.message.message_id
    if await broadcaster.start(html.escape(text), query.message.chat.id, message_id) is None:
        await query.message.edit_text(
            _("Another broadcast is still going out: try again when it is done.")
        )
        return
    await desk.broadcast_started(text, query.from_user.id)
