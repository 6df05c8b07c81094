"""Who may act in the admin group: its administrators, and among them the owners.

Only the group whose id is ADMIN_CHAT_ID counts. Membership comes from Telegram
(getChatMember), cached briefly so a busy group does not ask on every update; a member
who loses admin rights loses them here within `ttl` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from enum import StrEnum

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError

log = logging.getLogger(__name__)
_ADMINS = (ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR)


class Role(StrEnum):
    OPERATOR = "operator"  # reads, retries, answers support
    OWNER = "owner"  # also refunds, grants credit, broadcasts, bans, changes prices


class AdminAccess:
    def __init__(
        self, bot: Bot, chat_id: int | None, owner_ids: Collection[int], ttl: float = 60.0
    ) -> None:
        self.chat_id = chat_id
        self._bot = bot
        self._owners = frozenset(owner_ids)
        self._ttl = ttl
        self._cache: dict[int, tuple[float, bool]] = {}

    async def role(self, chat_id: int, user_id: int) -> Role | None:
        """The role of `user_id` acting in `chat_id`; None anywhere but the admin group, and
        for anyone who is not one of its administrators."""
        if self.chat_id is None or chat_id != self.chat_id:
            return None
        if not await self._is_admin(user_id):
            return None
        return Role.OWNER if user_id in self._owners else Role.OPERATOR

    async def _is_admin(self, user_id: int) -> bool:
        cached = self._cache.get(user_id)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        assert self.chat_id is not None
        try:
            member = await self._bot.get_chat_member(self.chat_id, user_id)
        except TelegramAPIError as exc:
            log.warning("admin check for %s failed: %s", user_id, exc)
            return False  # unknown is no
        admin = member.status in _ADMINS
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[user_id] = (now + self._ttl, admin)
        return admin
