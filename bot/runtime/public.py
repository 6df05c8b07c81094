"""What every endpoint on the shop's public port shares: strangers call it too.

- A body is bounded per endpoint (`read_body`): a bigger one is refused with 413 before it
  is read whole.
- A client's address is the peer's, or, from a reverse proxy named in TRUSTED_PROXIES,
  the address that proxy saw (its last hop of `X-Forwarded-For`).
- An address that keeps failing authentication is slowed down (`AuthThrottle`): after
  AUTH_FAILURES_PER_MINUTE failures within a minute it gets 429 with `Retry-After` until
  the minute has passed, whatever it sends, on every replica at once (the failures are
  counted in the shop's rate-limit storage, Redis when the shop has it). A right
  secret guessed meanwhile is worth nothing, and G2A, which never fails, is not slowed.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EXEMPT = "/app/"  # the Mini App: see AuthThrottle.middleware
SUSPECT_SECONDS = 60.0  # the count's window: a minute
SUSPECTS_AT_MOST = 10_000


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request's body, at most `limit` bytes (else 413, and the rest is not read)."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    body = bytearray()
    while chunk := await request.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return bytes(body)


class AuthThrottle:
    def __init__(
        self,
        storage: Storage | None = None,
        *,
        failures_per_minute: int = 10,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._item = RateLimitItemPerMinute(failures_per_minute)
        self._trusted = frozenset(ipaddress.ip_address(a) for a in trusted_proxies)
        # Addresses this process saw fail lately: only those are looked up in the shared
        # count, so an update from Telegram or a vendor's webhook costs no Redis round trip.
        # (Across N replicas a guesser gets at most N more tries before each knows it.)
        self._suspects: dict[str, float] = {}

    def address(self, request: web.Request) -> str:
        """Who is calling: the peer, or the client a trusted reverse proxy forwards."""
        peer = request.remote or ""
        forwarded = request.headers.get("X-Forwarded-For")
        if not forwarded or not self._is_trusted(peer):
            return peer
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):  # the nearest hop a trusted proxy did not add
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer

    async def wait_for(self, request: web.Request) -> float:
        """Seconds this caller must wait before it may try again (0: it may now)."""
        address = self.address(request)
        if self._suspects.get(address, 0.0) < time.monotonic():
            return 0.0
        try:
            if await self._limiter.test(self._item, "auth-failures", address):
                return 0.0
            stats = await self._limiter.get_window_stats(self._item, "auth-failures", address)
        except Exception as exc:  # the storage is away: authentication itself still holds
            log.warning("auth throttle unavailable (%s)", exc)
            return 0.0
        return max(1.0, stats.reset_time - time.time())

    async def failed(self, request: web.Request) -> None:
        address = self.address(request)
        now = time.monotonic()
        if len(self._suspects) > SUSPECTS_AT_MOST:  # forget those whose minute is over
            self._suspects = {a: until for a, until in self._suspects.items() if until > now}
        self._suspects[address] = now + SUSPECT_SECONDS
        try:
            await self._limiter.hit(self._item, "auth-failures", address)
        except Exception as exc:
            log.warning("auth throttle unavailable (%s)", exc)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """For every endpoint on the port: 429 while the caller waits; each 401 (a token,
        a secret or a signature refused) counts as a failed authentication. Not the Mini
        App: its initData is signed (nothing to guess), a page left open past its initData's
        age keeps calling, and many of its customers share one carrier address; it limits
        each customer instead."""
        if request.path.startswith(EXEMPT):
            return await handler(request)
        wait = await self.wait_for(request)
        if wait:
            return too_many(wait)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status == 401:
                await self.failed(request)
            raise
        if response.status == 401:
            await self.failed(request)
        return response

    def _is_trusted(self, address: str) -> bool:
        try:
            return ipaddress.ip_address(address) in self._trusted
        except ValueError:
            return False


def too_many(wait: float) -> web.Response:
    return web.json_response(
        {"error": "slow_down", "error_description": "too many failed attempts; wait"},
        status=429,
        headers={"Retry-After": str(math.ceil(wait))},
    )
