"""A message from the owner to every customer who did not block the bot, within Telegram's
limits: about 30 messages a second in all (we keep to `rate`), a 429's `retry_after`
waited out, customers who blocked the bot marked and skipped next time. One progress
message in the admin group is edited as it goes (rarely: edits count against the group's
20 messages a minute), then the final count."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.runtime import process_name
from storage.leases import LeaseRepo
from storage.users import UserRepo
from vendors.pace import Pace

log = logging.getLogger(__name__)
PAGE = 200
LEASE = "job:broadcast"  # one broadcast at a time in the whole shop
LEASE_SECONDS = 120.0  # renewed every page; a crashed sender's lease runs out


@dataclass
class BroadcastCount:
    total: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.blocked + self.failed


class Broadcaster:
    def __init__(
        self,
        bot: Bot,
        users: UserRepo,
        i18n: I18n,
        *,
        rate: float = 25.0,
        progress_every: float = 5.0,
        pace: Pace | None = None,
        leases: LeaseRepo | None = None,
    ) -> None:
        self._bot = bot
        self._users = users
        self._i18n = i18n
        # Telegram's ~30 messages a second are the bot's, whichever replica sends
        self._pace = pace or Pace()
        self._rate = rate
        self._leases = leases
        self._owner = process_name("broadcast")
        self._progress_every = progress_every
        self._running: set[asyncio.Task[BroadcastCount]] = set()

    async def start(
        self, text: str, chat_id: int, progress_message_id: int
    ) -> asyncio.Task[BroadcastCount] | None:
        """Run in the background (the admin's update is answered at once); None while
        another broadcast is still going out (from any process of the shop)."""
        if not await self._hold():
            return None
        task = asyncio.create_task(self._run_and_release(text, chat_id, progress_message_id))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _hold(self) -> bool:
        return self._leases is None or await self._leases.take(LEASE, self._owner, LEASE_SECONDS)

    async def _run_and_release(
        self, text: str, chat_id: int, progress_message_id: int
    ) -> BroadcastCount:
        try:
            return await self.run(text, chat_id, progress_message_id)
        finally:
            if self._leases is not None:
                await self._leases.release(LEASE, self._owner)

    async def run(self, text: str, chat_id: int, progress_message_id: int) -> BroadcastCount:
        count = BroadcastCount(total=await self._users.count_reachable())
        last_progress = time.monotonic()
        after = 0
        while True:
            page = await self._users.reachable(after=after, limit=PAGE)
            if not page:
                break
            await asyncio.gather(*(self._send(user_id, text, count) for user_id in page))
            after = page[-1]
            await self._hold()
            if time.monotonic() - last_progress >= self._progress_every:
                last_progress = time.monotonic()
                await self._progress(chat_id, progress_message_id, count)
        await self._progress(chat_id, progress_message_id, count)
        with self._i18n.context(), self._i18n.use_locale(self._i18n.default_locale):
            summary = _(
                "📣 Broadcast done: {sent} sent, {blocked} had blocked the bot (skipped from"
                " now on), {failed} failed."
            ).format(sent=count.sent, blocked=count.blocked, failed=count.failed)
        await self._bot.send_message(chat_id, summary)
        log.info("broadcast: %s", count)
        return count

    async def _send(self, user_id: int, text: str, count: BroadcastCount) -> None:
        for _attempt in range(3):
            await self._pace.wait("telegram:broadcast", self._rate, smooth=True)
            try:
                await self._bot.send_message(user_id, text)
            except TelegramRetryAfter as exc:
                await asyncio.sleep(exc.retry_after)
                continue
            except TelegramForbiddenError:
                count.blocked += 1
                await self._users.set_blocked(user_id, True)
                return
            except TelegramBadRequest as exc:  # e.g. the chat is gone
                log.info("broadcast to %s failed: %s", user_id, exc.message)
                count.failed += 1
                return
            count.sent += 1
            return
        count.failed += 1

    async def _progress(self, chat_id: int, message_id: int, count: BroadcastCount) -> None:
        with self._i18n.context(), self._i18n.use_locale(self._i18n.default_locale):
            text = _("📣 Sending… {done} of {total}").format(done=count.done, total=count.total)
        # "not modified", or the message is gone: progress is a courtesy
        with contextlib.suppress(TelegramBadRequest):
            await self._bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
