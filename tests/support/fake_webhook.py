"""Webhook mode of the fake Bot API server (``FakeTelegram.webhook``).

While a webhook is set, ``Webhook`` POSTs the pending updates to its ``url`` as Telegram does:
the updates of one chat one at a time and in order (a failing one holds back its chat's later
updates), other chats concurrently, up to ``max_connections`` requests at once. A 2xx answer
confirms the update; any other answer, or none within ``timeout``, keeps it pending, sets
``last_error_*`` and retries it after ``retry_delay``. A 2xx answer may carry a method call
(Telegram's "reply to the webhook"), which is executed like a request whose result nobody sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp

from .botapi_schema import UploadedFile

Json = dict[str, Any]
Lane = int | str  # a chat (or user) id: its updates are delivered one at a time
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_CONNECTIONS = 40


@dataclass(frozen=True)
class Delivery:
    """One POST of an update to the webhook."""

    update_id: int
    status: int | None  # HTTP status of the answer; None: no answer (refused, timed out)
    error: str | None = None  # what getWebhookInfo's last_error_message says about it
    url: str = ""
    ts: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.error is None


class Webhook:
    """The webhook of a FakeTelegram: its settings, delivery task and delivery log."""

    def __init__(
        self,
        pending: Callable[[], list[Json]],
        confirm: Callable[[int], None],
        execute: Callable[[Json], Awaitable[object]],
        notify: Callable[[], None],
    ) -> None:
        self._pending = pending  # deliverable updates, oldest first (allowed_updates applied)
        self._confirm = confirm  # removes a delivered update from the queue
        self._execute = execute  # runs a method call found in a webhook answer
        self._notify = notify  # wakes the FakeTelegram's waiters
        self.url = ""  # '' while no webhook is set
        self.secret_token: str | None = None
        self.max_connections = DEFAULT_MAX_CONNECTIONS
        self.has_custom_certificate = False
        self.ip_address: str | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.retry_delay = 0.2  # seconds before a failed update is sent again
        self.timeout = 10.0  # seconds to wait for the webhook's answer
        self.deliveries: list[Delivery] = []  # every attempt, oldest first
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def attempts(self, update_id: int) -> int:
        """How many times the update was POSTed (more than once after failed answers)."""
        return sum(1 for delivery in self.deliveries if delivery.update_id == update_id)

    def start(
        self,
        url: str,
        secret_token: str | None = None,
        max_connections: int | None = None,
        has_custom_certificate: bool = False,
        ip_address: str | None = None,
    ) -> None:
        """Set (or change) the webhook. Requests under way finish; later ones use the new
        settings."""
        self.url, self.secret_token = url, secret_token or None
        connections = DEFAULT_MAX_CONNECTIONS if max_connections is None else max_connections
        self.max_connections = min(max(connections, 1), 100)  # Telegram's range: 1-100
        self.has_custom_certificate, self.ip_address = has_custom_certificate, ip_address
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="FakeTelegram webhook")
        self.wake()

    async def stop(self) -> None:
        """Remove the webhook; requests under way are abandoned (their updates stay pending)."""
        self.url, self.secret_token, self.ip_address = "", None, None
        self.has_custom_certificate = False
        self.last_error_date = self.last_error_message = None
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            raise RuntimeError("FakeTelegram's webhook delivery crashed") from task.exception()

    def wake(self) -> None:
        self._wakeup.set()

    def info(self, pending_update_count: int, allowed_updates: list[str] | None) -> Json:
        """The WebhookInfo object getWebhookInfo returns."""
        info: Json = {
            "url": self.url,
            "has_custom_certificate": self.has_custom_certificate,
            "pending_update_count": pending_update_count,
        }
        if not self.url:
            return info
        optional = {
            "ip_address": self.ip_address,
            "last_error_date": self.last_error_date,
            "last_error_message": self.last_error_message,
            "max_connections": self.max_connections,
            "allowed_updates": allowed_updates or None,
        }
        return info | {key: value for key, value in optional.items() if value is not None}

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as tasks:
            busy: set[Lane] = set()  # chats with a request under way
            while True:
                self._wakeup.clear()
                for update in list(self._pending()):
                    lane = _lane(update)
                    if lane in busy:
                        continue  # an earlier update of this chat is under way
                    if len(busy) >= self.max_connections:
                        break
                    busy.add(lane)
                    tasks.create_task(self._deliver(session, update, partial(busy.remove, lane)))
                await self._wakeup.wait()

    async def _deliver(
        self, session: aiohttp.ClientSession, update: Json, release: Callable[[], None]
    ) -> None:
        url, reply = self.url, None
        headers = {SECRET_HEADER: self.secret_token} if self.secret_token else {}
        try:
            try:
                timeout = aiohttp.ClientTimeout(total=self.timeout)
                async with session.post(url, json=update, headers=headers, timeout=timeout) as r:
                    status, error = r.status, None
                    if 200 <= status < 300:
                        reply = await _reply(r)
                    else:
                        error = f"Wrong response from the webhook: {status} {r.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, _describe(exc)
            self.deliveries.append(Delivery(update["update_id"], status, error, url))
            if error is None:
                self._confirm(update["update_id"])
            else:
                self.last_error_date, self.last_error_message = int(time.time()), error
            self._notify()
            if reply is not None:
                await self._execute(reply)
            if error is not None:
                await asyncio.sleep(self.retry_delay)  # the chat's updates wait meanwhile
        finally:
            release()
            self.wake()


def _lane(update: Json) -> Lane:
    """Telegram serialises the updates of a chat: the chat's id, else the user's."""
    payload = next((v for k, v in update.items() if k != "update_id"), None)
    if isinstance(payload, dict):
        message = payload.get("message")
        chat = payload.get("chat") or (message.get("chat") if isinstance(message, dict) else None)
        who = chat or payload.get("from") or payload.get("user")
        if isinstance(who, dict) and isinstance(who.get("id"), int):
            return int(who["id"])
    return f"update {update['update_id']}"


def _describe(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return "Read timeout expired"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "Connection refused"
    return f"Connection error: {type(error).__name__}"


async def _reply(response: aiohttp.ClientResponse) -> Json | None:
    """A method call in a webhook answer: JSON, or a form such as aiogram's
    SimpleRequestHandler(handle_in_background=False) writes, with a "method" field."""
    params: Json = {}
    if response.content_type == "application/json":
        try:
            body = await response.json()
        except ValueError:
            return None
        params = body if isinstance(body, dict) else {}
    elif response.content_type == "multipart/form-data":
        async for part in aiohttp.MultipartReader(response.headers, response.content):
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename is None:
                params[part.name] = await part.text()
            else:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                data = await part.read()
                params[part.name] = UploadedFile(part.name, part.filename, content_type, data)
    return params if isinstance(params.get("method"), str) else None
