"""/language: the customer picks the bot's language (otherwise Telegram's is used)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.runtime.signals import Signal, Signals
from handlers import keyboards
from handlers.callbacks import LanguageCb, LanguageMenuCb
from handlers.replies import edit_or_send
from storage.users import UserRepo


def register(r: Router) -> None:
    """The language handlers, on the customers' router."""
    r.message.register(language_command, Command("language"))
    r.callback_query.register(language_menu, LanguageMenuCb.filter())
    r.callback_query.register(choose, LanguageCb.filter())


async def language_command(message: Message) -> None:
    await message.answer(_("Choose your language:"), reply_markup=keyboards.languages())


async def language_menu(query: CallbackQuery) -> None:
    await edit_or_send(query, _("Choose your language:"), keyboards.languages())


async def choose(
    query: CallbackQuery,
    callback_data: LanguageCb,
    users: UserRepo,
    i18n: I18n,
    signals: Signals,
) -> None:
    if callback_data.code not in keyboards.LANGUAGES or callback_data.code not in (
        i18n.available_locales
    ):
        await query.answer(_("This language is not available."), show_alert=True)
        return
    await users.set_language(query.from_user.id, callback_data.code)
    signals.emit(Signal.CUSTOMER, str(query.from_user.id), here=False)  # other replicas
    with i18n.use_locale(callback_data.code):
        await query.answer()
        assert query.bot is not None
        await query.bot.send_message(
            query.from_user.id,
            _("Done: I will speak English with you."),
            reply_markup=keyboards.back_to_catalog(),
        )
