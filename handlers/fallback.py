"""Whatever no other router took: stale or forged buttons, stray text."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers import keyboards


def register(r: Router) -> None:
    """The fallback handlers, on the customers' router."""
    r.callback_query.register(unknown_button)
    r.message.register(unknown_message)


async def unknown_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is no longer valid. Send /start to begin again."), show_alert=True
    )


async def unknown_message(message: Message) -> None:
    await message.answer(
        _("Use the buttons below, or send /start to open the catalog."),
        reply_markup=keyboards.back_to_catalog(),
    )
