"""The HTTP server (aiohttp) every process of the shop runs: `/health` and `/metrics`, plus
what its role serves (the Telegram webhook, vendor webhooks, G2A's dropshipping calls).

The port is public (Telegram and the vendors call it), so strangers get the health status
alone; the details and the metrics need `Authorization: Bearer <HEALTH_TOKEN>`. Bodies are
bounded (1 MB here, less per endpoint) and callers that keep failing authentication are
slowed down (bot.runtime.public)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from bot.runtime.metrics import CONTENT_TYPE, scrape
from bot.runtime.public import AuthThrottle
from storage.alerts import AlertRepo
from storage.db import Database
from storage.orders import OrderRepo
from vendors.base import Vendor

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
BALANCE_TTL = 60.0  # /health may be polled often; balances are asked at most this often
CHECK_TIMEOUT = 3.0
Route = Callable[[web.Application], None]


@dataclass
class HealthSources:
    """What /health and /metrics look at in this process."""

    role: str
    db: Database
    orders: OrderRepo
    alerts: AlertRepo
    vendors: Mapping[str, Vendor]
    redis: Redis | None = None
    worker_alive: Callable[[float], bool] | None = None  # None: this process runs no worker
    token: str | None = None  # HEALTH_TOKEN


class HttpServer:
    def __init__(
        self,
        health: HealthSources,
        routes: Sequence[Route] = (),
        throttle: AuthThrottle | None = None,
    ) -> None:
        self._health = health
        self._throttle = throttle or AuthThrottle()
        self._routes = routes  # the role's endpoints (webhooks, G2A's dropshipping calls)
        self._runner: web.AppRunner | None = None
        self._balances: dict[str, float | None] = {}
        self._balances_at = 0.0

    def app(self) -> web.Application:
        app = web.Application(
            client_max_size=MAX_BODY_BYTES, middlewares=[self._throttle.middleware]
        )
        app.router.add_get("/health", self._health_check)
        app.router.add_get("/metrics", self._metrics)
        for add in self._routes:
            add(app)
        return app

    async def start(self, host: str, port: int) -> str:
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound = runner.addresses[0]
        log.info("HTTP server on %s:%s (%s role)", bound[0], bound[1], self._health.role)
        return f"http://{bound[0]}:{bound[1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorized(self, request: web.Request) -> bool:
        token = self._health.token
        given = request.headers.get("Authorization", "")
        return token is not None and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    async def _health_check(self, request: web.Request) -> web.Response:
        database, redis = await asyncio.gather(self._database_ok(), self._redis_ok())
        healthy = database and redis is not False
        body: dict[str, Any] = {"status": "ok" if healthy else "unavailable"}
        if self._authorized(request):
            body |= await self._details(database, redis)
        return web.json_response(body, status=200 if healthy else 503)

    async def _details(self, database: bool, redis: bool | None) -> dict[str, Any]:
        now = time.time()
        health = self._health
        balances = await self._balances_now(now)
        return {
            "role": health.role,
            "database": {"kind": health.db.kind, "ok": database},
            "redis": redis,  # None: the shop runs without Redis
            "worker": health.worker_alive(now) if health.worker_alive else None,
            "vendors": {
                name: {
                    "last_success": vendor.health.last_success,
                    "last_error_at": vendor.health.last_error_at,
                    "balance": balances.get(name),
                }
                for name, vendor in sorted(health.vendors.items())
            },
        }

    async def _metrics(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        body = await scrape(self._health.orders, self._health.alerts)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _database_ok(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self._health.db.fetchone("SELECT 1")
            return True
        except Exception as exc:
            log.warning("health: the database does not answer: %s", exc)
            return False

    async def _redis_ok(self) -> bool | None:
        if self._health.redis is None:
            return None
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self._health.redis.ping()
            return True
        except Exception as exc:
            log.warning("health: Redis does not answer: %s", exc)
            return False

    async def _balances_now(self, now: float) -> dict[str, float | None]:
        """Each vendor's balance where its API tells it (cached; None when it did not answer)."""
        if now - self._balances_at < BALANCE_TTL:
            return self._balances

        async def one(vendor: Vendor) -> float | None:
            try:
                return await asyncio.wait_for(vendor.balance(), CHECK_TIMEOUT)
            except Exception as exc:  # health must answer whatever a vendor does
                log.warning("health: %s balance unknown: %s", vendor.name, exc)
                return None

        vendors = self._health.vendors
        names = sorted(vendors)
        found = await asyncio.gather(*(one(vendors[name]) for name in names))
        self._balances, self._balances_at = dict(zip(names, found, strict=True)), now
        return self._balances
