"""Signals between the processes of one shop: "an order is due now" (a payment on a bot
replica wakes the workers), "the catalog changed" (an offer edit reaches every replica's
snapshot), "a customer changed" (a ban or a language), "an alert waits".

A signal is handled in this process at once and, with Redis, published to the others
(pub/sub). A signal is a hint, never the only way: what it announces is in the database,
and every process also comes round to it by itself (the worker's poll, the housekeeping
round). So a signal lost while Redis restarts costs time, not data; after a reconnect
every handler runs once, for what may have been missed meanwhile."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from enum import StrEnum

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0
Handler = Callable[[str], Awaitable[None] | None]


class Signal(StrEnum):
    ORDERS_DUE = "orders-due"
    CATALOG = "catalog"
    CUSTOMER = "customer"  # data: the customer's id
    ALERTS = "alerts"


class Signals:
    def __init__(self, redis: Redis | None = None, prefix: str = "storefront") -> None:
        self._redis = redis
        self._channel = f"{prefix}:signals"
        self._me = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._handlers: dict[Signal, list[Handler]] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self.subscribed = asyncio.Event()

    def on(self, signal: Signal, handler: Handler) -> None:
        self._handlers.setdefault(signal, []).append(handler)

    def emit(self, signal: Signal, data: str = "", *, here: bool = True) -> None:
        """Handle here now (unless the caller did already); tell the other processes in
        the background."""
        if here:
            self._spawn(self._deliver(signal, data))
        if self._redis is not None:
            message = json.dumps({"from": self._me, "signal": signal, "data": data})
            self._spawn(self._publish(message))

    def wake_workers(self) -> None:
        self.emit(Signal.ORDERS_DUE)

    async def run(self) -> None:
        """Listen to the other processes (with Redis), reconnecting until cancelled."""
        if self._redis is None:  # one process: nobody else to hear
            await asyncio.Event().wait()
        assert self._redis is not None
        first = True
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    if not first:
                        log.info("signals: back on Redis; catching up")
                        for signal in Signal:
                            await self._deliver(signal, "")
                    first = False
                    self.subscribed.set()
                    async for message in pubsub.listen():
                        await self._received(message.get("data"))
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                log.warning("signals: Redis unavailable (%s); retrying", exc)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _received(self, raw: object) -> None:
        try:
            message = json.loads(raw) if isinstance(raw, bytes | str) else {}
            signal = Signal(message["signal"])
            sender, data = str(message["from"]), str(message.get("data", ""))
        except (ValueError, KeyError, TypeError):
            log.warning("signals: unreadable message ignored")
            return
        if sender != self._me:
            await self._deliver(signal, data)

    async def _deliver(self, signal: Signal, data: str) -> None:
        for handler in self._handlers.get(signal, ()):
            try:
                result = handler(data)
                if result is not None:
                    await result
            except Exception:  # one bad handler must not silence the others
                log.exception("signal %s: handler failed", signal)

    async def _publish(self, message: str) -> None:
        assert self._redis is not None
        try:
            await self._redis.publish(self._channel, message)
        except (RedisError, OSError) as exc:  # the others come round by themselves
            log.warning("signals: not published (%s)", exc)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
