"""Sends admin alerts into the admin group at Telegram's pace, merged into digests.

Telegram lets a bot post about 20 messages a minute into one group. Alerts are stored
first (`storage.alerts`); this loop sends at most one message every `interval` seconds:
a lone alert as it is, with buttons for its order, several as one digest. An outage that
fails a hundred orders therefore yields a handful of messages, and none is dropped: an
alert is marked sent only once Telegram took the message (a 429 is waited out).

The sales feed (`topic` 'orders': one line per delivered or refunded order) goes through the
same loop, so alerts and the feed share one pace. When the admin group is a forum, each
goes to its own topic (`bot.admin.topics`); in a plain group alerts go to the group and there is
no feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from collections.abc import Callable, Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.admin.topics import ALERTS, GroupTopics
from bot.runtime import process_name
from storage.alerts import Alert, AlertRepo
from storage.leases import LeaseRepo

log = logging.getLogger(__name__)
MESSAGE_LIMIT = 4096  # Bot API: text of one message
DIGEST_SIZE = 40  # alerts per digest at most (the rest go in the next one)
OPEN_BUTTONS = 5  # orders a digest offers to open with one tap
SENDER_LEASE = 20.0  # one sender for the whole shop (the group's pace is the shop's)
IDLE_CHECK = 5.0  # with nothing to send, look again this often (and renew the lease)


class AlertSender:
    def __init__(
        self,
        bot: Bot,
        alerts: AlertRepo,
        i18n: I18n,
        chat_id: int,
        *,
        buttons: Callable[[list[str]], InlineKeyboardMarkup],
        interval: float = 3.0,
        topics: GroupTopics | None = None,
        leases: LeaseRepo | None = None,
    ) -> None:
        self._bot = bot
        self._alerts = alerts
        self._i18n = i18n
        self._chat_id = chat_id
        self._interval = interval  # 3 s: 20 messages a minute
        self._topics = topics  # None: everything into the group itself
        self._make_buttons = buttons  # the admin router's buttons for these order ids
        self._owner = process_name("alerts")
        self._leases = leases  # None: this process is the shop's only sender
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            started = time.monotonic()
            try:
                sent = await self._holds_lease() and await self.send_once()
            except Exception:  # alerts must outlive a bad moment; they stay pending
                log.exception("sending admin alerts failed; trying again")
                sent = True
            if sent:  # keep the pace: the next message no sooner than `interval`
                await asyncio.sleep(max(0.0, self._interval - (time.monotonic() - started)))
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_CHECK):
                        await self._wake.wait()

    async def _holds_lease(self) -> bool:
        """Whether this process is the shop's sender now (renewed every round)."""
        if self._leases is None:
            return True
        return await self._leases.take("job:alert-sender", self._owner, SENDER_LEASE)

    async def send_once(self) -> bool:
        """Send the next message (one alert, or a digest); False when nothing waits."""
        batch = await self._alerts.claim(self._owner, limit=DIGEST_SIZE, lease_seconds=60)
        if not batch:
            return False
        topic = batch[0].topic
        if topic != ALERTS and (self._topics is None or not await self._topics.is_forum()):
            log.info("no topics in the admin group: %d feed lines not posted", len(batch))
            await self._alerts.sent([alert.id for alert in batch])  # the feed is forum-only
            return True
        text, used = self._compose(batch)
        markup = self._buttons(used) if topic == ALERTS else None

        async def send(thread: int | None) -> None:
            await self._bot.send_message(
                self._chat_id, text, reply_markup=markup, message_thread_id=thread
            )

        try:
            if self._topics is None:
                await send(None)
            else:
                await self._topics.post(topic, send)
        except TelegramRetryAfter as exc:
            await self._alerts.release([alert.id for alert in batch])
            await asyncio.sleep(exc.retry_after)
            return True
        await self._alerts.sent([alert.id for alert in used])
        await self._alerts.release([alert.id for alert in batch if alert not in used])
        return True

    def _compose(self, batch: Sequence[Alert]) -> tuple[str, list[Alert]]:
        """The message text and the alerts it holds (as many as fit in one message)."""
        if len(batch) == 1:
            return html.escape(batch[0].text)[:MESSAGE_LIMIT], [batch[0]]
        with self._i18n.context(), self._i18n.use_locale(self._i18n.default_locale):
            if batch[0].topic == ALERTS:
                header = _("⚠️ {count} alerts:").format(count=len(batch))
            else:
                header = _("🧾 {count} sales and refunds:").format(count=len(batch))
        text, used = header, []
        for alert in batch:
            line = "\n• " + html.escape(alert.text)
            if len(text) + len(line) > MESSAGE_LIMIT - 64:
                break
            text += line
            used.append(alert)
        return text, used

    def _buttons(self, alerts: Sequence[Alert]) -> InlineKeyboardMarkup | None:
        orders = list(dict.fromkeys(a.order_id for a in alerts if a.order_id))[:OPEN_BUTTONS]
        if not orders:
            return None
        with self._i18n.context(), self._i18n.use_locale(self._i18n.default_locale):
            return self._make_buttons(orders)
