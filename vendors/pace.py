"""Rate limits that belong to the whole shop, not to one process: calls to a vendor from
every worker together, or Telegram messages from every replica together. Kept in Redis
when the shop has it (`limits`' moving window), else in this process (the shop then is
one process, and its limits are its own).

Background work (the worker's polls and chores, marked with `background()`) may leave part
of a limit to the rest: a customer waiting on a price check then never queues behind a
thousand polls of slow orders."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiolimiter import AsyncLimiter
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
SHORTEST_WAIT = 0.01
STORAGE_DOWN_WAIT = 1.0
_BACKGROUND: ContextVar[bool] = ContextVar("pace_background", default=False)


@contextmanager
def background() -> Iterator[None]:
    """Marks the calls made inside (and in the tasks started inside) as background work."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


class Pace:
    """At most `rate` events a second under one name, in any window of a second."""

    def __init__(self, storage: Storage | None = None) -> None:
        self._shared = storage is not None  # None: this process is the whole shop
        self._storage = storage or MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._spacing: dict[str, AsyncLimiter] = {}

    @property
    def storage(self) -> Storage:
        """Where the limits are counted: Redis for the whole shop, or this process."""
        return self._storage

    @classmethod
    def in_redis(cls, redis_url: str, prefix: str) -> Pace:
        storage = RedisStorage(
            f"async+{redis_url}", implementation="redispy", key_prefix=f"{prefix}:limits"
        )
        return cls(storage)

    async def wait(
        self, name: str, rate: float, *, smooth: bool = False, reserve: float = 0.0
    ) -> None:
        """Return once an event under `name` fits in the limit (and count it). `smooth`
        also spaces this process's events evenly (1/rate apart) instead of letting a
        second's worth go at once: a receiver that counts on arrival sees no bursts.
        Background events may use only `1 - reserve` of the rate; the others all of it.

        In a shop of one process, spacing alone keeps the limit: the moving window (which
        `limits` keeps in memory at the price of a thread hop per event) is left out."""
        if reserve > 0 and _BACKGROUND.get():  # first, so customers never queue behind it
            share = rate * (1 - reserve)
            if smooth:
                await self._spacer(f"{name}:background", share).acquire()
            if self._shared or not smooth:
                await self._take(f"{name}:background", share)
        if smooth:
            await self._spacer(name, rate).acquire()
        if self._shared or not smooth:
            await self._take(name, rate)

    def _spacer(self, name: str, rate: float) -> AsyncLimiter:
        spacing = self._spacing.get(name)
        if spacing is None:
            spacing = self._spacing[name] = AsyncLimiter(1, 1.0 / rate)
        return spacing

    async def _take(self, name: str, rate: float) -> None:
        item = per_second(rate)
        while True:
            try:
                if await self._limiter.hit(item, name):
                    return
                stats = await self._limiter.get_window_stats(item, name)
                delay = stats.reset_time - time.time()
            except Exception as exc:  # Redis away: wait for it rather than flood the peer
                log.warning("shared limit %s unavailable (%s); waiting", name, exc)
                delay = STORAGE_DOWN_WAIT
            await asyncio.sleep(max(SHORTEST_WAIT, delay))


def per_second(rate: float) -> RateLimitItemPerSecond:
    """`rate` a second as a limit item; a rate under 1 becomes 1 in so many seconds."""
    if rate >= 1:
        return RateLimitItemPerSecond(int(rate))
    return RateLimitItemPerSecond(1, math.ceil(1 / rate))
