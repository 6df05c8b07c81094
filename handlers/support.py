"""/support: the customer writes to the shop's team; answers come back into this chat.

After /support (or the menu's Support button) the customer is in support mode: each
message (text, a screenshot, a file) goes to the admin group, until they press Done, send
/cancel or use any other command. Open to banned customers and during maintenance too.
"""

from __future__ import annotations

import contextlib
from typing import Literal

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.admin.support import COPYABLE, SupportDesk
from handlers.filters import InState, Is


class SupportCb(CallbackData, prefix="sp"):
    action: Literal["write", "done"]


class Support(StatesGroup):
    writing = State()


def register(r: Router) -> None:
    """The support handlers, on the customers' router."""
    r.message.register(support_command, Command("support"))
    r.callback_query.register(write_pressed, SupportCb.filter(F.action == "write"))
    r.callback_query.register(done_pressed, SupportCb.filter(F.action == "done"))
    commands = F.text.startswith("/")
    r.message.register(done_command, InState(Support.writing), Command("cancel"))
    r.message.register(leave_for_command, InState(Support.writing), Is(commands))  # on to the rest
    r.message.register(
        to_support, InState(Support.writing), Is(~commands), Is(F.content_type.in_(COPYABLE))
    )


def support_button() -> InlineKeyboardButton:
    """The customer menu's entry to support."""
    return InlineKeyboardButton(
        text=_("💬 Support"), callback_data=SupportCb(action="write").pack()
    )


def write_more() -> InlineKeyboardMarkup:
    """Under an answer from support: write back."""
    button = InlineKeyboardButton(text=_("✍️ Reply"), callback_data=SupportCb(action="write").pack())
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def _done() -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(text=_("✅ Done"), callback_data=SupportCb(action="done").pack())
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


async def support_command(message: Message, state: FSMContext, support: SupportDesk) -> None:
    text, markup = await _open(state, support)
    await message.answer(text, reply_markup=markup)


async def write_pressed(query: CallbackQuery, state: FSMContext, support: SupportDesk) -> None:
    text, markup = await _open(state, support)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def _open(state: FSMContext, support: SupportDesk) -> tuple[str, InlineKeyboardMarkup | None]:
    if not support.available:
        return _("Support is not available right now. Payment questions: /paysupport."), None
    await state.set_state(Support.writing)
    await state.set_data({})
    return (
        _(
            "💬 Write your message to our team: text, or a screenshot with a caption. Send as"
            " many messages as you need; the answer comes into this chat. Press Done when"
            " you have finished."
        ),
        _done(),
    )


async def to_support(message: Message, state: FSMContext, support: SupportDesk) -> None:
    if not await support.from_customer(message):
        await message.answer(
            _("Your message could not reach our team just now. Please try again in a minute.")
        )
        return
    if not (await state.get_data()).get("sent"):  # said once, not after every message
        await state.update_data(sent=True)
        await message.answer(
            _("✅ Sent to our team. Add more if you like, or press Done."), reply_markup=_done()
        )


async def done_pressed(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):  # pressed twice: nothing to remove
            await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(await _close(state))


async def done_command(message: Message, state: FSMContext) -> None:
    await message.answer(await _close(state))


async def _close(state: FSMContext) -> str:
    await state.clear()
    return _("Thank you! Our answer will come into this chat. Write again with /support.")


async def leave_for_command(_: Message, state: FSMContext) -> None:
    """Another command ends support mode; the command itself is handled as usual."""
    await state.clear()
    raise SkipHandler
