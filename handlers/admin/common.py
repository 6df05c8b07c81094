"""What every admin handler shares: the callback data of admin buttons, the filter that
lets only the admin group's administrators through, and argument parsing."""

from __future__ import annotations

import html
from typing import Any, Literal

from aiogram.filters import CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    Message,
    TelegramObject,
    User,
)
from aiogram.utils.i18n import gettext as _

from bot.admin.access import AdminAccess, Role
from bot.admin.desk import AdminDesk, Outcome
from storage.models import Order

Action = Literal[
    "refund",
    "retry",
    "key",
    "credit",
    "ask_refund",
    "ask_retry",
    "cancel",
    "open",
    "broadcast",
    "recover",
]


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


async def owners_order(
    query: CallbackQuery, callback_data: AdminCb, desk: AdminDesk, role: Role, refusal: str
) -> tuple[Order, Message] | None:
    """The order an owner-only button names and the message the button sits on; None
    after telling a non-owner `refusal`, or that the order is gone."""
    if role is not Role.OWNER:
        await query.answer(refusal, show_alert=True)
        return None
    order = await desk.find(callback_data.ref)
    if not isinstance(order, Order) or not isinstance(query.message, Message):
        await query.answer(_("Order not found."), show_alert=True)
        return None
    return order, query.message


def cancel_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("✖ Cancel"), callback_data=AdminCb(action="cancel").pack())


def user_id_argument(command: CommandObject) -> int | None:
    argument = (command.args or "").strip()
    return int(argument) if argument.isdigit() else None


async def find_order(
    message: Message, command: CommandObject | str, desk: AdminDesk, usage: str
) -> Order | None:
    """The order a command names (its arguments, or the reference given), or None after
    telling the admin why not."""
    reference = (command if isinstance(command, str) else command.args or "").strip()
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
