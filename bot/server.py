"""The bot's HTTP server (aiohttp): vendor webhooks and a health check. Later work puts
Telegram webhooks and metrics here too."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from aiohttp import web

from bot.webhooks import VendorEvents
from bot.worker import Worker
from storage.db import Database
from vendors.base import Vendor, WebhookRefused

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 1024 * 1024
BALANCE_TTL = 60.0  # /health may be polled often; balances are asked at most this often


class HttpServer:
    def __init__(
        self,
        events: VendorEvents,
        db: Database,
        worker: Worker,
        vendors: Mapping[str, Vendor],
        routes: Sequence[Callable[[web.Application], None]] = (),
    ) -> None:
        self._routes = routes  # more endpoints (G2A's dropshipping calls)
        self._events = events
        self._db = db
        self._worker = worker
        self._vendors = vendors
        self._runner: web.AppRunner | None = None
        self._balances: dict[str, float | None] = {}
        self._balances_at = 0.0

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
        app.router.add_post("/webhooks/{vendor}", self._webhook)
        app.router.add_get("/health", self._health)
        for add in self._routes:
            add(app)
        return app

    async def start(self, host: str, port: int) -> str:
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound = runner.addresses[0]
        log.info("HTTP server on %s:%s (webhooks, /health)", bound[0], bound[1])
        return f"http://{bound[0]}:{bound[1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _webhook(self, request: web.Request) -> web.Response:
        vendor = request.match_info["vendor"]
        try:
            await self._events.receive(vendor, request.headers, await request.read())
        except WebhookRefused as refused:
            log.warning("webhook %s refused (%s): %s", vendor, refused.status, refused)
            return web.Response(status=refused.status)
        return web.Response(status=204)  # Kinguin: any 2xx with an empty body

    async def _health(self, request: web.Request) -> web.Response:
        now = time.time()
        try:
            await self._db.fetchone("SELECT 1")
            database = True
        except Exception:
            log.exception("health: the database does not answer")
            database = False
        balances = await self._balances_now(now)
        vendors = {
            name: {
                "last_success": vendor.health.last_success,
                "last_error_at": vendor.health.last_error_at,
                "balance": balances.get(name),
            }
            for name, vendor in sorted(self._vendors.items())
        }
        body = {
            "database": database,
            "worker": self._worker.alive(now),
            "vendors": vendors,
        }
        return web.json_response(body, status=200 if database else 503)

    async def _balances_now(self, now: float) -> dict[str, float | None]:
        """Each vendor's balance where its API tells it (cached; None when it did not answer)."""
        if now - self._balances_at < BALANCE_TTL:
            return self._balances

        async def one(vendor: Vendor) -> float | None:
            try:
                return await asyncio.wait_for(vendor.balance(), 3.0)
            except Exception as exc:  # health must answer whatever a vendor does
                log.warning("health: %s balance unknown: %s", vendor.name, exc)
                return None

        names = sorted(self._vendors)
        found = await asyncio.gather(*(one(self._vendors[name]) for name in names))
        self._balances, self._balances_at = dict(zip(names, found, strict=True)), now
        return self._balances
