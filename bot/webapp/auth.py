"""Who is calling the Mini App's API: Telegram's `initData`, signed with the bot token
(HMAC-SHA256, as Telegram documents; checked by aiogram), not older than
WEBAPP_AUTH_MAX_AGE. Anything else is nobody."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiogram.utils.web_app import WebAppUser, safe_parse_webapp_init_data
from pydantic import ValidationError

SCHEME = "tma"  # Authorization: tma <initData>, as Telegram's Mini App examples send it
MAX_INIT_DATA = 4096  # Telegram's initData is well under a kilobyte


class WebAppAuth:
    def __init__(
        self, bot_token: str, max_age: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._token = bot_token
        self._max_age = max_age
        self._clock = clock

    def __repr__(self) -> str:
        return "WebAppAuth(token=<hidden>)"

    def customer(self, authorization: str | None) -> WebAppUser | None:
        """The Telegram user the `Authorization` header's initData was signed for; None for
        a missing, forged, expired or userless one."""
        scheme, _space, init_data = (authorization or "").partition(" ")
        if scheme.lower() != SCHEME or not init_data or len(init_data) > MAX_INIT_DATA:
            return None
        try:
            parsed = safe_parse_webapp_init_data(self._token, init_data.strip())
        except (ValueError, ValidationError):  # forged, or signed but unreadable
            return None
        age = self._clock() - parsed.auth_date.timestamp()
        if parsed.user is None or not -60 <= age <= self._max_age:  # a minute of clock skew
            return None
        return parsed.user
