"""Languages: Babel catalogs under locales/, chosen per user (aiogram's i18n)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from storage.users import UserRepo

DOMAIN = "messages"


def load_i18n(locales_dir: Path, default_locale: str) -> I18n:
    return I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)


def pick_locale(i18n: I18n, language: str | None) -> str:
    """'pt-br' -> 'pt' if only that is translated; unknown -> the shop's default."""
    if language:
        for candidate in (language, language.split("-")[0].lower()):
            if candidate in i18n.available_locales:
                return candidate
    return i18n.default_locale


class UserLanguageMiddleware(I18nMiddleware):
    """The user's /language choice, else their Telegram app's language."""

    def __init__(self, i18n: I18n, users: UserRepo) -> None:
        super().__init__(i18n)
        self._users = users

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None:
            return self.i18n.default_locale
        return pick_locale(self.i18n, await self._users.language(user.id, user.language_code))
