"""Languages: Babel catalogs under locales/, chosen per user (aiogram's i18n)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import Chat, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from storage.users import UserRepo

DOMAIN = "messages"


def load_i18n(locales_dir: Path, default_locale: str) -> I18n:
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


def current_locale() -> str:
    """The language being answered in ("" outside an update): part of the key of anything
    built once per language."""
    i18n = I18n.get_current(no_error=True)
    return i18n.current_locale if i18n is not None else ""


def pick_locale(i18n: I18n, language: str | None) -> str:
    """'pt-br' -> 'pt' if only that is translated; unknown -> the shop's default."""
    if language:
        for candidate in (language, language.split("-")[0].lower()):
            if candidate in i18n.available_locales:
                return candidate
    return i18n.default_locale


class UserLanguageMiddleware(I18nMiddleware):
    """The user's /language choice, else their Telegram app's language."""

    def __init__(self, i18n: I18n, users: UserRepo, admin_chat_id: int | None = None) -> None:
        super().__init__(i18n)
        self._users = users
        self._admin_chat_id = admin_chat_id

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat: Chat | None = data.get("event_chat")
        if chat is not None and chat.id == self._admin_chat_id:
            return self.i18n.default_locale  # admin texts: the shop's language
        user: User | None = data.get("event_from_user")
        if user is None:
            return self.i18n.default_locale
        return pick_locale(self.i18n, await self._users.language(user.id, user.language_code))
