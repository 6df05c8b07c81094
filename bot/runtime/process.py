"""One process of the shop, running what its role asks: Telegram updates (polling or a
webhook), the worker and the alert sender, or all of it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, MenuButtonWebApp, WebAppInfo
from aiogram.utils.i18n import I18n

from bot.admin.alerts import AlertSender
from bot.config import Settings
from bot.orders.worker import Worker
from bot.runtime.signals import Signals
from bot.runtime.telegram import (
    PollingConflict,
    ensure_webhook,
    patiently,
    refuse_second_poller,
)
from storage.flags import FlagRepo
from vendors.base import Vendor

log = logging.getLogger(__name__)
WEBHOOK_RETRY_SECONDS = 60.0  # between rounds of giving Telegram the webhook
GET_ME_RETRY_SECONDS = 15.0  # between rounds of asking Telegram who the bot is


@dataclass
class Storefront:
    settings: Settings
    bot: Bot
    dispatcher: Dispatcher
    worker: Worker
    i18n: I18n
    vendors: dict[str, Vendor]
    signals: Signals
    flags: FlagRepo
    alerts: AlertSender | None = None
    # what every process refreshes by itself now and then (its catalog snapshot)
    refresh: Callable[[], Awaitable[object]] | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _conflict: PollingConflict | None = None
    _crashed: BaseException | None = None

    async def run(self, *, handle_signals: bool = True) -> None:
        """Serve until stopped (SIGTERM/SIGINT, or `stop()`)."""
        role = self.settings.role
        background = [asyncio.create_task(self.signals.run(), name="signals")]
        if role.works:
            background.append(asyncio.create_task(self.worker.run(), name="worker"))
            if self.alerts is not None:
                background.append(asyncio.create_task(self.alerts.run(), name="alerts"))
        elif self.refresh is not None:
            background.append(asyncio.create_task(self._refreshing(), name="refresh"))
        for task in background:
            task.add_done_callback(self._ended)
        try:
            if role.serves_updates and not self.settings.telegram_webhook_url:
                await self._poll(handle_signals)
            else:
                if role.serves_updates:  # ends once Telegram has the webhook: fine, unless
                    webhook = asyncio.create_task(self._serve_webhook(), name="webhook")
                    webhook.add_done_callback(self._failed)  # it failed (a revoked token)
                    background.append(webhook)
                await self._until_stopped(handle_signals)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
        if self._conflict is not None:
            raise self._conflict
        if self._crashed is not None:
            raise RuntimeError("a part of the shop stopped; see the log") from self._crashed

    def _ended(self, task: asyncio.Task[None]) -> None:
        """A background part that ends by itself has failed: stop the process, so that
        whatever runs it (Docker, systemd) starts it again, rather than limp on."""
        if task.cancelled() or self._stopping.is_set():
            return
        self._crashed = task.exception() or RuntimeError(f"{task.get_name()} ended")
        log.error("%s stopped: %r; stopping the process", task.get_name(), self._crashed)
        asyncio.get_running_loop().create_task(self.stop())

    def _failed(self, task: asyncio.Task[None]) -> None:
        """A background part that may end: only an error stops the process."""
        if not task.cancelled() and task.exception() is not None:
            self._ended(task)

    async def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(RuntimeError):  # not polling
            await self.dispatcher.stop_polling()

    async def _poll(self, handle_signals: bool) -> None:
        def conflict(error: PollingConflict) -> None:
            if self._conflict is None:
                log.error("%s", error)
                self._conflict = error
                asyncio.get_running_loop().create_task(self.stop())

        self.bot.session.middleware(refuse_second_poller(conflict))
        await patiently("setting the bot's commands", self.set_commands)
        await patiently("setting the menu button", self.set_menu_button)
        # aiogram's polling starts with getMe and gives up on the first error: asked here,
        # patiently, the answer is kept for it
        while not await patiently("asking Telegram who the bot is", self.bot.me):
            if await self._stopped_within(GET_ME_RETRY_SECONDS):
                return
        await self.dispatcher.start_polling(
            self.bot,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
            close_bot_session=False,
            handle_signals=handle_signals,
        )

    async def _serve_webhook(self) -> None:
        settings = self.settings
        assert settings.telegram_webhook_url and settings.telegram_webhook_secret
        url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret

        async def point_telegram_here() -> None:
            await ensure_webhook(
                self.bot,
                self.flags,
                url,
                secret.get_secret_value(),
                self.dispatcher.resolve_used_update_types(),
            )

        await patiently("setting the bot's commands", self.set_commands)
        await patiently("setting the menu button", self.set_menu_button)
        # the webhook set by an earlier start goes on working meanwhile; a new one is tried
        # again every minute until Telegram takes it
        while not await patiently("checking the Telegram webhook", point_telegram_here):
            if await self._stopped_within(WEBHOOK_RETRY_SECONDS):
                return

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait `seconds` unless the process is told to stop first (then True)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def _until_stopped(self, handle_signals: bool) -> None:
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._stopping.set)
        await self._stopping.wait()

    async def _refreshing(self) -> None:
        assert self.refresh is not None
        while True:
            await asyncio.sleep(self.settings.housekeeping_seconds)
            try:
                await self.refresh()
            except Exception:
                log.exception("refreshing this process's caches failed; trying again later")

    async def set_menu_button(self) -> None:
        """The chat's menu button opens the Mini App, when the shop has one."""
        url = self.settings.webapp_url
        if url is None:
            return
        with self.i18n.context(), self.i18n.use_locale(self.i18n.default_locale):
            text = self.i18n.gettext("🛒 Shop")
        await self.bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(text=text, web_app=WebAppInfo(url=url))
        )

    async def set_commands(self) -> None:
        for locale in [None, *self.i18n.available_locales]:
            with self.i18n.context(), self.i18n.use_locale(locale or self.i18n.default_locale):
                commands = [
                    BotCommand(command="start", description=self.i18n.gettext("Open the catalog")),
                    BotCommand(command="orders", description=self.i18n.gettext("My orders")),
                    BotCommand(
                        command="support", description=self.i18n.gettext("Write to our team")
                    ),
                    BotCommand(command="language", description=self.i18n.gettext("Language")),
                    BotCommand(command="cancel", description=self.i18n.gettext("Cancel")),
                    BotCommand(
                        command="paysupport", description=self.i18n.gettext("Help with a payment")
                    ),
                    BotCommand(command="terms", description=self.i18n.gettext("Terms of sale")),
                ]
            await self.bot.set_my_commands(commands, language_code=locale)
