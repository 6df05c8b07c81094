"""Forum topics of the admin group: "Alerts", "Orders", and one per customer in /support.

When the admin group is a forum (getChat says `is_forum`), each kind of message has a topic
of its own, opened once (createForumTopic) and remembered in the database, so a restart or
a second replica posts into the same topic. A remembered topic someone deleted (Telegram:
"message thread not found") is opened again. In a plain group there are no topics: messages
go to the group itself (thread None); so they do, for a while, when the bot may not open
topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from storage.support import ForumTopicRepo

log = logging.getLogger(__name__)
T = TypeVar("T")
Opened = Callable[[int], Awaitable[object]]  # told the thread id of a topic just opened
ALERTS = "alerts"
ORDERS = "orders"  # the sales feed: forum groups only
NAME_LIMIT = 128  # Bot API: a forum topic's name is 1-128 characters
_GONE = ("message thread not found", "topic_deleted")


def customer_topic(user_id: int) -> str:
    return f"customer:{user_id}"


class GroupTopics:
    def __init__(
        self, bot: Bot, repo: ForumTopicRepo, i18n: I18n, chat_id: int, *, ttl: float = 300.0
    ) -> None:
        self.chat_id = chat_id
        self._bot = bot
        self._repo = repo
        self._i18n = i18n
        self._ttl = ttl  # how long getChat's answer (forum or not) is believed
        self._forum: tuple[float, bool] | None = None
        self._opening = asyncio.Lock()

    async def is_forum(self) -> bool:
        now = time.monotonic()
        if self._forum is None or self._forum[0] <= now:
            chat = await self._bot.get_chat(self.chat_id)
            self._forum = (now + self._ttl, bool(chat.is_forum))
        return self._forum[1]

    async def thread(
        self,
        topic: str,
        *,
        name: str | None = None,
        customer_id: int | None = None,
        opened: Opened | None = None,
    ) -> int | None:
        """The thread id of `topic` (opened now if needed, then `opened` is called with it);
        None in a plain group."""
        if not await self.is_forum():
            return None
        known = await self._repo.thread(self.chat_id, topic)
        if known is not None:
            return known
        async with self._opening:
            known = await self._repo.thread(self.chat_id, topic)
            if known is not None:
                return known
            return await self._open(topic, name or self._name(topic), customer_id, opened)

    async def post(
        self,
        topic: str,
        send: Callable[[int | None], Awaitable[T]],
        *,
        name: str | None = None,
        customer_id: int | None = None,
        opened: Opened | None = None,
    ) -> T:
        """`send(thread id)` into `topic`; once more into a new topic if it was deleted."""
        thread = await self.thread(topic, name=name, customer_id=customer_id, opened=opened)
        try:
            return await send(thread)
        except TelegramBadRequest as exc:
            if thread is None or not any(gone in exc.message.lower() for gone in _GONE):
                raise
        log.info("the %s topic of the admin group is gone; opening it again", topic)
        await self._repo.forget(self.chat_id, topic, thread)
        return await send(
            await self.thread(topic, name=name, customer_id=customer_id, opened=opened)
        )

    async def customer_of(self, thread_id: int) -> int | None:
        """The customer whose support topic `thread_id` is."""
        return await self._repo.customer_of(self.chat_id, thread_id)

    async def _open(
        self, topic: str, name: str, customer_id: int | None, opened: Opened | None
    ) -> int | None:
        try:
            created = await self._bot.create_forum_topic(self.chat_id, name[:NAME_LIMIT])
        except TelegramBadRequest as exc:  # no right to manage topics, or not a forum any more
            log.warning("could not open the topic %r in the admin group: %s", name, exc.message)
            self._forum = (time.monotonic() + self._ttl, False)  # a plain group meanwhile
            return None
        thread = await self._repo.remember(
            self.chat_id, topic, created.message_thread_id, customer_id
        )
        if thread != created.message_thread_id:  # another replica opened it first
            with contextlib.suppress(TelegramAPIError):
                await self._bot.delete_forum_topic(self.chat_id, created.message_thread_id)
        elif opened is not None:
            await opened(thread)
        return thread

    def _name(self, topic: str) -> str:
        with self._i18n.context(), self._i18n.use_locale(self._i18n.default_locale):
            names = {ALERTS: _("⚠️ Alerts"), ORDERS: _("🧾 Orders")}
        return names.get(topic, topic)
