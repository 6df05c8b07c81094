"""Telegram updates: long polling (one process), or a webhook served by every bot replica.

In webhook mode a replica registers the webhook only when Telegram has something else
(another URL, other update types, another secret), never drops pending updates, and
never deletes the webhook when it stops: the other replicas go on serving it. An update
is answered only once it was handled, so one that failed (a database restart) is sent
again by Telegram instead of being lost."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from storage.flags import FlagRepo

log = logging.getLogger(__name__)
SECRET_FLAG = "telegram_webhook_secret_sha256"  # which secret Telegram was given


class PollingConflict(Exception):
    """Another process polls Telegram with this bot token, or a webhook is set."""


async def ensure_webhook(
    bot: Bot, flags: FlagRepo, url: str, secret: str, allowed_updates: list[str]
) -> bool:
    """Point Telegram at `url` unless it already is, with these update types and this
    secret; True if it had to be changed. Telegram never shows the secret, so the shop
    remembers a hash of the one it gave."""
    info = await bot.get_webhook_info()
    fingerprint = hashlib.sha256(secret.encode()).hexdigest()
    if (
        info.url == url
        and sorted(info.allowed_updates or []) == sorted(allowed_updates)
        and await flags.get(SECRET_FLAG) == fingerprint
    ):
        return False
    await bot.set_webhook(
        url,
        secret_token=secret,
        allowed_updates=allowed_updates,
        drop_pending_updates=False,
    )
    await flags.set(SECRET_FLAG, fingerprint)
    log.info("Telegram webhook set to %s", url)
    return True


def webhook_route(
    dispatcher: Dispatcher, bot: Bot, path: str, secret: str, **data: Any
) -> Callable[[web.Application], None]:
    """aiogram's webhook handler at `path`: a request without the secret gets 401."""

    def add(app: web.Application) -> None:
        handler = SimpleRequestHandler(
            dispatcher, bot, secret_token=secret, handle_in_background=False, **data
        )
        handler.register(app, path=path)

    return add


def refuse_second_poller(on_conflict: Callable[[PollingConflict], None]) -> Any:
    """A session middleware: Telegram's 409 to getUpdates means another poller (or a
    webhook) has this bot; aiogram would retry forever, fighting it. Say so and stop."""

    async def middleware(
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramConflictError as exc:
            if isinstance(method, GetUpdates):
                on_conflict(PollingConflict(conflict_text(exc.message)))
            raise

    return middleware


def conflict_text(message: str) -> str:
    if "webhook" in message.lower():
        return (
            "a webhook is set for this bot, so it cannot poll: set TELEGRAM_WEBHOOK_URL (and"
            " TELEGRAM_WEBHOOK_SECRET) to serve it, or delete the webhook to poll"
        )
    return (
        "another process polls Telegram with this BOT_TOKEN: run one poller, or several bot"
        " replicas in webhook mode (TELEGRAM_WEBHOOK_URL)"
    )


STARTUP_ATTEMPTS = 6  # about half a minute of Telegram's hiccups at start


def _hiccup_wait(state: RetryCallState) -> float:
    """Telegram's own retry_after for a 429, else a growing pause (0.5 s up to 8 s)."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, TelegramRetryAfter):
        return float(exc.retry_after)
    return float(min(8.0, 0.5 * 2 ** (state.attempt_number - 1)))


async def patiently(what: str, call: Callable[[], Awaitable[object]]) -> bool:
    """A start-up call to Telegram, tried again while Telegram hiccups (429, 5xx, no
    answer): a flaky moment must not stop a process from starting. False (logged) when it
    never went through."""
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(
                (TelegramRetryAfter, TelegramServerError, TelegramNetworkError)
            ),
            wait=_hiccup_wait,
            stop=stop_after_attempt(STARTUP_ATTEMPTS),
            reraise=True,
        ):
            with attempt:
                await call()
    except (TelegramRetryAfter, TelegramServerError, TelegramNetworkError) as exc:
        log.warning("%s: Telegram kept failing (%s); going on without it", what, exc)
        return False
    return True
